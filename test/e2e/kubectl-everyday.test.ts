/**
 * Everyday kubectl commands, run with stock kubectl 1.27 and 1.33 against a real etcd and the
 * apiserver: the issue-A acceptance list.
 */
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startEtcd, type EtcdHandle } from '../harness/etcd.js';
import { startApiserver, type ApiserverHandle } from '../harness/apiserver.js';
import { kubectl, kubectlOK, kubectlPath } from '../harness/kubectl.js';

let etcd: EtcdHandle;
let api: ApiserverHandle;
let dir: string;

before(async () => {
  etcd = await startEtcd();
  api = await startApiserver(etcd.endpoint);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keelson-e2e-'));
});

after(async () => {
  await api?.stop();
  await etcd?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

/** The header line of a kubectl table, with columns split on runs of 2+ spaces. */
function header(out: string): string[] {
  return out.split('\n')[0]!.trim().split(/\s{2,}/);
}

function rowOf(out: string, name: string): string[] | undefined {
  const line = out.split('\n').find((l) => l.split(/\s+/).includes(name));
  return line?.trim().split(/\s{2,}/);
}

function deploymentYaml(ns: string): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: ${ns}
  labels: {app: web}
spec:
  replicas: 1
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx:1.27
`;
}

for (const v of ['1.27', '1.33']) {
  describe(`kubectl ${v}`, () => {
    const ns = `e2e-${v.replace('.', '')}`;
    const k = (args: string[], input?: string) => kubectlOK(v, api.kubeconfig, args, { input });

    test('create namespace and run a pod', async () => {
      assert.equal((await k(['create', 'namespace', ns])).trim(), `namespace/${ns} created`);
      assert.equal((await k(['run', 'web-pod', '--image=nginx', '-n', ns, '--labels=app=web,tier=front'])).trim(), 'pod/web-pod created');
    });

    test('get shows upstream columns, -o wide, -o yaml, -A, --show-labels', async () => {
      const out = await k(['get', 'pods', '-n', ns]);
      assert.deepEqual(header(out), ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE']);
      const row = rowOf(out, 'web-pod')!;
      assert.deepEqual(row.slice(0, 4), ['web-pod', '0/1', 'Pending', '0']);
      const wide = await k(['get', 'pods', '-n', ns, '-o', 'wide']);
      assert.deepEqual(header(wide), ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE', 'IP', 'NODE', 'NOMINATED NODE', 'READINESS GATES']);
      const yaml = await k(['get', 'pod', 'web-pod', '-n', ns, '-o', 'yaml']);
      assert.match(yaml, /^kind: Pod$/m);
      assert.match(yaml, /restartPolicy: Always/);
      assert.match(yaml, /imagePullPolicy: Always/);
      const all = await k(['get', 'pods', '-A']);
      assert.equal(header(all)[0], 'NAMESPACE');
      assert.ok(rowOf(all, 'web-pod')?.[0] === ns);
      const labels = await k(['get', 'pods', '-n', ns, '--show-labels']);
      assert.equal(header(labels).at(-1), 'LABELS');
      assert.equal(rowOf(labels, 'web-pod')!.at(-1), 'app=web,tier=front');
    });

    test('label and field selectors', async () => {
      assert.match(await k(['get', 'pods', '-n', ns, '-l', 'tier=front']), /web-pod/);
      assert.match(await k(['get', 'pods', '-n', ns, '-l', 'tier in (front,back),app!=db']), /web-pod/);
      const none = await kubectl(v, api.kubeconfig, ['get', 'pods', '-n', ns, '-l', 'tier=back']);
      assert.equal(none.code, 0);
      assert.match(none.stderr, new RegExp(`No resources found in ${ns} namespace`));
      assert.match(await k(['get', 'pods', '-n', ns, '--field-selector', 'metadata.name=web-pod']), /web-pod/);
      assert.match(await k(['get', 'pods', '-n', ns, '--field-selector', 'status.phase=Pending']), /web-pod/);
      const bad = await kubectl(v, api.kubeconfig, ['get', 'pods', '-n', ns, '--field-selector', 'spec.bogus=1']);
      assert.notEqual(bad.code, 0);
      assert.match(bad.stderr, /field label not supported: spec.bogus/);
    });

    test('--chunk-size pages through every object', async () => {
      for (let i = 0; i < 5; i++) await k(['create', 'configmap', `chunk-${i}`, '-n', ns, `--from-literal=i=${i}`]);
      const out = await k(['get', 'configmaps', '-n', ns, '--chunk-size=2', '-o', 'name']);
      const names = out.trim().split('\n').filter((l) => l.startsWith('configmap/chunk-'));
      assert.equal(names.length, 5);
    });

    test('get all, label, annotate, scale', async () => {
      const f = path.join(dir, `dep-${ns}.yaml`);
      fs.writeFileSync(f, deploymentYaml(ns));
      assert.match(await k(['create', '-f', f, '--validate=false']), /deployment.apps\/web created/);
      const all = await k(['get', 'all', '-n', ns]);
      assert.match(all, /pod\/web-pod/);
      assert.match(all, /deployment.apps\/web/);
      assert.match(await k(['label', 'pod', 'web-pod', '-n', ns, 'extra=yes']), /pod\/web-pod labeled/);
      // kubectl 1.27 prints "annotate", later versions "annotated".
      assert.match(await k(['annotate', 'pod', 'web-pod', '-n', ns, 'note=hello']), /pod\/web-pod annotated?$/m);
      const pod = JSON.parse(await k(['get', 'pod', 'web-pod', '-n', ns, '-o', 'json']));
      assert.equal(pod.metadata.labels.extra, 'yes');
      assert.equal(pod.metadata.annotations.note, 'hello');
      await k(['label', 'pod', 'web-pod', '-n', ns, 'extra-']);
      const pod2 = JSON.parse(await k(['get', 'pod', 'web-pod', '-n', ns, '-o', 'json']));
      assert.equal(pod2.metadata.labels.extra, undefined);
      assert.match(await k(['scale', 'deployment', 'web', '-n', ns, '--replicas=3']), /deployment.apps\/web scaled/);
      const dep = JSON.parse(await k(['get', 'deployment', 'web', '-n', ns, '-o', 'json']));
      assert.equal(dep.spec.replicas, 3);
      assert.equal(dep.metadata.generation, 2);
      const deps = await k(['get', 'deployments', '-n', ns]);
      assert.deepEqual(header(deps), ['NAME', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'AGE']);
    });

    test('get -w shows ADDED, MODIFIED and DELETED', async () => {
      const child = spawn(kubectlPath(v), ['get', 'pods', '-n', ns, '-w', '--output-watch-events', '-l', 'watched=yes'], { env: { ...process.env, KUBECONFIG: api.kubeconfig } });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      const waitFor = async (re: RegExp) => {
        const deadline = Date.now() + 20_000;
        while (!re.test(out)) {
          if (Date.now() > deadline) throw new Error(`timed out waiting for ${re}; output: ${out}`);
          await new Promise((r) => setTimeout(r, 100));
        }
      };
      // A pod that exists before the watch shows up in the initial list: once it is printed, the
      // watch is established.
      await k(['run', 'watched-seed', '--image=busybox', '-n', ns, '--labels=watched=yes']);
      try {
        await waitFor(/ADDED\s+watched-seed/);
        await k(['run', 'watched', '--image=busybox', '-n', ns, '--labels=watched=yes']);
        await waitFor(/ADDED\s+watched/);
        await k(['annotate', 'pod', 'watched', '-n', ns, 'touch=1']);
        await waitFor(/MODIFIED\s+watched/);
        await k(['delete', 'pod', 'watched', '-n', ns]);
        await waitFor(/DELETED\s+watched/);
      } finally {
        child.kill();
      }
      const events = out
        .split('\n')
        .filter((l) => /^(ADDED|MODIFIED|DELETED)\s+watched\s/.test(l))
        .map((l) => l.split(/\s+/)[0]);
      assert.deepEqual(events, ['ADDED', 'MODIFIED', 'DELETED']);
    });

    test('delete waits until the object is gone', async () => {
      assert.equal((await k(['delete', 'pod', 'web-pod', '-n', ns])).trim(), 'pod "web-pod" deleted');
      const r = await kubectl(v, api.kubeconfig, ['get', 'pod', 'web-pod', '-n', ns]);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /pods "web-pod" not found/);
      assert.match(await k(['delete', 'configmap', 'chunk-0', '-n', ns]), /configmap "chunk-0" deleted/);
    });

    test('an unknown field in a manifest is rejected with the field named', async () => {
      const f = path.join(dir, `typo-${ns}.yaml`);
      fs.writeFileSync(f, `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: typo\n  namespace: ${ns}\ndatta:\n  a: b\n`);
      const r = await kubectl(v, api.kubeconfig, ['create', '-f', f]);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /unknown field "datta"/);
    });

    test('describe and api-resources', async () => {
      await k(['run', 'described', '--image=busybox', '-n', ns]);
      const d = await k(['describe', 'pod', 'described', '-n', ns]);
      assert.match(d, /^Name:\s+described$/m);
      assert.match(d, new RegExp(`^Namespace:\\s+${ns}$`, 'm'));
      assert.match(d, /Image:\s+busybox/);
      const dd = await k(['describe', 'deployment', 'web', '-n', ns]);
      assert.match(dd, /^Name:\s+web$/m);
      const ar = await k(['api-resources']);
      assert.match(ar, /^deployments\s+deploy\s+apps\/v1\s+true\s+Deployment$/m);
      assert.match(ar, /^pods\s+po\s+v1\s+true\s+Pod$/m);
      assert.match(ar, /^namespaces\s+ns\s+v1\s+false\s+Namespace$/m);
    });
  });
}
