/**
 * A pod's resolver configuration (upstream pkg/kubelet/network/dns) and its managed /etc/hosts
 * (kubelet_pods.go makeHostsMount).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Pod } from './types.js';
import type { DNSConfig } from '../cri/types.js';

const MAX_NAMESERVERS = 3;
const MAX_SEARCHES = 32;

export interface ResolvConf {
  servers: string[];
  searches: string[];
  options: string[];
}

/** Reads nameserver, search and options lines from a resolv.conf. */
export function parseResolvConf(text: string): ResolvConf {
  const out: ResolvConf = { servers: [], searches: [], options: [] };
  for (const raw of text.split('\n')) {
    const line = raw.replace(/[#;].*$/, '').trim();
    if (!line) continue;
    const [key, ...rest] = line.split(/\s+/);
    if (key === 'nameserver' && rest[0]) out.servers.push(rest[0]);
    else if (key === 'search') out.searches = rest;
    else if (key === 'domain' && rest[0] && out.searches.length === 0) out.searches = [rest[0]];
    else if (key === 'options') out.options.push(...rest);
  }
  return out;
}

function mergeOptions(base: string[], extra: { name?: string; value?: string }[]): string[] {
  const m = new Map<string, string>();
  for (const o of base) {
    const [k, v] = o.split(':', 2);
    m.set(k!, o.includes(':') ? `${k}:${v}` : k!);
  }
  for (const o of extra) {
    if (!o.name) continue;
    m.set(o.name, o.value !== undefined && o.value !== null && o.value !== '' ? `${o.name}:${o.value}` : o.name);
  }
  return [...m.values()];
}

export interface DnsSettings {
  clusterDNS: string[];
  clusterDomain: string;
  resolvConf: string;
}

/** The DNS config the sandbox gets, by the pod's dnsPolicy and dnsConfig. */
export function podDNSConfig(pod: Pod, s: DnsSettings): DNSConfig {
  const spec = pod.spec!;
  let policy = spec.dnsPolicy || 'ClusterFirst';
  if (policy === 'ClusterFirst' && spec.hostNetwork) policy = 'Default';
  if (policy === 'ClusterFirstWithHostNet') policy = 'ClusterFirst';
  if (policy === 'ClusterFirst' && s.clusterDNS.length === 0) policy = 'Default';
  let host: ResolvConf = { servers: [], searches: [], options: [] };
  try {
    host = parseResolvConf(fs.readFileSync(s.resolvConf, 'utf8'));
  } catch {
    // no host resolver config: Default gives an empty one
  }
  let cfg: ResolvConf;
  switch (policy) {
    case 'None':
      cfg = { servers: [], searches: [], options: [] };
      break;
    case 'ClusterFirst': {
      const ns = pod.metadata!.namespace!;
      const d = s.clusterDomain;
      cfg = { servers: [...s.clusterDNS], searches: [`${ns}.svc.${d}`, `svc.${d}`, d, ...host.searches], options: ['ndots:5'] };
      break;
    }
    default:
      cfg = { servers: host.servers, searches: host.searches, options: host.options };
  }
  const extra = spec.dnsConfig;
  if (extra) {
    cfg.servers = [...cfg.servers, ...(extra.nameservers ?? [])];
    cfg.searches = [...cfg.searches, ...(extra.searches ?? [])];
    cfg.options = mergeOptions(cfg.options, extra.options ?? []);
  }
  const dedup = (a: string[]) => [...new Set(a)];
  return { servers: dedup(cfg.servers).slice(0, MAX_NAMESERVERS), searches: dedup(cfg.searches).slice(0, MAX_SEARCHES), options: cfg.options };
}

/** The pod's hostname (spec.hostname or the pod name, at most 63 characters). */
export function podHostname(pod: Pod): string {
  const h = pod.spec?.hostname || pod.metadata!.name!;
  return h.length > 63 ? h.slice(0, 63).replace(/[-.]+$/, '') : h;
}

/** The managed /etc/hosts for a pod, written under its pod dir. Answers the file's path. */
export function writeHostsFile(podDir: string, pod: Pod, podIPs: string[], clusterDomain: string): string {
  const file = path.join(podDir, 'etc-hosts');
  let content: string;
  if (pod.spec?.hostNetwork) {
    let hostHosts: string;
    try {
      hostHosts = fs.readFileSync('/etc/hosts', 'utf8');
    } catch {
      hostHosts = `127.0.0.1\tlocalhost\n::1\tlocalhost\n127.0.1.1\t${os.hostname()}\n`;
    }
    content = `# Kubernetes-managed hosts file (host network).\n${hostHosts}`;
  } else {
    const lines = [
      '# Kubernetes-managed hosts file.',
      '127.0.0.1\tlocalhost',
      '::1\tlocalhost ip6-localhost ip6-loopback',
      'fe00::0\tip6-localnet',
      'fe00::0\tip6-mcastprefix',
      'fe00::1\tip6-allnodes',
      'fe00::2\tip6-allrouters',
    ];
    const hostname = podHostname(pod);
    const sub = pod.spec?.subdomain;
    const names = sub ? `${hostname}.${sub}.${pod.metadata!.namespace}.svc.${clusterDomain}\t${hostname}` : hostname;
    for (const ip of podIPs) lines.push(`${ip}\t${names}`);
    content = lines.join('\n') + '\n';
  }
  const aliases = pod.spec?.hostAliases ?? [];
  if (aliases.length) {
    content += '\n# Entries added by HostAliases.\n';
    for (const a of aliases) content += `${a.ip}\t${(a.hostnames ?? []).join('\t')}\n`;
  }
  fs.mkdirSync(podDir, { recursive: true });
  let existing: string | undefined;
  try {
    existing = fs.readFileSync(file, 'utf8');
  } catch {
    existing = undefined;
  }
  if (existing !== content) {
    fs.writeFileSync(file + '.tmp', content, { mode: 0o644 });
    fs.renameSync(file + '.tmp', file);
  }
  return file;
}
