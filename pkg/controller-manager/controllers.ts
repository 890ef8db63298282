/**
 * The controllers kube-controller-manager knows, by upstream's canonical names and their older
 * aliases, and how `--controllers` selects them (`*` for the defaults, `name` to enable,
 * `-name` to disable).
 */
import type { Controller, ControllerContext } from '../controller/framework/controller.js';
import { newDeploymentController } from '../controller/deployment/deployment-controller.js';
import { newGarbageCollector } from '../controller/garbagecollector/garbage-collector.js';
import { newNamespaceController } from '../controller/namespace/namespace-controller.js';
import { newReplicaSetController } from '../controller/replicaset/replica-set.js';
import { newServiceAccountsController } from '../controller/serviceaccount/serviceaccounts-controller.js';
import { newReplicationManager } from '../controller/replicationcontroller/replication-controller.js';
import { newNodeIPAMController } from '../controller/nodeipam/node-ipam-controller.js';
import { newStatefulSetController } from '../controller/statefulset/stateful-set.js';
import { newEndpointsController } from '../controller/endpoint/endpoints-controller.js';
import { newEndpointSliceController } from '../controller/endpointslice/endpointslice-controller.js';
import { newJobController } from '../controller/job/job-controller.js';
import { newTTLAfterFinishedController } from '../controller/ttlafterfinished/ttl-after-finished.js';
import { loadRootCA, newRootCACertPublisher } from '../controller/rootcacertpublisher/publisher.js';
import { newCronJobController } from '../controller/cronjob/cronjob-controller.js';
import { newNodeLifecycleController, newTaintEvictionController } from '../controller/nodelifecycle/node-lifecycle-controller.js';
import { newResourceQuotaController } from '../controller/resourcequota/resource-quota-controller.js';
import { newDaemonSetController } from '../controller/daemonset/daemon-set.js';
import { newPodGCController } from '../controller/podgc/gc-controller.js';
import type { ControllerManagerConfig } from './config.js';

export interface ControllerDescriptor {
  /** Canonical name (cmd/kube-controller-manager/names). */
  name: string;
  aliases: string[];
  disabledByDefault?: boolean;
  start(ctx: ControllerContext, config: ControllerManagerConfig): Controller;
}

export const controllerDescriptors: ControllerDescriptor[] = [
  {
    name: 'replicationcontroller-controller',
    aliases: ['replicationcontroller'],
    start: (ctx, c) => newReplicationManager(ctx, { workers: c.concurrentRCSyncs }),
  },
  {
    name: 'namespace-controller',
    aliases: ['namespace'],
    start: (ctx, c) => newNamespaceController(ctx, { workers: c.concurrentNamespaceSyncs, resyncPeriodMs: c.namespaceSyncPeriodMs }),
  },
  {
    name: 'serviceaccount-controller',
    aliases: ['serviceaccount'],
    start: (ctx, c) => newServiceAccountsController(ctx, { workers: c.concurrentServiceAccountSyncs }),
  },
  {
    name: 'garbage-collector-controller',
    aliases: ['garbagecollector'],
    start: (ctx, c) => newGarbageCollector(ctx, { workers: c.concurrentGCSyncs }),
  },
  {
    name: 'deployment-controller',
    aliases: ['deployment'],
    start: (ctx, c) => newDeploymentController(ctx, { workers: c.concurrentDeploymentSyncs }),
  },
  {
    name: 'replicaset-controller',
    aliases: ['replicaset'],
    start: (ctx, c) => newReplicaSetController(ctx, { workers: c.concurrentReplicaSetSyncs }),
  },
  {
    name: 'node-ipam-controller',
    aliases: ['nodeipam'],
    start: (ctx, c) => newNodeIPAMController(ctx, { allocateNodeCIDRs: c.allocateNodeCIDRs, clusterCIDR: c.clusterCIDR, nodeCIDRMaskSize: c.nodeCIDRMaskSize }),
  },
  {
    name: 'statefulset-controller',
    aliases: ['statefulset'],
    start: (ctx) => newStatefulSetController(ctx, { workers: 5 }),
  },
  {
    name: 'endpoints-controller',
    aliases: ['endpoint'],
    start: (ctx, c) => newEndpointsController(ctx, { workers: c.concurrentEndpointSyncs }),
  },
  {
    name: 'endpointslice-controller',
    aliases: ['endpointslice'],
    start: (ctx, c) => newEndpointSliceController(ctx, { workers: c.concurrentServiceEndpointSyncs }),
  },
  {
    name: 'job-controller',
    aliases: ['job'],
    start: (ctx) => newJobController(ctx, { workers: 5 }),
  },
  {
    name: 'ttl-after-finished-controller',
    aliases: ['ttl-after-finished'],
    start: (ctx) => newTTLAfterFinishedController(ctx, { workers: 5 }),
  },
  {
    name: 'root-ca-certificate-publisher-controller',
    aliases: ['root-ca-cert-publisher'],
    start: (ctx, c) => newRootCACertPublisher(ctx, { rootCA: loadRootCA(c.rootCAFile, ctx.kubeConfig) }),
  },
  {
    name: 'cronjob-controller',
    aliases: ['cronjob'],
    start: (ctx) => newCronJobController(ctx, { workers: 5 }),
  },
  {
    name: 'node-lifecycle-controller',
    aliases: ['nodelifecycle'],
    start: (ctx, c) => newNodeLifecycleController(ctx, { nodeMonitorPeriodMs: c.nodeMonitorPeriodMs, nodeMonitorGracePeriodMs: c.nodeMonitorGracePeriodMs, nodeStartupGracePeriodMs: c.nodeStartupGracePeriodMs }),
  },
  {
    name: 'taint-eviction-controller',
    aliases: [],
    start: (ctx) => newTaintEvictionController(ctx),
  },
  {
    name: 'resourcequota-controller',
    aliases: ['resourcequota'],
    start: (ctx, c) => newResourceQuotaController(ctx, { workers: c.concurrentResourceQuotaSyncs, resyncPeriodMs: c.resourceQuotaSyncPeriodMs }),
  },
  {
    name: 'daemonset-controller',
    aliases: ['daemonset'],
    start: (ctx) => newDaemonSetController(ctx, { workers: 2 }),
  },
  {
    name: 'pod-garbage-collector-controller',
    aliases: ['podgc'],
    start: (ctx, c) => newPodGCController(ctx, { terminatedPodThreshold: c.terminatedPodGCThreshold, gcCheckPeriodMs: c.podGCCheckPeriodMs, quarantineMs: c.podGCQuarantineMs }),
  },
];

/**
 * Controllers upstream has that this build does not (yet): accepted by `--controllers` so
 * upstream command lines work, and reported as not started.
 */
export const unimplementedControllers = [
  'serviceaccount-token-controller',
  'endpointslice-mirroring-controller',
  'horizontal-pod-autoscaler-controller',
  'disruption-controller',
  'certificatesigningrequest-signing-controller',
  'certificatesigningrequest-approving-controller',
  'certificatesigningrequest-cleaner-controller',
  'ttl-controller',
  'bootstrap-signer-controller',
  'token-cleaner-controller',
  'persistentvolume-binder-controller',
  'persistentvolume-attach-detach-controller',
  'persistentvolume-expander-controller',
  'clusterrole-aggregation-controller',
  'persistentvolumeclaim-protection-controller',
  'persistentvolume-protection-controller',
  'ephemeral-volume-controller',
  'storageversion-garbage-collector-controller',
  'resourceclaim-controller',
  'legacy-serviceaccount-token-cleaner-controller',
  'validatingadmissionpolicy-status-controller',
  'service-cidr-controller',
  'storage-version-migrator-controller',
];

const unimplementedAliases: Record<string, string> = {
  endpointslicemirroring: 'endpointslice-mirroring-controller',
  horizontalpodautoscaling: 'horizontal-pod-autoscaler-controller',
  disruption: 'disruption-controller',
  csrsigning: 'certificatesigningrequest-signing-controller',
  csrapproving: 'certificatesigningrequest-approving-controller',
  csrcleaner: 'certificatesigningrequest-cleaner-controller',
  ttl: 'ttl-controller',
  bootstrapsigner: 'bootstrap-signer-controller',
  tokencleaner: 'token-cleaner-controller',
  'persistentvolume-binder': 'persistentvolume-binder-controller',
  attachdetach: 'persistentvolume-attach-detach-controller',
  'persistentvolume-expander': 'persistentvolume-expander-controller',
  'clusterrole-aggregation': 'clusterrole-aggregation-controller',
  'pvc-protection': 'persistentvolumeclaim-protection-controller',
  'pv-protection': 'persistentvolume-protection-controller',
  'ephemeral-volume': 'ephemeral-volume-controller',
  'storage-version-gc': 'storageversion-garbage-collector-controller',
  'resource-claim-controller': 'resourceclaim-controller',
  'legacy-service-account-token-cleaner': 'legacy-serviceaccount-token-cleaner-controller',
};

/** Canonical name for a name or alias; throws for unknown ones, as upstream's flag validation. */
export function canonicalControllerName(name: string): string {
  for (const d of controllerDescriptors) if (d.name === name || d.aliases.includes(name)) return d.name;
  if (unimplementedControllers.includes(name)) return name;
  if (unimplementedAliases[name]) return unimplementedAliases[name];
  throw new Error(`${JSON.stringify(name)} is not in the list of known controllers`);
}

/**
 * Whether `--controllers` enables `name` (IsControllerEnabled): an explicit `name` or `-name`
 * decides; otherwise `*` turns on the ones not disabled by default.
 */
export function isControllerEnabled(name: string, controllers: string[], disabledByDefault: boolean): boolean {
  let star = false;
  for (const raw of controllers) {
    if (raw === '*') {
      star = true;
      continue;
    }
    const negated = raw.startsWith('-');
    const canonical = canonicalControllerName(negated ? raw.slice(1) : raw);
    if (canonical === name) return !negated;
  }
  return star && !disabledByDefault;
}

/** Validates every entry of `--controllers`. */
export function validateControllers(controllers: string[]): void {
  for (const raw of controllers) if (raw !== '*') canonicalControllerName(raw.startsWith('-') ? raw.slice(1) : raw);
}
