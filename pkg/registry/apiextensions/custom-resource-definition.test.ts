import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { StoredObject } from '../../api/types.js';
import { fieldErrorString } from '../../api/field-errors.js';
import { customResourceDefinitionStrategy as s } from './custom-resource-definition.js';

const schema = { openAPIV3Schema: { type: 'object' } };

function crd(name: string, spec: Record<string, unknown>): StoredObject {
  return {
    metadata: { name, creationTimestamp: '2024-01-01T00:00:00Z' },
    spec: { group: 'example.com', scope: 'Namespaced', names: { plural: 'widgets', kind: 'Widget' }, versions: [{ name: 'v1', served: true, storage: true, schema }], ...spec },
  };
}

function create(obj: StoredObject): string[] {
  s.defaults!(obj);
  s.prepareForCreate!(obj);
  return s.validate!(obj).map(fieldErrorString);
}

test('defaults: singular and listKind from the kind, conversion None; storedVersions recorded', () => {
  const o = crd('widgets.example.com', {});
  assert.deepEqual(create(o), []);
  assert.deepEqual(o.spec.names, { plural: 'widgets', kind: 'Widget', singular: 'widget', listKind: 'WidgetList' });
  assert.deepEqual(o.spec.conversion, { strategy: 'None' });
  assert.deepEqual(o.status, { acceptedNames: { kind: '', plural: '' }, storedVersions: ['v1'] });
});

test('the name must be <plural>.<group>; group, scope and names checked', () => {
  assert.deepEqual(create(crd('widget.example.com', {})), ['metadata.name: Invalid value: "widget.example.com": must be spec.names.plural+"."+spec.group']);
  const errs = create(crd('widgets.example', { group: 'example', scope: 'Global', names: { plural: 'Widgets', kind: 'Widget', listKind: 'Widget' } }));
  assert.deepEqual(errs.slice(0, 2), ['spec.group: Invalid value: "example": should be a domain with at least one dot', 'spec.scope: Unsupported value: "Global": supported values: "Cluster", "Namespaced"']);
  assert.ok(errs.some((e) => e.startsWith('spec.names.plural: Invalid value: "Widgets": a DNS-1035 label must consist of lower case')));
  assert.ok(errs.includes('spec.names.listKind: Invalid value: "Widget": kind and listKind may not be the same'));
});

test('versions: exactly one storage version, unique names, schemas', () => {
  const two = crd('widgets.example.com', { versions: [{ name: 'v1', served: true, storage: true, schema }, { name: 'v1', served: true, storage: true }] });
  const errs = create(two);
  assert.deepEqual(errs, [
    'spec.versions[1].schema.openAPIV3Schema: Required value: schemas are required',
    `spec.versions: Invalid value: ${JSON.stringify(two.spec.versions)}: must have exactly one version marked as storage version`,
    `spec.versions: Invalid value: ${JSON.stringify(two.spec.versions)}: must contain unique version names`,
  ]);
});

test('updates: group and plural fixed; kind and scope fixed once established; storage version recorded', () => {
  const old = crd('widgets.example.com', {});
  create(old);
  old.status.conditions = [{ type: 'Established', status: 'True' }];
  const next = structuredClone(old);
  next.spec.group = 'other.com';
  next.spec.names.kind = 'Gadget';
  assert.deepEqual(s.validateUpdate!(next, old).map(fieldErrorString), [
    'spec.names.kind: Invalid value: "Gadget": field is immutable',
    'spec.group: Invalid value: "other.com": field is immutable',
  ]);
  const v2 = structuredClone(old);
  v2.spec.versions = [{ name: 'v1', served: true, storage: false, schema }, { name: 'v2', served: true, storage: true, schema }];
  s.prepareForUpdate!(v2, old);
  assert.deepEqual(v2.status.storedVersions, ['v1', 'v2']);
});

test('printer: NAME and CREATED AT', () => {
  assert.deepEqual(s.table!.row(crd('widgets.example.com', {}), new Date()), ['widgets.example.com', '2024-01-01T00:00:00Z']);
});
