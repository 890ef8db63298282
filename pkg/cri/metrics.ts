/**
 * The kubelet's runtime operation metrics, with upstream's names and labels
 * (pkg/kubelet/metrics: kubelet_runtime_operations_total, _duration_seconds, _errors_total).
 */
import { prom } from '../metrics/registry.js';
import type { Registry } from 'prom-client';

export interface CriMetrics {
  operations: prom.Counter<'operation_type'>;
  duration: prom.Histogram<'operation_type'>;
  errors: prom.Counter<'operation_type'>;
}

/** Registers the runtime operation metrics on a component's registry. */
export function newCriMetrics(registry: Registry): CriMetrics {
  return {
    operations: new prom.Counter({
      name: 'kubelet_runtime_operations_total',
      help: 'Cumulative number of runtime operations by operation type.',
      labelNames: ['operation_type'],
      registers: [registry],
    }),
    duration: new prom.Histogram({
      name: 'kubelet_runtime_operations_duration_seconds',
      help: 'Duration in seconds of runtime operations. Broken down by operation type.',
      labelNames: ['operation_type'],
      // Upstream's buckets: 5 ms growing 2.5x, 14 of them.
      buckets: prom.exponentialBuckets(0.005, 2.5, 14),
      registers: [registry],
    }),
    errors: new prom.Counter({
      name: 'kubelet_runtime_operations_errors_total',
      help: 'Cumulative number of runtime operation errors by operation type.',
      labelNames: ['operation_type'],
      registers: [registry],
    }),
  };
}
