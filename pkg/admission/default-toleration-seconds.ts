/**
 * DefaultTolerationSeconds: pods that do not tolerate the not-ready and unreachable NoExecute
 * taints get tolerations for 300 s, so a failed node's pods are evicted after five minutes.
 */
import type { AdmissionPlugin } from './types.js';
import { isResource } from './util.js';

export const notReadyTaint = 'node.kubernetes.io/not-ready';
export const unreachableTaint = 'node.kubernetes.io/unreachable';

export function defaultTolerationSeconds(seconds = 300): AdmissionPlugin {
  return {
    name: 'DefaultTolerationSeconds',
    admit(a) {
      if (a.operation !== 'CREATE' || !isResource(a, '', 'pods') || !a.object) return;
      const spec = (a.object.spec ??= {});
      const tolerations: any[] = (spec.tolerations ??= []);
      const tolerates = (key: string) => tolerations.some((t) => (t.key === key || !t.key) && (t.effect === 'NoExecute' || !t.effect));
      const add: any[] = [];
      for (const key of [notReadyTaint, unreachableTaint]) {
        if (!tolerates(key)) add.push({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: seconds });
      }
      tolerations.push(...add);
    },
  };
}
