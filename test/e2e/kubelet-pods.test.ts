/**
 * The kubelet end to end: real etcd and apiserver, a private containerd with real CNI plugins,
 * keelson's kubelet in-process, stock kubectl 1.33. Pods are bound by the test (no scheduler).
 */
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { startEtcd, type EtcdHandle } from '../harness/etcd.js';
import { startApiserver, type ApiserverHandle } from '../harness/apiserver.js';
import { kubectlOK } from '../harness/kubectl.js';
import { req } from '../harness/client.js';
import { nodeTestsSupported, startNodeRuntime, type NodeRuntime } from '../harness/containerd.js';
import { bindPod, containerStatus, kubeletConfigFor, nodeNameFor, startKubelet, waitForPod, type KubeletHandle } from '../harness/kubelet.js';

const support = nodeTestsSupported();
const NS = 'default';

let etcd: EtcdHandle;
let api: ApiserverHandle;
let node: NodeRuntime;
let kubelet: KubeletHandle;
let nodeName: string;

describe('kubelet', { skip: support.ok ? false : support.why }, () => {
  before(async () => {
    etcd = await startEtcd();
    api = await startApiserver(etcd.endpoint);
    node = await startNodeRuntime({ name: 'pods' });
    nodeName = nodeNameFor('e2e-node');
    kubelet = await startKubelet(kubeletConfigFor(node, api.kubeconfig, nodeName));
  });

  after(async () => {
    await kubelet?.stop().catch(() => undefined);
    await node?.stop();
    await api?.stop();
    await etcd?.stop();
  });

  test('registers the Node with capacity, addresses, nodeInfo, labels, a Lease and Ready', async () => {
    const deadline = Date.now() + 30_000;
    let n: any;
    for (;;) {
      n = (await req(api.url, 'GET', `/api/v1/nodes/${nodeName}`)).body;
      if (n?.status?.conditions?.find((c: any) => c.type === 'Ready')?.status === 'True') break;
      if (Date.now() > deadline) assert.fail(`node not Ready: ${JSON.stringify(n?.status?.conditions)}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    assert.equal(n.metadata.labels['kubernetes.io/hostname'], nodeName);
    assert.equal(n.metadata.labels['kubernetes.io/os'], 'linux');
    assert.ok(n.metadata.labels['kubernetes.io/arch']);
    assert.ok(!('node.kubernetes.io/instance-type' in n.metadata.labels));
    assert.equal(n.spec.podCIDR, node.podCIDR);
    for (const r of ['cpu', 'memory', 'ephemeral-storage', 'pods']) {
      assert.ok(n.status.capacity[r], `capacity ${r}`);
      assert.ok(n.status.allocatable[r], `allocatable ${r}`);
    }
    assert.equal(n.status.capacity.pods, '110');
    assert.deepEqual(n.status.addresses, [
      { type: 'InternalIP', address: '127.0.0.1' },
      { type: 'Hostname', address: nodeName },
    ]);
    assert.match(n.status.nodeInfo.containerRuntimeVersion, /^containerd:\/\//);
    assert.match(n.status.nodeInfo.kubeletVersion, /^v1\./);
    assert.deepEqual(n.status.conditions.map((c: any) => c.type).sort(), ['DiskPressure', 'MemoryPressure', 'PIDPressure', 'Ready']);
    assert.equal(n.status.daemonEndpoints.kubeletEndpoint.Port, kubelet.port);
    const lease = await req(api.url, 'GET', `/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${nodeName}`);
    assert.equal(lease.status, 200);
    assert.equal(lease.body.spec.holderIdentity, nodeName);
    const out = await kubectlOK('1.33', api.kubeconfig, ['get', 'nodes']);
    assert.match(out, new RegExp(`${nodeName}\\s+Ready`));
  });

  test('kubectl run: a busybox httpd pod reaches Running and the host fetches from its pod IP', async () => {
    await kubectlOK('1.33', api.kubeconfig, ['run', 'web', `--image=${node.images.busybox}`, '--restart=Never', '--', 'httpd', '-f', '-p', '8080', '-h', '/etc']);
    await bindPod(api.url, NS, 'web', nodeName);
    const pod = await waitForPod(api.url, NS, 'web', (p) => p.status?.phase === 'Running' && containerStatus(p, 'web')?.ready === true, 60_000, 'Running and ready');
    assert.ok(pod.status.podIP, 'pod IP');
    const [a, b, c] = node.podCIDR.split('.');
    assert.ok(pod.status.podIP.startsWith(`${a}.${b}.${c}.`), `pod IP ${pod.status.podIP} in ${node.podCIDR}`);
    assert.equal(pod.status.hostIP, '127.0.0.1');
    assert.equal(pod.status.qosClass, 'BestEffort');
    const cs = containerStatus(pod, 'web');
    assert.match(cs.containerID, /^containerd:\/\/[0-9a-f]{64}$/);
    assert.match(cs.imageID, /busybox@sha256:/);
    assert.equal(cs.restartCount, 0);
    assert.ok(cs.state.running.startedAt);
    const types = Object.fromEntries(pod.status.conditions.map((c: any) => [c.type, c.status]));
    assert.deepEqual(types, { PodReadyToStartContainers: 'True', Initialized: 'True', Ready: 'True', ContainersReady: 'True', PodScheduled: 'True' });
    const r = await fetch(`http://${pod.status.podIP}:8080/hostname`);
    assert.equal(r.status, 200);
    assert.equal((await r.text()).trim(), 'web');
    const wide = await kubectlOK('1.33', api.kubeconfig, ['get', 'pod', 'web', '-o', 'wide']);
    assert.match(wide, new RegExp(`web\\s+1/1\\s+Running\\s+0\\s+\\S+\\s+${pod.status.podIP.replace(/\./g, '\\.')}\\s+${nodeName}`));
  });
});
