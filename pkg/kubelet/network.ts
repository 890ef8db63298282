/**
 * The pod network, run by the kubelet itself (DESIGN.md "Networking"): the first configuration in
 * --cni-conf-dir is run on each sandbox's network namespace. When the conf dir is empty and the
 * node's podCIDR is known, the default bridge + host-local + portmap chain
 * (deploy/cni/10-keelson-bridge.conflist.template) is written there first.
 */
import fs from 'node:fs';
import path from 'node:path';
import { CniNetwork, loadFirstNetwork, podCniArgs, resultIPs, configFiles } from '../cni/index.js';
import { repoPath } from '../cri/index.js';
import type { Logger } from '../log/logger.js';
import type { KubeletConfig } from './config.js';

export const DEFAULT_CONFLIST = '10-keelson-bridge.conflist';

export interface PodRef {
  namespace: string;
  name: string;
  uid: string;
}

export interface PortMappingArg {
  hostPort: number;
  containerPort: number;
  protocol: string;
  hostIP?: string;
}

export class PodNetwork {
  private podCIDR: string | undefined;
  private cached: { key: string; net: CniNetwork } | undefined;

  constructor(
    private readonly config: KubeletConfig,
    private readonly log: Logger,
  ) {
    this.podCIDR = config.podCIDR;
  }

  /** The node's podCIDR changed (from the Node object, else --pod-cidr). */
  setPodCIDR(cidr: string | undefined): void {
    const next = cidr || this.config.podCIDR;
    if (next && next !== this.podCIDR) this.log.info({ podCIDR: next }, 'pod CIDR set');
    this.podCIDR = next;
    this.ensureDefaultConfig();
  }

  getPodCIDR(): string | undefined {
    return this.podCIDR;
  }

  /** Writes the default conflist when the conf dir has no configuration and the podCIDR is known. */
  ensureDefaultConfig(): void {
    if (!this.podCIDR) return;
    const dir = this.config.cniConfDir;
    const mine = path.join(dir, DEFAULT_CONFLIST);
    const others = configFiles(dir).filter((f) => f !== mine);
    if (others.length > 0) return;
    const body = fs
      .readFileSync(repoPath('deploy/cni/10-keelson-bridge.conflist.template'), 'utf8')
      .replaceAll('{{POD_CIDR}}', this.podCIDR)
      .replaceAll('{{BRIDGE}}', this.config.cniBridgeName)
      .replaceAll('{{IPAM_DATA_DIR}}', this.config.cniIpamDataDir);
    let existing: string | undefined;
    try {
      existing = fs.readFileSync(mine, 'utf8');
    } catch {
      existing = undefined;
    }
    if (existing === body) return;
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(`${mine}.tmp`, body);
    fs.renameSync(`${mine}.tmp`, mine);
    this.log.info({ file: mine, podCIDR: this.podCIDR }, 'wrote the default CNI configuration');
  }

  /** The network pods attach to now, or null when none is configured. Reloaded when files change. */
  network(): CniNetwork | null {
    const files = configFiles(this.config.cniConfDir);
    const key = files.map((f) => `${f}@${fs.statSync(f, { throwIfNoEntry: false })?.mtimeMs ?? 0}`).join('|');
    if (this.cached?.key === key) return this.cached.net;
    const conf = loadFirstNetwork(this.config.cniConfDir, (f, e) => this.log.warn({ file: f, err: e.message }, 'skipping invalid CNI configuration'));
    if (!conf) {
      this.cached = undefined;
      return null;
    }
    const net = new CniNetwork(conf, { binDirs: this.config.cniBinDirs, cacheDir: this.config.cniCacheDir });
    this.cached = { key, net };
    this.log.info({ network: conf.name, file: conf.file, plugins: conf.plugins.map((p) => p.type) }, 'using CNI network');
    return net;
  }

  /** Upstream's NetworkReady message when there is no network yet. */
  status(): { ready: boolean; message: string } {
    if (this.network()) return { ready: true, message: '' };
    return { ready: false, message: 'container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized' };
  }

  /** Attaches a sandbox; answers the pod IPs. */
  async setUp(pod: PodRef, sandboxId: string, netns: string, portMappings: PortMappingArg[], bandwidth?: Record<string, number>): Promise<string[]> {
    const net = this.network();
    if (!net) throw new Error('cni plugin not initialized');
    const capabilityArgs: Record<string, unknown> = { portMappings };
    if (bandwidth) capabilityArgs.bandwidth = bandwidth;
    const result = await net.add({ containerID: sandboxId, netns, ifName: 'eth0', args: podCniArgs(pod, sandboxId), capabilityArgs });
    const ips = resultIPs(result);
    if (ips.length === 0) throw new Error(`CNI network "${net.name}" returned no IP for sandbox ${sandboxId}`);
    return ips;
  }

  /** Detaches a sandbox (from the cached ADD when there is one). A missing netns is fine. */
  async tearDown(pod: PodRef, sandboxId: string, netns: string | undefined): Promise<void> {
    const net = this.network();
    if (!net) return;
    const ns = netns && fs.existsSync(netns) ? netns : '';
    await net.del({ containerID: sandboxId, netns: ns, ifName: 'eth0', args: podCniArgs(pod, sandboxId) });
  }

  /** The pod IPs a sandbox got, from the CNI result cache (survives kubelet restarts). */
  cachedIPs(sandboxId: string): string[] | undefined {
    const net = this.network();
    if (!net) return undefined;
    const r = net.cachedResult({ containerID: sandboxId, ifName: 'eth0' });
    if (r === undefined) return undefined;
    const ips = resultIPs(r);
    return ips.length ? ips : undefined;
  }

  /** The netns recorded for a sandbox's attachment, if cached. */
  cachedNetns(sandboxId: string): string | undefined {
    const net = this.network();
    if (!net) return undefined;
    try {
      const f = path.join(this.config.cniCacheDir, 'results', `${net.name}-${sandboxId}-eth0`);
      return (JSON.parse(fs.readFileSync(f, 'utf8')) as { netns?: string }).netns;
    } catch {
      return undefined;
    }
  }
}
