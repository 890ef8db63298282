/**
 * Protobuf bodies built with protobufjs from the same .proto files, the way gogo-protobuf in
 * kubectl writes them (every non-pointer scalar present, even at its zero value), decoded back
 * into upstream's JSON.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeProtobuf, kubeProtoRoot } from './protobuf.js';
import { isStatusError } from '../api/errors.js';
import type { ResourceDef } from '../registry/types.js';

const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

function encodeMessage(typeName: string, value: Record<string, unknown>): Uint8Array {
  const type = kubeProtoRoot().lookupType(typeName);
  const problem = type.verify(value);
  if (problem) throw new Error(`${typeName}: ${problem}`);
  return type.encode(type.fromObject(value)).finish();
}

/** `k8s\0` + runtime.Unknown{typeMeta, raw} around one message. */
function envelope(apiVersion: string, kind: string, typeName: string, value: Record<string, unknown>, extra: Record<string, unknown> = {}): Buffer {
  const raw = encodeMessage(typeName, value);
  const unknown = encodeMessage('k8s.io.apimachinery.pkg.runtime.Unknown', { typeMeta: { apiVersion, kind }, raw, contentEncoding: '', contentType: '', ...extra });
  return Buffer.concat([MAGIC, unknown]);
}

/** ObjectMeta as gogo writes it for a new object: every string present, the zero Time present. */
function meta(fields: Record<string, unknown>): Record<string, unknown> {
  return { generateName: '', namespace: '', selfLink: '', uid: '', resourceVersion: '', generation: 0, creationTimestamp: {}, ...fields };
}

function assertStatus(fn: () => unknown, code: number, re?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(isStatusError(e), `not a StatusError: ${String(e)}`);
    assert.equal(e.code, code);
    if (re) assert.match(e.status.message ?? '', re);
    return true;
  });
}

test('the bytes kubectl 1.33 sends for `kubectl create namespace proto`', () => {
  const body = Buffer.from(
    // magic | typeMeta{v1, Namespace} | raw: Namespace{metadata{name, 7 zero scalars, zero Time}, spec{}, status{phase ""}} | contentEncoding "" | contentType ""
    ['6b387300', '0a0f0a0276311209', '4e616d657370616365', '121d0a150a0570726f746f', '12001a0022002a003200380042001200', '1a020a00', '1a00', '2200'].join(''),
    'hex',
  );
  assert.deepStrictEqual(decodeProtobuf(body, undefined), { kind: 'Namespace', apiVersion: 'v1', metadata: { name: 'proto' }, spec: {}, status: {} });
});

test('Namespace: zero scalars and the zero Time are dropped, empty structs kept', () => {
  const body = envelope('v1', 'Namespace', 'k8s.io.api.core.v1.Namespace', {
    metadata: meta({ name: 'team-a', labels: { env: 'dev' } }),
    spec: {},
    status: { phase: '' },
  });
  assert.deepStrictEqual(decodeProtobuf(body, undefined), {
    kind: 'Namespace',
    apiVersion: 'v1',
    metadata: { name: 'team-a', labels: { env: 'dev' } },
    spec: {},
    status: {},
  });
});

test('Deployment: containers, ports, resource quantities, intstr rolling update', () => {
  const container = {
    name: 'nginx',
    image: 'nginx',
    workingDir: '',
    ports: [{ name: '', hostPort: 0, containerPort: 80, protocol: '', hostIP: '' }],
    resources: { limits: { cpu: { string: '500m' }, memory: { string: '128Mi' } }, requests: { cpu: { string: '250m' } } },
    terminationMessagePath: '',
    terminationMessagePolicy: '',
    imagePullPolicy: '',
    stdin: false,
    stdinOnce: false,
    tty: false,
  };
  const body = envelope('apps/v1', 'Deployment', 'k8s.io.api.apps.v1.Deployment', {
    metadata: meta({ name: 'web', labels: { app: 'web' } }),
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: meta({ name: '', labels: { app: 'web' } }),
        spec: { containers: [container], restartPolicy: '', dnsPolicy: '', serviceAccountName: '', nodeName: '', hostNetwork: false, schedulerName: '' },
      },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: { type: 0, intVal: 1, strVal: '' }, maxSurge: { type: 1, intVal: 0, strVal: '25%' } } },
      minReadySeconds: 0,
      paused: false,
    },
    status: { observedGeneration: 0, replicas: 0, updatedReplicas: 0, readyReplicas: 0, availableReplicas: 0, unavailableReplicas: 0 },
  });
  assert.deepStrictEqual(decodeProtobuf(body, undefined), {
    kind: 'Deployment',
    apiVersion: 'apps/v1',
    metadata: { name: 'web', labels: { app: 'web' } },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: {
          containers: [
            {
              name: 'nginx',
              image: 'nginx',
              ports: [{ containerPort: 80 }],
              resources: { limits: { cpu: '500m', memory: '128Mi' }, requests: { cpu: '250m' } },
            },
          ],
        },
      },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: '25%' } },
    },
    status: {},
  });
});

test('pointer fields keep their zero value: replicas 0, automount false, runAsUser 0', () => {
  const body = envelope('apps/v1', 'Deployment', 'k8s.io.api.apps.v1.Deployment', {
    metadata: meta({ name: 'idle' }),
    spec: {
      replicas: 0,
      template: {
        spec: {
          automountServiceAccountToken: false,
          securityContext: { runAsUser: 0, runAsNonRoot: false },
          containers: [{ name: 'c', image: 'busybox', stdin: false }],
          terminationGracePeriodSeconds: 0,
        },
      },
    },
  });
  const obj = decodeProtobuf(body, undefined);
  assert.equal(obj['spec'].replicas, 0);
  assert.deepStrictEqual(obj['spec'].template.spec, {
    automountServiceAccountToken: false,
    securityContext: { runAsUser: 0, runAsNonRoot: false },
    containers: [{ name: 'c', image: 'busybox' }],
    terminationGracePeriodSeconds: 0,
  });
});

test('Secret: bytes data becomes base64, stringData stays a map of strings', () => {
  const body = envelope('v1', 'Secret', 'k8s.io.api.core.v1.Secret', {
    metadata: meta({ name: 's', namespace: 'default' }),
    data: { p: Buffer.from('q'), bin: Buffer.from([0, 255, 1]) },
    stringData: { plain: 'text' },
    type: 'Opaque',
  });
  assert.deepStrictEqual(decodeProtobuf(body, undefined), {
    kind: 'Secret',
    apiVersion: 'v1',
    metadata: { name: 's', namespace: 'default' },
    data: { p: 'cQ==', bin: 'AP8B' },
    stringData: { plain: 'text' },
    type: 'Opaque',
  });
});

test('ConfigMap: binaryData is base64 and immutable false is kept (a pointer upstream)', () => {
  const body = envelope('v1', 'ConfigMap', 'k8s.io.api.core.v1.ConfigMap', {
    metadata: meta({ name: 'x' }),
    immutable: false,
    data: { a: 'b' },
    binaryData: { raw: Buffer.from('hi') },
  });
  assert.deepStrictEqual(decodeProtobuf(body, undefined), {
    kind: 'ConfigMap',
    apiVersion: 'v1',
    metadata: { name: 'x' },
    immutable: false,
    data: { a: 'b' },
    binaryData: { raw: 'aGk=' },
  });
});

test('Service: intstr targetPort as number and as name; empty clusterIP dropped', () => {
  const body = envelope('v1', 'Service', 'k8s.io.api.core.v1.Service', {
    metadata: meta({ name: 'svc', labels: { app: 'svc' } }),
    spec: {
      ports: [
        { name: '80-8080', protocol: 'TCP', port: 80, targetPort: { type: 0, intVal: 8080, strVal: '' }, nodePort: 0 },
        { name: 'web', protocol: 'TCP', port: 81, targetPort: { type: 1, intVal: 0, strVal: 'http' }, nodePort: 0 },
      ],
      selector: { app: 'svc' },
      clusterIP: '',
      type: 'ClusterIP',
      sessionAffinity: '',
      externalName: '',
      publishNotReadyAddresses: false,
    },
    status: { loadBalancer: {} },
  });
  assert.deepStrictEqual(decodeProtobuf(body, undefined), {
    kind: 'Service',
    apiVersion: 'v1',
    metadata: { name: 'svc', labels: { app: 'svc' } },
    spec: {
      ports: [
        { name: '80-8080', protocol: 'TCP', port: 80, targetPort: 8080 },
        { name: 'web', protocol: 'TCP', port: 81, targetPort: 'http' },
      ],
      selector: { app: 'svc' },
      type: 'ClusterIP',
    },
    status: { loadBalancer: {} },
  });
});

test('DeleteOptions with propagationPolicy and preconditions, as v1 and as meta.k8s.io/v1', () => {
  for (const apiVersion of ['v1', 'meta.k8s.io/v1']) {
    const body = envelope(apiVersion, 'DeleteOptions', 'k8s.io.apimachinery.pkg.apis.meta.v1.DeleteOptions', {
      gracePeriodSeconds: 0,
      preconditions: { uid: 'b3f1c0de-0000-4000-8000-000000000001', resourceVersion: '42' },
      propagationPolicy: 'Foreground',
      dryRun: ['All'],
    });
    assert.deepStrictEqual(decodeProtobuf(body, undefined), {
      kind: 'DeleteOptions',
      apiVersion,
      gracePeriodSeconds: 0,
      preconditions: { uid: 'b3f1c0de-0000-4000-8000-000000000001', resourceVersion: '42' },
      propagationPolicy: 'Foreground',
      dryRun: ['All'],
    });
  }
});

test('Role with rules keeps the empty-string core group in apiGroups', () => {
  const body = envelope('rbac.authorization.k8s.io/v1', 'Role', 'k8s.io.api.rbac.v1.Role', {
    metadata: meta({ name: 'r' }),
    rules: [
      { verbs: ['get', 'list'], apiGroups: [''], resources: ['pods'] },
      { verbs: ['get'], apiGroups: ['apps'], resources: ['deployments'], resourceNames: ['web'] },
    ],
  });
  assert.deepStrictEqual(decodeProtobuf(body, undefined), {
    kind: 'Role',
    apiVersion: 'rbac.authorization.k8s.io/v1',
    metadata: { name: 'r' },
    rules: [
      { verbs: ['get', 'list'], apiGroups: [''], resources: ['pods'] },
      { verbs: ['get'], apiGroups: ['apps'], resources: ['deployments'], resourceNames: ['web'] },
    ],
  });
});

test('Time and MicroTime become RFC 3339; int64 beyond 32 bits stays exact', () => {
  const lease = envelope('coordination.k8s.io/v1', 'Lease', 'k8s.io.api.coordination.v1.Lease', {
    metadata: meta({ name: 'l', creationTimestamp: { seconds: 1767323045, nanos: 0 } }),
    spec: { holderIdentity: 'node-1', leaseDurationSeconds: 40, renewTime: { seconds: 1767323045, nanos: 123456789 }, leaseTransitions: 0 },
  });
  assert.deepStrictEqual(decodeProtobuf(lease, undefined), {
    kind: 'Lease',
    apiVersion: 'coordination.k8s.io/v1',
    metadata: { name: 'l', creationTimestamp: '2026-01-02T03:04:05Z' },
    spec: { holderIdentity: 'node-1', leaseDurationSeconds: 40, renewTime: '2026-01-02T03:04:05.123456Z', leaseTransitions: 0 },
  });
  const job = envelope('batch/v1', 'Job', 'k8s.io.api.batch.v1.Job', {
    metadata: meta({ name: 'j' }),
    spec: { activeDeadlineSeconds: 5_000_000_000, backoffLimit: 0, template: { spec: { restartPolicy: 'Never' } } },
  });
  assert.deepStrictEqual(decodeProtobuf(job, undefined)['spec'], {
    activeDeadlineSeconds: 5_000_000_000,
    backoffLimit: 0,
    template: { spec: { restartPolicy: 'Never' } },
  });
});

test('embedded Go structs are inlined: volume sources, key selectors, probe handlers', () => {
  const body = envelope('v1', 'Pod', 'k8s.io.api.core.v1.Pod', {
    metadata: meta({ name: 'p' }),
    spec: {
      volumes: [
        { name: 'cfg', volumeSource: { configMap: { localObjectReference: { name: 'cm' }, defaultMode: 420 } } },
        { name: 'scratch', volumeSource: { emptyDir: { medium: '' } } },
      ],
      containers: [
        {
          name: 'app',
          image: 'busybox',
          env: [
            { name: 'A', value: '1' },
            { name: 'B', value: '', valueFrom: { secretKeyRef: { localObjectReference: { name: 's' }, key: 'k' } } },
          ],
          envFrom: [{ prefix: '', configMapRef: { localObjectReference: { name: 'cm' } } }],
          readinessProbe: { handler: { httpGet: { path: '/healthz', port: { type: 1, strVal: 'http' }, scheme: 'HTTP' } }, periodSeconds: 5, timeoutSeconds: 0 },
        },
      ],
    },
  });
  assert.deepStrictEqual(decodeProtobuf(body, undefined)['spec'], {
    volumes: [
      { name: 'cfg', configMap: { name: 'cm', defaultMode: 420 } },
      { name: 'scratch', emptyDir: {} },
    ],
    containers: [
      {
        name: 'app',
        image: 'busybox',
        env: [
          { name: 'A', value: '1' },
          { name: 'B', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } },
        ],
        envFrom: [{ configMapRef: { name: 'cm' } }],
        readinessProbe: { httpGet: { path: '/healthz', port: 'http', scheme: 'HTTP' }, periodSeconds: 5 },
      },
    ],
  });
});

test('RawExtension and FieldsV1 carry parsed JSON', () => {
  const body = envelope('apps/v1', 'ControllerRevision', 'k8s.io.api.apps.v1.ControllerRevision', {
    metadata: meta({
      name: 'rev',
      managedFields: [{ manager: 'kubectl', operation: 'Update', apiVersion: 'apps/v1', fieldsType: 'FieldsV1', fieldsV1: { Raw: Buffer.from('{"f:data":{}}') }, subresource: '' }],
    }),
    data: { raw: Buffer.from('{"spec":{"template":{"x":1}}}') },
    revision: 3,
  });
  assert.deepStrictEqual(decodeProtobuf(body, undefined), {
    kind: 'ControllerRevision',
    apiVersion: 'apps/v1',
    metadata: {
      name: 'rev',
      managedFields: [{ manager: 'kubectl', operation: 'Update', apiVersion: 'apps/v1', fieldsType: 'FieldsV1', fieldsV1: { 'f:data': {} } }],
    },
    data: { spec: { template: { x: 1 } } },
    revision: 3,
  });
});

test('subresource bodies: Eviction with DeleteOptions, Binding, Scale', () => {
  const eviction = envelope('policy/v1', 'Eviction', 'k8s.io.api.policy.v1.Eviction', {
    metadata: meta({ name: 'p', namespace: 'default' }),
    deleteOptions: { gracePeriodSeconds: 10 },
  });
  assert.deepStrictEqual(decodeProtobuf(eviction, undefined), {
    kind: 'Eviction',
    apiVersion: 'policy/v1',
    metadata: { name: 'p', namespace: 'default' },
    deleteOptions: { gracePeriodSeconds: 10 },
  });
  const binding = envelope('v1', 'Binding', 'k8s.io.api.core.v1.Binding', {
    metadata: meta({ name: 'p' }),
    target: { kind: 'Node', name: 'node-1', namespace: '', uid: '', apiVersion: '', resourceVersion: '', fieldPath: '' },
  });
  assert.deepStrictEqual(decodeProtobuf(binding, undefined), {
    kind: 'Binding',
    apiVersion: 'v1',
    metadata: { name: 'p' },
    target: { kind: 'Node', name: 'node-1' },
  });
  const scale = envelope('autoscaling/v1', 'Scale', 'k8s.io.api.autoscaling.v1.Scale', {
    metadata: meta({ name: 'web', namespace: 'default', resourceVersion: '9' }),
    spec: { replicas: 5 },
    status: { replicas: 0, selector: '' },
  });
  assert.deepStrictEqual(decodeProtobuf(scale, undefined), {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: { name: 'web', namespace: 'default', resourceVersion: '9' },
    spec: { replicas: 5 },
    status: { replicas: 0 },
  });
});

test('auth can-i bodies: SelfSubjectAccessReview and SelfSubjectRulesReview', () => {
  const ssar = envelope('authorization.k8s.io/v1', 'SelfSubjectAccessReview', 'k8s.io.api.authorization.v1.SelfSubjectAccessReview', {
    metadata: meta({}),
    spec: { resourceAttributes: { namespace: 'default', verb: 'create', group: '', version: '', resource: 'pods', subresource: '', name: '' } },
    status: { allowed: false, denied: false, reason: '', evaluationError: '' },
  });
  assert.deepStrictEqual(decodeProtobuf(ssar, undefined), {
    kind: 'SelfSubjectAccessReview',
    apiVersion: 'authorization.k8s.io/v1',
    metadata: {},
    spec: { resourceAttributes: { namespace: 'default', verb: 'create', resource: 'pods' } },
    status: { allowed: false },
  });
  const ssrr = envelope('authorization.k8s.io/v1', 'SelfSubjectRulesReview', 'k8s.io.api.authorization.v1.SelfSubjectRulesReview', {
    metadata: meta({}),
    spec: { namespace: 'default' },
  });
  assert.deepStrictEqual(decodeProtobuf(ssrr, undefined)['spec'], { namespace: 'default' });
  const sar = envelope('authorization.k8s.io/v1', 'SubjectAccessReview', 'k8s.io.api.authorization.v1.SubjectAccessReview', {
    metadata: meta({}),
    spec: { user: 'jane', groups: ['dev'], extra: { scopes: { items: ['a', 'b'] } }, nonResourceAttributes: { path: '/healthz', verb: 'get' } },
  });
  assert.deepStrictEqual(decodeProtobuf(sar, undefined)['spec'], {
    user: 'jane',
    groups: ['dev'],
    extra: { scopes: ['a', 'b'] },
    nonResourceAttributes: { path: '/healthz', verb: 'get' },
  });
});

test('TokenRequest and SelfSubjectReview bodies', () => {
  const tr = envelope('authentication.k8s.io/v1', 'TokenRequest', 'k8s.io.api.authentication.v1.TokenRequest', {
    metadata: meta({ name: 'sa' }),
    spec: { audiences: ['https://kubernetes.default.svc'], expirationSeconds: 3600, boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'p', uID: 'abc' } },
    status: { token: '', expirationTimestamp: {} },
  });
  assert.deepStrictEqual(decodeProtobuf(tr, undefined), {
    kind: 'TokenRequest',
    apiVersion: 'authentication.k8s.io/v1',
    metadata: { name: 'sa' },
    spec: { audiences: ['https://kubernetes.default.svc'], expirationSeconds: 3600, boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'p', uid: 'abc' } },
    status: {},
  });
  const ssr = envelope('authentication.k8s.io/v1', 'SelfSubjectReview', 'k8s.io.api.authentication.v1.SelfSubjectReview', { metadata: meta({}), status: { userInfo: { username: '', uid: '' } } });
  assert.deepStrictEqual(decodeProtobuf(ssr, undefined), { kind: 'SelfSubjectReview', apiVersion: 'authentication.k8s.io/v1', metadata: {}, status: { userInfo: {} } });
});

test('Ingress rules inline their rule value; IngressClass parameters use apiGroup', () => {
  const ing = envelope('networking.k8s.io/v1', 'Ingress', 'k8s.io.api.networking.v1.Ingress', {
    metadata: meta({ name: 'ing' }),
    spec: {
      rules: [
        {
          host: 'foo.com',
          ingressRuleValue: { http: { paths: [{ path: '/bar', pathType: 'Exact', backend: { service: { name: 'svc1', port: { name: '', number: 8080 } } } }] } },
        },
      ],
    },
    status: { loadBalancer: {} },
  });
  assert.deepStrictEqual(decodeProtobuf(ing, undefined)['spec'], {
    rules: [{ host: 'foo.com', http: { paths: [{ path: '/bar', pathType: 'Exact', backend: { service: { name: 'svc1', port: { number: 8080 } } } }] } }],
  });
  const cls = envelope('networking.k8s.io/v1', 'IngressClass', 'k8s.io.api.networking.v1.IngressClass', {
    metadata: meta({ name: 'nginx' }),
    spec: { controller: 'k8s.io/ingress-nginx', parameters: { aPIGroup: 'k8s.example.com', kind: 'IngressParameters', name: 'external-lb' } },
  });
  assert.deepStrictEqual(decodeProtobuf(cls, undefined)['spec'], {
    controller: 'k8s.io/ingress-nginx',
    parameters: { apiGroup: 'k8s.example.com', kind: 'IngressParameters', name: 'external-lb' },
  });
});

test('PodDisruptionBudget and PriorityClass keep their meaningful zeros', () => {
  const pdb = envelope('policy/v1', 'PodDisruptionBudget', 'k8s.io.api.policy.v1.PodDisruptionBudget', {
    metadata: meta({ name: 'pdb' }),
    spec: { minAvailable: { type: 0, intVal: 0 }, selector: { matchLabels: { app: 'x' } } },
    status: { observedGeneration: 0, disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 },
  });
  assert.deepStrictEqual(decodeProtobuf(pdb, undefined), {
    kind: 'PodDisruptionBudget',
    apiVersion: 'policy/v1',
    metadata: { name: 'pdb' },
    spec: { minAvailable: 0, selector: { matchLabels: { app: 'x' } } },
    status: { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 },
  });
  const pc = envelope('scheduling.k8s.io/v1', 'PriorityClass', 'k8s.io.api.scheduling.v1.PriorityClass', {
    metadata: meta({ name: 'zero' }),
    value: 0,
    globalDefault: false,
    description: '',
  });
  assert.deepStrictEqual(decodeProtobuf(pc, undefined), { kind: 'PriorityClass', apiVersion: 'scheduling.k8s.io/v1', metadata: { name: 'zero' }, value: 0 });
});

test('CustomResourceDefinition: schema keywords get their JSON names and union forms', () => {
  const string = { type: 'string', maxLength: 0 };
  const body = envelope('apiextensions.k8s.io/v1', 'CustomResourceDefinition', 'k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinition', {
    metadata: meta({ name: 'widgets.example.com' }),
    spec: {
      group: 'example.com',
      names: { plural: 'widgets', singular: 'widget', kind: 'Widget', listKind: 'WidgetList' },
      scope: 'Namespaced',
      versions: [
        {
          name: 'v1',
          served: true,
          storage: false,
          schema: {
            openAPIV3Schema: {
              type: 'object',
              properties: {
                spec: {
                  type: 'object',
                  xKubernetesPreserveUnknownFields: true,
                  properties: { size: { type: 'integer', default: { raw: Buffer.from('3') }, minimum: 0 } },
                  additionalProperties: { allows: false },
                },
                tags: { type: 'array', items: { schema: string }, xKubernetesListType: 'set' },
                ref: { ref: '#/definitions/x' },
              },
              required: ['spec'],
            },
          },
          subresources: { status: {} },
          additionalPrinterColumns: [{ name: 'Size', type: 'integer', jsonPath: '.spec.size', priority: 0, format: '', description: '' }],
        },
      ],
      preserveUnknownFields: false,
    },
  });
  assert.deepStrictEqual(decodeProtobuf(body, undefined)['spec'], {
    group: 'example.com',
    names: { plural: 'widgets', singular: 'widget', kind: 'Widget', listKind: 'WidgetList' },
    scope: 'Namespaced',
    versions: [
      {
        name: 'v1',
        served: true,
        storage: false,
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: {
              spec: {
                type: 'object',
                'x-kubernetes-preserve-unknown-fields': true,
                properties: { size: { type: 'integer', default: 3, minimum: 0 } },
                additionalProperties: false,
              },
              tags: { type: 'array', items: { type: 'string', maxLength: 0 }, 'x-kubernetes-list-type': 'set' },
              ref: { $ref: '#/definitions/x' },
            },
            required: ['spec'],
          },
        },
        subresources: { status: {} },
        additionalPrinterColumns: [{ name: 'Size', type: 'integer', jsonPath: '.spec.size' }],
      },
    ],
  });
});

test('an envelope without typeMeta takes apiVersion and kind from the target resource', () => {
  const raw = encodeMessage('k8s.io.api.core.v1.ConfigMap', { metadata: meta({ name: 'x' }), data: { a: 'b' } });
  const body = Buffer.concat([MAGIC, encodeMessage('k8s.io.apimachinery.pkg.runtime.Unknown', { raw })]);
  const def = { group: '', version: 'v1', kind: 'ConfigMap' } as ResourceDef;
  assert.deepStrictEqual(decodeProtobuf(body, def), { kind: 'ConfigMap', apiVersion: 'v1', metadata: { name: 'x' }, data: { a: 'b' } });
});

test('a JSON payload inside the envelope is accepted', () => {
  const raw = Buffer.from(JSON.stringify({ metadata: { name: 'j' }, data: { k: 'v' } }));
  const body = Buffer.concat([MAGIC, encodeMessage('k8s.io.apimachinery.pkg.runtime.Unknown', { typeMeta: { apiVersion: 'v1', kind: 'ConfigMap' }, raw, contentType: 'application/json' })]);
  assert.deepStrictEqual(decodeProtobuf(body, undefined), { kind: 'ConfigMap', apiVersion: 'v1', metadata: { name: 'j' }, data: { k: 'v' } });
});

test('malformed bodies answer 400 and unknown kinds 415, never a crash', () => {
  const raw = encodeMessage('k8s.io.api.core.v1.Namespace', { metadata: meta({ name: 'team-a', labels: { a: 'b' } }) });
  // raw is the envelope's last field, so every cut inside it leaves a length prefix that overruns.
  const good = Buffer.concat([MAGIC, encodeMessage('k8s.io.apimachinery.pkg.runtime.Unknown', { typeMeta: { apiVersion: 'v1', kind: 'Namespace' }, raw })]);
  assertStatus(() => decodeProtobuf(Buffer.from('{"kind":"Namespace"}'), undefined), 400, /k8s/);
  assertStatus(() => decodeProtobuf(Buffer.alloc(0), undefined), 400);
  assertStatus(() => decodeProtobuf(MAGIC, undefined), 400, /Kind/);
  for (let cut = good.length - raw.length; cut < good.length; cut++) {
    assertStatus(() => decodeProtobuf(good.subarray(0, cut), undefined), 400);
  }
  const garbage = Buffer.concat([MAGIC, encodeMessage('k8s.io.apimachinery.pkg.runtime.Unknown', { typeMeta: { apiVersion: 'v1', kind: 'Namespace' }, raw: Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f]) })]);
  assertStatus(() => decodeProtobuf(garbage, undefined), 400);
  const unknownKind = envelope('example.com/v1', 'Widget', 'k8s.io.api.core.v1.Namespace', { metadata: meta({ name: 'w' }) });
  assertStatus(() => decodeProtobuf(unknownKind, undefined), 415, /Widget/);
  const notTopLevel = envelope('v1', 'PodSpec', 'k8s.io.api.core.v1.PodSpec', { nodeName: 'n' });
  assertStatus(() => decodeProtobuf(notTopLevel, undefined), 415);
  const encoded = envelope('v1', 'Namespace', 'k8s.io.api.core.v1.Namespace', { metadata: meta({ name: 'gz' }) }, { contentEncoding: 'gzip' });
  assertStatus(() => decodeProtobuf(encoded, undefined), 400, /encoding/);
  const badJSON = Buffer.concat([MAGIC, encodeMessage('k8s.io.apimachinery.pkg.runtime.Unknown', { typeMeta: { apiVersion: 'v1', kind: 'ConfigMap' }, raw: Buffer.from('{'), contentType: 'application/json' })]);
  assertStatus(() => decodeProtobuf(badJSON, undefined), 400, /JSON/);
});

test('every served resource kind has a protobuf message', async () => {
  const { builtinResources } = await import('../registry/resources.js');
  const missing: string[] = [];
  for (const def of builtinResources) {
    const body = envelope(def.group ? `${def.group}/${def.version}` : def.version, def.kind, 'k8s.io.apimachinery.pkg.apis.meta.v1.PartialObjectMetadata', { metadata: { name: 'x' } });
    try {
      const obj = decodeProtobuf(body, def);
      assert.equal(obj.metadata?.name, 'x');
    } catch (e) {
      missing.push(`${def.group}/${def.version} ${def.kind}: ${(e as Error).message}`);
    }
  }
  assert.deepStrictEqual(missing, []);
});
