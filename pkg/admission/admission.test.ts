import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StatusError } from '../api/errors.js';
import type { StoredObject } from '../api/types.js';
import { builtinResources } from '../registry/resources.js';
import { FakeClusterState } from '../auth/fake-cluster-state.js';
import type { AdmissionAttributes, AdmissionPlugin, Operation } from './types.js';
import { limitRanger } from './limit-ranger.js';
import { serviceAccountAdmission } from './service-account.js';
import { nodeRestriction } from './node-restriction.js';
import { podSecurity, evaluatePod } from './pod-security.js';
import { priority } from './priority.js';
import { defaultTolerationSeconds } from './default-toleration-seconds.js';
import { defaultStorageClass } from './default-storage-class.js';
import { namespaceLifecycle } from './namespace-lifecycle.js';
import { usageOf, missingConstraints } from './resource-quota.js';
import { formatQuantity } from '../api/quantity.js';

const def = (group: string, plural: string) => builtinResources.find((d) => d.group === group && d.plural === plural)!;

function attrs(plural: string, op: Operation, object: StoredObject | undefined, extra: Partial<AdmissionAttributes> = {}): AdmissionAttributes {
  const m = object?.metadata ?? extra.oldObject?.metadata ?? {};
  return { operation: op, def: def(extra.def?.group ?? '', plural), namespace: m.namespace, name: m.name ?? '', object, dryRun: false, ...extra };
}

async function run(p: AdmissionPlugin, a: AdmissionAttributes): Promise<void> {
  await p.admit?.(a);
  await p.validate?.(a);
}

const forbiddenWith = (re: RegExp) => (e: unknown) => e instanceof StatusError && e.code === 403 && re.test(e.message);

const pod = (spec: Record<string, unknown> = {}, name = 'p'): StoredObject => ({ metadata: { name, namespace: 'a' }, spec: { containers: [{ name: 'c', image: 'busybox' }], ...spec } });

test('LimitRanger: defaults, min/max and ratio with upstream messages', async () => {
  const st = new FakeClusterState().add('', 'limitranges', {
    metadata: { name: 'lr', namespace: 'a' },
    spec: { limits: [{ type: 'Container', default: { cpu: '500m' }, defaultRequest: { cpu: '100m' }, max: { cpu: '1', memory: '1Gi' }, min: { cpu: '50m' }, maxLimitRequestRatio: { cpu: '5' } }] },
  });
  const p = limitRanger(st);
  // Pod defaulting (before admission) has already copied the memory limit into the request.
  const ok = pod({ containers: [{ name: 'c', image: 'x', resources: { limits: { memory: '512Mi' }, requests: { memory: '512Mi' } } }] });
  await run(p, attrs('pods', 'CREATE', ok));
  assert.deepEqual(ok.spec.containers[0].resources, { limits: { memory: '512Mi', cpu: '500m' }, requests: { memory: '512Mi', cpu: '100m' } });
  assert.equal(ok.metadata.annotations!['kubernetes.io/limit-ranger'], 'LimitRanger plugin set: cpu request for container c; cpu limit for container c');
  const big = pod({ containers: [{ name: 'c', image: 'x', resources: { limits: { cpu: '2', memory: '512Mi' }, requests: { cpu: '2' } } }] });
  await assert.rejects(run(p, attrs('pods', 'CREATE', big)), forbiddenWith(/^pods "p" is forbidden: maximum cpu usage per Container is 1, but limit is 2$/));
  const ratio = pod({ containers: [{ name: 'c', image: 'x', resources: { limits: { cpu: '1', memory: '1Gi' }, requests: { cpu: '100m' } } }] });
  await assert.rejects(run(p, attrs('pods', 'CREATE', ratio)), forbiddenWith(/cpu max limit to request ratio per Container is 5, but provided ratio is 10\.000000/));
  // A max without a default becomes the default limit, as upstream's LimitRange defaulting does.
  const noMem = pod();
  await run(p, attrs('pods', 'CREATE', noMem));
  assert.equal(noMem.spec.containers[0].resources.limits.memory, '1Gi');
  const pvcRange = new FakeClusterState().add('', 'limitranges', { metadata: { name: 'lr', namespace: 'a' }, spec: { limits: [{ type: 'PersistentVolumeClaim', min: { storage: '1Gi' } }] } });
  const claim: StoredObject = { metadata: { name: 'c', namespace: 'a' }, spec: { resources: { requests: { storage: '500Mi' } } } };
  await assert.rejects(run(limitRanger(pvcRange), attrs('persistentvolumeclaims', 'CREATE', claim)), forbiddenWith(/persistentvolumeclaims "c" is forbidden: minimum storage usage per PersistentVolumeClaim is 1Gi, but request is 500Mi/));
});

test('ServiceAccount: default SA, projected kube-api-access volume, opt-out, missing SA', async () => {
  const st = new FakeClusterState().add('', 'serviceaccounts', { metadata: { name: 'default', namespace: 'a' } }, { metadata: { name: 'quiet', namespace: 'a' }, automountServiceAccountToken: false });
  const p = serviceAccountAdmission(st);
  const x = pod({ initContainers: [{ name: 'i', image: 'x' }] });
  await run(p, attrs('pods', 'CREATE', x));
  assert.equal(x.spec.serviceAccountName, 'default');
  const vol = x.spec.volumes[0];
  assert.match(vol.name, /^kube-api-access-[a-z0-9]{5}$/);
  assert.deepEqual(vol.projected.sources.map((s: object) => Object.keys(s)[0]), ['serviceAccountToken', 'configMap', 'downwardAPI']);
  assert.equal(vol.projected.sources[0].serviceAccountToken.expirationSeconds, 3607);
  for (const c of [...x.spec.containers, ...x.spec.initContainers]) assert.deepEqual(c.volumeMounts, [{ name: vol.name, readOnly: true, mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' }]);
  const q = pod({ serviceAccountName: 'quiet' });
  await run(p, attrs('pods', 'CREATE', q));
  assert.equal(q.spec.volumes, undefined);
  await assert.rejects(run(p, attrs('pods', 'CREATE', pod({ serviceAccountName: 'ghost' }))), forbiddenWith(/error looking up service account a\/ghost: serviceaccount "ghost" not found/));
});

test('NodeRestriction: own node, own pods\' status, mirror pods only', async () => {
  const p = nodeRestriction();
  const user = { username: 'system:node:n1', groups: ['system:nodes'] };
  const node = (name: string, extra: Record<string, unknown> = {}): StoredObject => ({ metadata: { name }, ...extra });
  await run(p, { ...attrs('nodes', 'UPDATE', node('n1'), { oldObject: node('n1') }), user });
  await assert.rejects(run(p, { ...attrs('nodes', 'UPDATE', node('n2'), { oldObject: node('n2') }), user }), forbiddenWith(/nodes "n2" is forbidden: node "n1" is not allowed to modify node "n2"/));
  await assert.rejects(run(p, { ...attrs('nodes', 'UPDATE', node('n1', { spec: { taints: [] } }), { oldObject: node('n1', { spec: { taints: [{ key: 'k', effect: 'NoSchedule' }] } }) }), user }), forbiddenWith(/is not allowed to modify taints/));
  await assert.rejects(run(p, { ...attrs('nodes', 'CREATE', { metadata: { name: 'n1', labels: { 'node-role.kubernetes.io/master': '' } } }), user }), forbiddenWith(/not allowed to set the following labels: node-role.kubernetes.io\/master/));
  const bound = pod({ nodeName: 'n1' });
  const other = pod({ nodeName: 'n2' });
  await run(p, { ...attrs('pods', 'UPDATE', bound, { oldObject: bound, subresource: 'status' }), user });
  await assert.rejects(run(p, { ...attrs('pods', 'UPDATE', other, { oldObject: other, subresource: 'status' }), user }), forbiddenWith(/can only update pod status for pods with spec.nodeName set to itself/));
  await assert.rejects(run(p, { ...attrs('pods', 'CREATE', pod({ nodeName: 'n1' })), user }), forbiddenWith(/can only create mirror pods/));
  const mirror = pod({ nodeName: 'n1' });
  mirror.metadata.annotations = { 'kubernetes.io/config.mirror': 'x' };
  await run(p, { ...attrs('pods', 'CREATE', mirror), user });
  await assert.rejects(run(p, { ...attrs('pods', 'DELETE', undefined, { oldObject: other }), user }), forbiddenWith(/can only delete pods with spec.nodeName set to itself/));
  // Not a node: untouched.
  await run(p, { ...attrs('nodes', 'UPDATE', node('n2'), { oldObject: node('n2') }), user: { username: 'admin', groups: ['system:masters'] } });
});

test('PodSecurity: levels from namespace labels, upstream message and check order', async () => {
  const st = new FakeClusterState().add('', 'namespaces', { metadata: { name: 'a', labels: { 'pod-security.kubernetes.io/enforce': 'restricted' } } });
  const p = podSecurity(st);
  await assert.rejects(
    run(p, attrs('pods', 'CREATE', pod({ containers: [{ name: 'web', image: 'x' }, { name: 'log', image: 'x' }] }))),
    forbiddenWith(/^pods "p" is forbidden: violates PodSecurity "restricted:latest": allowPrivilegeEscalation != false \(containers "web", "log" must set securityContext.allowPrivilegeEscalation=false\), unrestricted capabilities \(containers "web", "log" must set securityContext.capabilities.drop=\["ALL"\]\), runAsNonRoot != true \(pod or containers "web", "log" must set securityContext.runAsNonRoot=true\), seccompProfile \(pod or containers "web", "log" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost"\)$/),
  );
  const good = pod({ securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } }, containers: [{ name: 'c', image: 'x', securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } }] });
  await run(p, attrs('pods', 'CREATE', good));
  const host = pod({ hostNetwork: true, hostPID: true, volumes: [{ name: 'proc', hostPath: { path: '/proc' } }, { name: 'sys', hostPath: { path: '/sys' } }], containers: [{ name: 'ne', image: 'x', ports: [{ containerPort: 9100, hostPort: 9100 }] }] });
  assert.deepEqual(evaluatePod(host, 'baseline').map((r) => `${r.reason} (${r.detail})`), ['host namespaces (hostNetwork=true, hostPID=true)', 'hostPath volumes (volumes "proc", "sys")', 'hostPort (container "ne" uses hostPort 9100)']);
  assert.deepEqual(evaluatePod(host, 'privileged'), []);
});

test('Priority: class name to priority, global default, unknown class', async () => {
  const st = new FakeClusterState().add('scheduling.k8s.io', 'priorityclasses', { metadata: { name: 'high' }, value: 1000 }, { metadata: { name: 'normal' }, value: 10, globalDefault: true, preemptionPolicy: 'Never' });
  const p = priority(st);
  const a = pod({ priorityClassName: 'high' });
  await run(p, attrs('pods', 'CREATE', a));
  assert.equal(a.spec.priority, 1000);
  assert.equal(a.spec.preemptionPolicy, 'PreemptLowerPriority');
  const b = pod();
  await run(p, attrs('pods', 'CREATE', b));
  assert.deepEqual([b.spec.priorityClassName, b.spec.priority, b.spec.preemptionPolicy], ['normal', 10, 'Never']);
  await assert.rejects(run(p, attrs('pods', 'CREATE', pod({ priorityClassName: 'nope' }))), forbiddenWith(/no PriorityClass with name nope was found/));
  await assert.rejects(run(p, attrs('pods', 'CREATE', pod({ priorityClassName: 'high', priority: 5 }))), forbiddenWith(/the integer value of priority \(5\) must not be provided in pod spec/));
  await assert.rejects(run(p, { ...attrs('priorityclasses', 'CREATE', { metadata: { name: 'other' }, value: 1, globalDefault: true }), def: def('scheduling.k8s.io', 'priorityclasses') }), forbiddenWith(/PriorityClass normal is already marked as default/));
});

test('DefaultTolerationSeconds, DefaultStorageClass and NamespaceLifecycle', async () => {
  const x = pod({ tolerations: [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 60 }] });
  await run(defaultTolerationSeconds(), attrs('pods', 'CREATE', x));
  assert.deepEqual(x.spec.tolerations.map((t: any) => `${t.key}:${t.tolerationSeconds}`), ['node.kubernetes.io/unreachable:60', 'node.kubernetes.io/not-ready:300']);
  const st = new FakeClusterState().add('storage.k8s.io', 'storageclasses', { metadata: { name: 'slow', creationTimestamp: '2024-01-01T00:00:00Z', annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } } }, { metadata: { name: 'fast', creationTimestamp: '2025-01-01T00:00:00Z', annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } } });
  const pvc: StoredObject = { metadata: { name: 'c', namespace: 'a' }, spec: {} };
  await run(defaultStorageClass(st), attrs('persistentvolumeclaims', 'CREATE', pvc));
  assert.equal(pvc.spec.storageClassName, 'fast');
  const none: StoredObject = { metadata: { name: 'd', namespace: 'a' }, spec: { storageClassName: '' } };
  await run(defaultStorageClass(st), attrs('persistentvolumeclaims', 'CREATE', none));
  assert.equal(none.spec.storageClassName, '');
  await assert.rejects(run(namespaceLifecycle(), attrs('namespaces', 'DELETE', undefined, { oldObject: { metadata: { name: 'kube-system' } } })), forbiddenWith(/namespaces "kube-system" is forbidden: this namespace may not be deleted/));
});

test('ResourceQuota usage and the "must specify" constraint', () => {
  const p = pod({
    initContainers: [{ name: 'i', resources: { requests: { cpu: '1' } } }],
    containers: [{ name: 'a', resources: { requests: { cpu: '200m', memory: '64Mi' }, limits: { cpu: '400m' } } }, { name: 'b', resources: { requests: { cpu: '300m' } } }],
  });
  const u = usageOf('', 'pods', p);
  const s = Object.fromEntries([...u].map(([k, v]) => [k, formatQuantity(v)]));
  assert.deepEqual(s, { 'count/pods': '1', pods: '1', 'requests.cpu': '1', cpu: '1', 'requests.memory': '64Mi', memory: '64Mi', 'limits.cpu': '400m' });
  assert.equal(missingConstraints(p, ['pods', 'limits.cpu', 'limits.memory']), 'must specify limits.cpu for: b,i; limits.memory for: a,b,i');
  assert.equal(formatQuantity(usageOf('apps', 'deployments', { metadata: {} }).get('count/deployments.apps')!), '1');
  const svc = usageOf('', 'services', { metadata: {}, spec: { type: 'NodePort', ports: [{ port: 80 }, { port: 443 }] } });
  assert.equal(formatQuantity(svc.get('services.nodeports')!), '2');
});

test('Priority: a new or removed global default is seen by the next pod (the default is remembered per revision)', async () => {
  const st = new FakeClusterState().add('scheduling.k8s.io', 'priorityclasses', { metadata: { name: 'normal' }, value: 10, globalDefault: true });
  const p = priority(st);
  const first = pod();
  await run(p, attrs('pods', 'CREATE', first));
  assert.equal(first.spec.priority, 10);
  st.add('scheduling.k8s.io', 'priorityclasses', { metadata: { name: 'normal' }, value: 10 }, { metadata: { name: 'higher' }, value: 50, globalDefault: true });
  const second = pod();
  await run(p, attrs('pods', 'CREATE', second));
  assert.deepEqual([second.spec.priorityClassName, second.spec.priority], ['higher', 50]);
  st.remove('scheduling.k8s.io', 'priorityclasses', undefined, 'higher');
  const third = pod();
  await run(p, attrs('pods', 'CREATE', third));
  assert.deepEqual([third.spec.priorityClassName, third.spec.priority], [undefined, 0]);
});
