/** SchedulingGates: a pod with spec.schedulingGates stays out of the active queue until they are removed. */
import type { Pod } from '../api-types.js';
import type { PreEnqueuePlugin } from '../framework/interface.js';
import { Status } from '../framework/status.js';
import { Names } from './names.js';

export class SchedulingGates implements PreEnqueuePlugin {
  readonly name = Names.SchedulingGates;

  preEnqueue(pod: Pod): Status {
    const gates = pod.spec?.schedulingGates ?? [];
    if (gates.length === 0) return Status.success();
    return Status.unresolvable(`waiting for scheduling gates: [${gates.map((g) => g.name).join(' ')}]`);
  }
}
