/**
 * Pod routes between machines, the host-gw pattern: in the network namespace it runs in, keeps a
 * route `<podCIDR> via <InternalIP>` for every other Node, and removes the routes of nodes that
 * went away. Routes it owns carry protocol number 199, so it never touches anyone else's.
 *
 * It runs in each node (started by the kubelet's launcher) and on the host that fronts the nodes.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Logger } from 'pino';
import type { Node } from '../api/types.js';
import { SharedInformerFactory, waitForCacheSync, type InformerResource } from '../controller/framework/informer.js';
import { RateLimitingQueue } from '../controller/framework/workqueue.js';
import { defaultControllerRateLimiter } from '../controller/framework/rate-limiter.js';
import { runWorkers } from '../controller/framework/worker.js';
import { RealClock, type Clock } from '../controller/framework/clock.js';
import { RestClient } from '../client/rest.js';
import { loadKubeConfig } from '../client/kubeconfig.js';

const run = promisify(execFile);

/** The route protocol number that marks keelson's routes (`ip route … proto 199`). */
export const routeProto = '199';

const nodesResource: InformerResource = { group: '', version: 'v1', resource: 'nodes', kind: 'Node', namespaced: false };

export interface Route {
  dst: string;
  via: string;
}

/** The routes this place should have: every other node's podCIDR via its InternalIP. */
export function desiredRoutes(nodes: Node[], self: { nodeName?: string; addresses: string[] }): Route[] {
  const out: Route[] = [];
  for (const n of nodes) {
    if (n.metadata?.name === self.nodeName) continue;
    const cidr = n.spec?.podCIDR;
    const ip = n.status?.addresses?.find((a) => a.type === 'InternalIP')?.address;
    if (!cidr || !ip || self.addresses.includes(ip)) continue;
    out.push({ dst: cidr, via: ip });
  }
  return out.sort((a, b) => (a.dst < b.dst ? -1 : 1));
}

/** Reads and changes routes with iproute2 in the current network namespace. */
export interface RouteTable {
  list(): Promise<Route[]>;
  replace(r: Route): Promise<void>;
  remove(r: Route): Promise<void>;
}

/** The routes of the current network namespace, or of a named one (`ip -n <netns>`). */
export function iprouteTable(netns?: string): RouteTable {
  const ip = (args: string[]) => run('ip', netns ? ['-n', netns, ...args] : args);
  return {
    async list() {
      const { stdout } = await ip(['-j', '-4', 'route', 'show', 'proto', routeProto]);
      const rows = JSON.parse(stdout || '[]') as { dst: string; gateway?: string }[];
      return rows.filter((r) => r.gateway).map((r) => ({ dst: r.dst, via: r.gateway! }));
    },
    async replace(r) {
      await ip(['route', 'replace', r.dst, 'via', r.via, 'proto', routeProto]);
    },
    async remove(r) {
      await ip(['route', 'del', r.dst, 'via', r.via, 'proto', routeProto]);
    },
  };
}

/** Makes the table hold exactly `want` among the routes it owns. */
export async function syncRoutes(table: RouteTable, want: Route[]): Promise<{ added: Route[]; removed: Route[] }> {
  const have = await table.list();
  const key = (r: Route) => `${r.dst} ${r.via}`;
  const haveKeys = new Set(have.map(key));
  const wantKeys = new Set(want.map(key));
  const removed = have.filter((r) => !wantKeys.has(key(r)));
  const added = want.filter((r) => !haveKeys.has(key(r)));
  for (const r of removed) await table.remove(r);
  for (const r of added) await table.replace(r);
  return { added, removed };
}

export interface RouteControllerConfig {
  kubeconfig: string;
  /** This place's Node name, whose own podCIDR needs no route. */
  nodeName?: string;
  /** Addresses of this place: a node whose InternalIP is one of them is this place. */
  addresses: string[];
  logger: Logger;
  clock?: Clock;
  table?: RouteTable;
}

/** Runs until the signal aborts; the routes it made stay (the launcher removes them with the namespace or on `down`). */
export async function runRouteController(cfg: RouteControllerConfig, signal: AbortSignal): Promise<void> {
  const clock = cfg.clock ?? new RealClock();
  const kc = loadKubeConfig(cfg.kubeconfig);
  const client = new RestClient(kc, 'keelson-route-controller');
  const informers = new SharedInformerFactory(kc, client, cfg.logger, clock);
  const nodes = informers.informerFor<Node>(nodesResource);
  // One key: the whole route table is one level-triggered sync.
  const queue = new RateLimitingQueue<string>({ name: 'route', clock, rateLimiter: defaultControllerRateLimiter(clock) });
  const enqueue = () => queue.add('routes');
  nodes.addEventHandler({ add: enqueue, update: enqueue, delete: enqueue });
  informers.start();
  signal.addEventListener('abort', () => queue.shutDown(), { once: true });
  try {
    if (!(await waitForCacheSync([nodes], signal, clock))) return;
    const table = cfg.table ?? iprouteTable();
    const resync = setInterval(enqueue, 30_000);
    try {
      await runWorkers(
        queue,
        async () => {
          const r = await syncRoutes(table, desiredRoutes(nodes.list(), cfg));
          if (r.added.length || r.removed.length) cfg.logger.info({ added: r.added, removed: r.removed }, 'routes synced');
        },
        { workers: 1, logger: cfg.logger },
      );
    } finally {
      clearInterval(resync);
    }
  } finally {
    queue.shutDown();
    await informers.stop();
  }
}
