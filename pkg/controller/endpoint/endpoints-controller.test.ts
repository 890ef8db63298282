import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod, Service } from '../../api/types.js';
import { computeSubsets } from './endpoints-controller.js';

function pod(name: string, ip: string, ready: boolean, port: number, extra: Partial<Pod['spec']> = {}): Pod {
  return {
    metadata: { name, namespace: 'ns', uid: `uid-${name}`, labels: { app: 'a' } },
    spec: { nodeName: 'n1', containers: [{ name: 'c', ports: [{ name: 'http', containerPort: port }] }], ...extra },
    status: { podIP: ip, phase: 'Running', conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
  } as Pod;
}

const svc: Service = { metadata: { name: 's', namespace: 'ns' }, spec: { selector: { app: 'a' }, ports: [{ name: 'web', port: 80, targetPort: 'http', protocol: 'TCP' }] } };

test('named ports resolve per pod; pods on the same port share a subset; not-ready ones apart', () => {
  const { subsets } = computeSubsets(svc, [pod('p1', '10.0.0.1', true, 8080), pod('p2', '10.0.0.2', false, 8080), pod('p3', '10.0.0.3', true, 9090)]);
  assert.deepEqual(subsets, [
    {
      addresses: [{ ip: '10.0.0.1', nodeName: 'n1', targetRef: { kind: 'Pod', namespace: 'ns', name: 'p1', uid: 'uid-p1' } }],
      notReadyAddresses: [{ ip: '10.0.0.2', nodeName: 'n1', targetRef: { kind: 'Pod', namespace: 'ns', name: 'p2', uid: 'uid-p2' } }],
      ports: [{ name: 'web', port: 8080, protocol: 'TCP' }],
    },
    {
      addresses: [{ ip: '10.0.0.3', nodeName: 'n1', targetRef: { kind: 'Pod', namespace: 'ns', name: 'p3', uid: 'uid-p3' } }],
      ports: [{ name: 'web', port: 9090, protocol: 'TCP' }],
    },
  ]);
});

test('publishNotReadyAddresses lists every pod as ready; headless without ports keeps addresses; hostname with subdomain', () => {
  const headless: Service = { metadata: { name: 's', namespace: 'ns' }, spec: { selector: { app: 'a' }, clusterIP: 'None', publishNotReadyAddresses: true } };
  const { subsets } = computeSubsets(headless, [pod('p1', '10.0.0.1', false, 80, { hostname: 'h1', subdomain: 's' })]);
  assert.deepEqual(subsets, [{ addresses: [{ ip: '10.0.0.1', nodeName: 'n1', hostname: 'h1', targetRef: { kind: 'Pod', namespace: 'ns', name: 'p1', uid: 'uid-p1' } }] }]);
});

test('terminating, terminal and IP-less pods are left out', () => {
  const terminating = pod('p1', '10.0.0.1', true, 8080);
  terminating.metadata!.deletionTimestamp = '2024-01-01T00:00:00Z';
  const done = pod('p2', '10.0.0.2', true, 8080);
  done.status!.phase = 'Succeeded';
  const noIP = pod('p3', '', true, 8080);
  assert.deepEqual(computeSubsets(svc, [terminating, done, noIP]).subsets, []);
});
