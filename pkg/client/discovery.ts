/**
 * Discovery as client-go's `ServerPreferredResources`: every group's preferred version, read
 * from /api and /apis, with the resources each serves (subresources left out). Failed groups are
 * reported, not fatal, as upstream's ErrGroupDiscoveryFailed.
 */
import type { RestClient } from './rest.js';

/** One resource as discovery describes it. */
export interface APIResource {
  group: string;
  version: string;
  /** The plural, e.g. `deployments`. */
  resource: string;
  kind: string;
  namespaced: boolean;
  verbs: string[];
}

export interface DiscoveryResult {
  resources: APIResource[];
  /** groupVersion → error, for the groups that could not be read. */
  failed: Map<string, Error>;
}

/** The error upstream reports when some groups failed. */
export class GroupDiscoveryFailedError extends Error {
  constructor(readonly groups: Map<string, Error>) {
    const parts = [...groups.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([gv, e]) => `${gv}: ${e.message}`);
    super(`unable to retrieve the complete list of server APIs: ${parts.join(', ')}`);
    this.name = 'GroupDiscoveryFailedError';
  }
}

interface APIResourceListJSON {
  groupVersion: string;
  resources: { name: string; kind: string; namespaced: boolean; verbs: string[] }[];
}

export async function discoverPreferredResources(client: RestClient, signal?: AbortSignal): Promise<DiscoveryResult> {
  const groupVersions: { group: string; version: string }[] = [];
  const core = await client.request<{ versions: string[] }>('GET', '/api', { signal });
  for (const v of core.versions ?? []) groupVersions.push({ group: '', version: v });
  const groups = await client.request<{ groups: { name: string; preferredVersion?: { version: string }; versions: { version: string }[] }[] }>('GET', '/apis', { signal });
  for (const g of groups.groups ?? []) {
    const version = g.preferredVersion?.version ?? g.versions[0]?.version;
    if (version) groupVersions.push({ group: g.name, version });
  }
  const failed = new Map<string, Error>();
  const lists = await Promise.all(
    groupVersions.map(async ({ group, version }) => {
      const gv = group ? `${group}/${version}` : version;
      try {
        const path = group ? `/apis/${group}/${version}` : `/api/${version}`;
        return { group, version, list: await client.request<APIResourceListJSON>('GET', path, { signal }) };
      } catch (e) {
        failed.set(gv, e instanceof Error ? e : new Error(String(e)));
        return undefined;
      }
    }),
  );
  const resources: APIResource[] = [];
  for (const l of lists) {
    if (!l) continue;
    for (const r of l.list.resources ?? []) {
      if (r.name.includes('/')) continue;
      resources.push({ group: l.group, version: l.version, resource: r.name, kind: r.kind, namespaced: r.namespaced, verbs: r.verbs ?? [] });
    }
  }
  return { resources, failed };
}

/** Resources that support all of the verbs (discovery.SupportsAllVerbs). */
export function supportingAllVerbs(resources: APIResource[], verbs: string[]): APIResource[] {
  return resources.filter((r) => verbs.every((v) => r.verbs.includes(v)));
}

/** `apps/v1` or `v1`. */
export function apiVersionOf(r: { group: string; version: string }): string {
  return r.group ? `${r.group}/${r.version}` : r.version;
}

/** Splits `apps/v1` into group and version. */
export function parseAPIVersion(apiVersion: string): { group: string; version: string } {
  const i = apiVersion.indexOf('/');
  return i < 0 ? { group: '', version: apiVersion } : { group: apiVersion.slice(0, i), version: apiVersion.slice(i + 1) };
}

/**
 * Maps kinds to resources, as a RESTMapper does. A kind is looked up by group and kind; the
 * version in an ownerReference need not be the preferred one.
 */
export class RESTMapper {
  private byGroupKind = new Map<string, APIResource>();

  constructor(resources: APIResource[] = []) {
    this.reset(resources);
  }

  reset(resources: APIResource[]): void {
    this.byGroupKind = new Map(resources.map((r) => [`${r.group}/${r.kind}`, r]));
  }

  /** The resource serving `kind` in the group of `apiVersion`, or undefined when unknown. */
  mapping(apiVersion: string, kind: string): APIResource | undefined {
    return this.byGroupKind.get(`${parseAPIVersion(apiVersion).group}/${kind}`);
  }
}
