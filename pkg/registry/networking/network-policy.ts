/** NetworkPolicy (networking.k8s.io/v1): the strategy and resource definition. */
import { isIP } from 'node:net';
import type { ResourceDef, Strategy } from '../types.js';
import { type FieldError, invalidField, notSupported, required, forbidden } from '../../api/field-errors.js';
import { col, nameColumn, ageColumn, age } from '../../printers/format.js';
import { formatSelector } from '../../printers/workloads.js';
import { validateLabelSelector } from '../../api/validation.js';
import { guarded } from '../guarded.js';
import { isValidPortName, isValidPortNum } from './ingress.js';

const protocols = ['TCP', 'UDP', 'SCTP'];
const policyTypes = ['Ingress', 'Egress'];

/** A CIDR as a [family, network bits as bigint, prefix length], or undefined when malformed. */
function parseCIDR(cidr: string): [4 | 6, bigint, number] | undefined {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(cidr);
  if (!m) return undefined;
  const family = isIP(m[1]!) as 0 | 4 | 6;
  const bits = Number(m[2]);
  if (family === 0 || bits > (family === 4 ? 32 : 128)) return undefined;
  let value = 0n;
  if (family === 4) for (const part of m[1]!.split('.')) value = (value << 8n) | BigInt(Number(part));
  else {
    const [head, tail] = m[1]!.split('::') as [string, string | undefined];
    const h = head ? head.split(':') : [];
    const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
    const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
    if (groups.some((g) => g.includes('.'))) return undefined;
    for (const g of groups) value = (value << 16n) | BigInt(parseInt(g || '0', 16));
  }
  const width = family === 4 ? 32 : 128;
  const mask = bits === 0 ? 0n : ((1n << BigInt(bits)) - 1n) << BigInt(width - bits);
  return [family, value & mask, bits];
}

const cidrMsg = 'must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)';

/** ValidateIPBlock: a CIDR, and exceptions strictly inside it. */
function validateIPBlock(ipb: any, path: string): FieldError[] {
  if (!ipb.cidr) return [required(`${path}.cidr`, '')];
  const net = parseCIDR(ipb.cidr);
  if (!net) return [invalidField(`${path}.cidr`, ipb.cidr, cidrMsg)];
  const errs: FieldError[] = [];
  (ipb.except ?? []).forEach((e: string, i: number) => {
    const p = `${path}.except[${i}]`;
    const ex = parseCIDR(e);
    if (!ex) {
      errs.push(invalidField(p, e, cidrMsg));
      return;
    }
    const width = net[0] === 4 ? 32 : 128;
    const inside = ex[0] === net[0] && ex[2] > net[2] && (ex[1] >> BigInt(width - net[2])) === (net[1] >> BigInt(width - net[2]));
    if (!inside) errs.push(invalidField(p, e, 'must be a strict subset of `cidr`'));
  });
  return errs;
}

function validatePort(port: any, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (port.protocol !== undefined && port.protocol !== null && !protocols.includes(port.protocol)) errs.push(notSupported(`${path}.protocol`, port.protocol, protocols));
  const has = (v: unknown) => v !== undefined && v !== null;
  if (has(port.port)) {
    if (typeof port.port === 'number') {
      errs.push(...isValidPortNum(port.port).map((m) => invalidField(`${path}.port`, port.port, m)));
      if (has(port.endPort)) {
        if (port.endPort < port.port) errs.push(invalidField(`${path}.endPort`, port.port, 'must be greater than or equal to `port`'));
        errs.push(...isValidPortNum(port.endPort).map((m) => invalidField(`${path}.endPort`, port.endPort, m)));
      }
    } else {
      if (has(port.endPort)) errs.push(invalidField(`${path}.endPort`, port.endPort, 'may not be specified when `port` is non-numeric'));
      errs.push(...isValidPortName(String(port.port)).map((m) => invalidField(`${path}.port`, port.port, m)));
    }
  } else if (has(port.endPort)) errs.push(invalidField(`${path}.endPort`, port.endPort, 'may not be specified when `port` is not specified'));
  return errs;
}

function validatePeer(peer: any, path: string): FieldError[] {
  const errs: FieldError[] = [];
  let n = 0;
  if (peer.podSelector) {
    n++;
    errs.push(...validateLabelSelector(peer.podSelector, `${path}.podSelector`));
  }
  if (peer.namespaceSelector) {
    n++;
    errs.push(...validateLabelSelector(peer.namespaceSelector, `${path}.namespaceSelector`));
  }
  if (peer.ipBlock) {
    n++;
    errs.push(...validateIPBlock(peer.ipBlock, `${path}.ipBlock`));
  }
  if (n === 0) errs.push(required(path, 'must specify a peer'));
  else if (n > 1 && peer.ipBlock) errs.push(forbidden(path, 'may not specify both ipBlock and another peer'));
  return errs;
}

/** ValidateNetworkPolicySpec. */
function validateSpec(spec: any): FieldError[] {
  const errs: FieldError[] = [...validateLabelSelector(spec.podSelector ?? {}, 'spec.podSelector')];
  for (const [dir, peers] of [['ingress', 'from'], ['egress', 'to']] as const) {
    (spec[dir] ?? []).forEach((rule: any, i: number) => {
      const p = `spec.${dir}[${i}]`;
      (rule.ports ?? []).forEach((port: any, j: number) => errs.push(...validatePort(port, `${p}.ports[${j}]`)));
      (rule[peers] ?? []).forEach((peer: any, j: number) => errs.push(...validatePeer(peer, `${p}.${peers}[${j}]`)));
    });
  }
  const types: unknown[] = spec.policyTypes ?? [];
  if (types.length > 2) return [...errs, invalidField('spec.policyTypes', types, 'may not specify more than two policyTypes')];
  types.forEach((t, i) => {
    if (!policyTypes.includes(t as string)) errs.push(notSupported(`spec.policyTypes[${i}]`, t, policyTypes));
  });
  return errs;
}

export const networkPolicyStrategy: Strategy = guarded({
  generation: true,
  defaults(obj) {
    obj.spec ??= {};
    const spec = obj.spec;
    // A policy that names no types is about ingress, and about egress too if it has egress rules.
    if (!(spec.policyTypes ?? []).length) spec.policyTypes = (spec.egress ?? []).length ? ['Ingress', 'Egress'] : ['Ingress'];
    for (const dir of ['ingress', 'egress']) {
      for (const rule of spec[dir] ?? []) for (const port of rule.ports ?? []) port.protocol ??= 'TCP';
    }
    spec.podSelector ??= {};
  },
  validate(obj) {
    return validateSpec(obj.spec ?? {});
  },
  table: {
    columns: [nameColumn, col('Pod-Selector', 'string', 'podSelector selects the pods to which this NetworkPolicy object applies.'), ageColumn],
    row: (obj, now) => [obj.metadata.name, formatSelector(obj.spec?.podSelector ?? {}), age(obj, now)],
  },
});

export const networkPolicyResource: ResourceDef = {
  group: 'networking.k8s.io',
  version: 'v1',
  kind: 'NetworkPolicy',
  plural: 'networkpolicies',
  singular: 'networkpolicy',
  namespaced: true,
  shortNames: ['netpol'],
  strategy: networkPolicyStrategy,
};
