/**
 * Stock kubectl 1.33 sends `kubectl create <kind>` bodies as protobuf (`k8s\0` + runtime.Unknown).
 * Each create here runs at -v=8 to prove the protobuf content type went over the wire, then reads
 * the stored object back as JSON and checks the fields kubectl set.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startEtcd, type EtcdHandle } from '../harness/etcd.js';
import { startApiserver, type ApiserverHandle } from '../harness/apiserver.js';
import { kubectl, kubectlOK } from '../harness/kubectl.js';
import { req } from '../harness/client.js';

const VERSION = '1.33';
const NS = 'proto';

let etcd: EtcdHandle;
let api: ApiserverHandle;

before(async () => {
  etcd = await startEtcd();
  api = await startApiserver(etcd.endpoint);
  await create(['namespace', NS]);
});

after(async () => {
  await api?.stop();
  await etcd?.stop();
});

/** `kubectl create …` at -v=8; fails unless it succeeded with a protobuf request body. */
async function create(args: string[]): Promise<void> {
  const r = await kubectl(VERSION, api.kubeconfig, ['create', ...args, '-v=8']);
  assert.equal(r.code, 0, `kubectl create ${args.join(' ')} failed:\n${r.stderr.split('\n').filter((l) => !/^I\d{4}/.test(l)).join('\n')}${r.stdout}`);
  assert.match(r.stderr, /Content-Type: application\/vnd\.kubernetes\.protobuf/, `kubectl create ${args.join(' ')} did not send protobuf`);
}

async function getJSON(args: string[]): Promise<any> {
  return JSON.parse(await kubectlOK(VERSION, api.kubeconfig, ['get', ...args, '-o', 'json']));
}

test('create namespace', async () => {
  const ns = await getJSON(['namespace', NS]);
  assert.equal(ns.kind, 'Namespace');
  assert.equal(ns.apiVersion, 'v1');
  assert.equal(ns.metadata.name, NS);
  assert.ok(ns.metadata.uid);
});

test('create deployment with replicas and a port', async () => {
  await create(['deployment', 'web', '--image=nginx', '--replicas=2', '--port=80', '-n', NS]);
  const d = await getJSON(['deployment', 'web', '-n', NS]);
  assert.equal(d.kind, 'Deployment');
  assert.equal(d.apiVersion, 'apps/v1');
  assert.deepEqual(d.metadata.labels, { app: 'web' });
  assert.equal(d.spec.replicas, 2);
  assert.deepEqual(d.spec.selector, { matchLabels: { app: 'web' } });
  assert.deepEqual(d.spec.template.metadata.labels, { app: 'web' });
  const [c] = d.spec.template.spec.containers;
  assert.equal(d.spec.template.spec.containers.length, 1);
  assert.equal(c.name, 'nginx');
  assert.equal(c.image, 'nginx');
  assert.equal(c.ports[0].containerPort, 80);
  assert.equal(d.metadata.creationTimestamp.length, '2026-01-02T03:04:05Z'.length);
});

test('create configmap from a literal', async () => {
  await create(['configmap', 'x', '--from-literal=a=b', '-n', NS]);
  const cm = await getJSON(['configmap', 'x', '-n', NS]);
  assert.deepEqual(cm.data, { a: 'b' });
  assert.equal(cm.binaryData, undefined);
});

test('create generic secret: bytes data arrive base64-encoded', async () => {
  await create(['secret', 'generic', 's', '--from-literal=p=q', '-n', NS]);
  const s = await getJSON(['secret', 's', '-n', NS]);
  assert.deepEqual(s.data, { p: Buffer.from('q').toString('base64') });
});

// kubectl leaves type empty on the wire; upstream's SetDefaults_Secret makes it Opaque.
test('a created secret defaults its type to Opaque', async () => {
  const s = await getJSON(['secret', 's', '-n', NS]);
  assert.equal(s.type, 'Opaque');
});

test('create clusterip service: intstr targetPort', async () => {
  await create(['service', 'clusterip', 'svc', '--tcp=80:8080', '-n', NS]);
  const svc = await getJSON(['service', 'svc', '-n', NS]);
  assert.equal(svc.spec.type, 'ClusterIP');
  assert.deepEqual(svc.spec.selector, { app: 'svc' });
  assert.equal(svc.spec.ports.length, 1);
  assert.equal(svc.spec.ports[0].name, '80-8080');
  assert.equal(svc.spec.ports[0].port, 80);
  assert.equal(svc.spec.ports[0].targetPort, 8080);
  assert.equal(svc.spec.ports[0].protocol, 'TCP');
});

test('create serviceaccount', async () => {
  await create(['serviceaccount', 'sa', '-n', NS]);
  const sa = await getJSON(['serviceaccount', 'sa', '-n', NS]);
  assert.equal(sa.kind, 'ServiceAccount');
  assert.equal(sa.metadata.name, 'sa');
});

test('create job', async () => {
  await create(['job', 'j', '--image=busybox', '-n', NS]);
  const j = await getJSON(['job', 'j', '-n', NS]);
  assert.equal(j.apiVersion, 'batch/v1');
  const spec = j.spec.template.spec;
  assert.equal(spec.restartPolicy, 'Never');
  assert.equal(spec.containers[0].name, 'j');
  assert.equal(spec.containers[0].image, 'busybox');
});

test('create cronjob', async () => {
  await create(['cronjob', 'c', '--image=busybox', '--schedule=*/1 * * * *', '-n', NS]);
  const cj = await getJSON(['cronjob', 'c', '-n', NS]);
  assert.equal(cj.spec.schedule, '*/1 * * * *');
  const spec = cj.spec.jobTemplate.spec.template.spec;
  assert.equal(spec.restartPolicy, 'OnFailure');
  assert.equal(spec.containers[0].name, 'c');
  assert.equal(spec.containers[0].image, 'busybox');
});

test('create role: the core group is the empty string', async () => {
  await create(['role', 'r', '--verb=get', '--resource=pods', '-n', NS]);
  const r = await getJSON(['role', 'r', '-n', NS]);
  assert.deepEqual(r.rules, [{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }]);
});

test('create rolebinding for a user and a service account', async () => {
  await create(['rolebinding', 'rb', '--role=r', '--user=jane', `--serviceaccount=${NS}:sa`, '-n', NS]);
  const rb = await getJSON(['rolebinding', 'rb', '-n', NS]);
  assert.deepEqual(rb.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'r' });
  assert.equal(rb.subjects.length, 2);
  assert.deepEqual(rb.subjects[0], { kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: 'jane' });
  // The ServiceAccount subject's apiGroup is left out on the wire; the registry's defaulting may add "".
  const { apiGroup, ...sa } = rb.subjects[1];
  assert.ok(apiGroup === undefined || apiGroup === '');
  assert.deepEqual(sa, { kind: 'ServiceAccount', name: 'sa', namespace: NS });
});

test('create clusterrole', async () => {
  await create(['clusterrole', 'cr', '--verb=get,list', '--resource=deployments.apps']);
  const cr = await getJSON(['clusterrole', 'cr']);
  assert.deepEqual(cr.rules, [{ verbs: ['get', 'list'], apiGroups: ['apps'], resources: ['deployments'] }]);
});

test('create quota: quantities', async () => {
  await create(['quota', 'q', '--hard=pods=1,requests.cpu=500m', '-n', NS]);
  const q = await getJSON(['resourcequota', 'q', '-n', NS]);
  assert.deepEqual(q.spec.hard, { pods: '1', 'requests.cpu': '500m' });
});

test('create priorityclass', async () => {
  await create(['priorityclass', 'p', '--value=1000', '--description=test class']);
  const pc = await getJSON(['priorityclass', 'p']);
  assert.equal(pc.value, 1000);
  assert.equal(pc.description, 'test class');
  assert.equal(pc.preemptionPolicy, 'PreemptLowerPriority');
  assert.equal(pc.globalDefault, undefined);
});

test('create poddisruptionbudget: intstr minAvailable', async () => {
  await create(['poddisruptionbudget', 'pdb', '--selector=app=x', '--min-available=1', '-n', NS]);
  const pdb = await getJSON(['poddisruptionbudget', 'pdb', '-n', NS]);
  assert.equal(pdb.spec.minAvailable, 1);
  assert.deepEqual(pdb.spec.selector, { matchLabels: { app: 'x' } });
  await create(['poddisruptionbudget', 'pdb-pct', '--selector=app=y', '--max-unavailable=50%', '-n', NS]);
  const pct = await getJSON(['poddisruptionbudget', 'pdb-pct', '-n', NS]);
  assert.equal(pct.spec.maxUnavailable, '50%');
});

test('create ingress: rule values are inlined', async () => {
  await create(['ingress', 'ing', '--rule=foo.com/bar=svc1:8080', '-n', NS]);
  const ing = await getJSON(['ingress', 'ing', '-n', NS]);
  assert.deepEqual(ing.spec.rules, [
    { host: 'foo.com', http: { paths: [{ path: '/bar', pathType: 'Exact', backend: { service: { name: 'svc1', port: { number: 8080 } } } }] } },
  ]);
});

test('explicit zeros survive: replicas 0, maxUnavailable 0, priority value 0', async () => {
  await create(['deployment', 'idle', '--image=nginx', '--replicas=0', '-n', NS]);
  assert.equal((await getJSON(['deployment', 'idle', '-n', NS])).spec.replicas, 0);
  await create(['poddisruptionbudget', 'strict', '--selector=app=z', '--max-unavailable=0', '-n', NS]);
  assert.equal((await getJSON(['poddisruptionbudget', 'strict', '-n', NS])).spec.maxUnavailable, 0);
  await create(['priorityclass', 'zero', '--value=0']);
  assert.equal((await getJSON(['priorityclass', 'zero'])).value, 0);
});

test('drain without eviction deletes pods with protobuf DeleteOptions (gracePeriodSeconds 0)', async () => {
  const node = await req(api.url, 'POST', '/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: 'proto-node' } });
  assert.equal(node.status, 201, node.text);
  for (const name of ['drain-a', 'drain-b']) {
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { nodeName: 'proto-node', containers: [{ name: 'c', image: 'busybox' }] } };
    const r = await req(api.url, 'POST', `/api/v1/namespaces/${NS}/pods`, pod);
    assert.equal(r.status, 201, r.text);
  }
  const r = await kubectl(VERSION, api.kubeconfig, ['drain', 'proto-node', '--disable-eviction', '--force', '--grace-period=0', '--timeout=30s', '-v=8']);
  assert.equal(r.code, 0, r.stderr.split('\n').filter((l) => !/^I\d{4}|^\t|^ >/.test(l)).join('\n'));
  assert.match(r.stderr, /verb="DELETE" url="[^"]*\/pods\/drain-a"[^\n]*\n[^\n]*\n\s*Content-Type: application\/vnd\.kubernetes\.protobuf/);
  // A pod bound to a node is deleted gracefully unless gracePeriodSeconds 0 came through.
  const pods = await getJSON(['pods', '-n', NS]);
  assert.deepEqual(pods.items.map((p: any) => p.metadata.name), []);
});

// auth can-i, create token and auth whoami need an apiserver with authentication: see
// protobuf-secure-kubectl.test.ts.
