/** PrioritySort: higher priority first, then the pod that has waited longest. */
import type { QueueSortPlugin } from '../framework/interface.js';
import { podPriority, type QueuedPodInfo } from '../framework/types.js';
import { Names } from './names.js';

export class PrioritySort implements QueueSortPlugin {
  readonly name = Names.PrioritySort;

  less(a: QueuedPodInfo, b: QueuedPodInfo): boolean {
    const pa = podPriority(a.podInfo.pod);
    const pb = podPriority(b.podInfo.pod);
    return pa > pb || (pa === pb && a.timestamp < b.timestamp);
  }
}
