/** NodeUnschedulable: cordoned nodes (spec.unschedulable) take only pods tolerating the unschedulable taint. */
import type { Pod } from '../api-types.js';
import { ActionType, type ClusterEvent, type EnqueueExtensions, type FilterPlugin } from '../framework/interface.js';
import type { CycleState } from '../framework/cycle-state.js';
import { Status } from '../framework/status.js';
import type { NodeInfo } from '../framework/types.js';
import { tolerationsTolerateTaint } from '../util/taints.js';
import { Names } from './names.js';

export const ErrReasonUnschedulable = 'node(s) were unschedulable';
export const TaintNodeUnschedulable = 'node.kubernetes.io/unschedulable';

export class NodeUnschedulable implements FilterPlugin, EnqueueExtensions {
  readonly name = Names.NodeUnschedulable;

  filter(_state: CycleState, pod: Pod, nodeInfo: NodeInfo): Status {
    if (!nodeInfo.node?.spec?.unschedulable) return Status.success();
    const tolerated = tolerationsTolerateTaint(pod.spec?.tolerations, { key: TaintNodeUnschedulable, effect: 'NoSchedule' });
    return tolerated ? Status.success() : Status.unresolvable(ErrReasonUnschedulable);
  }

  eventsToRegister(): ClusterEvent[] {
    return [{ resource: 'Node', actions: ActionType.Add | ActionType.UpdateNodeTaint }];
  }
}
