/**
 * Helpers for the scheduler's integration tests against a real apiserver: make nodes with
 * capacity, labels and taints, make pods, and wait for what the scheduler does to them.
 */
import type { Node, Pod } from '../api-types.js';

export interface ApiResponse {
  status: number;
  body: any;
}

export class TestCluster {
  constructor(readonly url: string) {}

  async req(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<ApiResponse> {
    const r = await fetch(this.url + path, { method, headers: body === undefined ? {} : { 'Content-Type': contentType }, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await r.text();
    let parsed: any;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = text;
    }
    return { status: r.status, body: parsed };
  }

  private async must(method: string, path: string, body?: unknown, contentType?: string): Promise<any> {
    const r = await this.req(method, path, body, contentType);
    if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  }

  /** Creates a Node and sets its capacity and allocatable, as a kubelet would. */
  async createNode(node: Node): Promise<void> {
    const { status, ...rest } = node;
    await this.must('POST', '/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', ...rest });
    await this.must('PATCH', `/api/v1/nodes/${node.metadata!.name}/status`, { status: { ...status, conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'test node' }] } }, 'application/merge-patch+json');
  }

  async deleteNode(name: string): Promise<void> {
    await this.req('DELETE', `/api/v1/nodes/${name}`);
  }

  async createNamespace(name: string): Promise<void> {
    const r = await this.req('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
    if (r.status >= 300 && r.status !== 409) throw new Error(`create namespace ${name}: ${r.status}`);
  }

  async createPod(pod: Pod): Promise<Pod> {
    const { status: _s, ...rest } = pod;
    const m = { ...rest.metadata };
    delete m.uid;
    return this.must('POST', `/api/v1/namespaces/${pod.metadata!.namespace}/pods`, { ...rest, metadata: m, apiVersion: 'v1', kind: 'Pod' });
  }

  async getPod(ns: string, name: string): Promise<Pod | undefined> {
    const r = await this.req('GET', `/api/v1/namespaces/${ns}/pods/${name}`);
    return r.status === 200 ? r.body : undefined;
  }

  async deletePod(ns: string, name: string): Promise<void> {
    await this.req('DELETE', `/api/v1/namespaces/${ns}/pods/${name}`, { kind: 'DeleteOptions', apiVersion: 'v1', gracePeriodSeconds: 0 });
  }

  async listPods(ns: string): Promise<Pod[]> {
    return (await this.must('GET', `/api/v1/namespaces/${ns}/pods`)).items;
  }

  async deleteAllPods(ns: string): Promise<void> {
    for (const p of await this.listPods(ns)) await this.deletePod(ns, p.metadata!.name!);
  }

  async createObject(path: string, obj: unknown): Promise<any> {
    return this.must('POST', path, obj);
  }

  async events(ns: string, name: string): Promise<{ reason: string; message: string; type: string; source?: { component?: string } }[]> {
    const items = (await this.must('GET', `/api/v1/namespaces/${ns}/events`)).items as any[];
    return items.filter((e) => e.involvedObject?.name === name);
  }

  /** Polls `f` until it returns a value that is not undefined/false, or throws after `timeoutMs`. */
  async waitFor<T>(what: string, f: () => Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    for (;;) {
      try {
        const v = await f();
        if (v !== undefined && v !== false) return v;
      } catch (e) {
        last = e;
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Waits until the pod is bound and returns its node. */
  async waitForNode(ns: string, name: string, timeoutMs?: number): Promise<string> {
    return this.waitFor(`${ns}/${name} to be bound`, async () => (await this.getPod(ns, name))?.spec?.nodeName || undefined, timeoutMs);
  }

  /** Waits for the pod's PodScheduled=False condition and returns its message. */
  async waitForUnschedulable(ns: string, name: string, timeoutMs?: number): Promise<string> {
    return this.waitFor(
      `${ns}/${name} to be marked unschedulable`,
      async () => {
        const c = (await this.getPod(ns, name))?.status?.conditions?.find((x) => x.type === 'PodScheduled');
        return c?.status === 'False' && c.reason === 'Unschedulable' ? c.message : undefined;
      },
      timeoutMs,
    );
  }
}
