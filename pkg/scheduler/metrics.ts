/** The scheduler's metrics, with upstream's names (pkg/scheduler/metrics). */
import { prom } from '../metrics/registry.js';
import type { Registry } from 'prom-client';
import type { PluginMetrics } from './framework/interface.js';

export type AttemptResult = 'scheduled' | 'unschedulable' | 'error';

export interface SchedulerMetrics extends PluginMetrics {
  scheduleAttempt(result: AttemptResult, profile: string, durationSeconds: number): void;
  /** A pod got bound: how many attempts it took and how long since it was first queued. */
  podScheduled(profile: string, attempts: number, sinceFirstQueuedSeconds: number): void;
  /** Reads the queue sizes when scraped. */
  setPendingPodsSource(f: () => Record<'active' | 'backoff' | 'unschedulable' | 'gated', number>): void;
}

export const noopMetrics: SchedulerMetrics = {
  scheduleAttempt: () => {},
  podScheduled: () => {},
  setPendingPodsSource: () => {},
  preemptionAttempt: () => {},
  preemptionVictims: () => {},
};

const exponential = (start: number, factor: number, count: number) => Array.from({ length: count }, (_, i) => start * factor ** i);

export function newSchedulerMetrics(registry: Registry): SchedulerMetrics {
  const attempts = new prom.Counter({
    name: 'scheduler_schedule_attempts_total',
    help: "Number of attempts to schedule pods, by the result. 'unschedulable' means a pod could not be scheduled, while 'error' means an internal scheduler problem.",
    labelNames: ['result', 'profile'],
    registers: [registry],
  });
  const attemptDuration = new prom.Histogram({
    name: 'scheduler_scheduling_attempt_duration_seconds',
    help: 'Scheduling attempt latency in seconds (scheduling algorithm + binding)',
    labelNames: ['result', 'profile'],
    buckets: exponential(0.001, 2, 15),
    registers: [registry],
  });
  let pendingSource: (() => Record<string, number>) | undefined;
  new prom.Gauge({
    name: 'scheduler_pending_pods',
    help: "Number of pending pods, by the queue type. 'active' means number of pods in activeQ; 'backoff' means number of pods in backoffQ; 'unschedulable' means number of pods in unschedulablePods that the scheduler attempted to schedule and failed; 'gated' is the number of unschedulable pods that the scheduler never attempted to schedule because they are gated.",
    labelNames: ['queue'],
    registers: [registry],
    collect() {
      const p = pendingSource?.() ?? {};
      for (const q of ['active', 'backoff', 'unschedulable', 'gated']) this.set({ queue: q }, p[q] ?? 0);
    },
  });
  const preemptionAttempts = new prom.Counter({ name: 'scheduler_preemption_attempts_total', help: 'Total preemption attempts in the cluster till now', registers: [registry] });
  const preemptionVictims = new prom.Histogram({ name: 'scheduler_preemption_victims', help: 'Number of selected preemption victims', buckets: exponential(1, 2, 7), registers: [registry] });
  const podAttempts = new prom.Histogram({ name: 'scheduler_pod_scheduling_attempts', help: 'Number of attempts to successfully schedule a pod.', buckets: exponential(1, 2, 5), registers: [registry] });
  const sli = new prom.Histogram({
    name: 'scheduler_pod_scheduling_sli_duration_seconds',
    help: 'E2e latency for a pod being scheduled, from the time the pod enters the scheduling queue and might involve multiple scheduling attempts.',
    labelNames: ['attempts'],
    buckets: exponential(0.01, 2, 20),
    registers: [registry],
  });
  return {
    scheduleAttempt(result, profile, d) {
      attempts.inc({ result, profile });
      attemptDuration.observe({ result, profile }, d);
    },
    podScheduled(_profile, n, since) {
      podAttempts.observe(n);
      sli.observe({ attempts: String(n) }, since);
    },
    setPendingPodsSource(f) {
      pendingSource = f;
    },
    preemptionAttempt() {
      preemptionAttempts.inc();
    },
    preemptionVictims(n) {
      preemptionVictims.observe(n);
    },
  };
}
