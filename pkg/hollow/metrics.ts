/** The hollow nodes' own metrics, besides the process and workqueue ones. */
import { isApiError } from '../client/rest.js';
import { prom } from '../metrics/registry.js';

export class HollowMetrics {
  readonly nodes: prom.Gauge;
  readonly podsRunning: prom.Gauge;
  readonly podsBound: prom.Gauge;
  readonly requests: prom.Counter<'verb' | 'resource' | 'code'>;
  readonly requestDuration: prom.Histogram<'verb' | 'resource'>;

  constructor(registry: prom.Registry) {
    this.nodes = new prom.Gauge({ name: 'hollow_nodes', help: 'Hollow nodes registered by this process.', registers: [registry] });
    this.podsRunning = new prom.Gauge({ name: 'hollow_pods_running', help: 'Pods on the hollow nodes seen Running.', registers: [registry] });
    this.podsBound = new prom.Gauge({ name: 'hollow_pods_bound', help: 'Pods bound to the hollow nodes, in any phase.', registers: [registry] });
    this.requests = new prom.Counter({
      name: 'hollow_requests_total',
      help: 'Requests to the apiserver by verb, resource and HTTP code (0: no answer).',
      labelNames: ['verb', 'resource', 'code'],
      registers: [registry],
    });
    this.requestDuration = new prom.Histogram({
      name: 'hollow_request_duration_seconds',
      help: 'Latency of requests to the apiserver.',
      labelNames: ['verb', 'resource'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    });
  }

  /** Runs one request, counting it by its outcome. */
  async track<T>(verb: string, resource: string, fn: () => Promise<T>): Promise<T> {
    const end = this.requestDuration.startTimer({ verb, resource });
    try {
      const r = await fn();
      this.requests.inc({ verb, resource, code: verb === 'POST' ? '201' : '200' });
      return r;
    } catch (e) {
      this.requests.inc({ verb, resource, code: isApiError(e) ? String(e.code) : '0' });
      throw e;
    } finally {
      end();
    }
  }
}
