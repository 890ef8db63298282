/**
 * The root CA certificate publisher (pkg/controller/certificates/rootcacertpublisher): every
 * namespace has a ConfigMap `kube-root-ca.crt` whose `ca.crt` is the cluster's CA bundle, so pods
 * can verify the apiserver. It is put back when deleted and rewritten when changed.
 */
import fs from 'node:fs';
import type { Logger } from 'pino';
import type { ConfigMap, Namespace } from '../../api/types.js';
import { deepEqual } from '../../api/meta.js';
import { hasStatusCause, isNotFound, type RestClient } from '../../client/rest.js';
import { newQueue, type Controller, type ControllerContext } from '../framework/controller.js';
import { informerResources, waitForCacheSync, type SharedInformer } from '../framework/informer.js';
import { namespaceTerminatingCause } from '../framework/pod-control.js';
import { runWorkers } from '../framework/worker.js';
import type { RateLimitingQueue } from '../framework/workqueue.js';

export const rootCAConfigMapName = 'kube-root-ca.crt';
export const descriptionAnnotation = 'kubernetes.io/description';
export const description =
  'Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.';

export interface RootCACertPublisherOptions {
  /** The PEM bundle to publish; without one the controller does not run. */
  rootCA: string | undefined;
  workers?: number;
}

export class RootCACertPublisher implements Controller {
  readonly name = 'root-ca-certificate-publisher-controller';
  private readonly client: RestClient;
  private readonly logger: Logger;
  private readonly queue: RateLimitingQueue<string>;
  private readonly nsInformer: SharedInformer<Namespace>;
  private readonly cmInformer: SharedInformer<ConfigMap>;

  constructor(
    ctx: ControllerContext,
    private readonly opts: RootCACertPublisherOptions,
  ) {
    this.client = ctx.client;
    this.logger = ctx.logger.child({ controller: this.name });
    this.queue = newQueue(ctx, 'root_ca_cert_publisher');
    this.nsInformer = ctx.informers.informerFor<Namespace>(informerResources.namespaces);
    this.cmInformer = ctx.informers.informerFor<ConfigMap>(informerResources.configMaps);
    this.nsInformer.addEventHandler({
      add: (ns) => this.queue.add(ns.metadata!.name!),
      update: (_o, ns) => this.queue.add(ns.metadata!.name!),
    });
    const onConfigMap = (cm: ConfigMap) => {
      if (cm.metadata?.name === rootCAConfigMapName) this.queue.add(cm.metadata.namespace!);
    };
    this.cmInformer.addEventHandler({ update: (_o, cm) => onConfigMap(cm), delete: onConfigMap });
  }

  async run(signal: AbortSignal): Promise<void> {
    if (!this.opts.rootCA) {
      this.logger.warn('no root CA (--root-ca-file, or the kubeconfig\'s certificate-authority); not publishing kube-root-ca.crt');
      return;
    }
    signal.addEventListener('abort', () => this.queue.shutDown(), { once: true });
    if (!(await waitForCacheSync([this.nsInformer, this.cmInformer], signal))) return;
    await runWorkers(this.queue, (ns) => this.syncNamespace(ns), { workers: this.opts.workers ?? 1, logger: this.logger });
  }

  async syncNamespace(namespace: string): Promise<void> {
    const ns = this.nsInformer.get('', namespace);
    if (!ns || ns.status?.phase === 'Terminating' || ns.metadata?.deletionTimestamp) return;
    const data = { 'ca.crt': this.opts.rootCA! };
    const cm = this.cmInformer.get(namespace, rootCAConfigMapName);
    try {
      if (!cm) {
        await this.client.create<ConfigMap>(informerResources.configMaps, namespace, {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name: rootCAConfigMapName, annotations: { [descriptionAnnotation]: description } },
          data,
        });
        return;
      }
      if (deepEqual(cm.data ?? {}, data) && !cm.binaryData && cm.metadata?.annotations?.[descriptionAnnotation]) return;
      await this.client.update<ConfigMap>(informerResources.configMaps, {
        ...cm,
        metadata: { ...cm.metadata, annotations: { ...(cm.metadata?.annotations ?? {}), [descriptionAnnotation]: description } },
        data,
        binaryData: undefined,
      });
    } catch (e) {
      // AlreadyExists and Conflict: the cache is behind; the retry reads it again.
      if (isNotFound(e) || hasStatusCause(e, namespaceTerminatingCause)) return;
      throw e;
    }
  }
}

export function newRootCACertPublisher(ctx: ControllerContext, opts: RootCACertPublisherOptions): RootCACertPublisher {
  return new RootCACertPublisher(ctx, opts);
}

/** The bundle to publish: `--root-ca-file`, else the CA the controller-manager trusts the apiserver with. */
export function loadRootCA(rootCAFile: string | undefined, kubeConfig: ControllerContext['kubeConfig']): string | undefined {
  if (rootCAFile) return fs.readFileSync(rootCAFile, 'utf8');
  const cluster = kubeConfig.getCurrentCluster();
  if (cluster?.caData) return Buffer.from(cluster.caData, 'base64').toString('utf8');
  if (cluster?.caFile) return fs.readFileSync(cluster.caFile, 'utf8');
  return undefined;
}
