/** Pod (core/v1): the strategy and resource definition. */
import type { ResourceDef, Strategy, TableColumn } from '../types.js';
import type { StoredObject, PodSpec } from '../../api/types.js';
import { type FieldError, invalidField, forbidden, required, duplicate } from '../../api/field-errors.js';
import { isQualifiedName } from '../../api/validation.js';
import { deepEqual, clone } from '../../api/meta.js';
import { tryParseQuantity, addQuantities, compareQuantities, type Quantity } from '../../api/quantity.js';
import { col, nameColumn, ageColumn, age, translateTimestampSince } from '../../printers/format.js';
import {
  type Obj,
  isObj,
  arr,
  str,
  defaultPodSpec,
  validatePodSpec,
  validateTolerations,
  validateIP,
  validateDNS1123Subdomain,
  inclusiveRangeError,
} from './pod-spec.js';

const mirrorPodAnnotation = 'kubernetes.io/config.mirror';
const podDeletionCostAnnotation = 'controller.kubernetes.io/pod-deletion-cost';

/**
 * GetPodQOS: Guaranteed when every container has equal cpu and memory limits and requests,
 * BestEffort when nothing sets any, Burstable otherwise. Init containers count as containers.
 */
export function computePodQOS(spec: unknown): 'Guaranteed' | 'Burstable' | 'BestEffort' {
  const s = isObj(spec) ? spec : {};
  const requests = new Map<string, Quantity>();
  const limits = new Map<string, Quantity>();
  const zero: Quantity = { m: 0n, e: 0, format: 'DecimalSI' };
  let guaranteed = true;
  const add = (m: Map<string, Quantity>, k: string, q: Quantity) => m.set(k, m.has(k) ? addQuantities(m.get(k)!, q) : q);
  for (const c of [...arr(s.containers), ...arr(s.initContainers)]) {
    const r = isObj(c?.resources) ? c.resources : {};
    for (const [name, raw] of Object.entries(isObj(r.requests) ? r.requests : {})) {
      if (name !== 'cpu' && name !== 'memory') continue;
      const q = tryParseQuantity(raw);
      if (q && compareQuantities(q, zero) > 0) add(requests, name, q);
    }
    const found = new Set<string>();
    for (const [name, raw] of Object.entries(isObj(r.limits) ? r.limits : {})) {
      if (name !== 'cpu' && name !== 'memory') continue;
      const q = tryParseQuantity(raw);
      if (q && compareQuantities(q, zero) > 0) {
        found.add(name);
        add(limits, name, q);
      }
    }
    if (!found.has('cpu') || !found.has('memory')) guaranteed = false;
  }
  if (requests.size === 0 && limits.size === 0) return 'BestEffort';
  if (guaranteed) {
    for (const [name, req] of requests) {
      const lim = limits.get(name);
      if (!lim || compareQuantities(lim, req) !== 0) {
        guaranteed = false;
        break;
      }
    }
  }
  return guaranteed && requests.size === limits.size ? 'Guaranteed' : 'Burstable';
}

/** SetDefaults_Pod: what only a Pod (not a template) gets on top of the pod spec defaults. */
function defaultPodOnly(spec: Obj): void {
  for (const c of [...arr(spec.containers), ...arr(spec.initContainers)]) {
    const r = c?.resources;
    if (!isObj(r) || !isObj(r.limits)) continue;
    // Requests default to limits: a container that only sets limits asks for exactly that.
    if (!isObj(r.requests)) r.requests = {};
    for (const [k, v] of Object.entries(r.limits)) if (!(k in r.requests)) r.requests[k] = v;
  }
  if (spec.enableServiceLinks === undefined || spec.enableServiceLinks === null) spec.enableServiceLinks = true;
  if (spec.hostNetwork === true) {
    for (const c of [...arr(spec.containers), ...arr(spec.initContainers)]) {
      for (const p of arr(c?.ports)) if (isObj(p) && !p.hostPort) p.hostPort = p.containerPort;
    }
  }
}

function validatePodAnnotations(meta: Obj, spec: Obj, allowInvalidDeletionCost: boolean): FieldError[] {
  const errs: FieldError[] = [];
  const ann = isObj(meta.annotations) ? meta.annotations : {};
  if (mirrorPodAnnotation in ann && !str(spec.nodeName)) {
    errs.push(invalidField(`metadata.annotations[${mirrorPodAnnotation}]`, ann[mirrorPodAnnotation], 'must set spec.nodeName if mirror pod annotation is set'));
  }
  if (!allowInvalidDeletionCost && podDeletionCostAnnotation in ann && !validDeletionCost(ann[podDeletionCostAnnotation])) {
    errs.push(invalidField(`metadata.annotations[${podDeletionCostAnnotation}]`, ann[podDeletionCostAnnotation], 'must be a 32bit integer'));
  }
  return errs;
}

function validDeletionCost(v: unknown): boolean {
  const s = str(v);
  if (!/^(0|-?[1-9]\d*)$/.test(s)) return false;
  const n = Number(s);
  return n >= -2147483648 && n <= 2147483647;
}

/** ValidatePodCreate (and the metadata/spec part ValidatePodUpdate shares). */
function validatePod(pod: StoredObject): FieldError[] {
  const spec: Obj = isObj(pod.spec) ? pod.spec : {};
  const errs = validatePodAnnotations(pod.metadata, spec, false);
  errs.push(...validatePodSpec(spec as PodSpec, 'spec', { resourceIsPod: true, podName: pod.metadata.name }));
  if (!str(spec.serviceAccountName)) {
    arr(spec.volumes).forEach((v: any, vi: number) => {
      arr(v?.projected?.sources).forEach((s: any, si: number) => {
        if (isObj(s?.serviceAccountToken)) {
          errs.push(forbidden(`spec.volumes[${vi}].projected.sources[${si}].serviceAccountToken`, 'must not be specified when serviceAccountName is not set'));
        }
      });
    });
  }
  for (const k of ['containers', 'initContainers']) {
    arr(spec[k]).forEach((c: any, i: number) => {
      const image = str(c?.image);
      if (image.length !== image.trim().length) errs.push(invalidField(`spec.${k}[${i}].image`, image, 'must not have leading or trailing whitespace'));
    });
  }
  return errs;
}

function validatePodCreateOnly(pod: StoredObject): FieldError[] {
  const spec: Obj = isObj(pod.spec) ? pod.spec : {};
  const errs: FieldError[] = [];
  if (arr(spec.ephemeralContainers).length > 0 && !pod.metadata.resourceVersion) errs.push(forbidden('spec.ephemeralContainers', 'cannot be set on create'));
  if (str(spec.nodeName) && arr(spec.schedulingGates).length > 0) errs.push(forbidden('spec.nodeName', 'cannot be set until all schedulingGates have been cleared'));
  return errs;
}

const updatablePodSpecFields = [
  '`spec.containers[*].image`',
  '`spec.initContainers[*].image`',
  '`spec.activeDeadlineSeconds`',
  '`spec.tolerations` (only additions to existing tolerations)',
  '`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)',
];

/** A readable diff of two JSON values, one `-`/`+` pair per changed leaf, after cmp.Diff's layout. */
export function jsonDiff(oldV: unknown, newV: unknown, root: string): string {
  const lines: string[] = [];
  const walk = (a: unknown, b: unknown, p: string) => {
    if (deepEqual(a, b)) return;
    if (isObj(a) && isObj(b)) {
      for (const k of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) walk(a[k], b[k], p ? `${p}.${k}` : k);
      return;
    }
    if (Array.isArray(a) && Array.isArray(b) && a.length === b.length) {
      a.forEach((x, i) => walk(x, b[i], `${p}[${i}]`));
      return;
    }
    if (a !== undefined) lines.push(`- \t${p}: ${JSON.stringify(a)},`);
    if (b !== undefined) lines.push(`+ \t${p}: ${JSON.stringify(b)},`);
  };
  walk(oldV, newV, '');
  return `  ${root}{\n${lines.join('\n')}\n  }\n`;
}

function validateContainerUpdates(newCs: any[], oldCs: any[], path: string): { errs: FieldError[]; stop: boolean } {
  if (newCs.length !== oldCs.length) return { errs: [forbidden(path, 'pod updates may not add or remove containers')], stop: true };
  const errs: FieldError[] = [];
  newCs.forEach((c, i) => {
    const image = str(c?.image);
    if (!image) errs.push(required(`${path}[${i}].image`, ''));
    if (image.trim().length !== image.length) errs.push(invalidField(`${path}[${i}].image`, image, 'must not have leading or trailing whitespace'));
  });
  return { errs, stop: false };
}

function validateOnlyAddedTolerations(newT: any[], oldT: any[], path: string): FieldError[] {
  for (const o of oldT) {
    const found = newT.some((n) => deepEqual({ ...(o ?? {}), tolerationSeconds: n?.tolerationSeconds }, n));
    if (!found) return [forbidden(path, 'existing toleration can not be modified except its tolerationSeconds')];
  }
  return validateTolerations(newT, path);
}

/** ValidatePodUpdate: only images, activeDeadlineSeconds, added tolerations and removed gates change. */
export function validatePodUpdate(pod: StoredObject, old: StoredObject): FieldError[] {
  const spec: Obj = isObj(pod.spec) ? pod.spec : {};
  const oldSpec: Obj = isObj(old.spec) ? old.spec : {};
  const errs: FieldError[] = [];
  const ann = isObj(pod.metadata.annotations) ? pod.metadata.annotations : {};
  const oldAnn = isObj(old.metadata.annotations) ? old.metadata.annotations : {};
  if (mirrorPodAnnotation in oldAnn && ann[mirrorPodAnnotation] !== oldAnn[mirrorPodAnnotation]) {
    errs.push(forbidden(`metadata.annotations[${mirrorPodAnnotation}]`, 'may not remove or update mirror pod annotation'));
  }
  if (mirrorPodAnnotation in ann && !(mirrorPodAnnotation in oldAnn)) errs.push(forbidden(`metadata.annotations[${mirrorPodAnnotation}]`, 'may not add mirror pod annotation'));
  for (const k of ['containers', 'initContainers']) {
    const r = validateContainerUpdates(arr(spec[k]), arr(oldSpec[k]), `spec.${k}`);
    errs.push(...r.errs);
    if (r.stop) return errs;
  }
  const maxInt32 = 2147483647;
  if (spec.activeDeadlineSeconds !== undefined && spec.activeDeadlineSeconds !== null) {
    const v = Number(spec.activeDeadlineSeconds);
    if (v < 0 || v > maxInt32) {
      errs.push(invalidField('spec.activeDeadlineSeconds', spec.activeDeadlineSeconds, inclusiveRangeError(0, maxInt32)));
      return errs;
    }
    if (oldSpec.activeDeadlineSeconds !== undefined && oldSpec.activeDeadlineSeconds !== null && Number(oldSpec.activeDeadlineSeconds) < v) {
      errs.push(invalidField('spec.activeDeadlineSeconds', spec.activeDeadlineSeconds, 'must be less than or equal to previous value'));
      return errs;
    }
  } else if (oldSpec.activeDeadlineSeconds !== undefined && oldSpec.activeDeadlineSeconds !== null) {
    errs.push(invalidField('spec.activeDeadlineSeconds', null, 'must not update from a positive integer to nil value'));
  }
  errs.push(...validateOnlyAddedTolerations(arr(spec.tolerations), arr(oldSpec.tolerations), 'spec.tolerations'));
  const oldGates = new Set(arr(oldSpec.schedulingGates).map((g: any) => str(g?.name)));
  const newGates = arr(spec.schedulingGates);
  if (newGates.length) {
    newGates.forEach((g: any, i: number) => {
      const name = str(g?.name);
      if (!oldGates.has(name)) errs.push(forbidden(`spec.schedulingGates[${i}].name`, `only deletion is allowed, but found new scheduling gate '${name}'`));
    });
  }
  if (deepEqual(spec, oldSpec)) return errs;
  // Put back what may change, then anything left over is a forbidden change.
  const munged = clone(spec);
  arr(munged.containers).forEach((c: any, i: number) => isObj(c) && (c.image = oldSpec.containers?.[i]?.image));
  arr(munged.initContainers).forEach((c: any, i: number) => isObj(c) && (c.image = oldSpec.initContainers?.[i]?.image));
  munged.activeDeadlineSeconds = oldSpec.activeDeadlineSeconds;
  munged.schedulingGates = oldSpec.schedulingGates;
  munged.tolerations = oldSpec.tolerations;
  if (typeof oldSpec.terminationGracePeriodSeconds === 'number' && oldSpec.terminationGracePeriodSeconds < 0 && munged.terminationGracePeriodSeconds === 1) {
    munged.terminationGracePeriodSeconds = oldSpec.terminationGracePeriodSeconds;
  }
  if (arr(oldSpec.schedulingGates).length > 0 && !deepEqual(munged.nodeSelector, oldSpec.nodeSelector)) {
    // A gated pod may gain nodeSelector entries, never lose or change one.
    const oldSel: Obj = isObj(oldSpec.nodeSelector) ? oldSpec.nodeSelector : {};
    const newSel: Obj = isObj(munged.nodeSelector) ? munged.nodeSelector : {};
    if (Object.entries(oldSel).some(([k, v]) => newSel[k] !== v)) {
      errs.push(invalidField('spec.nodeSelector', newSel, 'only additions to spec.nodeSelector are allowed (no mutations or deletions)'));
    }
    munged.nodeSelector = oldSpec.nodeSelector;
  }
  for (const k of Object.keys(munged)) if (munged[k] === undefined) delete munged[k];
  if (!deepEqual(munged, oldSpec)) {
    errs.push(forbidden('spec', `pod updates may not change fields other than ${updatablePodSpecFields.join(',')}\n${jsonDiff(oldSpec, munged, 'core.PodSpec')}`));
  }
  return errs;
}

function validatePodStatus(pod: StoredObject, old: StoredObject): FieldError[] {
  const errs: FieldError[] = [];
  const status: Obj = isObj(pod.status) ? pod.status : {};
  const oldStatus: Obj = isObj(old.status) ? old.status : {};
  const system = new Set(['PodScheduled', 'Ready', 'Initialized', 'ContainersReady', 'DisruptionTarget', 'PodReadyToStartContainers']);
  arr(status.conditions).forEach((c: any, i: number) => {
    const t = str(c?.type);
    if (system.has(t)) return;
    for (const m of isQualifiedName(t)) errs.push(invalidField(`metadata.conditions[${i}].Type`, t, m));
  });
  if (str(status.nominatedNodeName) && status.nominatedNodeName !== oldStatus.nominatedNodeName) {
    errs.push(...validateDNS1123Subdomain(status.nominatedNodeName, 'status.nominatedNodeName'));
  }
  if (str(status.qosClass) && str(oldStatus.qosClass) && status.qosClass !== oldStatus.qosClass) {
    errs.push(invalidField('status.qosClass', status.qosClass, 'field is immutable'));
  }
  const ips = arr(status.podIPs);
  ips.forEach((ip: any, i: number) => errs.push(...validateIP(ip?.ip, `status.podIPs[${i}]`)));
  const seen = new Set<string>();
  ips.forEach((ip: any, i: number) => {
    if (seen.has(str(ip?.ip))) errs.push(duplicate(`status.podIPs[${i}]`, ip));
    seen.add(str(ip?.ip));
  });
  return errs;
}

const podColumns: TableColumn[] = [
  nameColumn,
  col('Ready', 'string', 'The aggregate readiness state of this pod for accepting traffic.'),
  col('Status', 'string', 'The aggregate status of the containers in this pod.'),
  col('Restarts', 'string', 'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.'),
  ageColumn,
  col('IP', 'string', 'podIP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.', 1),
  col('Node', 'string', 'NodeName indicates in which node this pod is scheduled. If empty, this pod is a candidate for scheduling by the scheduler defined in schedulerName. Once this field is set, the kubelet for this node becomes responsible for the lifecycle of this pod. This field should not be used to express a desire for the pod to be scheduled on a specific node. https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/#nodename', 1),
  col('Nominated Node', 'string', 'nominatedNodeName is set only when this pod preempts other pods on the node, but it cannot be scheduled right away as preemption victims receive their graceful termination periods. This field does not guarantee that the pod will be scheduled on this node. Scheduler may decide to place the pod elsewhere if other nodes become available sooner. Scheduler may also decide to give the resources on this node to a higher priority pod that is created after preemption. As a result, this field may be different than PodSpec.nodeName when the pod is scheduled.', 1),
  col('Readiness Gates', 'string', 'If specified, all readiness gates will be evaluated for pod readiness. A pod is ready when all its containers are ready AND all conditions specified in the readiness gates have status equal to "True" More info: https://git.k8s.io/enhancements/keps/sig-network/580-pod-readiness-gates', 1),
];

const isRestartableInit = (c: any) => c?.restartPolicy === 'Always';
const later = (a: string | undefined, b: string | undefined) => (a && (!b || Date.parse(a) > Date.parse(b)) ? a : b);

/** One row of `kubectl get pods`, with printPod's STATUS reasoning. */
export function podRow(pod: StoredObject, now: Date): unknown[] {
  const spec: Obj = isObj(pod.spec) ? pod.spec : {};
  const status: Obj = isObj(pod.status) ? pod.status : {};
  const conditions = arr(status.conditions);
  let restarts = 0;
  let sidecarRestarts = 0;
  let totalContainers = arr(spec.containers).length;
  let readyContainers = 0;
  let lastRestart: string | undefined;
  let lastSidecarRestart: string | undefined;
  const phase = str(status.phase);
  let reason = status.reason ? str(status.reason) : phase;
  for (const c of conditions) if (c?.type === 'PodScheduled' && c?.reason === 'SchedulingGated') reason = 'SchedulingGated';
  const initByName = new Map<string, any>();
  for (const c of arr(spec.initContainers)) {
    initByName.set(str(c?.name), c);
    if (isRestartableInit(c)) totalContainers++;
  }
  let initializing = false;
  const initStatuses = arr(status.initContainerStatuses);
  for (let i = 0; i < initStatuses.length; i++) {
    const cs = initStatuses[i];
    const sidecar = isRestartableInit(initByName.get(str(cs?.name)));
    restarts += Number(cs?.restartCount ?? 0);
    const finished = cs?.lastState?.terminated?.finishedAt;
    lastRestart = later(finished, lastRestart);
    if (sidecar) {
      sidecarRestarts += Number(cs?.restartCount ?? 0);
      lastSidecarRestart = later(finished, lastSidecarRestart);
    }
    const term = cs?.state?.terminated;
    const waiting = cs?.state?.waiting;
    if (term && Number(term.exitCode ?? 0) === 0) continue;
    if (sidecar && cs?.started === true) {
      if (cs?.ready) readyContainers++;
      continue;
    }
    if (term) {
      if (!term.reason) reason = term.signal ? `Init:Signal:${term.signal}` : `Init:ExitCode:${term.exitCode ?? 0}`;
      else reason = `Init:${term.reason}`;
    } else if (waiting?.reason && waiting.reason !== 'PodInitializing') {
      reason = `Init:${waiting.reason}`;
    } else {
      reason = `Init:${i}/${arr(spec.initContainers).length}`;
    }
    initializing = true;
    break;
  }
  const initializedTrue = conditions.some((c) => c?.type === 'Initialized' && c?.status === 'True');
  if (!initializing || initializedTrue) {
    restarts = sidecarRestarts;
    lastRestart = lastSidecarRestart;
    let hasRunning = false;
    const statuses = arr(status.containerStatuses);
    for (let i = statuses.length - 1; i >= 0; i--) {
      const cs = statuses[i];
      restarts += Number(cs?.restartCount ?? 0);
      lastRestart = later(cs?.lastState?.terminated?.finishedAt, lastRestart);
      const waiting = cs?.state?.waiting;
      const term = cs?.state?.terminated;
      if (waiting?.reason) reason = waiting.reason;
      else if (term?.reason) reason = term.reason;
      else if (term) reason = term.signal ? `Signal:${term.signal}` : `ExitCode:${term.exitCode ?? 0}`;
      else if (cs?.ready && cs?.state?.running) {
        hasRunning = true;
        readyContainers++;
      }
    }
    if (reason === 'Completed' && hasRunning) {
      reason = conditions.some((c) => c?.type === 'Ready' && c?.status === 'True') ? 'Running' : 'NotReady';
    }
  }
  if (pod.metadata.deletionTimestamp && status.reason === 'NodeLost') reason = 'Unknown';
  else if (pod.metadata.deletionTimestamp && phase !== 'Succeeded' && phase !== 'Failed') reason = 'Terminating';
  const restartsStr = restarts !== 0 && lastRestart ? `${restarts} (${translateTimestampSince(lastRestart, now)} ago)` : String(restarts);
  const podIP = str(arr(status.podIPs)[0]?.ip) || str(status.podIP) || '<none>';
  let readinessGates = '<none>';
  const gates = arr(spec.readinessGates);
  if (gates.length) {
    let trueCount = 0;
    for (const g of gates) {
      const c = conditions.find((x) => x?.type === g?.conditionType);
      if (c?.status === 'True') trueCount++;
    }
    readinessGates = `${trueCount}/${gates.length}`;
  }
  return [
    pod.metadata.name,
    `${readyContainers}/${totalContainers}`,
    reason,
    restartsStr,
    age(pod, now),
    podIP,
    str(spec.nodeName) || '<none>',
    str(status.nominatedNodeName) || '<none>',
    readinessGates,
  ];
}

export const podStrategy: Strategy = {
  hasStatus: true,
  generation: true,
  defaults(obj) {
    if (!isObj(obj.spec)) return;
    defaultPodSpec(obj.spec as PodSpec);
    defaultPodOnly(obj.spec);
  },
  prepareForCreate(obj) {
    const status: Obj = { phase: 'Pending', qosClass: computePodQOS(obj.spec) };
    if (isObj(obj.spec) && arr(obj.spec.schedulingGates).length > 0) {
      status.conditions = [
        { type: 'PodScheduled', status: 'False', lastProbeTime: null, lastTransitionTime: null, reason: 'SchedulingGated', message: 'Scheduling is blocked due to non-empty scheduling gates' },
      ];
    }
    obj.status = status;
  },
  validate(obj) {
    return validatePod(obj);
  },
  validateCreate(obj) {
    return validatePodCreateOnly(obj);
  },
  validateUpdate(obj, old) {
    return validatePodUpdate(obj, old);
  },
  prepareForStatusUpdate(obj, old) {
    // A status writer that leaves qosClass out keeps the one set at creation.
    if (isObj(obj.status) && !obj.status.qosClass && isObj(old.status) && old.status.qosClass) obj.status.qosClass = old.status.qosClass;
  },
  validateStatusUpdate(obj, old) {
    return validatePodStatus(obj, old);
  },
  selectableFields(obj) {
    const spec: Obj = isObj(obj.spec) ? obj.spec : {};
    const status: Obj = isObj(obj.status) ? obj.status : {};
    return {
      'spec.nodeName': str(spec.nodeName),
      'spec.restartPolicy': str(spec.restartPolicy),
      'spec.schedulerName': str(spec.schedulerName),
      'spec.serviceAccountName': str(spec.serviceAccountName),
      'spec.hostNetwork': String(spec.hostNetwork === true),
      'status.phase': str(status.phase),
      // v1's podIP is podIPs[0]; a writer that set only podIP still counts.
      'status.podIP': str(arr(status.podIPs)[0]?.ip) || str(status.podIP),
      // Upstream accepts this label but never sets it, so it only ever equals "".
      'status.podIPs': '',
      'status.nominatedNodeName': str(status.nominatedNodeName),
    };
  },
  table: { columns: podColumns, row: podRow },
};

export const podResource: ResourceDef = {
  group: '',
  version: 'v1',
  kind: 'Pod',
  plural: 'pods',
  singular: 'pod',
  namespaced: true,
  shortNames: ['po'],
  categories: ['all'],
  subresources: ['status', 'binding', 'eviction', 'log', 'exec', 'attach', 'portforward'],
  strategy: podStrategy,
};
