import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { EndpointSlice, Service } from '../api/types.js';
import { base32, endpointChain, isServiceChainName, serviceClusterChain, serviceExternalChain, serviceFirewallChain, serviceLocalChain } from './chains.js';
import { buildProxyRules, masqueradeMark, nodePortAddressesContainLoopback, parseSavedChains, probability, renderCleanup, renderRestore, type RulesInput } from './rules.js';

function svc(name: string, spec: Record<string, any>, extra: Record<string, any> = {}): Service {
  return { apiVersion: 'v1', kind: 'Service', metadata: { namespace: 'ns', name, ...(extra.metadata ?? {}) }, spec: { type: 'ClusterIP', ...spec }, status: extra.status } as Service;
}

interface Ep {
  ip: string;
  ready?: boolean;
  serving?: boolean;
  terminating?: boolean;
  node?: string;
}

function slice(svcName: string, sliceName: string, ports: { name?: string; port: number; protocol?: string }[], eps: Ep[], ns = 'ns'): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { namespace: ns, name: sliceName, labels: { 'kubernetes.io/service-name': svcName } },
    addressType: 'IPv4',
    ports: ports.map((p) => ({ protocol: 'TCP', ...p })),
    endpoints: eps.map((e) => ({
      addresses: [e.ip],
      nodeName: e.node,
      conditions: { ready: e.ready ?? true, serving: e.serving ?? e.ready ?? true, terminating: e.terminating ?? false },
    })),
  } as EndpointSlice;
}

function input(services: Service[], slices: EndpointSlice[], over: Partial<RulesInput> = {}): RulesInput {
  return { services, endpointSlices: slices, nodeName: 'node-a', clusterCIDR: '10.244.0.0/16', ...over };
}

/** The restore text as lines, for `includes` checks. */
function lines(i: RulesInput, existing: string[] = []): string[] {
  return renderRestore(buildProxyRules(i), existing).split('\n');
}

/** The lines of one table section. */
function table(all: string[], name: 'filter' | 'nat'): string[] {
  const start = all.indexOf(`*${name}`);
  return all.slice(start, all.indexOf('COMMIT', start));
}

const web = svc('web', { clusterIP: '10.96.0.10', clusterIPs: ['10.96.0.10'], ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080 }] });
const webSVC = serviceClusterChain('ns/web:http', 'tcp');

test('chain names match upstream: sha256 + base32 of port name and protocol, 16 characters', () => {
  // Values as seen on every kubeadm cluster.
  assert.equal(serviceClusterChain('default/kubernetes:https', 'tcp'), 'KUBE-SVC-NPX46M4PTMTKRN6Y');
  assert.equal(serviceClusterChain('kube-system/kube-dns:dns', 'udp'), 'KUBE-SVC-TCOU7JCQXEZGVUNU');
  assert.equal(serviceClusterChain('kube-system/kube-dns:dns-tcp', 'tcp'), 'KUBE-SVC-ERIFXISQEP7F7OF4');
  assert.equal(serviceExternalChain('default/kubernetes:https', 'tcp'), 'KUBE-EXT-NPX46M4PTMTKRN6Y');
  assert.equal(serviceLocalChain('default/kubernetes:https', 'tcp'), 'KUBE-SVL-NPX46M4PTMTKRN6Y');
  assert.equal(serviceFirewallChain('default/kubernetes:https', 'tcp'), 'KUBE-FW-NPX46M4PTMTKRN6Y');
  assert.match(endpointChain('ns/web:http', 'tcp', '10.244.1.5:8080'), /^KUBE-SEP-[A-Z2-7]{16}$/);
  assert.notEqual(endpointChain('ns/web:http', 'tcp', '10.244.1.5:8080'), endpointChain('ns/web:http', 'tcp', '10.244.1.6:8080'));
  // RFC 4648 test vectors.
  assert.equal(base32(Buffer.from('foobar')), 'MZXW6YTBOI======');
  assert.equal(base32(Buffer.from('f')), 'MY======');
  assert.ok(isServiceChainName('KUBE-SEP-ABC') && isServiceChainName('KUBE-EXT-X') && !isServiceChainName('KUBE-SERVICES') && !isServiceChainName('DOCKER'));
});

test('helpers: mark, probabilities and loopback detection', () => {
  assert.equal(masqueradeMark(14), '0x004000');
  assert.equal(masqueradeMark(15), '0x008000');
  assert.equal(probability(3), '0.3333333333');
  assert.equal(probability(2), '0.5000000000');
  assert.ok(nodePortAddressesContainLoopback([]));
  assert.ok(nodePortAddressesContainLoopback(['127.0.0.0/8']));
  assert.ok(nodePortAddressesContainLoopback(['0.0.0.0/0']));
  assert.ok(!nodePortAddressesContainLoopback(['10.0.0.0/8']));
});

test('a ClusterIP service spreads over its ready endpoints with a probability cascade', () => {
  const all = lines(input([web], [slice('web', 'web-1', [{ name: 'http', port: 8080 }], [{ ip: '10.244.1.7' }, { ip: '10.244.1.5' }, { ip: '10.244.2.6' }, { ip: '10.244.2.9', ready: false }])]));
  const nat = table(all, 'nat');
  const sep = (ip: string) => endpointChain('ns/web:http', 'tcp', `${ip}:8080`);
  assert.ok(nat.includes(`-A KUBE-SERVICES -m comment --comment "ns/web:http cluster IP" -p tcp -m tcp -d 10.96.0.10 --dport 80 -j ${webSVC}`));
  assert.ok(nat.includes(`-A ${webSVC} -m comment --comment "ns/web:http cluster IP" -p tcp -m tcp -d 10.96.0.10 --dport 80 ! -s 10.244.0.0/16 -j KUBE-MARK-MASQ`));
  const spread = nat.filter((l) => l.startsWith(`-A ${webSVC} `) && l.includes(' -> '));
  assert.deepEqual(spread, [
    `-A ${webSVC} -m comment --comment "ns/web:http -> 10.244.1.5:8080" -m statistic --mode random --probability 0.3333333333 -j ${sep('10.244.1.5')}`,
    `-A ${webSVC} -m comment --comment "ns/web:http -> 10.244.1.7:8080" -m statistic --mode random --probability 0.5000000000 -j ${sep('10.244.1.7')}`,
    `-A ${webSVC} -m comment --comment "ns/web:http -> 10.244.2.6:8080" -j ${sep('10.244.2.6')}`,
  ]);
  assert.ok(nat.includes(`:${sep('10.244.1.5')} - [0:0]`));
  assert.ok(nat.includes(`-A ${sep('10.244.1.5')} -m comment --comment ns/web:http -s 10.244.1.5 -j KUBE-MARK-MASQ`));
  assert.ok(nat.includes(`-A ${sep('10.244.1.5')} -m comment --comment ns/web:http -p tcp -m tcp -j DNAT --to-destination 10.244.1.5:8080`));
  assert.ok(!nat.some((l) => l.includes('10.244.2.9')), 'a not-ready endpoint gets no rules');
  assert.ok(!table(all, 'filter').some((l) => l.includes('ns/web')), 'no REJECT while endpoints exist');
});

test('the fixed chains: postrouting masquerade, mark, forward rules, and the NodePort tail call last', () => {
  const all = lines(input([web], []));
  const nat = table(all, 'nat');
  for (const c of ['KUBE-SERVICES', 'KUBE-NODEPORTS', 'KUBE-POSTROUTING', 'KUBE-MARK-MASQ']) assert.ok(nat.includes(`:${c} - [0:0]`), c);
  assert.ok(nat.includes('-A KUBE-POSTROUTING -m mark ! --mark 0x004000/0x004000 -j RETURN'));
  assert.ok(nat.includes('-A KUBE-POSTROUTING -j MARK --xor-mark 0x004000'));
  assert.ok(nat.includes('-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully'));
  assert.ok(nat.includes('-A KUBE-MARK-MASQ -j MARK --or-mark 0x004000'));
  const svcRules = nat.filter((l) => l.startsWith('-A KUBE-SERVICES '));
  assert.equal(svcRules.at(-1), '-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS');
  const filter = table(all, 'filter');
  for (const c of ['KUBE-SERVICES', 'KUBE-EXTERNAL-SERVICES', 'KUBE-FORWARD', 'KUBE-NODEPORTS', 'KUBE-PROXY-FIREWALL', 'KUBE-FIREWALL']) assert.ok(filter.includes(`:${c} - [0:0]`), c);
  assert.ok(filter.includes('-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP'));
  assert.ok(filter.includes('-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x004000/0x004000 -j ACCEPT'));
  assert.ok(filter.includes('-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT'));
  assert.ok(filter.includes('-A KUBE-FIREWALL -m comment --comment "block incoming localnet connections" -d 127.0.0.0/8 ! -s 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP'));
  assert.deepEqual(all.slice(0, 1), ['*filter']);
  assert.equal(all.filter((l) => l === 'COMMIT').length, 2);
  assert.ok(!table(lines(input([web], [], { conntrackTCPLiberal: true })), 'filter').includes('-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP'));
});

test('no ready endpoints: REJECT in filter KUBE-SERVICES and no nat chains for the service', () => {
  for (const slices of [[], [slice('web', 'web-1', [{ name: 'http', port: 8080 }], [{ ip: '10.244.1.5', ready: false, serving: false }])]]) {
    const all = lines(input([web], slices));
    assert.ok(table(all, 'filter').includes('-A KUBE-SERVICES -m comment --comment "ns/web:http has no endpoints" -p tcp -m tcp -d 10.96.0.10 --dport 80 -j REJECT'));
    assert.ok(!table(all, 'nat').some((l) => l.includes('ns/web')));
  }
});

test('with no ready endpoint, serving endpoints that are terminating still take traffic', () => {
  const all = lines(input([web], [slice('web', 'web-1', [{ name: 'http', port: 8080 }], [{ ip: '10.244.1.5', ready: false, serving: true, terminating: true }, { ip: '10.244.1.6', ready: false, serving: false, terminating: true }])]));
  const nat = table(all, 'nat');
  assert.ok(nat.includes(`-A ${webSVC} -m comment --comment "ns/web:http -> 10.244.1.5:8080" -j ${endpointChain('ns/web:http', 'tcp', '10.244.1.5:8080')}`));
  assert.ok(!nat.some((l) => l.includes('10.244.1.6')));
});

test('slices are matched by port name and protocol; duplicates across slices count once', () => {
  const multi = svc('multi', {
    clusterIP: '10.96.0.20',
    ports: [
      { name: 'dns', port: 53, protocol: 'UDP' },
      { name: 'dns-tcp', port: 53, protocol: 'TCP' },
    ],
  });
  const slices = [
    slice('multi', 'multi-a', [{ name: 'dns', port: 5353, protocol: 'UDP' }, { name: 'dns-tcp', port: 5353, protocol: 'TCP' }], [{ ip: '10.244.1.2' }]),
    slice('multi', 'multi-b', [{ name: 'dns', port: 5353, protocol: 'UDP' }], [{ ip: '10.244.1.2' }, { ip: '10.244.1.3' }]),
    // Another service's slice and a non-IPv4 slice are ignored.
    slice('other', 'other-a', [{ name: 'dns', port: 5353, protocol: 'UDP' }], [{ ip: '10.244.9.9' }]),
    { ...slice('multi', 'multi-v6', [{ name: 'dns', port: 5353, protocol: 'UDP' }], [{ ip: 'fd00::1' }]), addressType: 'IPv6' } as EndpointSlice,
  ];
  const nat = table(lines(input([multi], slices)), 'nat');
  const udpSVC = serviceClusterChain('ns/multi:dns', 'udp');
  const tcpSVC = serviceClusterChain('ns/multi:dns-tcp', 'tcp');
  assert.ok(nat.includes(`-A KUBE-SERVICES -m comment --comment "ns/multi:dns cluster IP" -p udp -m udp -d 10.96.0.20 --dport 53 -j ${udpSVC}`));
  assert.equal(nat.filter((l) => l.startsWith(`-A ${udpSVC} `) && l.includes(' -> ')).length, 2);
  assert.equal(nat.filter((l) => l.startsWith(`-A ${tcpSVC} `) && l.includes(' -> ')).length, 1);
  assert.ok(nat.includes(`-A ${endpointChain('ns/multi:dns', 'udp', '10.244.1.3:5353')} -m comment --comment ns/multi:dns -p udp -m udp -j DNAT --to-destination 10.244.1.3:5353`));
  assert.ok(!nat.some((l) => l.includes('10.244.9.9') || l.includes('fd00')));
});

test('an unnamed port is named ns/name; ExternalName, headless and other proxies\' services are skipped', () => {
  const plain = svc('plain', { clusterIP: '10.96.0.30', ports: [{ port: 80 }] });
  const headless = svc('headless', { clusterIP: 'None', ports: [{ port: 80 }] });
  const ext = svc('ext', { type: 'ExternalName', externalName: 'example.com' });
  const other = svc('other', { clusterIP: '10.96.0.31', ports: [{ port: 80 }] }, { metadata: { labels: { 'service.kubernetes.io/service-proxy-name': 'someone-else' } } });
  const all = lines(input([plain, headless, ext, other], []));
  assert.ok(table(all, 'filter').includes('-A KUBE-SERVICES -m comment --comment "ns/plain has no endpoints" -p tcp -m tcp -d 10.96.0.30 --dport 80 -j REJECT'));
  assert.ok(!all.some((l) => l.includes('headless') || l.includes('ns/ext') || l.includes('ns/other')));
  const withEndpoint = buildProxyRules(input([plain], [slice('plain', 'p', [{ port: 80 }], [{ ip: '10.244.1.1' }])]));
  assert.ok(withEndpoint.activeNatChains.has(serviceClusterChain('ns/plain', 'tcp')));
  assert.ok(withEndpoint.activeNatChains.has(endpointChain('ns/plain', 'tcp', '10.244.1.1:80')));
});

test('NodePort: KUBE-NODEPORTS jumps to the EXT chain, which masquerades; without endpoints KUBE-EXTERNAL-SERVICES rejects', () => {
  const np = svc('np', { type: 'NodePort', clusterIP: '10.96.0.40', ports: [{ port: 80, nodePort: 30080 }] });
  const ext = serviceExternalChain('ns/np', 'tcp');
  const nat = table(lines(input([np], [slice('np', 'np-1', [{ port: 8080 }], [{ ip: '10.244.1.5' }])])), 'nat');
  assert.ok(nat.includes(`-A KUBE-NODEPORTS -m comment --comment ns/np -p tcp -m tcp --dport 30080 -j ${ext}`));
  assert.ok(nat.includes(`:${ext} - [0:0]`));
  assert.ok(nat.includes(`-A ${ext} -m comment --comment "masquerade traffic for ns/np external destinations" -j KUBE-MARK-MASQ`));
  assert.ok(nat.includes(`-A ${ext} -j ${serviceClusterChain('ns/np', 'tcp')}`));
  const empty = lines(input([np], []));
  assert.ok(table(empty, 'filter').includes('-A KUBE-EXTERNAL-SERVICES -m comment --comment "ns/np has no endpoints" -m addrtype --dst-type LOCAL -p tcp -m tcp --dport 30080 -j REJECT'));
  assert.ok(!table(empty, 'nat').some((l) => l.includes('30080')));
  // A ClusterIP service keeps no nodePort even if one is left in the spec.
  const cip = svc('cip', { clusterIP: '10.96.0.41', ports: [{ port: 80, nodePort: 30081 }] });
  assert.ok(!lines(input([cip], [])).some((l) => l.includes('30081')));
});

test('sessionAffinity ClientIP: recent --rcheck per endpoint before the spread, recent --set in the endpoint chain', () => {
  const sticky = svc('sticky', { clusterIP: '10.96.0.50', sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 600 } }, ports: [{ port: 80 }] });
  const nat = table(lines(input([sticky], [slice('sticky', 's-1', [{ port: 8080 }], [{ ip: '10.244.1.5' }, { ip: '10.244.1.6' }])])), 'nat');
  const svcChain = serviceClusterChain('ns/sticky', 'tcp');
  const sep5 = endpointChain('ns/sticky', 'tcp', '10.244.1.5:8080');
  const rules = nat.filter((l) => l.startsWith(`-A ${svcChain} `) && l.includes(' -> '));
  assert.equal(rules[0], `-A ${svcChain} -m comment --comment "ns/sticky -> 10.244.1.5:8080" -m recent --name ${sep5} --rcheck --seconds 600 --reap -j ${sep5}`);
  assert.match(rules[1]!, /--rcheck --seconds 600 --reap/);
  assert.match(rules[2]!, /--probability 0.5000000000/);
  assert.ok(nat.includes(`-A ${sep5} -m comment --comment ns/sticky -m recent --name ${sep5} --set -p tcp -m tcp -j DNAT --to-destination 10.244.1.5:8080`));
  const defaulted = svc('d', { clusterIP: '10.96.0.51', sessionAffinity: 'ClientIP', ports: [{ port: 80 }] });
  assert.ok(lines(input([defaulted], [slice('d', 'd-1', [{ port: 80 }], [{ ip: '10.244.1.5' }])])).some((l) => l.includes('--seconds 10800 --reap')));
});

test('masquerade: --masquerade-all marks all cluster-IP traffic; without a cluster CIDR nothing is marked', () => {
  const s = [slice('web', 'web-1', [{ name: 'http', port: 8080 }], [{ ip: '10.244.1.5' }])];
  const all = table(lines(input([web], s, { masqueradeAll: true })), 'nat');
  assert.ok(all.includes(`-A ${webSVC} -m comment --comment "ns/web:http cluster IP" -p tcp -m tcp -d 10.96.0.10 --dport 80 -j KUBE-MARK-MASQ`));
  const none = table(lines(input([web], s, { clusterCIDR: undefined })), 'nat');
  assert.ok(!none.some((l) => l.startsWith(`-A ${webSVC} `) && l.includes('KUBE-MARK-MASQ')));
});

test('externalTrafficPolicy Local: EXT goes to the SVL chain of local endpoints, with short-circuits for pods and the node', () => {
  const lb = svc('lb', { type: 'NodePort', externalTrafficPolicy: 'Local', clusterIP: '10.96.0.60', ports: [{ port: 80, nodePort: 30060 }] });
  const eps = [{ ip: '10.244.1.5', node: 'node-a' }, { ip: '10.244.2.5', node: 'node-b' }];
  const nat = table(lines(input([lb], [slice('lb', 'lb-1', [{ port: 8080 }], eps)])), 'nat');
  const ext = serviceExternalChain('ns/lb', 'tcp');
  const svl = serviceLocalChain('ns/lb', 'tcp');
  const svcChain = serviceClusterChain('ns/lb', 'tcp');
  assert.ok(nat.includes(`-A ${ext} -m comment --comment "pod traffic for ns/lb external destinations" -s 10.244.0.0/16 -j ${svcChain}`));
  assert.ok(nat.includes(`-A ${ext} -m comment --comment "masquerade LOCAL traffic for ns/lb external destinations" -m addrtype --src-type LOCAL -j KUBE-MARK-MASQ`));
  assert.ok(nat.includes(`-A ${ext} -m comment --comment "route LOCAL traffic for ns/lb external destinations" -m addrtype --src-type LOCAL -j ${svcChain}`));
  assert.ok(nat.includes(`-A ${ext} -j ${svl}`));
  assert.deepEqual(
    nat.filter((l) => l.startsWith(`-A ${svl} `)),
    [`-A ${svl} -m comment --comment "ns/lb -> 10.244.1.5:8080" -j ${endpointChain('ns/lb', 'tcp', '10.244.1.5:8080')}`],
  );
  assert.equal(nat.filter((l) => l.startsWith(`-A ${svcChain} `) && l.includes(' -> ')).length, 2, 'the cluster IP still uses every endpoint');

  // No local endpoint: the EXT chain keeps its short-circuits but external traffic is dropped.
  const remote = lines(input([lb], [slice('lb', 'lb-1', [{ port: 8080 }], [{ ip: '10.244.2.5', node: 'node-b' }])]));
  assert.ok(table(remote, 'filter').includes('-A KUBE-EXTERNAL-SERVICES -m comment --comment "ns/lb has no local endpoints" -m addrtype --dst-type LOCAL -p tcp -m tcp --dport 30060 -j DROP'));
  assert.ok(!table(remote, 'nat').includes(`-A ${ext} -j ${svl}`));
  assert.ok(!table(remote, 'nat').includes(`:${svl} - [0:0]`));
  assert.equal(buildProxyRules(input([lb], [slice('lb', 'lb-1', [{ port: 8080 }], [{ ip: '10.244.2.5', node: 'node-b' }])])).noLocalEndpointsExternal, 1);
});

test('internalTrafficPolicy Local without a local endpoint drops cluster-IP traffic', () => {
  const loc = svc('loc', { internalTrafficPolicy: 'Local', clusterIP: '10.96.0.70', ports: [{ port: 80 }] });
  const rules = buildProxyRules(input([loc], [slice('loc', 'loc-1', [{ port: 80 }], [{ ip: '10.244.2.5', node: 'node-b' }])]));
  assert.ok(rules.filterRules.includes('-A KUBE-SERVICES -m comment --comment "ns/loc has no local endpoints" -p tcp -m tcp -d 10.96.0.70 --dport 80 -j DROP'));
  assert.equal(rules.noLocalEndpointsInternal, 1);
  assert.equal(rules.activeNatChains.size, 0);
  const local = buildProxyRules(input([loc], [slice('loc', 'loc-1', [{ port: 80 }], [{ ip: '10.244.1.5', node: 'node-a' }, { ip: '10.244.2.5', node: 'node-b' }])]));
  const svl = serviceLocalChain('ns/loc', 'tcp');
  assert.ok(local.natRules.includes(`-A KUBE-SERVICES -m comment --comment "ns/loc cluster IP" -p tcp -m tcp -d 10.96.0.70 --dport 80 -j ${svl}`));
  assert.ok(!local.activeNatChains.has(serviceClusterChain('ns/loc', 'tcp')));
  assert.ok(!local.activeNatChains.has(endpointChain('ns/loc', 'tcp', '10.244.2.5:80')));
});

test('external IPs and load-balancer IPs, with loadBalancerSourceRanges through a firewall chain', () => {
  const lb = svc(
    'lb',
    { type: 'LoadBalancer', clusterIP: '10.96.0.80', externalIPs: ['192.0.2.10'], loadBalancerSourceRanges: ['198.51.100.0/24'], ports: [{ port: 443, nodePort: 30443 }] },
    { status: { loadBalancer: { ingress: [{ ip: '203.0.113.7' }] } } },
  );
  const ext = serviceExternalChain('ns/lb', 'tcp');
  const fw = serviceFirewallChain('ns/lb', 'tcp');
  const all = lines(input([lb], [slice('lb', 'lb-1', [{ port: 8443 }], [{ ip: '10.244.1.5' }])]));
  const nat = table(all, 'nat');
  assert.ok(nat.includes(`-A KUBE-SERVICES -m comment --comment "ns/lb external IP" -p tcp -m tcp -d 192.0.2.10 --dport 443 -j ${ext}`));
  assert.ok(nat.includes(`-A KUBE-SERVICES -m comment --comment "ns/lb loadbalancer IP" -p tcp -m tcp -d 203.0.113.7 --dport 443 -j ${fw}`));
  assert.ok(nat.includes(`-A ${fw} -m comment --comment "ns/lb loadbalancer IP" -s 198.51.100.0/24 -j ${ext}`));
  assert.ok(nat.includes(`-A ${fw} -m comment --comment "other traffic to ns/lb will be dropped by KUBE-PROXY-FIREWALL"`));
  assert.ok(table(all, 'filter').includes(`-A KUBE-PROXY-FIREWALL -m comment --comment "ns/lb traffic not accepted by ${fw}" -p tcp -m tcp -d 203.0.113.7 --dport 443 -j DROP`));
  const empty = table(lines(input([lb], [])), 'filter');
  assert.ok(empty.includes('-A KUBE-EXTERNAL-SERVICES -m comment --comment "ns/lb has no endpoints" -p tcp -m tcp -d 192.0.2.10 --dport 443 -j REJECT'));
  assert.ok(empty.includes('-A KUBE-EXTERNAL-SERVICES -m comment --comment "ns/lb has no endpoints" -p tcp -m tcp -d 203.0.113.7 --dport 443 -j REJECT'));
});

test('--nodeport-addresses limits the NodePort tail call to matching node IPs; localhost NodePorts can be turned off', () => {
  const some = table(lines(input([web], [], { nodePortAddresses: ['10.0.0.0/8', '127.0.0.0/8'], nodeIPs: ['10.1.2.3', '127.0.0.1', '192.168.1.1'] })), 'nat');
  const tail = some.filter((l) => l.includes('KUBE-NODEPORTS') && l.startsWith('-A KUBE-SERVICES'));
  assert.deepEqual(tail, [
    '-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -d 10.1.2.3 -j KUBE-NODEPORTS',
    '-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -d 127.0.0.1 -j KUBE-NODEPORTS',
  ]);
  const noLo = lines(input([web], [], { localhostNodePorts: false }));
  assert.ok(table(noLo, 'nat').includes('-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL ! -d 127.0.0.0/8 -j KUBE-NODEPORTS'));
  assert.ok(!table(noLo, 'filter').includes(':KUBE-FIREWALL - [0:0]'));
  const noLoCIDR = lines(input([web], [], { nodePortAddresses: ['10.0.0.0/8'], nodeIPs: ['10.1.2.3'] }));
  assert.ok(!table(noLoCIDR, 'filter').includes(':KUBE-FIREWALL - [0:0]'));
});

test('output is deterministic: input order does not matter', () => {
  const a = svc('a', { clusterIP: '10.96.0.91', ports: [{ port: 80 }] });
  const b = svc('b', { clusterIP: '10.96.0.92', ports: [{ port: 80 }] });
  const sa = slice('a', 'a-1', [{ port: 80 }], [{ ip: '10.244.1.2' }, { ip: '10.244.1.1' }]);
  const sb = slice('b', 'b-1', [{ port: 80 }], [{ ip: '10.244.1.3' }]);
  assert.equal(renderRestore(buildProxyRules(input([a, b], [sa, sb]))), renderRestore(buildProxyRules(input([b, a], [sb, sa]))));
});

test('stale per-service chains are flushed and deleted; other chains are left alone', () => {
  const rules = buildProxyRules(input([web], [slice('web', 'web-1', [{ name: 'http', port: 8080 }], [{ ip: '10.244.1.5' }])]));
  const out = renderRestore(rules, ['KUBE-SERVICES', webSVC, 'KUBE-SVC-GONEGONEGONEGONE', 'KUBE-SEP-OLDOLDOLDOLDOLDO', 'DOCKER', 'CNI-abc']).split('\n');
  const nat = table(out, 'nat');
  assert.ok(nat.includes(':KUBE-SVC-GONEGONEGONEGONE - [0:0]'));
  assert.ok(nat.includes('-X KUBE-SVC-GONEGONEGONEGONE'));
  assert.ok(nat.includes('-X KUBE-SEP-OLDOLDOLDOLDOLDO'));
  assert.ok(!nat.some((l) => l.includes('DOCKER') || l.includes('CNI-') || l === `-X ${webSVC}`));
  assert.ok(nat.indexOf('-X KUBE-SVC-GONEGONEGONEGONE') > nat.findLastIndex((l) => l.startsWith('-A ')), 'deletions come after every rule');
});

test('parseSavedChains and renderCleanup', () => {
  const saved = `# Generated by iptables-save\n*nat\n:PREROUTING ACCEPT [0:0]\n:KUBE-SERVICES - [0:0]\n:KUBE-SVC-AAAA - [3:180]\n:DOCKER - [0:0]\n-A PREROUTING -j KUBE-SERVICES\nCOMMIT\n`;
  assert.deepEqual(parseSavedChains(saved), ['PREROUTING', 'KUBE-SERVICES', 'KUBE-SVC-AAAA', 'DOCKER']);
  assert.equal(
    renderCleanup('nat', parseSavedChains(saved), ['KUBE-SERVICES', 'KUBE-NODEPORTS']),
    '*nat\n:KUBE-SERVICES - [0:0]\n:KUBE-SVC-AAAA - [0:0]\n-X KUBE-SERVICES\n-X KUBE-SVC-AAAA\nCOMMIT\n',
  );
  assert.equal(renderCleanup('filter', ['INPUT', 'DOCKER'], ['KUBE-SERVICES']), '');
});
