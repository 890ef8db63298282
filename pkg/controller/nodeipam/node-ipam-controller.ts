/**
 * The node IPAM controller with the range allocator (pkg/controller/nodeipam/ipam/range_allocator.go):
 * with `--allocate-node-cidrs` every Node gets `spec.podCIDR`/`spec.podCIDRs`, a subnet of
 * `--cluster-cidr` of size `--node-cidr-mask-size`.
 *
 * Stability across restarts: before any worker runs, the pool is rebuilt from the podCIDRs the
 * Nodes already carry, so a new instance never hands out a subnet some Node holds. A deleted
 * Node's subnet returns to the pool.
 */
import type { Logger } from 'pino';
import type { Node } from '../../api/types.js';
import { isNotFound, type RestClient } from '../../client/rest.js';
import { newQueue, type Controller, type ControllerContext } from '../framework/controller.js';
import type { EventRecorder } from '../framework/event-recorder.js';
import { informerResources, waitForCacheSync, type SharedInformer } from '../framework/informer.js';
import { runWorkers } from '../framework/worker.js';
import type { RateLimitingQueue } from '../framework/workqueue.js';
import { CIDRRangeNotAvailableError, CIDRSet } from './cidr-set.js';

export interface NodeIPAMControllerOptions {
  /** `--allocate-node-cidrs`: without it the controller does nothing, as upstream. */
  allocateNodeCIDRs: boolean;
  clusterCIDR: string;
  /** `--node-cidr-mask-size` (24). */
  nodeCIDRMaskSize: number;
  workers?: number;
}

export class NodeIPAMController implements Controller {
  readonly name = 'node-ipam-controller';
  private readonly client: RestClient;
  private readonly logger: Logger;
  private readonly recorder: EventRecorder;
  private readonly queue: RateLimitingQueue<string>;
  private readonly nodeInformer: SharedInformer<Node>;
  private readonly cidrs: CIDRSet;
  /** Which subnet each Node holds, as this controller knows it (from the cache or its own writes). */
  private readonly byNode = new Map<string, string>();

  constructor(
    ctx: ControllerContext,
    private readonly opts: NodeIPAMControllerOptions,
  ) {
    this.client = ctx.client;
    this.logger = ctx.logger.child({ controller: this.name });
    this.recorder = ctx.events.newRecorder('cidrAllocator');
    this.queue = newQueue(ctx, 'cidrallocator_node');
    this.cidrs = new CIDRSet(opts.clusterCIDR, opts.nodeCIDRMaskSize);
    this.nodeInformer = ctx.informers.informerFor<Node>(informerResources.nodes);
    if (!opts.allocateNodeCIDRs) return;
    this.nodeInformer.addEventHandler({
      add: (n) => this.queue.add(n.metadata!.name!),
      update: (_old, n) => this.queue.add(n.metadata!.name!),
      delete: (n) => this.queue.add(n.metadata!.name!),
    });
  }

  async run(signal: AbortSignal): Promise<void> {
    if (!this.opts.allocateNodeCIDRs) {
      this.logger.info('--allocate-node-cidrs is off; not allocating pod CIDRs');
      return;
    }
    signal.addEventListener('abort', () => this.queue.shutDown(), { once: true });
    if (!(await waitForCacheSync([this.nodeInformer], signal))) return;
    for (const node of this.nodeInformer.list()) this.recordExisting(node);
    this.logger.info({ clusterCIDR: this.cidrs.cluster.text, inUse: this.cidrs.usedCount() }, 'pod CIDR pool rebuilt from the nodes; starting workers');
    await runWorkers(this.queue, (key) => this.syncNode(key), { workers: this.opts.workers ?? 1, logger: this.logger });
  }

  /** Takes note of the subnet a Node already carries. */
  private recordExisting(node: Node): void {
    const name = node.metadata!.name!;
    const cidr = node.spec?.podCIDRs?.[0] ?? node.spec?.podCIDR;
    if (!cidr) return;
    const had = this.byNode.get(name);
    if (had === cidr) return;
    if (!this.cidrs.occupy(cidr)) {
      this.logger.warn({ node: name, podCIDR: cidr, clusterCIDR: this.cidrs.cluster.text }, 'node has a pod CIDR outside the cluster CIDR');
      return;
    }
    // A subnet this controller picked but the Node ended up without (a lost race) goes back.
    if (had) this.cidrs.release(had);
    this.byNode.set(name, cidr);
  }

  async syncNode(name: string): Promise<void> {
    const node = this.nodeInformer.get('', name);
    if (!node) {
      const cidr = this.byNode.get(name);
      if (cidr) {
        this.cidrs.release(cidr);
        this.byNode.delete(name);
        this.logger.info({ node: name, podCIDR: cidr }, 'released the pod CIDR of a deleted node');
      }
      return;
    }
    if (node.spec?.podCIDR || node.spec?.podCIDRs?.length) {
      this.recordExisting(node);
      return;
    }
    // Our own write may not have reached the cache yet: send the same subnet again.
    let cidr = this.byNode.get(name);
    if (!cidr) {
      try {
        cidr = this.cidrs.allocateNext();
      } catch (e) {
        if (e instanceof CIDRRangeNotAvailableError) {
          this.recorder.event({ apiVersion: 'v1', kind: 'Node', ...node }, 'Normal', 'CIDRNotAvailable', `Node ${name} status is now: CIDRNotAvailable`);
        }
        throw e;
      }
      this.byNode.set(name, cidr);
    }
    try {
      await this.client.patch<Node>(informerResources.nodes, undefined, name, 'merge', { spec: { podCIDR: cidr, podCIDRs: [cidr] } });
      this.logger.info({ node: name, podCIDR: cidr }, 'set the pod CIDR of a node');
    } catch (e) {
      this.byNode.delete(name);
      this.cidrs.release(cidr);
      if (isNotFound(e)) return;
      this.recorder.event({ apiVersion: 'v1', kind: 'Node', ...node }, 'Normal', 'CIDRAssignmentFailed', `Node ${name} status is now: CIDRAssignmentFailed`);
      throw e;
    }
  }
}

export function newNodeIPAMController(ctx: ControllerContext, opts: NodeIPAMControllerOptions): NodeIPAMController {
  return new NodeIPAMController(ctx, opts);
}
