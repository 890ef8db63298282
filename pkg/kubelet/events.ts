/**
 * Events the kubelet reports about pods (Pulling, Pulled, Created, Started, Killing, BackOff,
 * Unhealthy, Failed…), as core/v1 Events with upstream's reasons. Repeats of the same event within
 * ten minutes bump `count` instead of creating a new object, as client-go's correlator does.
 * Recording never blocks or fails the caller.
 */
import crypto from 'node:crypto';
import type { Logger } from '../log/logger.js';
import type { Pod } from '../api/types.js';
import type { ApiClient } from './api-client.js';
import type { Clock } from './config.js';

export type EventType = 'Normal' | 'Warning';

interface Seen {
  name: string;
  namespace: string;
  count: number;
  first: string;
  last: number;
}

const AGGREGATE_WINDOW_MS = 10 * 60_000;

export class EventRecorder {
  private readonly seen = new Map<string, Seen>();

  constructor(
    private readonly api: ApiClient,
    private readonly nodeName: string,
    private readonly log: Logger,
    private readonly clock: Clock,
  ) {}

  /** Records an event about a pod, or one of its containers when `fieldPath` names it. */
  pod(pod: Pod, type: EventType, reason: string, message: string, fieldPath?: string): void {
    const ns = pod.metadata?.namespace ?? 'default';
    const involved: Record<string, unknown> = { kind: 'Pod', apiVersion: 'v1', namespace: ns, name: pod.metadata?.name, uid: pod.metadata?.uid };
    if (fieldPath) involved.fieldPath = fieldPath;
    this.record(ns, involved, type, reason, message);
  }

  /** Records an event about the Node. */
  node(uid: string | undefined, type: EventType, reason: string, message: string): void {
    this.record('default', { kind: 'Node', apiVersion: 'v1', name: this.nodeName, uid: uid ?? this.nodeName }, type, reason, message);
  }

  private record(namespace: string, involved: Record<string, unknown>, type: EventType, reason: string, message: string): void {
    const now = this.clock.now();
    const ts = new Date(now).toISOString().replace(/\.\d+Z$/, 'Z');
    const key = `${involved.uid}/${involved.fieldPath ?? ''}/${type}/${reason}/${message}`;
    const prev = this.seen.get(key);
    if (prev && now - prev.last < AGGREGATE_WINDOW_MS) {
      prev.count++;
      prev.last = now;
      this.api
        .mergePatch(`/api/v1/namespaces/${prev.namespace}/events/${prev.name}`, { count: prev.count, lastTimestamp: ts })
        .catch((e) => this.log.debug({ err: String(e), reason }, 'event patch failed'));
      return;
    }
    const name = `${String(involved.name)}.${crypto.randomBytes(8).toString('hex')}`;
    this.seen.set(key, { name, namespace, count: 1, first: ts, last: now });
    if (this.seen.size > 4096) {
      for (const [k, s] of this.seen) if (now - s.last >= AGGREGATE_WINDOW_MS) this.seen.delete(k);
    }
    const event = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace },
      involvedObject: involved,
      reason,
      message,
      type,
      source: { component: 'kubelet', host: this.nodeName },
      firstTimestamp: ts,
      lastTimestamp: ts,
      count: 1,
      reportingComponent: 'kubelet',
      reportingInstance: this.nodeName,
    };
    this.api.create(`/api/v1/namespaces/${namespace}/events`, event).catch((e) => this.log.debug({ err: String(e), reason }, 'event create failed'));
  }
}
