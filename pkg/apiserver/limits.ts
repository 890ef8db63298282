/**
 * The max-in-flight filter (upstream's WithMaxInFlightLimit): at most `--max-requests-inflight`
 * read requests and `--max-mutating-requests-inflight` writes are served at once; the rest are
 * answered 429 with `Retry-After: 1`. Long-running requests (watches, exec/attach/portforward,
 * proxy, followed logs) do not count, and system:masters is never limited, as upstream.
 */
import * as errors from '../api/errors.js';
import type { UserInfo } from '../auth/types.js';

export interface InflightLimits {
  /** `--max-requests-inflight` (400); 0 turns the read limit off. */
  maxRequestsInflight: number;
  /** `--max-mutating-requests-inflight` (200); 0 turns the write limit off. */
  maxMutatingRequestsInflight: number;
}

export const defaultInflightLimits: InflightLimits = { maxRequestsInflight: 400, maxMutatingRequestsInflight: 200 };

const longRunningSubresources = new Set(['exec', 'attach', 'portforward', 'proxy']);

/** Whether a request is long-running (not counted, as upstream's BasicLongRunningRequestCheck). */
export function isLongRunning(method: string, path: string, query: URLSearchParams): boolean {
  if (method === 'GET' && ['1', 'true'].includes(query.get('watch') ?? '')) return true;
  const parts = path.split('/').filter(Boolean);
  if (parts.includes('watch') && (parts[0] === 'api' || parts[0] === 'apis')) return true;
  const last = parts[parts.length - 1] ?? '';
  if (longRunningSubresources.has(last) || parts.includes('proxy')) return true;
  if (last === 'log' && ['1', 'true'].includes(query.get('follow') ?? '')) return true;
  return false;
}

export class InflightLimiter {
  private reads = 0;
  private writes = 0;

  constructor(private readonly limits: InflightLimits = defaultInflightLimits) {}

  /** Current counts, for metrics (apiserver_current_inflight_requests). */
  inflight(): { readOnly: number; mutating: number } {
    return { readOnly: this.reads, mutating: this.writes };
  }

  /**
   * Admits a request or throws a 429 StatusError (with retryAfterSeconds 1, which the apiserver
   * sends as Retry-After). Call the returned function exactly once when the response is done.
   */
  acquire(method: string, path: string, query: URLSearchParams, user?: UserInfo): () => void {
    if (isLongRunning(method, path, query)) return () => {};
    if (user?.groups.includes('system:masters')) return () => {};
    const mutating = !['GET', 'HEAD', 'OPTIONS'].includes(method.toUpperCase());
    const limit = mutating ? this.limits.maxMutatingRequestsInflight : this.limits.maxRequestsInflight;
    const current = mutating ? this.writes : this.reads;
    if (limit > 0 && current >= limit) throw errors.tooManyRequests('Too many requests, please try again later.', 1);
    if (mutating) this.writes++;
    else this.reads++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (mutating) this.writes--;
      else this.reads--;
    };
  }
}
