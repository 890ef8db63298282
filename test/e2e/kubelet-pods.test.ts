/**
 * The kubelet end to end: real etcd and apiserver, a private containerd with real CNI plugins,
 * keelson's kubelet in-process, stock kubectl 1.33. Pods are bound by the test (no scheduler).
 */
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { startEtcd, freePort, type EtcdHandle } from '../harness/etcd.js';
import { startApiserver, type ApiserverHandle } from '../harness/apiserver.js';
import { kubectlOK } from '../harness/kubectl.js';
import { req } from '../harness/client.js';
import { nodeTestsSupported, startNodeRuntime, type NodeRuntime } from '../harness/containerd.js';
import fs from 'node:fs';
import path from 'node:path';
import { bindPod, containerStatus, createBoundPod, getPod, kubeletConfigFor, nodeNameFor, startKubelet, waitForPod, type KubeletHandle } from '../harness/kubelet.js';

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

  test('a hostNetwork pod shares the node network: its pod IP is the node IP', async () => {
    const port = await freePort();
    await createBoundPod(
      api.url,
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'hostnet', namespace: NS },
        spec: {
          hostNetwork: true,
          terminationGracePeriodSeconds: 1,
          containers: [{ name: 'c', image: node.images.busybox, command: ['httpd', '-f', '-p', `127.0.0.1:${port}`, '-h', '/etc'], readinessProbe: { tcpSocket: { port }, periodSeconds: 1 } }],
        },
      },
      nodeName,
    );
    const pod = await waitForPod(api.url, NS, 'hostnet', (p) => containerStatus(p, 'c')?.ready === true, 60_000, 'ready');
    assert.equal(pod.status.podIP, '127.0.0.1');
    assert.equal((await fetch(`http://127.0.0.1:${port}/hostname`)).status, 200);
    await req(api.url, 'DELETE', `/api/v1/namespaces/${NS}/pods/hostnet`);
  });

  test('the echo server image answers with its pod name', async () => {
    await createBoundPod(api.url, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'echo', namespace: NS }, spec: { containers: [{ name: 'echo', image: node.images.echo, ports: [{ containerPort: 8080 }] }] } }, nodeName);
    const pod = await waitForPod(api.url, NS, 'echo', (p) => p.status?.phase === 'Running', 60_000, 'Running');
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        const r = await fetch(`http://${pod.status.podIP}:8080/`);
        assert.equal((await r.text()).trim(), 'echo');
        break;
      } catch (e) {
        if (Date.now() > deadline) throw e;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  });

  test('failures: CrashLoopBackOff, liveness restarts, readiness holds Ready False, bad images, config errors, OOMKilled', async () => {
    const bb = node.images.busybox;
    const pods = [
      { name: 'crash', spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'c', image: bb, command: ['sh', '-c', 'echo attempt; exit 1'] }] } },
      {
        name: 'live',
        spec: {
          terminationGracePeriodSeconds: 1,
          containers: [{ name: 'c', image: bb, command: ['sh', '-c', 'touch /tmp/ok; sleep 2; rm /tmp/ok; exec sleep 3600'], livenessProbe: { exec: { command: ['cat', '/tmp/ok'] }, periodSeconds: 1, failureThreshold: 1 } }],
        },
      },
      {
        name: 'unready',
        spec: {
          terminationGracePeriodSeconds: 1,
          containers: [{ name: 'c', image: bb, command: ['sh', '-c', 'exec sleep 3600'], readinessProbe: { httpGet: { path: '/', port: 9999 }, periodSeconds: 1 } }],
        },
      },
      { name: 'badimage', spec: { containers: [{ name: 'c', image: `busybox:0.0.0-does-not-exist` }] } },
      { name: 'badconfig', spec: { containers: [{ name: 'c', image: bb, command: ['sleep', '3600'], env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'no-such-cm', key: 'k' } } }] }] } },
      { name: 'oom', spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: bb, command: ['sh', '-c', 'tail /dev/zero'], resources: { limits: { memory: '16Mi' } } }] } },
    ];
    for (const p of pods) await createBoundPod(api.url, { apiVersion: 'v1', kind: 'Pod', metadata: { name: p.name, namespace: NS }, spec: p.spec }, nodeName);
    await Promise.all([
      (async () => {
        const p = await waitForPod(api.url, NS, 'crash', (x) => containerStatus(x, 'c')?.state?.waiting?.reason === 'CrashLoopBackOff' && containerStatus(x, 'c')?.restartCount >= 2, 60_000, 'CrashLoopBackOff with restartCount >= 2');
        const cs = containerStatus(p, 'c');
        assert.match(cs.state.waiting.message, /^back-off \d+s restarting failed container=c pod=crash_default\(/);
        assert.equal(cs.lastState.terminated.exitCode, 1);
        assert.equal(cs.lastState.terminated.reason, 'Error');
        assert.equal(p.status.phase, 'Running');
        const out = await kubectlOK('1.33', api.kubeconfig, ['get', 'pod', 'crash']);
        assert.match(out, /crash\s+0\/1\s+CrashLoopBackOff\s+[2-9]/);
        // The count keeps growing.
        await waitForPod(api.url, NS, 'crash', (x) => containerStatus(x, 'c')?.restartCount > cs.restartCount, 60_000, 'a further restart');
      })(),
      (async () => {
        const p = await waitForPod(api.url, NS, 'live', (x) => containerStatus(x, 'c')?.restartCount >= 1 && !!containerStatus(x, 'c')?.state?.running, 60_000, 'a liveness restart');
        assert.equal(containerStatus(p, 'c').lastState.terminated.exitCode, 137);
      })(),
      (async () => {
        const p = await waitForPod(api.url, NS, 'unready', (x) => !!containerStatus(x, 'c')?.state?.running, 60_000, 'running');
        await new Promise((r) => setTimeout(r, 4_000));
        const q = (await getPod(api.url, NS, 'unready'))!;
        assert.equal(containerStatus(q, 'c').ready, false);
        assert.equal(q.status.phase, 'Running');
        const ready = q.status.conditions.find((c: any) => c.type === 'Ready');
        assert.equal(ready.status, 'False');
        assert.equal(ready.reason, 'ContainersNotReady');
        assert.equal(ready.message, 'containers with unready status: [c]');
        assert.equal(containerStatus(q, 'c').restartCount, 0, 'readiness failures do not restart');
        void p;
      })(),
      (async () => {
        const seen = new Set<string>();
        await waitForPod(
          api.url,
          NS,
          'badimage',
          (x) => {
            const r = containerStatus(x, 'c')?.state?.waiting?.reason;
            if (r) seen.add(r);
            return seen.has('ImagePullBackOff') && seen.has('ErrImagePull');
          },
          60_000,
          'ErrImagePull and ImagePullBackOff',
        );
        const p = (await getPod(api.url, NS, 'badimage'))!;
        assert.equal(p.status.phase, 'Pending');
      })(),
      (async () => {
        const p = await waitForPod(api.url, NS, 'badconfig', (x) => containerStatus(x, 'c')?.state?.waiting?.reason === 'CreateContainerConfigError', 60_000, 'CreateContainerConfigError');
        assert.equal(containerStatus(p, 'c').state.waiting.message, 'configmap "no-such-cm" not found');
      })(),
      (async () => {
        const p = await waitForPod(api.url, NS, 'oom', (x) => x.status?.phase === 'Failed', 60_000, 'Failed');
        const t = containerStatus(p, 'c').state.terminated;
        assert.equal(t.reason, 'OOMKilled');
        assert.equal(t.exitCode, 137);
        assert.equal(p.status.conditions.find((c: any) => c.type === 'Ready').reason, 'PodCompleted');
      })(),
    ]);
  });

  test('volumes (configMap, secret, emptyDir, downwardAPI, projected, subPath), env, init containers, resources and securityContext are visible inside', async () => {
    await req(api.url, 'POST', `/api/v1/namespaces/${NS}/configmaps`, { metadata: { name: 'cfg' }, data: { 'greeting.txt': 'hello from a configmap', color: 'blue' } });
    await req(api.url, 'POST', `/api/v1/namespaces/${NS}/secrets`, { metadata: { name: 'sec' }, data: { password: Buffer.from('s3cret').toString('base64') } });
    const script = [
      'echo "env COLOR=$COLOR POD=$POD_NAME NS=$POD_NS IP=$POD_IP PW=$PASSWORD MEM=$MEM_LIMIT_MI PLAIN=$PLAIN"',
      'echo "cm=$(cat /etc/cfg/greeting.txt)"',
      'echo "secret=$(cat /etc/sec/password)"',
      'echo "labels=$(cat /etc/podinfo/labels)"',
      'echo "projected=$(cat /etc/proj/color)/$(cat /etc/proj/name)"',
      'echo "init=$(cat /work/init.txt)"',
      'echo "emptydir-writable=$(touch /work/x && echo yes)"',
      'echo "hosts=$(grep -c vol /etc/hosts)"',
      'echo "ro=$(touch /etc/cfg/new 2>/dev/null && echo no || echo yes)"',
      'echo "memfs=$(grep " /mem " /proc/mounts | cut -d" " -f3)"',
      'echo "resolv=$(grep -c "nameserver 10.96.0.10" /etc/resolv.conf) $(grep search /etc/resolv.conf)"',
      'echo "memlimit=$(cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max)"',
      'echo "cpuquota=$(cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us 2>/dev/null || cat /sys/fs/cgroup/cpu.max)"',
      'exec sleep 3600',
    ].join('; ');
    await createBoundPod(
      api.url,
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'vol', namespace: NS, labels: { app: 'vol', tier: 'test' } },
        spec: {
          terminationGracePeriodSeconds: 1,
          initContainers: [
            { name: 'init1', image: node.images.busybox, command: ['sh', '-c', 'echo one > /work/init.txt'], volumeMounts: [{ name: 'work', mountPath: '/work' }] },
            { name: 'init2', image: node.images.busybox, command: ['sh', '-c', 'echo two >> /work/init.txt'], volumeMounts: [{ name: 'work', mountPath: '/work' }] },
          ],
          containers: [
            {
              name: 'main',
              image: node.images.busybox,
              command: ['sh', '-c', script],
              env: [
                { name: 'COLOR', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'color' } } },
                { name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'sec', key: 'password' } } },
                { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
                { name: 'POD_NS', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
                { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
                { name: 'MEM_LIMIT_MI', valueFrom: { resourceFieldRef: { resource: 'limits.memory', divisor: '1Mi' } } },
                { name: 'PLAIN', value: 'x-$(POD_NAME)' },
              ],
              resources: { limits: { memory: '64Mi', cpu: '250m' } },
              volumeMounts: [
                { name: 'cfg', mountPath: '/etc/cfg' },
                { name: 'sec', mountPath: '/etc/sec' },
                { name: 'podinfo', mountPath: '/etc/podinfo' },
                { name: 'proj', mountPath: '/etc/proj' },
                { name: 'work', mountPath: '/work' },
                { name: 'mem', mountPath: '/mem' },
              ],
            },
            {
              name: 'secure',
              image: node.images.busybox,
              command: ['sh', '-c', 'echo "id=$(id -u):$(id -g)"; echo "rootfs-ro=$(touch /x 2>/dev/null && echo no || echo yes)"; echo "chown=$(chown 0 /tmp 2>/dev/null && echo allowed || echo denied)"; echo "tmp=$(ls -d /work-sub)"; exec sleep 3600'],
              securityContext: { runAsUser: 1000, runAsGroup: 3000, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
              volumeMounts: [{ name: 'work', mountPath: '/work-sub', subPath: 'sub' }],
            },
          ],
          volumes: [
            { name: 'cfg', configMap: { name: 'cfg' } },
            { name: 'sec', secret: { secretName: 'sec' } },
            { name: 'podinfo', downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }] } },
            { name: 'proj', projected: { sources: [{ configMap: { name: 'cfg', items: [{ key: 'color', path: 'color' }] } }, { downwardAPI: { items: [{ path: 'name', fieldRef: { fieldPath: 'metadata.name' } }] } }] } },
            { name: 'work', emptyDir: {} },
            { name: 'mem', emptyDir: { medium: 'Memory', sizeLimit: '8Mi' } },
          ],
        },
      },
      nodeName,
    );
    const pod = await waitForPod(api.url, NS, 'vol', (p) => p.status?.phase === 'Running', 60_000, 'Running');
    // The init containers have no limits, so the pod is Burstable, not Guaranteed.
    assert.equal(pod.status.qosClass, 'Burstable');
    assert.deepEqual(pod.status.initContainerStatuses.map((s: any) => [s.name, s.state.terminated?.exitCode]), [
      ['init1', 0],
      ['init2', 0],
    ]);
    let logs = '';
    const deadline = Date.now() + 15_000;
    while (!logs.includes('cpuquota=')) {
      logs = await (await fetch(`${kubelet.url}/containerLogs/${NS}/vol/main`)).text();
      if (Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.match(logs, new RegExp(`env COLOR=blue POD=vol NS=default IP=${pod.status.podIP.replace(/\./g, '\\.')} PW=s3cret MEM=64 PLAIN=x-vol`));
    assert.match(logs, /cm=hello from a configmap/);
    assert.match(logs, /secret=s3cret/);
    assert.match(logs, /labels=app="vol"\s*tier="test"/);
    assert.match(logs, /projected=blue\/vol/);
    assert.match(logs, /init=one\s*two/);
    assert.match(logs, /emptydir-writable=yes/);
    assert.match(logs, /hosts=1/);
    assert.match(logs, /ro=yes/);
    assert.match(logs, /memlimit=67108864/);
    assert.match(logs, /memfs=tmpfs/);
    assert.match(logs, /resolv=1 search default\.svc\.cluster\.local svc\.cluster\.local cluster\.local/);
    assert.match(logs, /cpuquota=25000/);
    let secure = '';
    while (!secure.includes('tmp=')) {
      secure = await (await fetch(`${kubelet.url}/containerLogs/${NS}/vol/secure`)).text();
      if (Date.now() > deadline + 5_000) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.match(secure, /id=1000:3000/);
    assert.match(secure, /rootfs-ro=yes/);
    assert.match(secure, /chown=denied/);
    assert.match(secure, /tmp=\/work-sub/);
    // containerLogs options: tailLines, timestamps, limitBytes.
    const tail = await (await fetch(`${kubelet.url}/containerLogs/${NS}/vol/main?tailLines=1&timestamps=true`)).text();
    assert.match(tail, /^\d{4}-\d\d-\d\dT[\d:.]+Z cpuquota=25000\n$/);
    const limited = await (await fetch(`${kubelet.url}/containerLogs/${NS}/vol/main?limitBytes=4`)).text();
    assert.equal(limited, 'env ');
  });

  test('previous logs of a restarted container, metrics and stats', async () => {
    const prev = await fetch(`${kubelet.url}/containerLogs/${NS}/crash/c?previous=true`);
    assert.equal(prev.status, 200);
    assert.equal(await prev.text(), 'attempt\n');
    const metrics = await (await fetch(`${kubelet.url}/metrics`)).text();
    assert.match(metrics, /^kubelet_running_pods \d+/m);
    assert.match(metrics, /^kubelet_running_containers\{container_state="running"\} \d+/m);
    assert.match(metrics, /^kubelet_pod_start_duration_seconds_count \d+/m);
    assert.match(metrics, /^kubelet_runtime_operations_total\{operation_type="run_podsandbox"\} \d+/m);
    assert.match(metrics, /^kubelet_runtime_operations_duration_seconds_bucket\{le="[\d.]+",operation_type="create_container"\} \d+/m);
    const summary = await (await fetch(`${kubelet.url}/stats/summary`)).json();
    assert.equal(summary.node.nodeName, nodeName);
    assert.ok(summary.node.memory.workingSetBytes > 0);
    const vol = summary.pods.find((p: any) => p.podRef.name === 'vol');
    assert.ok(vol, 'stats for pod vol');
    assert.ok(vol.containers.find((c: any) => c.name === 'main')?.memory?.workingSetBytes > 0);
    assert.equal((await fetch(`${kubelet.url}/healthz`)).status, 200);
  });

  test('deletion stops the pod within its grace period, runs preStop, and frees its IP', async () => {
    await createBoundPod(
      api.url,
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'bye', namespace: NS },
        spec: {
          terminationGracePeriodSeconds: 5,
          containers: [
            {
              name: 'c',
              image: node.images.busybox,
              command: ['sh', '-c', 'trap "exit 0" TERM; while true; do sleep 1; done'],
              lifecycle: { preStop: { exec: { command: ['sh', '-c', 'echo prestop > /host/prestop'] } } },
              volumeMounts: [{ name: 'host', mountPath: '/host' }],
            },
          ],
          volumes: [{ name: 'host', hostPath: { path: path.join(node.dir, 'hostpath-bye'), type: 'DirectoryOrCreate' } }],
        },
      },
      nodeName,
    );
    const pod = await waitForPod(api.url, NS, 'bye', (p) => p.status?.phase === 'Running', 60_000, 'Running');
    const ip = pod.status.podIP;
    const ipFile = path.join(node.cniIpamDataDir, 'keelson', ip);
    assert.ok(fs.existsSync(ipFile), 'host-local holds the IP');
    const t0 = Date.now();
    await kubectlOK('1.33', api.kubeconfig, ['delete', 'pod', 'bye', '--wait=true', '--timeout=30s']);
    const took = Date.now() - t0;
    assert.ok(took < 5_000 + 3_000, `deleted in ${took}ms`);
    assert.equal(await getPod(api.url, NS, 'bye'), undefined);
    assert.ok(!fs.existsSync(ipFile), 'host-local released the IP');
    assert.equal(fs.readFileSync(path.join(node.dir, 'hostpath-bye', 'prestop'), 'utf8'), 'prestop\n', 'preStop ran');
    const sandboxes = await node.cri.listPodSandbox({ label_selector: { 'io.kubernetes.pod.uid': pod.metadata.uid } });
    const deadline = Date.now() + 10_000;
    let left = sandboxes.length;
    while (left > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      left = (await node.cri.listPodSandbox({ label_selector: { 'io.kubernetes.pod.uid': pod.metadata.uid } })).length;
    }
    assert.equal(left, 0, 'sandbox removed');
  });
});
