/**
 * KubeSchedulerConfiguration, kubescheduler.config.k8s.io/v1: the fields keelson reads, with
 * upstream's names and defaults.
 */

export interface PluginRef {
  name: string;
  weight?: number;
}

export interface PluginSet {
  enabled?: PluginRef[];
  disabled?: PluginRef[];
}

export const extensionPoints = ['preEnqueue', 'queueSort', 'preFilter', 'filter', 'postFilter', 'preScore', 'score', 'reserve', 'permit', 'preBind', 'bind', 'postBind'] as const;
export type ExtensionPoint = (typeof extensionPoints)[number];

export type Plugins = { multiPoint?: PluginSet } & { [P in ExtensionPoint]?: PluginSet };

export interface PluginConfig {
  name: string;
  args?: Record<string, unknown>;
}

export interface Profile {
  schedulerName: string;
  percentageOfNodesToScore?: number;
  plugins: Plugins;
  pluginConfig: PluginConfig[];
}

export interface LeaderElectionConfiguration {
  leaderElect: boolean;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  resourceLock: string;
  resourceName: string;
  resourceNamespace: string;
}

export interface KubeSchedulerConfiguration {
  parallelism: number;
  leaderElection: LeaderElectionConfiguration;
  clientConnection: { kubeconfig: string; qps: number; burst: number };
  percentageOfNodesToScore: number;
  podInitialBackoffSeconds: number;
  podMaxBackoffSeconds: number;
  profiles: Profile[];
}
