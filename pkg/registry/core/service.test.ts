import { test } from 'node:test';
import assert from 'node:assert/strict';
import { serviceStrategy as s } from './service.js';
import { fieldErrorString } from '../../api/field-errors.js';
import type { StoredObject } from '../../api/types.js';

const now = new Date('2024-05-01T12:00:00Z');

function svc(spec: Record<string, unknown>, name = 'web'): StoredObject {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default', creationTimestamp: '2024-05-01T11:55:00Z' }, spec } as StoredObject;
}

function create(o: StoredObject) {
  s.defaults!(o);
  s.prepareForCreate!(o);
  return { obj: o, errs: s.validate!(o).map(fieldErrorString) };
}

/** The store's update path: defaults, old status kept, prepareForUpdate, validate + validateUpdate. */
function update(next: StoredObject, old: StoredObject) {
  s.defaults!(next);
  next.status = structuredClone(old.status);
  s.prepareForUpdate!(next, old);
  return { obj: next, errs: [...s.validate!(next), ...s.validateUpdate!(next, old)].map(fieldErrorString) };
}

test('a ClusterIP service gets upstream defaults', () => {
  const { obj, errs } = create(svc({ selector: { app: 'web' }, ports: [{ port: 80 }] }));
  assert.deepEqual(errs, []);
  assert.deepEqual(obj.spec, {
    selector: { app: 'web' },
    ports: [{ port: 80, protocol: 'TCP', targetPort: 80 }],
    sessionAffinity: 'None',
    type: 'ClusterIP',
    internalTrafficPolicy: 'Cluster',
    ipFamilyPolicy: 'SingleStack',
    ipFamilies: ['IPv4'],
  });
  assert.deepEqual(obj.status, { loadBalancer: {} });
});

test('given clusterIP is kept and mirrored into clusterIPs; NodePort and LoadBalancer defaults', () => {
  const a = create(svc({ clusterIP: '10.96.0.10', ports: [{ port: 53, protocol: 'UDP', targetPort: 'dns' }] })).obj;
  assert.equal(a.spec.clusterIP, '10.96.0.10');
  assert.deepEqual(a.spec.clusterIPs, ['10.96.0.10']);
  assert.equal(a.spec.ports[0].targetPort, 'dns');
  const np = create(svc({ type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }] }));
  assert.deepEqual(np.errs, []);
  assert.equal(np.obj.spec.externalTrafficPolicy, 'Cluster');
  const lb = create(svc({ type: 'LoadBalancer', ports: [{ port: 80 }], sessionAffinity: 'ClientIP' }));
  assert.deepEqual(lb.errs, []);
  assert.equal(lb.obj.spec.allocateLoadBalancerNodePorts, true);
  assert.deepEqual(lb.obj.spec.sessionAffinityConfig, { clientIP: { timeoutSeconds: 10800 } });
});

test('headless and ExternalName services', () => {
  const h = create(svc({ clusterIP: 'None', selector: { app: 'db' } })).obj;
  assert.deepEqual([h.spec.clusterIPs, h.spec.ipFamilyPolicy, h.spec.ipFamilies], [['None'], 'SingleStack', ['IPv4']]);
  const hs = create(svc({ clusterIP: 'None' })).obj;
  assert.deepEqual([hs.spec.ipFamilyPolicy, hs.spec.ipFamilies], ['RequireDualStack', ['IPv4', 'IPv6']]);
  const en = create(svc({ type: 'ExternalName', externalName: 'example.com' }));
  assert.deepEqual(en.errs, []);
  assert.equal(en.obj.spec.ipFamilies, undefined);
  assert.equal(en.obj.spec.internalTrafficPolicy, undefined);
  assert.deepEqual(create(svc({ type: 'ExternalName' })).errs, ['spec.externalName: Required value']);
});

test('validation messages', () => {
  const errs = (spec: Record<string, unknown>) => create(svc(spec)).errs;
  assert.deepEqual(errs({}), ['spec.ports: Required value']);
  assert.deepEqual(errs({ ports: [{ port: 0 }] }), ['spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive', 'spec.ports[0].targetPort: Invalid value: 0: must be between 1 and 65535, inclusive']);
  assert.deepEqual(errs({ type: 'Magic', ports: [{ port: 80 }] }), ['spec.type: Unsupported value: "Magic": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"']);
  assert.deepEqual(errs({ ports: [{ port: 80 }, { port: 81 }] }), ['spec.ports[0].name: Required value', 'spec.ports[1].name: Required value']);
  assert.deepEqual(errs({ ports: [{ port: 80, nodePort: 30000 }] }), ["spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'"]);
  assert.deepEqual(errs({ selector: { 'bad key!': 'x' }, ports: [{ port: 80 }] }).length, 1);
  assert.deepEqual(errs({ clusterIP: 'nope', ports: [{ port: 80 }] }), ['spec.clusterIPs[0]: Invalid value: "nope": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)']);
  assert.deepEqual(errs({ clusterIP: 'None', type: 'NodePort', ports: [{ port: 80 }] }), ["spec.clusterIPs[0]: Invalid value: \"None\": may not be set to 'None' for NodePort services"]);
  assert.equal(s.nameValidator!('1abc').length, 1, 'service names are DNS-1035 labels');
});

test('clusterIP is immutable; resubmitting without it keeps the allocated one', () => {
  const old = create(svc({ clusterIP: '10.96.0.10', type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }] })).obj;
  const resubmit = update(svc({ type: 'NodePort', ports: [{ port: 80 }] }), old);
  assert.deepEqual(resubmit.errs, []);
  assert.equal(resubmit.obj.spec.clusterIP, '10.96.0.10');
  assert.equal(resubmit.obj.spec.ports[0].nodePort, 30080);
  const changed = update(svc({ clusterIP: '10.96.0.11', type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }] }), old);
  assert.deepEqual(changed.errs, ['spec.clusterIPs[0]: Invalid value: ["10.96.0.11"]: may not change once set']);
  // Switching to ClusterIP drops the node ports and the external traffic policy the client did not touch.
  const toClusterIP = update({ ...structuredClone(old), spec: { ...structuredClone(old.spec), type: 'ClusterIP' } }, old);
  assert.deepEqual(toClusterIP.errs, []);
  assert.equal(toClusterIP.obj.spec.ports[0].nodePort, undefined);
  assert.equal(toClusterIP.obj.spec.externalTrafficPolicy, undefined);
  // And to ExternalName drops the cluster IPs and families.
  const toExt = update({ ...structuredClone(old), spec: { ...structuredClone(old.spec), type: 'ExternalName', externalName: 'example.com' } }, old);
  assert.deepEqual(toExt.errs, []);
  assert.equal(toExt.obj.spec.clusterIP, undefined);
  assert.equal(toExt.obj.spec.ipFamilies, undefined);
});

test('selectable fields', () => {
  assert.deepEqual(s.selectableFields!({ metadata: {} } as StoredObject), { 'spec.clusterIP': '', 'spec.type': '' });
  assert.deepEqual(s.selectableFields!(create(svc({ clusterIP: '10.0.0.1', ports: [{ port: 80 }] })).obj), { 'spec.clusterIP': '10.0.0.1', 'spec.type': 'ClusterIP' });
});

test('printer rows: ClusterIP, NodePort, LoadBalancer, ExternalName, headless', () => {
  const row = (spec: Record<string, unknown>, status?: unknown) => {
    const o = create(svc(spec)).obj;
    if (status) o.status = status;
    return s.table!.row(o, now);
  };
  assert.deepEqual(s.table!.columns.map((c) => `${c.name}/${c.priority}`), ['Name/0', 'Type/0', 'Cluster-IP/0', 'External-IP/0', 'Port(s)/0', 'Age/0', 'Selector/1']);
  assert.deepEqual(row({ clusterIP: '10.96.0.1', selector: { app: 'web', tier: 'fe' }, ports: [{ port: 80 }] }), ['web', 'ClusterIP', '10.96.0.1', '<none>', '80/TCP', '5m', 'app=web,tier=fe']);
  assert.deepEqual(row({ type: 'NodePort', clusterIP: '10.96.0.2', ports: [{ name: 'http', port: 80, nodePort: 30080 }, { name: 'dns', port: 53, protocol: 'UDP', nodePort: 30053 }] }).slice(1, 5), [
    'NodePort',
    '10.96.0.2',
    '<none>',
    '80:30080/TCP,53:30053/UDP',
  ]);
  assert.deepEqual(row({ type: 'LoadBalancer', clusterIP: '10.96.0.3', ports: [{ port: 443 }] }).slice(3, 5), ['<pending>', '443/TCP']);
  assert.deepEqual(row({ type: 'LoadBalancer', clusterIP: '10.96.0.3', ports: [{ port: 443 }] }, { loadBalancer: { ingress: [{ ip: '1.2.3.4' }] } })[3], '1.2.3.4');
  assert.deepEqual(row({ type: 'ExternalName', externalName: 'example.com' }).slice(1, 5), ['ExternalName', '<none>', 'example.com', '<none>']);
  assert.deepEqual(row({ clusterIP: 'None', ports: [{ port: 5432 }] })[2], 'None');
  assert.deepEqual(row({ ports: [{ port: 80 }] })[6], '<none>');
});
