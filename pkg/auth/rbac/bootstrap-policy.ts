/**
 * The default RBAC policy, as upstream's bootstrappolicy defines it: cluster roles (admin, edit
 * and view aggregate from the system:aggregate-to-* roles), their bindings, the kube-system
 * leader-locking roles, and the per-controller roles for a controller-manager that runs with
 * `--use-service-account-credentials`.
 */
import type { KubeObject } from '../../api/types.js';
import type { PolicyRule, Subject } from './rules.js';

const R = ['get', 'list', 'watch'];
const RW = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection'];
const W = ['create', 'delete', 'deletecollection', 'patch', 'update'];
const authn = 'authentication.k8s.io';
const authz = 'authorization.k8s.io';

function r(verbs: string[], apiGroups: string[], resources: string[], resourceNames?: string[]): PolicyRule {
  const rule: PolicyRule = { verbs, apiGroups, resources };
  if (resourceNames) rule.resourceNames = resourceNames;
  return rule;
}

function urls(verbs: string[], nonResourceURLs: string[]): PolicyRule {
  return { verbs, nonResourceURLs };
}

const events = r(['create', 'update', 'patch'], ['', 'events.k8s.io'], ['events']);

const bootstrapLabels = { 'kubernetes.io/bootstrapping': 'rbac-defaults' };
const autoupdate = { 'rbac.authorization.kubernetes.io/autoupdate': 'true' };

function clusterRole(name: string, rules: PolicyRule[], extraLabels: Record<string, string> = {}, aggregateFrom?: string): KubeObject {
  const o: KubeObject = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name, labels: { ...bootstrapLabels, ...extraLabels }, annotations: { ...autoupdate } },
    rules,
  };
  if (aggregateFrom) o.aggregationRule = { clusterRoleSelectors: [{ matchLabels: { [aggregateFrom]: 'true' } }] };
  return o;
}

function users(...names: string[]): Subject[] {
  return names.map((name) => ({ kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name }));
}

function groups(...names: string[]): Subject[] {
  return names.map((name) => ({ kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name }));
}

function clusterRoleBinding(name: string, subjects: Subject[], role = name): KubeObject {
  const o: KubeObject = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name, labels: { ...bootstrapLabels }, annotations: { ...autoupdate } },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role },
  };
  if (subjects.length) o.subjects = subjects;
  return o;
}

const aggToAdmin = 'rbac.authorization.k8s.io/aggregate-to-admin';
const aggToEdit = 'rbac.authorization.k8s.io/aggregate-to-edit';
const aggToView = 'rbac.authorization.k8s.io/aggregate-to-view';

/** The rules a kubelet gets (system:node); the Node authorizer applies them to node users. */
export const nodeRules: PolicyRule[] = [
  r(['create'], [authn], ['tokenreviews']),
  r(['create'], [authz], ['localsubjectaccessreviews', 'subjectaccessreviews']),
  r(R, [''], ['services']),
  r(['create', 'get', 'list', 'watch'], [''], ['nodes']),
  r(['patch', 'update'], [''], ['nodes/status']),
  r(['patch', 'update'], [''], ['nodes']),
  r(['create', 'patch', 'update'], [''], ['events']),
  r(R, [''], ['pods']),
  r(['create', 'delete'], [''], ['pods']),
  r(['patch', 'update'], [''], ['pods/status']),
  r(['create'], [''], ['pods/eviction']),
  r(R, [''], ['configmaps', 'secrets']),
  r(['get'], [''], ['persistentvolumeclaims', 'persistentvolumes']),
  r(['get'], [''], ['endpoints']),
  r(['create', 'get', 'list', 'watch'], ['certificates.k8s.io'], ['certificatesigningrequests']),
  r(['create', 'delete', 'get', 'patch', 'update'], ['coordination.k8s.io'], ['leases']),
  r(['get'], ['storage.k8s.io'], ['volumeattachments']),
  r(['create'], [''], ['serviceaccounts/token']),
  r(['get', 'patch', 'update'], [''], ['persistentvolumeclaims/status']),
  r(R, ['storage.k8s.io'], ['csidrivers']),
  r(['create', 'delete', 'get', 'patch', 'update'], ['storage.k8s.io'], ['csinodes']),
  r(R, ['node.k8s.io'], ['runtimeclasses']),
];

export function bootstrapClusterRoles(): KubeObject[] {
  return [
    clusterRole('cluster-admin', [r(['*'], ['*'], ['*']), urls(['*'], ['*'])]),
    clusterRole('admin', [], {}, aggToAdmin),
    clusterRole('edit', [], { [aggToAdmin]: 'true' }, aggToEdit),
    clusterRole('view', [], { [aggToEdit]: 'true' }, aggToView),
    clusterRole('system:aggregate-to-admin', [r(['create'], [authz], ['localsubjectaccessreviews']), r(RW, ['rbac.authorization.k8s.io'], ['rolebindings', 'roles'])], { [aggToAdmin]: 'true' }),
    clusterRole(
      'system:aggregate-to-edit',
      [
        r(R, [''], ['pods/attach', 'pods/exec', 'pods/portforward', 'pods/proxy', 'secrets', 'services/proxy']),
        r(['impersonate'], [''], ['serviceaccounts']),
        r(W, [''], ['pods', 'pods/attach', 'pods/exec', 'pods/portforward', 'pods/proxy']),
        r(['create'], [''], ['pods/eviction']),
        r(W, [''], ['configmaps', 'events', 'persistentvolumeclaims', 'replicationcontrollers', 'replicationcontrollers/scale', 'secrets', 'serviceaccounts', 'services', 'services/proxy']),
        r(['create'], [''], ['serviceaccounts/token']),
        r(W, ['apps'], ['daemonsets', 'deployments', 'deployments/rollback', 'deployments/scale', 'replicasets', 'replicasets/scale', 'statefulsets', 'statefulsets/scale']),
        r(W, ['autoscaling'], ['horizontalpodautoscalers']),
        r(W, ['batch'], ['cronjobs', 'jobs']),
        r(W, ['extensions'], ['daemonsets', 'deployments', 'deployments/rollback', 'deployments/scale', 'ingresses', 'networkpolicies', 'replicasets', 'replicasets/scale', 'replicationcontrollers/scale']),
        r(W, ['policy'], ['poddisruptionbudgets']),
        r(W, ['networking.k8s.io'], ['ingresses', 'networkpolicies']),
        r(RW, ['coordination.k8s.io'], ['leases']),
      ],
      { [aggToEdit]: 'true' },
    ),
    clusterRole(
      'system:aggregate-to-view',
      [
        r(R, [''], ['configmaps', 'endpoints', 'persistentvolumeclaims', 'persistentvolumeclaims/status', 'pods', 'replicationcontrollers', 'replicationcontrollers/scale', 'serviceaccounts', 'services', 'services/status']),
        r(R, [''], ['bindings', 'events', 'limitranges', 'namespaces/status', 'pods/log', 'pods/status', 'replicationcontrollers/status', 'resourcequotas', 'resourcequotas/status']),
        r(R, [''], ['namespaces']),
        r(R, ['discovery.k8s.io'], ['endpointslices']),
        r(R, ['apps'], ['controllerrevisions', 'daemonsets', 'daemonsets/status', 'deployments', 'deployments/scale', 'deployments/status', 'replicasets', 'replicasets/scale', 'replicasets/status', 'statefulsets', 'statefulsets/scale', 'statefulsets/status']),
        r(R, ['autoscaling'], ['horizontalpodautoscalers', 'horizontalpodautoscalers/status']),
        r(R, ['batch'], ['cronjobs', 'cronjobs/status', 'jobs', 'jobs/status']),
        r(R, ['extensions'], ['daemonsets', 'daemonsets/status', 'deployments', 'deployments/scale', 'deployments/status', 'ingresses', 'ingresses/status', 'networkpolicies', 'replicasets', 'replicasets/scale', 'replicasets/status', 'replicationcontrollers/scale']),
        r(R, ['policy'], ['poddisruptionbudgets', 'poddisruptionbudgets/status']),
        r(R, ['networking.k8s.io'], ['ingresses', 'ingresses/status', 'networkpolicies']),
      ],
      { [aggToView]: 'true' },
    ),
    clusterRole('system:auth-delegator', [r(['create'], [authn], ['tokenreviews']), r(['create'], [authz], ['subjectaccessreviews'])]),
    clusterRole('system:basic-user', [r(['create'], [authz], ['selfsubjectaccessreviews', 'selfsubjectrulesreviews']), r(['create'], [authn], ['selfsubjectreviews'])]),
    clusterRole('system:discovery', [urls(['get'], ['/api', '/api/*', '/apis', '/apis/*', '/healthz', '/livez', '/openapi', '/openapi/*', '/readyz', '/version', '/version/'])]),
    clusterRole('system:public-info-viewer', [urls(['get'], ['/healthz', '/livez', '/readyz', '/version', '/version/'])]),
    clusterRole('system:monitoring', [urls(['get'], ['/healthz', '/healthz/*', '/livez', '/livez/*', '/metrics', '/metrics/slis', '/readyz', '/readyz/*'])]),
    clusterRole('system:service-account-issuer-discovery', [urls(['get'], ['/.well-known/openid-configuration', '/openid/v1/jwks'])]),
    clusterRole('system:heapster', [r(R, [''], ['events', 'namespaces', 'nodes', 'pods']), r(R, ['extensions'], ['deployments'])]),
    clusterRole('system:kube-aggregator', [r(R, [''], ['endpoints', 'services'])]),
    clusterRole('system:kube-dns', [r(['list', 'watch'], [''], ['endpoints', 'services'])]),
    clusterRole('system:kubelet-api-admin', [r(R, [''], ['nodes']), r(['proxy'], [''], ['nodes']), r(['*'], [''], ['nodes/log', 'nodes/metrics', 'nodes/proxy', 'nodes/stats'])]),
    clusterRole('system:node', nodeRules),
    clusterRole('system:node-bootstrapper', [r(['create', 'get', 'list', 'watch'], ['certificates.k8s.io'], ['certificatesigningrequests'])]),
    clusterRole('system:node-problem-detector', [r(['get'], [''], ['nodes']), r(['patch'], [''], ['nodes/status']), events]),
    clusterRole('system:node-proxier', [r(['list', 'watch'], [''], ['endpoints', 'services']), r(R, [''], ['nodes']), events, r(['list', 'watch'], ['discovery.k8s.io'], ['endpointslices'])]),
    clusterRole('system:persistent-volume-provisioner', [
      r(['create', 'delete', 'get', 'list', 'watch'], [''], ['persistentvolumes']),
      r(['get', 'list', 'update', 'watch'], [''], ['persistentvolumeclaims']),
      r(R, ['storage.k8s.io'], ['storageclasses']),
      r(['watch'], [''], ['events']),
      events,
    ]),
    clusterRole('system:volume-scheduler', [
      r(['get', 'list', 'patch', 'update', 'watch'], [''], ['persistentvolumes']),
      r(R, ['storage.k8s.io'], ['storageclasses']),
      r(['get', 'list', 'patch', 'update', 'watch'], [''], ['persistentvolumeclaims']),
    ]),
    clusterRole('system:kube-controller-manager', [
      events,
      r(['create'], ['coordination.k8s.io'], ['leases']),
      r(['get', 'update'], ['coordination.k8s.io'], ['leases'], ['kube-controller-manager']),
      r(['create'], [''], ['secrets', 'serviceaccounts']),
      r(['delete'], [''], ['secrets']),
      r(['get'], [''], ['configmaps', 'namespaces', 'secrets', 'serviceaccounts']),
      r(['update'], [''], ['secrets', 'serviceaccounts']),
      r(['create'], [authn], ['tokenreviews']),
      r(['create'], [authz], ['subjectaccessreviews']),
      r(['list', 'watch'], ['*'], ['*']),
      r(['create'], [''], ['serviceaccounts/token']),
    ]),
    clusterRole('system:kube-scheduler', [
      events,
      r(['create'], ['coordination.k8s.io'], ['leases']),
      r(['get', 'update'], ['coordination.k8s.io'], ['leases'], ['kube-scheduler']),
      r(R, [''], ['nodes']),
      r(['delete', 'get', 'list', 'watch'], [''], ['pods']),
      r(['create'], [''], ['bindings', 'pods/binding']),
      r(['patch', 'update'], [''], ['pods/status']),
      r(R, [''], ['replicationcontrollers', 'services']),
      r(R, ['apps', 'extensions'], ['replicasets']),
      r(R, ['apps'], ['statefulsets']),
      r(R, ['policy'], ['poddisruptionbudgets']),
      r(R, [''], ['persistentvolumeclaims', 'persistentvolumes']),
      r(['create'], [authn], ['tokenreviews']),
      r(['create'], [authz], ['subjectaccessreviews']),
      r(R, ['storage.k8s.io'], ['csinodes']),
      r(R, [''], ['namespaces']),
      r(R, ['storage.k8s.io'], ['csidrivers']),
      r(R, ['storage.k8s.io'], ['csistoragecapacities']),
    ]),
    ...controllerRoles().map(([name, rules]) => clusterRole(`system:controller:${name}`, rules)),
  ];
}

export function bootstrapClusterRoleBindings(): KubeObject[] {
  return [
    clusterRoleBinding('cluster-admin', groups('system:masters')),
    clusterRoleBinding('system:basic-user', groups('system:authenticated')),
    clusterRoleBinding('system:discovery', groups('system:authenticated')),
    clusterRoleBinding('system:public-info-viewer', groups('system:authenticated', 'system:unauthenticated')),
    clusterRoleBinding('system:monitoring', groups('system:monitoring')),
    clusterRoleBinding('system:service-account-issuer-discovery', groups('system:serviceaccounts')),
    clusterRoleBinding('system:kube-controller-manager', users('system:kube-controller-manager')),
    clusterRoleBinding('system:kube-scheduler', users('system:kube-scheduler')),
    clusterRoleBinding('system:volume-scheduler', users('system:kube-scheduler')),
    clusterRoleBinding('system:node-proxier', users('system:kube-proxy')),
    clusterRoleBinding('system:kube-dns', [{ kind: 'ServiceAccount', name: 'kube-dns', namespace: 'kube-system' }]),
    // Bound to no one: nodes are authorized by the Node authorizer.
    clusterRoleBinding('system:node', []),
    ...controllerRoles().map(([name]) => clusterRoleBinding(`system:controller:${name}`, [{ kind: 'ServiceAccount', name, namespace: 'kube-system' }])),
  ];
}

/** Roles and RoleBindings in kube-system (leader election and the authentication configmap). */
export function bootstrapNamespaceRoles(): { roles: KubeObject[]; bindings: KubeObject[] } {
  const role = (name: string, rules: PolicyRule[]): KubeObject => ({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'Role',
    metadata: { name, namespace: 'kube-system', labels: { ...bootstrapLabels }, annotations: { ...autoupdate } },
    rules,
  });
  const binding = (name: string, subjects: Subject[], roleName = name): KubeObject => ({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name, namespace: 'kube-system', labels: { ...bootstrapLabels }, annotations: { ...autoupdate } },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: roleName },
    subjects,
  });
  return {
    roles: [
      role('extension-apiserver-authentication-reader', [r(R, [''], ['configmaps'], ['extension-apiserver-authentication'])]),
      role('system::leader-locking-kube-controller-manager', [r(['watch'], [''], ['configmaps']), r(['get', 'update'], [''], ['configmaps'], ['kube-controller-manager'])]),
      role('system::leader-locking-kube-scheduler', [r(['watch'], [''], ['configmaps']), r(['get', 'update'], [''], ['configmaps'], ['kube-scheduler'])]),
    ],
    bindings: [
      binding('system::extension-apiserver-authentication-reader', users('system:kube-controller-manager', 'system:kube-scheduler'), 'extension-apiserver-authentication-reader'),
      binding('system::leader-locking-kube-controller-manager', [...users('system:kube-controller-manager'), { kind: 'ServiceAccount', name: 'kube-controller-manager', namespace: 'kube-system' }]),
      binding('system::leader-locking-kube-scheduler', [...users('system:kube-scheduler'), { kind: 'ServiceAccount', name: 'kube-scheduler', namespace: 'kube-system' }]),
    ],
  };
}

/** The controllers' roles, one per controller, bound to kube-system ServiceAccounts of the same name. */
function controllerRoles(): [string, PolicyRule[]][] {
  const podsRW = r(['list', 'watch', 'create', 'delete', 'patch'], [''], ['pods']);
  return [
    ['clusterrole-aggregation-controller', [r(['escalate', 'get', 'list', 'patch', 'update', 'watch'], ['rbac.authorization.k8s.io'], ['clusterroles'])]],
    ['cronjob-controller', [
      r(['get', 'list', 'watch', 'update'], ['batch'], ['cronjobs']),
      r(['get', 'list', 'watch', 'create', 'update', 'delete', 'patch'], ['batch'], ['jobs']),
      r(['update'], ['batch'], ['cronjobs/status']),
      r(['update'], ['batch'], ['cronjobs/finalizers']),
      r(['list', 'delete'], [''], ['pods']),
      events,
    ]],
    ['daemon-set-controller', [
      r(R, ['apps', 'extensions'], ['daemonsets']),
      r(['update'], ['apps', 'extensions'], ['daemonsets/status']),
      r(['update'], ['apps', 'extensions'], ['daemonsets/finalizers']),
      r(['list', 'watch'], [''], ['nodes']),
      podsRW,
      r(['create'], [''], ['pods/binding']),
      r(['get', 'list', 'watch', 'create', 'delete', 'update', 'patch'], ['apps'], ['controllerrevisions']),
      events,
    ]],
    ['deployment-controller', [
      r(['get', 'list', 'watch', 'update'], ['apps', 'extensions'], ['deployments']),
      r(['update'], ['apps', 'extensions'], ['deployments/status']),
      r(['update'], ['apps', 'extensions'], ['deployments/finalizers']),
      r(['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'], ['apps', 'extensions'], ['replicasets']),
      r(['get', 'list', 'watch', 'update'], [''], ['pods']),
      events,
    ]],
    ['disruption-controller', [
      r(R, ['apps', 'extensions'], ['deployments', 'replicasets', 'statefulsets']),
      r(R, [''], ['replicationcontrollers', 'pods']),
      r(R, ['policy'], ['poddisruptionbudgets']),
      r(['update'], ['policy'], ['poddisruptionbudgets/status']),
      r(['get'], ['*'], ['*/scale']),
      r(['patch', 'update'], [''], ['pods/status']),
      events,
    ]],
    ['endpoint-controller', [
      r(R, [''], ['services', 'pods']),
      r(['get', 'list', 'create', 'update', 'delete'], [''], ['endpoints']),
      r(['create'], [''], ['endpoints/restricted']),
      events,
    ]],
    ['endpointslice-controller', [
      r(R, [''], ['services', 'pods', 'nodes']),
      r(['update'], [''], ['services/finalizers']),
      r(['get', 'list', 'create', 'update', 'delete'], ['discovery.k8s.io'], ['endpointslices']),
      events,
    ]],
    ['endpointslicemirroring-controller', [
      r(R, [''], ['services', 'endpoints']),
      r(['update'], [''], ['endpoints/finalizers']),
      r(['get', 'list', 'create', 'update', 'delete'], ['discovery.k8s.io'], ['endpointslices']),
      events,
    ]],
    ['generic-garbage-collector', [r(['get', 'list', 'watch', 'patch', 'update', 'delete'], ['*'], ['*']), events]],
    ['horizontal-pod-autoscaler', [
      r(R, ['autoscaling'], ['horizontalpodautoscalers']),
      r(['update'], ['autoscaling'], ['horizontalpodautoscalers/status']),
      r(['get', 'update'], ['*'], ['*/scale']),
      r(['list'], [''], ['pods']),
      r(['list'], ['metrics.k8s.io'], ['pods']),
      r(['get', 'list'], ['custom.metrics.k8s.io'], ['*']),
      r(['get', 'list'], ['external.metrics.k8s.io'], ['*']),
      events,
    ]],
    ['job-controller', [
      r(['get', 'list', 'watch', 'update', 'patch'], ['batch'], ['jobs']),
      r(['update'], ['batch'], ['jobs/status']),
      r(['update'], ['batch'], ['jobs/finalizers']),
      podsRW,
      events,
    ]],
    ['namespace-controller', [
      r(['get', 'list', 'watch', 'delete'], [''], ['namespaces']),
      r(['update'], [''], ['namespaces/finalize', 'namespaces/status']),
      r(['get', 'list', 'delete', 'deletecollection'], ['*'], ['*']),
    ]],
    ['node-controller', [
      r(['get', 'list', 'update', 'delete', 'patch'], [''], ['nodes']),
      r(['patch', 'update'], [''], ['nodes/status']),
      r(['patch', 'update'], [''], ['pods/status']),
      r(['list', 'delete'], [''], ['pods']),
      events,
    ]],
    ['pod-garbage-collector', [r(['list', 'watch', 'delete'], [''], ['pods']), r(R, [''], ['nodes']), r(['patch'], [''], ['pods/status'])]],
    ['replicaset-controller', [
      r(['get', 'list', 'watch', 'update'], ['apps', 'extensions'], ['replicasets']),
      r(['update'], ['apps', 'extensions'], ['replicasets/status']),
      r(['update'], ['apps', 'extensions'], ['replicasets/finalizers']),
      podsRW,
      events,
    ]],
    ['replication-controller', [
      r(['get', 'list', 'watch', 'update'], [''], ['replicationcontrollers']),
      r(['update'], [''], ['replicationcontrollers/status']),
      r(['update'], [''], ['replicationcontrollers/finalizers']),
      podsRW,
      events,
    ]],
    ['resourcequota-controller', [r(['list', 'watch'], ['*'], ['*']), r(['update'], [''], ['resourcequotas/status']), events]],
    ['root-ca-cert-publisher', [r(['create', 'update'], [''], ['configmaps']), events]],
    ['service-account-controller', [r(['create'], [''], ['serviceaccounts']), events]],
    ['service-controller', [r(R, [''], ['services']), r(['patch', 'update'], [''], ['services/status']), r(['list', 'watch'], [''], ['nodes']), events]],
    ['statefulset-controller', [
      r(['list', 'watch'], [''], ['pods']),
      r(['get', 'create', 'delete', 'update', 'patch'], [''], ['pods']),
      r(['list', 'watch'], ['apps'], ['statefulsets']),
      r(['get'], ['apps'], ['statefulsets']),
      r(['update'], ['apps'], ['statefulsets/status']),
      r(['update'], ['apps'], ['statefulsets/finalizers']),
      r(['get', 'list', 'watch', 'create', 'delete', 'update', 'patch'], ['apps'], ['controllerrevisions']),
      r(['get', 'create'], [''], ['persistentvolumeclaims']),
      r(['update', 'delete'], [''], ['persistentvolumeclaims']),
      events,
    ]],
    ['ttl-after-finished-controller', [r(['get', 'list', 'watch', 'delete'], ['batch'], ['jobs']), events]],
    ['ttl-controller', [r(['update', 'patch', 'list', 'watch'], [''], ['nodes']), events]],
  ];
}
