/**
 * Runs a CNI network configuration list on a pod sandbox's network namespace, per the CNI spec:
 * ADD runs the plugins in order, each given the previous plugin's result as `prevResult`; DEL runs
 * them in reverse, and CHECK in order, both with the cached ADD result. The ADD result and the
 * exact configuration it used are cached on disk (libcni's layout and format), so DEL after a
 * config change, or after a kubelet restart, still undoes exactly what ADD did.
 */
import fs from 'node:fs';
import path from 'node:path';
import { execPlugin, CniError } from './exec.js';
import { compareVersions, parseNetworkConfig, type NetworkConfigList, type PluginConf } from './config.js';

/** What the runtime knows about one attachment (libcni's RuntimeConf). */
export interface RuntimeConf {
  containerID: string;
  netns: string;
  ifName: string;
  /** CNI_ARGS pairs, e.g. K8S_POD_NAMESPACE. */
  args: [string, string][];
  /** Values for the capabilities plugins declare (portMappings, bandwidth, …). */
  capabilityArgs?: Record<string, unknown>;
}

/** The on-disk cache entry for one attachment. */
interface CacheEntry {
  kind: 'cniCacheV1';
  containerId: string;
  config: string;
  ifName: string;
  networkName: string;
  netns?: string;
  cniArgs: [string, string][];
  capabilityArgs?: Record<string, unknown>;
  result?: unknown;
}

export interface CniOptions {
  binDirs: string[];
  /** Where results are cached (libcni default /var/lib/cni). */
  cacheDir: string;
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

/** The pod's IP addresses (without prefix length) in a CNI result of any spec version. */
export function resultIPs(result: any): string[] {
  if (!result || typeof result !== 'object') return [];
  const ips: string[] = [];
  if (Array.isArray(result.ips)) {
    const ifaces: any[] = Array.isArray(result.interfaces) ? result.interfaces : [];
    for (const ip of result.ips) {
      if (typeof ip?.address !== 'string') continue;
      // Keep addresses on the pod's side: an interface index that names a host-side interface
      // (no sandbox) is the bridge or a veth's host end.
      if (typeof ip.interface === 'number' && ifaces[ip.interface] && !ifaces[ip.interface].sandbox) continue;
      ips.push(ip.address.split('/')[0]);
    }
  } else {
    if (typeof result.ip4?.ip === 'string') ips.push(result.ip4.ip.split('/')[0]);
    if (typeof result.ip6?.ip === 'string') ips.push(result.ip6.ip.split('/')[0]);
  }
  return ips;
}

export class CniNetwork {
  constructor(
    readonly config: NetworkConfigList,
    private readonly opts: CniOptions,
  ) {}

  get name(): string {
    return this.config.name;
  }

  /** Attaches the sandbox to the network and answers the final result. */
  async add(rt: RuntimeConf): Promise<any> {
    let prevResult: unknown = undefined;
    for (const plugin of this.config.plugins) {
      const conf = this.pluginConfig(this.config, plugin, rt, prevResult);
      const result = await execPlugin(plugin.type, conf, this.invocation('ADD', rt));
      if (result !== undefined) prevResult = result;
    }
    this.writeCache(rt, prevResult);
    return prevResult;
  }

  /**
   * Detaches the sandbox. Uses the cached configuration and result when ADD left them, so what ADD
   * created is what DEL removes, even if the conf dir changed since.
   */
  async del(rt: RuntimeConf): Promise<void> {
    const cached = this.readCache(rt);
    let config = this.config;
    let prevResult: unknown = undefined;
    let args = rt.args;
    let capabilityArgs = rt.capabilityArgs;
    if (cached) {
      try {
        config = parseNetworkConfig(Buffer.from(cached.config, 'base64').toString('utf8'), false);
      } catch {
        // a cache we cannot parse is ignored: DEL with today's configuration
      }
      prevResult = cached.result;
      args = cached.cniArgs ?? args;
      capabilityArgs = cached.capabilityArgs ?? capabilityArgs;
    }
    const rtc = { ...rt, args, capabilityArgs };
    // prevResult on DEL exists from spec 0.4.0 on.
    if (compareVersions(config.cniVersion, '0.4.0') < 0) prevResult = undefined;
    for (const plugin of [...config.plugins].reverse()) {
      const conf = this.pluginConfig(config, plugin, rtc, prevResult);
      await execPlugin(plugin.type, conf, this.invocation('DEL', rtc));
    }
    this.removeCache(rt);
  }

  /** Verifies the attachment (spec 0.4.0 and later). Throws a CniError when a plugin finds a fault. */
  async check(rt: RuntimeConf): Promise<void> {
    if (compareVersions(this.config.cniVersion, '0.4.0') < 0 || this.config.disableCheck) return;
    const cached = this.readCache(rt);
    if (!cached || cached.result === undefined) throw new CniError(-1, `no cached result for ${rt.containerID}: cannot CHECK`, '', this.config.plugins[0]?.type ?? '');
    for (const plugin of this.config.plugins) {
      const conf = this.pluginConfig(this.config, plugin, rt, cached.result);
      await execPlugin(plugin.type, conf, this.invocation('CHECK', rt));
    }
  }

  /** The cached ADD result for an attachment, if any. */
  cachedResult(rt: Pick<RuntimeConf, 'containerID' | 'ifName'>): unknown {
    return this.readCache(rt)?.result;
  }

  private invocation(command: 'ADD' | 'DEL' | 'CHECK', rt: RuntimeConf) {
    return { command, containerID: rt.containerID, netns: rt.netns, ifName: rt.ifName, args: rt.args, binDirs: this.opts.binDirs, timeoutMs: this.opts.timeoutMs, env: this.opts.env };
  }

  /** One plugin's stdin: its own config plus name, cniVersion, runtimeConfig and prevResult. */
  private pluginConfig(list: NetworkConfigList, plugin: PluginConf, rt: RuntimeConf, prevResult: unknown): Record<string, unknown> {
    const conf: Record<string, unknown> = { ...plugin, name: list.name, cniVersion: list.cniVersion };
    const runtimeConfig: Record<string, unknown> = {};
    for (const [cap, on] of Object.entries(plugin.capabilities ?? {})) {
      if (on && rt.capabilityArgs && rt.capabilityArgs[cap] !== undefined) runtimeConfig[cap] = rt.capabilityArgs[cap];
    }
    if (Object.keys(runtimeConfig).length > 0) conf.runtimeConfig = runtimeConfig;
    else delete conf.runtimeConfig;
    if (prevResult !== undefined) conf.prevResult = prevResult;
    else delete conf.prevResult;
    return conf;
  }

  private cacheFile(rt: Pick<RuntimeConf, 'containerID' | 'ifName'>): string {
    return path.join(this.opts.cacheDir, 'results', `${this.config.name}-${rt.containerID}-${rt.ifName}`);
  }

  private writeCache(rt: RuntimeConf, result: unknown): void {
    const entry: CacheEntry = {
      kind: 'cniCacheV1',
      containerId: rt.containerID,
      config: Buffer.from(this.config.bytes, 'utf8').toString('base64'),
      ifName: rt.ifName,
      networkName: this.config.name,
      netns: rt.netns,
      cniArgs: rt.args,
      capabilityArgs: rt.capabilityArgs,
      result,
    };
    const file = this.cacheFile(rt);
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    fs.writeFileSync(file + '.tmp', JSON.stringify(entry), { mode: 0o600 });
    fs.renameSync(file + '.tmp', file);
  }

  private readCache(rt: Pick<RuntimeConf, 'containerID' | 'ifName'>): CacheEntry | undefined {
    try {
      const e = JSON.parse(fs.readFileSync(this.cacheFile(rt), 'utf8')) as CacheEntry;
      return e.kind === 'cniCacheV1' ? e : undefined;
    } catch {
      return undefined;
    }
  }

  private removeCache(rt: RuntimeConf): void {
    fs.rmSync(this.cacheFile(rt), { force: true });
  }
}

/** The CNI_ARGS the kubelet passes for a pod (upstream's K8S_POD_* names). */
export function podCniArgs(pod: { namespace: string; name: string; uid: string }, sandboxID: string): [string, string][] {
  return [
    ['IgnoreUnknown', '1'],
    ['K8S_POD_NAMESPACE', pod.namespace],
    ['K8S_POD_NAME', pod.name],
    ['K8S_POD_INFRA_CONTAINER_ID', sandboxID],
    ['K8S_POD_UID', pod.uid],
  ];
}
