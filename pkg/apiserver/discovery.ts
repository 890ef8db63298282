/**
 * Discovery documents, all derived from the registry: /api, /apis, /api/v1, /apis/<g>/<v>, in
 * the legacy form and as aggregated discovery (apidiscovery.k8s.io v2 and v2beta1).
 */
import type { Registry } from '../registry/registry.js';
import { subresourceInfo } from '../registry/registry.js';
import { allVerbs, type ResourceDef } from '../registry/types.js';

function verbsOf(def: ResourceDef): string[] {
  return def.verbs ?? allVerbs;
}

export function apiVersions(serverAddress: string): Record<string, unknown> {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
  };
}

function groupEntry(reg: Registry, name: string): Record<string, unknown> {
  const g = reg.groups.find((x) => x.name === name)!;
  const versions = g.versions.map((v) => ({ groupVersion: `${name}/${v}`, version: v }));
  return { name, versions, preferredVersion: versions[0] };
}

export function apiGroupList(reg: Registry): Record<string, unknown> {
  return {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: reg.groups.filter((g) => g.name !== '').map((g) => groupEntry(reg, g.name)),
  };
}

export function apiGroup(reg: Registry, name: string): Record<string, unknown> | undefined {
  if (!reg.groups.some((g) => g.name === name && name !== '')) return undefined;
  return { kind: 'APIGroup', apiVersion: 'v1', ...groupEntry(reg, name) };
}

export function apiResourceList(reg: Registry, group: string, version: string): Record<string, unknown> {
  const resources: Record<string, unknown>[] = [];
  for (const def of reg.resourcesIn(group, version)) {
    const r: Record<string, unknown> = {
      name: def.plural,
      singularName: def.singular,
      namespaced: def.namespaced,
      kind: def.kind,
      verbs: verbsOf(def),
    };
    if (def.shortNames?.length) r.shortNames = def.shortNames;
    if (def.categories?.length) r.categories = def.categories;
    resources.push(r);
    for (const sub of def.subresources ?? []) {
      const si = subresourceInfo(def, sub);
      const s: Record<string, unknown> = { name: `${def.plural}/${sub}`, singularName: '', namespaced: def.namespaced, kind: si.kind, verbs: si.verbs };
      if (si.group !== def.group || si.version !== def.version) {
        s.group = si.group;
        s.version = si.version;
      }
      resources.push(s);
    }
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: group ? `${group}/${version}` : version, resources };
}

function aggregatedResource(def: ResourceDef): Record<string, unknown> {
  const r: Record<string, unknown> = {
    resource: def.plural,
    responseKind: { group: def.group, version: def.version, kind: def.kind },
    scope: def.namespaced ? 'Namespaced' : 'Cluster',
    singularResource: def.singular,
    verbs: verbsOf(def),
  };
  if (def.shortNames?.length) r.shortNames = def.shortNames;
  if (def.categories?.length) r.categories = def.categories;
  if (def.subresources?.length) {
    r.subresources = def.subresources.map((sub) => {
      const si = subresourceInfo(def, sub);
      return { subresource: sub, responseKind: { group: si.group, version: si.version, kind: si.kind }, verbs: si.verbs };
    });
  }
  return r;
}

/** The aggregated discovery document for /api (legacy: true) or /apis. */
export function aggregatedDiscovery(reg: Registry, legacy: boolean, version: 'v2' | 'v2beta1'): Record<string, unknown> {
  const groups = reg.groups.filter((g) => (legacy ? g.name === '' : g.name !== ''));
  return {
    kind: 'APIGroupDiscoveryList',
    apiVersion: `apidiscovery.k8s.io/${version}`,
    metadata: {},
    items: groups.map((g) => ({
      metadata: { name: g.name },
      versions: g.versions.map((v) => ({
        version: v,
        resources: reg.resourcesIn(g.name, v).map(aggregatedResource),
        freshness: 'Current',
      })),
    })),
  };
}

export function discoveryContentType(version: 'v2' | 'v2beta1'): string {
  return `application/json;g=apidiscovery.k8s.io;v=${version};as=APIGroupDiscoveryList`;
}
