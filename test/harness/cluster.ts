/**
 * Shared pieces of the end-to-end tests that bring up a whole cluster with the launcher
 * (pkg/launcher/cluster.ts): when they must skip, and how they wait for the cluster to converge.
 */
import fs from 'node:fs';
import { nodeTestsSupported } from './containerd.js';

/**
 * Why a launcher-cluster test cannot run here, or undefined when it can: it needs the node
 * prerequisites (root, containerd, runc, CNI plugins) and no other keelson cluster on the machine
 * (there is one bridge, keelson0).
 */
export function launcherClusterSkip(): string | undefined {
  const support = nodeTestsSupported();
  if (!support.ok) return support.why;
  return fs.existsSync('/sys/class/net/keelson0') ? 'a keelson cluster already runs on this machine' : undefined;
}

/**
 * Polls fn until it returns something truthy and returns that. Errors thrown by fn count as
 * "not yet"; the last one is named if the deadline passes.
 */
export async function until<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 120_000, intervalMs = 500): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${last}` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
