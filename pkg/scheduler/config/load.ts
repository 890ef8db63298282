/**
 * Reads a KubeSchedulerConfiguration file (kubescheduler.config.k8s.io/v1): applies upstream's
 * defaults, merges each profile's plugins into the default ones, and validates what upstream
 * validates that matters here (profile names, duplicate plugin configs, the shared queue sort).
 */
import fs from 'node:fs';
import { parse as parseYAML } from 'yaml';
import { durationFlag } from '../../util/flags.js';
import { defaultConfiguration, defaultPlugins, DEFAULT_SCHEDULER_NAME, mergePlugins } from './defaults.js';
import { extensionPoints, type KubeSchedulerConfiguration, type PluginConfig, type Plugins, type Profile } from './types.js';

export const SCHEDULER_CONFIG_API_VERSION = 'kubescheduler.config.k8s.io/v1';

export class ConfigError extends Error {}

function duration(v: unknown, field: string, def: number): number {
  if (v === undefined || v === null) return def;
  if (typeof v === 'number') return v * 1000;
  try {
    return durationFlag(v, field) ?? def;
  } catch {
    throw new ConfigError(`${field}: Invalid value: ${JSON.stringify(v)}: not a duration`);
  }
}

function num(v: unknown, field: string, def: number): number {
  if (v === undefined || v === null) return def;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new ConfigError(`${field}: Invalid value: ${JSON.stringify(v)}: must be a number`);
  return n;
}

function pluginSet(v: any, field: string) {
  if (v === undefined || v === null) return undefined;
  const refs = (list: unknown, f: string) => {
    if (list === undefined || list === null) return undefined;
    if (!Array.isArray(list)) throw new ConfigError(`${f}: Invalid value: must be a list`);
    return list.map((p: any, i: number) => {
      if (!p || typeof p.name !== 'string' || !p.name) throw new ConfigError(`${f}[${i}].name: Required value`);
      if (p.weight !== undefined && (!Number.isInteger(p.weight) || p.weight < 0)) throw new ConfigError(`${f}[${i}].weight: Invalid value: ${p.weight}: must be a non-negative integer`);
      return { name: p.name as string, weight: p.weight as number | undefined };
    });
  };
  return { enabled: refs(v.enabled, `${field}.enabled`), disabled: refs(v.disabled, `${field}.disabled`) };
}

function parsePlugins(v: any, field: string): Plugins | undefined {
  if (v === undefined || v === null) return undefined;
  const out: Plugins = { multiPoint: pluginSet(v.multiPoint, `${field}.multiPoint`) };
  for (const e of extensionPoints) out[e] = pluginSet(v[e], `${field}.${e}`);
  return out;
}

/** Builds the effective configuration from a parsed document (already an object). */
export function configurationFromObject(doc: any): KubeSchedulerConfiguration {
  if (!doc || typeof doc !== 'object') throw new ConfigError('the configuration is not an object');
  if (doc.apiVersion !== SCHEDULER_CONFIG_API_VERSION) throw new ConfigError(`no kind "KubeSchedulerConfiguration" is registered for version "${doc.apiVersion ?? ''}": want ${SCHEDULER_CONFIG_API_VERSION}`);
  if (doc.kind !== 'KubeSchedulerConfiguration') throw new ConfigError(`kind: want KubeSchedulerConfiguration, got ${JSON.stringify(doc.kind)}`);
  if (Array.isArray(doc.extenders) && doc.extenders.length) throw new ConfigError('extenders: Unsupported value: scheduler extenders are not supported by keelson');
  const c = defaultConfiguration();
  c.parallelism = num(doc.parallelism, 'parallelism', c.parallelism);
  c.percentageOfNodesToScore = num(doc.percentageOfNodesToScore, 'percentageOfNodesToScore', c.percentageOfNodesToScore);
  c.podInitialBackoffSeconds = num(doc.podInitialBackoffSeconds, 'podInitialBackoffSeconds', c.podInitialBackoffSeconds);
  c.podMaxBackoffSeconds = num(doc.podMaxBackoffSeconds, 'podMaxBackoffSeconds', c.podMaxBackoffSeconds);
  const le = doc.leaderElection ?? {};
  c.leaderElection = {
    leaderElect: le.leaderElect ?? c.leaderElection.leaderElect,
    leaseDurationMs: duration(le.leaseDuration, 'leaderElection.leaseDuration', c.leaderElection.leaseDurationMs),
    renewDeadlineMs: duration(le.renewDeadline, 'leaderElection.renewDeadline', c.leaderElection.renewDeadlineMs),
    retryPeriodMs: duration(le.retryPeriod, 'leaderElection.retryPeriod', c.leaderElection.retryPeriodMs),
    resourceLock: le.resourceLock ?? c.leaderElection.resourceLock,
    resourceName: le.resourceName ?? c.leaderElection.resourceName,
    resourceNamespace: le.resourceNamespace ?? c.leaderElection.resourceNamespace,
  };
  const cc = doc.clientConnection ?? {};
  c.clientConnection = { kubeconfig: cc.kubeconfig ?? '', qps: num(cc.qps, 'clientConnection.qps', 50), burst: num(cc.burst, 'clientConnection.burst', 100) };
  if (Array.isArray(doc.profiles) && doc.profiles.length) {
    c.profiles = doc.profiles.map((p: any, i: number): Profile => {
      const field = `profiles[${i}]`;
      const pluginConfig: PluginConfig[] = (p.pluginConfig ?? []).map((pc: any, j: number) => {
        if (!pc?.name) throw new ConfigError(`${field}.pluginConfig[${j}].name: Required value`);
        const args = pc.args ? { ...pc.args } : undefined;
        if (args) {
          delete args.apiVersion;
          delete args.kind;
        }
        return { name: pc.name, args };
      });
      return {
        schedulerName: p.schedulerName || DEFAULT_SCHEDULER_NAME,
        percentageOfNodesToScore: p.percentageOfNodesToScore === undefined ? undefined : num(p.percentageOfNodesToScore, `${field}.percentageOfNodesToScore`, 0),
        plugins: mergePlugins(defaultPlugins(), parsePlugins(p.plugins, `${field}.plugins`)),
        pluginConfig,
      };
    });
  }
  validate(c);
  return c;
}

export function validate(c: KubeSchedulerConfiguration): void {
  if (c.percentageOfNodesToScore < 0 || c.percentageOfNodesToScore > 100) throw new ConfigError(`percentageOfNodesToScore: Invalid value: ${c.percentageOfNodesToScore}: not in valid range [0-100]`);
  if (c.podInitialBackoffSeconds <= 0) throw new ConfigError(`podInitialBackoffSeconds: Invalid value: ${c.podInitialBackoffSeconds}: must be greater than 0`);
  if (c.podMaxBackoffSeconds < c.podInitialBackoffSeconds) throw new ConfigError(`podMaxBackoffSeconds: Invalid value: ${c.podMaxBackoffSeconds}: must be greater than or equal to PodInitialBackoffSeconds`);
  const names = new Set<string>();
  c.profiles.forEach((p, i) => {
    if (names.has(p.schedulerName)) throw new ConfigError(`profiles[${i}].schedulerName: Duplicate value: "${p.schedulerName}"`);
    names.add(p.schedulerName);
    const pcs = new Set<string>();
    p.pluginConfig.forEach((pc, j) => {
      if (pcs.has(pc.name)) throw new ConfigError(`profiles[${i}].pluginConfig[${j}]: Duplicate value: "${pc.name}"`);
      pcs.add(pc.name);
    });
  });
  const qs = (p: Profile) => JSON.stringify(p.plugins.queueSort?.enabled?.length ? p.plugins.queueSort : p.plugins.multiPoint?.enabled?.filter((x) => x.name === 'PrioritySort'));
  const first = c.profiles[0];
  c.profiles.forEach((p, i) => {
    if (i > 0 && first && qs(p) !== qs(first)) throw new ConfigError(`profiles[${i}].plugins.queueSort: Invalid value: queueSort must be the same for all profiles`);
  });
}

export function parseConfiguration(text: string): KubeSchedulerConfiguration {
  let doc: unknown;
  try {
    doc = parseYAML(text);
  } catch (e) {
    throw new ConfigError(`couldn't decode the configuration: ${(e as Error).message}`);
  }
  return configurationFromObject(doc);
}

export function loadConfigurationFile(path: string): KubeSchedulerConfiguration {
  return parseConfiguration(fs.readFileSync(path, 'utf8'));
}
