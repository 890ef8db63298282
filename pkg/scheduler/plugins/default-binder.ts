/** DefaultBinder: binds through the pods/binding subresource. */
import type { Pod } from '../api-types.js';
import type { BindPlugin, Handle } from '../framework/interface.js';
import type { CycleState } from '../framework/cycle-state.js';
import { Status } from '../framework/status.js';
import { Names } from './names.js';

export class DefaultBinder implements BindPlugin {
  readonly name = Names.DefaultBinder;

  constructor(private readonly handle: Handle) {}

  async bind(_state: CycleState, pod: Pod, nodeName: string): Promise<Status> {
    try {
      await this.handle.client.bind(pod, nodeName);
      return Status.success();
    } catch (e) {
      return Status.error(e);
    }
  }
}
