/** Upstream's v1 defaults: the default plugins (all through multiPoint) and component settings. */
import type { KubeSchedulerConfiguration, Plugins, PluginSet, Profile } from './types.js';
import { extensionPoints } from './types.js';
import { Names } from '../plugins/names.js';

export const DEFAULT_SCHEDULER_NAME = 'default-scheduler';

/** getDefaultPlugins: every in-tree plugin through multiPoint, in upstream's order and weights. */
export function defaultPlugins(): Plugins {
  return {
    multiPoint: {
      enabled: [
        { name: Names.SchedulingGates },
        { name: Names.PrioritySort },
        { name: Names.NodeUnschedulable },
        { name: Names.NodeName },
        { name: Names.TaintToleration, weight: 3 },
        { name: Names.NodeAffinity, weight: 2 },
        { name: Names.NodePorts },
        { name: Names.NodeResourcesFit, weight: 1 },
        { name: Names.VolumeBinding },
        { name: Names.PodTopologySpread, weight: 2 },
        { name: Names.InterPodAffinity, weight: 2 },
        { name: Names.DefaultPreemption },
        { name: Names.NodeResourcesBalancedAllocation, weight: 1 },
        { name: Names.ImageLocality, weight: 1 },
        { name: Names.DefaultBinder },
      ],
    },
  };
}

export function defaultProfile(schedulerName = DEFAULT_SCHEDULER_NAME): Profile {
  return { schedulerName, plugins: defaultPlugins(), pluginConfig: [] };
}

export function defaultConfiguration(): KubeSchedulerConfiguration {
  return {
    parallelism: 16,
    leaderElection: {
      leaderElect: true,
      leaseDurationMs: 15_000,
      renewDeadlineMs: 10_000,
      retryPeriodMs: 2_000,
      resourceLock: 'leases',
      resourceName: 'kube-scheduler',
      resourceNamespace: 'kube-system',
    },
    clientConnection: { kubeconfig: '', qps: 50, burst: 100 },
    percentageOfNodesToScore: 0,
    podInitialBackoffSeconds: 1,
    podMaxBackoffSeconds: 10,
    profiles: [defaultProfile()],
  };
}

/**
 * Merges a user's plugin set into the default one (upstream mergePluginSet): disabled names (or
 * `*`) drop defaults, a re-enabled default keeps its place with the user's settings, and other
 * enabled plugins follow in the user's order.
 */
export function mergePluginSet(def: PluginSet | undefined, custom: PluginSet | undefined): PluginSet {
  const defEnabled = def?.enabled ?? [];
  if (!custom) return { enabled: [...defEnabled], disabled: [...(def?.disabled ?? [])] };
  const disabled = [...(custom.disabled ?? []), ...(def?.disabled ?? [])].map((p) => ({ name: p.name }));
  const disabledNames = new Set(disabled.map((p) => p.name));
  const customEnabled = custom.enabled ?? [];
  const replaced = new Set<number>();
  const enabled = [];
  if (!disabledNames.has('*')) {
    for (const p of defEnabled) {
      if (disabledNames.has(p.name)) continue;
      const i = customEnabled.findIndex((c) => c.name === p.name);
      if (i >= 0) {
        replaced.add(i);
        enabled.push(customEnabled[i]!);
      } else {
        enabled.push(p);
      }
    }
  }
  customEnabled.forEach((p, i) => {
    if (!replaced.has(i)) enabled.push(p);
  });
  return { enabled, disabled };
}

export function mergePlugins(def: Plugins, custom: Plugins | undefined): Plugins {
  const out: Plugins = { multiPoint: mergePluginSet(def.multiPoint, custom?.multiPoint) };
  for (const e of extensionPoints) out[e] = mergePluginSet(def[e], custom?.[e]);
  return out;
}
