/** Node (core/v1): the strategy and resource definition. */
import { isIP } from 'node:net';
import type { ResourceDef, Strategy, TableColumn } from '../types.js';
import type { StoredObject } from '../../api/types.js';
import { type FieldError, invalidField, forbidden, duplicate } from '../../api/field-errors.js';
import { deepEqual } from '../../api/meta.js';
import { defaultResourceList } from '../../api/quantity.js';
import { col, nameColumn, ageColumn, age } from '../../printers/format.js';
import { nodeRoles } from '../../printers/core.js';
import { type Obj, isObj, arr, str, validateLabelName, validateTaintEffect, validateResourceQuantityValue, validateCIDR } from './pod-spec.js';
import { isValidLabelValue } from '../../api/validation.js';

const specOf = (o: StoredObject): Obj => (isObj(o.spec) ? o.spec : {});
const statusOf = (o: StoredObject): Obj => (isObj(o.status) ? o.status : {});

/** SetDefaults_NodeStatus and the v1 podCIDR/podCIDRs conversion. */
function defaultNode(obj: StoredObject): void {
  const spec = specOf(obj);
  if (isObj(obj.spec)) {
    const cidrs = arr(spec.podCIDRs);
    // podCIDR is authoritative when both are set and disagree, as for old clients.
    if (str(spec.podCIDR) && (cidrs.length === 0 || cidrs[0] !== spec.podCIDR)) spec.podCIDRs = [spec.podCIDR];
    if (arr(spec.podCIDRs).length > 0) spec.podCIDR = spec.podCIDRs[0];
  }
  if (isObj(obj.status)) {
    const st = obj.status;
    defaultResourceList(st.capacity);
    defaultResourceList(st.allocatable);
    if ((st.allocatable === undefined || st.allocatable === null) && isObj(st.capacity)) st.allocatable = { ...st.capacity };
  }
}

function validateTaints(taints: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const seen = new Map<string, Set<string>>();
  arr(taints).forEach((t: any, i: number) => {
    const p = `${path}[${i}]`;
    errs.push(...validateLabelName(t?.key, `${p}.key`));
    const ve = isValidLabelValue(str(t?.value));
    if (ve.length) errs.push(invalidField(`${p}.value`, str(t?.value), ve.join(';')));
    errs.push(...validateTaintEffect(t?.effect, false, `${p}.effect`));
    const effect = str(t?.effect);
    const keys = seen.get(effect) ?? new Set<string>();
    if (keys.has(str(t?.key))) {
      errs.push({ ...duplicate(p, t), detail: 'taints must be unique by key and effect pair' });
      return;
    }
    keys.add(str(t?.key));
    seen.set(effect, keys);
  });
  return errs;
}

function validateNodeResources(node: StoredObject): FieldError[] {
  const errs: FieldError[] = [];
  const st = statusOf(node);
  for (const f of ['capacity', 'allocatable']) {
    if (!isObj(st[f])) continue;
    for (const [k, v] of Object.entries(st[f])) errs.push(...validateResourceQuantityValue(k, v, `status.${f}.${k}`));
  }
  return errs;
}

/** ValidateNode (create). Upstream reports taints under metadata, and so does this. */
export function validateNode(node: StoredObject): FieldError[] {
  const spec = specOf(node);
  const errs = validateTaints(spec.taints, 'metadata.taints');
  errs.push(...validateNodeResources(node));
  const cidrs = arr(spec.podCIDRs);
  cidrs.forEach((c: unknown, i: number) => errs.push(...validateCIDR(c, `spec.podCIDRs[${i}]`)));
  if (cidrs.length > 1) {
    const fam = (c: unknown) => isIP(str(c).split('/')[0] ?? '');
    if (cidrs.length > 2 || fam(cidrs[0]) === fam(cidrs[1])) errs.push(invalidField('spec.podCIDRs', cidrs, 'may specify no more than one CIDR for each IP family'));
    const seen = new Set<string>();
    cidrs.forEach((c: unknown, i: number) => {
      if (seen.has(str(c))) errs.push(duplicate(`spec.podCIDRs[${i}]`, c));
      seen.add(str(c));
    });
  }
  return errs;
}

/** ValidateNodeUpdate: podCIDRs and providerID are set once; addresses are unique. */
export function validateNodeUpdate(node: StoredObject, old: StoredObject): FieldError[] {
  const spec = specOf(node);
  const o = specOf(old);
  const errs = validateNodeResources(node);
  const seen: unknown[] = [];
  arr(statusOf(node).addresses).forEach((a: unknown, i: number) => {
    if (seen.some((s) => deepEqual(s, a))) errs.push(duplicate(`status.addresses[${i}]`, a));
    seen.push(a);
  });
  const oldCIDRs = arr(o.podCIDRs);
  if (oldCIDRs.length > 0) {
    const cidrs = arr(spec.podCIDRs);
    const msg = 'node updates may not change podCIDR except from "" to valid';
    if (cidrs.length !== oldCIDRs.length) errs.push(forbidden('spec.podCIDRs', msg));
    else oldCIDRs.forEach((c: unknown, i: number) => c !== cidrs[i] && errs.push(forbidden('spec.podCIDRs', msg)));
  }
  if (str(o.providerID) && o.providerID !== spec.providerID) errs.push(forbidden('spec.providerID', 'node updates may not change providerID except from "" to valid'));
  errs.push(...validateTaints(spec.taints, 'metadata.taints'));
  if (str(spec.externalID) !== str(o.externalID)) errs.push(forbidden('spec.externalID', 'may not be updated'));
  return errs;
}

const nodeColumns: TableColumn[] = [
  nameColumn,
  col('Status', 'string', 'The status of the node'),
  col('Roles', 'string', 'The roles of the node'),
  ageColumn,
  col('Version', 'string', 'Kubelet Version reported by the node.'),
  col('Internal-IP', 'string', 'List of addresses reachable to the node. Queried from cloud provider, if available.', 1),
  col('External-IP', 'string', 'List of addresses reachable to the node. Queried from cloud provider, if available.', 1),
  col('OS-Image', 'string', 'OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).', 1),
  col('Kernel-Version', 'string', "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).", 1),
  col('Container-Runtime', 'string', 'ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).', 1),
];

/** printNode: Ready/NotReady/Unknown, then SchedulingDisabled for a cordoned node. */
export function nodeRow(node: StoredObject, now: Date): unknown[] {
  const st = statusOf(node);
  const ready = arr(st.conditions).filter((c: any) => c?.type === 'Ready').pop();
  const status: string[] = [];
  if (ready) status.push(ready.status === 'True' ? 'Ready' : 'NotReady');
  else status.push('Unknown');
  if (specOf(node).unschedulable === true) status.push('SchedulingDisabled');
  const roles = nodeRoles(node.metadata.labels).join(',') || '<none>';
  const info: Obj = isObj(st.nodeInfo) ? st.nodeInfo : {};
  const addr = (type: string) => str(arr(st.addresses).find((a: any) => a?.type === type)?.address) || '<none>';
  return [
    node.metadata.name,
    status.join(','),
    roles,
    age(node, now),
    str(info.kubeletVersion),
    addr('InternalIP'),
    addr('ExternalIP'),
    str(info.osImage) || '<unknown>',
    str(info.kernelVersion) || '<unknown>',
    str(info.containerRuntimeVersion) || '<unknown>',
  ];
}

export const nodeStrategy: Strategy = {
  hasStatus: true,
  defaults: defaultNode,
  // Unlike most kinds, a Node keeps the status it is created with: the kubelet registers with it.
  prepareForCreate(obj) {
    if (isObj(obj.spec)) delete obj.spec.configSource;
    if (isObj(obj.status)) delete obj.status.config;
  },
  validate: validateNode,
  validateUpdate: validateNodeUpdate,
  validateStatusUpdate: validateNodeUpdate,
  selectableFields: (obj) => ({ 'spec.unschedulable': String(specOf(obj).unschedulable === true) }),
  table: { columns: nodeColumns, row: nodeRow },
};

export const nodeResource: ResourceDef = {
  group: '',
  version: 'v1',
  kind: 'Node',
  plural: 'nodes',
  singular: 'node',
  namespaced: false,
  shortNames: ['no'],
  subresources: ['status'],
  strategy: nodeStrategy,
};
