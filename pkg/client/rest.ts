/**
 * A JSON REST client for controllers, built on @kubernetes/client-node's KubeConfig for
 * authentication and TLS.
 *
 * Why not client-node's generated API classes: they turn timestamps into `Date` and drop every
 * field their models do not know, so a controller that reads, changes and writes back an object
 * would lose fields. Controllers here handle objects exactly as they travel on the wire (the
 * `Wire<T>` shapes of pkg/api/types.ts), and this client sends them back unchanged.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { type HttpMethod, RequestContext } from './client-node.js';
import { fetch, type Dispatcher } from 'undici';
import type { DeleteOptions, KubeObject, Status } from '../api/types.js';
import { serverURL } from './kubeconfig.js';

/** Identifies a resource on the REST API: `/api/v1/pods` or `/apis/apps/v1/deployments`. */
export interface GroupVersionResource {
  group: string;
  version: string;
  resource: string;
}

/** An error answer from the apiserver, with its metav1.Status when there was one. */
export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly status: Status | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  get reason(): string | undefined {
    return this.status?.reason;
  }
}

export function isApiError(e: unknown): e is ApiError {
  return e instanceof ApiError;
}

export const isNotFound = (e: unknown): boolean => isApiError(e) && e.code === 404;
export const isConflict = (e: unknown): boolean => isApiError(e) && e.code === 409 && e.reason === 'Conflict';
export const isAlreadyExists = (e: unknown): boolean => isApiError(e) && e.code === 409 && e.reason === 'AlreadyExists';
export const isMethodNotSupported = (e: unknown): boolean => isApiError(e) && e.code === 405;
export const isGone = (e: unknown): boolean => isApiError(e) && e.code === 410;

/** Whether the error's Status carries a cause of this type (e.g. NamespaceTerminating; the JSON field is `reason`). */
export function hasStatusCause(e: unknown, type: string): boolean {
  return isApiError(e) && (e.status?.details?.causes ?? []).some((c) => c.reason === type);
}

/** The collection path of a resource, namespaced when `namespace` is given. */
export function resourcePath(gvr: GroupVersionResource, namespace?: string, name?: string, subresource?: string): string {
  let p = gvr.group ? `/apis/${gvr.group}/${gvr.version}` : `/api/${gvr.version}`;
  if (namespace) p += `/namespaces/${encodeURIComponent(namespace)}`;
  p += `/${gvr.resource}`;
  if (name !== undefined) p += `/${encodeURIComponent(name)}`;
  if (subresource) p += `/${subresource}`;
  return p;
}

export type PatchType = 'merge' | 'strategic' | 'json';

const patchContentTypes: Record<PatchType, string> = {
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  json: 'application/json-patch+json',
};

export interface RequestOptions {
  body?: unknown;
  query?: Record<string, string | number | boolean | undefined>;
  contentType?: string;
  signal?: AbortSignal;
}

export interface ListResult<T> {
  apiVersion?: string;
  kind?: string;
  metadata: { resourceVersion?: string; continue?: string };
  items: T[];
}

/**
 * The client. One instance per component: it keeps one connection pool (client-node builds a
 * new undici Agent for every request it authenticates, which would open a connection per call).
 */
export class RestClient {
  private dispatcher: Dispatcher | undefined;
  private readonly base: string;

  constructor(
    readonly kubeConfig: KubeConfig,
    private readonly userAgent = 'keelson',
  ) {
    this.base = serverURL(kubeConfig);
  }

  async request<T = any>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const url = new URL(this.base + path);
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const ctx = new RequestContext(url.toString(), method as HttpMethod);
    await this.kubeConfig.applySecurityAuthentication(ctx);
    this.dispatcher ??= ctx.getDispatcher() as Dispatcher | undefined;
    const headers: Record<string, string> = { ...ctx.getHeaders(), Accept: 'application/json', 'User-Agent': this.userAgent };
    let body: string | undefined;
    if (opts.body !== undefined) {
      body = JSON.stringify(opts.body);
      headers['Content-Type'] = opts.contentType ?? 'application/json';
    }
    const res = await fetch(url, { method, headers, body, dispatcher: this.dispatcher, signal: opts.signal });
    const text = await res.text();
    let parsed: any;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (res.status >= 400) {
      const status = parsed && parsed.kind === 'Status' ? (parsed as Status) : undefined;
      throw new ApiError(res.status, status, status?.message ?? `${method} ${path}: ${res.status} ${text.slice(0, 200)}`);
    }
    return parsed as T;
  }

  get<T extends KubeObject>(gvr: GroupVersionResource, namespace: string | undefined, name: string, signal?: AbortSignal): Promise<T> {
    return this.request<T>('GET', resourcePath(gvr, namespace, name), { signal });
  }

  list<T extends KubeObject>(gvr: GroupVersionResource, namespace?: string, query: RequestOptions['query'] = {}, signal?: AbortSignal): Promise<ListResult<T>> {
    return this.request<ListResult<T>>('GET', resourcePath(gvr, namespace), { query, signal });
  }

  create<T extends KubeObject>(gvr: GroupVersionResource, namespace: string | undefined, obj: T, signal?: AbortSignal): Promise<T> {
    return this.request<T>('POST', resourcePath(gvr, namespace), { body: obj, signal });
  }

  /** PUT of the whole object; its metadata.resourceVersion makes it a compare-and-swap. */
  update<T extends KubeObject>(gvr: GroupVersionResource, obj: T, subresource?: string, signal?: AbortSignal): Promise<T> {
    const m = obj.metadata ?? {};
    return this.request<T>('PUT', resourcePath(gvr, m.namespace || undefined, m.name!, subresource), { body: obj, signal });
  }

  updateStatus<T extends KubeObject>(gvr: GroupVersionResource, obj: T, signal?: AbortSignal): Promise<T> {
    return this.update(gvr, obj, 'status', signal);
  }

  patch<T extends KubeObject>(gvr: GroupVersionResource, namespace: string | undefined, name: string, type: PatchType, patch: unknown, subresource?: string, signal?: AbortSignal): Promise<T> {
    return this.request<T>('PATCH', resourcePath(gvr, namespace, name, subresource), { body: patch, contentType: patchContentTypes[type], signal });
  }

  /** DELETE with options (propagationPolicy, preconditions, gracePeriodSeconds). */
  delete(gvr: GroupVersionResource, namespace: string | undefined, name: string, options: DeleteOptions = {}, signal?: AbortSignal): Promise<KubeObject> {
    return this.request('DELETE', resourcePath(gvr, namespace, name), {
      body: { kind: 'DeleteOptions', apiVersion: 'v1', ...options },
      signal,
    });
  }

  deleteCollection(gvr: GroupVersionResource, namespace: string | undefined, options: DeleteOptions = {}, query: RequestOptions['query'] = {}, signal?: AbortSignal): Promise<KubeObject> {
    return this.request('DELETE', resourcePath(gvr, namespace), { body: { kind: 'DeleteOptions', apiVersion: 'v1', ...options }, query, signal });
  }

  /** Closes the connection pool. */
  async close(): Promise<void> {
    const d = this.dispatcher;
    this.dispatcher = undefined;
    if (d) await d.close().catch(() => undefined);
  }
}

/** The well-known resources controllers use. */
export const resources = {
  pods: { group: '', version: 'v1', resource: 'pods' },
  configMaps: { group: '', version: 'v1', resource: 'configmaps' },
  namespaces: { group: '', version: 'v1', resource: 'namespaces' },
  serviceAccounts: { group: '', version: 'v1', resource: 'serviceaccounts' },
  events: { group: '', version: 'v1', resource: 'events' },
  replicationControllers: { group: '', version: 'v1', resource: 'replicationcontrollers' },
  nodes: { group: '', version: 'v1', resource: 'nodes' },
  replicaSets: { group: 'apps', version: 'v1', resource: 'replicasets' },
  deployments: { group: 'apps', version: 'v1', resource: 'deployments' },
  leases: { group: 'coordination.k8s.io', version: 'v1', resource: 'leases' },
} satisfies Record<string, GroupVersionResource>;
