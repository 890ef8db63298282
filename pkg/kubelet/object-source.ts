/**
 * ConfigMaps, Secrets and ServiceAccount tokens that pods reference, read from the apiserver with
 * a short-lived cache so one pod sync reads each object once (upstream's cache-based managers
 * re-read on a TTL as well).
 */
import type { ConfigMap, Secret } from '../api/types.js';
import { ApiError, isApiNotFound, type ApiClient } from './api-client.js';
import type { Clock } from './config.js';
import type { ServiceForEnv } from './env.js';

const TTL_MS = 2_000;

export interface ObjectSource {
  configMap(namespace: string, name: string): Promise<ConfigMap | null>;
  /** The namespace's Services (for service environment variables). */
  services?(namespace: string): Promise<ServiceForEnv[]>;
  secret(namespace: string, name: string): Promise<Secret | null>;
  /** A token for a ServiceAccount (TokenRequest), or null when the apiserver does not issue them. */
  serviceAccountToken(namespace: string, serviceAccount: string, req: { audience?: string; expirationSeconds?: number; podName: string; podUID: string }): Promise<{ token: string; expirationTimestamp?: string } | null>;
}

export class ApiObjectSource implements ObjectSource {
  private readonly cache = new Map<string, { at: number; value: unknown }>();

  constructor(
    private readonly api: ApiClient,
    private readonly clock: Clock,
  ) {}

  private async cached<T>(key: string, path: string): Promise<T | null> {
    const hit = this.cache.get(key);
    const now = this.clock.now();
    if (hit && now - hit.at < TTL_MS) return hit.value as T | null;
    let value: T | null;
    try {
      value = await this.api.get<T>(path);
    } catch (e) {
      if (!isApiNotFound(e)) throw e;
      value = null;
    }
    this.cache.set(key, { at: now, value });
    if (this.cache.size > 2048) for (const [k, v] of this.cache) if (now - v.at >= TTL_MS) this.cache.delete(k);
    return value;
  }

  configMap(namespace: string, name: string): Promise<ConfigMap | null> {
    return this.cached(`cm/${namespace}/${name}`, `/api/v1/namespaces/${namespace}/configmaps/${name}`);
  }

  async services(namespace: string): Promise<ServiceForEnv[]> {
    const list = await this.cached<{ items?: ServiceForEnv[] }>(`svc/${namespace}`, `/api/v1/namespaces/${namespace}/services`);
    return list?.items ?? [];
  }

  secret(namespace: string, name: string): Promise<Secret | null> {
    return this.cached(`secret/${namespace}/${name}`, `/api/v1/namespaces/${namespace}/secrets/${name}`);
  }

  async serviceAccountToken(namespace: string, serviceAccount: string, req: { audience?: string; expirationSeconds?: number; podName: string; podUID: string }) {
    const body = {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: {
        audiences: req.audience ? [req.audience] : [],
        expirationSeconds: req.expirationSeconds ?? 3607,
        boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: req.podName, uid: req.podUID },
      },
    };
    try {
      const r = await this.api.create<any>(`/api/v1/namespaces/${namespace}/serviceaccounts/${serviceAccount}/token`, body);
      return { token: String(r?.status?.token ?? ''), expirationTimestamp: r?.status?.expirationTimestamp };
    } catch (e) {
      // An apiserver without the token subresource answers 404 for the path itself.
      if (e instanceof ApiError && e.code === 404 && e.status?.details?.kind !== 'serviceaccounts') return null;
      throw e;
    }
  }
}
