import { test } from 'node:test';
import assert from 'node:assert/strict';
import { desiredRoutes, syncRoutes, type Route, type RouteTable } from './route-controller.js';

const node = (name: string, cidr: string | undefined, ip: string) => ({ metadata: { name }, spec: { podCIDR: cidr }, status: { addresses: [{ type: 'InternalIP', address: ip }] } });

test('every other node with a podCIDR and an InternalIP gets a route', () => {
  const nodes = [node('a', '10.244.0.0/24', '10.200.0.10'), node('b', '10.244.1.0/24', '10.200.0.11'), node('c', undefined, '10.200.0.12')];
  assert.deepEqual(desiredRoutes(nodes, { nodeName: 'a', addresses: ['10.200.0.10'] }), [{ dst: '10.244.1.0/24', via: '10.200.0.11' }]);
  assert.deepEqual(desiredRoutes(nodes, { addresses: ['10.200.0.1'] }), [
    { dst: '10.244.0.0/24', via: '10.200.0.10' },
    { dst: '10.244.1.0/24', via: '10.200.0.11' },
  ]);
});

test('sync adds what is missing and removes only stale routes it owns', async () => {
  let routes: Route[] = [
    { dst: '10.244.5.0/24', via: '10.200.0.15' },
    { dst: '10.244.1.0/24', via: '10.200.0.11' },
  ];
  const table: RouteTable = {
    list: async () => [...routes],
    replace: async (r) => {
      routes = [...routes.filter((x) => x.dst !== r.dst), r];
    },
    remove: async (r) => {
      routes = routes.filter((x) => !(x.dst === r.dst && x.via === r.via));
    },
  };
  const res = await syncRoutes(table, [
    { dst: '10.244.1.0/24', via: '10.200.0.11' },
    { dst: '10.244.2.0/24', via: '10.200.0.12' },
  ]);
  assert.deepEqual(res.removed, [{ dst: '10.244.5.0/24', via: '10.200.0.15' }]);
  assert.deepEqual(res.added, [{ dst: '10.244.2.0/24', via: '10.200.0.12' }]);
  assert.deepEqual(routes.map((r) => r.dst).sort(), ['10.244.1.0/24', '10.244.2.0/24']);
});
