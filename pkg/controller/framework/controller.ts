/**
 * What every controller gets from the controller-manager (upstream's ControllerContext), and what
 * it gives back: a `run(signal)` that waits for its caches and runs its workers until stopped.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type client from 'prom-client';
import type { RestClient } from '../../client/rest.js';
import type { Clock } from './clock.js';
import type { EventBroadcaster } from './event-recorder.js';
import type { SharedInformerFactory } from './informer.js';
import { defaultControllerRateLimiter } from './rate-limiter.js';
import { RateLimitingQueue } from './workqueue.js';
import { workqueueMetricsFor } from './workqueue-metrics.js';

export interface ControllerContext {
  kubeConfig: KubeConfig;
  client: RestClient;
  informers: SharedInformerFactory;
  events: EventBroadcaster;
  clock: Clock;
  logger: Logger;
  metrics: client.Registry;
}

export interface Controller {
  /** Upstream's controller name, e.g. `deployment-controller`. */
  readonly name: string;
  /** Runs until `signal` aborts; resolves once every worker has stopped. */
  run(signal: AbortSignal): Promise<void>;
}

/** A queue with the default controller rate limiter and the workqueue metrics, named as upstream. */
export function newQueue(ctx: ControllerContext, name: string): RateLimitingQueue<string> {
  return new RateLimitingQueue<string>({ name, clock: ctx.clock, rateLimiter: defaultControllerRateLimiter(ctx.clock), metrics: workqueueMetricsFor(ctx.metrics, ctx.clock) });
}
