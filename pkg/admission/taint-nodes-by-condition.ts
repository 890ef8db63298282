/**
 * TaintNodesByCondition: a Node is created with the node.kubernetes.io/not-ready:NoSchedule
 * taint, so nothing lands on it before the node lifecycle controller has seen it ready.
 */
import type { AdmissionPlugin } from './types.js';
import { isResource } from './util.js';
import { notReadyTaint } from './default-toleration-seconds.js';

export function taintNodesByCondition(): AdmissionPlugin {
  return {
    name: 'TaintNodesByCondition',
    admit(a) {
      if (a.operation !== 'CREATE' || !isResource(a, '', 'nodes') || !a.object) return;
      const spec = (a.object.spec ??= {});
      const taints: any[] = (spec.taints ??= []);
      if (!taints.some((t) => t.key === notReadyTaint && t.effect === 'NoSchedule')) taints.push({ key: notReadyTaint, effect: 'NoSchedule' });
    },
  };
}
