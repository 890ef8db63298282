/** NodeName: a pod that names its node (spec.nodeName) fits only that node. */
import type { Pod } from '../api-types.js';
import { ActionType, type ClusterEvent, type EnqueueExtensions, type FilterPlugin } from '../framework/interface.js';
import type { CycleState } from '../framework/cycle-state.js';
import { Status } from '../framework/status.js';
import type { NodeInfo } from '../framework/types.js';
import { Names } from './names.js';

export const ErrReasonNodeName = "node(s) didn't match the requested node name";

export class NodeName implements FilterPlugin, EnqueueExtensions {
  readonly name = Names.NodeName;

  filter(_state: CycleState, pod: Pod, nodeInfo: NodeInfo): Status {
    const want = pod.spec?.nodeName;
    if (!want || want === nodeInfo.name) return Status.success();
    return Status.unresolvable(ErrReasonNodeName);
  }

  eventsToRegister(): ClusterEvent[] {
    return [{ resource: 'Node', actions: ActionType.Add | ActionType.Update }];
  }
}
