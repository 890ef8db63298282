/**
 * What upstream carries in a request's context.Context and keelson carries in an
 * AsyncLocalStorage: the request's deadline (an AbortSignal that fires on `--request-timeout` or
 * `?timeout=`) and its warning recorder (upstream's warning.AddWarning, sent as `Warning: 299`
 * headers). Code deep in a request (admission plugins) reads them without threading parameters.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

export interface RequestContext {
  /** Aborts when the request's deadline passes; its reason is the 504 StatusError. */
  signal?: AbortSignal;
  /** Records a warning for the client. */
  warn?: (message: string) => void;
}

const storage = new AsyncLocalStorage<RequestContext>();

/** Runs fn with ctx as the current request's context. */
export function runWithRequestContext<T>(ctx: RequestContext, fn: () => T): T {
  return storage.run(ctx, fn);
}

/** The current request's context, if any. */
export function currentRequestContext(): RequestContext | undefined {
  return storage.getStore();
}

/** Records a warning on the current request (no-op outside one), as upstream's warning.AddWarning. */
export function addRequestWarning(message: string): void {
  storage.getStore()?.warn?.(message);
}

/** Throws the deadline's StatusError if the current request's deadline has passed. */
export function throwIfRequestExpired(): void {
  const s = storage.getStore()?.signal;
  if (s?.aborted) throw s.reason;
}
