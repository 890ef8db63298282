/** ClusterIP and NodePort allocation, persisted in etcd, and the `kubernetes` Service. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startEtcd, type EtcdHandle } from '../harness/etcd.js';
import { startApiserver, type ApiserverHandle } from '../harness/apiserver.js';
import { req } from '../harness/client.js';

let etcd: EtcdHandle;
let api: ApiserverHandle;

before(async () => {
  etcd = await startEtcd();
  api = await startApiserver(etcd.endpoint, { serviceClusterIPRange: '10.96.0.0/24', serviceNodePortRange: '30000-30009' });
});

after(async () => {
  await api?.stop();
  await etcd?.stop();
});

const svc = (name: string, spec: Record<string, unknown> = {}) => ({
  metadata: { name },
  spec: { selector: { app: name }, ports: [{ port: 80, protocol: 'TCP', targetPort: 8080 }], ...spec },
});

test('the kubernetes Service has the first IP and endpoints pointing at the apiserver', async () => {
  const s = await req(api.url, 'GET', '/api/v1/namespaces/default/services/kubernetes');
  assert.equal(s.status, 200);
  assert.equal(s.body.spec.clusterIP, '10.96.0.1');
  assert.equal(s.body.spec.ports[0].port, 443);
  const port = Number(new URL(api.url).port);
  const ep = await req(api.url, 'GET', '/api/v1/namespaces/default/endpoints/kubernetes');
  assert.equal(ep.status, 200);
  assert.equal(ep.body.subsets[0].ports[0].port, port);
  // A loopback-bound apiserver advertises the host's address: endpoints may not be loopback.
  const ip = ep.body.subsets[0].addresses[0].ip;
  assert.match(ip, /^\d+\.\d+\.\d+\.\d+$/);
  assert.ok(!ip.startsWith('127.'));
  const slice = await req(api.url, 'GET', '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/kubernetes');
  assert.equal(slice.status, 200);
  assert.deepEqual(slice.body.endpoints[0].addresses, [ip]);
});

test('ClusterIPs are allocated uniquely, requested ones honoured, duplicates and out-of-range refused', async () => {
  const created = await Promise.all(Array.from({ length: 10 }, (_, i) => req(api.url, 'POST', '/api/v1/namespaces/default/services', svc(`s${i}`))));
  const ips = created.map((r) => {
    assert.equal(r.status, 201, r.text);
    return r.body.spec.clusterIP;
  });
  assert.equal(new Set(ips).size, 10);
  for (const ip of ips) assert.match(ip, /^10\.96\.0\.\d+$/);
  assert.deepEqual(created[0]!.body.spec.clusterIPs, [ips[0]]);
  const fixed = await req(api.url, 'POST', '/api/v1/namespaces/default/services', svc('fixed', { clusterIP: '10.96.0.5' }));
  assert.equal(fixed.status, 201, fixed.text);
  assert.equal(fixed.body.spec.clusterIP, '10.96.0.5');
  const dup = await req(api.url, 'POST', '/api/v1/namespaces/default/services', svc('dup', { clusterIP: '10.96.0.5' }));
  assert.equal(dup.status, 422);
  assert.equal(dup.body.details.causes[0].field, 'spec.clusterIPs');
  assert.match(dup.body.message, /failed to allocate IP 10.96.0.5: provided IP is already allocated/);
  const out = await req(api.url, 'POST', '/api/v1/namespaces/default/services', svc('out', { clusterIP: '10.0.0.1' }));
  assert.equal(out.status, 422);
  assert.match(out.body.message, /not in the valid range. The range of valid IPs is 10.96.0.0\/24/);
  // Deleting frees the address for the next one who asks.
  assert.equal((await req(api.url, 'DELETE', '/api/v1/namespaces/default/services/fixed')).status, 200);
  const again = await req(api.url, 'POST', '/api/v1/namespaces/default/services', svc('again', { clusterIP: '10.96.0.5' }));
  assert.equal(again.status, 201, again.text);
});

test('allocations survive an apiserver restart: a second apiserver never reuses an address', async () => {
  const api2 = await startApiserver(etcd.endpoint, { serviceClusterIPRange: '10.96.0.0/24', serviceNodePortRange: '30000-30009' });
  try {
    const taken = (await req(api.url, 'GET', '/api/v1/services')).body.items.map((s: any) => s.spec.clusterIP);
    const r = await req(api2.url, 'POST', '/api/v1/namespaces/default/services', svc('from-two'));
    assert.equal(r.status, 201, r.text);
    assert.ok(!taken.includes(r.body.spec.clusterIP));
    const dup = await req(api2.url, 'POST', '/api/v1/namespaces/default/services', svc('dup2', { clusterIP: taken[0] }));
    assert.equal(dup.status, 422);
  } finally {
    await api2.stop();
  }
});

test('headless and ExternalName Services get no IP; NodePorts are allocated and released', async () => {
  const headless = await req(api.url, 'POST', '/api/v1/namespaces/default/services', svc('headless', { clusterIP: 'None' }));
  assert.equal(headless.status, 201, headless.text);
  assert.equal(headless.body.spec.clusterIP, 'None');
  const ext = await req(api.url, 'POST', '/api/v1/namespaces/default/services', { metadata: { name: 'ext' }, spec: { type: 'ExternalName', externalName: 'example.com' } });
  assert.equal(ext.status, 201, ext.text);
  assert.equal(ext.body.spec.clusterIP, undefined);
  const np = await req(api.url, 'POST', '/api/v1/namespaces/default/services', svc('np', { type: 'NodePort' }));
  assert.equal(np.status, 201, np.text);
  const port = np.body.spec.ports[0].nodePort;
  assert.ok(port >= 30000 && port <= 30009);
  const clash = await req(api.url, 'POST', '/api/v1/namespaces/default/services', svc('np2', { type: 'NodePort', ports: [{ port: 80, nodePort: port }] }));
  assert.equal(clash.status, 422);
  assert.equal(clash.body.details.causes[0].field, 'spec.ports[0].nodePort');
  // Switching to ClusterIP releases the port.
  const cur = (await req(api.url, 'GET', '/api/v1/namespaces/default/services/np')).body;
  const sw = await req(api.url, 'PUT', '/api/v1/namespaces/default/services/np', { ...cur, spec: { ...cur.spec, type: 'ClusterIP', ports: [{ port: 80, protocol: 'TCP', targetPort: 8080 }] } });
  assert.equal(sw.status, 200, sw.text);
  assert.equal(sw.body.spec.ports[0].nodePort, undefined);
  const reuse = await req(api.url, 'POST', '/api/v1/namespaces/default/services', svc('np3', { type: 'NodePort', ports: [{ port: 80, nodePort: port }] }));
  assert.equal(reuse.status, 201, reuse.text);
});
