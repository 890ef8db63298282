import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Node, Pod, Service } from '../../api/types.js';
import { desiredEndpointGroups, desiredSlices } from './endpointslice-controller.js';

function pod(name: string, ip: string, ready: boolean, port: number): Pod {
  return {
    metadata: { name, namespace: 'ns', uid: `uid-${name}`, labels: { app: 'a' } },
    spec: { nodeName: 'n1', containers: [{ name: 'c', ports: [{ name: 'http', containerPort: port }] }] },
    status: { podIP: ip, phase: 'Running', conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
  } as Pod;
}

const svc: Service = { metadata: { name: 's', namespace: 'ns' }, spec: { selector: { app: 'a' }, ports: [{ name: 'web', port: 80, targetPort: 'http', protocol: 'TCP' }] } };
const node: Node = { metadata: { name: 'n1', labels: { 'topology.kubernetes.io/zone': 'z1' } } };

test('conditions, zone and targetRef per endpoint; terminating pods are kept as serving but not ready', () => {
  const terminating = pod('p2', '10.0.0.2', true, 8080);
  terminating.metadata!.deletionTimestamp = '2024-01-01T00:00:00Z';
  const { groups } = desiredEndpointGroups(svc, [pod('p1', '10.0.0.1', true, 8080), terminating, pod('p3', '10.0.0.3', false, 8080)], () => node);
  assert.equal(groups.length, 1);
  assert.deepEqual(groups[0]!.ports, [{ name: 'web', port: 8080, protocol: 'TCP' }]);
  assert.deepEqual(
    groups[0]!.endpoints.map((e) => [e.addresses[0], e.conditions]),
    [
      ['10.0.0.1', { ready: true, serving: true, terminating: false }],
      ['10.0.0.2', { ready: false, serving: true, terminating: true }],
      ['10.0.0.3', { ready: false, serving: false, terminating: false }],
    ],
  );
  assert.equal(groups[0]!.endpoints[0]!.zone, 'z1');
  assert.equal(groups[0]!.endpoints[0]!.nodeName, 'n1');
  assert.deepEqual(groups[0]!.endpoints[0]!.targetRef, { kind: 'Pod', namespace: 'ns', name: 'p1', uid: 'uid-p1' });
});

test('pods whose node is missing are skipped and reported', () => {
  const { groups, missingNodes } = desiredEndpointGroups(svc, [pod('p1', '10.0.0.1', true, 8080)], () => undefined);
  assert.deepEqual(groups, []);
  assert.deepEqual(missingNodes, ['p1:n1']);
});

test('different resolved ports make different groups; slices hold at most the maximum; an empty placeholder otherwise', () => {
  const pods = Array.from({ length: 5 }, (_, i) => pod(`p${i}`, `10.0.0.${i}`, true, i < 3 ? 8080 : 9090));
  const { groups } = desiredEndpointGroups(svc, pods, () => node);
  assert.equal(groups.length, 2);
  const slices = desiredSlices(svc, groups, 2);
  assert.deepEqual(
    slices.map((s) => [s.ports[0]!.port, s.endpoints.length]),
    [
      [8080, 2],
      [8080, 1],
      [9090, 2],
    ],
  );
  assert.deepEqual(desiredSlices(svc, [], 100), [{ addressType: 'IPv4', ports: [], endpoints: [] }]);
});
