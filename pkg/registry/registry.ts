/**
 * The registry index: finds a resource by group, version and name, and lists groups for
 * discovery. Built once from `builtinResources`.
 */
import type { ResourceDef } from './types.js';

/** What a subresource answers with and which verbs it takes (for discovery). */
export interface SubresourceInfo {
  group: string;
  version: string;
  kind: string;
  verbs: string[];
}

export function subresourceInfo(def: ResourceDef, sub: string): SubresourceInfo {
  switch (sub) {
    case 'status':
      return { group: def.group, version: def.version, kind: def.kind, verbs: ['get', 'patch', 'update'] };
    case 'scale':
      return { group: 'autoscaling', version: 'v1', kind: 'Scale', verbs: ['get', 'patch', 'update'] };
    case 'binding':
      return { group: '', version: 'v1', kind: 'Binding', verbs: ['create'] };
    case 'eviction':
      return { group: 'policy', version: 'v1', kind: 'Eviction', verbs: ['create'] };
    case 'finalize':
      return { group: '', version: 'v1', kind: 'Namespace', verbs: ['update'] };
    case 'token':
      return { group: 'authentication.k8s.io', version: 'v1', kind: 'TokenRequest', verbs: ['create'] };
    case 'log':
      return { group: '', version: 'v1', kind: 'Pod', verbs: ['get'] };
    case 'exec':
      return { group: '', version: 'v1', kind: 'PodExecOptions', verbs: ['create', 'get'] };
    case 'attach':
      return { group: '', version: 'v1', kind: 'PodAttachOptions', verbs: ['create', 'get'] };
    case 'portforward':
      return { group: '', version: 'v1', kind: 'PodPortForwardOptions', verbs: ['create', 'get'] };
    case 'proxy':
      return { group: '', version: 'v1', kind: `${def.kind}ProxyOptions`, verbs: ['create', 'delete', 'get', 'patch', 'update'] };
    default:
      return { group: def.group, version: def.version, kind: def.kind, verbs: ['get'] };
  }
}

export interface GroupInfo {
  name: string;
  /** Versions, preferred first. */
  versions: string[];
}

export class Registry {
  private readonly byPath = new Map<string, ResourceDef>();
  readonly groups: GroupInfo[] = [];

  constructor(readonly defs: ResourceDef[]) {
    for (const d of defs) {
      this.byPath.set(`${d.group}/${d.version}/${d.plural}`, d);
      let g = this.groups.find((x) => x.name === d.group);
      if (!g) {
        g = { name: d.group, versions: [] };
        this.groups.push(g);
      }
      if (!g.versions.includes(d.version)) g.versions.push(d.version);
    }
    // Preferred version first: the highest stable version (v2 before v1).
    for (const g of this.groups) g.versions.sort(compareVersionsDesc);
  }

  lookup(group: string, version: string, plural: string): ResourceDef | undefined {
    return this.byPath.get(`${group}/${version}/${plural}`);
  }

  hasGroupVersion(group: string, version: string): boolean {
    return this.groups.some((g) => g.name === group && g.versions.includes(version));
  }

  resourcesIn(group: string, version: string): ResourceDef[] {
    return this.defs.filter((d) => d.group === group && d.version === version);
  }

  /** One def per stored resource (the first served version), for starting watch caches. */
  storageDefs(): ResourceDef[] {
    const seen = new Set<string>();
    const out: ResourceDef[] = [];
    for (const d of this.defs) {
      const k = d.storageResource ?? d.plural;
      // Converted versions share their storage version's cache; virtual resources store nothing.
      if (seen.has(k) || d.conversion || d.virtualCreate) continue;
      seen.add(k);
      out.push(d);
    }
    return out;
  }

  find(group: string, kind: string): ResourceDef | undefined {
    return this.defs.find((d) => d.group === group && d.kind === kind);
  }
}

/** Kubernetes version priority: GA before beta before alpha, higher numbers first. */
export function compareVersionsDesc(a: string, b: string): number {
  const parse = (v: string) => {
    const m = /^v(\d+)(?:(alpha|beta)(\d+))?$/.exec(v);
    if (!m) return [0, 0, 0];
    const stage = m[2] === 'alpha' ? 1 : m[2] === 'beta' ? 2 : 3;
    return [stage, Number(m[1]), Number(m[3] ?? 0)];
  };
  const pa = parse(a);
  const pb = parse(b);
  for (let i = 0; i < 3; i++) if (pa[i] !== pb[i]) return pb[i]! - pa[i]!;
  return 0;
}
