/**
 * Kubelet crash safety: the kubelet runs as a child process, is killed with SIGKILL and started
 * again. Running containers keep their IDs (nothing is restarted), and state that changed while it
 * was down is reconciled: a container that died is restarted, a pod deleted meanwhile is removed.
 */
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { startEtcd, freePort, type EtcdHandle } from '../harness/etcd.js';
import { startApiserver, type ApiserverHandle } from '../harness/apiserver.js';
import { kubectlOK } from '../harness/kubectl.js';
import { req } from '../harness/client.js';
import { nodeTestsSupported, startNodeRuntime, type NodeRuntime } from '../harness/containerd.js';
import { containerStatus, createBoundPod, kubeletConfigFor, nodeNameFor, spawnKubelet, waitForPod, type KubeletProcess } from '../harness/kubelet.js';

const support = nodeTestsSupported();
const NS = 'default';

let etcd: EtcdHandle;
let api: ApiserverHandle;
let node: NodeRuntime;
let kubelet: KubeletProcess | undefined;

function sleeper(name: string): any {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: NS },
    spec: {
      terminationGracePeriodSeconds: 1,
      containers: [{ name: 'c', image: 'busybox', command: ['sh', '-c', 'exec sleep 3600'], readinessProbe: { exec: { command: ['true'] }, periodSeconds: 1 } }],
    },
  };
}

describe('kubelet restart', { skip: support.ok ? false : support.why }, () => {
  before(async () => {
    etcd = await startEtcd();
    api = await startApiserver(etcd.endpoint);
    node = await startNodeRuntime({ name: 'restart' });
  });

  after(async () => {
    await kubelet?.kill().catch(() => undefined);
    await node?.stop();
    await api?.stop();
    await etcd?.stop();
  });

  test('kill -9 and restart: running containers keep their IDs and status reconciles', async () => {
    const nodeName = nodeNameFor('e2e-restart');
    const config = kubeletConfigFor(node, api.kubeconfig, nodeName);
    const port = await freePort();
    kubelet = await spawnKubelet(config, port);
    for (const name of ['steady', 'dies', 'gone']) await createBoundPod(api.url, sleeper(name), nodeName);
    const before: Record<string, any> = {};
    for (const name of ['steady', 'dies', 'gone']) {
      before[name] = await waitForPod(api.url, NS, name, (p) => p.status?.phase === 'Running' && containerStatus(p, 'c')?.ready === true, 60_000, 'Running and ready');
    }
    const sandboxesOf = async (uid: string) => node.cri.listPodSandbox({ label_selector: { 'io.kubernetes.pod.uid': uid } });
    const steadySandboxes = (await sandboxesOf(before.steady.metadata.uid)).map((s) => s.id);
    assert.equal(steadySandboxes.length, 1);

    await kubelet.kill('SIGKILL');

    // While the kubelet is down: one container dies, one pod is force-deleted from the API.
    const diesId = containerStatus(before.dies, 'c').containerID.replace('containerd://', '');
    await node.cri.stopContainer(diesId, 0);
    const del = await req(api.url, 'DELETE', `/api/v1/namespaces/${NS}/pods/gone`, { kind: 'DeleteOptions', apiVersion: 'v1', gracePeriodSeconds: 0 });
    assert.ok(del.status === 200 || del.status === 202, `force delete: ${del.status}`);

    kubelet = await spawnKubelet(config, port);

    const dies = await waitForPod(api.url, NS, 'dies', (p) => containerStatus(p, 'c')?.restartCount === 1 && containerStatus(p, 'c')?.ready === true, 60_000, 'the dead container restarted');
    assert.equal(containerStatus(dies, 'c').lastState.terminated.exitCode, 137);

    const deadline = Date.now() + 30_000;
    while ((await sandboxesOf(before.gone.metadata.uid)).length > 0) {
      if (Date.now() > deadline) assert.fail('the pod deleted while the kubelet was down still has a sandbox');
      await new Promise((r) => setTimeout(r, 250));
    }

    // Give the restarted kubelet a few sync rounds, then check nothing was restarted.
    await new Promise((r) => setTimeout(r, 3_000));
    const steady = await waitForPod(api.url, NS, 'steady', (p) => containerStatus(p, 'c')?.ready === true, 30_000, 'ready');
    assert.equal(containerStatus(steady, 'c').containerID, containerStatus(before.steady, 'c').containerID, 'same container');
    assert.equal(containerStatus(steady, 'c').restartCount, 0);
    assert.equal(steady.status.podIP, before.steady.status.podIP, 'same pod IP');
    assert.deepEqual((await sandboxesOf(before.steady.metadata.uid)).map((s) => s.id), steadySandboxes, 'same sandbox');
    const running = await node.cri.listContainers({ label_selector: { 'io.kubernetes.pod.uid': before.steady.metadata.uid } });
    assert.equal(running.length, 1, 'no second container was created');
    const out = await kubectlOK('1.33', api.kubeconfig, ['get', 'pods']);
    assert.match(out, /steady\s+1\/1\s+Running\s+0/);
    assert.match(out, /dies\s+1\/1\s+Running\s+1/);
    assert.doesNotMatch(out, /gone/);
  });
});
