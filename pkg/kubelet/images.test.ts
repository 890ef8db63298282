import { test } from 'node:test';
import assert from 'node:assert/strict';
import { credentialsFor, imageRegistry } from './images.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');

test('imageRegistry: docker.io for short names, the host for qualified ones', () => {
  assert.equal(imageRegistry('busybox'), 'docker.io');
  assert.equal(imageRegistry('library/busybox:1.35.0'), 'docker.io');
  assert.equal(imageRegistry('127.0.0.1:5000/keelson/pause:x'), '127.0.0.1:5000');
  assert.equal(imageRegistry('registry.example.com/app'), 'registry.example.com');
  assert.equal(imageRegistry('localhost/app'), 'localhost');
});

test('imagePullSecrets: dockerconfigjson and dockercfg entries matched by registry, longest first', () => {
  const json = {
    type: 'kubernetes.io/dockerconfigjson',
    data: {
      '.dockerconfigjson': b64(
        JSON.stringify({
          auths: {
            'https://index.docker.io/v1/': { auth: b64('hub:hubpw') },
            'registry.example.com': { username: 'u', password: 'p' },
            'registry.example.com/team': { username: 'team', password: 'tp' },
          },
        }),
      ),
    },
  };
  const cfg = { type: 'kubernetes.io/dockercfg', data: { '.dockercfg': b64(JSON.stringify({ 'other.io': { auth: b64('o:op') } })) } };
  assert.deepEqual(
    credentialsFor('busybox', [json]).map((c) => [c.username, c.password, c.server_address]),
    [['hub', 'hubpw', 'docker.io']],
  );
  assert.deepEqual(
    credentialsFor('registry.example.com/team/app:1', [json]).map((c) => c.username),
    ['team', 'u'],
  );
  assert.deepEqual(credentialsFor('other.io/x', [json, cfg]).map((c) => c.username), ['o']);
  assert.deepEqual(credentialsFor('quay.io/x', [json, cfg]), []);
});
