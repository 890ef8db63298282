import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { EncryptionTransformer } from './encryption.js';
import { builtinResources } from '../registry/resources.js';

const k = () => randomBytes(32).toString('base64');

function config(providers: unknown[], resources = ['secrets']) {
  return { apiVersion: 'apiserver.config.k8s.io/v1', kind: 'EncryptionConfiguration', resources: [{ resources, providers }] };
}

test('each provider round-trips with the upstream prefix and hides the plaintext', () => {
  for (const name of ['aescbc', 'aesgcm', 'secretbox']) {
    const t = new EncryptionTransformer(config([{ [name]: { keys: [{ name: 'key1', secret: k() }] } }]), builtinResources);
    const plain = Buffer.from('{"data":{"password":"c2VjcmV0"}}');
    const stored = t.toStorage('/registry/secrets/default/s', plain);
    assert.ok(stored.toString('latin1').startsWith(`k8s:enc:${name}:v1:key1:`), name);
    assert.ok(!stored.includes(Buffer.from('c2VjcmV0')), name);
    assert.deepEqual(t.fromStorage('/registry/secrets/default/s', stored), plain);
    // Other resources pass through.
    assert.deepEqual(t.toStorage('/registry/configmaps/default/c', plain), plain);
  }
});

test('aesgcm binds the ciphertext to its etcd key', () => {
  const t = new EncryptionTransformer(config([{ aesgcm: { keys: [{ name: 'k', secret: k() }] } }]), builtinResources);
  const stored = t.toStorage('/registry/secrets/a/x', Buffer.from('{}'));
  assert.throws(() => t.fromStorage('/registry/secrets/a/y', stored));
});

test('key rotation: old keys and identity still read, the first key writes, stale values are detected', () => {
  const old = { name: 'old', secret: k() };
  const fresh = { name: 'new', secret: k() };
  const before = new EncryptionTransformer(config([{ aescbc: { keys: [old] } }, { identity: {} }]), builtinResources);
  const after = new EncryptionTransformer(config([{ aescbc: { keys: [fresh, old] } }, { identity: {} }]), builtinResources);
  const key = '/registry/secrets/default/s';
  const written = before.toStorage(key, Buffer.from('{"a":1}'));
  assert.equal(after.fromStorage(key, written).toString(), '{"a":1}');
  assert.equal(after.fromStorage(key, Buffer.from('{"plain":true}')).toString(), '{"plain":true}');
  assert.ok(after.isStale(key, written));
  assert.ok(!after.isStale(key, after.toStorage(key, Buffer.from('{}'))));
  const noIdentity = new EncryptionTransformer(config([{ aescbc: { keys: [fresh] } }]), builtinResources);
  assert.throws(() => noIdentity.fromStorage(key, Buffer.from('{"plain":true}')), /no matching prefix/);
});

test('wildcards and group-qualified names, and keys never appear in JSON', () => {
  const secret = k();
  const t = new EncryptionTransformer(config([{ secretbox: { keys: [{ name: 'k', secret }] } }], ['*.apps', 'configmaps']), builtinResources);
  assert.ok(t.toStorage('/registry/deployments/default/d', Buffer.from('{}')).toString().startsWith('k8s:enc:secretbox'));
  assert.ok(t.toStorage('/registry/configmaps/default/d', Buffer.from('{}')).toString().startsWith('k8s:enc:secretbox'));
  assert.equal(t.toStorage('/registry/pods/default/d', Buffer.from('{}')).toString(), '{}');
  assert.ok(!JSON.stringify(t).includes(secret));
  assert.throws(() => new EncryptionTransformer(config([{ aescbc: { keys: [{ name: 'short', secret: 'AAAA' }] } }]), builtinResources), /must be 16, 24, 32 bytes/);
});
