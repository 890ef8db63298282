/**
 * The kubelet's /stats/summary (upstream pkg/kubelet/apis/stats/v1alpha1 Summary): node figures
 * from /proc and statfs, pod and container figures from CRI's sandbox and container stats.
 */
import fs from 'node:fs';
import type { CriClient } from '../cri/index.js';
import type { ContainerStats, CpuUsage, MemoryUsage, PodSandboxStats, UInt64Value } from '../cri/types.js';
import { nsToMs } from './runtime-state.js';
import { POD_NAME, POD_NAMESPACE, POD_UID } from './labels.js';

function iso(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
}

function u64(v: UInt64Value | null | undefined): number | undefined {
  return v ? Number(v.value) : undefined;
}

function cpuStats(c: CpuUsage | null | undefined) {
  if (!c) return undefined;
  return { time: iso(nsToMs(c.timestamp) || Date.now()), usageNanoCores: u64(c.usage_nano_cores), usageCoreNanoSeconds: u64(c.usage_core_nano_seconds) };
}

function memStats(m: MemoryUsage | null | undefined) {
  if (!m) return undefined;
  const out: Record<string, unknown> = {
    time: iso(nsToMs(m.timestamp) || Date.now()),
    usageBytes: u64(m.usage_bytes),
    workingSetBytes: u64(m.working_set_bytes),
    rssBytes: u64(m.rss_bytes),
    pageFaults: u64(m.page_faults),
    majorPageFaults: u64(m.major_page_faults),
  };
  const avail = u64(m.available_bytes);
  if (avail) out.availableBytes = avail;
  return out;
}

function fsStats(path: string) {
  try {
    const s = fs.statfsSync(path);
    return {
      time: iso(Date.now()),
      availableBytes: s.bavail * s.bsize,
      capacityBytes: s.blocks * s.bsize,
      usedBytes: (s.blocks - s.bfree) * s.bsize,
      inodesFree: s.ffree,
      inodes: s.files,
      inodesUsed: s.files - s.ffree,
    };
  } catch {
    return undefined;
  }
}

let lastCpu: { at: number; busyNs: number } | undefined;

function nodeCpu() {
  try {
    const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const hz = 100;
    const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
    const idle = (f[3] ?? 0) + (f[4] ?? 0);
    const busyNs = ((total - idle) * 1e9) / hz;
    const now = Date.now();
    let usageNanoCores: number | undefined;
    if (lastCpu && now > lastCpu.at) usageNanoCores = Math.round(((busyNs - lastCpu.busyNs) / (now - lastCpu.at)) * 1e3);
    lastCpu = { at: now, busyNs };
    return { time: iso(now), usageNanoCores, usageCoreNanoSeconds: Math.round(busyNs) };
  } catch {
    return undefined;
  }
}

function nodeMemory() {
  const m: Record<string, number> = {};
  try {
    for (const line of fs.readFileSync('/proc/meminfo', 'utf8').split('\n')) {
      const x = /^(\w+):\s+(\d+)/.exec(line);
      if (x) m[x[1]!] = Number(x[2]) * 1024;
    }
  } catch {
    return undefined;
  }
  const total = m.MemTotal ?? 0;
  return { time: iso(Date.now()), availableBytes: m.MemAvailable, usageBytes: total - (m.MemFree ?? 0), workingSetBytes: total - (m.MemAvailable ?? 0), rssBytes: m.AnonPages, pageFaults: 0, majorPageFaults: 0 };
}

function containerEntry(c: ContainerStats, startMs: number) {
  return {
    name: c.attributes?.metadata?.name ?? '',
    startTime: iso(startMs),
    cpu: cpuStats(c.cpu),
    memory: memStats(c.memory),
    rootfs: c.writable_layer ? { time: iso(nsToMs(c.writable_layer.timestamp) || Date.now()), usedBytes: u64(c.writable_layer.used_bytes), inodesUsed: u64(c.writable_layer.inodes_used) } : undefined,
  };
}

export async function summary(cri: CriClient, nodeName: string, rootDir: string, startTime: number): Promise<unknown> {
  const [sandboxes, podStats, containerStats, containers, imageFs] = await Promise.all([
    cri.listPodSandbox({ state: { state: 'SANDBOX_READY' } }),
    cri.listPodSandboxStats({}).catch(() => [] as PodSandboxStats[]),
    cri.listContainerStats({}).catch(() => [] as ContainerStats[]),
    cri.listContainers({ state: { state: 'CONTAINER_RUNNING' } }),
    cri.imageFsInfo().catch(() => undefined),
  ]);
  const pidMax = Number(fs.readFileSync('/proc/sys/kernel/pid_max', 'utf8').trim()) || 0;
  const curproc = Number(fs.readFileSync('/proc/loadavg', 'utf8').split(' ')[3]?.split('/')[1] ?? 0);
  const imgFs = imageFs?.image_filesystems?.[0];
  const node = {
    nodeName,
    startTime: iso(startTime),
    cpu: nodeCpu(),
    memory: nodeMemory(),
    fs: fsStats(rootDir),
    runtime: imgFs ? { imageFs: { ...(fsStats(imgFs.fs_id?.mountpoint ?? rootDir) ?? {}), usedBytes: u64(imgFs.used_bytes), inodesUsed: u64(imgFs.inodes_used) } } : undefined,
    rlimit: { time: iso(Date.now()), maxpid: pidMax, curproc },
    systemContainers: [],
  };
  const created = new Map(containers.map((c) => [c.id, nsToMs(c.created_at)]));
  const pods = sandboxes.map((s) => {
    const ps = podStats.find((p) => p.attributes?.id === s.id);
    const cs = containerStats.filter((c) => created.has(c.attributes?.id ?? '') && (ps?.linux?.containers ?? []).some((x) => x.attributes?.id === c.attributes?.id));
    const fromSandbox = ps?.linux?.containers ?? [];
    const list = (cs.length ? cs : fromSandbox).map((c) => containerEntry(c, created.get(c.attributes?.id ?? '') ?? nsToMs(s.created_at)));
    const net = ps?.linux?.network;
    return {
      podRef: { name: s.labels[POD_NAME] ?? s.metadata?.name ?? '', namespace: s.labels[POD_NAMESPACE] ?? s.metadata?.namespace ?? '', uid: s.labels[POD_UID] ?? s.metadata?.uid ?? '' },
      startTime: iso(nsToMs(s.created_at)),
      containers: list,
      cpu: cpuStats(ps?.linux?.cpu),
      memory: memStats(ps?.linux?.memory),
      network: net?.default_interface
        ? { time: iso(nsToMs(net.timestamp) || Date.now()), name: net.default_interface.name, rxBytes: u64(net.default_interface.rx_bytes), rxErrors: u64(net.default_interface.rx_errors), txBytes: u64(net.default_interface.tx_bytes), txErrors: u64(net.default_interface.tx_errors) }
        : undefined,
      volume: [],
      process_stats: ps?.linux?.process ? { process_count: u64(ps.linux.process.process_count) } : undefined,
    };
  });
  return { node, pods };
}
