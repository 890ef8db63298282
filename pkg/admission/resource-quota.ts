/**
 * ResourceQuota: a create that would take a namespace past any of its ResourceQuotas' hard
 * limits is refused with upstream's "exceeded quota" message; an admitted create is charged to
 * each matching quota's status.used before the object is stored.
 *
 * Concurrent creates cannot both take the last unit: in this apiserver, checks run one at a time
 * per namespace; across apiservers, the charge is a resourceVersion-checked write of the quota's
 * status, and a conflict re-reads the quota and checks again. Usage the quota status does not
 * record yet (a new quota, or a resource added to spec.hard) is counted from the watch caches.
 * Giving usage back on deletion is the resourcequota controller's job, as upstream.
 */
import * as errors from '../api/errors.js';
import { addQuantities, compareQuantities, formatQuantity, quantityOf, tryParseQuantity, type Quantity } from '../api/quantity.js';
import type { StoredObject } from '../api/types.js';
import type { ClusterState } from '../auth/cluster-state.js';
import type { AdmissionAttributes, AdmissionPlugin } from './types.js';
import { forbidden } from './util.js';
import { podTotals } from './limit-ranger.js';

type Usage = Map<string, Quantity>;

const legacyCounted = new Set(['pods', 'services', 'configmaps', 'secrets', 'persistentvolumeclaims', 'replicationcontrollers', 'resourcequotas']);
/** Quota names that make every container state a request or limit (upstream's pod Constraints). */
const requiredByQuota: Record<string, ['requests' | 'limits', string]> = {
  cpu: ['requests', 'cpu'],
  memory: ['requests', 'memory'],
  'requests.cpu': ['requests', 'cpu'],
  'requests.memory': ['requests', 'memory'],
  'limits.cpu': ['limits', 'cpu'],
  'limits.memory': ['limits', 'memory'],
};

function one(): Quantity {
  return quantityOf(1);
}

function add(u: Usage, k: string, v: Quantity): void {
  u.set(k, u.has(k) ? addQuantities(u.get(k)!, v) : v);
}

function isTerminalPod(pod: StoredObject): boolean {
  const phase = pod.status?.phase;
  return phase === 'Succeeded' || phase === 'Failed';
}

/** What one object counts against a quota (upstream's quota evaluators' Usage). */
export function usageOf(group: string, plural: string, obj: StoredObject): Usage {
  const u: Usage = new Map();
  u.set(group ? `count/${plural}.${group}` : `count/${plural}`, one());
  if (group === '' && plural === 'pods') {
    if (isTerminalPod(obj)) return u;
    u.set('pods', one());
    const req = podTotals(obj, 'requests');
    const lim = podTotals(obj, 'limits');
    for (const [k, v] of Object.entries(req)) {
      const qv = tryParseQuantity(v);
      if (!qv) continue;
      add(u, `requests.${k}`, qv);
      if (k === 'cpu' || k === 'memory' || k === 'ephemeral-storage') add(u, k, qv);
    }
    for (const [k, v] of Object.entries(lim)) {
      const qv = tryParseQuantity(v);
      if (qv) add(u, `limits.${k}`, qv);
    }
    return u;
  }
  if (group === '' && legacyCounted.has(plural)) u.set(plural, one());
  if (group === '' && plural === 'services') {
    const type = obj.spec?.type ?? 'ClusterIP';
    if (type === 'LoadBalancer') u.set('services.loadbalancers', one());
    if (type === 'NodePort' || type === 'LoadBalancer') u.set('services.nodeports', quantityOf((obj.spec?.ports ?? []).length));
  }
  if (group === '' && plural === 'persistentvolumeclaims') {
    const storage = tryParseQuantity(obj.spec?.resources?.requests?.storage);
    const sc = obj.spec?.storageClassName;
    if (storage) add(u, 'requests.storage', storage);
    if (sc) {
      u.set(`${sc}.storageclass.storage.k8s.io/persistentvolumeclaims`, one());
      if (storage) add(u, `${sc}.storageclass.storage.k8s.io/requests.storage`, storage);
    }
  }
  return u;
}

/** `a=1,b=2`, sorted by name, as upstream's prettyPrint. */
function pretty(u: Usage, keys: string[]): string {
  return [...keys].sort().map((k) => `${k}=${formatQuantity(u.get(k) ?? quantityOf(0))}`).join(',');
}

/** Containers missing a request or limit that the quota requires (upstream's "must specify" check). */
export function missingConstraints(pod: StoredObject, hard: string[]): string | undefined {
  const missing = new Map<string, string[]>();
  for (const k of hard) {
    const need = requiredByQuota[k];
    if (!need) continue;
    for (const c of [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])]) {
      if (c.resources?.[need[0]]?.[need[1]] === undefined) {
        const l = missing.get(k) ?? [];
        if (!l.includes(c.name)) l.push(c.name);
        missing.set(k, l);
      }
    }
  }
  if (!missing.size) return undefined;
  return `must specify ${[...missing.keys()].sort().map((k) => `${k} for: ${missing.get(k)!.sort().join(',')}`).join('; ')}`;
}

export function resourceQuota(state: ClusterState): AdmissionPlugin {
  const locks = new Map<string, Promise<void>>();
  const withLock = async (ns: string, fn: () => Promise<void>): Promise<void> => {
    const prev = locks.get(ns) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    const tail = prev.then(() => mine);
    locks.set(ns, tail);
    await prev;
    try {
      await fn();
    } finally {
      release();
      if (locks.get(ns) === tail) locks.delete(ns);
    }
  };

  /** Usage of key `k` in the namespace, counted from the caches. */
  const countFromCaches = (ns: string, k: string): Quantity => {
    let total = quantityOf(0);
    const count = /^count\/([^.]+)(?:\.(.+))?$/.exec(k);
    let group = '';
    let plural: string;
    if (count) {
      plural = count[1]!;
      group = count[2] ?? '';
    } else if (legacyCounted.has(k)) plural = k;
    else if (k.startsWith('services.')) plural = 'services';
    else if (k === 'requests.storage' || k.includes('.storageclass.storage.k8s.io/')) plural = 'persistentvolumeclaims';
    else plural = 'pods';
    for (const o of state.list(group, plural, ns)) {
      const v = usageOf(group, plural, o).get(k);
      if (v) total = addQuantities(total, v);
    }
    return total;
  };

  const check = async (a: AdmissionAttributes): Promise<void> => {
    const st = state.store;
    const rqDef = state.def('', 'resourcequotas');
    if (!st || !rqDef) return;
    const ns = a.namespace!;
    const delta = usageOf(a.def.group, a.def.plural, a.object!);
    for (let attempt = 0; ; attempt++) {
      const quotas = (await st.list(rqDef, ns, {})).items.sort((x, y) => (x.metadata.name! < y.metadata.name! ? -1 : 1));
      const charges: { quota: StoredObject; used: Record<string, string> }[] = [];
      for (const quota of quotas) {
        const hardList: Record<string, string> = quota.spec?.hard ?? {};
        const hardKeys = Object.keys(hardList);
        const relevant = [...delta.keys()].filter((k) => hardKeys.includes(k));
        if (a.def.group === '' && a.def.plural === 'pods') {
          const why = missingConstraints(a.object!, hardKeys);
          if (why) throw forbidden(a, `failed quota: ${quota.metadata.name}: ${why}`);
        }
        if (!relevant.length) continue;
        const recorded: Record<string, string> = quota.status?.used ?? {};
        const used: Usage = new Map();
        for (const k of hardKeys) used.set(k, tryParseQuantity(recorded[k]) ?? countFromCaches(ns, k));
        const exceeded = relevant.filter((k) => {
          const hard = tryParseQuantity(hardList[k]);
          return hard !== undefined && compareQuantities(addQuantities(used.get(k)!, delta.get(k)!), hard) > 0;
        });
        if (exceeded.length) {
          const hardU: Usage = new Map(exceeded.map((k) => [k, tryParseQuantity(hardList[k])!]));
          throw forbidden(a, `exceeded quota: ${quota.metadata.name}, requested: ${pretty(delta, exceeded)}, used: ${pretty(used, exceeded)}, limited: ${pretty(hardU, exceeded)}`);
        }
        const next: Record<string, string> = {};
        for (const k of hardKeys) next[k] = formatQuantity(relevant.includes(k) ? addQuantities(used.get(k)!, delta.get(k)!) : used.get(k)!);
        charges.push({ quota, used: next });
      }
      if (a.dryRun || !charges.length) return;
      try {
        for (const c of charges) {
          await st.guaranteedUpdate(rqDef, ns, c.quota.metadata.name!, 'status', (cur) => ({
            ...cur,
            metadata: { ...cur.metadata, resourceVersion: c.quota.metadata.resourceVersion },
            status: { ...(cur.status ?? {}), hard: { ...(c.quota.spec?.hard ?? {}) }, used: c.used },
          }));
        }
        return;
      } catch (e) {
        if (errors.isStatusError(e) && e.code === 409 && attempt < 10) continue;
        throw e;
      }
    }
  };

  return {
    name: 'ResourceQuota',
    async validate(a) {
      if (a.operation !== 'CREATE' || a.subresource || !a.object || !a.namespace) return;
      // Namespaces without quotas (the common case) cost no etcd read.
      if (state.list('', 'resourcequotas', a.namespace).length === 0) return;
      await withLock(a.namespace, () => check(a));
    },
  };
}
