/**
 * PodSecurity (the Pod Security Standards, upstream's pod-security-admission at "latest"): a
 * namespace's `pod-security.kubernetes.io/enforce` label (privileged, baseline or restricted)
 * refuses pods that break the level, with upstream's message:
 * `violates PodSecurity "restricted:latest": allowPrivilegeEscalation != false (container "c" must set …), …`.
 *
 * `warn` findings reach the client as `Warning: would violate PodSecurity "restricted:latest": …`
 * headers, for pods and for the pod templates of workload resources (Deployments, Jobs, …).
 * `audit` findings go to the `onAudit` callback (the apiserver's log): keelson has no audit log, so
 * upstream's `pod-security.kubernetes.io/audit-violations` audit annotation is not recorded.
 */
import type { StoredObject } from '../api/types.js';
import type { ClusterState } from '../auth/cluster-state.js';
import type { AdmissionPlugin } from './types.js';
import { allContainers, forbidden, isResource } from './util.js';
import { addRequestWarning } from '../apiserver/request-context.js';

export type Level = 'privileged' | 'baseline' | 'restricted';

export interface CheckResult {
  reason: string;
  detail: string;
}

const levels: Level[] = ['privileged', 'baseline', 'restricted'];

function quoteList(names: string[]): string {
  return names.map((n) => JSON.stringify(n)).join(', ');
}

/** `container "a"` / `containers "a", "b"`. */
function containersPhrase(names: string[]): string {
  return names.length === 1 ? `container ${quoteList(names)}` : `containers ${quoteList(names)}`;
}

const baselineCapabilities = new Set(['AUDIT_WRITE', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'MKNOD', 'NET_BIND_SERVICE', 'SETFCAP', 'SETGID', 'SETPCAP', 'SETUID', 'SYS_CHROOT']);
const safeSysctls = new Set([
  'kernel.shm_rmid_forced',
  'net.ipv4.ip_local_port_range',
  'net.ipv4.ip_unprivileged_port_start',
  'net.ipv4.tcp_syncookies',
  'net.ipv4.ping_group_range',
  'net.ipv4.ip_local_reserved_ports',
  'net.ipv4.tcp_keepalive_time',
  'net.ipv4.tcp_fin_timeout',
  'net.ipv4.tcp_keepalive_intvl',
  'net.ipv4.tcp_keepalive_probes',
  'net.ipv4.tcp_rmem',
  'net.ipv4.tcp_wmem',
]);
const restrictedVolumeTypes = new Set(['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret']);
const allowedSELinuxTypes = new Set(['', 'container_t', 'container_init_t', 'container_kvm_t', 'container_engine_t']);

type Check = (pod: StoredObject) => CheckResult | undefined;

const baselineChecks: Check[] = [
  (pod) => {
    const on = ['hostNetwork', 'hostPID', 'hostIPC'].filter((k) => pod.spec?.[k] === true);
    return on.length ? { reason: 'host namespaces', detail: on.map((k) => `${k}=true`).join(', ') } : undefined;
  },
  (pod) => {
    const bad = allContainers(pod).filter(({ c }) => c.securityContext?.privileged === true).map(({ c }) => c.name);
    return bad.length ? { reason: 'privileged', detail: `${containersPhrase(bad)} must not set securityContext.privileged=true` } : undefined;
  },
  (pod) => {
    const bad = allContainers(pod).filter(({ c }) => (c.securityContext?.capabilities?.add ?? []).some((cap: string) => !baselineCapabilities.has(cap)));
    if (!bad.length) return undefined;
    const caps = [...new Set(bad.flatMap(({ c }) => (c.securityContext.capabilities.add as string[]).filter((cap) => !baselineCapabilities.has(cap))))].sort();
    return { reason: 'non-default capabilities', detail: `${containersPhrase(bad.map(({ c }) => c.name))} must not include ${quoteList(caps)} in securityContext.capabilities.add` };
  },
  (pod) => {
    const vols = (pod.spec?.volumes ?? []).filter((v: any) => v.hostPath).map((v: any) => v.name as string);
    return vols.length ? { reason: 'hostPath volumes', detail: `${vols.length === 1 ? 'volume' : 'volumes'} ${quoteList(vols)}` } : undefined;
  },
  (pod) => {
    const bad = allContainers(pod).filter(({ c }) => (c.ports ?? []).some((p: any) => p.hostPort));
    if (!bad.length) return undefined;
    const ports = [...new Set(bad.flatMap(({ c }) => (c.ports as any[]).filter((p) => p.hostPort).map((p) => String(p.hostPort))))];
    return { reason: 'hostPort', detail: `${containersPhrase(bad.map(({ c }) => c.name))} ${bad.length === 1 ? 'uses' : 'use'} ${ports.length === 1 ? 'hostPort' : 'hostPorts'} ${ports.join(', ')}` };
  },
  (pod) => {
    const unconfined = (p: any) => p?.type === 'Unconfined';
    const podBad = unconfined(pod.spec?.securityContext?.appArmorProfile);
    const bad = allContainers(pod).filter(({ c }) => unconfined(c.securityContext?.appArmorProfile)).map(({ c }) => c.name);
    const annotations = Object.entries(pod.metadata.annotations ?? {}).filter(([k, v]) => k.startsWith('container.apparmor.security.beta.kubernetes.io/') && v === 'unconfined');
    if (!podBad && !bad.length && !annotations.length) return undefined;
    return { reason: 'forbidden AppArmor profile', detail: 'Unconfined' };
  },
  (pod) => {
    const badOpts = (o: any) => o && (!allowedSELinuxTypes.has(o.type ?? '') || o.user || o.role);
    const podBad = badOpts(pod.spec?.securityContext?.seLinuxOptions);
    const bad = allContainers(pod).filter(({ c }) => badOpts(c.securityContext?.seLinuxOptions)).map(({ c }) => c.name);
    if (!podBad && !bad.length) return undefined;
    return { reason: 'seLinuxOptions', detail: podBad ? 'pod sets forbidden securityContext.seLinuxOptions' : `${containersPhrase(bad)} set forbidden securityContext.seLinuxOptions` };
  },
  (pod) => {
    const bad = allContainers(pod).filter(({ c }) => c.securityContext?.procMount && c.securityContext.procMount !== 'Default').map(({ c }) => c.name);
    return bad.length ? { reason: 'procMount', detail: `${containersPhrase(bad)} must not set securityContext.procMount to "Unmasked"` } : undefined;
  },
  (pod) => {
    const podBad = pod.spec?.securityContext?.seccompProfile?.type === 'Unconfined';
    const bad = allContainers(pod).filter(({ c }) => c.securityContext?.seccompProfile?.type === 'Unconfined').map(({ c }) => c.name);
    if (!podBad && !bad.length) return undefined;
    const who = [podBad ? 'pod' : '', bad.length ? containersPhrase(bad) : ''].filter(Boolean).join(' and ');
    return { reason: 'seccompProfile', detail: `${who} must not set securityContext.seccompProfile.type to "Unconfined"` };
  },
  (pod) => {
    const bad = (pod.spec?.securityContext?.sysctls ?? []).map((s: any) => s.name as string).filter((n: string) => !safeSysctls.has(n));
    return bad.length ? { reason: 'forbidden sysctls', detail: bad.join(', ') } : undefined;
  },
];

const restrictedChecks: Check[] = [
  (pod) => {
    const bad = (pod.spec?.volumes ?? []).filter((v: any) => !Object.keys(v).some((k) => k !== 'name' && restrictedVolumeTypes.has(k)));
    if (!bad.length) return undefined;
    const types = [...new Set<string>(bad.map((v: any) => Object.keys(v).find((k) => k !== 'name') ?? 'unknown'))];
    return { reason: 'restricted volume types', detail: `${bad.length === 1 ? 'volume' : 'volumes'} ${quoteList(bad.map((v: any) => v.name))} ${bad.length === 1 ? 'uses' : 'use'} restricted volume ${types.length === 1 ? 'type' : 'types'} ${quoteList(types)}` };
  },
  (pod) => {
    const bad = allContainers(pod).filter(({ c }) => c.securityContext?.allowPrivilegeEscalation !== false).map(({ c }) => c.name);
    return bad.length ? { reason: 'allowPrivilegeEscalation != false', detail: `${containersPhrase(bad)} must set securityContext.allowPrivilegeEscalation=false` } : undefined;
  },
  (pod) => {
    const noDrop = allContainers(pod).filter(({ c }) => !(c.securityContext?.capabilities?.drop ?? []).includes('ALL')).map(({ c }) => c.name);
    const adds = allContainers(pod).filter(({ c }) => (c.securityContext?.capabilities?.add ?? []).some((cap: string) => cap !== 'NET_BIND_SERVICE'));
    if (!noDrop.length && !adds.length) return undefined;
    const parts: string[] = [];
    if (noDrop.length) parts.push(`${containersPhrase(noDrop)} must set securityContext.capabilities.drop=["ALL"]`);
    if (adds.length) {
      const caps = [...new Set(adds.flatMap(({ c }) => (c.securityContext.capabilities.add as string[]).filter((cap) => cap !== 'NET_BIND_SERVICE')))].sort();
      parts.push(`${containersPhrase(adds.map(({ c }) => c.name))} must not include ${quoteList(caps)} in securityContext.capabilities.add`);
    }
    return { reason: 'unrestricted capabilities', detail: parts.join('; ') };
  },
  (pod) => {
    const podSet = pod.spec?.securityContext?.runAsNonRoot;
    if (podSet === false) return { reason: 'runAsNonRoot != true', detail: 'pod must not set securityContext.runAsNonRoot=false' };
    const explicitFalse = allContainers(pod).filter(({ c }) => c.securityContext?.runAsNonRoot === false).map(({ c }) => c.name);
    if (explicitFalse.length) return { reason: 'runAsNonRoot != true', detail: `${containersPhrase(explicitFalse)} must not set securityContext.runAsNonRoot=false` };
    if (podSet === true) return undefined;
    const unset = allContainers(pod).filter(({ c }) => c.securityContext?.runAsNonRoot !== true).map(({ c }) => c.name);
    return unset.length ? { reason: 'runAsNonRoot != true', detail: `pod or ${containersPhrase(unset)} must set securityContext.runAsNonRoot=true` } : undefined;
  },
  (pod) => {
    const podBad = pod.spec?.securityContext?.runAsUser === 0;
    const bad = allContainers(pod).filter(({ c }) => c.securityContext?.runAsUser === 0).map(({ c }) => c.name);
    if (!podBad && !bad.length) return undefined;
    const who = [podBad ? 'pod' : '', bad.length ? containersPhrase(bad) : ''].filter(Boolean).join(' and ');
    return { reason: 'runAsUser=0', detail: `${who} must not set runAsUser=0` };
  },
  (pod) => {
    const ok = (p: any) => p?.type === 'RuntimeDefault' || p?.type === 'Localhost';
    const podOK = ok(pod.spec?.securityContext?.seccompProfile);
    const bad = allContainers(pod).filter(({ c }) => !ok(c.securityContext?.seccompProfile) && !(podOK && !c.securityContext?.seccompProfile)).map(({ c }) => c.name);
    if (!bad.length) return undefined;
    return { reason: 'seccompProfile', detail: `${podOK ? '' : 'pod or '}${containersPhrase(bad)} must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost"` };
  },
];

const baselineIDs = ['hostNamespaces', 'privileged', 'capabilities_baseline', 'hostPathVolumes', 'hostPorts', 'appArmorProfile', 'seLinuxOptions', 'procMount', 'seccompProfile_baseline', 'sysctls'];
const restrictedIDs = ['restrictedVolumes', 'allowPrivilegeEscalation', 'capabilities_restricted', 'runAsNonRoot', 'runAsUser', 'seccompProfile_restricted'];
/** Restricted checks that replace a baseline one. */
const overridden = new Set(['capabilities_baseline', 'seccompProfile_baseline']);

/** The violations of a level, ordered by check ID as upstream reports them. */
export function evaluatePod(pod: StoredObject, level: Level): CheckResult[] {
  if (level === 'privileged') return [];
  let checks: [string, Check][] = baselineIDs.map((id, i) => [id, baselineChecks[i]!]);
  if (level === 'restricted') {
    checks = checks.filter(([id]) => !overridden.has(id));
    checks.push(...restrictedIDs.map((id, i): [string, Check] => [id, restrictedChecks[i]!]));
  }
  checks.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const out: CheckResult[] = [];
  for (const [, c] of checks) {
    const r = c(pod);
    if (r) out.push(r);
  }
  return out;
}

/** `violates PodSecurity "restricted:latest": a (x), b (y)`; `would violate …` for warn and audit. */
export function violationMessage(level: Level, version: string, results: CheckResult[], would = false): string {
  return `${would ? 'would violate' : 'violates'} PodSecurity "${level}:${version}": ${results.map((r) => `${r.reason} (${r.detail})`).join(', ')}`;
}

function levelOf(labels: Record<string, string> | undefined, mode: 'enforce' | 'warn' | 'audit'): { level: Level; version: string } {
  const v = labels?.[`pod-security.kubernetes.io/${mode}`];
  const level = levels.includes(v as Level) ? (v as Level) : 'privileged';
  const version = labels?.[`pod-security.kubernetes.io/${mode}-version`] || 'latest';
  return { level, version };
}

export interface PodSecurityOptions {
  /** Called with each `warn` finding, besides the Warning header the client gets. */
  onWarning?: (namespace: string, name: string, message: string) => void;
  /** Called with each `audit` finding; keelson has no audit log, so this is where they end up. */
  onAudit?: (namespace: string, name: string, message: string) => void;
  /** Namespaces exempt from every level (upstream's exemptions.namespaces). */
  exemptNamespaces?: string[];
}

/**
 * Where the pod template sits in the workload resources upstream checks (warn and audit only:
 * enforce applies to pods), by group/plural.
 */
const podTemplatePaths: Record<string, string[]> = {
  '/podtemplates': ['template'],
  '/replicationcontrollers': ['spec', 'template'],
  'apps/replicasets': ['spec', 'template'],
  'apps/deployments': ['spec', 'template'],
  'apps/statefulsets': ['spec', 'template'],
  'apps/daemonsets': ['spec', 'template'],
  'batch/jobs': ['spec', 'template'],
  'batch/cronjobs': ['spec', 'jobTemplate', 'spec', 'template'],
};

function dig(o: unknown, path: string[]): any {
  let cur: any = o;
  for (const k of path) cur = cur && typeof cur === 'object' ? cur[k] : undefined;
  return cur;
}

export function podSecurity(state: ClusterState, opts: PodSecurityOptions = {}): AdmissionPlugin {
  /** The warn and audit findings of a pod(-like) object; warn ones go to the client as warnings. */
  const warnAndAudit = (namespace: string, name: string, labels: Record<string, string> | undefined, pod: StoredObject) => {
    for (const mode of ['warn', 'audit'] as const) {
      const l = levelOf(labels, mode);
      const v = evaluatePod(pod, l.level);
      if (!v.length) continue;
      const msg = violationMessage(l.level, l.version, v, true);
      if (mode === 'warn') {
        addRequestWarning(msg);
        opts.onWarning?.(namespace, name, msg);
      } else opts.onAudit?.(namespace, name, msg);
    }
  };
  return {
    name: 'PodSecurity',
    validate(a) {
      if (!a.object || !a.namespace) return;
      if (a.operation !== 'CREATE' && a.operation !== 'UPDATE') return;
      if (opts.exemptNamespaces?.includes(a.namespace)) return;
      const templatePath = a.subresource ? undefined : podTemplatePaths[`${a.def.group}/${a.def.plural}`];
      if (templatePath) {
        const template = dig(a.object, templatePath);
        if (!template?.spec) return;
        if (a.operation === 'UPDATE' && JSON.stringify(template) === JSON.stringify(dig(a.oldObject, templatePath))) return;
        const labels = state.get('', 'namespaces', undefined, a.namespace)?.metadata.labels;
        warnAndAudit(a.namespace, a.name, labels, { metadata: template.metadata ?? {}, spec: template.spec } as StoredObject);
        return;
      }
      if (!isResource(a, '', 'pods')) return;
      // An update that leaves the pod spec alone (status, labels, finalizers) is not re-checked.
      if (a.operation === 'UPDATE' && JSON.stringify(a.object.spec) === JSON.stringify(a.oldObject?.spec)) return;
      const ns = state.get('', 'namespaces', undefined, a.namespace);
      const labels = ns?.metadata.labels;
      const enforce = levelOf(labels, 'enforce');
      const violations = evaluatePod(a.object, enforce.level);
      if (violations.length) throw forbidden(a, violationMessage(enforce.level, enforce.version, violations));
      warnAndAudit(a.namespace, a.name, labels, a.object);
    },
  };
}
