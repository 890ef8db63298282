/**
 * Field paths and sets against structured-merge-diff's fieldpath behaviour: element order, the
 * FieldsV1 form (with `"."` for nodes that are members and parents), set algebra and path text.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FieldSet, makePath, keyPE, valuePE, indexPE, fieldPE, pathString, serializePathElement, deserializePathElement, comparePathElements } from './fieldpath.js';

const p = makePath;
const containers = (name: string, ...rest: string[]) => makePath('spec', 'containers', keyPE([['name', name]]), ...rest);

test('path elements serialize as upstream writes FieldsV1 keys', () => {
  assert.equal(serializePathElement(fieldPE('labels')), 'f:labels');
  assert.equal(serializePathElement(keyPE([['protocol', 'TCP'], ['containerPort', 80]])), 'k:{"containerPort":80,"protocol":"TCP"}');
  assert.equal(serializePathElement(valuePE('kubernetes.io/pvc-protection')), 'v:"kubernetes.io/pvc-protection"');
  assert.equal(serializePathElement(valuePE('<a&b>')), 'v:"\\u003ca\\u0026b\\u003e"');
  assert.equal(serializePathElement(indexPE(3)), 'i:3');
  for (const s of ['f:x', 'k:{"a":1,"b":"c"}', 'v:true', 'i:0']) assert.equal(serializePathElement(deserializePathElement(s)!), s);
  assert.equal(deserializePathElement('z:unknown'), undefined);
  assert.throws(() => deserializePathElement('fx'), /missing colon/);
});

test('element order: fields, then keys, values and indexes; values by kind then value', () => {
  const sorted = [indexPE(0), valuePE('b'), keyPE([['name', 'a']]), fieldPE('z'), fieldPE('a'), valuePE(2), valuePE(true)].sort(comparePathElements);
  assert.deepEqual(sorted.map(serializePathElement), ['f:a', 'f:z', 'k:{"name":"a"}', 'v:2', 'v:"b"', 'v:true', 'i:0']);
});

test('paths read as in conflict messages', () => {
  assert.equal(pathString(p('spec', 'replicas')), '.spec.replicas');
  assert.equal(pathString(containers('nginx', 'image')), '.spec.containers[name="nginx"].image');
  assert.equal(pathString(p('spec', 'ports', keyPE([['port', 80], ['protocol', 'TCP']]))), '.spec.ports[port=80,protocol="TCP"]');
  assert.equal(pathString(p('metadata', 'finalizers', valuePE('x'))), '.metadata.finalizers[="x"]');
});

test('FieldsV1: members are {}, parents nest, a member that is also a parent gets "." last', () => {
  const s = FieldSet.of(p('metadata', 'labels', 'app'), p('metadata', 'labels'), containers('nginx'), containers('nginx', 'image'), p('spec', 'replicas'));
  const v1 = s.toFieldsV1();
  assert.deepEqual(v1, {
    'f:metadata': { 'f:labels': { 'f:app': {}, '.': {} } },
    'f:spec': { 'f:containers': { 'k:{"name":"nginx"}': { 'f:image': {}, '.': {} } }, 'f:replicas': {} },
  });
  assert.deepEqual(Object.keys((v1['f:metadata'] as Record<string, Record<string, object>>)['f:labels']!), ['f:app', '.']);
  assert.equal(s.serialize(), '{"f:metadata":{"f:labels":{"f:app":{},".":{}}},"f:spec":{"f:containers":{"k:{\\"name\\":\\"nginx\\"}":{"f:image":{},".":{}}},"f:replicas":{}}}');
  const back = FieldSet.fromFieldsV1(s.serialize());
  assert.ok(back.equals(s));
  assert.ok(back.has(p('metadata', 'labels')));
  assert.ok(!back.has(p('metadata')));
  assert.ok(!back.has(p('spec', 'containers')));
});

test('FieldsV1 parsing skips unknown element types and rejects malformed input', () => {
  const s = FieldSet.fromFieldsV1({ 'f:a': {}, 'x:future': {}, 'f:b': { 'f:c': {} } });
  assert.deepEqual(s.paths().map(pathString), ['.a', '.b.c']);
  assert.throws(() => FieldSet.fromFieldsV1({ 'f:a': 1 }));
  assert.throws(() => FieldSet.fromFieldsV1('[]'));
  assert.ok(FieldSet.fromFieldsV1({}).empty());
});

test('set algebra: union, intersection, difference, recursive difference, leaves', () => {
  const a = FieldSet.of(p('a'), p('b', 'c'), p('b', 'd'), p('e'));
  const b = FieldSet.of(p('b', 'c'), p('e'), p('f'));
  assert.deepEqual(a.union(b).paths().map(pathString), ['.a', '.e', '.f', '.b.c', '.b.d']);
  assert.deepEqual(a.intersection(b).paths().map(pathString), ['.e', '.b.c']);
  assert.deepEqual(a.difference(b).paths().map(pathString), ['.a', '.b.d']);
  // Difference only removes members; recursive difference removes whole subtrees.
  const withParent = FieldSet.of(p('b'));
  assert.deepEqual(a.difference(withParent).paths().map(pathString), ['.a', '.e', '.b.c', '.b.d']);
  assert.deepEqual(a.recursiveDifference(withParent).paths().map(pathString), ['.a', '.e']);
  const nested = FieldSet.of(p('x'), p('x', 'y'), p('z'));
  assert.deepEqual(nested.leaves().paths().map(pathString), ['.z', '.x.y']);
  assert.ok(a.difference(a).empty());
  assert.equal(a.size(), 4);
  // No empty children survive an operation.
  assert.deepEqual(a.intersection(FieldSet.of(p('b', 'zz'))).toFieldsV1(), {});
});

test('named fields become members on the way to owned fields', () => {
  const s = FieldSet.of(p('spec', 'strategy', 'type'), p('metadata', 'labels', 'app'));
  // As if labels were a map rather than a struct field: it does not become a member.
  const named = s.ensureNamedFieldsAreMembers((prefix, pe) => !(pathString(prefix) === '.metadata' && pe.kind === 'field' && pe.name === 'labels'));
  assert.ok(named.has(p('spec')));
  assert.ok(named.has(p('spec', 'strategy')));
  assert.ok(named.has(p('metadata')));
  assert.ok(!named.has(p('metadata', 'labels')));
  assert.ok(named.has(p('spec', 'strategy', 'type')));
});
