/**
 * The namespace controller (namespace_controller.go): a namespace with a deletionTimestamp is
 * emptied and finalized by the deleter. Events wait a short grace period first, so apiservers and
 * etcd members have seen the deletion before content is listed. While content remains the
 * namespace is looked at again after half the estimate; every namespace is resynced periodically.
 */
import type { Logger } from 'pino';
import type { Namespace } from '../../api/types.js';
import type { Clock } from '../framework/clock.js';
import { newQueue, type Controller, type ControllerContext } from '../framework/controller.js';
import { informerResources, keyOf, waitForCacheSync, type SharedInformer } from '../framework/informer.js';
import { runWorkers } from '../framework/worker.js';
import type { RateLimitingQueue } from '../framework/workqueue.js';
import { NamespacedResourcesDeleter, ResourcesRemainingError } from './deleter.js';

/** How long a namespace event waits before it is processed (namespaceDeletionGracePeriod). */
export const namespaceDeletionGracePeriodMs = 5_000;

export interface NamespaceControllerOptions {
  workers: number;
  /** `--namespace-sync-period`. */
  resyncPeriodMs: number;
  deletionGracePeriodMs?: number;
}

export class NamespaceController implements Controller {
  readonly name = 'namespace-controller';
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly queue: RateLimitingQueue<string>;
  private readonly informer: SharedInformer<Namespace>;
  private readonly deleter: NamespacedResourcesDeleter;

  constructor(
    ctx: ControllerContext,
    private readonly opts: NamespaceControllerOptions,
  ) {
    this.clock = ctx.clock;
    this.logger = ctx.logger.child({ controller: this.name });
    this.queue = newQueue(ctx, 'namespace');
    this.informer = ctx.informers.informerFor<Namespace>(informerResources.namespaces);
    this.deleter = new NamespacedResourcesDeleter(ctx.client, ctx.clock, this.logger);
    this.informer.addEventHandler({ add: (ns) => this.enqueue(ns), update: (_old, ns) => this.enqueue(ns) });
  }

  private enqueue(ns: Namespace): void {
    if (!ns.metadata?.deletionTimestamp) return;
    this.queue.addAfter(keyOf(ns), this.opts.deletionGracePeriodMs ?? namespaceDeletionGracePeriodMs);
  }

  async run(signal: AbortSignal): Promise<void> {
    signal.addEventListener('abort', () => this.queue.shutDown(), { once: true });
    if (!(await waitForCacheSync([this.informer], signal))) return;
    const resync = (async () => {
      while (!signal.aborted) {
        await this.clock.sleep(this.opts.resyncPeriodMs, signal);
        for (const ns of this.informer.list()) this.enqueue(ns);
      }
    })();
    await runWorkers(this.queue, (key) => this.syncNamespace(key), { workers: this.opts.workers, logger: this.logger });
    await resync;
  }

  async syncNamespace(key: string): Promise<void> {
    const ns = this.informer.getByKey(key);
    if (!ns) return;
    try {
      await this.deleter.delete(ns.metadata!.name!);
    } catch (e) {
      if (!(e instanceof ResourcesRemainingError)) throw e;
      const waitSeconds = Math.floor(e.estimate / 2) + 1;
      this.logger.debug({ namespace: key, waitSeconds }, 'content remaining in namespace');
      this.queue.addAfter(key, waitSeconds * 1000);
    }
  }
}

export function newNamespaceController(ctx: ControllerContext, opts: NamespaceControllerOptions): NamespaceController {
  return new NamespaceController(ctx, opts);
}
