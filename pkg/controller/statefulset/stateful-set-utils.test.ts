import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { StatefulSet } from '../../api/types.js';
import { identityMatches, isMemberOf, newStatefulSetPod, parentNameAndOrdinal, templateFromRevision, newRevision } from './stateful-set-utils.js';

const set = {
  metadata: { name: 'web', namespace: 'ns', uid: 'u' },
  spec: {
    serviceName: 'nginx',
    selector: { matchLabels: { app: 'web' } },
    template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'i' }], volumes: [{ name: 'data', emptyDir: {} }] } },
    volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'] } }],
  },
} as unknown as StatefulSet;
const ref = { apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'web', uid: 'u', controller: true };

test('pod identity: name, hostname, subdomain, labels and claims', () => {
  const pod = newStatefulSetPod(set, set.spec!.template, 2, ref);
  assert.equal(pod.metadata!.name, 'web-2');
  assert.equal(pod.spec!.hostname, 'web-2');
  assert.equal(pod.spec!.subdomain, 'nginx');
  assert.deepEqual(pod.spec!.volumes, [{ name: 'data', persistentVolumeClaim: { claimName: 'data-web-2' } }]);
  assert.ok(identityMatches(set, pod));
  assert.ok(isMemberOf(set, pod));
  assert.deepEqual(parentNameAndOrdinal({ metadata: { name: 'my-web-10' } }), { parent: 'my-web', ordinal: 10 });
  assert.equal(parentNameAndOrdinal({ metadata: { name: 'web' } }).ordinal, -1);
});

test('a revision stores the template and gives it back', () => {
  const rev = newRevision(set, ref, 3, undefined);
  assert.equal(rev.revision, 3);
  assert.match(rev.metadata!.name!, /^web-[a-z0-9]+$/);
  assert.deepEqual(templateFromRevision(set, rev), set.spec!.template);
  const other = newRevision({ ...set, spec: { ...set.spec!, template: { ...set.spec!.template, metadata: { labels: { app: 'web', v: '2' } } } } }, ref, 4, undefined);
  assert.notEqual(other.metadata!.name, rev.metadata!.name);
  assert.notEqual(newRevision(set, ref, 3, 1).metadata!.name, rev.metadata!.name);
});
