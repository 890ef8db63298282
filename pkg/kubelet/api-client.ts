/**
 * The kubelet's apiserver access: pkg/client's RestClient (wire-JSON objects, client-node's
 * KubeConfig for authentication and TLS) addressed by path, plus a field-selected ListWatch for
 * the pods bound to this node. The listing goes through the same client, so listed and watched
 * objects have the same shape (timestamps as strings, as in pkg/api/types).
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { ListWatch, Watch } from '../client/client-node.js';
import { ApiError, isApiError, RestClient } from '../client/rest.js';
import { loadKubeConfig } from '../client/kubeconfig.js';
import { kubernetesVersion } from '../apiserver/version.js';

export { ApiError };

export function isApiNotFound(e: unknown): boolean {
  return isApiError(e) && e.code === 404;
}

export function isApiConflict(e: unknown): boolean {
  return isApiError(e) && e.code === 409;
}

export class ApiClient {
  readonly kc: KubeConfig;
  private readonly rest: RestClient;

  constructor(kubeconfig: string | KubeConfig) {
    this.kc = typeof kubeconfig === 'string' ? loadKubeConfig(kubeconfig) : kubeconfig;
    this.rest = new RestClient(this.kc, `kubelet/${kubernetesVersion.gitVersion}`);
  }

  request<T = any>(method: string, path: string, body?: unknown, contentType?: string): Promise<T> {
    return this.rest.request<T>(method, path, { body, contentType });
  }

  get<T = any>(path: string): Promise<T> {
    return this.request<T>('GET', path);
  }

  create<T = any>(path: string, obj: unknown): Promise<T> {
    return this.request<T>('POST', path, obj);
  }

  update<T = any>(path: string, obj: unknown): Promise<T> {
    return this.request<T>('PUT', path, obj);
  }

  jsonPatch<T = any>(path: string, ops: unknown[]): Promise<T> {
    return this.request<T>('PATCH', path, ops, 'application/json-patch+json');
  }

  mergePatch<T = any>(path: string, patch: unknown): Promise<T> {
    return this.request<T>('PATCH', path, patch, 'application/merge-patch+json');
  }

  delete<T = any>(path: string, options?: unknown): Promise<T> {
    return this.request<T>('DELETE', path, options);
  }

  /** A ListWatch (not started) over `path`, restricted by a field selector. */
  listWatch<T>(path: string, fieldSelector?: string): ListWatch<any> {
    const q = fieldSelector ? `?fieldSelector=${encodeURIComponent(fieldSelector)}` : '';
    const listFn = () => this.get<{ metadata: { resourceVersion?: string }; items: T[] }>(`${path}${q}`);
    return new ListWatch<any>(path, new Watch(this.kc), listFn as never, false, undefined, fieldSelector);
  }

  close(): Promise<void> {
    return this.rest.close();
  }
}
