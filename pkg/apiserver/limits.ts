/**
 * Request limits. The max-in-flight filter (upstream's WithMaxInFlightLimit): at most
 * `--max-requests-inflight` read requests and `--max-mutating-requests-inflight` writes are served
 * at once; the rest are answered 429 with `Retry-After: 1`. The request timeout (upstream's
 * WithRequestDeadline and WithTimeoutForNonLongRunningRequests): `--request-timeout`, shortened by
 * `?timeout=`, then 504. Long-running requests (watches, exec/attach/portforward, proxy, followed
 * logs) are neither counted nor timed out, and system:masters is never limited, as upstream.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import * as errors from '../api/errors.js';
import type { UserInfo } from '../auth/types.js';
import { addWarnings, sendStatusError } from './handlers.js';
import { runWithRequestContext } from './request-context.js';

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

/** `--request-timeout`'s default (1m0s). */
export const defaultRequestTimeoutMs = 60_000;

const goDurationUnits: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, 'μs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Go's time.ParseDuration, in milliseconds; throws with Go's message for malformed input. */
export function parseGoDuration(s: string): number {
  const bad = new Error(`time: invalid duration ${JSON.stringify(s)}`);
  let rest = s;
  let sign = 1;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    if (rest[0] === '-') sign = -1;
    rest = rest.slice(1);
  }
  if (rest === '0') return 0;
  if (rest === '') throw bad;
  let total = 0;
  while (rest !== '') {
    const num = /^(\d*)(?:\.(\d*))?/.exec(rest)!;
    if (num[0] === '' || num[0] === '.') throw bad;
    rest = rest.slice(num[0].length);
    const unit = /^[^\d.]*/.exec(rest)![0];
    if (unit === '') throw new Error(`time: missing unit in duration ${JSON.stringify(s)}`);
    const factor = goDurationUnits[unit];
    if (factor === undefined) throw new Error(`time: unknown unit ${JSON.stringify(unit)} in duration ${JSON.stringify(s)}`);
    rest = rest.slice(unit.length);
    total += Number(`${num[1] || '0'}.${num[2] || '0'}`) * factor;
  }
  return sign * total;
}

/**
 * The deadline of a non-long-running request (upstream's WithRequestDeadline): the server's
 * `--request-timeout`, shortened by a positive `?timeout=` below it; a malformed `?timeout=` is a
 * 400. Undefined for long-running requests, or when the server's timeout is 0 (off).
 */
export function requestDeadlineMs(method: string, path: string, query: URLSearchParams, serverTimeoutMs: number): number | undefined {
  if (isLongRunning(method, path, query)) return undefined;
  const v = query.get('timeout');
  let requested = 0;
  if (v) {
    try {
      requested = parseGoDuration(v);
    } catch (e) {
      throw errors.badRequest(`invalid timeout specified in the request URL - ${(e as Error).message}`);
    }
  }
  if (serverTimeoutMs <= 0) return requested > 0 ? requested : undefined;
  return requested > 0 && requested < serverTimeoutMs ? requested : serverTimeoutMs;
}

/** Upstream's 504 for a request that ran out of time (apierrors.NewTimeoutError with no retry hint). */
export function requestTimeoutError(): errors.StatusError {
  const e = errors.timeout('Timeout: request did not complete within requested timeout - context deadline exceeded', 0);
  e.status.details = {};
  return e;
}

/**
 * Times a response out (upstream's WithTimeoutForNonLongRunningRequests): after `ms` the client
 * gets the 504 Status, `signal` aborts with that error so the handler can stop (admission refuses
 * to go on, so a write that had not been admitted is not stored), and whatever the handler still
 * writes is dropped. A response already under way is cut off instead, as upstream does.
 * Call `done` when the handler returns.
 */
export function startRequestTimeout(res: ServerResponse, ms: number, onTimeout?: () => void): { signal: AbortSignal; done: () => void } {
  const ac = new AbortController();
  const timer = setTimeout(() => {
    if (res.writableEnded) return;
    const err = requestTimeoutError();
    ac.abort(err);
    onTimeout?.();
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const text = JSON.stringify(err.status);
    res.writeHead(504, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-cache, private' });
    res.end(text);
    // The handler goes on until it notices; what it writes now goes nowhere.
    const r = res as unknown as Record<string, unknown>;
    r.writeHead = () => res;
    r.setHeader = () => res;
    r.write = () => true;
    r.end = () => res;
  }, ms);
  return { signal: ac.signal, done: () => clearTimeout(timer) };
}

/**
 * The outer filter every request passes (upstream's WithWarningRecorder, WithRequestDeadline and
 * the timeout filter, which run before authentication): gives the request its context (deadline
 * signal, warning recorder) and times it out. A malformed `?timeout=` is answered 400 here.
 */
export function withRequestDeadline(req: IncomingMessage, res: ServerResponse, next: () => void, serverTimeoutMs: number): void {
  const url = new URL(req.url ?? '/', 'http://x');
  let deadline: number | undefined;
  try {
    deadline = requestDeadlineMs(req.method ?? 'GET', url.pathname, url.searchParams, serverTimeoutMs);
  } catch (e) {
    sendStatusError(res, e);
    return;
  }
  const timer = deadline === undefined ? undefined : startRequestTimeout(res, deadline);
  if (timer) res.on('close', timer.done);
  const seen = new Set<string>();
  const warn = (w: string) => {
    if (seen.has(w) || res.headersSent) return;
    seen.add(w);
    addWarnings(res, [w]);
  };
  runWithRequestContext({ signal: timer?.signal, warn }, next);
}
