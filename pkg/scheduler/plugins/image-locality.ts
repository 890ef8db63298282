/**
 * ImageLocality: prefers nodes that already have the pod's images, weighted by image size and by
 * how widely the image is spread (an image on every node says little about any one node).
 */
import type { Pod } from '../api-types.js';
import type { Handle, ScorePlugin } from '../framework/interface.js';
import type { CycleState, StateData } from '../framework/cycle-state.js';
import type { Status } from '../framework/status.js';
import { MAX_NODE_SCORE, type NodeInfo } from '../framework/types.js';
import { normalizedImageName } from '../cache/cache.js';
import { Names } from './names.js';

const MB = 1024 * 1024;
const MIN_THRESHOLD = 23 * MB;
const MAX_CONTAINER_THRESHOLD = 1000 * MB;

export class ImageLocality implements ScorePlugin {
  readonly name = Names.ImageLocality;

  constructor(private readonly handle: Handle) {}

  score(state: CycleState, pod: Pod, nodeInfo: NodeInfo): number | Status {
    // What depends on the pod only is worked out on its first node and kept for the cycle.
    let ps = state.read<PodImages>(stateKey);
    if (!ps) {
      const containers = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
      ps = new PodImages(containers.map((c) => normalizedImageName(c.image ?? '')), this.handle.snapshot().list().length);
      state.write(stateKey, ps);
    }
    let sum = 0;
    if (ps.totalNodes > 0 && nodeInfo.imageStates.size > 0) {
      for (const name of ps.images) {
        const st = nodeInfo.imageStates.get(name);
        if (st) sum += Math.trunc(st.size * (st.nodes.size / ps.totalNodes));
      }
    }
    return calculatePriority(sum, ps.images.length);
  }
}

const stateKey = 'Score' + Names.ImageLocality;

class PodImages implements StateData {
  constructor(
    readonly images: string[],
    readonly totalNodes: number,
  ) {}
  clone(): StateData {
    return this;
  }
}

/** Maps the summed image score onto [0, 100] between the per-pod thresholds. */
export function calculatePriority(sumScores: number, numContainers: number): number {
  const maxThreshold = MAX_CONTAINER_THRESHOLD * numContainers;
  if (maxThreshold <= MIN_THRESHOLD) return 0;
  const s = Math.min(Math.max(sumScores, MIN_THRESHOLD), maxThreshold);
  return Math.trunc((MAX_NODE_SCORE * (s - MIN_THRESHOLD)) / (maxThreshold - MIN_THRESHOLD));
}
