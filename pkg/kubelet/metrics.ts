/** The kubelet's own metrics, with upstream's names (pkg/kubelet/metrics). */
import type { Registry } from 'prom-client';
import { prom } from '../metrics/registry.js';

export interface KubeletMetrics {
  runningPods: prom.Gauge;
  runningContainers: prom.Gauge<'container_state'>;
  podStartDuration: prom.Histogram;
  podWorkerDuration: prom.Histogram<'operation_type'>;
  relistDuration: prom.Histogram;
}

export function newKubeletMetrics(registry: Registry): KubeletMetrics {
  return {
    runningPods: new prom.Gauge({ name: 'kubelet_running_pods', help: 'Number of pods that have a running pod sandbox', registers: [registry] }),
    runningContainers: new prom.Gauge({ name: 'kubelet_running_containers', help: 'Number of containers currently running', labelNames: ['container_state'], registers: [registry] }),
    podStartDuration: new prom.Histogram({
      name: 'kubelet_pod_start_duration_seconds',
      help: 'Duration in seconds from kubelet seeing a pod for the first time to the pod starting to run',
      buckets: [0.5, 1, 2, 3, 4, 5, 6, 8, 10, 20, 30, 45, 60, 120, 180, 240, 300, 360, 480, 600, 900, 1200, 1800, 2700, 3600],
      registers: [registry],
    }),
    podWorkerDuration: new prom.Histogram({
      name: 'kubelet_pod_worker_duration_seconds',
      help: 'Duration in seconds to sync a single pod. Broken down by operation type: create, update, or sync',
      labelNames: ['operation_type'],
      buckets: prom.exponentialBuckets(0.005, 2, 14),
      registers: [registry],
    }),
    relistDuration: new prom.Histogram({
      name: 'kubelet_pleg_relist_duration_seconds',
      help: 'Duration in seconds for relisting pods in PLEG.',
      buckets: prom.exponentialBuckets(0.005, 2, 14),
      registers: [registry],
    }),
  };
}
