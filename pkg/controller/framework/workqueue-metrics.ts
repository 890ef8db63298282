/**
 * Upstream's workqueue metrics (client-go util/workqueue, registered by component-base), one
 * series per queue `name`: depth, adds, retries, queue and work durations, unfinished work and
 * the longest running processor.
 */
import client from 'prom-client';
import type { Clock } from './clock.js';

/** What a queue reports; the provider turns it into metrics. */
export interface QueueMetrics {
  add(): void;
  /** An item left the queue for a worker after waiting `queuedMs`. */
  get(queuedMs: number): void;
  /** A worker finished an item after `workMs`. */
  done(workMs: number): void;
  retry(): void;
  setDepth(n: number): void;
}

/** A queue's view of its in-flight work, read when metrics are scraped. */
export interface InFlight {
  /** Start times (clock ms) of the items being processed now. */
  processingSince(): number[];
}

// prometheus.ExponentialBuckets(10e-9, 10, 10): 10ns … 10s.
const durationBuckets = Array.from({ length: 10 }, (_, i) => 1e-8 * Math.pow(10, i));

export class WorkqueueMetricsProvider {
  private readonly depth: client.Gauge<'name'>;
  private readonly adds: client.Counter<'name'>;
  private readonly retries: client.Counter<'name'>;
  private readonly queueDuration: client.Histogram<'name'>;
  private readonly workDuration: client.Histogram<'name'>;
  private readonly queues = new Map<string, InFlight>();

  constructor(
    registry: client.Registry,
    private readonly clock: Clock,
  ) {
    const registers = [registry];
    this.depth = new client.Gauge({ name: 'workqueue_depth', help: 'Current depth of workqueue', labelNames: ['name'], registers });
    this.adds = new client.Counter({ name: 'workqueue_adds_total', help: 'Total number of adds handled by workqueue', labelNames: ['name'], registers });
    this.retries = new client.Counter({ name: 'workqueue_retries_total', help: 'Total number of retries handled by workqueue', labelNames: ['name'], registers });
    this.queueDuration = new client.Histogram({
      name: 'workqueue_queue_duration_seconds',
      help: 'How long in seconds an item stays in workqueue before being requested.',
      labelNames: ['name'],
      buckets: durationBuckets,
      registers,
    });
    this.workDuration = new client.Histogram({
      name: 'workqueue_work_duration_seconds',
      help: 'How long in seconds processing an item from workqueue takes.',
      labelNames: ['name'],
      buckets: durationBuckets,
      registers,
    });
    const queues = this.queues;
    const now = () => this.clock.now();
    new client.Gauge({
      name: 'workqueue_unfinished_work_seconds',
      help: "How many seconds of work has done that is in progress and hasn't been observed by work_duration. Large values indicate stuck threads. One can deduce the number of stuck threads by observing the rate at which this increases.",
      labelNames: ['name'],
      registers,
      collect() {
        const t = now();
        for (const [name, q] of queues) this.set({ name }, q.processingSince().reduce((sum, s) => sum + (t - s) / 1000, 0));
      },
    });
    new client.Gauge({
      name: 'workqueue_longest_running_processor_seconds',
      help: 'How many seconds has the longest running processor for workqueue been running.',
      labelNames: ['name'],
      registers,
      collect() {
        const t = now();
        for (const [name, q] of queues) this.set({ name }, q.processingSince().reduce((max, s) => Math.max(max, (t - s) / 1000), 0));
      },
    });
  }

  /** The metrics of the queue called `name`; `inFlight` is read at scrape time. */
  forQueue(name: string, inFlight: InFlight): QueueMetrics {
    this.queues.set(name, inFlight);
    const labels = { name };
    this.depth.set(labels, 0);
    this.adds.inc(labels, 0);
    this.retries.inc(labels, 0);
    return {
      add: () => this.adds.inc(labels),
      get: (ms) => this.queueDuration.observe(labels, ms / 1000),
      done: (ms) => this.workDuration.observe(labels, ms / 1000),
      retry: () => this.retries.inc(labels),
      setDepth: (n) => this.depth.set(labels, n),
    };
  }

  /** Stops reporting in-flight work of a queue that was shut down. */
  release(name: string): void {
    this.queues.delete(name);
  }
}

const providers = new WeakMap<client.Registry, WorkqueueMetricsProvider>();

/** The provider for a registry; metric families exist once per registry. */
export function workqueueMetricsFor(registry: client.Registry, clock: Clock): WorkqueueMetricsProvider {
  let p = providers.get(registry);
  if (!p) {
    p = new WorkqueueMetricsProvider(registry, clock);
    providers.set(registry, p);
  }
  return p;
}
