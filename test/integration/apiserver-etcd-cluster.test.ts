/** The apiserver on a 3-member etcd cluster (--etcd-servers with several members) survives losing one. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startEtcdCluster } from '../harness/etcd.js';
import { startApiserver } from '../harness/apiserver.js';
import { req } from '../harness/client.js';

test('writes and reads keep working after a minority of etcd members is lost', async () => {
  const cluster = await startEtcdCluster(3);
  const api = await startApiserver(cluster.endpoints[0]!, { etcdServers: cluster.endpoints });
  try {
    const c = await req(api.url, 'POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: 'before' } });
    assert.equal(c.status, 201, c.text);
    await cluster.killMember(0);
    // The client fails over to the remaining members; a request may hit the dead one first.
    let created = 0;
    for (let i = 0; i < 5; i++) {
      const r = await req(api.url, 'POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: `after-${i}` } });
      if (r.status === 201) created++;
    }
    assert.ok(created >= 4, `only ${created} of 5 creates succeeded after losing one member`);
    const l = await req(api.url, 'GET', '/api/v1/namespaces/default/configmaps');
    assert.equal(l.status, 200);
    assert.ok(l.body.items.some((o: any) => o.metadata.name === 'before'));
  } finally {
    await api.stop();
    await cluster.stop();
  }
});
