/**
 * `kube-proxy --cleanup` (upstream's CleanupLeftovers): unlink our chains from the built-in ones,
 * then flush and delete every KUBE-* chain kube-proxy makes, in one restore per table. Rules of
 * other programs, and their chains, are left alone.
 */
import type { Logger } from 'pino';
import {
  filterTopLevelChains,
  jumpChains,
  jumpRuleArgs,
  kubeletFirewallChain,
  kubeletJumpChains,
  kubeProxyCanaryChain,
  natTopLevelChains,
} from './chains.js';
import type { Iptables } from './iptables.js';
import { parseSavedChains, renderCleanup } from './rules.js';

/** Removes everything; resolves true when some step failed (each failure is logged). */
export async function cleanupLeftovers(iptables: Iptables, logger: Logger): Promise<boolean> {
  let failed = false;
  const step = async (what: string, fn: () => Promise<void>) => {
    try {
      await fn();
    } catch (e) {
      failed = true;
      logger.error({ err: e instanceof Error ? e.message : String(e) }, what);
    }
  };
  for (const j of [...jumpChains, ...kubeletJumpChains]) {
    await step(`removing the jump from ${j.table}/${j.srcChain} to ${j.dstChain}`, () => iptables.deleteRule(j.table, j.srcChain, jumpRuleArgs(j)));
  }
  await step('removing nat chains', async () => {
    const input = renderCleanup('nat', parseSavedChains(await iptables.save('nat')), [...natTopLevelChains, kubeProxyCanaryChain]);
    if (input) await iptables.restore(input);
  });
  await step('removing filter chains', async () => {
    const input = renderCleanup('filter', parseSavedChains(await iptables.save('filter')), [...filterTopLevelChains, kubeletFirewallChain, kubeProxyCanaryChain]);
    if (input) await iptables.restore(input);
  });
  await step('removing the mangle canary', () => iptables.deleteChain('mangle', kubeProxyCanaryChain));
  return failed;
}
