/**
 * The ServiceAccounts controller (serviceaccounts_controller.go): every active namespace has a
 * `default` ServiceAccount; it is created when a namespace appears and again if deleted.
 */
import type { Logger } from 'pino';
import type { Namespace, ServiceAccount } from '../../api/types.js';
import { hasStatusCause, isAlreadyExists, resources, type RestClient } from '../../client/rest.js';
import { newQueue, type Controller, type ControllerContext } from '../framework/controller.js';
import { informerResources, waitForCacheSync, type SharedInformer } from '../framework/informer.js';
import { namespaceTerminatingCause } from '../framework/pod-control.js';
import { runWorkers } from '../framework/worker.js';
import type { RateLimitingQueue } from '../framework/workqueue.js';

export interface ServiceAccountsControllerOptions {
  workers: number;
  /** The ServiceAccounts every namespace gets (`default`). */
  serviceAccounts?: string[];
}

export class ServiceAccountsController implements Controller {
  readonly name = 'serviceaccount-controller';
  private readonly client: RestClient;
  private readonly logger: Logger;
  private readonly queue: RateLimitingQueue<string>;
  private readonly nsInformer: SharedInformer<Namespace>;
  private readonly saInformer: SharedInformer<ServiceAccount>;
  private readonly names: string[];

  constructor(
    ctx: ControllerContext,
    private readonly opts: ServiceAccountsControllerOptions,
  ) {
    this.client = ctx.client;
    this.logger = ctx.logger.child({ controller: this.name });
    this.queue = newQueue(ctx, 'serviceaccount');
    this.names = opts.serviceAccounts ?? ['default'];
    this.nsInformer = ctx.informers.informerFor<Namespace>(informerResources.namespaces);
    this.saInformer = ctx.informers.informerFor<ServiceAccount>(informerResources.serviceAccounts);
    this.nsInformer.addEventHandler({
      add: (ns) => this.queue.add(ns.metadata!.name!),
      update: (_old, ns) => this.queue.add(ns.metadata!.name!),
    });
    this.saInformer.addEventHandler({
      delete: (sa) => {
        if (this.names.includes(sa.metadata?.name ?? '')) this.queue.add(sa.metadata!.namespace!);
      },
    });
  }

  async run(signal: AbortSignal): Promise<void> {
    signal.addEventListener('abort', () => this.queue.shutDown(), { once: true });
    if (!(await waitForCacheSync([this.nsInformer, this.saInformer], signal))) return;
    await runWorkers(this.queue, (key) => this.syncNamespace(key), { workers: this.opts.workers, logger: this.logger });
  }

  async syncNamespace(name: string): Promise<void> {
    const ns = this.nsInformer.get('', name);
    // Nothing is created in a namespace that is not active.
    if (!ns || ns.status?.phase !== 'Active') return;
    const failures: unknown[] = [];
    for (const sa of this.names) {
      if (this.saInformer.get(name, sa)) continue;
      try {
        await this.client.create<ServiceAccount>(resources.serviceAccounts, name, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: sa } });
      } catch (e) {
        if (isAlreadyExists(e) || hasStatusCause(e, namespaceTerminatingCause)) continue;
        failures.push(e);
      }
    }
    if (failures.length) throw failures[0];
  }
}

export function newServiceAccountsController(ctx: ControllerContext, opts: ServiceAccountsControllerOptions): ServiceAccountsController {
  return new ServiceAccountsController(ctx, opts);
}
