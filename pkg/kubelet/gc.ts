/**
 * Garbage collection of dead containers and sandboxes (upstream kuberuntime_gc.go with
 * MaxPerPodContainer=1): of each of a pod's containers, the newest instance and the newest dead one
 * behind it are kept (that one backs `lastState` and `kubectl logs --previous`); older dead instances and
 * their log files go. Sandboxes that are not ready, not the pod's newest, and hold no containers
 * are removed. Pods the API no longer has are removed whole by their pod worker instead.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { CriClient } from '../cri/index.js';
import { isNotFound } from '../cri/index.js';
import type { Logger } from '../log/logger.js';
import type { RelistResult } from './pleg.js';
import { nsToMs } from './runtime-state.js';
import * as L from './labels.js';
import { containerLogPath, podLogDirectory } from './container-config.js';

export async function collectGarbage(cri: CriClient, state: RelistResult, livePods: Set<string>, podLogsDir: string, log: Logger): Promise<void> {
  const groups = new Map<string, typeof state.containers>();
  for (const c of state.containers) {
    const uid = c.labels[L.POD_UID];
    if (!uid || !livePods.has(uid)) continue;
    const k = `${uid}/${c.labels[L.CONTAINER_TYPE] ?? 'regular'}/${c.metadata?.name ?? c.labels[L.CONTAINER_NAME]}`;
    const g = groups.get(k) ?? [];
    g.push(c);
    groups.set(k, g);
  }
  for (const g of groups.values()) {
    g.sort((a, b) => nsToMs(b.created_at) - nsToMs(a.created_at));
    // The newest instance is always kept, and of the dead ones behind it the newest one.
    const removable = g
      .slice(1)
      .filter((c) => c.state === 'CONTAINER_EXITED')
      .slice(1);
    for (const c of removable) {
      try {
        await cri.removeContainer(c.id);
        const uid = c.labels[L.POD_UID]!;
        const dir = podLogDirectory(podLogsDir, { namespace: c.labels[L.POD_NAMESPACE] ?? '', name: c.labels[L.POD_NAME] ?? '', uid });
        fs.rmSync(path.join(dir, containerLogPath(c.metadata?.name ?? '', c.metadata?.attempt ?? 0)), { force: true });
        log.debug({ container: c.id, name: c.metadata?.name }, 'removed dead container');
      } catch (e) {
        if (!isNotFound(e)) log.warn({ container: c.id, err: (e as Error).message }, 'container GC failed');
      }
    }
  }
  const byPod = new Map<string, typeof state.sandboxes>();
  for (const s of state.sandboxes) {
    const uid = s.labels[L.POD_UID];
    if (!uid || !livePods.has(uid)) continue;
    const g = byPod.get(uid) ?? [];
    g.push(s);
    byPod.set(uid, g);
  }
  const withContainers = new Set(state.containers.map((c) => c.pod_sandbox_id));
  for (const g of byPod.values()) {
    g.sort((a, b) => nsToMs(b.created_at) - nsToMs(a.created_at));
    for (const s of g.slice(1)) {
      if (s.state === 'SANDBOX_READY' || withContainers.has(s.id)) continue;
      try {
        await cri.removePodSandbox(s.id);
        log.debug({ sandbox: s.id }, 'removed dead sandbox');
      } catch (e) {
        if (!isNotFound(e)) log.warn({ sandbox: s.id, err: (e as Error).message }, 'sandbox GC failed');
      }
    }
  }
}
