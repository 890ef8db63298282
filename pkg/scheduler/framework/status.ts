/**
 * The result of running a plugin: a code from a closed set and the reasons that explain it, as
 * upstream's framework.Status. Reasons are what users read in `0/3 nodes are available: …`.
 */

/**
 * - Success: the plugin ran and the pod may proceed.
 * - Error: an internal failure; the pod is retried with backoff.
 * - Unschedulable: the node does not fit now, but preemption might make room.
 * - UnschedulableAndUnresolvable: the node does not fit and preempting pods cannot change that.
 * - Wait: only from Permit, the pod waits before binding.
 * - Skip: the plugin has nothing to do for this pod (PreFilter, PreScore, Bind).
 */
export type Code = 'Success' | 'Error' | 'Unschedulable' | 'UnschedulableAndUnresolvable' | 'Wait' | 'Skip';

export class Status {
  /** The plugin that returned this status, filled in by the framework. */
  plugin = '';

  constructor(
    readonly code: Code,
    readonly reasons: readonly string[] = [],
    readonly error?: Error,
  ) {}

  static success(): Status {
    return SUCCESS;
  }

  static skip(): Status {
    return new Status('Skip');
  }

  static unschedulable(...reasons: string[]): Status {
    return new Status('Unschedulable', reasons);
  }

  static unresolvable(...reasons: string[]): Status {
    return new Status('UnschedulableAndUnresolvable', reasons);
  }

  static error(e: unknown): Status {
    const err = e instanceof Error ? e : new Error(String(e));
    return new Status('Error', [err.message], err);
  }

  isSuccess(): boolean {
    return this.code === 'Success';
  }

  isSkip(): boolean {
    return this.code === 'Skip';
  }

  /** Unschedulable or UnschedulableAndUnresolvable. */
  isRejected(): boolean {
    return this.code === 'Unschedulable' || this.code === 'UnschedulableAndUnresolvable';
  }

  message(): string {
    return this.reasons.join(', ');
  }

  withPlugin(name: string): Status {
    const s = new Status(this.code, this.reasons, this.error);
    s.plugin = name;
    return s;
  }

  toString(): string {
    return this.reasons.length ? `${this.code}: ${this.message()}` : this.code;
  }
}

const SUCCESS = new Status('Success');

/**
 * The per-node statuses of one failed attempt. Nodes that were never looked at (for example when
 * PreFilter already failed) share `absentStatus`, as upstream's NodeToStatus.
 */
export class NodeToStatus {
  private readonly map = new Map<string, Status>();
  absentStatus: Status = Status.unresolvable();

  set(node: string, s: Status): void {
    this.map.set(node, s);
  }

  /** The status of a node: its own when recorded, otherwise the absent one. */
  get(node: string): Status {
    return this.map.get(node) ?? this.absentStatus;
  }

  has(node: string): boolean {
    return this.map.has(node);
  }

  get size(): number {
    return this.map.size;
  }

  entries(): IterableIterator<[string, Status]> {
    return this.map.entries();
  }
}

/** Why an attempt failed, gathered while filtering. */
export interface Diagnosis {
  nodeToStatus: NodeToStatus;
  /** Plugins that rejected the pod on some node: only events for these bring it back. */
  unschedulablePlugins: Set<string>;
  preFilterMsg: string;
  postFilterMsg: string;
}

export function newDiagnosis(): Diagnosis {
  return { nodeToStatus: new NodeToStatus(), unschedulablePlugins: new Set(), preFilterMsg: '', postFilterMsg: '' };
}

/**
 * The error of a pod that fits no node. Its message is upstream's, byte for byte:
 * `0/N nodes are available: <PreFilterMsg>. <counted reasons, sorted>. <PostFilterMsg>`.
 */
export class FitError extends Error {
  constructor(
    readonly numAllNodes: number,
    readonly diagnosis: Diagnosis,
  ) {
    super('');
    this.name = 'FitError';
    // The message follows the diagnosis, which PostFilter completes after the error is made.
    Object.defineProperty(this, 'message', { get: () => fitErrorMessage(this.numAllNodes, this.diagnosis), configurable: true });
  }
}

export function fitErrorMessage(numAllNodes: number, d: Diagnosis): string {
  let msg = `0/${numAllNodes} nodes are available:`;
  if (d.preFilterMsg) {
    msg += ` ${d.preFilterMsg}.`;
  } else {
    const counts = new Map<string, number>();
    for (const [, s] of d.nodeToStatus.entries()) for (const r of s.reasons) counts.set(r, (counts.get(r) ?? 0) + 1);
    const absent = numAllNodes - d.nodeToStatus.size;
    if (absent > 0) for (const r of d.nodeToStatus.absentStatus.reasons) counts.set(r, (counts.get(r) ?? 0) + absent);
    // Go's sort.Strings orders by bytes; the count is part of the sorted string, as upstream.
    const parts = [...counts].map(([r, n]) => `${n} ${r}`).sort(byteCompare);
    if (parts.length) msg += ` ${parts.join(', ')}.`;
  }
  if (d.postFilterMsg) msg += ` ${d.postFilterMsg}`;
  return msg;
}

/** Byte-wise string order, as Go compares strings. */
export function byteCompare(a: string, b: string): number {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return Buffer.compare(x, y);
}
