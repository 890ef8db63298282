/**
 * The pod status the kubelet reports (upstream kubelet_pods.go generateAPIPodStatus and
 * status/generate.go): phase, the kubelet-owned conditions, IPs, and each container's state,
 * lastState, restartCount, image and IDs, computed from the runtime's view plus what the last sync
 * learned (waiting reasons such as ErrImagePull or CrashLoopBackOff) and the probe results.
 */
import fs from 'node:fs';
import type { Container, ContainerStatusAPI, Pod, PodCondition, PodStatus } from './types.js';
import { instancesOf, rfc3339, type ContainerInfo, type RuntimePod } from './runtime-state.js';
import { qosClass } from './resources.js';
import * as L from './labels.js';

export interface Waiting {
  reason: string;
  message?: string;
}

export interface StatusInput {
  pod: Pod;
  rp: RuntimePod;
  nodeIP: string;
  podIPs: string[];
  /** A sandbox is ready and its network set up. */
  sandboxReady: boolean;
  /** Waiting reasons the last sync left for containers, by container name. */
  waiting: Map<string, Waiting>;
  ready(c: Container, containerId: string): boolean;
  started(c: Container, containerId: string): boolean;
  now: number;
  /** The sandbox id init container statuses count from (a new sandbox runs init containers again). */
  currentSandboxId?: string;
  /** The pod was deleted and everything in it has stopped: report a terminal phase. */
  terminated?: boolean;
}

/** Conditions the kubelet owns; others (PodScheduled, DisruptionTarget, …) are kept as found. */
export const KUBELET_CONDITIONS = ['PodReadyToStartContainers', 'Initialized', 'ContainersReady', 'Ready'];

const CONTAINER_ID_PREFIX = 'containerd://';

function terminationMessage(ci: ContainerInfo): string | undefined {
  const f = ci.annotations[L.TERMINATION_MESSAGE_HOST_PATH];
  let msg = '';
  if (f) {
    try {
      const fd = fs.openSync(f, 'r');
      const buf = Buffer.alloc(4096);
      const n = fs.readSync(fd, buf, 0, 4096, 0);
      fs.closeSync(fd);
      msg = buf.subarray(0, n).toString('utf8');
    } catch {
      msg = '';
    }
  }
  if (!msg && ci.annotations[L.CONTAINER_TERMINATION_MESSAGE_POLICY] === 'FallbackToLogsOnError' && ci.exitCode !== 0 && ci.logPath) {
    msg = tailLog(ci.logPath, 80, 2048);
  }
  if (!msg && ci.message) msg = ci.message;
  return msg || undefined;
}

/** The last lines of a CRI log file as plain text (for FallbackToLogsOnError). */
function tailLog(file: string, lines: number, maxBytes: number): string {
  try {
    const text = fs.readFileSync(file, 'utf8');
    const out: string[] = [];
    for (const line of text.split('\n')) {
      const m = /^\S+ (?:stdout|stderr) ([PF])(?::\S+)? ?(.*)$/.exec(line);
      if (m) out.push(m[1] === 'F' ? `${m[2]}\n` : m[2]!);
    }
    const s = out.slice(-lines).join('');
    return s.length > maxBytes ? s.slice(s.length - maxBytes) : s;
  } catch {
    return '';
  }
}

function terminatedState(ci: ContainerInfo): NonNullable<ContainerStatusAPI['state']>['terminated'] {
  const t: NonNullable<NonNullable<ContainerStatusAPI['state']>['terminated']> = {
    exitCode: ci.exitCode,
    reason: ci.reason || (ci.exitCode === 0 ? 'Completed' : 'Error'),
    startedAt: ci.startedAt ? rfc3339(ci.startedAt) : undefined,
    finishedAt: ci.finishedAt ? rfc3339(ci.finishedAt) : undefined,
    containerID: CONTAINER_ID_PREFIX + ci.id,
  };
  const msg = terminationMessage(ci);
  if (msg) t.message = msg;
  if (!t.startedAt) delete t.startedAt;
  if (!t.finishedAt) delete t.finishedAt;
  return t;
}

function containerStatus(c: Container, instances: ContainerInfo[], input: StatusInput, defaultWaiting: string): ContainerStatusAPI {
  const latest = instances[0];
  const previous = instances[1];
  const s: ContainerStatusAPI = { name: c.name, image: c.image ?? '', imageID: '', ready: false, restartCount: latest?.attempt ?? 0, started: false, state: {} };
  const waiting = input.waiting.get(c.name);
  if (latest) {
    s.imageID = latest.imageRef || '';
    s.containerID = CONTAINER_ID_PREFIX + latest.id;
  }
  if (latest?.state === 'CONTAINER_RUNNING') {
    s.state = { running: { startedAt: rfc3339(latest.startedAt || latest.createdAt) } };
    s.started = input.started(c, latest.id);
    s.ready = input.ready(c, latest.id);
    if (previous && previous.state === 'CONTAINER_EXITED') s.lastState = { terminated: terminatedState(previous) };
  } else if (latest?.state === 'CONTAINER_EXITED') {
    if (waiting) {
      s.state = { waiting: { reason: waiting.reason, ...(waiting.message ? { message: waiting.message } : {}) } };
      s.lastState = { terminated: terminatedState(latest) };
    } else {
      s.state = { terminated: terminatedState(latest) };
      if (previous && previous.state === 'CONTAINER_EXITED') s.lastState = { terminated: terminatedState(previous) };
    }
  } else {
    const w = waiting ?? { reason: defaultWaiting };
    s.state = { waiting: { reason: w.reason, ...(w.message ? { message: w.message } : {}) } };
    const lastExited = instances.find((i) => i.state === 'CONTAINER_EXITED');
    if (lastExited) s.lastState = { terminated: terminatedState(lastExited) };
  }
  if (!s.lastState) s.lastState = {};
  if (!s.containerID) delete s.containerID;
  return s;
}

function condition(type: string, ok: boolean, old: PodCondition[] | undefined, now: number, reason?: string, message?: string): PodCondition {
  const status = ok ? 'True' : 'False';
  const prev = old?.find((c) => c.type === type);
  const c: PodCondition = { type, status, lastProbeTime: null as unknown as undefined, lastTransitionTime: prev && prev.status === status && prev.lastTransitionTime ? prev.lastTransitionTime : rfc3339(now) };
  if (!ok && reason) c.reason = reason;
  if (!ok && message) c.message = message;
  return c;
}

/** Upstream's getPhase over the computed container statuses. */
export function podPhase(pod: Pod, init: ContainerStatusAPI[], regular: ContainerStatusAPI[], podIsTerminal = false): string {
  const policy = pod.spec?.restartPolicy ?? 'Always';
  let pendingInit = 0;
  let failedInit = 0;
  for (const s of init) {
    if (s.state?.running) pendingInit++;
    else if (s.state?.terminated) {
      if (s.state.terminated.exitCode !== 0) failedInit++;
    } else if (s.state?.waiting) {
      if (s.lastState?.terminated && s.lastState.terminated.exitCode !== 0) failedInit++;
      else pendingInit++;
    } else pendingInit++;
  }
  let unknown = 0;
  let running = 0;
  let waiting = 0;
  let stopped = 0;
  let succeeded = 0;
  for (const s of regular) {
    if (s.state?.running) running++;
    else if (s.state?.terminated) {
      stopped++;
      if (s.state.terminated.exitCode === 0) succeeded++;
    } else if (s.state?.waiting) {
      if (s.lastState?.terminated) stopped++;
      else waiting++;
    } else unknown++;
  }
  if (failedInit > 0 && policy === 'Never') return 'Failed';
  if (pendingInit > 0 || failedInit > 0) return 'Pending';
  if (waiting > 0) return 'Pending';
  if (running > 0 && unknown === 0) return 'Running';
  if (running === 0 && stopped > 0 && unknown === 0) {
    // A pod being deleted whose containers all stopped is finished, whatever its restart policy.
    if (podIsTerminal) return stopped === succeeded ? 'Succeeded' : 'Failed';
    if (policy === 'Always') return 'Running';
    if (stopped === succeeded) return 'Succeeded';
    if (policy === 'Never') return 'Failed';
    return 'Running';
  }
  if (unknown > 0) return 'Unknown';
  return 'Pending';
}

export function generatePodStatus(input: StatusInput): PodStatus {
  const { pod, rp } = input;
  const old = pod.status ?? {};
  const spec = pod.spec!;
  const initSpecs = spec.initContainers ?? [];
  const initInstances = (name: string) => instancesOf(rp, name, 'init').filter((i) => !input.currentSandboxId || i.sandboxId === input.currentSandboxId);
  const initStatuses = initSpecs.map((c) => containerStatus(c, initInstances(c.name), input, 'PodInitializing'));
  const initDone = initStatuses.every((s) => s.state?.terminated?.exitCode === 0);
  for (const s of initStatuses) {
    // Init containers are ready once they completed successfully.
    s.ready = s.state?.terminated?.exitCode === 0;
    s.started = !!s.state?.running;
  }
  const regularStatuses = (spec.containers ?? []).map((c) => containerStatus(c, instancesOf(rp, c.name, 'regular'), input, initDone ? 'ContainerCreating' : 'PodInitializing'));
  let phase = podPhase(pod, initStatuses, regularStatuses, input.terminated === true);
  if (input.terminated && phase !== 'Succeeded' && phase !== 'Failed') phase = 'Failed';
  // A terminal phase is final.
  if (old.phase === 'Succeeded' || old.phase === 'Failed') phase = old.phase;
  const terminal = phase === 'Succeeded' || phase === 'Failed';

  const now = input.now;
  const conds: PodCondition[] = [];
  for (const c of old.conditions ?? []) if (!KUBELET_CONDITIONS.includes(c.type)) conds.push(c);
  conds.push(condition('PodReadyToStartContainers', input.sandboxReady, old.conditions, now));
  const incompleteInit = initSpecs.filter((_c, i) => initStatuses[i]!.state?.terminated?.exitCode !== 0).map((c) => c.name);
  conds.push(condition('Initialized', incompleteInit.length === 0, old.conditions, now, 'ContainersNotInitialized', `containers with incomplete status: [${incompleteInit.join(' ')}]`));
  const unready = regularStatuses.filter((s) => !s.ready).map((s) => s.name);
  const containersReady = unready.length === 0 && !terminal;
  const notReadyReason = terminal ? 'PodCompleted' : 'ContainersNotReady';
  const notReadyMessage = terminal ? undefined : `containers with unready status: [${unready.join(' ')}]`;
  conds.push(condition('ContainersReady', containersReady, old.conditions, now, notReadyReason, notReadyMessage));
  let ready = containersReady;
  let readyReason = notReadyReason;
  let readyMessage = notReadyMessage;
  if (ready) {
    const missing = (spec.readinessGates ?? []).filter((g) => (old.conditions ?? []).find((c) => c.type === g.conditionType)?.status !== 'True').map((g) => g.conditionType);
    if (missing.length) {
      ready = false;
      readyReason = 'ReadinessGatesNotReady';
      readyMessage = `corresponding condition of pod readiness gate "${missing[0]}" does not exist.`;
    }
  }
  conds.push(condition('Ready', ready, old.conditions, now, readyReason, readyMessage));

  const order = ['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled'];
  conds.sort((a, b) => (order.indexOf(a.type) + 1 || 99) - (order.indexOf(b.type) + 1 || 99));

  const status: PodStatus = {
    ...old,
    phase,
    conditions: conds,
    hostIP: input.nodeIP,
    hostIPs: [{ ip: input.nodeIP }],
    startTime: old.startTime ?? rfc3339(now),
    qosClass: qosClass(pod),
    containerStatuses: regularStatuses,
  };
  const ips = spec.hostNetwork ? [input.nodeIP] : input.podIPs;
  if (ips.length) {
    status.podIP = ips[0];
    status.podIPs = ips.map((ip) => ({ ip }));
  } else if (!terminal) {
    delete status.podIP;
    delete status.podIPs;
  }
  if (initSpecs.length) status.initContainerStatuses = initStatuses;
  else delete status.initContainerStatuses;
  return status;
}
