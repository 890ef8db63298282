/**
 * Events, as client-go's tools/record: controllers record core/v1 Events on the objects they act
 * on; a broadcaster writes them to the apiserver in the background.
 *
 * Like upstream's EventCorrelator:
 * - the same event (source, involved object, type, reason, message) seen again within the dedup
 *   window patches the existing Event's `count` and `lastTimestamp` instead of creating another;
 * - more than 10 distinct messages with the same reason on one object within 10 minutes are
 *   aggregated into one "(combined from similar events): …" event;
 * - a token bucket per event (burst 25, one more every 5 minutes) drops runaway spam.
 */
import type { Logger } from 'pino';
import type { CoreEvent, KubeObject } from '../../api/types.js';
import { nowRFC3339 } from '../../api/meta.js';
import { isNotFound, resources, type RestClient } from '../../client/rest.js';
import type { Clock } from './clock.js';

export type EventType = 'Normal' | 'Warning';

/** Records events on objects for one component (e.g. `deployment-controller`). */
export interface EventRecorder {
  event(obj: KubeObject, type: EventType, reason: string, message: string): void;
}

/** Where events go: the apiserver, or a fake in tests. */
export interface EventSink {
  create(namespace: string, event: CoreEvent): Promise<CoreEvent>;
  patch(namespace: string, name: string, patch: Record<string, unknown>): Promise<CoreEvent>;
}

export function eventSinkFor(client: RestClient): EventSink {
  return {
    create: (ns, ev) => client.create<CoreEvent>(resources.events, ns, { apiVersion: 'v1', kind: 'Event', ...ev }),
    patch: (ns, name, p) => client.patch<CoreEvent>(resources.events, ns, name, 'strategic', p),
  };
}

const dedupWindowMs = 10 * 60 * 1000;
const aggregateWindowMs = 10 * 60 * 1000;
const aggregateMaxDistinct = 10;
const spamBurst = 25;
const spamRefillMs = 5 * 60 * 1000;
const cacheSize = 4096;
const maxPending = 1000;

interface LoggedEvent {
  name: string;
  namespace: string;
  count: number;
  firstTimestamp: string;
  lastSeen: number;
}

/** A small LRU map: the oldest entries go once it holds `max`. */
class LRU<V> {
  private readonly m = new Map<string, V>();
  constructor(private readonly max: number) {}
  get(k: string): V | undefined {
    const v = this.m.get(k);
    if (v !== undefined) {
      this.m.delete(k);
      this.m.set(k, v);
    }
    return v;
  }
  set(k: string, v: V): void {
    this.m.delete(k);
    this.m.set(k, v);
    if (this.m.size > this.max) this.m.delete(this.m.keys().next().value!);
  }
}

export interface EventBroadcasterOptions {
  sink: EventSink;
  clock: Clock;
  logger: Logger;
  /** source.host and reportingInstance. */
  host?: string;
}

export class EventBroadcaster {
  private readonly logged = new LRU<LoggedEvent>(cacheSize);
  private readonly aggregates = new LRU<{ messages: Set<string>; since: number }>(cacheSize);
  private readonly spam = new LRU<{ tokens: number; last: number }>(cacheSize);
  private chain: Promise<void> = Promise.resolve();
  private pending = 0;
  private seq = 0;
  private stopped = false;

  constructor(private readonly opts: EventBroadcasterOptions) {}

  newRecorder(component: string): EventRecorder {
    return { event: (obj, type, reason, message) => this.record(component, obj, type, reason, message) };
  }

  /** Stops accepting events and waits for the ones queued to be written. */
  async shutdown(): Promise<void> {
    this.stopped = true;
    await this.chain;
  }

  /** Waits for the events queued so far (tests). */
  flush(): Promise<void> {
    return this.chain;
  }

  private record(component: string, obj: KubeObject, type: EventType, reason: string, message: string): void {
    if (this.stopped) return;
    const m = obj.metadata ?? {};
    if (!m.name) return;
    const host = this.opts.host ?? '';
    const involved = {
      kind: obj.kind,
      namespace: m.namespace || undefined,
      name: m.name,
      uid: m.uid,
      apiVersion: obj.apiVersion,
      resourceVersion: m.resourceVersion,
    };
    const objKey = [component, host, involved.kind, involved.namespace, involved.name, involved.uid, involved.apiVersion].join('\u0000');
    const now = this.opts.clock.now();

    if (!this.allowSpam([objKey, type, reason, message].join('\u0000'), now)) return;

    // Aggregate: too many distinct messages for one reason on one object become one event.
    const aggKey = [objKey, type, reason].join('\u0000');
    let agg = this.aggregates.get(aggKey);
    if (!agg || now - agg.since > aggregateWindowMs) agg = { messages: new Set(), since: now };
    agg.messages.add(message);
    this.aggregates.set(aggKey, agg);
    let finalMessage = message;
    let dedupKey = [aggKey, message].join('\u0000');
    if (agg.messages.size > aggregateMaxDistinct) {
      finalMessage = `(combined from similar events): ${message}`;
      dedupKey = [aggKey, '(combined)'].join('\u0000');
    }

    if (this.pending >= maxPending) {
      this.opts.logger.warn({ reason, object: `${involved.namespace ?? ''}/${involved.name}` }, 'dropping event: too many pending');
      return;
    }
    this.pending++;
    const timestamp = nowRFC3339(new Date(now));
    this.chain = this.chain
      .then(() => this.write(dedupKey, component, host, involved, type, reason, finalMessage, timestamp, now))
      .catch((e) => this.opts.logger.info({ reason, err: e instanceof Error ? e.message : String(e) }, 'unable to write event'))
      .finally(() => this.pending--);
  }

  private allowSpam(key: string, now: number): boolean {
    let b = this.spam.get(key);
    if (!b) b = { tokens: spamBurst, last: now };
    b.tokens = Math.min(spamBurst, b.tokens + (now - b.last) / spamRefillMs);
    b.last = now;
    const ok = b.tokens >= 1;
    if (ok) b.tokens -= 1;
    this.spam.set(key, b);
    return ok;
  }

  private async write(
    dedupKey: string,
    component: string,
    host: string,
    involved: CoreEvent['involvedObject'],
    type: EventType,
    reason: string,
    message: string,
    timestamp: string,
    now: number,
  ): Promise<void> {
    const namespace = involved.namespace || 'default';
    const prev = this.logged.get(dedupKey);
    if (prev && now - prev.lastSeen <= dedupWindowMs) {
      const count = prev.count + 1;
      try {
        await this.opts.sink.patch(prev.namespace, prev.name, { count, lastTimestamp: timestamp, message });
        this.logged.set(dedupKey, { ...prev, count, lastSeen: now });
        return;
      } catch (e) {
        if (!isNotFound(e)) throw e;
        // The event expired or was deleted: write it anew below, keeping the count.
        await this.create(dedupKey, namespace, prev.name, component, host, involved, type, reason, message, prev.firstTimestamp, timestamp, count, now);
        return;
      }
    }
    const nanos = BigInt(now) * 1_000_000n + BigInt(this.seq++ % 1_000_000);
    await this.create(dedupKey, namespace, `${involved.name}.${nanos.toString(16)}`, component, host, involved, type, reason, message, timestamp, timestamp, 1, now);
  }

  private async create(
    dedupKey: string,
    namespace: string,
    name: string,
    component: string,
    host: string,
    involved: CoreEvent['involvedObject'],
    type: EventType,
    reason: string,
    message: string,
    firstTimestamp: string,
    lastTimestamp: string,
    count: number,
    now: number,
  ): Promise<void> {
    const ev: CoreEvent = {
      metadata: { name, namespace },
      involvedObject: involved,
      reason,
      message,
      source: { component, ...(host ? { host } : {}) },
      firstTimestamp,
      lastTimestamp,
      count,
      type,
      reportingComponent: component,
      reportingInstance: host,
    };
    await this.opts.sink.create(namespace, ev);
    this.logged.set(dedupKey, { name, namespace, count, firstTimestamp, lastSeen: now });
  }
}
