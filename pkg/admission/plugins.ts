/**
 * The default admission chain, in upstream's order (pkg/kubeapiserver/options/plugins.go):
 * NamespaceLifecycle, LimitRanger, ServiceAccount, NodeRestriction, TaintNodesByCondition,
 * PodSecurity, Priority, DefaultTolerationSeconds, DefaultStorageClass, ResourceQuota.
 */
import type { Logger } from 'pino';
import type { RegistryStore } from '../registry/store.js';
import type { Registry } from '../registry/registry.js';
import { ClusterState } from '../auth/cluster-state.js';
import type { AdmissionPlugin } from './types.js';
import { namespaceLifecycle } from './namespace-lifecycle.js';
import { limitRanger } from './limit-ranger.js';
import { serviceAccountAdmission } from './service-account.js';
import { nodeRestriction } from './node-restriction.js';
import { taintNodesByCondition } from './taint-nodes-by-condition.js';
import { podSecurity } from './pod-security.js';
import { priority } from './priority.js';
import { defaultTolerationSeconds } from './default-toleration-seconds.js';
import { defaultStorageClass } from './default-storage-class.js';
import { resourceQuota } from './resource-quota.js';

/** Every plugin keelson has, in chain order. */
export const allAdmissionPluginNames = [
  'NamespaceLifecycle',
  'LimitRanger',
  'ServiceAccount',
  'NodeRestriction',
  'TaintNodesByCondition',
  'PodSecurity',
  'Priority',
  'DefaultTolerationSeconds',
  'DefaultStorageClass',
  'ResourceQuota',
];

/** Plugins on unless `--disable-admission-plugins` turns them off (all of keelson's, as upstream's defaults plus NodeRestriction). */
export const defaultEnabledAdmissionPlugins = allAdmissionPluginNames;

export interface AdmissionOptions {
  /** `--enable-admission-plugins`: added to the defaults. */
  enable?: string[];
  /** `--disable-admission-plugins`. */
  disable?: string[];
  logger?: Logger;
}

/** Checks plugin names against the known set; throws for unknown ones, as upstream does at start. */
export function validatePluginNames(names: string[]): void {
  const unknown = names.filter((n) => !allAdmissionPluginNames.includes(n));
  if (unknown.length) throw new Error(`enable-admission-plugins plugin ${JSON.stringify(unknown.join(','))} is unknown`);
}

/** The chain for a running apiserver: plugins read through the store's watch caches. */
export function defaultAdmissionPlugins(store: RegistryStore, registry: Registry, opts: AdmissionOptions = {}): AdmissionPlugin[] {
  const state = new ClusterState();
  state.bind(store, registry);
  validatePluginNames([...(opts.enable ?? []), ...(opts.disable ?? [])]);
  const enabled = new Set([...defaultEnabledAdmissionPlugins, ...(opts.enable ?? [])]);
  for (const d of opts.disable ?? []) enabled.delete(d);
  const log = opts.logger;
  const all: AdmissionPlugin[] = [
    namespaceLifecycle(),
    limitRanger(state),
    serviceAccountAdmission(state),
    nodeRestriction(),
    taintNodesByCondition(),
    podSecurity(state, {
      onWarning: (ns, name, msg) => log?.info({ pod: `${ns}/${name}` }, msg),
      onAudit: (ns, name, msg) => log?.info({ pod: `${ns}/${name}`, audit: true }, msg),
    }),
    priority(state),
    defaultTolerationSeconds(),
    defaultStorageClass(state),
    resourceQuota(state),
  ];
  return all.filter((p) => enabled.has(p.name));
}
