/**
 * What every apiserver makes sure of at start, as upstream's bootstrap controller does: the
 * system namespaces, the `kubernetes` Service, and its Endpoints/EndpointSlice listing every live
 * apiserver (each apiserver keeps a lease key in etcd; its endpoint disappears with the lease).
 */
import os from 'node:os';
import type { Etcd3, Lease } from 'etcd3';
import type { Logger } from 'pino';
import * as errors from '../api/errors.js';
import type { Registry } from '../registry/registry.js';
import type { RegistryStore } from '../registry/store.js';

export async function ensureSystemNamespaces(store: RegistryStore, registry: Registry, logger: Logger): Promise<void> {
  const def = registry.lookup('', 'v1', 'namespaces')!;
  for (const name of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) {
    try {
      await store.create(def, undefined, { metadata: { name } }, apiserverWrite);
      logger.info({ namespace: name }, 'created system namespace');
    } catch (e) {
      if (!(e instanceof errors.StatusError && e.code === 409)) throw e;
    }
  }
}

/**
 * The address this apiserver tells others (pods, through the `kubernetes` Service) to reach it
 * on: --advertise-address, else the bind address, else the host's first non-loopback IPv4.
 * Endpoints may not hold loopback addresses, so a loopback-only apiserver advertises none.
 */
export function pickAdvertiseAddress(advertise: string | undefined, bind: string): string | undefined {
  if (advertise) return advertise;
  const loopback = (a: string) => a.startsWith('127.') || a === '::1' || a === 'localhost';
  if (bind && bind !== '0.0.0.0' && bind !== '::' && !loopback(bind)) return bind;
  for (const addrs of Object.values(os.networkInterfaces())) {
    for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return undefined;
}

export interface KubernetesServiceConfig {
  clusterIP: string;
  /** Where this apiserver is reached; without one it keeps no endpoint of its own. */
  advertiseAddress: string | undefined;
  port: number;
  /** How long an apiserver's endpoint outlives it (upstream's master lease, 15 s). */
  leaseTTLSeconds: number;
  reconcileIntervalMs: number;
}

const leasePrefix = '/registry/masterleases/';

/** The apiserver's own writes are recorded under its name in managedFields. */
const apiserverWrite = { fieldManager: 'kube-apiserver' };

/**
 * Keeps the `kubernetes` Service and its endpoints. Returns a stop function that removes this
 * apiserver's lease so its endpoint goes at once on a clean shutdown.
 */
export async function startKubernetesServiceReconciler(
  store: RegistryStore,
  registry: Registry,
  etcd: Etcd3,
  cfg: KubernetesServiceConfig,
  logger: Logger,
): Promise<() => Promise<void>> {
  const svcDef = registry.lookup('', 'v1', 'services')!;
  const epDef = registry.lookup('', 'v1', 'endpoints')!;
  const sliceDef = registry.lookup('discovery.k8s.io', 'v1', 'endpointslices')!;
  try {
    await store.create(svcDef, 'default', {
      metadata: { name: 'kubernetes', namespace: 'default', labels: { component: 'apiserver', provider: 'kubernetes' } },
      spec: { type: 'ClusterIP', clusterIP: cfg.clusterIP, sessionAffinity: 'None', ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: cfg.port }] },
    }, apiserverWrite);
    logger.info({ clusterIP: cfg.clusterIP }, 'created the kubernetes Service');
  } catch (e) {
    if (!(e instanceof errors.StatusError && e.code === 409)) logger.warn({ err: String(e) }, 'could not create the kubernetes Service');
  }

  const me = `${cfg.advertiseAddress}:${cfg.port}`;
  let lease: Lease | undefined;
  const keepLease = async () => {
    if (!cfg.advertiseAddress) return;
    if (!lease) {
      lease = etcd.lease(cfg.leaseTTLSeconds, { autoKeepAlive: true });
      lease.on('lost', () => {
        lease = undefined;
      });
    }
    await lease.put(leasePrefix + me).value(JSON.stringify({ ip: cfg.advertiseAddress, port: cfg.port }));
  };

  const reconcile = async () => {
    await keepLease();
    const res = await etcd.getAll().prefix(leasePrefix).strings();
    const live = Object.values(res)
      .map((v) => JSON.parse(v) as { ip: string; port: number })
      .sort((a, b) => (a.ip < b.ip ? -1 : a.ip > b.ip ? 1 : a.port - b.port));
    const port = live[0]?.port ?? cfg.port;
    const subsets = live.length ? [{ addresses: live.map((l) => ({ ip: l.ip })), ports: [{ name: 'https', port, protocol: 'TCP' }] }] : [];
    await upsert(store, epDef, 'kubernetes', { metadata: { name: 'kubernetes', namespace: 'default', labels: { 'endpointslice.kubernetes.io/skip-mirror': 'true' } }, subsets }, (cur) => {
      cur.subsets = subsets;
      return cur;
    });
    const slice = {
      metadata: { name: 'kubernetes', namespace: 'default', labels: { 'kubernetes.io/service-name': 'kubernetes' } },
      addressType: 'IPv4',
      endpoints: live.map((l) => ({ addresses: [l.ip], conditions: { ready: true } })),
      ports: [{ name: 'https', port, protocol: 'TCP' }],
    };
    await upsert(store, sliceDef, 'kubernetes', slice, (cur) => {
      cur.endpoints = slice.endpoints;
      cur.ports = slice.ports;
      return cur;
    });
  };

  const tick = () =>
    reconcile().catch((e) => {
      logger.warn({ err: String(e) }, 'reconciling the kubernetes endpoints failed');
    });
  await tick();
  const timer = setInterval(() => void tick(), cfg.reconcileIntervalMs);
  return async () => {
    clearInterval(timer);
    try {
      if (!cfg.advertiseAddress) return;
      await etcd.delete().key(leasePrefix + me);
      await lease?.revoke();
      await reconcile().catch(() => {});
    } catch {
      // best effort: the lease expires anyway
    }
  };
}

async function upsert(
  store: RegistryStore,
  def: ReturnType<Registry['lookup']> & object,
  name: string,
  fresh: Record<string, unknown>,
  change: (cur: any) => any,
): Promise<void> {
  try {
    await store.guaranteedUpdate(def, 'default', name, undefined, (cur) => change(cur), apiserverWrite);
  } catch (e) {
    if (!(e instanceof errors.StatusError && e.code === 404)) throw e;
    try {
      await store.create(def, 'default', fresh, apiserverWrite);
    } catch (e2) {
      if (!(e2 instanceof errors.StatusError && e2.code === 409)) throw e2;
    }
  }
}
