import { test } from 'node:test';
import assert from 'node:assert/strict';
import { podStrategy as s, computePodQOS, podRow } from './pod.js';
import { imageTag } from './pod-spec.js';
import { fieldErrorString } from '../../api/field-errors.js';
import type { StoredObject } from '../../api/types.js';

const now = new Date('2024-05-01T12:00:00Z');
const ago = (sec: number) => new Date(now.getTime() - sec * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');

function pod(spec: Record<string, unknown>, extra: Record<string, unknown> = {}): StoredObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default', creationTimestamp: ago(60) }, spec, ...extra } as StoredObject;
}

/** The store's create path: defaults, prepareForCreate, validate. */
function create(o: StoredObject): { obj: StoredObject; errs: string[] } {
  s.defaults!(o);
  s.prepareForCreate!(o);
  return { obj: o, errs: [...s.validate!(o), ...s.validateCreate!(o)].map(fieldErrorString) };
}

test('a minimal pod gets upstream defaults and a Pending status', () => {
  const { obj, errs } = create(pod({ containers: [{ name: 'nginx', image: 'nginx' }] }));
  assert.deepEqual(errs, []);
  assert.deepEqual(obj.spec, {
    containers: [
      {
        name: 'nginx',
        image: 'nginx',
        imagePullPolicy: 'Always',
        resources: {},
        terminationMessagePath: '/dev/termination-log',
        terminationMessagePolicy: 'File',
      },
    ],
    dnsPolicy: 'ClusterFirst',
    enableServiceLinks: true,
    restartPolicy: 'Always',
    schedulerName: 'default-scheduler',
    securityContext: {},
    terminationGracePeriodSeconds: 30,
  });
  assert.deepEqual(obj.status, { phase: 'Pending', qosClass: 'BestEffort' });
});

test('nested defaults: ports, probes, volumes, env, resources, hostNetwork', () => {
  const { obj, errs } = create(
    pod({
      hostNetwork: true,
      volumes: [{ name: 'a' }, { name: 'b', secret: { secretName: 's' } }, { name: 'c', configMap: { name: 'c' } }],
      containers: [
        {
          name: 'c',
          image: 'busybox:1.36',
          ports: [{ containerPort: 80 }],
          livenessProbe: { httpGet: { port: 80 } },
          env: [{ name: 'N', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }],
          resources: { limits: { cpu: 0.5, memory: '1024Mi' } },
          volumeMounts: [{ name: 'a', mountPath: '/a' }],
        },
      ],
    }),
  );
  assert.deepEqual(errs, []);
  const c = obj.spec.containers[0];
  assert.equal(c.imagePullPolicy, 'IfNotPresent');
  assert.deepEqual(c.ports, [{ containerPort: 80, hostPort: 80, protocol: 'TCP' }]);
  assert.deepEqual(c.livenessProbe, { httpGet: { port: 80, path: '/', scheme: 'HTTP' }, timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3 });
  assert.deepEqual(c.env[0].valueFrom.fieldRef, { fieldPath: 'metadata.name', apiVersion: 'v1' });
  assert.deepEqual(c.resources, { limits: { cpu: '500m', memory: '1Gi' }, requests: { cpu: '500m', memory: '1Gi' } });
  assert.deepEqual(obj.spec.volumes, [
    { name: 'a', emptyDir: {} },
    { name: 'b', secret: { secretName: 's', defaultMode: 420 } },
    { name: 'c', configMap: { name: 'c', defaultMode: 420 } },
  ]);
  assert.equal(obj.status.qosClass, 'Guaranteed');
});

test('imagePullPolicy follows the tag', () => {
  assert.equal(imageTag('nginx'), 'latest');
  assert.equal(imageTag('nginx:latest'), 'latest');
  assert.equal(imageTag('nginx:1.25'), '1.25');
  assert.equal(imageTag('localhost:5000/busybox'), 'latest');
  assert.equal(imageTag('localhost:5000/busybox:1'), '1');
  assert.equal(imageTag('nginx@sha256:' + 'a'.repeat(64)), '');
  assert.equal(imageTag('Nginx'), undefined);
  assert.equal(imageTag(''), undefined);
});

test('QoS classes', () => {
  const c = (resources: unknown) => ({ containers: [{ name: 'a', image: 'x', resources }] });
  assert.equal(computePodQOS(c({})), 'BestEffort');
  assert.equal(computePodQOS(c({ requests: { cpu: '100m' } })), 'Burstable');
  assert.equal(computePodQOS(c({ requests: { cpu: '1', memory: '1Gi' }, limits: { cpu: '1', memory: '1Gi' } })), 'Guaranteed');
  assert.equal(computePodQOS(c({ requests: { cpu: '1000m', memory: '1Gi' }, limits: { cpu: '1', memory: '1024Mi' } })), 'Guaranteed');
  assert.equal(computePodQOS(c({ requests: { cpu: '500m', memory: '1Gi' }, limits: { cpu: '1', memory: '1Gi' } })), 'Burstable');
  assert.equal(computePodQOS(c({ limits: { cpu: '1' } })), 'Burstable');
  assert.equal(computePodQOS(c({ requests: { 'nvidia.com/gpu': '1' } })), 'BestEffort');
  // Limits alone become requests on a Pod, so this pod is Guaranteed.
  assert.equal(create(pod(c({ limits: { cpu: '1', memory: '1Gi' } }))).obj.status.qosClass, 'Guaranteed');
});

test('validation messages and field paths', () => {
  const errsOf = (spec: Record<string, unknown>) => create(pod(spec)).errs;
  assert.deepEqual(errsOf({}), ['spec.containers: Required value']);
  assert.deepEqual(errsOf({ containers: [{ name: 'A_b', image: 'x' }] }), [
    `spec.containers[0].name: Invalid value: "A_b": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`,
  ]);
  assert.deepEqual(errsOf({ containers: [{ name: 'a' }] }), ['spec.containers[0].image: Required value']);
  assert.deepEqual(errsOf({ containers: [{ name: 'a', image: 'x' }, { name: 'a', image: 'y' }] }), ['spec.containers[1].name: Duplicate value: "a"']);
  assert.deepEqual(errsOf({ containers: [{ name: 'a', image: 'x', ports: [{ containerPort: 70000, protocol: 'XTP' }] }] }), [
    'spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive',
    'spec.containers[0].ports[0].protocol: Unsupported value: "XTP": supported values: "SCTP", "TCP", "UDP"',
  ]);
  assert.deepEqual(errsOf({ restartPolicy: 'Sometimes', dnsPolicy: 'Maybe', containers: [{ name: 'a', image: 'x' }] }), [
    'spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"',
    'spec.dnsPolicy: Unsupported value: "Maybe": supported values: "ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"',
  ]);
  assert.deepEqual(errsOf({ containers: [{ name: 'a', image: 'x', resources: { requests: { cpu: '2' }, limits: { cpu: '1' } } }] }), [
    'spec.containers[0].resources.requests: Invalid value: "2": must be less than or equal to cpu limit of 1',
  ]);
  assert.deepEqual(errsOf({ containers: [{ name: 'a', image: 'x', resources: { requests: { cpu: 'lots' } } }] }), [
    `spec.containers[0].resources.requests[cpu]: Invalid value: "lots": quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'`,
  ]);
  assert.deepEqual(errsOf({ containers: [{ name: 'a', image: 'x', volumeMounts: [{ name: 'v', mountPath: '/v' }] }] }), ['spec.containers[0].volumeMounts[0].name: Not found: "v"']);
  assert.deepEqual(errsOf({ containers: [{ name: 'a', image: ' x' }] }), ['spec.containers[0].image: Invalid value: " x": must not have leading or trailing whitespace']);
});

test('pod updates may change images only, in upstream wording', () => {
  const old = create(pod({ containers: [{ name: 'a', image: 'nginx:1' }] })).obj;
  const next = structuredClone(old);
  next.spec.containers[0].image = 'nginx:2';
  assert.deepEqual(s.validateUpdate!(next, old), []);
  const bad = structuredClone(old);
  bad.spec.restartPolicy = 'Never';
  const errs = s.validateUpdate!(bad, old);
  assert.equal(errs.length, 1);
  assert.equal(errs[0]!.field, 'spec');
  assert.equal(errs[0]!.type, 'FieldValueForbidden');
  assert.ok(
    errs[0]!.detail!.startsWith(
      'pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)\n',
    ),
  );
  assert.match(errs[0]!.detail!, /- \trestartPolicy: "Always",\n\+ \trestartPolicy: "Never",/);
  const more = structuredClone(old);
  more.spec.containers.push({ name: 'b', image: 'x' });
  assert.deepEqual(s.validateUpdate!(more, old).map(fieldErrorString), ['spec.containers: Forbidden: pod updates may not add or remove containers']);
});

test('selectable fields', () => {
  assert.deepEqual(Object.keys(s.selectableFields!({ metadata: {} } as StoredObject)).sort(), [
    'spec.hostNetwork',
    'spec.nodeName',
    'spec.restartPolicy',
    'spec.schedulerName',
    'spec.serviceAccountName',
    'status.nominatedNodeName',
    'status.phase',
    'status.podIP',
    'status.podIPs',
  ]);
  const f = s.selectableFields!(pod({ nodeName: 'n1', hostNetwork: true }, { status: { phase: 'Running', podIPs: [{ ip: '10.0.0.5' }] } }));
  assert.equal(f['spec.nodeName'], 'n1');
  assert.equal(f['spec.hostNetwork'], 'true');
  assert.equal(f['status.podIP'], '10.0.0.5');
});

test('printer rows for pods in each state', () => {
  const spec = { nodeName: 'node1', containers: [{ name: 'c', image: 'x' }] };
  const row = (st: Record<string, unknown>, sp: Record<string, unknown> = spec, meta: Record<string, unknown> = {}) => {
    const p = pod(sp, { status: st });
    Object.assign(p.metadata, meta);
    return podRow(p, now);
  };
  assert.deepEqual(row({ phase: 'Pending' }, { containers: [{ name: 'c' }] }), ['p', '0/1', 'Pending', '0', '60s', '<none>', '<none>', '<none>', '<none>']);
  assert.deepEqual(row({ phase: 'Pending', containerStatuses: [{ name: 'c', ready: false, restartCount: 0, state: { waiting: { reason: 'ContainerCreating' } } }] }).slice(1, 4), ['0/1', 'ContainerCreating', '0']);
  assert.deepEqual(row({ phase: 'Running', podIPs: [{ ip: '10.1.0.7' }], containerStatuses: [{ name: 'c', ready: true, restartCount: 0, state: { running: {} } }] }), [
    'p',
    '1/1',
    'Running',
    '0',
    '60s',
    '10.1.0.7',
    'node1',
    '<none>',
    '<none>',
  ]);
  assert.deepEqual(row({ phase: 'Succeeded', containerStatuses: [{ name: 'c', ready: false, restartCount: 0, state: { terminated: { exitCode: 0, reason: 'Completed' } } }] }).slice(1, 4), [
    '0/1',
    'Completed',
    '0',
  ]);
  assert.deepEqual(
    row({
      phase: 'Running',
      containerStatuses: [{ name: 'c', ready: false, restartCount: 5, state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: { terminated: { exitCode: 1, finishedAt: ago(300) } } }],
    }).slice(1, 4),
    ['0/1', 'CrashLoopBackOff', '5 (5m ago)'],
  );
  assert.deepEqual(row({ phase: 'Running', containerStatuses: [{ name: 'c', ready: true, state: { running: {} } }] }, spec, { deletionTimestamp: ago(1) }).slice(2, 3), ['Terminating']);
  assert.deepEqual(row({ phase: 'Running', reason: 'NodeLost' }, spec, { deletionTimestamp: ago(1) })[2], 'Unknown');
  assert.deepEqual(row({ phase: 'Running', reason: 'NodeLost' })[2], 'NodeLost');
  const withInit = { containers: [{ name: 'c' }], initContainers: [{ name: 'i' }] };
  assert.deepEqual(row({ phase: 'Pending', initContainerStatuses: [{ name: 'i', state: { running: {} } }] }, withInit)[2], 'Init:0/1');
  assert.deepEqual(row({ phase: 'Pending', initContainerStatuses: [{ name: 'i', state: { terminated: { exitCode: 2 } } }] }, withInit)[2], 'Init:ExitCode:2');
  assert.deepEqual(row({ phase: 'Pending', initContainerStatuses: [{ name: 'i', state: { waiting: { reason: 'ImagePullBackOff' } } }] }, withInit)[2], 'Init:ImagePullBackOff');
  assert.deepEqual(row({ phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'SchedulingGated' }] })[2], 'SchedulingGated');
  assert.deepEqual(row({ phase: 'Running', conditions: [{ type: 'gate', status: 'True' }] }, { ...spec, readinessGates: [{ conditionType: 'gate' }, { conditionType: 'other' }] })[8], '1/2');
});

test('scheduling gates add the SchedulingGated condition', () => {
  const { obj, errs } = create(pod({ schedulingGates: [{ name: 'example.com/gate' }], containers: [{ name: 'a', image: 'x' }] }));
  assert.deepEqual(errs, []);
  assert.equal(obj.status.conditions[0].reason, 'SchedulingGated');
  assert.deepEqual(create(pod({ nodeName: 'n', schedulingGates: [{ name: 'g' }], containers: [{ name: 'a', image: 'x' }] })).errs, [
    'spec.nodeName: Forbidden: cannot be set until all schedulingGates have been cleared',
  ]);
});

test('bad shapes give field errors, not exceptions', () => {
  assert.doesNotThrow(() => create(pod({ containers: 'nope', volumes: [null, 5], initContainers: [{}] } as Record<string, unknown>)));
  assert.doesNotThrow(() => create({ metadata: { name: 'x' } } as StoredObject));
  assert.doesNotThrow(() => podRow({ metadata: { name: 'x' } } as StoredObject, now));
});

test('every core/v1 strategy survives malformed objects', async () => {
  const mods = await Promise.all(
    ['pod', 'service', 'endpoints', 'config-map', 'secret', 'service-account', 'node', 'event', 'persistent-volume', 'persistent-volume-claim', 'limit-range', 'resource-quota', 'replication-controller'].map(
      (m) => import(`./${m}.js`),
    ),
  );
  const strategies = mods.flatMap((m) => Object.entries(m).filter(([k]) => k.endsWith('Strategy')).map(([, v]) => v as typeof s));
  assert.equal(strategies.length, 13);
  const junk: unknown[] = [null, 7, 'x', [], [null], { a: null }, [{ name: 5, ports: 'p', resources: [1] }]];
  const shapes = (): StoredObject[] => {
    const out: StoredObject[] = [{ metadata: { name: 'x' } } as StoredObject];
    for (const j of junk) {
      out.push({
        metadata: { name: 'x', namespace: 'default', labels: {} },
        spec: { containers: j, volumes: j, ports: j, selector: j, template: { spec: j, metadata: j }, limits: j, hard: j, capacity: j, taints: j, resources: j, accessModes: j },
        status: { conditions: j, containerStatuses: j, podIPs: j, addresses: j, hard: j, loadBalancer: { ingress: j } },
        data: j,
        subsets: j,
        involvedObject: j,
        secrets: j,
      } as unknown as StoredObject);
      out.push({ metadata: { name: 'x' }, spec: j, status: j, data: j } as unknown as StoredObject);
    }
    return out;
  };
  for (const st of strategies) {
    for (const o of shapes()) {
      const old = shapes()[1]!;
      assert.doesNotThrow(() => {
        st.defaults?.(o);
        st.prepareForCreate?.(o);
        st.validate?.(o);
        st.prepareForUpdate?.(o, old);
        st.validateUpdate?.(o, old);
        st.validateStatusUpdate?.(o, old);
        st.selectableFields?.(o);
        st.table?.row(o, now);
      });
    }
  }
});
