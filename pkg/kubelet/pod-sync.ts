/**
 * Bringing one pod's containers in the runtime to what its spec asks (upstream kuberuntime's
 * SyncPod and KillPod): a ready sandbox with its network, volumes and /etc/hosts, init containers
 * in order, then every container, restarted by the restart policy with CrashLoopBackOff, after
 * failed liveness or startup probes, or when its spec changed. Everything is decided from the
 * runtime's current state, so calling it again is always safe.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Container, Pod } from './types.js';
import { CriClient, criErrorMessage, isNotFound } from '../cri/index.js';
import type { PodSandboxConfig, Req } from '../cri/types.js';
import type { Logger } from '../log/logger.js';
import type { KubeletConfig, Clock } from './config.js';
import type { Backoff } from './backoff.js';
import type { EventRecorder } from './events.js';
import type { ImageManager } from './images.js';
import { ImagePullError } from './images.js';
import type { ObjectSource } from './object-source.js';
import type { PodNetwork } from './network.js';
import type { ProbeManager } from './probes.js';
import { runHandler, type ProbeKind } from './probes.js';
import { VolumeError, type VolumeManager, type MountedVolume } from './volumes.js';
import { getRuntimePod, instancesOf, readySandbox, type ContainerInfo, type RuntimePod, type SandboxInfo } from './runtime-state.js';
import { makeContainerConfig, makeSandboxConfig, podLogDirectory, podPortMappings } from './container-config.js';
import { writeHostsFile } from './dns-hosts.js';
import { ContainerConfigError, type NodeAllocatable } from './env.js';
import { containerHash, CONTAINER_PRESTOP_HANDLER, POD_NAME, POD_NAMESPACE } from './labels.js';
import { removePodCgroups } from './cgroups.js';
import type { Waiting } from './pod-status.js';

/** Upstream's floor for a container's stop timeout (kuberuntime minimumGracePeriodInSeconds). */
const MIN_GRACE_SECONDS = 2;

export interface SyncResult {
  waiting: Map<string, Waiting>;
  /** Sync again this many milliseconds from now (backoff expiry, retry after an error). */
  requeueAfterMs?: number;
  podIPs: string[];
  sandboxReady: boolean;
  currentSandboxId?: string;
  rp: RuntimePod;
}

export interface NodeFacts {
  nodeIP: string;
  allocatable: NodeAllocatable;
  memoryCapacity: number;
}

export interface PodSyncDeps {
  cri: CriClient;
  network: PodNetwork;
  volumes: VolumeManager;
  images: ImageManager;
  events: EventRecorder;
  objects: ObjectSource;
  probes: ProbeManager;
  crashBackoff: Backoff;
  config: KubeletConfig;
  log: Logger;
  clock: Clock;
  node: () => NodeFacts;
}

function podKey(pod: Pod): string {
  return `${pod.metadata?.namespace}/${pod.metadata?.name}`;
}

function shouldRestart(policy: string | undefined, exitCode: number): boolean {
  if (policy === 'Never') return false;
  if (policy === 'OnFailure') return exitCode !== 0;
  return true;
}

function fieldPathOf(type: 'init' | 'regular', name: string): string {
  return type === 'init' ? `spec.initContainers{${name}}` : `spec.containers{${name}}`;
}

function minRequeue(res: SyncResult, ms: number): void {
  const v = Math.max(0, ms);
  res.requeueAfterMs = res.requeueAfterMs === undefined ? v : Math.min(res.requeueAfterMs, v);
}

export class PodSync {
  constructor(private readonly d: PodSyncDeps) {}

  /** The network namespace path of a sandbox, from its verbose status. */
  async sandboxNetns(sandboxId: string): Promise<string | undefined> {
    try {
      const st = await this.d.cri.podSandboxStatus(sandboxId, true);
      const info = JSON.parse(st.info?.info ?? '{}');
      const ns = (info?.runtimeSpec?.linux?.namespaces ?? []).find((n: { type: string }) => n.type === 'network');
      return ns?.path || undefined;
    } catch {
      return undefined;
    }
  }

  private podIPsOf(pod: Pod, sandbox: SandboxInfo): string[] {
    if (pod.spec?.hostNetwork) return [this.d.node().nodeIP];
    return this.d.network.cachedIPs(sandbox.id) ?? [];
  }

  async syncPod(pod: Pod): Promise<SyncResult> {
    const uid = pod.metadata!.uid!;
    const spec = pod.spec!;
    const log = this.d.log.child({ pod: podKey(pod) });
    let rp = await getRuntimePod(this.d.cri, uid);
    const res: SyncResult = { waiting: new Map(), podIPs: [], sandboxReady: false, rp };
    const node = this.d.node();

    let sandbox = readySandbox(rp);
    let podIPs = sandbox ? this.podIPsOf(pod, sandbox) : [];
    if (sandbox && podIPs.length === 0) {
      // A sandbox whose network was never set up (the kubelet stopped half-way): replace it.
      log.info({ sandbox: sandbox.id }, 'sandbox has no network; it will be re-created');
      await this.stopSandbox(pod, rp, sandbox, MIN_GRACE_SECONDS);
      sandbox = undefined;
    }
    for (const s of rp.sandboxes) {
      if (s.state === 'SANDBOX_READY' && s !== sandbox) await this.stopSandbox(pod, rp, s, MIN_GRACE_SECONDS);
    }

    let volumes: Map<string, MountedVolume>;
    try {
      volumes = await this.d.volumes.setUp(pod, { hostIP: node.nodeIP, podIPs, node: node.allocatable });
    } catch (e) {
      const msg = e instanceof VolumeError ? e.message : `MountVolume.SetUp failed: ${(e as Error).message}`;
      this.d.events.pod(pod, 'Warning', 'FailedMount', msg);
      log.warn({ err: msg }, 'volume setup failed');
      minRequeue(res, 2_000);
      return res;
    }

    if (!sandbox) {
      const everRan = rp.sandboxes.length > 0 && rp.containers.length > 0;
      if (spec.restartPolicy === 'Never' && everRan) {
        // The pod ran once and must not be restarted: it is finished.
        return res;
      }
      if (!spec.hostNetwork) {
        const ns = this.d.network.status();
        if (!ns.ready) {
          this.d.events.pod(pod, 'Warning', 'NetworkNotReady', `network is not ready: ${ns.message}`);
          minRequeue(res, 2_000);
          return res;
        }
      }
      for (const c of rp.containers) if (c.state === 'CONTAINER_RUNNING') await this.killContainer(pod, c, MIN_GRACE_SECONDS, 'sandbox is gone');
      const attempt = rp.sandboxes.length ? Math.max(...rp.sandboxes.map((s) => s.attempt)) + 1 : 0;
      if (attempt > 0) this.d.events.pod(pod, 'Normal', 'SandboxChanged', 'Pod sandbox changed, it will be killed and re-created.');
      const created = await this.createSandbox(pod, attempt, log);
      if (!created) {
        minRequeue(res, 5_000);
        return res;
      }
      podIPs = created.podIPs;
      rp = await getRuntimePod(this.d.cri, uid);
      sandbox = rp.sandboxes.find((s) => s.id === created.id);
      if (!sandbox) {
        minRequeue(res, 1_000);
        return res;
      }
      // Volumes that expose pod IPs (downward API) are refreshed now that there is one.
      volumes = await this.d.volumes.setUp(pod, { hostIP: node.nodeIP, podIPs, node: node.allocatable }).catch(() => volumes);
    }
    res.sandboxReady = true;
    res.podIPs = podIPs;
    res.currentSandboxId = sandbox.id;
    const sandboxConfig = this.sandboxConfig(pod, sandbox.attempt);
    const hostsFile = writeHostsFile(this.d.volumes.podDir(uid), pod, podIPs, this.d.config.clusterDomain);
    const start = (c: Container, type: 'init' | 'regular', attempt: number) => this.startContainer(pod, c, type, attempt, sandbox!, sandboxConfig, volumes, hostsFile, podIPs, res, log);

    // Init containers, one at a time, in order.
    let initDone = true;
    for (const ic of spec.initContainers ?? []) {
      const all = instancesOf(rp, ic.name, 'init');
      const latest = all.find((i) => i.sandboxId === sandbox!.id);
      if (latest?.state === 'CONTAINER_EXITED' && latest.exitCode === 0) continue;
      initDone = false;
      if (latest?.state === 'CONTAINER_RUNNING') break;
      const nextAttempt = all.length ? Math.max(...all.map((i) => i.attempt)) + 1 : 0;
      if (latest?.state === 'CONTAINER_EXITED') {
        if (spec.restartPolicy === 'Never') break;
        const key = `${uid}/${ic.name}`;
        if (this.d.crashBackoff.isInBackOffSince(key, latest.finishedAt)) {
          this.crashLoop(pod, ic, 'init', key, latest, res);
          break;
        }
        this.d.crashBackoff.next(key, latest.finishedAt);
        await start(ic, 'init', nextAttempt);
        break;
      }
      if (latest) await this.removeContainer(latest.id);
      await start(ic, 'init', nextAttempt);
      break;
    }

    if (initDone) {
      for (const c of spec.containers ?? []) {
        const all = instancesOf(rp, c.name, 'regular');
        const latest = all[0];
        const key = `${uid}/${c.name}`;
        let attempt: number | undefined;
        if (latest?.state === 'CONTAINER_RUNNING') {
          const failed: ProbeKind | undefined = this.d.probes.failed(latest.id);
          const changed = latest.hash !== '' && latest.hash !== containerHash(c);
          const stale = latest.sandboxId !== sandbox.id;
          if (!failed && !changed && !stale) continue;
          let why = `Container ${c.name} is in a previous sandbox, will be restarted`;
          if (failed) why = `Container ${c.name} failed ${failed} probe, will be restarted`;
          else if (changed) why = `Container ${c.name} definition changed, will be restarted`;
          const probe = failed === 'liveness' ? c.livenessProbe : failed === 'startup' ? c.startupProbe : undefined;
          const grace = probe?.terminationGracePeriodSeconds ?? spec.terminationGracePeriodSeconds ?? 30;
          await this.killContainer(pod, latest, grace, why);
          if (!changed && !shouldRestart(spec.restartPolicy, 1)) continue;
          // Restarts after probe failures back off like crashes do.
          if (failed) this.d.crashBackoff.next(key, this.d.clock.now());
          attempt = latest.attempt + 1;
        } else if (!latest) {
          attempt = 0;
        } else if (latest.state === 'CONTAINER_EXITED') {
          if (!shouldRestart(spec.restartPolicy, latest.exitCode)) continue;
          if (this.d.crashBackoff.isInBackOffSince(key, latest.finishedAt)) {
            this.crashLoop(pod, c, 'regular', key, latest, res);
            continue;
          }
          this.d.crashBackoff.next(key, latest.finishedAt);
          attempt = latest.attempt + 1;
        } else {
          // Created but never started (or unknown): replace it under the same restart count.
          await this.removeContainer(latest.id);
          attempt = latest.attempt;
        }
        await start(c, 'regular', attempt);
      }
    }

    // Containers the spec no longer names.
    const names = new Set([...(spec.containers ?? []).map((c) => `regular/${c.name}`), ...(spec.initContainers ?? []).map((c) => `init/${c.name}`)]);
    for (const c of rp.containers) {
      if (c.state === 'CONTAINER_RUNNING' && !names.has(`${c.type}/${c.name}`)) await this.killContainer(pod, c, spec.terminationGracePeriodSeconds ?? 30, `Container ${c.name} is not in the pod spec`);
    }

    res.rp = await getRuntimePod(this.d.cri, uid);
    const running = (spec.containers ?? [])
      .map((c) => ({ c, info: instancesOf(res.rp, c.name, 'regular')[0] }))
      .filter((x) => x.info?.state === 'CONTAINER_RUNNING')
      .map((x) => ({ c: x.c, id: x.info!.id, startedAt: x.info!.startedAt }));
    this.d.probes.reconcile(pod, running, podIPs[0] ?? node.nodeIP);
    return res;
  }

  private crashLoop(pod: Pod, c: Container, type: 'init' | 'regular', key: string, latest: ContainerInfo, res: SyncResult): void {
    const delayMs = this.d.crashBackoff.get(key);
    const meta = pod.metadata!;
    const human = delayMs >= 60_000 ? `${Math.floor(delayMs / 60_000)}m${delayMs % 60_000 ? `${(delayMs % 60_000) / 1000}s` : '0s'}` : `${delayMs / 1000}s`;
    res.waiting.set(c.name, { reason: 'CrashLoopBackOff', message: `back-off ${human} restarting failed container=${c.name} pod=${meta.name}_${meta.namespace}(${meta.uid})` });
    this.d.events.pod(pod, 'Warning', 'BackOff', `Back-off restarting failed container ${c.name} in pod ${meta.name}_${meta.namespace}(${meta.uid})`, fieldPathOf(type, c.name));
    minRequeue(res, latest.finishedAt + delayMs - this.d.clock.now() + 50);
  }

  private sandboxConfig(pod: Pod, attempt: number): Req<PodSandboxConfig> {
    const c = this.d.config;
    return makeSandboxConfig(pod, attempt, { podLogsDir: c.podLogsDir, cgroupRoot: c.cgroupRoot, clusterDNS: c.clusterDNS, clusterDomain: c.clusterDomain, resolvConf: c.resolvConf });
  }

  /** RunPodSandbox, then the pod network. Answers null (after cleaning up) when either fails. */
  private async createSandbox(pod: Pod, attempt: number, log: Logger): Promise<{ id: string; podIPs: string[] } | null> {
    const meta = pod.metadata!;
    const config = this.sandboxConfig(pod, attempt);
    fs.mkdirSync(String(config.log_directory), { recursive: true, mode: 0o755 });
    let id: string;
    try {
      id = await this.d.cri.runPodSandbox(config);
    } catch (e) {
      const msg = criErrorMessage(e);
      log.warn({ err: msg }, 'RunPodSandbox failed');
      this.d.events.pod(pod, 'Warning', 'FailedCreatePodSandBox', `Failed to create pod sandbox: ${msg}`);
      return null;
    }
    if (pod.spec?.hostNetwork) return { id, podIPs: [this.d.node().nodeIP] };
    const netns = await this.sandboxNetns(id);
    const ref = { namespace: meta.namespace!, name: meta.name!, uid: meta.uid! };
    try {
      if (!netns) throw new Error('the sandbox has no network namespace');
      const bw: Record<string, number> = {};
      const ingress = meta.annotations?.['kubernetes.io/ingress-bandwidth'];
      const egress = meta.annotations?.['kubernetes.io/egress-bandwidth'];
      if (ingress) bw.ingressRate = bandwidthBits(ingress);
      if (egress) bw.egressRate = bandwidthBits(egress);
      const podIPs = await this.d.network.setUp(ref, id, netns, podPortMappings(pod).cni, Object.keys(bw).length ? bw : undefined);
      log.info({ sandbox: id, podIPs }, 'sandbox ready');
      return { id, podIPs };
    } catch (e) {
      const msg = `failed to setup network for sandbox "${id}": ${(e as Error).message}`;
      log.warn({ err: msg }, 'pod network setup failed');
      this.d.events.pod(pod, 'Warning', 'FailedCreatePodSandBox', `Failed to create pod sandbox: ${msg}`);
      await this.d.network.tearDown(ref, id, netns).catch(() => undefined);
      await this.d.cri.stopPodSandbox(id).catch(() => undefined);
      await this.d.cri.removePodSandbox(id).catch(() => undefined);
      return null;
    }
  }

  private async startContainer(pod: Pod, c: Container, type: 'init' | 'regular', attempt: number, sandbox: SandboxInfo, sandboxConfig: Req<PodSandboxConfig>, volumes: Map<string, MountedVolume>, hostsFile: string, podIPs: string[], res: SyncResult, log: Logger): Promise<boolean> {
    const fieldPath = fieldPathOf(type, c.name);
    const node = this.d.node();
    let imageRef: string;
    try {
      imageRef = await this.d.images.ensureImage(pod, c, fieldPath, sandboxConfig);
    } catch (e) {
      if (e instanceof ImagePullError) {
        res.waiting.set(c.name, { reason: e.reason, message: e.message });
        // After a failed pull the status shows ErrImagePull until the next sync, which shows
        // ImagePullBackOff until the backoff lets the next pull happen.
        const retryIn = e.reason === 'ImagePullBackOff' ? this.d.images.backoffRemainingMs(pod, c) + 50 : e.reason === 'ErrImageNeverPull' ? 10_000 : 2_000;
        minRequeue(res, retryIn);
        return false;
      }
      res.waiting.set(c.name, { reason: 'ErrImagePull', message: criErrorMessage(e) });
      minRequeue(res, 2_000);
      return false;
    }
    let imageUser: { uid?: number; username?: string } | undefined;
    if (c.securityContext?.runAsNonRoot ?? pod.spec?.securityContext?.runAsNonRoot) {
      const st = await this.d.cri.imageStatus(imageRef).catch(() => null);
      imageUser = { uid: st?.uid ? Number(st.uid.value) : undefined, username: st?.username || undefined };
    }
    let config;
    let terminationMessageHostPath: string | undefined;
    try {
      ({ config, terminationMessageHostPath } = await makeContainerConfig(pod, c, type, attempt, {
        pod,
        hostIP: node.nodeIP,
        podIPs,
        node: node.allocatable,
        objects: this.d.objects,
        imageRef,
        volumes,
        hostsFile,
        podDir: this.d.volumes.podDir(pod.metadata!.uid!),
        memoryCapacity: node.memoryCapacity,
        imageUser,
        onInvalidKeys: (src, keys) => this.d.events.pod(pod, 'Warning', 'InvalidEnvironmentVariableNames', `Keys [${keys.join(', ')}] from the EnvFrom ${src} were skipped since they are considered invalid environment variable names.`, fieldPath),
      }));
    } catch (e) {
      if (e instanceof ContainerConfigError) {
        res.waiting.set(c.name, { reason: 'CreateContainerConfigError', message: e.message });
        this.d.events.pod(pod, 'Warning', 'Failed', `Error: ${e.message}`, fieldPath);
        minRequeue(res, 5_000);
        return false;
      }
      throw e;
    }
    void terminationMessageHostPath;
    fs.mkdirSync(path.join(String(sandboxConfig.log_directory), c.name), { recursive: true, mode: 0o755 });
    let id: string;
    try {
      id = await this.d.cri.createContainer(sandbox.id, config, sandboxConfig);
    } catch (e) {
      const msg = criErrorMessage(e);
      res.waiting.set(c.name, { reason: 'CreateContainerError', message: msg });
      this.d.events.pod(pod, 'Warning', 'Failed', `Error: ${msg}`, fieldPath);
      minRequeue(res, 5_000);
      return false;
    }
    this.d.events.pod(pod, 'Normal', 'Created', `Created container ${c.name}`, fieldPath);
    try {
      await this.d.cri.startContainer(id);
    } catch (e) {
      const msg = criErrorMessage(e);
      res.waiting.set(c.name, { reason: 'RunContainerError', message: msg });
      this.d.events.pod(pod, 'Warning', 'Failed', `Error: ${msg}`, fieldPath);
      // The runtime records the container as exited (StartError); the next sync restarts it
      // under the crash-loop backoff like any other exit.
      minRequeue(res, 1_000);
      return false;
    }
    this.d.events.pod(pod, 'Normal', 'Started', `Started container ${c.name}`, fieldPath);
    log.info({ container: c.name, id, attempt }, 'container started');
    const postStart = c.lifecycle?.postStart;
    if (postStart) {
      const out = await runHandler(this.d.cri, postStart as never, c, id, podIPs[0] ?? node.nodeIP, pod.spec?.terminationGracePeriodSeconds ?? 30);
      if (!out.ok) {
        this.d.events.pod(pod, 'Warning', 'FailedPostStartHook', `PostStartHook failed: ${out.output}`.slice(0, 1024), fieldPath);
        await this.d.cri.stopContainer(id, MIN_GRACE_SECONDS).catch(() => undefined);
      }
    }
    return true;
  }

  private async removeContainer(id: string): Promise<void> {
    await this.d.cri.removeContainer(id).catch((e) => {
      if (!isNotFound(e)) throw e;
    });
  }

  /** preStop (exec or httpGet), then StopContainer with what is left of the grace period. */
  async killContainer(pod: Pod | undefined, ci: ContainerInfo, graceSeconds: number, why: string): Promise<void> {
    if (ci.state !== 'CONTAINER_RUNNING' && ci.state !== 'CONTAINER_CREATED') return;
    const started = this.d.clock.now();
    const c = pod ? [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].find((x) => x.name === ci.name) : undefined;
    let preStop = c?.lifecycle?.preStop;
    if (!preStop && ci.annotations[CONTAINER_PRESTOP_HANDLER]) {
      try {
        preStop = JSON.parse(ci.annotations[CONTAINER_PRESTOP_HANDLER]!);
      } catch {
        preStop = undefined;
      }
    }
    const fieldPath = fieldPathOf(ci.type, ci.name);
    if (pod) this.d.events.pod(pod, 'Normal', 'Killing', why.startsWith('Container') ? why : `Stopping container ${ci.name}`, fieldPath);
    if (preStop && ci.state === 'CONTAINER_RUNNING') {
      const podIP = pod?.status?.podIP ?? this.d.node().nodeIP;
      const spec = c ?? ({ name: ci.name } as Container);
      const hook = runHandler(this.d.cri, preStop as never, spec, ci.id, podIP, graceSeconds);
      const out = await Promise.race([hook, new Promise<{ ok: boolean; output: string }>((r) => setTimeout(() => r({ ok: false, output: 'timed out' }), graceSeconds * 1000))]);
      if (!out.ok && pod) this.d.events.pod(pod, 'Warning', 'FailedPreStopHook', `PreStopHook failed: ${out.output}`.slice(0, 1024), fieldPath);
    }
    const left = Math.max(MIN_GRACE_SECONDS, Math.ceil(graceSeconds - (this.d.clock.now() - started) / 1000));
    try {
      await this.d.cri.stopContainer(ci.id, left);
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }

  /** Detaches and stops one sandbox, stopping its containers first. */
  private async stopSandbox(pod: Pod | undefined, rp: RuntimePod, s: SandboxInfo, graceSeconds: number): Promise<void> {
    await Promise.all(rp.containers.filter((c) => c.sandboxId === s.id).map((c) => this.killContainer(pod, c, graceSeconds, `Stopping container ${c.name}`)));
    const ref = { namespace: rp.namespace || s.labels[POD_NAMESPACE] || '', name: rp.name || s.labels[POD_NAME] || '', uid: rp.uid };
    const netns = (s.state === 'SANDBOX_READY' ? await this.sandboxNetns(s.id) : undefined) ?? this.d.network.cachedNetns(s.id);
    await this.d.network.tearDown(ref, s.id, netns).catch((e) => this.d.log.warn({ sandbox: s.id, err: (e as Error).message }, 'CNI DEL failed'));
    await this.d.cri.stopPodSandbox(s.id).catch((e) => {
      if (!isNotFound(e)) throw e;
    });
  }

  /**
   * Stops everything of a pod: containers in parallel (each with its preStop and the grace
   * period), then the network (CNI DEL) and the sandboxes. Containers stay for their logs.
   */
  async killPod(pod: Pod | undefined, uid: string, graceSeconds: number): Promise<void> {
    const rp = await getRuntimePod(this.d.cri, uid);
    await Promise.all(rp.containers.map((c) => this.killContainer(pod, c, graceSeconds, `Stopping container ${c.name}`)));
    for (const s of rp.sandboxes) {
      const ref = { namespace: rp.namespace, name: rp.name, uid };
      const netns = (s.state === 'SANDBOX_READY' ? await this.sandboxNetns(s.id) : undefined) ?? this.d.network.cachedNetns(s.id);
      await this.d.network.tearDown(ref, s.id, netns).catch((e) => this.d.log.warn({ sandbox: s.id, err: (e as Error).message }, 'CNI DEL failed'));
      await this.d.cri.stopPodSandbox(s.id).catch((e) => {
        if (!isNotFound(e)) throw e;
      });
    }
    this.d.probes.removePod(uid);
  }

  /** A pod that finished (Succeeded/Failed): nothing runs, its IP is released, records stay. */
  async syncTerminalPod(pod: Pod): Promise<SyncResult> {
    const uid = pod.metadata!.uid!;
    let rp = await getRuntimePod(this.d.cri, uid);
    if (rp.containers.some((c) => c.state === 'CONTAINER_RUNNING') || rp.sandboxes.some((s) => s.state === 'SANDBOX_READY')) {
      await this.killPod(pod, uid, pod.spec?.terminationGracePeriodSeconds ?? 30);
      rp = await getRuntimePod(this.d.cri, uid);
    }
    return { waiting: new Map(), podIPs: [], sandboxReady: false, rp };
  }

  /** Removes every trace of a pod the API no longer has: containers, sandboxes, volumes, logs. */
  async removePod(uid: string, podRef?: { namespace: string; name: string }): Promise<void> {
    await this.killPod(undefined, uid, MIN_GRACE_SECONDS);
    const rp = await getRuntimePod(this.d.cri, uid);
    for (const c of rp.containers) await this.removeContainer(c.id);
    for (const s of rp.sandboxes) {
      await this.d.cri.removePodSandbox(s.id).catch((e) => {
        if (!isNotFound(e)) throw e;
      });
    }
    await this.d.volumes.tearDown(uid);
    removePodCgroups(this.d.config.cgroupRoot, uid);
    const ns = podRef?.namespace || rp.namespace;
    const name = podRef?.name || rp.name;
    if (ns && name) fs.rmSync(podLogDirectory(this.d.config.podLogsDir, { namespace: ns, name, uid }), { recursive: true, force: true });
    this.d.crashBackoff.forgetPrefix(`${uid}/`);
  }
}

/** A bandwidth annotation (`10M`) in bits per second, as the CNI bandwidth plugin wants. */
function bandwidthBits(v: string): number {
  const m = /^(\d+(?:\.\d+)?)([kMGT]?)$/.exec(v.trim());
  if (!m) return 0;
  const mult: Record<string, number> = { '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12 };
  return Math.round(Number(m[1]) * mult[m[2]!]!);
}
