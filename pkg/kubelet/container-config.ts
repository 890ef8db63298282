/**
 * CRI configurations built from the pod spec (upstream kuberuntime_sandbox.go and
 * kuberuntime_container.go): the sandbox's hostname, DNS, ports, labels and Linux security context,
 * and each container's command, environment, mounts, resources and security context.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Container, Pod } from './types.js';
import type { ContainerConfig, Mount, NamespaceOption, PodSandboxConfig, PortMapping, Req } from '../cri/types.js';
import * as L from './labels.js';
import { podCgroupParent, linuxResources } from './resources.js';
import { podDNSConfig, podHostname, type DnsSettings } from './dns-hosts.js';
import { ContainerConfigError, expand, expandCommand, makeEnvironment, serviceEnv, type EnvContext } from './env.js';
import type { MountedVolume } from './volumes.js';
import type { PortMappingArg } from './network.js';

/** Upstream's default masked and read-only paths for unprivileged containers. */
const DEFAULT_MASKED_PATHS = [
  '/proc/asound',
  '/proc/acpi',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/proc/sched_debug',
  '/proc/scsi',
  '/sys/firmware',
  '/sys/devices/virtual/powercap',
];
const DEFAULT_READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

export function podLogDirectory(podLogsDir: string, pod: { namespace: string; name: string; uid: string }): string {
  return path.join(podLogsDir, `${pod.namespace}_${pod.name}_${pod.uid}`);
}

export function containerLogPath(name: string, attempt: number): string {
  return path.join(name, `${attempt}.log`);
}

function namespaceOptions(pod: Pod): Req<NamespaceOption> {
  const s = pod.spec!;
  return {
    network: s.hostNetwork ? 'NODE' : 'POD',
    pid: s.hostPID ? 'NODE' : s.shareProcessNamespace ? 'POD' : 'CONTAINER',
    ipc: s.hostIPC ? 'NODE' : 'POD',
  };
}

function allContainers(pod: Pod): Container[] {
  return [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
}

/** Host ports of the pod, as CRI port mappings and as the CNI portmap capability wants them. */
export function podPortMappings(pod: Pod): { cri: Req<PortMapping>[]; cni: PortMappingArg[] } {
  const cri: Req<PortMapping>[] = [];
  const cni: PortMappingArg[] = [];
  for (const c of allContainers(pod)) {
    for (const p of c.ports ?? []) {
      if (!p.hostPort) continue;
      const protocol = (p.protocol ?? 'TCP').toUpperCase() as 'TCP' | 'UDP' | 'SCTP';
      cri.push({ protocol, container_port: p.containerPort, host_port: p.hostPort, host_ip: p.hostIP ?? '' });
      cni.push({ hostPort: p.hostPort, containerPort: p.containerPort, protocol: protocol.toLowerCase(), ...(p.hostIP ? { hostIP: p.hostIP } : {}) });
    }
  }
  return { cri, cni };
}

export interface SandboxSettings extends DnsSettings {
  podLogsDir: string;
  cgroupRoot: string;
}

export function makeSandboxConfig(pod: Pod, attempt: number, s: SandboxSettings): Req<PodSandboxConfig> {
  const meta = pod.metadata!;
  const sc = pod.spec?.securityContext ?? {};
  const sysctls: Record<string, string> = {};
  for (const x of sc.sysctls ?? []) sysctls[x.name] = x.value;
  const supplemental = [...(sc.supplementalGroups ?? [])];
  if (sc.fsGroup !== undefined && sc.fsGroup !== null) supplemental.push(sc.fsGroup);
  const security: NonNullable<Req<PodSandboxConfig>['linux']>['security_context'] = {
    namespace_options: namespaceOptions(pod),
    privileged: allContainers(pod).some((c) => c.securityContext?.privileged === true),
    supplemental_groups: supplemental,
  };
  if (sc.runAsUser !== undefined && sc.runAsUser !== null) security.run_as_user = { value: sc.runAsUser };
  if (sc.runAsGroup !== undefined && sc.runAsGroup !== null) security.run_as_group = { value: sc.runAsGroup };
  return {
    metadata: { name: meta.name, uid: meta.uid, namespace: meta.namespace, attempt },
    // A pod on the host network shares the node's UTS namespace and keeps the node's hostname.
    hostname: pod.spec?.hostNetwork ? '' : podHostname(pod),
    log_directory: podLogDirectory(s.podLogsDir, { namespace: meta.namespace!, name: meta.name!, uid: meta.uid! }),
    dns_config: podDNSConfig(pod, s),
    port_mappings: podPortMappings(pod).cri,
    labels: L.sandboxLabels(pod),
    annotations: { ...(meta.annotations ?? {}) },
    linux: { cgroup_parent: podCgroupParent(s.cgroupRoot, pod), security_context: security, sysctls },
  };
}

function propagation(mode: string | undefined): 'PROPAGATION_PRIVATE' | 'PROPAGATION_HOST_TO_CONTAINER' | 'PROPAGATION_BIDIRECTIONAL' {
  if (mode === 'HostToContainer') return 'PROPAGATION_HOST_TO_CONTAINER';
  if (mode === 'Bidirectional') return 'PROPAGATION_BIDIRECTIONAL';
  return 'PROPAGATION_PRIVATE';
}

/** A subPath inside a volume, created if missing, refused if it escapes the volume. */
function subPathOf(volumePath: string, sub: string): string {
  const norm = path.posix.normalize(sub);
  if (path.posix.isAbsolute(norm) || norm === '..' || norm.startsWith('../')) throw new ContainerConfigError(`failed to prepare subPath for volumeMount: ${sub} must be a relative path not containing '..'`);
  const base = fs.realpathSync(volumePath);
  const candidate = path.join(volumePath, norm);
  if (!fs.existsSync(candidate)) fs.mkdirSync(candidate, { recursive: true, mode: 0o755 });
  const real = fs.realpathSync(candidate);
  if (real !== base && !real.startsWith(base + path.sep)) throw new ContainerConfigError(`failed to prepare subPath for volumeMount: subpath ${sub} resolves outside the volume`);
  return real;
}

export interface ContainerContext extends EnvContext {
  imageRef: string;
  volumes: Map<string, MountedVolume>;
  hostsFile: string;
  podDir: string;
  memoryCapacity: number;
  /** The image's configured user, to enforce runAsNonRoot. */
  imageUser?: { uid?: number; username?: string };
}

/** The CRI container config for one instance (`attempt` = its restart count). */
export async function makeContainerConfig(pod: Pod, c: Container, type: L.ContainerType, attempt: number, ctx: ContainerContext): Promise<{ config: Req<ContainerConfig>; terminationMessageHostPath?: string }> {
  const ns = pod.metadata!.namespace!;
  const services = ctx.objects.services ? await ctx.objects.services(ns).catch(() => []) : [];
  const defaultNsServices = ns !== 'default' && ctx.objects.services ? await ctx.objects.services('default').catch(() => []) : services;
  const linkServices = pod.spec?.enableServiceLinks === false ? [] : services;
  const master = defaultNsServices.filter((s) => s.metadata?.name === 'kubernetes');
  const svcEnv = serviceEnv([...linkServices.filter((s) => ns !== 'default' || s.metadata?.name !== 'kubernetes'), ...master]);
  const env = await makeEnvironment(c, { ...ctx, serviceEnv: svcEnv });
  const envMap = new Map(env);

  const mounts: Req<Mount>[] = [];
  const targets = new Set<string>();
  for (const vm of c.volumeMounts ?? []) {
    const vol = ctx.volumes.get(vm.name);
    if (!vol) throw new ContainerConfigError(`cannot find volume "${vm.name}" to mount into container "${c.name}"`);
    let host = vol.hostPath;
    const sub = vm.subPathExpr ? expand(vm.subPathExpr, (n) => envMap.get(n)) : vm.subPath;
    if (sub) host = subPathOf(vol.hostPath, sub);
    mounts.push({ container_path: vm.mountPath, host_path: host, readonly: vm.readOnly === true || vol.forceReadOnly, propagation: propagation(vm.mountPropagation) });
    targets.add(path.posix.normalize(vm.mountPath));
  }
  if (!targets.has('/etc/hosts')) mounts.push({ container_path: '/etc/hosts', host_path: ctx.hostsFile, readonly: false });
  let terminationMessageHostPath: string | undefined;
  const tmp = c.terminationMessagePath ?? '/dev/termination-log';
  if (tmp && !targets.has(path.posix.normalize(tmp))) {
    const dir = path.join(ctx.podDir, 'containers', c.name);
    fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
    terminationMessageHostPath = path.join(dir, `${attempt}-termination-log`);
    fs.writeFileSync(terminationMessageHostPath, '', { mode: 0o666 });
    fs.chmodSync(terminationMessageHostPath, 0o666);
    mounts.push({ container_path: tmp, host_path: terminationMessageHostPath, readonly: false });
  }

  const podSC = pod.spec?.securityContext ?? {};
  const sc = c.securityContext ?? {};
  const runAsUser = sc.runAsUser ?? podSC.runAsUser;
  const runAsGroup = sc.runAsGroup ?? podSC.runAsGroup;
  const runAsNonRoot = sc.runAsNonRoot ?? podSC.runAsNonRoot;
  if (runAsNonRoot) {
    if (runAsUser === 0) throw new ContainerConfigError("container's runAsUser breaks non-root policy");
    if (runAsUser === undefined || runAsUser === null) {
      const u = ctx.imageUser;
      if (u?.uid === 0 || (!u?.uid && !u?.username)) throw new ContainerConfigError('container has runAsNonRoot and image will run as root');
      if (u?.username && u.uid === undefined) throw new ContainerConfigError(`container has runAsNonRoot and image has non-numeric user (${u.username}), cannot verify user is non-root`);
    }
  }
  const privileged = sc.privileged === true;
  const supplemental = [...(podSC.supplementalGroups ?? [])];
  if (podSC.fsGroup !== undefined && podSC.fsGroup !== null) supplemental.push(podSC.fsGroup);
  const security: NonNullable<NonNullable<Req<ContainerConfig>['linux']>['security_context']> = {
    privileged,
    namespace_options: namespaceOptions(pod),
    readonly_rootfs: sc.readOnlyRootFilesystem === true,
    supplemental_groups: supplemental,
    no_new_privs: sc.allowPrivilegeEscalation === false,
    capabilities: { add_capabilities: sc.capabilities?.add ?? [], drop_capabilities: sc.capabilities?.drop ?? [] },
  };
  if (!privileged && sc.procMount !== 'Unmasked') {
    security.masked_paths = DEFAULT_MASKED_PATHS;
    security.readonly_paths = DEFAULT_READONLY_PATHS;
  }
  if (runAsUser !== undefined && runAsUser !== null) security.run_as_user = { value: runAsUser };
  if (runAsGroup !== undefined && runAsGroup !== null) security.run_as_group = { value: runAsGroup };
  const seccomp = sc.seccompProfile ?? podSC.seccompProfile;
  if (seccomp?.type === 'RuntimeDefault') security.seccomp = { profile_type: 'RuntimeDefault' };
  else if (seccomp?.type === 'Localhost' && seccomp.localhostProfile) security.seccomp = { profile_type: 'Localhost', localhost_ref: seccomp.localhostProfile };

  const annotations: Record<string, string> = {
    [L.CONTAINER_HASH]: L.containerHash(c),
    [L.CONTAINER_RESTART_COUNT]: String(attempt),
    [L.CONTAINER_TERMINATION_MESSAGE_PATH]: tmp ?? '',
    [L.CONTAINER_TERMINATION_MESSAGE_POLICY]: c.terminationMessagePolicy ?? 'File',
    [L.POD_TERMINATION_GRACE_PERIOD]: String(pod.spec?.terminationGracePeriodSeconds ?? 30),
  };
  if (terminationMessageHostPath) annotations[L.TERMINATION_MESSAGE_HOST_PATH] = terminationMessageHostPath;
  if (c.lifecycle?.preStop) annotations[L.CONTAINER_PRESTOP_HANDLER] = JSON.stringify(c.lifecycle.preStop);

  const config: Req<ContainerConfig> = {
    metadata: { name: c.name, attempt },
    image: { image: ctx.imageRef, user_specified_image: c.image ?? '' },
    command: expandCommand(c.command, env),
    args: expandCommand(c.args, env),
    working_dir: c.workingDir ?? '',
    envs: env.map(([key, value]) => ({ key, value })),
    mounts,
    labels: L.containerLabels(pod, c, attempt, type),
    annotations,
    log_path: containerLogPath(c.name, attempt),
    stdin: c.stdin === true,
    stdin_once: c.stdinOnce === true,
    tty: c.tty === true,
    linux: { resources: linuxResources(pod, c, ctx.memoryCapacity), security_context: security },
  };
  return { config, terminationMessageHostPath };
}
