/**
 * The Node this kubelet registers and keeps current (upstream kubelet_node_status.go and
 * nodelease): capacity and allocatable from the machine, addresses, nodeInfo, the standard labels,
 * the Ready/MemoryPressure/DiskPressure/PIDPressure conditions and the image list, plus the Lease
 * in kube-node-lease renewed every 10 seconds.
 */
import fs from 'node:fs';
import os from 'node:os';
import type { Node } from './types.js';
import { ApiError, isApiNotFound, isApiConflict, type ApiClient } from './api-client.js';
import type { CriClient } from '../cri/index.js';
import type { Logger } from '../log/logger.js';
import type { Clock, KubeletConfig } from './config.js';
import type { EventRecorder } from './events.js';
import type { NodeAllocatable } from './env.js';
import { kubernetesVersion } from '../apiserver/version.js';

export const KUBELET_VERSION = kubernetesVersion.gitVersion;
const MAX_IMAGES = 50;
const EVICTION_MEMORY_BYTES = 100 * 1024 * 1024;
const EVICTION_NODEFS_FRACTION = 0.1;

/** The Go architecture name Kubernetes uses (amd64, arm64, …). */
export function goArch(arch: string = os.arch()): string {
  const m: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };
  return m[arch] ?? arch;
}

/** The first non-loopback IPv4 address of the machine (upstream's default node IP choice). */
export function defaultNodeIP(): string {
  for (const addrs of Object.values(os.networkInterfaces())) {
    for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}

function readFile(p: string): string {
  try {
    return fs.readFileSync(p, 'utf8').trim();
  } catch {
    return '';
  }
}

function meminfo(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of readFile('/proc/meminfo').split('\n')) {
    const m = /^(\w+):\s+(\d+)(?:\s+kB)?/.exec(line);
    if (m) out[m[1]!] = Number(m[2]) * (line.includes('kB') ? 1024 : 1);
  }
  return out;
}

export interface MachineInfo {
  cpus: number;
  memoryBytes: number;
  fsBytes: number;
  fsAvailableBytes: number;
}

export function machineInfo(rootDir: string): MachineInfo {
  let fsBytes = 0;
  let fsAvailableBytes = 0;
  try {
    fs.mkdirSync(rootDir, { recursive: true });
    const s = fs.statfsSync(rootDir);
    fsBytes = s.blocks * s.bsize;
    fsAvailableBytes = s.bavail * s.bsize;
  } catch {
    // unknown
  }
  return { cpus: os.cpus().length, memoryBytes: meminfo().MemTotal ?? os.totalmem(), fsBytes, fsAvailableBytes };
}

function ki(bytes: number): string {
  return `${Math.floor(bytes / 1024)}Ki`;
}

/** What pods may use: capacity less upstream's default hard eviction thresholds. */
export function nodeAllocatable(m: MachineInfo): NodeAllocatable {
  return {
    cpuMilli: m.cpus * 1000,
    memoryBytes: Math.max(0, m.memoryBytes - EVICTION_MEMORY_BYTES),
    ephemeralStorageBytes: Math.floor(m.fsBytes * (1 - EVICTION_NODEFS_FRACTION)),
  };
}

type Condition = NonNullable<NonNullable<Node['status']>['conditions']>[number];

export class NodeStatusManager {
  private nodeUID: string | undefined;
  private lastWritten = '';
  private lastWriteAt = 0;
  private lastConditions: Condition[] = [];
  private lease: any;
  readonly nodeIP: string;
  podCIDR: string | undefined;
  private runtimeVersion = '';

  constructor(
    private readonly api: ApiClient,
    private readonly cri: CriClient,
    private readonly config: KubeletConfig,
    private readonly log: Logger,
    private readonly events: EventRecorder,
    private readonly clock: Clock,
    private readonly networkStatus: () => { ready: boolean; message: string },
  ) {
    this.nodeIP = config.nodeIP || defaultNodeIP();
  }

  labels(): Record<string, string> {
    return {
      'beta.kubernetes.io/arch': goArch(),
      'beta.kubernetes.io/os': 'linux',
      'kubernetes.io/arch': goArch(),
      'kubernetes.io/hostname': this.config.nodeName,
      'kubernetes.io/os': 'linux',
      ...this.config.nodeLabels,
    };
  }

  /** Creates the Node, or reconciles labels (and an unset podCIDR) on one that exists. */
  async register(): Promise<Node> {
    const name = this.config.nodeName;
    const spec: Record<string, unknown> = {};
    if (this.config.registerWithTaints.length) spec.taints = this.config.registerWithTaints;
    if (this.config.podCIDR) {
      spec.podCIDR = this.config.podCIDR;
      spec.podCIDRs = [this.config.podCIDR];
    }
    const node = {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name, labels: this.labels(), annotations: { 'node.alpha.kubernetes.io/ttl': '0', 'volumes.kubernetes.io/controller-managed-attach-detach': 'true' } },
      spec,
    };
    let got: Node;
    try {
      got = await this.api.create<Node>('/api/v1/nodes', node);
      this.log.info({ node: name }, 'registered node');
    } catch (e) {
      if (!(e instanceof ApiError && e.code === 409)) throw e;
      const existing = await this.api.get<Node>(`/api/v1/nodes/${name}`);
      const patch: Record<string, unknown> = { metadata: { labels: this.labels() } };
      if (this.config.podCIDR && !existing.spec?.podCIDR) patch.spec = { podCIDR: this.config.podCIDR, podCIDRs: [this.config.podCIDR] };
      got = await this.api.mergePatch<Node>(`/api/v1/nodes/${name}`, patch);
      this.log.info({ node: name }, 'node already registered; labels reconciled');
    }
    this.nodeUID = got.metadata?.uid;
    this.podCIDR = got.spec?.podCIDR || this.config.podCIDR;
    const v = await this.cri.version();
    this.runtimeVersion = `${v.runtime_name}://${v.runtime_version}`;
    this.events.node(this.nodeUID, 'Normal', 'Starting', 'Starting kubelet.');
    return got;
  }

  private condition(type: string, ok: boolean, trueReason: string, trueMsg: string, falseReason: string, falseMsg: string, nowTs: string): Condition {
    const status = ok ? 'True' : 'False';
    const prev = this.lastConditions.find((c) => c.type === type);
    return {
      type,
      status,
      lastHeartbeatTime: nowTs,
      lastTransitionTime: prev && prev.status === status ? prev.lastTransitionTime : nowTs,
      reason: ok ? trueReason : falseReason,
      message: ok ? trueMsg : falseMsg,
    };
  }

  /** Computes the node status now. */
  async computeStatus(): Promise<NonNullable<Node['status']>> {
    const now = this.clock.now();
    const nowTs = new Date(now).toISOString().replace(/\.\d+Z$/, 'Z');
    const m = machineInfo(this.config.rootDir);
    const alloc = nodeAllocatable(m);
    const mem = meminfo();
    const memAvailable = mem.MemAvailable ?? os.freemem();
    const pidMax = Number(readFile('/proc/sys/kernel/pid_max')) || 32768;
    const threads = Number(readFile('/proc/loadavg').split(' ')[3]?.split('/')[1] ?? 0);
    let runtimeProblem = '';
    try {
      const st = await this.cri.status();
      for (const c of st.status?.conditions ?? []) {
        if (c.type === 'RuntimeReady' && !c.status) runtimeProblem = `container runtime not ready: RuntimeReady=false reason:${c.reason} message:${c.message}`;
      }
    } catch (e) {
      runtimeProblem = `container runtime is down: ${(e as Error).message}`;
    }
    const net = this.networkStatus();
    const notReady = runtimeProblem || (net.ready ? '' : net.message);
    const memoryPressure = memAvailable < EVICTION_MEMORY_BYTES;
    const diskPressure = m.fsBytes > 0 && m.fsAvailableBytes / m.fsBytes < EVICTION_NODEFS_FRACTION;
    const pidPressure = threads > 0.9 * pidMax;
    const conditions: Condition[] = [
      this.condition('MemoryPressure', memoryPressure, 'KubeletHasInsufficientMemory', 'kubelet has insufficient memory available', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available', nowTs),
      this.condition('DiskPressure', diskPressure, 'KubeletHasDiskPressure', 'kubelet has disk pressure', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure', nowTs),
      this.condition('PIDPressure', pidPressure, 'KubeletHasInsufficientPID', 'kubelet has insufficient PID available', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available', nowTs),
      this.condition('Ready', !notReady, 'KubeletReady', 'kubelet is posting ready status', 'KubeletNotReady', notReady, nowTs),
    ];
    for (const c of conditions) {
      const prev = this.lastConditions.find((p) => p.type === c.type);
      if (c.type === 'Ready' && prev?.status !== c.status) this.events.node(this.nodeUID, 'Normal', c.status === 'True' ? 'NodeReady' : 'NodeNotReady', `Node ${this.config.nodeName} status is now: ${c.status === 'True' ? 'NodeReady' : 'NodeNotReady'}`);
    }
    this.lastConditions = conditions;
    let images: { names: string[]; sizeBytes: number }[];
    try {
      images = (await this.cri.listImages())
        .map((i) => ({ names: [...i.repo_digests, ...i.repo_tags], sizeBytes: Number(i.size) }))
        .filter((i) => i.names.length > 0)
        .sort((a, b) => b.sizeBytes - a.sizeBytes)
        .slice(0, MAX_IMAGES);
    } catch {
      images = [];
    }
    const capacity = { cpu: String(m.cpus), 'ephemeral-storage': ki(m.fsBytes), 'hugepages-1Gi': '0', 'hugepages-2Mi': '0', memory: ki(m.memoryBytes), pods: String(this.config.maxPods) };
    const allocatable = { cpu: String(m.cpus), 'ephemeral-storage': String(alloc.ephemeralStorageBytes), 'hugepages-1Gi': '0', 'hugepages-2Mi': '0', memory: ki(alloc.memoryBytes), pods: String(this.config.maxPods) };
    const arch = goArch();
    return {
      capacity,
      allocatable,
      conditions,
      addresses: [
        { type: 'InternalIP', address: this.nodeIP },
        { type: 'Hostname', address: this.config.nodeName },
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: this.config.port } },
      nodeInfo: {
        machineID: readFile('/etc/machine-id'),
        systemUUID: readFile('/sys/class/dmi/id/product_uuid') || readFile('/etc/machine-id'),
        bootID: readFile('/proc/sys/kernel/random/boot_id'),
        kernelVersion: os.release(),
        osImage: /PRETTY_NAME="?([^"\n]*)"?/.exec(readFile('/etc/os-release'))?.[1] ?? 'Linux',
        containerRuntimeVersion: this.runtimeVersion,
        kubeletVersion: KUBELET_VERSION,
        kubeProxyVersion: '',
        operatingSystem: 'linux',
        architecture: arch,
      },
      images,
    };
  }

  /** Reads the Node (for its podCIDR) and writes the status when it changed or is due. */
  async update(): Promise<void> {
    const name = this.config.nodeName;
    let node: Node;
    try {
      node = await this.api.get<Node>(`/api/v1/nodes/${name}`);
    } catch (e) {
      if (isApiNotFound(e)) {
        // Someone deleted the Node: register again, as upstream does.
        await this.register();
        return;
      }
      throw e;
    }
    this.nodeUID = node.metadata?.uid;
    this.podCIDR = node.spec?.podCIDR || this.config.podCIDR;
    const status = await this.computeStatus();
    const comparable = JSON.stringify({ ...status, conditions: status.conditions?.map((c) => ({ ...c, lastHeartbeatTime: undefined })) });
    const due = this.clock.now() - this.lastWriteAt >= this.config.nodeStatusReportFrequencyMs;
    if (comparable === this.lastWritten && !due) return;
    await this.api.jsonPatch(`/api/v1/nodes/${name}/status`, [{ op: 'add', path: '/status', value: { ...(node.status ?? {}), ...status } }]);
    this.lastWritten = comparable;
    this.lastWriteAt = this.clock.now();
  }

  /** Creates or renews the node's Lease. */
  async renewLease(): Promise<void> {
    const name = this.config.nodeName;
    const path = `/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${name}`;
    const renewTime = new Date(this.clock.now()).toISOString().replace(/Z$/, '000Z');
    if (!this.lease) {
      try {
        this.lease = await this.api.get(path);
      } catch (e) {
        if (!isApiNotFound(e)) throw e;
        const lease = {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name, namespace: 'kube-node-lease', ...(this.nodeUID ? { ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name, uid: this.nodeUID }] } : {}) },
          spec: { holderIdentity: name, leaseDurationSeconds: this.config.nodeLeaseDurationSeconds, renewTime },
        };
        this.lease = await this.api.create('/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases', lease);
        return;
      }
    }
    const next = { ...this.lease, spec: { ...this.lease.spec, holderIdentity: name, leaseDurationSeconds: this.config.nodeLeaseDurationSeconds, renewTime } };
    if (this.nodeUID && !next.metadata?.ownerReferences?.length) next.metadata = { ...next.metadata, ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name, uid: this.nodeUID }] };
    try {
      this.lease = await this.api.update(path, next);
    } catch (e) {
      // Re-read on the next round.
      if (isApiConflict(e) || isApiNotFound(e)) this.lease = undefined;
      throw e;
    }
  }
}
