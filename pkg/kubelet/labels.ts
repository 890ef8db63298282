/**
 * The labels and annotations the kubelet puts on CRI sandboxes and containers. They carry
 * everything needed to rebuild the kubelet's view from the runtime alone after a restart (pod uid,
 * name and namespace, container name, restart count, spec hash). Keys are upstream's
 * (pkg/kubelet/types/labels.go, kuberuntime/labels.go) where upstream has one.
 */
import crypto from 'node:crypto';
import type { Container, Pod } from '../api/types.js';

export const POD_NAME = 'io.kubernetes.pod.name';
export const POD_NAMESPACE = 'io.kubernetes.pod.namespace';
export const POD_UID = 'io.kubernetes.pod.uid';
export const CONTAINER_NAME = 'io.kubernetes.container.name';
/** Upstream keeps the restart count in an annotation; keelson also labels it (issue E). */
export const CONTAINER_RESTART_COUNT = 'io.kubernetes.container.restartCount';
export const CONTAINER_HASH = 'io.kubernetes.container.hash';
export const CONTAINER_TERMINATION_MESSAGE_PATH = 'io.kubernetes.container.terminationMessagePath';
export const CONTAINER_TERMINATION_MESSAGE_POLICY = 'io.kubernetes.container.terminationMessagePolicy';
export const CONTAINER_PRESTOP_HANDLER = 'io.kubernetes.container.preStopHandler';
export const POD_TERMINATION_GRACE_PERIOD = 'io.kubernetes.pod.terminationGracePeriod';
/** Which list the container came from: keelson's own key (upstream infers it from the spec). */
export const CONTAINER_TYPE = 'keelson.io/container-type';
/** The host file mounted at terminationMessagePath, to read the message after exit. */
export const TERMINATION_MESSAGE_HOST_PATH = 'keelson.io/termination-message-host-path';
/** The sandbox is managed by this kubelet (CRI may hold other clients' sandboxes). */
export const MANAGED_BY = 'keelson.io/managed-by';
export const MANAGED_BY_VALUE = 'kubelet';

export type ContainerType = 'init' | 'regular';

export function sandboxLabels(pod: Pod): Record<string, string> {
  return {
    ...(pod.metadata?.labels ?? {}),
    [POD_NAME]: pod.metadata!.name!,
    [POD_NAMESPACE]: pod.metadata!.namespace!,
    [POD_UID]: pod.metadata!.uid!,
    [MANAGED_BY]: MANAGED_BY_VALUE,
  };
}

export function containerLabels(pod: Pod, c: Container, restartCount: number, type: ContainerType): Record<string, string> {
  return {
    [POD_NAME]: pod.metadata!.name!,
    [POD_NAMESPACE]: pod.metadata!.namespace!,
    [POD_UID]: pod.metadata!.uid!,
    [CONTAINER_NAME]: c.name,
    [CONTAINER_RESTART_COUNT]: String(restartCount),
    [CONTAINER_TYPE]: type,
    [MANAGED_BY]: MANAGED_BY_VALUE,
  };
}

/** JSON with sorted keys, so equal specs hash equally across kubelet restarts. */
function stableStringify(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableStringify).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v)
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined && (v as Record<string, unknown>)[k] !== null)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableStringify((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

/**
 * The container spec's hash: a change means the running container no longer matches its spec and
 * is restarted. Resources are left out, as upstream does (they can change in place).
 */
export function containerHash(c: Container): string {
  const { resources: _r, resizePolicy: _p, ...rest } = c as Container & { resizePolicy?: unknown };
  return crypto.createHash('sha256').update(stableStringify(rest)).digest('hex').slice(0, 16);
}
