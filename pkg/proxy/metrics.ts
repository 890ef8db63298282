/** kube-proxy's metrics, with upstream's names, help texts and buckets (pkg/proxy/metrics). */
import { prom } from '../metrics/registry.js';

export interface ProxyMetrics {
  syncProxyRulesLatency: prom.Histogram;
  syncProxyRulesLastTimestamp: prom.Gauge;
  syncProxyRulesLastQueuedTimestamp: prom.Gauge;
  networkProgrammingLatency: prom.Histogram;
  iptablesRestoreFailuresTotal: prom.Counter;
  iptablesRulesTotal: prom.Gauge<'table'>;
  endpointChangesTotal: prom.Counter;
  serviceChangesTotal: prom.Counter;
  noLocalEndpointsTotal: prom.Gauge<'traffic_policy'>;
}

function exponentialBuckets(start: number, factor: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => start * factor ** i);
}

function linearBuckets(start: number, width: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => start + width * i);
}

export function newProxyMetrics(registry: prom.Registry): ProxyMetrics {
  const registers = [registry];
  return {
    syncProxyRulesLatency: new prom.Histogram({
      name: 'kubeproxy_sync_proxy_rules_duration_seconds',
      help: 'SyncProxyRules latency in seconds',
      buckets: exponentialBuckets(0.001, 2, 15),
      registers,
    }),
    syncProxyRulesLastTimestamp: new prom.Gauge({
      name: 'kubeproxy_sync_proxy_rules_last_timestamp_seconds',
      help: 'The last time proxy rules were successfully synced',
      registers,
    }),
    syncProxyRulesLastQueuedTimestamp: new prom.Gauge({
      name: 'kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds',
      help: 'The last time a sync of proxy rules was queued',
      registers,
    }),
    networkProgrammingLatency: new prom.Histogram({
      name: 'kubeproxy_network_programming_duration_seconds',
      help: 'In Cluster Network Programming Latency in seconds',
      buckets: [...linearBuckets(0.25, 0.25, 2), ...linearBuckets(1, 1, 59), ...linearBuckets(60, 5, 12), ...linearBuckets(120, 30, 7)],
      registers,
    }),
    iptablesRestoreFailuresTotal: new prom.Counter({
      name: 'kubeproxy_sync_proxy_rules_iptables_restore_failures_total',
      help: 'Cumulative proxy iptables restore failures',
      registers,
    }),
    iptablesRulesTotal: new prom.Gauge({
      name: 'kubeproxy_sync_proxy_rules_iptables_total',
      help: 'Total number of iptables rules owned by kube-proxy',
      labelNames: ['table'],
      registers,
    }),
    endpointChangesTotal: new prom.Counter({
      name: 'kubeproxy_sync_proxy_rules_endpoint_changes_total',
      help: 'Cumulative proxy rules Endpoint changes',
      registers,
    }),
    serviceChangesTotal: new prom.Counter({
      name: 'kubeproxy_sync_proxy_rules_service_changes_total',
      help: 'Cumulative proxy rules Service changes',
      registers,
    }),
    noLocalEndpointsTotal: new prom.Gauge({
      name: 'kubeproxy_sync_proxy_rules_no_local_endpoints_total',
      help: 'Number of services with a Local traffic policy and no endpoints',
      labelNames: ['traffic_policy'],
      registers,
    }),
  };
}
