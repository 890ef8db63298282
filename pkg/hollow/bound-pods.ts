/**
 * One list+watch of every bound pod (`fieldSelector=spec.nodeName!=`), shared by all hollow nodes:
 * a thousand nodes cost one watch, not a thousand.
 *
 * Why not the framework's SharedInformer: it watches a whole resource without a field selector
 * and caches every object as it came. Here the handler keeps only a few fields per pod (30,000
 * full pods would cost the process hundreds of MB), so this is the reflector half of an
 * informer alone, on client-node's Watch: list in pages, watch from the list's resourceVersion
 * with bookmarks, re-watch from the last resourceVersion when the stream ends, relist on 410.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { Watch } from '../client/client-node.js';
import type { Logger } from 'pino';
import type { Pod } from '../api/types.js';
import { isGone, resources, type RestClient } from '../client/rest.js';
import type { Clock } from '../controller/framework/clock.js';

export interface BoundPodHandler {
  /** A relist begins: every pod the handler knows that is not upserted before `endRelist` is gone. */
  beginRelist(): void;
  endRelist(): void;
  upsert(pod: Pod): void;
  remove(pod: Pod): void;
}

// Small pages: the apiserver reads a page from etcd in one gRPC message (4 MiB at most), and a
// pod with managed fields and a status is several KiB.
const pageSize = 250;
const minBackoffMs = 500;
const maxBackoffMs = 30_000;
/** The server ends a watch after this; the next one continues from the last resourceVersion. */
const watchTimeoutSeconds = 300;
const tooLargeRetryMs = 1000;

class GoneError extends Error {}

export class BoundPodWatch {
  private resourceVersion = '';
  private synced = false;

  constructor(
    private readonly kubeConfig: KubeConfig,
    private readonly client: RestClient,
    private readonly handler: BoundPodHandler,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  hasSynced(): boolean {
    return this.synced;
  }

  /** Lists and watches until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    let backoff = minBackoffMs;
    let needList = true;
    while (!signal.aborted) {
      try {
        if (needList) {
          await this.list(signal);
          needList = false;
          this.synced = true;
        }
        await this.watchOnce(signal);
        backoff = minBackoffMs;
      } catch (e) {
        if (signal.aborted) return;
        if (e instanceof GoneError || isGone(e)) {
          this.logger.info({ resourceVersion: this.resourceVersion }, 'pod watch expired; relisting');
          needList = true;
          continue;
        }
        if ((e as { statusCode?: number }).statusCode === 504) {
          // "Too large resource version": the apiserver's watch cache has not yet seen the
          // revision the list was read at. Retry at the pace the server asks (1 s), without
          // growing the backoff, so the first pods are not seen late.
          this.logger.debug({ resourceVersion: this.resourceVersion }, 'pod watch: resource version not yet in the watch cache; retrying');
          await this.clock.sleep(tooLargeRetryMs, signal);
          continue;
        }
        this.logger.warn({ err: e instanceof Error ? e.message : String(e), retryInMs: backoff }, 'pod list/watch failed');
        await this.clock.sleep(backoff, signal);
        backoff = Math.min(maxBackoffMs, backoff * 2);
      }
    }
  }

  private async list(signal: AbortSignal): Promise<void> {
    this.handler.beginRelist();
    let cont: string | undefined;
    let rv = '';
    do {
      const page = await this.client.list<Pod>(resources.pods, undefined, { fieldSelector: 'spec.nodeName!=', limit: pageSize, continue: cont }, signal);
      for (const p of page.items ?? []) this.handler.upsert(p);
      cont = page.metadata?.continue || undefined;
      rv = page.metadata?.resourceVersion ?? rv;
    } while (cont && !signal.aborted);
    this.handler.endRelist();
    this.resourceVersion = rv;
  }

  /** One watch request; resolves when the stream ends cleanly, throws GoneError on 410. */
  private watchOnce(signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let gone = false;
      let settled = false;
      const finish = (err?: unknown) => {
        if (settled) return;
        settled = true;
        signal.removeEventListener('abort', onAbort);
        if (gone) reject(new GoneError('resource version expired'));
        else if (err && !signal.aborted) reject(err instanceof Error ? err : new Error(String(err)));
        else resolve();
      };
      let controller: AbortController | undefined;
      const onAbort = () => {
        controller?.abort();
        finish();
      };
      signal.addEventListener('abort', onAbort, { once: true });
      const watch = new Watch(this.kubeConfig);
      // client-node aborts a watch quiet for 30 s; that only means re-watching from the last
      // resourceVersion (bookmarks keep it current), which the watch cache serves cheaply.
      watch
        .watch(
          '/api/v1/pods',
          { fieldSelector: 'spec.nodeName!=', resourceVersion: this.resourceVersion, allowWatchBookmarks: true, timeoutSeconds: watchTimeoutSeconds },
          (type: string, obj: any) => {
            if (settled) return;
            if (type === 'ERROR') {
              if (obj?.code === 410) gone = true;
              else this.logger.warn({ status: obj?.message }, 'pod watch error event');
              controller?.abort();
              finish(gone ? undefined : new Error(obj?.message ?? 'watch error'));
              return;
            }
            const rv = obj?.metadata?.resourceVersion;
            if (rv) this.resourceVersion = rv;
            if (type === 'ADDED' || type === 'MODIFIED') this.handler.upsert(obj as Pod);
            else if (type === 'DELETED') this.handler.remove(obj as Pod);
          },
          (err: unknown) => {
            // client-node reports its inactivity timeout as an error: the stream was only quiet.
            if (err instanceof Error && err.name === 'TimeoutError') finish();
            else if ((err as { statusCode?: number } | null)?.statusCode === 410) {
              gone = true;
              finish();
            } else finish(err ?? undefined);
          },
        )
        .then(
          (c) => {
            controller = c;
            if (settled) c.abort();
          },
          (e: unknown) => finish(e),
        );
    });
  }
}
