/**
 * The EndpointSlice controller (pkg/controller/endpointslice): for every Service with a selector
 * it keeps the EndpointSlices labelled `kubernetes.io/service-name=<svc>` and
 * `endpointslice.kubernetes.io/managed-by=endpointslice-controller.k8s.io`, owned by the Service.
 *
 * - Each selected pod with an IP is one endpoint with the ready, serving and terminating
 *   conditions, nodeName, the zone of its Node, targetRef and (hostname+subdomain) hostname.
 * - Pods are grouped by the ports the Service's ports resolve to on them; each group fills
 *   slices of at most `maxEndpointsPerSlice` (100) endpoints.
 * - A Service with no endpoints still gets one empty slice (upstream's placeholder).
 * - Slices with another manager are never touched.
 *
 * Its own writes are tracked (upstream's endpointSliceTracker): a Service is not synced again
 * until the cache shows every slice it created, updated or deleted, so a lagging cache cannot
 * make it create duplicates.
 */
import type { Logger } from 'pino';
import type { EndpointSlice, Node, Pod, Service } from '../../api/types.js';
import { deepEqual } from '../../api/meta.js';
import { hasStatusCause, isNotFound, type RestClient } from '../../client/rest.js';
import { newQueue, type Controller, type ControllerContext } from '../framework/controller.js';
import { informerResources, keyOf, splitKey, waitForCacheSync, type SharedInformer } from '../framework/informer.js';
import { namespaceTerminatingCause } from '../framework/pod-control.js';
import { runWorkers } from '../framework/worker.js';
import type { RateLimitingQueue } from '../framework/workqueue.js';
import { findPort, hasSelector, headlessServiceLabel, isHeadless, isPodReady, lastChangeTriggerTime, lastChangeTriggerTimeAnnotation, podsSelectedBy, servicesSelecting, shouldPodBeInEndpoints, shouldSetHostname } from '../endpoint/pod-endpoints.js';

type Endpoint = NonNullable<EndpointSlice['endpoints']>[number];
type EndpointPort = NonNullable<EndpointSlice['ports']>[number];

export const serviceNameLabel = 'kubernetes.io/service-name';
export const managedByLabel = 'endpointslice.kubernetes.io/managed-by';
export const controllerName = 'endpointslice-controller.k8s.io';
export const zoneLabel = 'topology.kubernetes.io/zone';
/** `--max-endpoints-per-slice` (100). */
export const defaultMaxEndpointsPerSlice = 100;

export interface EndpointSliceControllerOptions {
  workers: number;
  maxEndpointsPerSlice?: number;
}

/** A group of endpoints that share their ports, the unit slices are filled from. */
export interface EndpointGroup {
  addressType: 'IPv4' | 'IPv6';
  ports: EndpointPort[];
  endpoints: Endpoint[];
}

function portKey(p: EndpointPort): string {
  return `${p.name ?? ''}/${p.port ?? ''}/${p.protocol ?? ''}/${p.appProtocol ?? ''}`;
}

function groupKey(addressType: string, ports: EndpointPort[]): string {
  return `${addressType}|${ports.map(portKey).join(',')}`;
}

/**
 * The desired endpoints of a Service, grouped by address type and ports. `nodeOf` gives the
 * Node of a pod's nodeName; pods on a Node that does not exist are left out (and reported) unless
 * the Service publishes not-ready addresses, as upstream.
 */
export function desiredEndpointGroups(svc: Service, pods: Pod[], nodeOf: (name: string) => Node | undefined): { groups: EndpointGroup[]; missingNodes: string[] } {
  const publishNotReady = svc.spec?.publishNotReadyAddresses === true;
  const groups = new Map<string, EndpointGroup>();
  const missingNodes: string[] = [];
  for (const pod of [...pods].sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''))) {
    if (!shouldPodBeInEndpoints(pod, true)) continue;
    const nodeName = pod.spec?.nodeName;
    const node = nodeName ? nodeOf(nodeName) : undefined;
    if (!node && !publishNotReady) {
      missingNodes.push(`${pod.metadata?.name}:${nodeName ?? ''}`);
      continue;
    }
    const ports: EndpointPort[] = [];
    for (const sp of svc.spec?.ports ?? []) {
      const port = findPort(pod, sp);
      if (port === undefined) continue;
      const ep: EndpointPort = { name: sp.name ?? '', port, protocol: sp.protocol ?? 'TCP' };
      if (sp.appProtocol) ep.appProtocol = sp.appProtocol;
      ports.push(ep);
    }
    // A Service with ports none of which resolve on this pod gets nothing from it.
    if ((svc.spec?.ports?.length ?? 0) > 0 && ports.length === 0) continue;
    const ips = (pod.status?.podIPs?.map((p) => p.ip) ?? [pod.status?.podIP]).filter((ip): ip is string => !!ip);
    const families = new Set(ips.map((ip) => (ip.includes(':') ? 'IPv6' : 'IPv4')));
    const wanted = svc.spec?.ipFamilies?.length ? svc.spec.ipFamilies : ['IPv4'];
    const serving = isPodReady(pod);
    const terminating = !!pod.metadata?.deletionTimestamp;
    const ready = publishNotReady || (serving && !terminating);
    for (const family of ['IPv4', 'IPv6'] as const) {
      if (!families.has(family) || !wanted.includes(family)) continue;
      const ip = ips.find((a) => (a.includes(':') ? 'IPv6' : 'IPv4') === family)!;
      const ep: Endpoint = {
        addresses: [ip],
        conditions: { ready, serving, terminating },
        targetRef: { kind: 'Pod', namespace: pod.metadata!.namespace!, name: pod.metadata!.name!, uid: pod.metadata!.uid! },
      };
      if (nodeName) ep.nodeName = nodeName;
      const zone = node?.metadata?.labels?.[zoneLabel];
      if (zone) ep.zone = zone;
      if (shouldSetHostname(pod, svc)) ep.hostname = pod.spec!.hostname!;
      const sorted = [...ports].sort((a, b) => portKey(a).localeCompare(portKey(b)));
      const k = groupKey(family, sorted);
      let g = groups.get(k);
      if (!g) groups.set(k, (g = { addressType: family, ports: sorted, endpoints: [] }));
      g.endpoints.push(ep);
    }
  }
  return { groups: [...groups.values()], missingNodes };
}

/** The slice content a Service wants, before names are assigned. */
export interface DesiredSlice {
  addressType: 'IPv4' | 'IPv6';
  ports: EndpointPort[];
  endpoints: Endpoint[];
}

/** Cuts the groups into slices of at most `max` endpoints; an empty placeholder when there are none. */
export function desiredSlices(svc: Service, groups: EndpointGroup[], max: number): DesiredSlice[] {
  const out: DesiredSlice[] = [];
  for (const g of groups) for (let i = 0; i < g.endpoints.length; i += max) out.push({ addressType: g.addressType, ports: g.ports, endpoints: g.endpoints.slice(i, i + max) });
  if (out.length === 0) {
    const family = svc.spec?.ipFamilies?.[0] === 'IPv6' ? 'IPv6' : 'IPv4';
    out.push({ addressType: family, ports: [], endpoints: [] });
  }
  return out;
}

export class EndpointSliceController implements Controller {
  readonly name = 'endpointslice-controller';
  private readonly client: RestClient;
  private readonly logger: Logger;
  private readonly queue: RateLimitingQueue<string>;
  private readonly serviceInformer: SharedInformer<Service>;
  private readonly podInformer: SharedInformer<Pod>;
  private readonly nodeInformer: SharedInformer<Node>;
  private readonly sliceInformer: SharedInformer<EndpointSlice>;
  private readonly max: number;
  /** Per Service: the slices written (name → resourceVersion written) or deleted (name → undefined). */
  private readonly tracker = new Map<string, Map<string, string | undefined>>();

  constructor(
    ctx: ControllerContext,
    private readonly opts: EndpointSliceControllerOptions,
  ) {
    this.client = ctx.client;
    this.logger = ctx.logger.child({ controller: this.name });
    this.queue = newQueue(ctx, 'endpoint_slice');
    this.max = opts.maxEndpointsPerSlice ?? defaultMaxEndpointsPerSlice;
    this.serviceInformer = ctx.informers.informerFor<Service>(informerResources.services);
    this.podInformer = ctx.informers.informerFor<Pod>(informerResources.pods);
    this.nodeInformer = ctx.informers.informerFor<Node>(informerResources.nodes);
    this.sliceInformer = ctx.informers.informerFor<EndpointSlice>(informerResources.endpointSlices);
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
    this.sliceInformer.addEventHandler({
      add: (s) => this.enqueueForSlice(s),
      update: (_o, s) => this.enqueueForSlice(s),
      delete: (s) => this.enqueueForSlice(s),
    });
    // A Node's zone label appears on its endpoints; Services with pods there resync.
    this.nodeInformer.addEventHandler({
      add: (n) => this.enqueueForNode(n.metadata?.name),
      update: (o, n) => {
        if (o.metadata?.labels?.[zoneLabel] !== n.metadata?.labels?.[zoneLabel]) this.enqueueForNode(n.metadata?.name);
      },
      delete: (n) => this.enqueueForNode(n.metadata?.name),
    });
  }

  async run(signal: AbortSignal): Promise<void> {
    signal.addEventListener('abort', () => this.queue.shutDown(), { once: true });
    if (!(await waitForCacheSync([this.serviceInformer, this.podInformer, this.nodeInformer, this.sliceInformer], signal))) return;
    await runWorkers(this.queue, (key) => this.syncService(key), { workers: this.opts.workers, logger: this.logger });
  }

  private enqueueForPod(pod: Pod, old?: Pod): void {
    for (const svc of servicesSelecting(this.serviceInformer.list(pod.metadata?.namespace ?? ''), pod.metadata?.labels, old?.metadata?.labels)) this.queue.add(keyOf(svc));
  }

  private enqueueForSlice(slice: EndpointSlice): void {
    const labels = slice.metadata?.labels ?? {};
    if (labels[managedByLabel] !== controllerName || !labels[serviceNameLabel]) return;
    this.queue.add(`${slice.metadata!.namespace}/${labels[serviceNameLabel]}`);
  }

  private enqueueForNode(name: string | undefined): void {
    if (!name) return;
    for (const pod of this.podInformer.list()) if (pod.spec?.nodeName === name) this.enqueueForPod(pod);
  }

  /** Whether the cache shows every write this controller made for the Service. */
  private cacheCaughtUp(key: string, namespace: string): boolean {
    const writes = this.tracker.get(key);
    if (!writes) return true;
    for (const [name, rv] of writes) {
      const cur = this.sliceInformer.get(namespace, name);
      if (rv === undefined ? cur !== undefined : !cur || Number(cur.metadata?.resourceVersion) < Number(rv)) return false;
      writes.delete(name);
    }
    this.tracker.delete(key);
    return true;
  }

  private track(key: string, name: string, rv: string | undefined): void {
    let m = this.tracker.get(key);
    if (!m) this.tracker.set(key, (m = new Map()));
    m.set(name, rv);
  }

  async syncService(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    if (!this.cacheCaughtUp(key, namespace)) throw new Error(`the EndpointSlice cache is behind this controller's writes for Service ${key}`);
    const svc = this.serviceInformer.get(namespace, name);
    const existing = this.sliceInformer.list(namespace).filter((s) => s.metadata?.labels?.[serviceNameLabel] === name && s.metadata?.labels?.[managedByLabel] === controllerName);
    if (!svc || !hasSelector(svc)) {
      // Slices are owned by the Service, so the garbage collector removes them too; deleting here
      // keeps a cluster without it (or a Service that lost its selector) tidy.
      for (const s of existing) await this.deleteSlice(key, s);
      return;
    }
    const pods = podsSelectedBy(svc, this.podInformer.list(namespace));
    const { groups, missingNodes } = desiredEndpointGroups(svc, pods, (n) => this.nodeInformer.get('', n));
    const desired = desiredSlices(svc, groups, this.max);

    const labels: Record<string, string> = { ...(svc.metadata?.labels ?? {}), [serviceNameLabel]: name, [managedByLabel]: controllerName };
    if (isHeadless(svc)) labels[headlessServiceLabel] = '';
    const ownerReferences = [{ apiVersion: 'v1', kind: 'Service', name, uid: svc.metadata!.uid!, controller: true, blockOwnerDeletion: true }];
    const trigger = lastChangeTriggerTime(svc, pods);

    // Reuse existing slices of the same address type and ports first, then any other, in name order.
    const unused = [...existing].sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
    const take = (d: DesiredSlice): EndpointSlice | undefined => {
      let i = unused.findIndex((s) => s.addressType === d.addressType && groupKey(s.addressType, s.ports ?? []) === groupKey(d.addressType, d.ports));
      if (i < 0) i = unused.findIndex((s) => s.addressType === d.addressType);
      return i < 0 ? undefined : unused.splice(i, 1)[0];
    };
    try {
      for (const d of desired) {
        const cur = take(d);
        if (cur && deepEqual(cur.endpoints ?? [], d.endpoints) && deepEqual(cur.ports ?? [], d.ports) && deepEqual(cur.metadata?.labels ?? {}, labels) && deepEqual(cur.metadata?.ownerReferences ?? [], ownerReferences)) continue;
        const annotations: Record<string, string> = { ...(cur?.metadata?.annotations ?? {}) };
        if (trigger) annotations[lastChangeTriggerTimeAnnotation] = trigger;
        const body: EndpointSlice = {
          apiVersion: 'discovery.k8s.io/v1',
          kind: 'EndpointSlice',
          metadata: cur ? { ...cur.metadata, labels, annotations, ownerReferences } : { generateName: `${name}-`, namespace, labels, annotations, ownerReferences },
          addressType: d.addressType,
          endpoints: d.endpoints,
          ports: d.ports,
        };
        const written = cur ? await this.client.update<EndpointSlice>(informerResources.endpointSlices, body) : await this.client.create<EndpointSlice>(informerResources.endpointSlices, namespace, body);
        this.track(key, written.metadata!.name!, written.metadata!.resourceVersion);
      }
      for (const s of unused) await this.deleteSlice(key, s);
    } catch (e) {
      if (hasStatusCause(e, namespaceTerminatingCause)) return;
      throw e;
    }
    if (missingNodes.length) throw new Error(`skipped pods of Service ${key} whose Node was not found: ${missingNodes.join(', ')}`);
  }

  private async deleteSlice(key: string, s: EndpointSlice): Promise<void> {
    try {
      await this.client.delete(informerResources.endpointSlices, s.metadata!.namespace, s.metadata!.name!, { preconditions: { uid: s.metadata?.uid } });
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
    this.track(key, s.metadata!.name!, undefined);
  }
}

export function newEndpointSliceController(ctx: ControllerContext, opts: EndpointSliceControllerOptions): EndpointSliceController {
  return new EndpointSliceController(ctx, opts);
}
