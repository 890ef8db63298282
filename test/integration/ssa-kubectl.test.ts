/**
 * Server-side apply with stock kubectl 1.27 and 1.33 against a real etcd and the apiserver:
 * `apply --server-side` creates and re-applies without a write, a second field manager changing
 * an owned field gets upstream's conflict, `--force-conflicts` takes the field over, `scale`
 * records its manager under the scale subresource, `--show-managed-fields` shows upstream's
 * entries, and kubectl's client-side to server-side upgrade leaves the fields to `kubectl`.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startEtcd, type EtcdHandle } from '../harness/etcd.js';
import { startApiserver, type ApiserverHandle } from '../harness/apiserver.js';
import { kubectl, kubectlOK } from '../harness/kubectl.js';

let etcd: EtcdHandle;
let api: ApiserverHandle;

before(async () => {
  etcd = await startEtcd();
  api = await startApiserver(etcd.endpoint);
});

after(async () => {
  await api?.stop();
  await etcd?.stop();
});

interface Entry {
  manager: string;
  operation: string;
  apiVersion: string;
  time?: string;
  fieldsType: string;
  fieldsV1: Record<string, unknown>;
  subresource?: string;
}

function deployment(ns: string, name: string, replicas: number, image = 'nginx:1.25'): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
  namespace: ${ns}
  labels: {app: ${name}}
spec:
  replicas: ${replicas}
  selector:
    matchLabels: {app: ${name}}
  template:
    metadata:
      labels: {app: ${name}}
    spec:
      containers:
      - name: web
        image: ${image}
        ports:
        - containerPort: 80
`;
}

async function getJSON(v: string, ns: string, name: string): Promise<{ metadata: { resourceVersion: string; managedFields?: Entry[]; annotations?: Record<string, string> }; spec: { replicas: number } }> {
  return JSON.parse(await kubectlOK(v, api.kubeconfig, ['get', 'deployment', name, '-n', ns, '-o', 'json', '--show-managed-fields']));
}

const managers = (entries: Entry[] | undefined) => (entries ?? []).map((e) => `${e.manager}/${e.operation}${e.subresource ? `/${e.subresource}` : ''}`).sort();
const owns = (e: Entry | undefined, field: string) => !!e && JSON.stringify(e.fieldsV1).includes(JSON.stringify(field));

for (const v of ['1.27', '1.33']) {
  const ns = `ssa-${v.replace('.', '-')}`;

  test(`kubectl ${v}: apply --server-side creates, is idempotent, conflicts for a second manager, --force-conflicts takes over`, async () => {
    const kc = api.kubeconfig;
    await kubectlOK(v, kc, ['create', 'namespace', ns]);
    const first = await kubectlOK(v, kc, ['apply', '--server-side', '-f', '-'], { input: deployment(ns, 'web', 2) });
    assert.match(first, /deployment.apps\/web serverside-applied/);
    const created = await getJSON(v, ns, 'web');
    assert.deepEqual(managers(created.metadata.managedFields), ['kubectl/Apply']);
    const applied = created.metadata.managedFields![0]!;
    assert.equal(applied.fieldsType, 'FieldsV1');
    assert.equal(applied.apiVersion, 'apps/v1');
    assert.match(applied.time ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.deepEqual(applied.fieldsV1['f:spec'], {
      'f:replicas': {},
      'f:selector': {},
      'f:template': {
        'f:metadata': { 'f:labels': { 'f:app': {} } },
        'f:spec': { 'f:containers': { 'k:{"name":"web"}': { '.': {}, 'f:image': {}, 'f:name': {}, 'f:ports': { 'k:{"containerPort":80,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {} } } } } },
      },
    });

    // The same configuration again: no write at all.
    assert.match(await kubectlOK(v, kc, ['apply', '--server-side', '-f', '-'], { input: deployment(ns, 'web', 2) }), /serverside-applied/);
    assert.equal((await getJSON(v, ns, 'web')).metadata.resourceVersion, created.metadata.resourceVersion);

    // Another manager changing an owned field conflicts, naming the owner.
    const conflict = await kubectl(v, kc, ['apply', '--server-side', '--field-manager=other', '-f', '-'], { input: deployment(ns, 'web', 3) });
    assert.notEqual(conflict.code, 0);
    assert.match(conflict.stderr, /Apply failed with 1 conflict: conflict with "kubectl": \.spec\.replicas/);
    assert.equal((await getJSON(v, ns, 'web')).spec.replicas, 2);

    // Several fields: the plural form.
    const two = await kubectl(v, kc, ['apply', '--server-side', '--field-manager=other', '-f', '-'], { input: deployment(ns, 'web', 3, 'nginx:1.26') });
    assert.match(two.stderr, /Apply failed with 2 conflicts: conflicts with "kubectl":\n- \.spec\.replicas\n- \.spec\.template\.spec\.containers\[name="web"\]\.image/);

    assert.match(await kubectlOK(v, kc, ['apply', '--server-side', '--field-manager=other', '--force-conflicts', '-f', '-'], { input: deployment(ns, 'web', 3) }), /serverside-applied/);
    const forced = await getJSON(v, ns, 'web');
    assert.equal(forced.spec.replicas, 3);
    assert.deepEqual(managers(forced.metadata.managedFields), ['kubectl/Apply', 'other/Apply']);
    const byName = (m: string) => forced.metadata.managedFields!.find((e) => e.manager === m);
    assert.ok(owns(byName('other'), 'f:replicas'));
    assert.ok(!owns(byName('kubectl'), 'f:replicas'));
    assert.ok(owns(byName('kubectl'), 'f:image'));

    // kubectl hides managed fields unless asked.
    const plain = await kubectlOK(v, kc, ['get', 'deployment', 'web', '-n', ns, '-o', 'yaml']);
    assert.doesNotMatch(plain, /managedFields/);
    const shown = await kubectlOK(v, kc, ['get', 'deployment', 'web', '-n', ns, '-o', 'yaml', '--show-managed-fields']);
    assert.ok(shown.includes('  managedFields:\n  - apiVersion: apps/v1\n    fieldsType: FieldsV1\n    fieldsV1:\n      f:metadata:\n'), shown);
    assert.match(shown, /\n {4}manager: kubectl\n {4}operation: Apply\n {4}time: "[^"]+"\n/);
    assert.ok(shown.includes('\n    manager: other\n    operation: Apply\n'));
  });

  test(`kubectl ${v}: scale is recorded for the User-Agent's manager under the scale subresource`, async () => {
    const kc = api.kubeconfig;
    assert.match(await kubectlOK(v, kc, ['scale', 'deployment', 'web', '-n', ns, '--replicas=4']), /scaled/);
    const d = await getJSON(v, ns, 'web');
    assert.equal(d.spec.replicas, 4);
    // kubectl sends no fieldManager for scale: upstream names the manager after the User-Agent,
    // which is the binary's name (kubectl.1.33 here), and keeps no time for scale entries.
    const scale = d.metadata.managedFields!.find((e) => e.subresource === 'scale');
    assert.deepEqual(scale, { manager: `kubectl.${v}`, operation: 'Update', apiVersion: 'apps/v1', fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': { 'f:replicas': {} } }, subresource: 'scale' });
    // It took replicas from "other", whose entry held nothing else.
    assert.deepEqual(managers(d.metadata.managedFields), ['kubectl/Apply', `kubectl.${v}/Update/scale`, 'other/Apply'].sort());
    const conflict = await kubectl(v, kc, ['apply', '--server-side', '-f', '-'], { input: deployment(ns, 'web', 5) });
    assert.match(conflict.stderr, new RegExp(`conflict with "kubectl\\.${v.replace('.', '\\.')}" with subresource "scale" using apps/v1: \\.spec\\.replicas`));
  });

  test(`kubectl ${v}: client-side apply, then --server-side upgrades the ownership to kubectl`, async () => {
    const kc = api.kubeconfig;
    assert.match(await kubectlOK(v, kc, ['apply', '-f', '-'], { input: deployment(ns, 'csa', 2) }), /deployment.apps\/csa created/);
    const csa = await getJSON(v, ns, 'csa');
    assert.deepEqual(managers(csa.metadata.managedFields), ['kubectl-client-side-apply/Update']);
    // The field it changes belongs to kubectl-client-side-apply, but the last-applied annotation
    // says kubectl set it: no conflict.
    assert.match(await kubectlOK(v, kc, ['apply', '--server-side', '-f', '-'], { input: deployment(ns, 'csa', 5) }), /serverside-applied/);
    const ssa = await getJSON(v, ns, 'csa');
    assert.equal(ssa.spec.replicas, 5);
    assert.deepEqual(managers(ssa.metadata.managedFields), ['kubectl-last-applied/Apply', 'kubectl/Apply']);
    const lastApplied = JSON.parse(ssa.metadata.annotations!['kubectl.kubernetes.io/last-applied-configuration']!);
    assert.equal(lastApplied.spec.replicas, 5);
    const kubectlEntry = ssa.metadata.managedFields!.find((e) => e.manager === 'kubectl')!;
    assert.ok(owns(kubectlEntry, 'f:replicas'));
    // Defaults the client-side apply owned were handed over and dropped by the re-apply.
    assert.ok(!owns(kubectlEntry, 'f:progressDeadlineSeconds'));
    const annotationOwner = ssa.metadata.managedFields!.find((e) => e.manager === 'kubectl-last-applied')!;
    assert.deepEqual(annotationOwner.fieldsV1, { 'f:metadata': { 'f:annotations': { 'f:kubectl.kubernetes.io/last-applied-configuration': {} } } });
  });
}

test('apply over HTTP: fieldManager is required (422), the body may be YAML, a missing object is created (201)', async () => {
  const url = `${api.url}/api/v1/namespaces/default/configmaps/plain`;
  const patch = (query: string, body: string) => fetch(`${url}${query}`, { method: 'PATCH', headers: { 'Content-Type': 'application/apply-patch+yaml' }, body });
  const yaml = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: plain\ndata:\n  a: "1"\n';
  const missing = await patch('', yaml);
  assert.equal(missing.status, 422);
  const status = (await missing.json()) as { message: string; reason: string };
  assert.equal(status.message, 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch');
  assert.equal(status.reason, 'Invalid');
  const created = await patch('?fieldManager=tool', yaml);
  assert.equal(created.status, 201);
  const again = await patch('?fieldManager=tool', yaml);
  assert.equal(again.status, 200);
  const body = (await again.json()) as { data: Record<string, string>; metadata: { managedFields: Entry[] } };
  assert.deepEqual(body.data, { a: '1' });
  assert.deepEqual(
    body.metadata.managedFields.map((e) => [e.manager, e.operation, e.fieldsV1]),
    [['tool', 'Apply', { 'f:data': { 'f:a': {} } }]],
  );
  const wrongVersion = await patch('?fieldManager=tool', yaml.replace('apiVersion: v1', 'apiVersion: v2'));
  assert.equal(wrongVersion.status, 400);

  // Through /status, the applier is recorded with the subresource; status does not exist on create.
  const depURL = `${api.url}/apis/apps/v1/namespaces/default/deployments/st`;
  const dep = JSON.parse(JSON.stringify({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'st' }, spec: { selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'i' }] } } } }));
  const noStatusYet = await fetch(`${depURL}/status?fieldManager=ctl`, { method: 'PATCH', headers: { 'Content-Type': 'application/apply-patch+yaml' }, body: JSON.stringify(dep) });
  assert.equal(noStatusYet.status, 404);
  assert.equal((await fetch(`${depURL}?fieldManager=tool`, { method: 'PATCH', headers: { 'Content-Type': 'application/apply-patch+yaml' }, body: JSON.stringify(dep) })).status, 201);
  const st = await fetch(`${depURL}/status?fieldManager=ctl`, { method: 'PATCH', headers: { 'Content-Type': 'application/apply-patch+yaml' }, body: JSON.stringify({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'st' }, status: { observedGeneration: 1 } }) });
  assert.equal(st.status, 200);
  const stBody = (await st.json()) as { status: { observedGeneration: number }; metadata: { managedFields: Entry[] } };
  assert.equal(stBody.status.observedGeneration, 1);
  const stEntry = stBody.metadata.managedFields.find((e) => e.manager === 'ctl')!;
  assert.deepEqual([stEntry.operation, stEntry.subresource, stEntry.fieldsV1], ['Apply', 'status', { 'f:status': { 'f:observedGeneration': {} } }]);
});
