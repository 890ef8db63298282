/** NodePorts: a pod's hostPorts must be free on the node (same protocol and port, overlapping IP). */
import type { Pod } from '../api-types.js';
import { ActionType, type ClusterEvent, type EnqueueExtensions, type FilterPlugin, type PreFilterPlugin } from '../framework/interface.js';
import type { CycleState, StateData } from '../framework/cycle-state.js';
import { Status } from '../framework/status.js';
import { podHostPorts, type NodeInfo } from '../framework/types.js';
import { Names } from './names.js';

export const ErrReasonNodePorts = "node(s) didn't have free ports for the requested pod ports";
const stateKey = 'PreFilter' + Names.NodePorts;

class PortsState implements StateData {
  constructor(readonly ports: { ip?: string; protocol?: string; port: number }[]) {}
  clone(): StateData {
    return this;
  }
}

export class NodePorts implements PreFilterPlugin, FilterPlugin, EnqueueExtensions {
  readonly name = Names.NodePorts;

  preFilter(state: CycleState, pod: Pod): Status {
    const ports = podHostPorts(pod);
    if (ports.length === 0) return Status.skip();
    state.write(stateKey, new PortsState(ports));
    return Status.success();
  }

  filter(state: CycleState, pod: Pod, nodeInfo: NodeInfo): Status {
    const s = state.read<PortsState>(stateKey);
    const ports = s ? s.ports : podHostPorts(pod);
    for (const p of ports) if (nodeInfo.usedPorts.checkConflict(p.ip, p.protocol, p.port)) return Status.unschedulable(ErrReasonNodePorts);
    return Status.success();
  }

  eventsToRegister(): ClusterEvent[] {
    return [
      { resource: 'Pod', actions: ActionType.Delete },
      { resource: 'Node', actions: ActionType.Add | ActionType.Update },
    ];
  }
}
