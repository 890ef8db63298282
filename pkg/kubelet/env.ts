/**
 * A container's environment as upstream's kubelet builds it (kubelet_pods.go makeEnvironmentVariables):
 * envFrom first, then env in order, each value expanded with `$(VAR)` against the variables
 * defined before it; fieldRef, resourceFieldRef, configMapKeyRef and secretKeyRef resolved. The
 * command and args are expanded against the final environment.
 */
import { parseQuantity, quantityMilliValue, quantityValue } from '../api/quantity.js';
import type { Container, Pod } from '../api/types.js';
import type { ObjectSource } from './object-source.js';

/** A problem with the pod's configuration: the container waits with CreateContainerConfigError. */
export class ContainerConfigError extends Error {}

/** `$(VAR)` expansion with upstream's rules: unknown references stay, `$$` is a literal `$`. */
export function expand(input: string, lookup: (name: string) => string | undefined): string {
  let out = '';
  for (let i = 0; i < input.length; i++) {
    const ch = input[i];
    if (ch !== '$' || i + 1 >= input.length) {
      out += ch;
      continue;
    }
    const next = input[i + 1];
    if (next === '$') {
      out += '$';
      i++;
      continue;
    }
    if (next === '(') {
      const close = input.indexOf(')', i + 2);
      if (close < 0) {
        out += input.slice(i);
        break;
      }
      const name = input.slice(i + 2, close);
      const v = name ? lookup(name) : undefined;
      out += v !== undefined ? v : `$(${name})`;
      i = close;
      continue;
    }
    out += ch;
  }
  return out;
}

/** The value a downward API fieldRef names (env and volumes share this). */
export function podFieldValue(pod: Pod, fieldPath: string, hostIP: string, podIPs: string[]): string {
  const labelMatch = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(fieldPath);
  if (labelMatch) {
    const map = labelMatch[1] === 'labels' ? pod.metadata?.labels : pod.metadata?.annotations;
    return map?.[labelMatch[2]!] ?? '';
  }
  switch (fieldPath) {
    case 'metadata.name':
      return pod.metadata?.name ?? '';
    case 'metadata.namespace':
      return pod.metadata?.namespace ?? '';
    case 'metadata.uid':
      return pod.metadata?.uid ?? '';
    case 'metadata.labels':
      return formatMap(pod.metadata?.labels);
    case 'metadata.annotations':
      return formatMap(pod.metadata?.annotations);
    case 'spec.nodeName':
      return pod.spec?.nodeName ?? '';
    case 'spec.serviceAccountName':
      return pod.spec?.serviceAccountName ?? '';
    case 'status.hostIP':
      return hostIP;
    case 'status.hostIPs':
      return hostIP;
    case 'status.podIP':
      return podIPs[0] ?? '';
    case 'status.podIPs':
      return podIPs.join(',');
    default:
      throw new ContainerConfigError(`unsupported fieldPath: ${fieldPath}`);
  }
}

/** `k="v"` lines sorted by key, as the downward API writes labels and annotations. */
export function formatMap(m: Record<string, string> | undefined): string {
  return Object.keys(m ?? {})
    .sort()
    .map((k) => `${k}=${JSON.stringify(m![k])}`)
    .join('\n');
}

export interface NodeAllocatable {
  cpuMilli: number;
  memoryBytes: number;
  ephemeralStorageBytes: number;
}

/** The value of a resourceFieldRef; unset limits are the node's allocatable, as upstream. */
export function resourceFieldValue(pod: Pod, ref: { containerName?: string; resource: string; divisor?: unknown }, defaultContainer: string, node: NodeAllocatable): string {
  const name = ref.containerName || defaultContainer;
  const c = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].find((x) => x.name === name);
  if (!c) throw new ContainerConfigError(`container ${name} not found`);
  const divisor = ref.divisor !== undefined && ref.divisor !== null && String(ref.divisor) !== '0' ? parseQuantity(String(ref.divisor)) : parseQuantity('1');
  const [kind, resource] = ref.resource.split('.', 2) as ['limits' | 'requests', string];
  const list = (kind === 'limits' ? c.resources?.limits : c.resources?.requests) ?? {};
  const raw = list[resource];
  if (resource === 'cpu') {
    let m = raw !== undefined ? Number(quantityMilliValue(parseQuantity(String(raw)))) : kind === 'limits' ? node.cpuMilli : 0;
    if (kind === 'requests' && raw === undefined) m = 0;
    return String(Math.ceil(m / Number(quantityMilliValue(divisor))));
  }
  if (resource === 'memory' || resource === 'ephemeral-storage') {
    const fallback = resource === 'memory' ? node.memoryBytes : node.ephemeralStorageBytes;
    const v = raw !== undefined ? Number(quantityValue(parseQuantity(String(raw)))) : kind === 'limits' ? fallback : 0;
    return String(Math.ceil(v / Number(quantityValue(divisor))));
  }
  if (resource.startsWith('hugepages-')) {
    const v = raw !== undefined ? Number(quantityValue(parseQuantity(String(raw)))) : 0;
    return String(Math.ceil(v / Number(quantityValue(divisor))));
  }
  throw new ContainerConfigError(`unsupported container resource: ${ref.resource}`);
}

const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

export interface EnvContext {
  pod: Pod;
  hostIP: string;
  podIPs: string[];
  node: NodeAllocatable;
  objects: ObjectSource;
  /** Reports keys envFrom skipped (upstream records an InvalidEnvironmentVariableNames event). */
  onInvalidKeys?: (source: string, keys: string[]) => void;
  /** Service link variables, put first so the container's own env overrides them. */
  serviceEnv?: [string, string][];
}

/** The container's environment as ordered `[name, value]` pairs (later names win). */
export async function makeEnvironment(c: Container, ctx: EnvContext): Promise<[string, string][]> {
  const ns = ctx.pod.metadata?.namespace ?? 'default';
  const env = new Map<string, string>(ctx.serviceEnv ?? []);
  for (const from of c.envFrom ?? []) {
    const prefix = from.prefix ?? '';
    if (from.configMapRef) {
      const name = from.configMapRef.name ?? '';
      const cm = await ctx.objects.configMap(ns, name);
      if (!cm) {
        if (from.configMapRef.optional) continue;
        throw new ContainerConfigError(`configmap "${name}" not found`);
      }
      const invalid: string[] = [];
      for (const [k, v] of Object.entries(cm.data ?? {})) {
        const key = prefix + k;
        if (!ENV_NAME.test(key)) invalid.push(key);
        else env.set(key, v);
      }
      if (invalid.length) ctx.onInvalidKeys?.(`configmap ${ns}/${name}`, invalid);
    } else if (from.secretRef) {
      const name = from.secretRef.name ?? '';
      const s = await ctx.objects.secret(ns, name);
      if (!s) {
        if (from.secretRef.optional) continue;
        throw new ContainerConfigError(`secret "${name}" not found`);
      }
      const invalid: string[] = [];
      for (const [k, v] of Object.entries(s.data ?? {})) {
        const key = prefix + k;
        if (!ENV_NAME.test(key)) invalid.push(key);
        else env.set(key, Buffer.from(String(v), 'base64').toString('utf8'));
      }
      if (invalid.length) ctx.onInvalidKeys?.(`secret ${ns}/${name}`, invalid);
    }
  }
  for (const e of c.env ?? []) {
    let value: string | undefined;
    if (e.valueFrom) {
      const vf = e.valueFrom;
      if (vf.fieldRef) value = podFieldValue(ctx.pod, vf.fieldRef.fieldPath, ctx.hostIP, ctx.podIPs);
      else if (vf.resourceFieldRef) value = resourceFieldValue(ctx.pod, vf.resourceFieldRef, c.name, ctx.node);
      else if (vf.configMapKeyRef) {
        const { name = '', key, optional } = vf.configMapKeyRef;
        const cm = await ctx.objects.configMap(ns, name);
        if (!cm) {
          if (optional) continue;
          throw new ContainerConfigError(`configmap "${name}" not found`);
        }
        const v = cm.data?.[key] ?? (cm.binaryData?.[key] !== undefined ? Buffer.from(cm.binaryData[key]!, 'base64').toString('utf8') : undefined);
        if (v === undefined) {
          if (optional) continue;
          throw new ContainerConfigError(`couldn't find key ${key} in ConfigMap ${ns}/${name}`);
        }
        value = v;
      } else if (vf.secretKeyRef) {
        const { name = '', key, optional } = vf.secretKeyRef;
        const s = await ctx.objects.secret(ns, name);
        if (!s) {
          if (optional) continue;
          throw new ContainerConfigError(`secret "${name}" not found`);
        }
        const raw = s.data?.[key];
        if (raw === undefined) {
          if (optional) continue;
          throw new ContainerConfigError(`couldn't find key ${key} in Secret ${ns}/${name}`);
        }
        value = Buffer.from(String(raw), 'base64').toString('utf8');
      }
    } else {
      value = expand(e.value ?? '', (n) => env.get(n));
    }
    env.set(e.name, value ?? '');
  }
  return [...env.entries()];
}

/** Expands command and args against the container's final environment. */
export function expandCommand(words: string[] | undefined, env: [string, string][]): string[] {
  const m = new Map(env);
  return (words ?? []).map((w) => expand(w, (n) => m.get(n)));
}

/** The subset of a Service that service environment variables need. */
export interface ServiceForEnv {
  metadata?: { name?: string };
  spec?: { clusterIP?: string; ports?: { name?: string; port: number; protocol?: string }[] };
}

/**
 * Docker-link style variables for services (upstream envvars.FromServices): `{NAME}_SERVICE_HOST`,
 * `{NAME}_SERVICE_PORT`, `{NAME}_PORT_{port}_{PROTO}` and friends.
 */
export function serviceEnv(services: ServiceForEnv[]): [string, string][] {
  const out: [string, string][] = [];
  const sorted = [...services].sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
  for (const s of sorted) {
    const ip = s.spec?.clusterIP;
    if (!ip || ip === 'None') continue;
    const ports = s.spec?.ports ?? [];
    if (ports.length === 0) continue;
    const name = (s.metadata?.name ?? '').toUpperCase().replace(/-/g, '_');
    out.push([`${name}_SERVICE_HOST`, ip]);
    out.push([`${name}_SERVICE_PORT`, String(ports[0]!.port)]);
    for (const p of ports) if (p.name) out.push([`${name}_SERVICE_PORT_${p.name.toUpperCase().replace(/-/g, '_')}`, String(p.port)]);
    const first = ports[0]!;
    const host = ip.includes(':') ? `[${ip}]` : ip;
    out.push([`${name}_PORT`, `${(first.protocol ?? 'TCP').toLowerCase()}://${host}:${first.port}`]);
    for (const p of ports) {
      const proto = (p.protocol ?? 'TCP').toUpperCase();
      const prefix = `${name}_PORT_${p.port}_${proto}`;
      out.push([prefix, `${proto.toLowerCase()}://${host}:${p.port}`]);
      out.push([`${prefix}_PROTO`, proto.toLowerCase()]);
      out.push([`${prefix}_PORT`, String(p.port)]);
      out.push([`${prefix}_ADDR`, ip]);
    }
  }
  return out;
}
