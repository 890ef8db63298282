/**
 * Controller expectations, as controller_utils.go: a controller that creates or deletes children
 * records how many it expects to see, and does not act on that key again until its informers have
 * observed them all, or until the expectations are five minutes old (a lost watch event must not
 * put a controller to sleep forever).
 *
 * - A key with no expectations is satisfied (never synced, or deleted).
 * - Once set, expectations are only lowered, by observations.
 */
import type { Clock } from './clock.js';

/** How long expectations hold before they are treated as met. */
export const expectationsTimeoutMs = 5 * 60 * 1000;

interface ControlleeExpectations {
  add: number;
  del: number;
  timestamp: number;
}

export class ControllerExpectations {
  protected readonly store = new Map<string, ControlleeExpectations>();

  constructor(protected readonly clock: Clock) {}

  get(key: string): { add: number; del: number } | undefined {
    const e = this.store.get(key);
    return e ? { add: e.add, del: e.del } : undefined;
  }

  /** True when the key may sync: no expectations, all observed, or expired. */
  satisfiedExpectations(key: string): boolean {
    const e = this.store.get(key);
    if (!e) return true;
    if (e.add <= 0 && e.del <= 0) return true;
    return this.clock.now() - e.timestamp > expectationsTimeoutMs;
  }

  setExpectations(key: string, add: number, del: number): void {
    this.store.set(key, { add, del, timestamp: this.clock.now() });
  }

  expectCreations(key: string, adds: number): void {
    this.setExpectations(key, adds, 0);
  }

  expectDeletions(key: string, dels: number): void {
    this.setExpectations(key, 0, dels);
  }

  lowerExpectations(key: string, add: number, del: number): void {
    const e = this.store.get(key);
    if (!e) return;
    e.add -= add;
    e.del -= del;
  }

  raiseExpectations(key: string, add: number, del: number): void {
    const e = this.store.get(key);
    if (!e) return;
    e.add += add;
    e.del += del;
  }

  creationObserved(key: string): void {
    this.lowerExpectations(key, 1, 0);
  }

  deletionObserved(key: string): void {
    this.lowerExpectations(key, 0, 1);
  }

  deleteExpectations(key: string): void {
    this.store.delete(key);
  }
}

/**
 * Expectations that remember which pods (by `ns/name`) a controller deleted, so that a pod
 * seen first with a deletionTimestamp and then gone counts once (UIDTrackingControllerExpectations).
 */
export class UIDTrackingControllerExpectations extends ControllerExpectations {
  private readonly uids = new Map<string, Set<string>>();

  expectDeletionsOf(key: string, deleteKeys: string[]): void {
    this.uids.set(key, new Set(deleteKeys));
    this.expectDeletions(key, deleteKeys.length);
  }

  /** Records that `deleteKey` went away, if it was one `key` expected. */
  deletionObservedOf(key: string, deleteKey: string): void {
    const set = this.uids.get(key);
    if (set?.has(deleteKey)) {
      set.delete(deleteKey);
      this.deletionObserved(key);
    }
  }

  override deleteExpectations(key: string): void {
    super.deleteExpectations(key);
    this.uids.delete(key);
  }
}
