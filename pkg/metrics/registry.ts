/**
 * Metrics helpers shared by every component: one prom-client Registry per component (so
 * embedded components do not collide), with Node's default process metrics.
 */
import client from 'prom-client';

export function newMetricsRegistry(component: string): client.Registry {
  const reg = new client.Registry();
  client.collectDefaultMetrics({ register: reg });
  reg.setDefaultLabels({});
  void component;
  return reg;
}

export { client as prom };
