/**
 * The Endpoints controller (pkg/controller/endpoint/endpoints_controller.go): for every Service
 * with a selector it keeps an Endpoints object of the same name whose subsets list the selected
 * pods' IPs, ready ones under `addresses` and the others under `notReadyAddresses`, with each
 * Service port resolved on each pod (a named targetPort may be a different number per pod).
 *
 * Services without a selector keep the Endpoints their users write; `default/kubernetes` belongs
 * to the apiserver.
 */
import type { Logger } from 'pino';
import type { Endpoints, Pod, Service } from '../../api/types.js';
import { deepEqual } from '../../api/meta.js';
import { isConflict, isNotFound, hasStatusCause, type RestClient } from '../../client/rest.js';
import { newQueue, type Controller, type ControllerContext } from '../framework/controller.js';
import { informerResources, keyOf, splitKey, waitForCacheSync, type SharedInformer } from '../framework/informer.js';
import { namespaceTerminatingCause } from '../framework/pod-control.js';
import { runWorkers } from '../framework/worker.js';
import type { RateLimitingQueue } from '../framework/workqueue.js';
import { findPort, hasSelector, headlessServiceLabel, isHeadless, isPodReady, lastChangeTriggerTime, lastChangeTriggerTimeAnnotation, podsSelectedBy, servicesSelecting, shouldPodBeInEndpoints, shouldSetHostname } from './pod-endpoints.js';

type EndpointSubset = NonNullable<Endpoints['subsets']>[number];
type EndpointAddress = NonNullable<EndpointSubset['addresses']>[number];
type EndpointPort = NonNullable<EndpointSubset['ports']>[number];

/** Upstream caps an Endpoints object at 1000 addresses and marks it truncated. */
export const maxCapacity = 1000;
export const overCapacityAnnotation = 'endpoints.kubernetes.io/over-capacity';

export interface EndpointsControllerOptions {
  workers: number;
}

function portKey(p: EndpointPort): string {
  return `${p.name ?? ''}/${p.port}/${p.protocol ?? 'TCP'}/${p.appProtocol ?? ''}`;
}

function addressKey(a: EndpointAddress): string {
  return `${a.ip}/${a.targetRef?.uid ?? ''}`;
}

/**
 * The subsets for a Service and its pods, packed as upstream's RepackSubsets: one subset per
 * distinct set of ports, addresses and ports sorted, so equal inputs give equal output.
 */
export function computeSubsets(svc: Service, pods: Pod[]): { subsets: EndpointSubset[]; truncated: boolean } {
  const publishNotReady = svc.spec?.publishNotReadyAddresses === true;
  const groups = new Map<string, { ports: EndpointPort[]; ready: EndpointAddress[]; notReady: EndpointAddress[] }>();
  const add = (ports: EndpointPort[], addr: EndpointAddress, ready: boolean) => {
    const sorted = [...ports].sort((a, b) => portKey(a).localeCompare(portKey(b)));
    const k = sorted.map(portKey).join(',');
    let g = groups.get(k);
    if (!g) groups.set(k, (g = { ports: sorted, ready: [], notReady: [] }));
    (ready ? g.ready : g.notReady).push(addr);
  };
  for (const pod of pods) {
    if (!shouldPodBeInEndpoints(pod, publishNotReady)) continue;
    const ip = pod.status?.podIP ?? pod.status?.podIPs?.[0]?.ip;
    if (!ip) continue;
    const addr: EndpointAddress = { ip, targetRef: { kind: 'Pod', namespace: pod.metadata!.namespace!, name: pod.metadata!.name!, uid: pod.metadata!.uid! } };
    if (pod.spec?.nodeName) addr.nodeName = pod.spec.nodeName;
    if (shouldSetHostname(pod, svc)) addr.hostname = pod.spec!.hostname!;
    const ready = publishNotReady || isPodReady(pod);
    const svcPorts = svc.spec?.ports ?? [];
    if (svcPorts.length === 0) {
      // A headless Service may have no ports: its addresses still matter (DNS).
      if (isHeadless(svc)) add([], addr, ready);
      continue;
    }
    const ports: EndpointPort[] = [];
    for (const sp of svcPorts) {
      const port = findPort(pod, sp);
      if (port === undefined) continue;
      const ep: EndpointPort = { port, protocol: sp.protocol ?? 'TCP' };
      if (sp.name) ep.name = sp.name;
      if (sp.appProtocol) ep.appProtocol = sp.appProtocol;
      ports.push(ep);
    }
    for (const p of ports) add([p], addr, ready);
  }
  // Pods reached on the same ports share a subset: merge the per-port groups by address set.
  const merged = new Map<string, { ports: EndpointPort[]; ready: EndpointAddress[]; notReady: EndpointAddress[] }>();
  for (const g of groups.values()) {
    g.ready.sort((a, b) => addressKey(a).localeCompare(addressKey(b)));
    g.notReady.sort((a, b) => addressKey(a).localeCompare(addressKey(b)));
    const k = JSON.stringify([g.ready.map(addressKey), g.notReady.map(addressKey)]);
    const m = merged.get(k);
    if (m) m.ports.push(...g.ports);
    else merged.set(k, { ports: [...g.ports], ready: g.ready, notReady: g.notReady });
  }
  let total = 0;
  let truncated = false;
  const subsets: EndpointSubset[] = [];
  for (const g of [...merged.values()].sort((a, b) => a.ports.map(portKey).join(',').localeCompare(b.ports.map(portKey).join(',')))) {
    g.ports.sort((a, b) => portKey(a).localeCompare(portKey(b)));
    let ready = g.ready;
    let notReady = g.notReady;
    // Over capacity, ready addresses are kept before not-ready ones.
    const room = Math.max(0, maxCapacity - total);
    if (ready.length + notReady.length > room) {
      truncated = true;
      ready = ready.slice(0, room);
      notReady = notReady.slice(0, room - ready.length);
    }
    total += ready.length + notReady.length;
    if (!ready.length && !notReady.length) continue;
    const s: EndpointSubset = {};
    if (ready.length) s.addresses = ready;
    if (notReady.length) s.notReadyAddresses = notReady;
    if (g.ports.length) s.ports = g.ports;
    subsets.push(s);
  }
  return { subsets, truncated };
}

export class EndpointsController implements Controller {
  readonly name = 'endpoints-controller';
  private readonly client: RestClient;
  private readonly logger: Logger;
  private readonly queue: RateLimitingQueue<string>;
  private readonly serviceInformer: SharedInformer<Service>;
  private readonly podInformer: SharedInformer<Pod>;
  private readonly endpointsInformer: SharedInformer<Endpoints>;

  constructor(
    ctx: ControllerContext,
    private readonly opts: EndpointsControllerOptions,
  ) {
    this.client = ctx.client;
    this.logger = ctx.logger.child({ controller: this.name });
    this.queue = newQueue(ctx, 'endpoint');
    this.serviceInformer = ctx.informers.informerFor<Service>(informerResources.services);
    this.podInformer = ctx.informers.informerFor<Pod>(informerResources.pods);
    this.endpointsInformer = ctx.informers.informerFor<Endpoints>(informerResources.endpoints);
    this.serviceInformer.addEventHandler({
      add: (s) => this.queue.add(keyOf(s)),
      update: (_o, s) => this.queue.add(keyOf(s)),
      delete: (s) => this.queue.add(keyOf(s)),
    });
    this.podInformer.addEventHandler({
      add: (p) => this.enqueueForPod(p),
      update: (o, p) => this.enqueueForPod(p, o),
      delete: (p) => this.enqueueForPod(p),
    });
    // Someone else changed or removed Endpoints this controller keeps: put them back.
    this.endpointsInformer.addEventHandler({
      update: (_o, e) => this.enqueueIfManaged(e),
      delete: (e) => this.enqueueIfManaged(e),
    });
  }

  async run(signal: AbortSignal): Promise<void> {
    signal.addEventListener('abort', () => this.queue.shutDown(), { once: true });
    if (!(await waitForCacheSync([this.serviceInformer, this.podInformer, this.endpointsInformer], signal))) return;
    await runWorkers(this.queue, (key) => this.syncService(key), { workers: this.opts.workers, logger: this.logger });
  }

  private enqueueForPod(pod: Pod, old?: Pod): void {
    const services = this.serviceInformer.list(pod.metadata?.namespace ?? '');
    for (const svc of servicesSelecting(services, pod.metadata?.labels, old?.metadata?.labels)) this.queue.add(keyOf(svc));
  }

  private enqueueIfManaged(e: Endpoints): void {
    const svc = this.serviceInformer.getByKey(keyOf(e));
    if (svc && hasSelector(svc)) this.queue.add(keyOf(e));
  }

  async syncService(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    if (namespace === 'default' && name === 'kubernetes') return;
    const svc = this.serviceInformer.get(namespace, name);
    if (!svc) {
      // The Endpoints would also go with the Service's garbage collection; upstream deletes them here.
      const cur = this.endpointsInformer.get(namespace, name);
      if (!cur) return;
      try {
        await this.client.delete(informerResources.endpoints, namespace, name, { preconditions: { uid: cur.metadata?.uid } });
      } catch (e) {
        if (!isNotFound(e) && !isConflict(e)) throw e;
      }
      return;
    }
    if (!hasSelector(svc)) return;
    const pods = podsSelectedBy(svc, this.podInformer.list(namespace));
    const { subsets, truncated } = computeSubsets(svc, pods);
    const labels: Record<string, string> = { ...(svc.metadata?.labels ?? {}) };
    if (isHeadless(svc)) labels[headlessServiceLabel] = '';

    const current = this.endpointsInformer.get(namespace, name);
    const curAnnotations = current?.metadata?.annotations ?? {};
    if (current && deepEqual(current.subsets ?? [], subsets) && deepEqual(current.metadata?.labels ?? {}, labels) && (curAnnotations[overCapacityAnnotation] === 'truncated') === truncated) return;

    const annotations: Record<string, string> = { ...curAnnotations };
    const trigger = lastChangeTriggerTime(svc, pods);
    if (trigger) annotations[lastChangeTriggerTimeAnnotation] = trigger;
    else delete annotations[lastChangeTriggerTimeAnnotation];
    if (truncated) annotations[overCapacityAnnotation] = 'truncated';
    else delete annotations[overCapacityAnnotation];
    const body: Endpoints = {
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: { ...(current?.metadata ?? {}), name, namespace, labels, annotations },
      subsets,
    };
    try {
      if (current) await this.client.update<Endpoints>(informerResources.endpoints, body);
      else await this.client.create<Endpoints>(informerResources.endpoints, namespace, body);
    } catch (e) {
      // AlreadyExists and Conflict mean the cache is behind our own or others' writes: the
      // rate-limited retry reads it again.
      if (hasStatusCause(e, namespaceTerminatingCause)) return;
      throw e;
    }
  }
}

export function newEndpointsController(ctx: ControllerContext, opts: EndpointsControllerOptions): EndpointsController {
  return new EndpointsController(ctx, opts);
}
