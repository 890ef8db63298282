/**
 * Security on by default, driven by stock kubectl 1.33 over https against a real etcd:
 * x509 admin, anonymous and bad-token 401s, a `view` ServiceAccount's token from
 * `kubectl create token`, `auth can-i` (with --list and --as), `auth whoami`, impersonation,
 * kubelet credentials limited to their own Node, quota and LimitRange admission, and Secrets
 * encrypted at rest as seen by etcdctl.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { startEtcd, type EtcdHandle } from '../harness/etcd.js';
import { startSecureApiserver, httpsRequest, type SecureApiserver } from '../harness/pki.js';
import { kubectl, kubectlOK } from '../harness/kubectl.js';

const V = '1.33';
let etcd: EtcdHandle;
let api: SecureApiserver;
let ca: string;
let viewerToken: string;
let viewerKC: string;

const staticToken = randomBytes(16).toString('hex');

before(async () => {
  etcd = await startEtcd();
  api = await startSecureApiserver(etcd.endpoint, {
    nodes: ['n1', 'n2'],
    tokenFile: `${staticToken},jane,u-1,"devs,ops"\n`,
    encryptionConfig: {
      apiVersion: 'apiserver.config.k8s.io/v1',
      kind: 'EncryptionConfiguration',
      resources: [{ resources: ['secrets'], providers: [{ aescbc: { keys: [{ name: 'key1', secret: randomBytes(32).toString('base64') }] } }, { identity: {} }] }],
    },
  });
  ca = fs.readFileSync(api.pki.caCert, 'utf8');
  const admin = api.adminKubeconfig;
  await kubectlOK(V, admin, ['create', 'namespace', 'a']);
  await kubectlOK(V, admin, ['create', 'namespace', 'b']);
  await kubectlOK(V, admin, ['create', 'serviceaccount', 'viewer', '-n', 'a']);
  await kubectlOK(V, admin, ['create', 'rolebinding', 'viewer-view', '--clusterrole=view', '--serviceaccount=a:viewer', '-n', 'a']);
  viewerToken = (await kubectlOK(V, admin, ['create', 'token', 'viewer', '-n', 'a', '--duration=1h'])).trim();
  viewerKC = api.tokenKubeconfig(viewerToken, 'viewer');
});

after(async () => {
  await api?.stop();
  await etcd?.stop();
});

test('the admin certificate works and names kubernetes-admin in system:masters', async () => {
  const ns = await kubectlOK(V, api.adminKubeconfig, ['get', 'namespaces', '-o', 'name']);
  assert.match(ns, /namespace\/default/);
  const who = await kubectlOK(V, api.adminKubeconfig, ['auth', 'whoami', '-o', 'json']);
  const info = JSON.parse(who).status.userInfo;
  assert.equal(info.username, 'kubernetes-admin');
  assert.ok(info.groups.includes('system:masters'));
});

test('anonymous requests reach only health and version; bad bearer tokens get 401', async () => {
  assert.equal((await httpsRequest(`${api.url}/api/v1/pods`, { ca })).status, 401);
  assert.equal((await httpsRequest(`${api.url}/apis`, { ca })).status, 401);
  assert.equal((await httpsRequest(`${api.url}/healthz`, { ca })).status, 200);
  assert.equal((await httpsRequest(`${api.url}/version`, { ca })).status, 200);
  const bad = await httpsRequest(`${api.url}/api/v1/namespaces`, { ca, headers: { Authorization: 'Bearer not-a-token' } });
  assert.equal(bad.status, 401);
  assert.equal(bad.body.reason, 'Unauthorized');
  const tampered = await httpsRequest(`${api.url}/api/v1/namespaces`, { ca, headers: { Authorization: `Bearer ${viewerToken.slice(0, -4)}AAAA` } });
  assert.equal(tampered.status, 401);
});

test('a static token authenticates with its groups', async () => {
  const r = await httpsRequest(`${api.url}/apis/authentication.k8s.io/v1/selfsubjectreviews`, {
    ca,
    method: 'POST',
    headers: { Authorization: `Bearer ${staticToken}` },
    body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' },
  });
  assert.equal(r.status, 201);
  assert.equal(r.body.status.userInfo.username, 'jane');
  assert.deepEqual(r.body.status.userInfo.groups, ['devs', 'ops', 'system:authenticated']);
  // Authenticated, but RBAC grants jane nothing.
  const pods = await httpsRequest(`${api.url}/api/v1/namespaces/a/pods`, { ca, headers: { Authorization: `Bearer ${staticToken}` } });
  assert.equal(pods.status, 403);
  assert.equal(pods.body.message, 'pods is forbidden: User "jane" cannot list resource "pods" in API group "" in the namespace "a"');
});

test('a view ServiceAccount reads pods in its namespace and nothing more', async () => {
  await kubectlOK(V, viewerKC, ['get', 'pods', '-n', 'a']);
  const cm = await kubectl(V, viewerKC, ['create', 'configmap', 'x', '-n', 'a', '--from-literal=k=v']);
  assert.notEqual(cm.code, 0);
  assert.match(cm.stderr, /configmaps is forbidden: User "system:serviceaccount:a:viewer" cannot create resource "configmaps" in API group "" in the namespace "a"/);
  const secrets = await kubectl(V, viewerKC, ['get', 'secrets', '-n', 'a']);
  assert.match(secrets.stderr, /cannot list resource "secrets" in API group "" in the namespace "a"/);
  const other = await kubectl(V, viewerKC, ['get', 'pods', '-n', 'b']);
  assert.match(other.stderr, /cannot list resource "pods" in API group "" in the namespace "b"/);
  const who = JSON.parse(await kubectlOK(V, viewerKC, ['auth', 'whoami', '-o', 'json'])).status.userInfo;
  assert.equal(who.username, 'system:serviceaccount:a:viewer');
  assert.deepEqual(who.groups, ['system:serviceaccounts', 'system:serviceaccounts:a', 'system:authenticated']);
});

test('kubectl auth can-i agrees, with --list and --as', async () => {
  assert.equal((await kubectl(V, viewerKC, ['auth', 'can-i', 'list', 'pods', '-n', 'a'])).stdout.trim(), 'yes');
  assert.equal((await kubectl(V, viewerKC, ['auth', 'can-i', 'create', 'configmaps', '-n', 'a'])).stdout.trim(), 'no');
  assert.equal((await kubectl(V, viewerKC, ['auth', 'can-i', 'get', 'secrets', '-n', 'a'])).stdout.trim(), 'no');
  assert.equal((await kubectl(V, viewerKC, ['auth', 'can-i', 'list', 'pods', '-n', 'b'])).stdout.trim(), 'no');
  const list = await kubectlOK(V, viewerKC, ['auth', 'can-i', '--list', '-n', 'a']);
  assert.match(list, /^pods\s+\[\]\s+\[\]\s+\[get list watch\]$/m);
  assert.match(list, /selfsubjectaccessreviews\.authorization\.k8s\.io\s+\[\]\s+\[\]\s+\[create\]/);
  assert.doesNotMatch(list, /^secrets\s/m);
  const as = ['--as=system:serviceaccount:a:viewer'];
  assert.equal((await kubectl(V, api.adminKubeconfig, ['auth', 'can-i', 'list', 'pods', '-n', 'a', ...as])).stdout.trim(), 'yes');
  assert.equal((await kubectl(V, api.adminKubeconfig, ['auth', 'can-i', 'create', 'configmaps', '-n', 'a', ...as])).stdout.trim(), 'no');
  // Impersonating needs the impersonate verb, which a viewer lacks.
  const imp = await kubectl(V, viewerKC, ['get', 'pods', '-n', 'a', '--as=kubernetes-admin']);
  assert.match(imp.stderr, /users "kubernetes-admin" is forbidden: User "system:serviceaccount:a:viewer" cannot impersonate resource "users" in API group "" at the cluster scope/);
});

test('a token dies with its ServiceAccount', async () => {
  await kubectlOK(V, api.adminKubeconfig, ['create', 'serviceaccount', 'shortlived', '-n', 'a']);
  const token = (await kubectlOK(V, api.adminKubeconfig, ['create', 'token', 'shortlived', '-n', 'a', '--audience=https://kubernetes.default.svc.cluster.local'])).trim();
  const review = async () => (await httpsRequest(`${api.url}/apis/authentication.k8s.io/v1/selfsubjectreviews`, { ca, method: 'POST', headers: { Authorization: `Bearer ${token}` }, body: { kind: 'SelfSubjectReview', apiVersion: 'authentication.k8s.io/v1' } })).status;
  assert.equal(await review(), 201);
  await kubectlOK(V, api.adminKubeconfig, ['delete', 'serviceaccount', 'shortlived', '-n', 'a']);
  assert.equal(await review(), 401);
  const other = await kubectl(V, api.adminKubeconfig, ['create', 'token', 'viewer', '-n', 'a', '--audience=somewhere-else']);
  const otherToken = other.stdout.trim();
  assert.equal((await httpsRequest(`${api.url}/api/v1/namespaces/a/pods`, { ca, headers: { Authorization: `Bearer ${otherToken}` } })).status, 401, 'a token for another audience is refused');
});

test('kubelet credentials may change their own Node only', async () => {
  for (const n of ['n1', 'n2']) await kubectlOK(V, api.adminKubeconfig, ['create', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name: n } }) });
  const kubelet = api.pki.kubelets.n1!.kubeconfig;
  await kubectlOK(V, kubelet, ['label', 'node', 'n1', 'example.com/rack=r1']);
  const other = await kubectl(V, kubelet, ['label', 'node', 'n2', 'example.com/rack=r1']);
  assert.match(other.stderr, /nodes "n2" is forbidden: node "n1" is not allowed to modify node "n2"/);
  const del = await kubectl(V, kubelet, ['delete', 'node', 'n2']);
  assert.match(del.stderr, /forbidden/);
  const secrets = await kubectl(V, kubelet, ['get', 'secrets', '-n', 'a']);
  assert.match(secrets.stderr, /forbidden/);
});

test('a quota of one pod refuses the second with upstream\'s message; LimitRange defaults appear', async () => {
  const admin = api.adminKubeconfig;
  await kubectlOK(V, admin, ['create', 'namespace', 'q']);
  await kubectlOK(V, admin, ['create', 'serviceaccount', 'default', '-n', 'q']);
  await kubectlOK(V, admin, ['create', 'quota', 'q1', '--hard=pods=1', '-n', 'q']);
  await kubectlOK(V, admin, ['apply', '-f', '-'], {
    input: JSON.stringify({ apiVersion: 'v1', kind: 'LimitRange', metadata: { name: 'lr', namespace: 'q' }, spec: { limits: [{ type: 'Container', default: { cpu: '300m', memory: '64Mi' }, defaultRequest: { cpu: '100m' } }] } }),
  });
  await kubectlOK(V, admin, ['run', 'p1', '--image=busybox', '-n', 'q']);
  const second = await kubectl(V, admin, ['run', 'p2', '--image=busybox', '-n', 'q']);
  assert.notEqual(second.code, 0);
  assert.match(second.stderr, /pods "p2" is forbidden: exceeded quota: q1, requested: pods=1, used: pods=1, limited: pods=1/);
  const pod = JSON.parse(await kubectlOK(V, admin, ['get', 'pod', 'p1', '-n', 'q', '-o', 'json']));
  const c = pod.spec.containers[0];
  assert.equal(c.resources.limits.cpu, '300m');
  assert.equal(c.resources.limits.memory, '64Mi');
  assert.equal(c.resources.requests.cpu, '100m');
  assert.match(pod.metadata.annotations['kubernetes.io/limit-ranger'], /LimitRanger plugin set: /);
  // ServiceAccount admission mounted the API access volume; DefaultTolerationSeconds added tolerations.
  assert.ok(pod.spec.volumes.some((v: any) => /^kube-api-access-/.test(v.name) && v.projected));
  assert.ok(c.volumeMounts.some((m: any) => m.mountPath === '/var/run/secrets/kubernetes.io/serviceaccount'));
  assert.ok(pod.spec.tolerations.some((t: any) => t.key === 'node.kubernetes.io/not-ready' && t.tolerationSeconds === 300));
});

test('Secrets are encrypted at rest: etcdctl sees no plaintext', async () => {
  await kubectlOK(V, api.adminKubeconfig, ['create', 'secret', 'generic', 'topsecret', '-n', 'a', '--from-literal=password=hunter2hunter2']);
  const raw = await new Promise<string>((resolve, reject) => {
    execFile('etcdctl', [`--endpoints=${etcd.endpoint}`, 'get', '/registry/secrets/a/topsecret'], { env: { ...process.env, ETCDCTL_API: '3' }, encoding: 'latin1' }, (err, stdout) => (err ? reject(err) : resolve(stdout)));
  });
  assert.match(raw, /k8s:enc:aescbc:v1:key1:/);
  assert.ok(!raw.includes('hunter2hunter2') && !raw.includes(Buffer.from('hunter2hunter2').toString('base64')), 'no plaintext in etcd');
  const back = JSON.parse(await kubectlOK(V, api.adminKubeconfig, ['get', 'secret', 'topsecret', '-n', 'a', '-o', 'json']));
  assert.equal(Buffer.from(back.data.password, 'base64').toString(), 'hunter2hunter2');
});

test('quota holds under concurrent creates: exactly the hard count gets in', async () => {
  const admin = api.adminKubeconfig;
  await kubectlOK(V, admin, ['create', 'namespace', 'race']);
  await kubectlOK(V, admin, ['create', 'serviceaccount', 'default', '-n', 'race']);
  await kubectlOK(V, admin, ['create', 'quota', 'three', '--hard=pods=3', '-n', 'race']);
  const cert = fs.readFileSync(`${api.pki.dir}/admin.crt`, 'utf8');
  const key = fs.readFileSync(`${api.pki.dir}/admin.key`, 'utf8');
  const results = await Promise.all(
    Array.from({ length: 8 }, (_, i) =>
      httpsRequest(`${api.url}/api/v1/namespaces/race/pods`, { ca, cert, key, method: 'POST', body: { apiVersion: 'v1', kind: 'Pod', metadata: { name: `p${i}` }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } }),
    ),
  );
  assert.equal(results.filter((r) => r.status === 201).length, 3, results.map((r) => `${r.status} ${r.body?.message ?? ''}`).join('\n'));
  for (const r of results.filter((x) => x.status !== 201)) assert.match(r.body.message, /exceeded quota: three, requested: pods=1, used: pods=3, limited: pods=3/);
  const q = JSON.parse(await kubectlOK(V, admin, ['get', 'quota', 'three', '-n', 'race', '-o', 'json']));
  assert.equal(q.status.used.pods, '3');
});

test('RBAC escalation is refused: a namespace admin cannot bind cluster-admin', async () => {
  const admin = api.adminKubeconfig;
  await kubectlOK(V, admin, ['create', 'serviceaccount', 'nsadmin', '-n', 'b']);
  await kubectlOK(V, admin, ['create', 'rolebinding', 'nsadmin-admin', '--clusterrole=admin', '--serviceaccount=b:nsadmin', '-n', 'b']);
  const kc = api.tokenKubeconfig((await kubectlOK(V, admin, ['create', 'token', 'nsadmin', '-n', 'b'])).trim(), 'nsadmin');
  await kubectlOK(V, kc, ['create', 'rolebinding', 'ok', '--clusterrole=view', '--serviceaccount=b:nsadmin', '-n', 'b']);
  const r = await kubectl(V, kc, ['create', 'rolebinding', 'grab', '--clusterrole=cluster-admin', '--serviceaccount=b:nsadmin', '-n', 'b']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /rolebindings.rbac.authorization.k8s.io "grab" is forbidden: user "system:serviceaccount:b:nsadmin" \(groups=\["system:serviceaccounts" "system:serviceaccounts:b" "system:authenticated"\]\) is attempting to grant RBAC permissions not currently held/);
  const role = await kubectl(V, kc, ['create', 'role', 'nodes', '--verb=get', '--resource=nodes', '-n', 'b']);
  assert.match(role.stderr, /is attempting to grant RBAC permissions not currently held/);
});
