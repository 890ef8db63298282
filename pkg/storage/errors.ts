/**
 * Storage errors. The storage layer knows keys and revisions, not resources; the registry turns
 * these into the Status a client sees (NotFound, AlreadyExists, Conflict, Expired).
 */
export type StorageErrorCode = 'KeyNotFound' | 'KeyExists' | 'Conflict' | 'Compacted' | 'FutureRevision' | 'Unreachable';

export class StorageError extends Error {
  constructor(
    readonly code: StorageErrorCode,
    readonly key: string,
    message?: string,
  ) {
    super(message ?? `${code}: ${key}`);
  }
}

export function isStorageError(e: unknown, code?: StorageErrorCode): e is StorageError {
  return e instanceof StorageError && (code === undefined || e.code === code);
}

/** Maps an etcd client error about revisions to a StorageError; anything else is returned as is. */
export function fromEtcdError(err: unknown, key: string): unknown {
  const msg = err instanceof Error ? err.message : String(err);
  if (msg.includes('required revision has been compacted')) return new StorageError('Compacted', key, msg);
  if (msg.includes('required revision is a future revision')) return new StorageError('FutureRevision', key, msg);
  return err;
}
