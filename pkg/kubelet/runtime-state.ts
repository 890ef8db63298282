/**
 * The kubelet's view of a pod in the runtime, rebuilt from CRI alone (upstream's
 * kubecontainer.PodStatus): the pod's sandboxes and containers found by their labels, newest
 * first, with what each ContainerStatus says. Nothing here is remembered between syncs, which is
 * what makes a kubelet restart safe.
 */
import type { CriClient } from '../cri/index.js';
import { isNotFound } from '../cri/index.js';
import type { ContainerState, PodSandboxState } from '../cri/types.js';
import * as L from './labels.js';

export interface SandboxInfo {
  id: string;
  attempt: number;
  state: PodSandboxState;
  createdAt: number;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export interface ContainerInfo {
  id: string;
  sandboxId: string;
  name: string;
  type: L.ContainerType;
  /** The restart count this instance was created with (CRI metadata.attempt). */
  attempt: number;
  state: ContainerState;
  /** Milliseconds since the epoch; 0 when not set. */
  createdAt: number;
  startedAt: number;
  finishedAt: number;
  exitCode: number;
  reason: string;
  message: string;
  image: string;
  imageRef: string;
  hash: string;
  logPath: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export interface RuntimePod {
  uid: string;
  name: string;
  namespace: string;
  sandboxes: SandboxInfo[];
  containers: ContainerInfo[];
}

/** CRI's nanosecond timestamps as epoch milliseconds. */
export function nsToMs(ns: string | number | undefined): number {
  if (ns === undefined || ns === null || ns === '' || ns === '0' || ns === 0) return 0;
  return Number(BigInt(String(ns)) / 1_000_000n);
}

/** An RFC 3339 time with second precision, as metav1.Time is written. */
export function rfc3339(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/** Reads one pod's sandboxes and containers from the runtime. */
export async function getRuntimePod(cri: CriClient, uid: string): Promise<RuntimePod> {
  const [sandboxes, containers] = await Promise.all([cri.listPodSandbox({ label_selector: { [L.POD_UID]: uid } }), cri.listContainers({ label_selector: { [L.POD_UID]: uid } })]);
  const rp: RuntimePod = { uid, name: '', namespace: '', sandboxes: [], containers: [] };
  for (const s of sandboxes) {
    rp.name ||= s.metadata?.name ?? s.labels[L.POD_NAME] ?? '';
    rp.namespace ||= s.metadata?.namespace ?? s.labels[L.POD_NAMESPACE] ?? '';
    rp.sandboxes.push({ id: s.id, attempt: s.metadata?.attempt ?? 0, state: s.state, createdAt: nsToMs(s.created_at), labels: s.labels, annotations: s.annotations });
  }
  rp.sandboxes.sort((a, b) => b.createdAt - a.createdAt || b.attempt - a.attempt);
  const infos = await Promise.all(
    containers.map(async (c) => {
      try {
        const st = (await cri.containerStatus(c.id)).status;
        if (!st) return undefined;
        const info: ContainerInfo = {
          id: c.id,
          sandboxId: c.pod_sandbox_id,
          name: st.metadata?.name ?? c.labels[L.CONTAINER_NAME] ?? '',
          type: (c.labels[L.CONTAINER_TYPE] as L.ContainerType) ?? 'regular',
          attempt: st.metadata?.attempt ?? Number(c.labels[L.CONTAINER_RESTART_COUNT] ?? 0),
          state: st.state,
          createdAt: nsToMs(st.created_at),
          startedAt: nsToMs(st.started_at),
          finishedAt: nsToMs(st.finished_at),
          exitCode: st.exit_code,
          reason: st.reason,
          message: st.message,
          image: st.image?.image ?? '',
          imageRef: st.image_ref,
          hash: c.annotations[L.CONTAINER_HASH] ?? '',
          logPath: st.log_path,
          labels: c.labels,
          annotations: c.annotations,
        };
        return info;
      } catch (e) {
        // Removed between the list and the status call.
        if (isNotFound(e)) return undefined;
        throw e;
      }
    }),
  );
  for (const i of infos) if (i) rp.containers.push(i);
  rp.containers.sort((a, b) => b.createdAt - a.createdAt || b.attempt - a.attempt);
  for (const c of rp.containers) {
    rp.name ||= c.labels[L.POD_NAME] ?? '';
    rp.namespace ||= c.labels[L.POD_NAMESPACE] ?? '';
  }
  return rp;
}

/** The pod's newest ready sandbox, if any. */
export function readySandbox(rp: RuntimePod): SandboxInfo | undefined {
  return rp.sandboxes.find((s) => s.state === 'SANDBOX_READY');
}

/** A container's instances, newest first. */
export function instancesOf(rp: RuntimePod, name: string, type?: L.ContainerType): ContainerInfo[] {
  return rp.containers.filter((c) => c.name === name && (type === undefined || c.type === type));
}
