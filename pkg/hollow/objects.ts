/**
 * The API objects a hollow node writes: its Node, its Lease, and the status of a pod it "runs".
 * Pure functions of their inputs, so they are tested without a server.
 */
import { createHash } from 'node:crypto';
import type { Lease, Node, Pod } from '../api/types.js';
import { kubernetesVersion } from '../apiserver/version.js';

/** The namespace of the node Leases. */
export const nodeLeaseNamespace = 'kube-node-lease';
export const instanceTypeLabel = 'node.kubernetes.io/instance-type';
export const zoneLabel = 'topology.kubernetes.io/zone';
export const hostnameLabel = 'kubernetes.io/hostname';

/** The version hollow nodes report as their kubelet's: the apiserver's own. */
export const hollowKubeletVersion = kubernetesVersion.gitVersion;
export const hollowRuntimeVersion = 'hollow://1.0.0';

export interface NodeSpecInput {
  name: string;
  zone?: string;
  labels: Record<string, string>;
  cpu: string;
  memory: string;
  pods: number;
  podCIDR: string;
  hostIP: string;
  /** lastTransitionTime of the conditions (when this process started). */
  since: string;
  now: string;
}

/** RFC 3339 with seconds, as metav1.Time is serialized. */
export function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
}

/** RFC 3339 with microseconds, as metav1.MicroTime is serialized. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/Z$/, '000Z');
}

function hexHash(...parts: string[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(p).update('\0');
  return h.digest('hex');
}

/** Node conditions of a healthy kubelet. */
export function nodeConditions(since: string, now: string): NonNullable<NonNullable<Node['status']>['conditions']> {
  const cond = (type: string, status: string, reason: string, message: string) => ({ type, status, lastHeartbeatTime: now, lastTransitionTime: since, reason, message });
  return [
    cond('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
    cond('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
    cond('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
    cond('Ready', 'True', 'KubeletReady', 'kubelet is posting ready status'),
  ];
}

/** The status a hollow node reports: capacity, conditions, addresses and nodeInfo. */
export function nodeStatus(n: NodeSpecInput): NonNullable<Node['status']> {
  const resources = { cpu: n.cpu, memory: n.memory, pods: String(n.pods), 'ephemeral-storage': '100Gi' };
  const id = hexHash('hollow-node', n.name).slice(0, 32);
  return {
    capacity: { ...resources },
    allocatable: { ...resources },
    conditions: nodeConditions(n.since, n.now),
    addresses: [
      { type: 'InternalIP', address: n.hostIP },
      { type: 'Hostname', address: n.name },
    ],
    daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
    nodeInfo: {
      machineID: id,
      systemUUID: `${id.slice(0, 8)}-${id.slice(8, 12)}-${id.slice(12, 16)}-${id.slice(16, 20)}-${id.slice(20, 32)}`,
      bootID: hexHash('boot', n.name, n.since).slice(0, 32),
      kernelVersion: 'hollow',
      osImage: 'keelson hollow node',
      containerRuntimeVersion: hollowRuntimeVersion,
      kubeletVersion: hollowKubeletVersion,
      kubeProxyVersion: hollowKubeletVersion,
      operatingSystem: 'linux',
      architecture: 'amd64',
    },
  };
}

/** The Node a hollow node registers. */
export function nodeObject(n: NodeSpecInput): Node {
  const labels: Record<string, string> = {
    'beta.kubernetes.io/arch': 'amd64',
    'beta.kubernetes.io/os': 'linux',
    'kubernetes.io/arch': 'amd64',
    'kubernetes.io/os': 'linux',
    [hostnameLabel]: n.name,
    [instanceTypeLabel]: 'hollow',
    ...(n.zone ? { [zoneLabel]: n.zone } : {}),
    ...n.labels,
  };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: n.name,
      labels,
      annotations: { 'node.alpha.kubernetes.io/ttl': '0', 'volumes.kubernetes.io/controller-managed-attach-detach': 'true' },
    },
    spec: { podCIDR: n.podCIDR, podCIDRs: [n.podCIDR], providerID: `hollow://${n.name}` },
    status: nodeStatus(n),
  };
}

/** The node's Lease in kube-node-lease, owned by the Node so it goes when the Node does. */
export function leaseObject(nodeName: string, nodeUID: string | undefined, durationSeconds: number, nowMs: number): Lease {
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: {
      name: nodeName,
      namespace: nodeLeaseNamespace,
      ...(nodeUID ? { ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: nodeName, uid: nodeUID }] } : {}),
    },
    spec: { holderIdentity: nodeName, leaseDurationSeconds: durationSeconds, renewTime: microTime(nowMs) },
  };
}

/** The merge patch that renews a Lease. */
export function leaseRenewPatch(nodeName: string, durationSeconds: number, nowMs: number): unknown {
  return { spec: { holderIdentity: nodeName, leaseDurationSeconds: durationSeconds, renewTime: microTime(nowMs) } };
}

/** The parts of a pod spec its running status is built from: kept small, as thousands wait at once. */
export interface PodRunInput {
  uid: string;
  containers: { name: string; image: string }[];
  initContainers: { name: string; image: string; sidecar: boolean }[];
  /** lastTransitionTime of the pod's PodScheduled condition, kept as the binding wrote it. */
  scheduledAt?: string;
}

/** Extracts what `runningPodStatus` needs from a pod. */
export function podRunInput(pod: Pod): PodRunInput {
  const spec = pod.spec ?? ({} as NonNullable<Pod['spec']>);
  return {
    uid: pod.metadata?.uid ?? '',
    containers: (spec.containers ?? []).map((c) => ({ name: c.name, image: c.image ?? '' })),
    initContainers: (spec.initContainers ?? []).map((c) => ({ name: c.name, image: c.image ?? '', sidecar: c.restartPolicy === 'Always' })),
    scheduledAt: pod.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'True')?.lastTransitionTime ?? undefined,
  };
}

const imageIDs = new Map<string, string>();

/** A stable fake image digest per image reference. */
function imageID(image: string): string {
  let id = imageIDs.get(image);
  if (!id) {
    id = `${image.replace(/[:@].*$/, '')}@sha256:${hexHash('image', image)}`;
    if (imageIDs.size < 10_000) imageIDs.set(image, id);
  }
  return id;
}

/** A fake container ID, stable per pod and container. */
export function containerID(podUID: string, name: string): string {
  return `hollow://${hexHash(podUID, name)}`;
}

/**
 * The status of a pod whose containers all started and are ready, as a kubelet reports it:
 * phase Running, the five pod conditions True, init containers Completed (sidecars running),
 * every container running and ready.
 */
export function runningPodStatus(p: PodRunInput, ips: { podIP: string; hostIP: string }, nowMs: number): NonNullable<Pod['status']> {
  const now = rfc3339(nowMs);
  const cond = (type: string, at = now) => ({ type, status: 'True', lastTransitionTime: at });
  const running = (c: { name: string; image: string }) => ({
    name: c.name,
    image: c.image,
    imageID: imageID(c.image),
    containerID: containerID(p.uid, c.name),
    ready: true,
    started: true,
    restartCount: 0,
    state: { running: { startedAt: now } },
  });
  const status: NonNullable<Pod['status']> = {
    phase: 'Running',
    conditions: [cond('PodReadyToStartContainers'), cond('Initialized'), cond('Ready'), cond('ContainersReady'), cond('PodScheduled', p.scheduledAt ?? now)],
    hostIP: ips.hostIP,
    hostIPs: [{ ip: ips.hostIP }],
    podIP: ips.podIP,
    podIPs: [{ ip: ips.podIP }],
    startTime: now,
    containerStatuses: p.containers.map(running),
  };
  if (p.initContainers.length) {
    status.initContainerStatuses = p.initContainers.map((c) =>
      c.sidecar
        ? running(c)
        : {
            name: c.name,
            image: c.image,
            imageID: imageID(c.image),
            containerID: containerID(p.uid, c.name),
            ready: true,
            started: false,
            restartCount: 0,
            state: { terminated: { exitCode: 0, reason: 'Completed', startedAt: now, finishedAt: now, containerID: containerID(p.uid, c.name) } },
          },
    );
  }
  return status;
}

/** Whether a pod already shows what `runningPodStatus` writes (so nothing is to be done). */
export function looksRunning(pod: Pod): boolean {
  const st = pod.status;
  if (!st || st.phase !== 'Running' || !st.podIP) return false;
  const want = pod.spec?.containers?.length ?? 0;
  const statuses = st.containerStatuses ?? [];
  return statuses.length === want && statuses.every((c) => c.ready && c.state?.running);
}
