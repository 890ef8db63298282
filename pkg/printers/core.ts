/**
 * Helpers for the core/v1 Table printers, after upstream's pkg/printers/internalversion
 * (layoutContainerCells, GetAccessModesAsString, formatEndpoints, …).
 */
import { canonicalQuantity } from '../api/quantity.js';

/** Containers' names and images, comma-joined, for the wide CONTAINERS and IMAGES columns. */
export function layoutContainerCells(containers: unknown): [string, string] {
  const list = Array.isArray(containers) ? containers : [];
  return [list.map((c) => String(c?.name ?? '')).join(','), list.map((c) => String(c?.image ?? '')).join(',')];
}

/** GetAccessModesAsString: `RWO,ROX,RWX,RWOP`, each at most once, in that order. */
export function accessModesAsString(modes: unknown): string {
  const m = new Set(Array.isArray(modes) ? modes : []);
  const out: string[] = [];
  if (m.has('ReadWriteOnce')) out.push('RWO');
  if (m.has('ReadOnlyMany')) out.push('ROX');
  if (m.has('ReadWriteMany')) out.push('RWX');
  if (m.has('ReadWriteOncePod')) out.push('RWOP');
  return out.join(',');
}

const betaStorageClassAnnotation = 'volume.beta.kubernetes.io/storage-class';

/** The storage class of a PV or PVC: the beta annotation first, then spec.storageClassName. */
export function storageClassOf(obj: { metadata?: { annotations?: Record<string, string> }; spec?: { storageClassName?: string | null } }): string {
  const a = obj.metadata?.annotations?.[betaStorageClassAnnotation];
  if (a !== undefined) return a;
  return obj.spec?.storageClassName ?? '';
}

/** net.JoinHostPort: IPv6 addresses in brackets. */
export function joinHostPort(host: string, port: number | string): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** formatEndpoints: up to three `ip:port` pairs, then ` + N more...`; `<none>` without subsets. */
export function formatEndpoints(subsets: unknown): string {
  const ss = Array.isArray(subsets) ? subsets : [];
  if (ss.length === 0) return '<none>';
  const max = 3;
  const list: string[] = [];
  let more = false;
  let count = 0;
  for (const s of ss) {
    const addrs = Array.isArray(s?.addresses) ? s.addresses : [];
    const ports = Array.isArray(s?.ports) ? s.ports : [];
    if (ports.length === 0) {
      count += addrs.length;
      for (const a of addrs) {
        if (list.length === max) {
          more = true;
          break;
        }
        list.push(String(a?.ip ?? ''));
      }
      continue;
    }
    for (const p of ports) {
      count += addrs.length;
      for (const a of addrs) {
        if (list.length === max) {
          more = true;
          break;
        }
        list.push(joinHostPort(String(a?.ip ?? ''), p?.port ?? 0));
      }
    }
  }
  const ret = list.join(',');
  return more ? `${ret} + ${count - max} more...` : ret;
}

/** A quantity as Quantity.String() writes it (canonical), or the raw text if it does not parse. */
export function quantityString(v: unknown): string {
  if (v === undefined || v === null) return '0';
  return String(canonicalQuantity(v));
}

/** findNodeRoles: `node-role.kubernetes.io/<role>` labels and the `kubernetes.io/role` label, sorted. */
export function nodeRoles(labels: Record<string, string> | undefined | null): string[] {
  const roles = new Set<string>();
  for (const [k, v] of Object.entries(labels ?? {})) {
    if (k.startsWith('node-role.kubernetes.io/')) {
      const role = k.slice('node-role.kubernetes.io/'.length);
      if (role) roles.add(role);
    } else if (k === 'kubernetes.io/role' && v) roles.add(v);
  }
  return [...roles].sort();
}

/** formatEventSource: component (or reportingController), then `, host` (or reportingInstance). */
export function formatEventSource(source: { component?: string; host?: string } | undefined, reportingController?: string, reportingInstance?: string): string {
  const component = source?.component || reportingController || '';
  const instance = source?.host || reportingInstance || '';
  return instance ? `${component}, ${instance}` : component;
}
