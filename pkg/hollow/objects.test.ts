import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from '../api/types.js';
import { effectiveMaskSize, nodeAddress, nodePodCIDR, PodIPPool } from './node-network.js';
import { leaseObject, looksRunning, microTime, nodeObject, podRunInput, runningPodStatus } from './objects.js';
import { parseCIDR } from '../registry/allocators/cidr.js';
import { hollowConfigFromFlags, parseLabels } from './flags.js';

const t0 = Date.parse('2025-03-01T10:00:00.123Z');

test('node CIDRs are carved in order and pod IPs skip network, gateway and broadcast', () => {
  const cluster = parseCIDR('10.128.0.0/10');
  assert.equal(nodePodCIDR(cluster, 24, 0).text, '10.128.0.0/24');
  assert.equal(nodePodCIDR(cluster, 24, 999).text, '10.131.231.0/24');
  assert.throws(() => nodePodCIDR(parseCIDR('10.0.0.0/23'), 24, 2), /no room/);
  assert.equal(effectiveMaskSize(24, 110), 24);
  assert.equal(effectiveMaskSize(24, 500), 23);
  assert.equal(effectiveMaskSize(24, 510), 22);
  assert.equal(nodeAddress(parseCIDR('172.20.0.0/14'), 0), '172.20.0.1');
  const pool = new PodIPPool(parseCIDR('10.0.0.0/29'));
  const ips = [pool.allocate(), pool.allocate(), pool.allocate(), pool.allocate(), pool.allocate()];
  assert.deepEqual(ips, ['10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5', '10.0.0.6']);
  assert.equal(pool.allocate(), undefined);
  pool.release('10.0.0.4');
  assert.equal(pool.allocate(), '10.0.0.4');
  pool.claim('10.9.9.9');
  assert.equal(pool.inUse(), 5);
});

test('the Node carries the hollow labels, zone, capacity and nodeInfo', () => {
  const n = nodeObject({ name: 'h-1', zone: 'z1', labels: { team: 'x' }, cpu: '8', memory: '32Gi', pods: 50, podCIDR: '10.128.1.0/24', hostIP: '172.20.0.2', since: 'S', now: 'N' });
  assert.equal(n.metadata!.labels!['kubernetes.io/hostname'], 'h-1');
  assert.equal(n.metadata!.labels!['node.kubernetes.io/instance-type'], 'hollow');
  assert.equal(n.metadata!.labels!['topology.kubernetes.io/zone'], 'z1');
  assert.equal(n.metadata!.labels!.team, 'x');
  assert.deepEqual(n.status!.capacity, { cpu: '8', memory: '32Gi', pods: '50', 'ephemeral-storage': '100Gi' });
  assert.deepEqual(n.status!.conditions!.find((c) => c.type === 'Ready'), { type: 'Ready', status: 'True', lastHeartbeatTime: 'N', lastTransitionTime: 'S', reason: 'KubeletReady', message: 'kubelet is posting ready status' });
  assert.match(n.status!.nodeInfo!.containerRuntimeVersion, /^hollow:\/\//);
  assert.deepEqual(n.spec!.podCIDRs, ['10.128.1.0/24']);
  const l = leaseObject('h-1', 'uid-1', 40, t0);
  assert.equal(l.spec!.renewTime, '2025-03-01T10:00:00.123000Z');
  assert.equal(microTime(t0), '2025-03-01T10:00:00.123000Z');
  assert.deepEqual(l.metadata!.ownerReferences, [{ apiVersion: 'v1', kind: 'Node', name: 'h-1', uid: 'uid-1' }]);
});

test('a running status: conditions, IPs, init containers completed, sidecars running', () => {
  const pod: Pod = {
    metadata: { name: 'p', namespace: 'ns', uid: 'u1' },
    spec: {
      nodeName: 'h-1',
      initContainers: [{ name: 'init', image: 'busybox' }, { name: 'sidecar', image: 'envoy', restartPolicy: 'Always' }],
      containers: [{ name: 'app', image: 'nginx:1.27' }],
    },
    status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'True', lastTransitionTime: '2025-03-01T09:59:59Z' }] },
  };
  assert.equal(looksRunning(pod), false);
  const st = runningPodStatus(podRunInput(pod), { podIP: '10.128.1.2', hostIP: '172.20.0.2' }, t0);
  assert.equal(st.phase, 'Running');
  assert.deepEqual(st.conditions!.map((c) => [c.type, c.status]), [
    ['PodReadyToStartContainers', 'True'],
    ['Initialized', 'True'],
    ['Ready', 'True'],
    ['ContainersReady', 'True'],
    ['PodScheduled', 'True'],
  ]);
  assert.equal(st.conditions!.find((c) => c.type === 'PodScheduled')!.lastTransitionTime, '2025-03-01T09:59:59Z');
  assert.deepEqual(st.podIPs, [{ ip: '10.128.1.2' }]);
  assert.equal(st.startTime, '2025-03-01T10:00:00Z');
  assert.equal(st.initContainerStatuses![0]!.state!.terminated!.reason, 'Completed');
  assert.ok(st.initContainerStatuses![1]!.state!.running);
  assert.equal(st.containerStatuses![0]!.containerID, runningPodStatus(podRunInput(pod), { podIP: 'x', hostIP: 'y' }, t0).containerStatuses![0]!.containerID);
  assert.equal(looksRunning({ ...pod, status: st }), true);
});

test('flags override the defaults', () => {
  const c = hollowConfigFromFlags(['--count=7', '--name-prefix', 'n-', '--zones=a,b', '--cpu=2', '--memory=8Gi', '--pods=30', '--node-labels=x=1,y=2', '--node-lease-duration-seconds=20', '--healthz-port=0']);
  assert.equal(c.count, 7);
  assert.equal(c.namePrefix, 'n-');
  assert.deepEqual(c.zones, ['a', 'b']);
  assert.equal(c.cpu, '2');
  assert.equal(c.memory, '8Gi');
  assert.equal(c.pods, 30);
  assert.deepEqual(c.labels, { x: '1', y: '2' });
  assert.equal(c.leaseDurationSeconds, 20);
  assert.equal(c.leaseRenewIntervalMs, 5000);
  assert.equal(c.port, 0);
  assert.throws(() => hollowConfigFromFlags(['--bogus']));
  assert.throws(() => parseLabels('novalue'), /key=value/);
});
