/**
 * Every way kubectl writes, across kubectl 1.27, 1.30, 1.32 and 1.33: client-side apply of a
 * multi-document set (create, unchanged, configured, removed fields gone) with `kubectl diff`
 * agreeing at each step, `edit` through KUBE_EDITOR, `cordon`, `set env|resources` and
 * `rollout restart`. Real etcd and apiserver, stock kubectl.
 */
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startEtcd, type EtcdHandle } from '../harness/etcd.js';
import { startApiserver, type ApiserverHandle } from '../harness/apiserver.js';
import { kubectl, kubectlOK } from '../harness/kubectl.js';

let etcd: EtcdHandle;
let api: ApiserverHandle;
let dir: string;

before(async () => {
  etcd = await startEtcd();
  api = await startApiserver(etcd.endpoint);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keelson-writes-'));
});

after(async () => {
  await api?.stop();
  await etcd?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

function manifests(ns: string, v: { image: string; schedule: string; extraKey: boolean }): string {
  return `apiVersion: v1
kind: Namespace
metadata:
  name: ${ns}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: ${ns}
data:
  mode: fast
${v.extraKey ? '  extra: "yes"\n' : ''}---
apiVersion: v1
kind: Secret
metadata:
  name: creds
  namespace: ${ns}
# data, not stringData: with stringData kubectl re-applies as "configured" every time, upstream
# too (kubernetes/kubernetes#87736).
data:
  token: YWJj
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: ${ns}
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: ${v.image}
        env:
        - {name: MODE, value: fast}
${v.extraKey ? '        - {name: EXTRA, value: "1"}\n' : ''}---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: ${ns}
spec:
  selector: {app: web}
  ports:
  - port: 80
    targetPort: 8080
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: db
  namespace: ${ns}
spec:
  serviceName: db
  replicas: 1
  selector:
    matchLabels: {app: db}
  template:
    metadata:
      labels: {app: db}
    spec:
      containers:
      - name: db
        image: busybox
---
apiVersion: batch/v1
kind: CronJob
metadata:
  name: tick
  namespace: ${ns}
spec:
  schedule: "${v.schedule}"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          containers:
          - name: tick
            image: busybox
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
  namespace: ${ns}
spec:
  rules:
  - host: web.example.com
    http:
      paths:
      - path: /
        pathType: Prefix
        backend:
          service:
            name: web
            port:
              number: 80
`;
}

const kinds = ['namespace', 'configmap', 'secret', 'deployment.apps', 'service', 'statefulset.apps', 'cronjob.batch', 'ingress.networking.k8s.io'];

function verbs(out: string): Record<string, string> {
  const m: Record<string, string> = {};
  for (const line of out.trim().split('\n')) {
    const [obj, verb] = line.trim().split(/\s+/);
    if (obj && verb) m[obj.split('/')[0]!] = verb;
  }
  return m;
}

for (const v of ['1.27', '1.30', '1.32', '1.33']) {
  describe(`kubectl ${v}`, () => {
    const ns = `writes-${v.replace('.', '')}`;
    const k = (args: string[]) => kubectlOK(v, api.kubeconfig, args);

    test('apply -f dir/: create, unchanged, configured exactly where changed; diff agrees', async () => {
      const d = path.join(dir, ns);
      fs.mkdirSync(d, { recursive: true });
      const f = path.join(d, 'all.yaml');
      fs.writeFileSync(f, manifests(ns, { image: 'nginx:1.27', schedule: '*/5 * * * *', extraKey: true }));
      const created = verbs(await k(['apply', '-f', d]));
      for (const kind of kinds) assert.equal(created[kind], 'created', `${kind}: ${JSON.stringify(created)}`);
      const same = await kubectl(v, api.kubeconfig, ['diff', '-f', d]);
      assert.equal(same.code, 0, `diff after apply: ${same.stdout}${same.stderr}`);
      const again = verbs(await k(['apply', '-f', d]));
      for (const kind of kinds) assert.equal(again[kind], 'unchanged', `${kind}: ${JSON.stringify(again)}`);

      fs.writeFileSync(f, manifests(ns, { image: 'nginx:1.28', schedule: '*/10 * * * *', extraKey: false }));
      const changed = await kubectl(v, api.kubeconfig, ['diff', '-f', d]);
      assert.equal(changed.code, 1, `diff before the change: ${changed.stderr}`);
      assert.match(changed.stdout, /nginx:1\.28/);
      const configured = verbs(await k(['apply', '-f', d]));
      assert.deepEqual(
        Object.entries(configured)
          .filter(([, verb]) => verb === 'configured')
          .map(([kind]) => kind)
          .sort(),
        ['configmap', 'cronjob.batch', 'deployment.apps'],
      );
      const cm = JSON.parse(await k(['get', 'configmap', 'settings', '-n', ns, '-o', 'json']));
      assert.deepEqual(cm.data, { mode: 'fast' }, 'the removed key is gone');
      const dep = JSON.parse(await k(['get', 'deployment', 'web', '-n', ns, '-o', 'json']));
      assert.equal(dep.spec.template.spec.containers[0].image, 'nginx:1.28');
      assert.deepEqual(dep.spec.template.spec.containers[0].env, [{ name: 'MODE', value: 'fast' }], 'the removed env var is gone');
      const after = await kubectl(v, api.kubeconfig, ['diff', '-f', d]);
      assert.equal(after.code, 0, `diff after the change: ${after.stdout}`);
    });

    test('edit through KUBE_EDITOR, set env and resources, rollout restart', async () => {
      const editor = path.join(dir, `editor-${ns}.sh`);
      fs.writeFileSync(editor, `#!/bin/sh\nsed -i 's/mode: fast/mode: slow/' "$1"\n`, { mode: 0o755 });
      const edited = await kubectl(v, api.kubeconfig, ['edit', 'configmap', 'settings', '-n', ns], { env: { KUBE_EDITOR: editor, EDITOR: editor } });
      assert.equal(edited.code, 0, edited.stderr);
      assert.match(edited.stdout, /configmap\/settings edited/);
      assert.equal(JSON.parse(await k(['get', 'configmap', 'settings', '-n', ns, '-o', 'json'])).data.mode, 'slow');
      await k(['set', 'env', 'deployment/web', '-n', ns, 'LEVEL=3']);
      await k(['set', 'resources', 'deployment/web', '-n', ns, '--limits=cpu=200m,memory=64Mi']);
      await k(['rollout', 'restart', 'deployment/web', '-n', ns]);
      const dep = JSON.parse(await k(['get', 'deployment', 'web', '-n', ns, '-o', 'json']));
      const c = dep.spec.template.spec.containers[0];
      assert.ok(c.env.some((e: any) => e.name === 'LEVEL' && e.value === '3'));
      assert.deepEqual(c.resources.limits, { cpu: '200m', memory: '64Mi' });
      assert.ok(dep.spec.template.metadata.annotations['kubectl.kubernetes.io/restartedAt']);
    });

    test('cordon and uncordon a node', async () => {
      const node = `node-${ns}`;
      await kubectlOK(v, api.kubeconfig, ['create', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name: node } }) });
      assert.match(await k(['cordon', node]), new RegExp(`node/${node} cordoned`));
      assert.equal(JSON.parse(await k(['get', 'node', node, '-o', 'json'])).spec.unschedulable, true);
      assert.match(await k(['get', 'node', node]), /SchedulingDisabled/);
      assert.match(await k(['uncordon', node]), new RegExp(`node/${node} uncordoned`));
      assert.equal(JSON.parse(await k(['get', 'node', node, '-o', 'json'])).spec.unschedulable, undefined);
    });
  });
}
