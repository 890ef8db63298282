/**
 * Stock kubectl 1.27 (OpenAPI v2 as protobuf) and 1.33 (OpenAPI v3) against a real etcd and the
 * apiserver: client-side apply (create, unchanged, configured with a removed field), set image
 * (strategic merge patch), explain, and diff exit codes.
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

function manifests(opts: { configValue: string; withExtra: boolean; image: string; replicas: number }): string {
  return `apiVersion: v1
kind: ConfigMap
metadata:
  name: web-config
data:
  greeting: "${opts.configValue}"
${opts.withExtra ? '  extra: "remove me later"\n' : ''}---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: ${opts.replicas}
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: ${opts.image}
        ports:
        - containerPort: 80
        env:
        - name: MODE
          value: prod
${opts.withExtra ? '        - name: EXTRA\n          value: "1"\n' : ''}---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
  ports:
  - name: http
    port: 80
    targetPort: 80
`;
}

for (const version of ['1.27', '1.33']) {
  const ns = `apply-${version.replace('.', '-')}`;
  const k = (args: string[], input?: string) => kubectl(version, api.kubeconfig, ['-n', ns, ...args], { input });
  const ok = (args: string[], input?: string) => kubectlOK(version, api.kubeconfig, ['-n', ns, ...args], { input });
  const getJSON = async (what: string) => JSON.parse(await ok(['get', what, '-o', 'json']));

  test(`kubectl ${version}: apply creates, then reports unchanged, then configured`, async () => {
    await ok(['create', 'namespace', ns]);
    const first = manifests({ configValue: 'hello', withExtra: true, image: 'nginx:1.0', replicas: 1 });
    const created = await ok(['apply', '-f', '-'], first);
    assert.match(created, /configmap\/web-config created/);
    assert.match(created, /deployment\.apps\/web created/);
    assert.match(created, /service\/web created/);

    const again = await ok(['apply', '-f', '-'], first);
    assert.match(again, /configmap\/web-config unchanged/);
    assert.match(again, /deployment\.apps\/web unchanged/);
    assert.match(again, /service\/web unchanged/);

    const changed = await ok(['apply', '-f', '-'], manifests({ configValue: 'bonjour', withExtra: false, image: 'nginx:1.0', replicas: 2 }));
    assert.match(changed, /configmap\/web-config configured/);
    assert.match(changed, /deployment\.apps\/web configured/);
    assert.match(changed, /service\/web unchanged/);

    const cm = await getJSON('configmap/web-config');
    assert.deepEqual(cm.data, { greeting: 'bonjour' }, 'the removed key is gone');
    const deploy = await getJSON('deployment/web');
    assert.equal(deploy.spec.replicas, 2);
    assert.deepEqual(deploy.spec.template.spec.containers[0].env, [{ name: 'MODE', value: 'prod' }], 'the removed env var is gone');
    assert.ok(deploy.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration']);
  });

  test(`kubectl ${version}: set image patches one container`, async () => {
    const out = await ok(['set', 'image', 'deployment/web', 'web=nginx:1.2']);
    assert.match(out, /deployment\.apps\/web image updated/);
    const deploy = await getJSON('deployment/web');
    assert.equal(deploy.spec.template.spec.containers[0].image, 'nginx:1.2');
    assert.deepEqual(deploy.spec.template.spec.containers[0].env, [{ name: 'MODE', value: 'prod' }]);
  });

  test(`kubectl ${version}: explain reads the served OpenAPI`, async () => {
    const strategy = await ok(['explain', 'deployment.spec.strategy']);
    assert.match(strategy, /KIND:\s+Deployment/);
    assert.match(strategy, /rollingUpdate/);
    assert.match(strategy, /type/);
    const containers = await ok(['explain', 'pod.spec.containers']);
    assert.match(containers, /KIND:\s+Pod/);
    assert.match(containers, /image/);
    assert.match(containers, /imagePullPolicy/);
  });

  test(`kubectl ${version}: diff exits 1 on a change and 0 without one`, async () => {
    // The live Deployment runs nginx:1.2 (set image above); the manifest says nginx:1.0.
    const changed = await k(['diff', '-f', '-'], manifests({ configValue: 'bonjour', withExtra: false, image: 'nginx:1.0', replicas: 2 }));
    assert.equal(changed.code, 1, `diff with a change: ${changed.stderr}`);
    assert.match(changed.stdout, /nginx:1\.2/);
    const same = await k(['diff', '-f', '-'], manifests({ configValue: 'bonjour', withExtra: false, image: 'nginx:1.2', replicas: 2 }));
    assert.equal(same.code, 0, `diff without a change: ${same.stdout}${same.stderr}`);
    const deploy = await getJSON('deployment/web');
    assert.equal(deploy.spec.template.spec.containers[0].image, 'nginx:1.2', 'diff did not change the object');
  });
}
