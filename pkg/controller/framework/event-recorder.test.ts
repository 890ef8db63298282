import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import type { CoreEvent } from '../../api/types.js';
import { ApiError } from '../../client/rest.js';
import { FakeClock } from './clock.js';
import { EventBroadcaster, type EventSink } from './event-recorder.js';
import { ControllerExpectations, UIDTrackingControllerExpectations, expectationsTimeoutMs } from './expectations.js';

class MemorySink implements EventSink {
  events = new Map<string, CoreEvent>();
  creates = 0;
  patches = 0;
  async create(ns: string, ev: CoreEvent): Promise<CoreEvent> {
    this.creates++;
    this.events.set(`${ns}/${ev.metadata.name}`, structuredClone(ev));
    return ev;
  }
  async patch(ns: string, name: string, p: Record<string, unknown>): Promise<CoreEvent> {
    this.patches++;
    const ev = this.events.get(`${ns}/${name}`);
    if (!ev) throw new ApiError(404, { reason: 'NotFound', code: 404 }, 'not found');
    Object.assign(ev, p);
    return ev;
  }
}

const rs = { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { namespace: 'ns', name: 'web-abc', uid: 'u1', resourceVersion: '5' } };

test('events carry upstream fields; a repeat patches count and lastTimestamp', async () => {
  const clock = new FakeClock();
  const sink = new MemorySink();
  const b = new EventBroadcaster({ sink, clock, logger: pino({ level: 'silent' }), host: 'node1' });
  const r = b.newRecorder('replicaset-controller');
  r.event(rs, 'Normal', 'SuccessfulCreate', 'Created pod: web-abc-1');
  await b.flush();
  assert.equal(sink.events.size, 1);
  const [ev] = [...sink.events.values()];
  assert.match(ev!.metadata.name!, /^web-abc\.[0-9a-f]+$/);
  assert.equal(ev!.metadata.namespace, 'ns');
  assert.deepEqual(ev!.involvedObject, { kind: 'ReplicaSet', namespace: 'ns', name: 'web-abc', uid: 'u1', apiVersion: 'apps/v1', resourceVersion: '5' });
  assert.equal(ev!.count, 1);
  assert.equal(ev!.type, 'Normal');
  assert.deepEqual(ev!.source, { component: 'replicaset-controller', host: 'node1' });
  assert.equal(ev!.reportingComponent, 'replicaset-controller');

  clock.step(60_000);
  r.event(rs, 'Normal', 'SuccessfulCreate', 'Created pod: web-abc-1');
  r.event(rs, 'Normal', 'SuccessfulCreate', 'Created pod: web-abc-2');
  await b.flush();
  assert.equal(sink.creates, 2, 'a different message is a different event');
  assert.equal(sink.patches, 1);
  assert.equal(ev!.metadata.name, [...sink.events.values()][0]!.metadata.name);
  const patched = [...sink.events.values()][0]!;
  assert.equal(patched.count, 2);
  assert.notEqual(patched.lastTimestamp, patched.firstTimestamp);

  // Past the dedup window, the same event starts a new Event object.
  clock.step(11 * 60_000);
  r.event(rs, 'Normal', 'SuccessfulCreate', 'Created pod: web-abc-1');
  await b.flush();
  assert.equal(sink.creates, 3);
});

test('more than ten distinct messages for one reason are combined', async () => {
  const clock = new FakeClock();
  const sink = new MemorySink();
  const b = new EventBroadcaster({ sink, clock, logger: pino({ level: 'silent' }) });
  const r = b.newRecorder('replicaset-controller');
  for (let i = 0; i < 14; i++) r.event(rs, 'Warning', 'FailedCreate', `Error creating: ${i}`);
  await b.flush();
  const combined = [...sink.events.values()].filter((e) => e.message!.startsWith('(combined from similar events): '));
  assert.equal(combined.length, 1);
  assert.equal(combined[0]!.count, 4);
  assert.equal(combined[0]!.message, '(combined from similar events): Error creating: 13');
});

test('expectations: satisfied when observed or after five minutes', () => {
  const clock = new FakeClock();
  const e = new ControllerExpectations(clock);
  assert.equal(e.satisfiedExpectations('ns/rs'), true, 'no expectations: sync');
  e.expectCreations('ns/rs', 2);
  assert.equal(e.satisfiedExpectations('ns/rs'), false);
  e.creationObserved('ns/rs');
  assert.equal(e.satisfiedExpectations('ns/rs'), false);
  e.creationObserved('ns/rs');
  assert.equal(e.satisfiedExpectations('ns/rs'), true);
  e.expectDeletions('ns/rs', 1);
  assert.equal(e.satisfiedExpectations('ns/rs'), false);
  clock.step(expectationsTimeoutMs + 1);
  assert.equal(e.satisfiedExpectations('ns/rs'), true, 'expired');

  const u = new UIDTrackingControllerExpectations(clock);
  u.expectDeletionsOf('ns/rs', ['ns/p1', 'ns/p2']);
  u.deletionObservedOf('ns/rs', 'ns/p1');
  u.deletionObservedOf('ns/rs', 'ns/p1');
  u.deletionObservedOf('ns/rs', 'ns/other');
  assert.deepEqual(u.get('ns/rs'), { add: 0, del: 1 }, 'each pod counts once');
  u.deletionObservedOf('ns/rs', 'ns/p2');
  assert.equal(u.satisfiedExpectations('ns/rs'), true);
});
