/**
 * managedFields bookkeeping and server-side apply, on the Deployment, Service and ConfigMap
 * schemas: ownership moving with updates, apply merges and removals, conflicts (upstream's
 * messages), force, the client-side-apply upgrade, resets and the entries' encoding.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../api/types.js';
import { StatusError } from '../../api/errors.js';
import { deploymentResource } from '../../registry/apps/deployment.js';
import { configMapResource } from '../../registry/core/config-map.js';
import { serviceResource } from '../../registry/core/service.js';
import type { ResourceDef } from '../../registry/types.js';
import { applyManagedFields, updateManagedFields, decodeManagedFields, encodeManagedFields, managerIdentifier, lastAppliedAnnotation, type ManagedFieldsEntry } from './managed-fields.js';
import { requestContext, managerFromRequest, validatePatchOptions } from './request.js';

const t0 = new Date('2024-05-01T10:00:00.123Z');
const t1 = new Date('2024-05-01T11:00:00Z');
const t2 = new Date('2024-05-01T12:00:00Z');

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

function upd(def: ResourceDef, manager: string, live: KubeObject | undefined, next: KubeObject, now = t1, sub?: string): KubeObject {
  return updateManagedFields(requestContext(def, sub, manager, now), live ? clone(live) : undefined, clone(next));
}

function apply(def: ResourceDef, manager: string, live: KubeObject | undefined, config: KubeObject, opts: { force?: boolean; now?: Date; sub?: string } = {}): KubeObject {
  return applyManagedFields({ ...requestContext(def, opts.sub, manager, opts.now ?? t1), force: !!opts.force }, live ? clone(live) : undefined, clone(config));
}

const entries = (o: KubeObject) => (o.metadata?.managedFields ?? []) as ManagedFieldsEntry[];
const entry = (o: KubeObject, manager: string, operation?: string) => entries(o).find((e) => e.manager === manager && (!operation || e.operation === operation));
const summary = (o: KubeObject) => entries(o).map((e) => `${e.manager}/${e.operation}${e.subresource ? `/${e.subresource}` : ''}`);

function conflictOf(fn: () => unknown): StatusError {
  try {
    fn();
  } catch (e) {
    if (e instanceof StatusError) return e;
    throw e;
  }
  assert.fail('expected a conflict');
}

const deploy = (replicas = 2, image = 'nginx:1.25'): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: 'default', labels: { app: 'web' } },
  spec: { replicas, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'nginx', image }] } } },
});

/** The object as stored after a create: system metadata and a few defaults. */
function stored(o: KubeObject): KubeObject {
  const s = clone(o);
  Object.assign(s.metadata!, { uid: 'uid-1', creationTimestamp: '2024-05-01T09:00:00Z', generation: 1 });
  s.spec.strategy = { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } };
  s.spec.template.spec.containers[0].terminationMessagePath = '/dev/termination-log';
  s.spec.template.spec.securityContext = {};
  return s;
}

test('create records an Update entry: what the manager set, defaults included, system metadata never', () => {
  const created = upd(deploymentResource, 'kubectl-create', undefined, stored(deploy()), t0);
  assert.deepEqual(entries(created), [
    {
      manager: 'kubectl-create',
      operation: 'Update',
      apiVersion: 'apps/v1',
      time: '2024-05-01T10:00:00Z',
      fieldsType: 'FieldsV1',
      fieldsV1: {
        'f:metadata': { 'f:labels': { 'f:app': {}, '.': {} } },
        'f:spec': {
          'f:replicas': {},
          'f:selector': {},
          'f:strategy': { 'f:rollingUpdate': { 'f:maxSurge': {}, 'f:maxUnavailable': {}, '.': {} }, 'f:type': {} },
          'f:template': {
            'f:metadata': { 'f:labels': { 'f:app': {}, '.': {} } },
            'f:spec': {
              'f:containers': { 'k:{"name":"nginx"}': { 'f:image': {}, 'f:name': {}, 'f:terminationMessagePath': {}, '.': {} } },
              'f:securityContext': {},
            },
          },
        },
      },
    },
  ]);
});

test('an update takes the fields it changed from their owner; unchanged writes leave the entries alone', () => {
  const created = upd(deploymentResource, 'kubectl-create', undefined, stored(deploy()), t0);
  const scaled = clone(created);
  scaled.spec.replicas = 5;
  scaled.metadata!.labels!.tier = 'front';
  const after = upd(deploymentResource, 'kube-controller-manager', created, scaled, t2);
  assert.deepEqual(summary(after), ['kubectl-create/Update', 'kube-controller-manager/Update']);
  assert.deepEqual(entry(after, 'kube-controller-manager')!.fieldsV1, { 'f:metadata': { 'f:labels': { 'f:tier': {} } }, 'f:spec': { 'f:replicas': {} } });
  assert.equal(entry(after, 'kube-controller-manager')!.time, '2024-05-01T12:00:00Z');
  assert.equal((entry(after, 'kubectl-create')!.fieldsV1 as Record<string, Record<string, unknown>>)['f:spec']!['f:replicas'], undefined);
  // Writing the same object again changes nothing, times included.
  const again = upd(deploymentResource, 'kube-controller-manager', after, clone(after), new Date('2030-01-01T00:00:00Z'));
  assert.deepEqual(entries(again), entries(after));
  // Removing a field removes it from every owner; removing alone takes nothing.
  const removed = clone(after);
  delete removed.metadata!.labels!.tier;
  const afterRemoval = upd(deploymentResource, 'someone', after, removed);
  assert.deepEqual(summary(afterRemoval), ['kubectl-create/Update', 'kube-controller-manager/Update']);
  assert.deepEqual(entry(afterRemoval, 'kube-controller-manager')!.fieldsV1, { 'f:spec': { 'f:replicas': {} } });
});

test('status writes are recorded with subresource status; the main resource never owns status', () => {
  const created = upd(deploymentResource, 'kubectl-create', undefined, stored(deploy()), t0);
  const withStatus = clone(created);
  withStatus.status = { replicas: 2, readyReplicas: 2 };
  const s = upd(deploymentResource, 'kube-controller-manager', created, withStatus, t1, 'status');
  const e = entry(s, 'kube-controller-manager')!;
  assert.equal(e.subresource, 'status');
  assert.deepEqual(e.fieldsV1, { 'f:status': { 'f:readyReplicas': {}, 'f:replicas': {} } });
  // Through the main resource, status belongs to nobody.
  assert.equal(entry(upd(deploymentResource, 'x', created, withStatus), 'x'), undefined);
});

test('scale writes are recorded under subresource scale, without time, as upstream records them', () => {
  const created = upd(deploymentResource, 'kubectl-create', undefined, stored(deploy()), t0);
  const next = clone(created);
  next.spec.replicas = 4;
  const e = entry(upd(deploymentResource, 'kubectl', created, next, t1, 'scale'), 'kubectl')!;
  assert.deepEqual(e, { manager: 'kubectl', operation: 'Update', apiVersion: 'apps/v1', fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': { 'f:replicas': {} } }, subresource: 'scale' });
});

test('managedFields sent by the client are used; [] and [{}] reset them; invalid ones are ignored; subresources keep the live ones', () => {
  const created = upd(deploymentResource, 'kubectl-create', undefined, stored(deploy()), t0);
  const rewritten = clone(created);
  rewritten.metadata!.managedFields = [{ manager: 'mine', operation: 'Apply', apiVersion: 'apps/v1', fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': { 'f:replicas': {} } } }] as never;
  assert.deepEqual(summary(upd(deploymentResource, 'kubectl', created, rewritten)), ['mine/Apply']);
  for (const reset of [[], [{}]]) {
    const r = clone(created);
    r.metadata!.managedFields = reset as never;
    assert.equal(upd(deploymentResource, 'kubectl', created, r).metadata!.managedFields, undefined);
  }
  const invalid = clone(created);
  invalid.metadata!.managedFields = [{ manager: 'x', operation: 'Bogus' }] as never;
  assert.deepEqual(summary(upd(deploymentResource, 'kubectl', created, invalid)), ['kubectl-create/Update']);
  assert.deepEqual(summary(upd(deploymentResource, 'kubelet', created, rewritten, t1, 'status')), ['kubectl-create/Update']);
  // An object without managed fields is not tracked by updates.
  const untracked = clone(created);
  delete untracked.metadata!.managedFields;
  const changed = clone(untracked);
  changed.spec.replicas = 9;
  assert.equal(upd(deploymentResource, 'x', untracked, changed).metadata!.managedFields, undefined);
});

test('apply creates with an Apply entry owning exactly the configuration', () => {
  const obj = apply(deploymentResource, 'kubectl', undefined, deploy());
  assert.deepEqual(entries(obj), [
    {
      manager: 'kubectl',
      operation: 'Apply',
      apiVersion: 'apps/v1',
      time: '2024-05-01T11:00:00Z',
      fieldsType: 'FieldsV1',
      fieldsV1: {
        'f:metadata': { 'f:labels': { 'f:app': {} } },
        'f:spec': {
          'f:replicas': {},
          'f:selector': {},
          'f:template': { 'f:metadata': { 'f:labels': { 'f:app': {} } }, 'f:spec': { 'f:containers': { 'k:{"name":"nginx"}': { 'f:image': {}, 'f:name': {}, '.': {} } } } },
        },
      },
    },
  ]);
  assert.equal(obj.spec.replicas, 2);
});

test('re-applying the same configuration changes nothing', () => {
  const live = stored(apply(deploymentResource, 'kubectl', undefined, deploy()));
  assert.deepEqual(apply(deploymentResource, 'kubectl', live, deploy(), { now: t2 }), live);
});

test('apply removes what the manager no longer applies, unless another manager owns it', () => {
  const cfg = deploy();
  cfg.metadata!.labels!.tier = 'front';
  cfg.metadata!.annotations = { a: '1' };
  let live = stored(apply(deploymentResource, 'kubectl', undefined, cfg));
  // Another applier shares the annotation.
  live = apply(deploymentResource, 'other', live, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', annotations: { a: '1' } } });
  const next = deploy();
  delete next.spec.replicas;
  const out = apply(deploymentResource, 'kubectl', live, next, { now: t2 });
  assert.deepEqual(out.metadata!.labels, { app: 'web' });
  assert.deepEqual(out.metadata!.annotations, { a: '1' });
  assert.equal(out.spec.replicas, undefined);
  // Fields nobody applied (defaults) stay.
  assert.deepEqual(out.spec.strategy, { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } });
  assert.equal(entry(out, 'kubectl')!.time, '2024-05-01T12:00:00Z');
});

test('conflicts: upstream messages, one inline and several grouped by manager; force takes ownership', () => {
  const live = upd(deploymentResource, 'kubectl-client-side-apply', undefined, stored(deploy()), t0);
  const one = conflictOf(() => apply(deploymentResource, 'other', live, deploy(3)));
  assert.equal(one.code, 409);
  assert.equal(one.status.reason, 'Conflict');
  assert.equal(one.message, 'Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1: .spec.replicas');
  assert.deepEqual(one.status.details, { causes: [{ reason: 'FieldManagerConflict', message: 'conflict with "kubectl-client-side-apply" using apps/v1', field: '.spec.replicas' }] });
  const two = conflictOf(() => apply(deploymentResource, 'other', live, deploy(3, 'nginx:2')));
  assert.equal(
    two.message,
    'Apply failed with 2 conflicts: conflicts with "kubectl-client-side-apply" using apps/v1:\n- .spec.replicas\n- .spec.template.spec.containers[name="nginx"].image',
  );
  // Appliers are named without a version.
  const applied = apply(deploymentResource, 'first', undefined, deploy());
  assert.equal(conflictOf(() => apply(deploymentResource, 'second', applied, deploy(7))).message, 'Apply failed with 1 conflict: conflict with "first": .spec.replicas');
  // Same values are no conflict: ownership is shared.
  const shared = apply(deploymentResource, 'other', live, deploy());
  assert.deepEqual(summary(shared), ['other/Apply', 'kubectl-client-side-apply/Update']);
  // force moves the field.
  const forced = apply(deploymentResource, 'other', live, deploy(3), { force: true });
  assert.equal(forced.spec.replicas, 3);
  assert.ok(JSON.stringify(entry(forced, 'other')!.fieldsV1).includes('f:replicas'));
  assert.ok(!JSON.stringify(entry(forced, 'kubectl-client-side-apply')!.fieldsV1).includes('f:replicas'));
});

test('a status subresource owner is named with its subresource in conflicts', () => {
  const live = apply(deploymentResource, 'ctl', undefined, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, status: { replicas: 1 } }, { sub: 'status' });
  const e = conflictOf(() => apply(deploymentResource, 'other', live, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, status: { replicas: 2 } }, { sub: 'status' }));
  assert.equal(e.message, 'Apply failed with 1 conflict: conflict with "ctl" with subresource "status": .status.replicas');
});

test('kubectl --server-side after client-side apply: conflicts the annotation accounts for are taken, and the annotation follows', () => {
  const cfg = deploy();
  const csa = stored(cfg);
  csa.metadata!.annotations = { [lastAppliedAnnotation]: JSON.stringify(cfg) + '\n' };
  const live = upd(deploymentResource, 'kubectl-client-side-apply', undefined, csa, t0);
  // Another manager may not change replicas…
  assert.equal(conflictOf(() => apply(deploymentResource, 'not-kubectl', live, deploy(3))).code, 409);
  // …but kubectl may, since the live value is still the one it applied client-side.
  const out = apply(deploymentResource, 'kubectl', live, deploy(3));
  assert.equal(out.spec.replicas, 3);
  assert.deepEqual(summary(out), ['kubectl/Apply', 'kubectl-client-side-apply/Update']);
  assert.equal(
    out.metadata!.annotations![lastAppliedAnnotation],
    '{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"labels":{"app":"web"},"name":"web","namespace":"default"},"spec":{"replicas":3,"selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"image":"nginx:1.25","name":"nginx"}]}}}}\n',
  );
  // A field changed since by someone else is still a conflict.
  const drifted = clone(live);
  drifted.spec.replicas = 4;
  const driftedLive = upd(deploymentResource, 'hpa', live, drifted, t1);
  assert.match(conflictOf(() => apply(deploymentResource, 'kubectl', driftedLive, deploy(3))).message, /conflict with "hpa" using apps\/v1: \.spec\.replicas/);
});

test('the first apply to an untracked object records its existing fields as before-first-apply', () => {
  const untracked = stored(deploy());
  const out = apply(deploymentResource, 'kubectl', untracked, deploy());
  assert.deepEqual(summary(out), ['kubectl/Apply', 'before-first-apply/Update']);
  assert.match(conflictOf(() => apply(deploymentResource, 'kubectl', out, deploy(1, 'x'), { now: t2 })).message, /"before-first-apply" using apps\/v1/);
});

test('apply checks: version of the patch, managedFields in the patch, list items without keys', () => {
  assert.throws(() => apply(deploymentResource, 'k', undefined, { ...deploy(), apiVersion: 'apps/v1beta1' }), /Incorrect version specified in apply patch. Specified patch version: apps\/v1beta1, expected: apps\/v1/);
  assert.throws(() => apply(deploymentResource, 'k', undefined, { ...deploy(), metadata: { name: 'web', managedFields: [] as never } }), /metadata.managedFields must be nil/);
  const bad = deploy();
  bad.spec.template.spec.containers.push({ image: 'x' });
  assert.throws(
    () => apply(deploymentResource, 'k', undefined, bad),
    (e: StatusError) => e.code === 400 && /omits key field "name"/.test(e.message),
  );
});

test('Service and ConfigMap apply: ports merge by port/protocol, data entries are owned one by one', () => {
  const svc = (ports: object[]): KubeObject => ({ apiVersion: 'v1', kind: 'Service', metadata: { name: 's' }, spec: { ports } });
  const live = apply(serviceResource, 'a', undefined, svc([{ port: 80, targetPort: 8080 }]));
  const both = apply(serviceResource, 'b', live, svc([{ port: 443 }]));
  assert.deepEqual(
    both.spec.ports.map((p: { port: number }) => p.port),
    [80, 443],
  );
  const cm = (data: Record<string, string>): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data });
  const c1 = apply(configMapResource, 'a', undefined, cm({ x: '1', y: '2' }));
  const c2 = apply(configMapResource, 'b', c1, cm({ z: '3' }));
  const c3 = apply(configMapResource, 'a', c2, cm({ x: '1' }), { now: t2 });
  assert.deepEqual(c3.data, { x: '1', z: '3' });
  assert.equal(conflictOf(() => apply(configMapResource, 'b', c3, cm({ x: 'changed' }))).message, 'Apply failed with 1 conflict: conflict with "a": .data.x');
});

test('entries: identifiers, upstream order (Apply first, then by time), round trip, cap of 10 update managers', () => {
  assert.equal(managerIdentifier({ manager: 'm', operation: 'Apply', apiVersion: 'v1' }), '{"manager":"m","operation":"Apply"}');
  assert.equal(managerIdentifier({ manager: 'm', operation: 'Update', apiVersion: 'v1', subresource: 'status' }), '{"manager":"m","operation":"Update","apiVersion":"v1","subresource":"status"}');
  const raw: ManagedFieldsEntry[] = [
    { manager: 'b', operation: 'Update', apiVersion: 'v1', time: '2024-01-02T00:00:00Z', fieldsType: 'FieldsV1', fieldsV1: { 'f:data': { 'f:b': {} } } },
    { manager: 'a', operation: 'Update', apiVersion: 'v1', time: '2024-01-03T00:00:00Z', fieldsType: 'FieldsV1', fieldsV1: { 'f:data': { 'f:a': {} } } },
    { manager: 'z', operation: 'Apply', apiVersion: 'v1', time: '2024-01-04T00:00:00Z', fieldsType: 'FieldsV1', fieldsV1: { 'f:data': { 'f:z': {} } } },
  ];
  assert.deepEqual(
    encodeManagedFields(decodeManagedFields(raw))!.map((e) => e.manager),
    ['z', 'b', 'a'],
  );
  let obj: KubeObject = upd(configMapResource, 'creator', undefined, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', uid: 'u' }, data: {} }, t0);
  for (let i = 0; i < 12; i++) {
    const next = clone(obj);
    next.data[`k${i}`] = 'v';
    obj = upd(configMapResource, `m${i}`, obj, next, new Date(Date.UTC(2024, 0, 1, 0, i)));
  }
  const names = entries(obj).map((e) => e.manager);
  assert.equal(names.length, 10);
  assert.ok(names.includes('ancient-changes'));
  assert.ok(names.includes('m11'));
});

test('request helpers: manager from the User-Agent, PatchOptions checks', () => {
  assert.equal(managerFromRequest(null, 'kubectl.1.33/v1.33.1 (linux/amd64) kubernetes/8adc0f0'), 'kubectl.1.33');
  assert.equal(managerFromRequest('mine', 'kubectl/v1'), 'mine');
  assert.equal(managerFromRequest(undefined, 'kube-controller-manager/v1.30.0 (linux/amd64) kubernetes/x/leader-election'), 'kube-controller-manager');
  assert.equal(managerFromRequest(undefined, 'a'.repeat(200)).length, 128);
  assert.throws(() => validatePatchOptions(new URLSearchParams(''), true), (e: StatusError) => e.code === 422 && e.message === 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch');
  assert.throws(() => validatePatchOptions(new URLSearchParams('force=true'), false), /force: Forbidden: may not be specified for non-apply patch/);
  assert.deepEqual(validatePatchOptions(new URLSearchParams('fieldManager=kubectl&force=true'), true), { force: true });
  assert.deepEqual(validatePatchOptions(new URLSearchParams('fieldManager=kubectl&force=false'), true), { force: false });
});

test('creates of one shape reuse the walk: same entries as the full computation, own time, own copy', () => {
  const first = upd(deploymentResource, 'memo-test', undefined, deploy());
  const other = deploy(2);
  Object.assign(other.metadata!, { name: 'web-2', namespace: 'other', uid: 'u-2', creationTimestamp: '2024-05-01T09:30:00Z' });
  const second = upd(deploymentResource, 'memo-test', undefined, other, t2);
  // An empty managedFields list in the request resets them: the same create, never memoized.
  const full = upd(deploymentResource, 'memo-test', undefined, { ...other, metadata: { ...other.metadata, managedFields: [] as never } }, t2);
  assert.deepEqual(entries(second), entries(full));
  assert.equal(entry(second, 'memo-test')!.time, '2024-05-01T12:00:00Z');
  assert.deepEqual({ ...entry(first, 'memo-test'), time: undefined }, { ...entry(second, 'memo-test'), time: undefined });
  // Changing what one create returned does not leak into the next.
  (entry(second, 'memo-test')!.fieldsV1 as Record<string, unknown>)['f:spec'] = {};
  const third = upd(deploymentResource, 'memo-test', undefined, other, t2);
  assert.deepEqual(entries(third), entries(full));
  // Another shape (a new label, another image value in a keyed list item name) is its own entry.
  const labelled = deploy();
  labelled.metadata!.labels = { app: 'web', extra: 'x' };
  const l = upd(deploymentResource, 'memo-test', undefined, labelled, t2);
  assert.ok((entry(l, 'memo-test')!.fieldsV1 as { 'f:metadata': { 'f:labels': Record<string, unknown> } })['f:metadata']['f:labels']['f:extra']);
  const renamed = deploy();
  renamed.spec.template.spec.containers[0].name = 'other';
  const r = upd(deploymentResource, 'memo-test', undefined, renamed, t2);
  const containers = (entry(r, 'memo-test')!.fieldsV1 as { 'f:spec': { 'f:template': { 'f:spec': { 'f:containers': Record<string, unknown> } } } })['f:spec']['f:template']['f:spec']['f:containers'];
  assert.deepEqual(Object.keys(containers), ['k:{"name":"other"}']);
  // Another manager is another entry.
  assert.deepEqual(summary(upd(deploymentResource, 'memo-other', undefined, other, t2)), ['memo-other/Update']);
});

test('a create that sets nothing anyone owns records no entry, memoized or not', () => {
  const bare: KubeObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', namespace: 'default' } };
  assert.equal(upd(configMapResource, 'memo-bare', undefined, bare).metadata?.managedFields, undefined);
  assert.equal(upd(configMapResource, 'memo-bare', undefined, { ...bare, metadata: { name: 'b', namespace: 'x' } }).metadata?.managedFields, undefined);
});

test('kinds whose creates never share a shape stop using the memo, with the same results', () => {
  const cm = (i: number): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `c${i}`, namespace: 'default' }, data: { [`k${i}`]: 'v' } });
  for (let i = 0; i < 80; i++) {
    const got = upd(configMapResource, 'memo-unique', undefined, cm(i), t2);
    const full = upd(configMapResource, 'memo-unique', undefined, { ...cm(i), metadata: { ...cm(i).metadata, managedFields: [] as never } }, t2);
    assert.deepEqual(entries(got), entries(full));
    assert.ok((entry(got, 'memo-unique')!.fieldsV1 as { 'f:data': Record<string, unknown> })['f:data'][`f:k${i}`]);
  }
});
