import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clone, deepEqual, nowRFC3339 } from './meta.js';

const viaJSON = (v: unknown): unknown => JSON.parse(JSON.stringify(v)) as unknown;

test('clone copies as a JSON round trip does', () => {
  const cases: unknown[] = [
    null,
    0,
    'x',
    true,
    [],
    {},
    { a: 1, b: 'two', c: [1, 'x', null, { d: false }], e: { f: { g: [] } } },
    { dropped: undefined, fn: () => 1, sym: Symbol('s'), kept: 1 },
    [undefined, () => 1, Symbol('s'), Number.NaN, Infinity, -Infinity, 2],
    { nan: Number.NaN, inf: -Infinity },
    { when: new Date(0), nested: { when: new Date(86_400_000) } },
    { withToJSON: { toJSON: () => 'custom' } },
    { map: new Map([[1, 2]]), set: new Set([1]) },
    { 1: 'a', b: 'b', 0: 'c' },
  ];
  for (const c of cases) {
    const got = clone(c);
    assert.deepEqual(got, viaJSON(c));
    // Same member order too: what gets stored and served is JSON text.
    assert.equal(JSON.stringify(got), JSON.stringify(c));
  }
  assert.equal(clone(undefined), undefined);
});

test('clone is deep: changing the copy leaves the original alone', () => {
  const orig = { metadata: { labels: { a: '1' } }, spec: { containers: [{ name: 'c', args: ['x'] }] } };
  const c = clone(orig);
  c.metadata.labels.a = '2';
  c.spec.containers[0]!.args.push('y');
  assert.equal(orig.metadata.labels.a, '1');
  assert.deepEqual(orig.spec.containers[0]!.args, ['x']);
  assert.ok(deepEqual(clone(orig), orig));
});

test('clone keeps a "__proto__" member as data, as JSON.parse does', () => {
  const parsed = JSON.parse('{"__proto__":{"polluted":true},"a":{"__proto__":[1]}}') as Record<string, unknown>;
  const c = clone(parsed);
  assert.equal(Object.getPrototypeOf(c), Object.prototype);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.equal(JSON.stringify(c), JSON.stringify(parsed));
  assert.ok(Object.prototype.hasOwnProperty.call(c, '__proto__'));
});

test('clone of what JSON cannot encode throws as JSON does', () => {
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  assert.throws(() => clone(cyclic));
  assert.throws(() => clone({ big: 1n }));
});

test('nowRFC3339: second precision, also for years with a longer ISO form', () => {
  assert.equal(nowRFC3339(new Date(Date.UTC(2024, 4, 1, 10, 0, 0, 123))), '2024-05-01T10:00:00Z');
  assert.equal(nowRFC3339(new Date(0)), '1970-01-01T00:00:00Z');
  assert.equal(nowRFC3339(new Date(Date.UTC(12000, 0, 1))), '+012000-01-01T00:00:00Z');
});

test('deepEqual: member order and undefined members do not matter', () => {
  assert.ok(deepEqual({ a: 1, b: { c: [1, { d: 2 }] } }, { b: { c: [1, { d: 2 }] }, a: 1 }));
  assert.ok(deepEqual({ a: 1, u: undefined }, { a: 1 }));
  assert.ok(deepEqual({ a: 1 }, { u: undefined, a: 1 }));
  assert.ok(!deepEqual({ a: 1 }, { a: 1, b: 2 }));
  assert.ok(!deepEqual({ a: 1, b: 2 }, { a: 1, c: 2 }));
  assert.ok(!deepEqual({ a: [1, 2] }, { a: [2, 1] }));
  assert.ok(!deepEqual({ a: null }, { a: {} }));
  assert.ok(!deepEqual([], {}));
  assert.ok(!deepEqual({ a: undefined, b: 1 }, { a: 1 }));
});
