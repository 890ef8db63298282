/**
 * Pod spec defaulting and validation, shared by pods and every workload's pod template
 * (upstream's SetDefaults_PodSpec and friends in pkg/apis/core/v1/defaults.go, and ValidatePodSpec
 * in pkg/apis/core/validation/validation.go), plus the small validation helpers the other core/v1
 * strategies share: ports, IPs, config keys, resource names and quantities, label selectors.
 *
 * Objects arrive as decoded JSON that nothing has type-checked yet, so every function here reads
 * defensively: a field of the wrong shape becomes a field error, never an exception.
 */
import { type FieldError, required, invalidField, notSupported, duplicate, forbidden, tooLong } from '../../api/field-errors.js';
import type { PodSpec, PodTemplateSpec } from '../../api/types.js';
import { isDNS1123Label, isDNS1123Subdomain, isQualifiedName, isValidLabelValue, validateLabels, validateAnnotations, validateLabelName, validateLabelSelector } from '../../api/validation.js';

// Shared label rules live in pkg/api/validation; the core strategies import them from here too.
export { validateLabelName, validateLabelSelector };
import { deepEqual } from '../../api/meta.js';
import { isIP } from 'node:net';
import { tryParseQuantity, compareQuantities, formatQuantity, quantityMilliValue, defaultResourceList, canonicalQuantity, quantityFormatError, type Quantity } from '../../api/quantity.js';

// ---------------------------------------------------------------------------------------------
// Loose readers for untyped JSON.

export type Obj = Record<string, any>;

export function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function arr(v: unknown): any[] {
  return Array.isArray(v) ? v : [];
}

export function str(v: unknown): string {
  return typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v);
}

function num(v: unknown): number {
  return typeof v === 'number' ? v : Number(v ?? 0);
}

// ---------------------------------------------------------------------------------------------
// Shared messages and small validators (apimachinery util/validation).

export const isNegativeErrorMsg = 'must be greater than or equal to 0';
export const fieldImmutableErrorMsg = 'field is immutable';
export const isNotPositiveErrorMsg = 'must be greater than zero';
export const inclusiveRangeError = (lo: number, hi: number) => `must be between ${lo} and ${hi}, inclusive`;
const maxInt32 = 2147483647;

export function validateNonnegativeField(v: unknown, path: string): FieldError[] {
  return num(v) < 0 ? [invalidField(path, v, isNegativeErrorMsg)] : [];
}

/** ValidateImmutableField: deep equality, upstream's "field is immutable". */
export function validateImmutableField(newVal: unknown, oldVal: unknown, path: string): FieldError[] {
  return deepEqual(newVal ?? null, oldVal ?? null) ? [] : [invalidField(path, newVal, fieldImmutableErrorMsg)];
}

export function isValidPortNum(port: unknown): string[] {
  const p = num(port);
  return Number.isInteger(p) && p >= 1 && p <= 65535 ? [] : [inclusiveRangeError(1, 65535)];
}

export function isValidPortName(port: string): string[] {
  const errs: string[] = [];
  if (port.length > 15) errs.push('must be no more than 15 characters');
  if (!/^[-a-z0-9]+$/.test(port)) errs.push('must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)');
  if (!/[a-z]/.test(port)) errs.push('must contain at least one letter (a-z)');
  if (port.includes('--')) errs.push('must not contain consecutive hyphens');
  if (port.length > 0 && (port.startsWith('-') || port.endsWith('-'))) errs.push('must not begin or end with a hyphen');
  return errs;
}

/** ValidatePortNumOrName for an IntOrString. */
export function validatePortNumOrName(port: unknown, path: string): FieldError[] {
  if (typeof port === 'number') return isValidPortNum(port).map((m) => invalidField(path, port, m));
  if (typeof port === 'string') return isValidPortName(port).map((m) => invalidField(path, port, m));
  return [invalidField(path, port ?? null, inclusiveRangeError(1, 65535))];
}

export function isValidUserOrGroupID(id: unknown): string[] {
  const n = num(id);
  return Number.isInteger(n) && n >= 0 && n <= maxInt32 ? [] : [inclusiveRangeError(0, maxInt32)];
}

export function validateIP(value: unknown, path: string): FieldError[] {
  return isIP(str(value)) ? [] : [invalidField(path, value ?? '', 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)')];
}

export function validateCIDR(value: unknown, path: string): FieldError[] {
  const s = str(value);
  const [ip, bits, extra] = s.split('/');
  const fam = isIP(ip ?? '');
  const b = Number(bits);
  const ok = extra === undefined && fam !== 0 && bits !== undefined && /^\d+$/.test(bits) && b <= (fam === 4 ? 32 : 128);
  return ok ? [] : [invalidField(path, value ?? '', 'must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)')];
}

const configMapKeyFmt = '[-._a-zA-Z0-9]+';
const configMapKeyRe = new RegExp(`^${configMapKeyFmt}$`);

/** IsConfigMapKey: keys of ConfigMaps, Secrets and projected items. */
export function isConfigMapKey(key: string): string[] {
  const errs: string[] = [];
  if (key.length > 253) errs.push('must be no more than 253 characters');
  if (!configMapKeyRe.test(key))
    errs.push(
      `a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '${configMapKeyFmt}')`,
    );
  if (key === '.') errs.push("must not be '.'");
  else if (key === '..') errs.push("must not be '..'");
  else if (key.startsWith('..')) errs.push("must not start with '..'");
  return errs;
}

/** unversioned ValidateLabelName: a qualified name, reported against the field. */
export function validateDNS1123Label(value: unknown, path: string): FieldError[] {
  const s = str(value);
  return isDNS1123Label(s).map((m) => invalidField(path, s, m));
}

export function validateDNS1123Subdomain(value: unknown, path: string): FieldError[] {
  const s = str(value);
  return isDNS1123Subdomain(s).map((m) => invalidField(path, s, m));
}

// ---------------------------------------------------------------------------------------------
// Resource names and quantities (pkg/apis/core/helper).

const standardContainerResources = new Set(['cpu', 'memory', 'ephemeral-storage']);
const standardResources = new Set([
  'cpu',
  'memory',
  'ephemeral-storage',
  'requests.cpu',
  'requests.memory',
  'requests.ephemeral-storage',
  'limits.cpu',
  'limits.memory',
  'limits.ephemeral-storage',
  'pods',
  'services',
  'replicationcontrollers',
  'resourcequotas',
  'secrets',
  'configmaps',
  'persistentvolumeclaims',
  'storage',
  'requests.storage',
  'services.nodeports',
  'services.loadbalancers',
]);
const standardQuotaResources = new Set([
  'cpu',
  'memory',
  'ephemeral-storage',
  'requests.cpu',
  'requests.memory',
  'requests.storage',
  'requests.ephemeral-storage',
  'limits.cpu',
  'limits.memory',
  'limits.ephemeral-storage',
  'pods',
  'services',
  'replicationcontrollers',
  'resourcequotas',
  'secrets',
  'persistentvolumeclaims',
  'configmaps',
  'services.nodeports',
  'services.loadbalancers',
]);
const integerResources = new Set(['pods', 'services', 'replicationcontrollers', 'resourcequotas', 'secrets', 'configmaps', 'persistentvolumeclaims', 'services.nodeports', 'services.loadbalancers']);

export const isHugePageResourceName = (n: string) => n.startsWith('hugepages-');
export const isNativeResource = (n: string) => !n.includes('/') || n.includes('kubernetes.io/');
export function isExtendedResourceName(n: string): boolean {
  if (isNativeResource(n) || n.startsWith('requests.')) return false;
  return isQualifiedName(`requests.${n}`).length === 0;
}
export const isOvercommitAllowed = (n: string) => isNativeResource(n) && !isHugePageResourceName(n);
export const isIntegerResourceName = (n: string) => integerResources.has(n) || isExtendedResourceName(n);
export const isStandardQuotaResourceName = (n: string) => standardQuotaResources.has(n) || n.startsWith('hugepages-') || n.startsWith('requests.hugepages-');

/** validateResourceName: qualified, and standard unless prefixed. */
export function validateResourceName(name: string, path: string): FieldError[] {
  const errs = isQualifiedName(name).map((m) => invalidField(path, name, m));
  if (errs.length) return errs;
  if (!name.includes('/') && !(standardResources.has(name) || isHugePageResourceName(name))) {
    errs.push(invalidField(path, name, 'must be a standard resource type or fully qualified'));
  }
  return errs;
}

export function validateContainerResourceName(name: string, path: string): FieldError[] {
  const errs = validateResourceName(name, path);
  if (!name.includes('/')) {
    if (!(standardContainerResources.has(name) || isHugePageResourceName(name))) errs.push(invalidField(path, name, 'must be a standard resource for containers'));
  } else if (!isNativeResource(name) && !isExtendedResourceName(name)) {
    errs.push(invalidField(path, name, "doesn't follow extended resource name standard"));
  }
  return errs;
}

export function validateResourceQuotaResourceName(name: string, path: string): FieldError[] {
  const errs = validateResourceName(name, path);
  if (!name.includes('/') && !isStandardQuotaResourceName(name)) errs.push(invalidField(path, name, 'must be a standard resource for quota'));
  return errs;
}

/** Parses a quantity field, reporting upstream's format error when it does not parse. */
export function parseQuantityField(v: unknown, path: string, errs: FieldError[]): Quantity | undefined {
  const q = tryParseQuantity(v);
  if (!q) errs.push(invalidField(path, v ?? null, quantityFormatError));
  return q;
}

/** ValidateResourceQuantityValue: non-negative, and whole for countable resources. */
export function validateResourceQuantityValue(name: string, v: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const q = parseQuantityField(v, path, errs);
  if (!q) return errs;
  if (q.m < 0n) errs.push(invalidField(path, formatQuantity(q), isNegativeErrorMsg));
  if (isIntegerResourceName(name) && quantityMilliValue(q) % 1000n !== 0n) errs.push(invalidField(path, formatQuantity(q), 'must be an integer'));
  return errs;
}

/** Parses every value of a ResourceList; bad names and quantities become errors. */
export function resourceList(v: unknown): Map<string, Quantity> {
  const out = new Map<string, Quantity>();
  if (!isObj(v)) return out;
  for (const [k, raw] of Object.entries(v)) {
    const q = tryParseQuantity(raw);
    if (q) out.set(k, q);
  }
  return out;
}

/** ValidateContainerResourceRequirements (limits, requests, claims). */
export function validateResourceRequirements(req: unknown, path: string, podClaimNames: Set<string> = new Set()): FieldError[] {
  const errs: FieldError[] = [];
  if (req === undefined || req === null) return errs;
  if (!isObj(req)) return [invalidField(path, req, 'must be an object')];
  const limPath = `${path}.limits`;
  const reqPath = `${path}.requests`;
  let limCpuMem = false;
  let reqCpuMem = false;
  let hugePages = false;
  const limits = isObj(req.limits) ? req.limits : {};
  const requests = isObj(req.requests) ? req.requests : {};
  for (const [name, raw] of Object.entries(limits)) {
    const p = `${limPath}[${name}]`;
    errs.push(...validateContainerResourceName(name, p), ...validateResourceQuantityValue(name, raw, p));
    if (isHugePageResourceName(name)) hugePages = true;
    if (name === 'cpu' || name === 'memory') limCpuMem = true;
  }
  for (const [name, raw] of Object.entries(requests)) {
    const p = `${reqPath}[${name}]`;
    errs.push(...validateContainerResourceName(name, p), ...validateResourceQuantityValue(name, raw, p));
    const q = tryParseQuantity(raw);
    if (name in limits) {
      const lim = tryParseQuantity(limits[name]);
      if (q && lim) {
        const c = compareQuantities(q, lim);
        if (c !== 0 && !isOvercommitAllowed(name)) errs.push(invalidField(reqPath, formatQuantity(q), `must be equal to ${name} limit of ${formatQuantity(lim)}`));
        else if (c > 0) errs.push(invalidField(reqPath, formatQuantity(q), `must be less than or equal to ${name} limit of ${formatQuantity(lim)}`));
      }
    } else if (!isOvercommitAllowed(name)) {
      errs.push(required(limPath, 'Limit must be set for non overcommitable resources'));
    }
    if (isHugePageResourceName(name)) hugePages = true;
    if (name === 'cpu' || name === 'memory') reqCpuMem = true;
  }
  if (hugePages && !limCpuMem && !reqCpuMem) errs.push(forbidden(path, 'HugePages require cpu or memory'));
  const seen = new Set<string>();
  arr(req.claims).forEach((c: any, i: number) => {
    const name = str(c?.name);
    if (!name) errs.push(required(`${path}.claims[${i}]`, ''));
    else if (seen.has(name)) errs.push(duplicate(`${path}.claims[${i}]`, name));
    else {
      seen.add(name);
      if (!podClaimNames.has(name)) {
        errs.push({
          type: 'FieldValueNotFound',
          field: `${path}.claims[${i}]`,
          value: name,
          detail: `must be one of the names in pod.spec.resourceClaims${podClaimNames.size ? ': ' + [...podClaimNames].sort().join(', ') : ' which is empty'}`,
        });
      }
    }
  });
  return errs;
}

// ---------------------------------------------------------------------------------------------
// Defaulting.

/** Upstream's ParseImageName, reduced to what imagePullPolicy needs: the tag, or undefined. */
export function imageTag(image: string): string | undefined {
  if (!image || /\s/.test(image)) return undefined;
  let name = image;
  const at = name.indexOf('@');
  const hasDigest = at >= 0;
  if (hasDigest) name = name.slice(0, at);
  const slash = name.lastIndexOf('/');
  const colon = name.lastIndexOf(':');
  let tag: string | undefined;
  if (colon > slash) {
    tag = name.slice(colon + 1);
    name = name.slice(0, colon);
  }
  // The repository path (after a domain, if any) must be lower case, as docker references are.
  const firstSlash = name.indexOf('/');
  const first = firstSlash < 0 ? '' : name.slice(0, firstSlash);
  const isDomain = first !== '' && (first.includes('.') || first.includes(':') || first === 'localhost' || first !== first.toLowerCase());
  const path = isDomain ? name.slice(firstSlash + 1) : name;
  if (!path || !/^[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*)*$/.test(path)) return undefined;
  if (tag !== undefined) return /^[\w][\w.-]{0,127}$/.test(tag) ? tag : undefined;
  return hasDigest ? '' : 'latest';
}

function defaultHTTPGet(h: unknown): void {
  if (!isObj(h)) return;
  if (!h.path) h.path = '/';
  if (!h.scheme) h.scheme = 'HTTP';
}

function defaultProbe(p: unknown): void {
  if (!isObj(p)) return;
  if (!p.timeoutSeconds) p.timeoutSeconds = 1;
  if (!p.periodSeconds) p.periodSeconds = 10;
  if (!p.successThreshold) p.successThreshold = 1;
  if (!p.failureThreshold) p.failureThreshold = 3;
  defaultHTTPGet(p.httpGet);
}

function defaultFieldRef(ref: unknown): void {
  if (isObj(ref) && !ref.apiVersion) ref.apiVersion = 'v1';
}

function defaultResourceFieldRef(ref: unknown): void {
  if (!isObj(ref)) return;
  // Divisor is a plain (non-pointer) Quantity upstream, so it is always written, as "0" when unset.
  ref.divisor = ref.divisor === undefined || ref.divisor === null ? '0' : canonicalQuantity(ref.divisor);
}

/** SetDefaults_Container and the declarative defaults of everything inside a container. */
export function defaultContainer(c: unknown): void {
  if (!isObj(c)) return;
  if (!c.imagePullPolicy) c.imagePullPolicy = imageTag(str(c.image)) === 'latest' ? 'Always' : 'IfNotPresent';
  if (!c.terminationMessagePath) c.terminationMessagePath = '/dev/termination-log';
  if (!c.terminationMessagePolicy) c.terminationMessagePolicy = 'File';
  for (const p of arr(c.ports)) if (isObj(p) && !p.protocol) p.protocol = 'TCP';
  defaultProbe(c.livenessProbe);
  defaultProbe(c.readinessProbe);
  defaultProbe(c.startupProbe);
  if (isObj(c.lifecycle)) {
    defaultHTTPGet(c.lifecycle.postStart?.httpGet);
    defaultHTTPGet(c.lifecycle.preStop?.httpGet);
  }
  // ResourceRequirements is a plain struct upstream: it is always written, as {} when empty.
  if (c.resources === undefined || c.resources === null) c.resources = {};
  if (isObj(c.resources)) {
    defaultResourceList(c.resources.limits);
    defaultResourceList(c.resources.requests);
  }
  for (const e of arr(c.env)) {
    if (!isObj(e?.valueFrom)) continue;
    defaultFieldRef(e.valueFrom.fieldRef);
    defaultResourceFieldRef(e.valueFrom.resourceFieldRef);
  }
}

function defaultDownwardAPIItems(items: unknown): void {
  for (const it of arr(items)) {
    if (!isObj(it)) continue;
    defaultFieldRef(it.fieldRef);
    defaultResourceFieldRef(it.resourceFieldRef);
  }
}

/** The names of VolumeSource's members, in upstream's order. */
export const volumeSourceKeys = [
  'emptyDir',
  'hostPath',
  'gitRepo',
  'gcePersistentDisk',
  'awsElasticBlockStore',
  'secret',
  'nfs',
  'iscsi',
  'glusterfs',
  'flocker',
  'persistentVolumeClaim',
  'rbd',
  'cinder',
  'cephfs',
  'quobyte',
  'downwardAPI',
  'fc',
  'flexVolume',
  'configMap',
  'azureFile',
  'vsphereVolume',
  'photonPersistentDisk',
  'portworxVolume',
  'azureDisk',
  'storageos',
  'projected',
  'scaleIO',
  'csi',
  'ephemeral',
  'image',
];

/** The defaults of a PersistentVolumeClaimSpec, used by PVCs and ephemeral volume templates. */
export function defaultPersistentVolumeClaimSpec(spec: unknown): void {
  if (!isObj(spec)) return;
  if (!spec.volumeMode) spec.volumeMode = 'Filesystem';
  if (isObj(spec.resources)) {
    defaultResourceList(spec.resources.limits);
    defaultResourceList(spec.resources.requests);
  }
}

/** SetDefaults_Volume and the volume sources' defaults. */
export function defaultVolume(v: unknown): void {
  if (!isObj(v)) return;
  if (!volumeSourceKeys.some((k) => v[k] !== undefined && v[k] !== null)) v.emptyDir = {};
  if (isObj(v.emptyDir) && v.emptyDir.sizeLimit !== undefined) v.emptyDir.sizeLimit = canonicalQuantity(v.emptyDir.sizeLimit);
  if (isObj(v.hostPath) && v.hostPath.type === undefined) v.hostPath.type = '';
  for (const k of ['secret', 'configMap', 'downwardAPI', 'projected']) {
    if (isObj(v[k]) && (v[k].defaultMode === undefined || v[k].defaultMode === null)) v[k].defaultMode = 420;
  }
  if (isObj(v.downwardAPI)) defaultDownwardAPIItems(v.downwardAPI.items);
  if (isObj(v.projected)) {
    for (const s of arr(v.projected.sources)) {
      if (!isObj(s)) continue;
      if (isObj(s.serviceAccountToken) && (s.serviceAccountToken.expirationSeconds === undefined || s.serviceAccountToken.expirationSeconds === null)) {
        s.serviceAccountToken.expirationSeconds = 3600;
      }
      if (isObj(s.downwardAPI)) defaultDownwardAPIItems(s.downwardAPI.items);
    }
  }
  if (isObj(v.iscsi) && !v.iscsi.iscsiInterface) v.iscsi.iscsiInterface = 'default';
  if (isObj(v.rbd)) {
    if (!v.rbd.pool) v.rbd.pool = 'rbd';
    if (!v.rbd.user) v.rbd.user = 'admin';
    if (!v.rbd.keyring) v.rbd.keyring = '/etc/ceph/keyring';
  }
  if (isObj(v.azureDisk)) {
    if (!v.azureDisk.cachingMode) v.azureDisk.cachingMode = 'ReadWrite';
    if (!v.azureDisk.fsType) v.azureDisk.fsType = 'ext4';
    if (v.azureDisk.readOnly === undefined) v.azureDisk.readOnly = false;
    if (!v.azureDisk.kind) v.azureDisk.kind = 'Shared';
  }
  if (isObj(v.scaleIO)) {
    if (!v.scaleIO.storageMode) v.scaleIO.storageMode = 'ThinProvisioned';
    if (!v.scaleIO.fsType) v.scaleIO.fsType = 'xfs';
  }
  if (isObj(v.ephemeral) && isObj(v.ephemeral.volumeClaimTemplate)) defaultPersistentVolumeClaimSpec(v.ephemeral.volumeClaimTemplate.spec);
}

/** Upstream's pod spec defaults (restartPolicy, dnsPolicy, imagePullPolicy by tag, …). */
export function defaultPodSpec(spec: PodSpec): void {
  const s = spec as Obj;
  if (!isObj(s)) return;
  if (!s.dnsPolicy) s.dnsPolicy = 'ClusterFirst';
  if (!s.restartPolicy) s.restartPolicy = 'Always';
  if (s.securityContext === undefined || s.securityContext === null) s.securityContext = {};
  if (s.terminationGracePeriodSeconds === undefined || s.terminationGracePeriodSeconds === null) s.terminationGracePeriodSeconds = 30;
  if (!s.schedulerName) s.schedulerName = 'default-scheduler';
  // v1's deprecated serviceAccount is an alias of serviceAccountName; the new field wins.
  if (!s.serviceAccountName && s.serviceAccount) s.serviceAccountName = s.serviceAccount;
  if (s.serviceAccountName) s.serviceAccount = s.serviceAccountName;
  for (const v of arr(s.volumes)) defaultVolume(v);
  for (const c of arr(s.containers)) defaultContainer(c);
  for (const c of arr(s.initContainers)) defaultContainer(c);
  for (const c of arr(s.ephemeralContainers)) defaultContainer(c);
  if (s.overhead !== undefined) defaultResourceList(s.overhead);
  if (isObj(s.resources)) {
    defaultResourceList(s.resources.limits);
    defaultResourceList(s.resources.requests);
  }
}

export function defaultPodTemplateSpec(t: PodTemplateSpec | undefined): void {
  if (t?.spec) defaultPodSpec(t.spec);
}

// ---------------------------------------------------------------------------------------------
// Validation.

/** How a pod spec is validated: inside a Pod, or inside a workload's template. */
export interface PodSpecValidationOptions {
  /** The spec is a Pod's own (hostPort must then equal containerPort under hostNetwork). */
  resourceIsPod?: boolean;
  /** The Pod's name, for the names of generic ephemeral volumes' claims. */
  podName?: string;
}

function validatePathNoBacksteps(p: string, path: string): FieldError[] {
  return p.split('/').includes('..') ? [invalidField(path, p, "must not contain '..'")] : [];
}

function validateLocalDescendingPath(p: string, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (p.startsWith('/')) errs.push(invalidField(path, p, 'must be a relative path'));
  errs.push(...validatePathNoBacksteps(p, path));
  return errs;
}

function validateLocalNonReservedPath(p: string, path: string): FieldError[] {
  const errs = validateLocalDescendingPath(p, path);
  if (p.startsWith('..')) errs.push(invalidField(path, p, "must not start with '..'"));
  return errs;
}

const fileModeErrorMsg = 'must be a number between 0 and 0777 (octal), both inclusive';

function validateMode(mode: unknown, path: string): FieldError[] {
  if (mode === undefined || mode === null) return [];
  const m = num(mode);
  return m > 0o777 || m < 0 || !Number.isInteger(m) ? [invalidField(path, mode, fileModeErrorMsg)] : [];
}

function validateKeyToPath(kp: any, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (!str(kp?.key)) errs.push(required(`${path}.key`, ''));
  if (!str(kp?.path)) errs.push(required(`${path}.path`, ''));
  errs.push(...validateLocalNonReservedPath(str(kp?.path), `${path}.path`));
  errs.push(...validateMode(kp?.mode, `${path}.mode`));
  return errs;
}

const volumeDownwardAPIFieldPaths = ['metadata.annotations', 'metadata.labels', 'metadata.name', 'metadata.namespace', 'metadata.uid'];
const envDownwardAPIFieldPaths = [
  'metadata.name',
  'metadata.namespace',
  'metadata.uid',
  'spec.nodeName',
  'spec.serviceAccountName',
  'status.hostIP',
  'status.hostIPs',
  'status.podIP',
  'status.podIPs',
];
/** The labels ConvertDownwardAPIFieldLabel accepts for v1. */
const downwardAPIConvertible = new Set([
  'metadata.annotations',
  'metadata.labels',
  'metadata.name',
  'metadata.namespace',
  'metadata.uid',
  'spec.nodeName',
  'spec.restartPolicy',
  'spec.serviceAccountName',
  'spec.schedulerName',
  'status.phase',
  'status.hostIP',
  'status.hostIPs',
  'status.podIP',
  'status.podIPs',
]);

function validateObjectFieldSelector(fs: any, expressions: string[], path: string): FieldError[] {
  if (!str(fs?.apiVersion)) return [required(`${path}.apiVersion`, '')];
  const fieldPath = str(fs?.fieldPath);
  if (!fieldPath) return [required(`${path}.fieldPath`, '')];
  const sub = /^(metadata\.(?:labels|annotations))\['(.*)'\]$/.exec(fieldPath);
  if (sub) {
    const key = sub[1] === 'metadata.annotations' ? sub[2]!.toLowerCase() : sub[2]!;
    return isQualifiedName(key).map((m) => invalidField(path, key, m));
  }
  if (!downwardAPIConvertible.has(fieldPath)) return [invalidField(`${path}.fieldPath`, fieldPath, `error converting fieldPath: field label not supported: ${fieldPath}`)];
  if (!expressions.includes(fieldPath)) return [notSupported(`${path}.fieldPath`, fieldPath, expressions)];
  return [];
}

const containerResourceFieldPaths = ['limits.cpu', 'limits.ephemeral-storage', 'limits.memory', 'requests.cpu', 'requests.ephemeral-storage', 'requests.memory'];

function validateResourceFieldSelector(fs: any, path: string, volume: boolean): FieldError[] {
  const resource = str(fs?.resource);
  if (volume && !str(fs?.containerName)) return [required(`${path}.containerName`, '')];
  if (!resource) return [required(`${path}.resource`, '')];
  if (!containerResourceFieldPaths.includes(resource) && !resource.startsWith('requests.hugepages-') && !resource.startsWith('limits.hugepages-')) {
    return [notSupported(`${path}.resource`, resource, containerResourceFieldPaths)];
  }
  return [];
}

function validateDownwardAPIFile(f: any, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (!str(f?.path)) errs.push(required(`${path}.path`, ''));
  errs.push(...validateLocalNonReservedPath(str(f?.path), `${path}.path`));
  if (isObj(f?.fieldRef)) {
    errs.push(...validateObjectFieldSelector(f.fieldRef, volumeDownwardAPIFieldPaths, `${path}.fieldRef`));
    if (isObj(f.resourceFieldRef)) errs.push(invalidField(path, 'resource', 'fieldRef and resourceFieldRef can not be specified simultaneously'));
  } else if (isObj(f?.resourceFieldRef)) {
    errs.push(...validateResourceFieldSelector(f.resourceFieldRef, `${path}.resourceFieldRef`, true));
  } else {
    errs.push(required(path, 'one of fieldRef and resourceFieldRef is required'));
  }
  errs.push(...validateMode(f?.mode, `${path}.mode`));
  return errs;
}

const hostPathTypes = ['', 'DirectoryOrCreate', 'Directory', 'FileOrCreate', 'File', 'Socket', 'CharDevice', 'BlockDevice'];

function validateVolumeSourceMember(key: string, src: any, path: string, volName: string, opts: PodSpecValidationOptions): FieldError[] {
  const errs: FieldError[] = [];
  switch (key) {
    case 'emptyDir':
      if (src.sizeLimit !== undefined && src.sizeLimit !== null) {
        const q = tryParseQuantity(src.sizeLimit);
        if (!q || q.m < 0n) errs.push(forbidden(`${path}.sizeLimit`, 'SizeLimit field must be a valid resource quantity'));
      }
      break;
    case 'hostPath': {
      const p = str(src.path);
      if (!p) return [required(`${path}.path`, '')];
      errs.push(...validatePathNoBacksteps(p, `${path}.path`));
      if (src.type !== undefined && src.type !== null && !hostPathTypes.includes(src.type)) errs.push(notSupported(`${path}.type`, src.type, hostPathTypes));
      break;
    }
    case 'secret':
      if (!str(src.secretName)) errs.push(required(`${path}.secretName`, ''));
      errs.push(...validateMode(src.defaultMode, `${path}.defaultMode`));
      arr(src.items).forEach((it: any, i: number) => errs.push(...validateKeyToPath(it, `${path}.items[${i}]`)));
      break;
    case 'configMap':
      if (!str(src.name)) errs.push(required(`${path}.name`, ''));
      errs.push(...validateMode(src.defaultMode, `${path}.defaultMode`));
      arr(src.items).forEach((it: any, i: number) => errs.push(...validateKeyToPath(it, `${path}.items[${i}]`)));
      break;
    case 'persistentVolumeClaim':
      if (!str(src.claimName)) errs.push(required(`${path}.claimName`, ''));
      break;
    case 'nfs':
      if (!str(src.server)) errs.push(required(`${path}.server`, ''));
      if (!str(src.path)) errs.push(required(`${path}.path`, ''));
      if (!str(src.path).startsWith('/')) errs.push(invalidField(`${path}.path`, str(src.path), 'must be an absolute path'));
      break;
    case 'downwardAPI':
      errs.push(...validateMode(src.defaultMode, `${path}.defaultMode`));
      for (const f of arr(src.items)) errs.push(...validateDownwardAPIFile(f, path));
      break;
    case 'projected': {
      const paths = new Set<string>();
      const addPath = (p: string, name: string) => {
        if (!p) return;
        if (paths.has(p)) errs.push(invalidField(path, name, 'conflicting duplicate paths'));
        paths.add(p);
      };
      errs.push(...validateMode(src.defaultMode, `${path}.defaultMode`));
      arr(src.sources).forEach((s: any, i: number) => {
        const sp = `${path}.sources[${i}]`;
        let n = 0;
        for (const k of ['secret', 'configMap']) {
          if (!isObj(s?.[k])) continue;
          n++;
          if (!str(s[k].name)) errs.push(required(`${sp}.${k}.name`, ''));
          arr(s[k].items).forEach((it: any, j: number) => {
            errs.push(...validateKeyToPath(it, `${sp}.${k}.items[${j}]`));
            addPath(str(it?.path), str(s[k].name));
          });
        }
        if (isObj(s?.downwardAPI)) {
          n++;
          for (const f of arr(s.downwardAPI.items)) {
            errs.push(...validateDownwardAPIFile(f, `${sp}.downwardAPI`));
            addPath(str(f?.path), '');
          }
        }
        if (isObj(s?.serviceAccountToken)) {
          n++;
          const t = s.serviceAccountToken;
          const tp = `${sp}.serviceAccountToken`;
          const exp = num(t.expirationSeconds);
          if (exp < 10 * 60) errs.push(invalidField(`${tp}.expirationSeconds`, t.expirationSeconds, 'may not specify a duration less than 10 minutes'));
          if (exp > 2 ** 32) errs.push(invalidField(`${tp}.expirationSeconds`, t.expirationSeconds, 'may not specify a duration larger than 2^32 seconds'));
          if (!str(t.path)) errs.push(required(`${tp}.path`, ''));
          else errs.push(...validateLocalNonReservedPath(str(t.path), `${tp}.path`));
          addPath(str(t.path), '');
        }
        if (isObj(s?.clusterTrustBundle)) {
          n++;
          addPath(str(s.clusterTrustBundle.path), '');
        }
        if (n > 1) errs.push(forbidden(sp, 'may not specify more than 1 volume type per source'));
      });
      break;
    }
    case 'csi':
      if (!str(src.driver)) errs.push(required(`${path}.driver`, ''));
      break;
    case 'ephemeral':
      if (!isObj(src.volumeClaimTemplate)) {
        errs.push(required(`${path}.volumeClaimTemplate`, ''));
      } else {
        errs.push(...validatePersistentVolumeClaimSpec(src.volumeClaimTemplate.spec, `${path}.volumeClaimTemplate.spec`));
        if (opts.podName && volName) {
          const pvcName = `${opts.podName}-${volName}`;
          for (const m of isDNS1123Subdomain(pvcName)) errs.push(invalidField(path.replace(/\.ephemeral$/, '.name'), volName, `PVC name "${pvcName}": ${m}`));
        }
      }
      break;
    case 'image':
      if (opts.resourceIsPod && !str(src.reference)) errs.push(required(`${path}.reference`, ''));
      if (src.pullPolicy !== undefined && !['Always', 'IfNotPresent', 'Never'].includes(src.pullPolicy)) errs.push(notSupported(`${path}.pullPolicy`, src.pullPolicy, ['Always', 'IfNotPresent', 'Never']));
      break;
    case 'gitRepo':
      if (!str(src.repository)) errs.push(required(`${path}.repository`, ''));
      errs.push(...validateLocalDescendingPath(str(src.directory), `${path}.directory`));
      break;
    case 'iscsi':
      if (!str(src.targetPortal)) errs.push(required(`${path}.targetPortal`, ''));
      if (!str(src.iqn)) errs.push(required(`${path}.iqn`, ''));
      break;
    default:
      break;
  }
  return errs;
}

/** ValidateVolumes: returns the valid volumes by name, for the mounts to be checked against. */
export function validateVolumes(volumes: unknown, path: string, opts: PodSpecValidationOptions, errs: FieldError[]): Map<string, Obj> {
  const vols = new Map<string, Obj>();
  arr(volumes).forEach((vol: any, i: number) => {
    const idx = `${path}[${i}]`;
    const name = str(vol?.name);
    const el: FieldError[] = [];
    let n = 0;
    for (const k of volumeSourceKeys) {
      const src = vol?.[k];
      if (src === undefined || src === null) continue;
      // Upstream names two of these paths differently from the field.
      const p = `${idx}.${k === 'cephfs' ? 'cephFS' : k}`;
      if (n > 0) {
        el.push(forbidden(k === 'downwardAPI' ? `${idx}.downwarAPI` : p, 'may not specify more than 1 volume type'));
        continue;
      }
      n++;
      el.push(...validateVolumeSourceMember(k, isObj(src) ? src : {}, `${idx}.${k}`, name, opts));
    }
    if (n === 0) el.push(required(idx, 'must specify a volume type'));
    if (!name) el.push(required(`${idx}.name`, ''));
    else el.push(...validateDNS1123Label(name, `${idx}.name`));
    if (vols.has(name)) el.push(duplicate(`${idx}.name`, name));
    if (el.length === 0) vols.set(name, vol);
    else errs.push(...el);
  });
  return vols;
}

function validateContainerPorts(ports: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const names = new Set<string>();
  arr(ports).forEach((p: any, i: number) => {
    const idx = `${path}[${i}]`;
    const name = str(p?.name);
    if (name) {
      const msgs = isValidPortName(name);
      if (msgs.length) for (const m of msgs) errs.push(invalidField(`${idx}.name`, name, m));
      else if (names.has(name)) errs.push(duplicate(`${idx}.name`, name));
      else names.add(name);
    }
    if (!p?.containerPort) errs.push(required(`${idx}.containerPort`, ''));
    else for (const m of isValidPortNum(p.containerPort)) errs.push(invalidField(`${idx}.containerPort`, p.containerPort, m));
    if (p?.hostPort) for (const m of isValidPortNum(p.hostPort)) errs.push(invalidField(`${idx}.hostPort`, p.hostPort, m));
    if (!p?.protocol) errs.push(required(`${idx}.protocol`, ''));
    else if (!['SCTP', 'TCP', 'UDP'].includes(p.protocol)) errs.push(notSupported(`${idx}.protocol`, p.protocol, ['SCTP', 'TCP', 'UDP']));
  });
  return errs;
}

const relaxedEnvVarNameMsg = "a valid environment variable name must consist only of printable ASCII characters other than '='";

function isRelaxedEnvVarName(name: string): string[] {
  for (const ch of name) {
    const c = ch.codePointAt(0)!;
    if (c < 32 || c > 126 || ch === '=') return [relaxedEnvVarNameMsg];
  }
  return [];
}

function validateKeySelector(s: any, path: string): FieldError[] {
  const errs: FieldError[] = [];
  for (const m of isDNS1123Subdomain(str(s?.name))) errs.push(invalidField(`${path}.name`, str(s?.name), m));
  const key = str(s?.key);
  if (!key) errs.push(required(`${path}.key`, ''));
  else for (const m of isConfigMapKey(key)) errs.push(invalidField(`${path}.key`, key, m));
  return errs;
}

function validateEnv(env: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  arr(env).forEach((ev: any, i: number) => {
    const idx = `${path}[${i}]`;
    const name = str(ev?.name);
    if (!name) errs.push(required(`${idx}.name`, ''));
    else for (const m of isRelaxedEnvVarName(name)) errs.push(invalidField(`${idx}.name`, name, m));
    const vf = ev?.valueFrom;
    if (vf === undefined || vf === null) return;
    const vp = `${idx}.valueFrom`;
    let n = 0;
    if (isObj(vf.fieldRef)) {
      n++;
      errs.push(...validateObjectFieldSelector(vf.fieldRef, envDownwardAPIFieldPaths, `${vp}.fieldRef`));
    }
    if (isObj(vf.resourceFieldRef)) {
      n++;
      errs.push(...validateResourceFieldSelector(vf.resourceFieldRef, `${vp}.resourceFieldRef`, false));
    }
    if (isObj(vf.configMapKeyRef)) {
      n++;
      errs.push(...validateKeySelector(vf.configMapKeyRef, `${vp}.configMapKeyRef`));
    }
    if (isObj(vf.secretKeyRef)) {
      n++;
      errs.push(...validateKeySelector(vf.secretKeyRef, `${vp}.secretKeyRef`));
    }
    if (n === 0) errs.push(invalidField(vp, '', 'must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`'));
    else if (str(ev.value)) errs.push(invalidField(vp, '', 'may not be specified when `value` is not empty'));
    else if (n > 1) errs.push(invalidField(vp, '', 'may not have more than one field specified at a time'));
  });
  return errs;
}

function validateEnvFrom(envFrom: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  arr(envFrom).forEach((ev: any, i: number) => {
    const idx = `${path}[${i}]`;
    const prefix = str(ev?.prefix);
    if (prefix) for (const m of isRelaxedEnvVarName(prefix)) errs.push(invalidField(`${idx}.prefix`, prefix, m));
    let n = 0;
    for (const k of ['configMapRef', 'secretRef']) {
      if (!isObj(ev?.[k])) continue;
      n++;
      const name = str(ev[k].name);
      if (!name) errs.push(required(`${idx}.${k}.name`, ''));
      else for (const m of isDNS1123Subdomain(name)) errs.push(invalidField(`${idx}.${k}.name`, name, m));
    }
    if (n === 0) errs.push(invalidField(path, '', 'must specify one of: `configMapRef` or `secretRef`'));
    else if (n > 1) errs.push(invalidField(path, '', 'may not have more than one field specified at a time'));
  });
  return errs;
}

function validateVolumeMounts(mounts: unknown, vols: Map<string, Obj>, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const mountPoints = new Set<string>();
  arr(mounts).forEach((m: any, i: number) => {
    const idx = `${path}[${i}]`;
    const name = str(m?.name);
    const mountPath = str(m?.mountPath);
    if (!name) errs.push(required(`${idx}.name`, ''));
    if (!vols.has(name)) errs.push({ type: 'FieldValueNotFound', field: `${idx}.name`, value: name });
    if (!mountPath) errs.push(required(`${idx}.mountPath`, ''));
    if (mountPoints.has(mountPath)) errs.push(invalidField(`${idx}.mountPath`, mountPath, 'must be unique'));
    mountPoints.add(mountPath);
    const vol = vols.get(name);
    if (vol && isObj(vol.image)) {
      if (str(m.subPath)) errs.push(invalidField(`${idx}.subPath`, m.subPath, 'not allowed in image volume sources'));
      if (str(m.subPathExpr)) errs.push(invalidField(`${idx}.subPathExpr`, m.subPathExpr, 'not allowed in image volume sources'));
    }
    // Upstream reports these two against the list's path, not the item's.
    if (str(m?.subPath)) errs.push(...validateLocalDescendingPath(str(m.subPath), `${path}.subPath`));
    if (str(m?.subPathExpr)) {
      if (str(m.subPath)) errs.push(invalidField(`${idx}.subPathExpr`, m.subPathExpr, 'subPathExpr and subPath are mutually exclusive'));
      errs.push(...validateLocalDescendingPath(str(m.subPathExpr), `${path}.subPathExpr`));
    }
    if (m?.mountPropagation !== undefined && !['None', 'HostToContainer', 'Bidirectional'].includes(m.mountPropagation)) {
      errs.push(notSupported(`${path}.mountPropagation`, m.mountPropagation, ['Bidirectional', 'HostToContainer', 'None']));
    }
  });
  return errs;
}

function validateHandler(h: any, path: string, withSleep: boolean, gracePeriod: number | undefined): FieldError[] {
  const errs: FieldError[] = [];
  let n = 0;
  const kinds = withSleep ? ['exec', 'httpGet', 'tcpSocket', 'sleep'] : ['exec', 'httpGet', 'tcpSocket', 'grpc'];
  for (const k of kinds) {
    const v = h?.[k];
    if (v === undefined || v === null) continue;
    if (n > 0) {
      errs.push(forbidden(`${path}.${k}`, 'may not specify more than 1 handler type'));
      continue;
    }
    n++;
    const p = `${path}.${k}`;
    if (k === 'exec' && arr(v.command).length === 0) errs.push(required(`${p}.command`, ''));
    if (k === 'httpGet') {
      if (!str(v.path)) errs.push(required(`${p}.path`, ''));
      errs.push(...validatePortNumOrName(v.port, `${p}.port`));
      if (!['HTTP', 'HTTPS'].includes(v.scheme)) errs.push(notSupported(`${p}.scheme`, v.scheme ?? '', ['HTTP', 'HTTPS']));
      for (const hdr of arr(v.httpHeaders)) {
        const name = str(hdr?.name);
        if (!/^[-A-Za-z0-9!#$%&'*+.^_`|~]+$/.test(name)) {
          errs.push(invalidField(`${p}.httpHeaders`, name, "a valid HTTP header must consist of alphanumeric characters or '-' (e.g. 'X-Header-Name', regex used for validation is '[-A-Za-z0-9]+')"));
        }
      }
    }
    if (k === 'tcpSocket') errs.push(...validatePortNumOrName(v.port, `${p}.port`));
    if (k === 'grpc') for (const m of isValidPortNum(v.port)) errs.push(invalidField(`${p}.port`, v.port, m));
    if (k === 'sleep' && gracePeriod !== undefined) {
      const s = num(v.seconds);
      if (s < 0 || s > gracePeriod) errs.push(invalidField(p, v.seconds, `must be non-negative and less than terminationGracePeriodSeconds (${gracePeriod})`));
    }
  }
  if (n === 0) errs.push(required(path, 'must specify a handler type'));
  return errs;
}

function validateProbe(p: any, path: string, kind: 'liveness' | 'readiness' | 'startup'): FieldError[] {
  if (p === undefined || p === null) return [];
  const errs = validateHandler(p, path, false, undefined);
  for (const f of ['initialDelaySeconds', 'timeoutSeconds', 'periodSeconds', 'successThreshold', 'failureThreshold']) errs.push(...validateNonnegativeField(p[f], `${path}.${f}`));
  if (p.terminationGracePeriodSeconds !== undefined && p.terminationGracePeriodSeconds !== null && num(p.terminationGracePeriodSeconds) <= 0) {
    errs.push(invalidField(`${path}.terminationGracePeriodSeconds`, p.terminationGracePeriodSeconds, 'must be greater than 0'));
  }
  if (kind === 'readiness' && p.terminationGracePeriodSeconds !== undefined && p.terminationGracePeriodSeconds !== null) {
    errs.push(invalidField(`${path}.terminationGracePeriodSeconds`, p.terminationGracePeriodSeconds, 'must not be set for readinessProbes'));
  }
  if (kind !== 'readiness' && num(p.successThreshold) !== 1) errs.push(invalidField(`${path}.successThreshold`, p.successThreshold, 'must be 1'));
  return errs;
}

function validateLifecycle(l: any, path: string, gracePeriod: number | undefined): FieldError[] {
  const errs: FieldError[] = [];
  if (!isObj(l)) return errs;
  if (l.postStart) errs.push(...validateHandler(l.postStart, `${path}.postStart`, true, gracePeriod));
  if (l.preStop) errs.push(...validateHandler(l.preStop, `${path}.preStop`, true, gracePeriod));
  return errs;
}

function validateSeccompProfile(p: any, path: string): FieldError[] {
  if (!isObj(p)) return [];
  const types = ['Localhost', 'RuntimeDefault', 'Unconfined'];
  if (!p.type) return [required(`${path}.type`, 'type is required when seccompProfile is set')];
  if (!types.includes(p.type)) return [notSupported(`${path}.type`, p.type, types)];
  if (p.type === 'Localhost' && !str(p.localhostProfile)) return [required(`${path}.localhostProfile`, 'must be set when seccomp type is Localhost')];
  if (p.type !== 'Localhost' && p.localhostProfile !== undefined && p.localhostProfile !== null) {
    return [invalidField(`${path}.localhostProfile`, p.localhostProfile, 'can only be set when seccomp type is Localhost')];
  }
  return [];
}

function validateContainerSecurityContext(sc: any, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (!isObj(sc)) return errs;
  if (sc.runAsUser !== undefined && sc.runAsUser !== null) for (const m of isValidUserOrGroupID(sc.runAsUser)) errs.push(invalidField(`${path}.runAsUser`, sc.runAsUser, m));
  if (sc.runAsGroup !== undefined && sc.runAsGroup !== null) for (const m of isValidUserOrGroupID(sc.runAsGroup)) errs.push(invalidField(`${path}.runAsGroup`, sc.runAsGroup, m));
  if (sc.procMount !== undefined && sc.procMount !== null && !['Default', 'Unmasked'].includes(sc.procMount)) {
    errs.push(notSupported(`${path}.procMount`, sc.procMount, ['Default', 'Unmasked']));
  }
  errs.push(...validateSeccompProfile(sc.seccompProfile, `${path}.seccompProfile`));
  if (sc.allowPrivilegeEscalation === false) {
    if (sc.privileged === true) errs.push(invalidField(path, sc, 'cannot set `allowPrivilegeEscalation` to false and `privileged` to true'));
    for (const c of arr(sc.capabilities?.add)) {
      if (c === 'CAP_SYS_ADMIN') errs.push(invalidField(path, sc, 'cannot set `allowPrivilegeEscalation` to false and `capabilities.Add` CAP_SYS_ADMIN'));
    }
  }
  return errs;
}

function validateContainerCommon(c: any, vols: Map<string, Obj>, claims: Set<string>, path: string, restartPolicy: string): FieldError[] {
  const errs: FieldError[] = [];
  if (!isObj(c)) return [invalidField(path, c ?? null, 'must be a container')];
  const name = str(c.name);
  if (!name) errs.push(required(`${path}.name`, ''));
  else errs.push(...validateDNS1123Label(name, `${path}.name`));
  if (!str(c.image)) errs.push(required(`${path}.image`, ''));
  const tmp = c.terminationMessagePolicy;
  if (!tmp) errs.push(required(`${path}.terminationMessagePolicy`, ''));
  else if (tmp !== 'File' && tmp !== 'FallbackToLogsOnError') errs.push(notSupported(`${path}.terminationMessagePolicy`, tmp, ['File', 'FallbackToLogsOnError']));
  errs.push(...validateContainerPorts(c.ports, `${path}.ports`));
  errs.push(...validateEnv(c.env, `${path}.env`));
  errs.push(...validateEnvFrom(c.envFrom, `${path}.envFrom`));
  errs.push(...validateVolumeMounts(c.volumeMounts, vols, `${path}.volumeMounts`));
  const ipp = c.imagePullPolicy;
  if (!ipp) errs.push(required(`${path}.imagePullPolicy`, ''));
  else if (!['Always', 'IfNotPresent', 'Never'].includes(ipp)) errs.push(notSupported(`${path}.imagePullPolicy`, ipp, ['Always', 'IfNotPresent', 'Never']));
  errs.push(...validateResourceRequirements(c.resources, `${path}.resources`, claims));
  arr(c.resizePolicy).forEach((p: any) => {
    const rp = `${path}.resizePolicy`;
    if (!p?.resourceName) errs.push(required(rp, ''));
    else if (!['cpu', 'memory'].includes(p.resourceName)) errs.push(notSupported(rp, p.resourceName, ['cpu', 'memory']));
    if (!p?.restartPolicy) errs.push(required(rp, ''));
    else if (!['NotRequired', 'RestartContainer'].includes(p.restartPolicy)) errs.push(notSupported(rp, p.restartPolicy, ['NotRequired', 'RestartContainer']));
    else if (restartPolicy === 'Never' && p.restartPolicy !== 'NotRequired') errs.push(invalidField(rp, p.restartPolicy, "must be 'NotRequired' when `restartPolicy` is 'Never'"));
  });
  errs.push(...validateContainerSecurityContext(c.securityContext, `${path}.securityContext`));
  return errs;
}

function checkHostPortConflicts(containers: any[], path: string): FieldError[] {
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  containers.forEach((c: any, ci: number) => {
    arr(c?.ports).forEach((p: any, pi: number) => {
      if (!p?.hostPort) return;
      const key = `${str(p.protocol)}/${str(p.hostIP)}/${p.hostPort}`;
      if (seen.has(key)) errs.push(duplicate(`${path}[${ci}].ports[${pi}].hostPort`, key));
      else seen.add(key);
    });
  });
  return errs;
}

function validateTolerationsList(tolerations: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  arr(tolerations).forEach((t: any, i: number) => {
    const idx = `${path}[${i}]`;
    const key = str(t?.key);
    if (key) errs.push(...validateLabelName(key, `${idx}.key`));
    if (!key && t?.operator !== 'Exists') errs.push(invalidField(`${idx}.operator`, t?.operator ?? '', 'operator must be Exists when `key` is empty, which means "match all values and all keys"'));
    if (t?.tolerationSeconds !== undefined && t?.tolerationSeconds !== null && t?.effect !== 'NoExecute') {
      errs.push(invalidField(`${idx}.effect`, t?.effect ?? '', "effect must be 'NoExecute' when `tolerationSeconds` is set"));
    }
    switch (t?.operator ?? '') {
      case 'Equal':
      case '': {
        const ve = isValidLabelValue(str(t?.value));
        if (ve.length) errs.push(invalidField(`${idx}.operator`, str(t?.value), ve.join(';')));
        break;
      }
      case 'Exists':
        if (str(t?.value)) errs.push(invalidField(`${idx}.operator`, t.value, "value must be empty when `operator` is 'Exists'"));
        break;
      default:
        errs.push(notSupported(`${idx}.operator`, t.operator, ['Equal', 'Exists']));
    }
    if (t?.effect) errs.push(...validateTaintEffect(t.effect, true, `${idx}.effect`));
  });
  return errs;
}

/** ValidateTolerations, exported for pod updates. */
export const validateTolerations = validateTolerationsList;

export function validateTaintEffect(effect: unknown, allowEmpty: boolean, path: string): FieldError[] {
  if (!allowEmpty && !effect) return [required(path, '')];
  const valid = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'];
  return valid.includes(str(effect)) ? [] : [notSupported(path, effect, valid)];
}

function validateNodeSelectorRequirement(r: any, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const values = arr(r?.values);
  switch (r?.operator) {
    case 'In':
    case 'NotIn':
      if (values.length === 0) errs.push(required(`${path}.values`, "must be specified when `operator` is 'In' or 'NotIn'"));
      break;
    case 'Exists':
    case 'DoesNotExist':
      if (values.length > 0) errs.push(forbidden(`${path}.values`, "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
      break;
    case 'Gt':
    case 'Lt':
      if (values.length !== 1) errs.push(required(`${path}.values`, "must be specified single value when `operator` is 'Lt' or 'Gt'"));
      break;
    default:
      errs.push(invalidField(`${path}.operator`, r?.operator ?? '', 'not a valid selector operator'));
  }
  errs.push(...validateLabelName(r?.key, `${path}.key`));
  return errs;
}

function validateNodeSelectorTerm(term: any, path: string): FieldError[] {
  const errs: FieldError[] = [];
  arr(term?.matchExpressions).forEach((r, j) => errs.push(...validateNodeSelectorRequirement(r, `${path}.matchExpressions[${j}]`)));
  arr(term?.matchFields).forEach((r: any, j) => {
    const p = `${path}.matchFields[${j}]`;
    if (r?.key !== 'metadata.name') errs.push(invalidField(`${p}.key`, r?.key ?? '', 'not a valid field selector key'));
    if (r?.operator !== 'In' && r?.operator !== 'NotIn') errs.push(invalidField(`${p}.operator`, r?.operator ?? '', 'not a valid selector operator'));
    if (arr(r?.values).length !== 1) errs.push(required(`${p}.values`, 'must be only one value when `operator` is \'In\' or \'NotIn\' for node field selector'));
  });
  return errs;
}

/** ValidateNodeSelector (required node affinity, PV node affinity). */
export function validateNodeSelector(sel: any, path: string): FieldError[] {
  const terms = arr(sel?.nodeSelectorTerms);
  if (terms.length === 0) return [required(`${path}.nodeSelectorTerms`, 'must have at least one node selector term')];
  const errs: FieldError[] = [];
  terms.forEach((t, i) => errs.push(...validateNodeSelectorTerm(t, `${path}.nodeSelectorTerms[${i}]`)));
  return errs;
}

function validatePodAffinityTerm(t: any, path: string): FieldError[] {
  const errs = validateLabelSelector(t?.labelSelector, `${path}.labelSelector`);
  errs.push(...validateLabelSelector(t?.namespaceSelector, `${path}.namespaceSelector`));
  arr(t?.namespaces).forEach((ns) => {
    for (const m of isDNS1123Label(str(ns))) errs.push(invalidField(`${path}.namespace`, ns, m));
  });
  if (!str(t?.topologyKey)) errs.push(required(`${path}.topologyKey`, 'can not be empty'));
  else errs.push(...validateLabelName(t.topologyKey, `${path}.topologyKey`));
  return errs;
}

function validateAffinity(a: any, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (!isObj(a)) return errs;
  const weight = (w: unknown, p: string) => {
    const n = num(w);
    if (!(n > 0 && n <= 100)) errs.push(invalidField(p, w, 'must be in the range 1-100'));
  };
  const na = a.nodeAffinity;
  if (isObj(na)) {
    const np = `${path}.nodeAffinity`;
    if (na.requiredDuringSchedulingIgnoredDuringExecution) errs.push(...validateNodeSelector(na.requiredDuringSchedulingIgnoredDuringExecution, `${np}.requiredDuringSchedulingIgnoredDuringExecution`));
    arr(na.preferredDuringSchedulingIgnoredDuringExecution).forEach((t: any, i) => {
      const p = `${np}.preferredDuringSchedulingIgnoredDuringExecution[${i}]`;
      weight(t?.weight, `${p}.weight`);
      errs.push(...validateNodeSelectorTerm(t?.preference, `${p}.preference`));
    });
  }
  for (const k of ['podAffinity', 'podAntiAffinity']) {
    const pa = a[k];
    if (!isObj(pa)) continue;
    const pp = `${path}.${k}`;
    arr(pa.requiredDuringSchedulingIgnoredDuringExecution).forEach((t, i) => errs.push(...validatePodAffinityTerm(t, `${pp}.requiredDuringSchedulingIgnoredDuringExecution[${i}]`)));
    arr(pa.preferredDuringSchedulingIgnoredDuringExecution).forEach((t: any, i) => {
      const p = `${pp}.preferredDuringSchedulingIgnoredDuringExecution[${i}]`;
      weight(t?.weight, `${p}.weight`);
      errs.push(...validatePodAffinityTerm(t?.podAffinityTerm, `${p}.podAffinityTerm`));
    });
  }
  return errs;
}

function validateTopologySpreadConstraints(list: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const cs = arr(list);
  cs.forEach((c: any, i: number) => {
    const p = `${path}[${i}]`;
    if (!(num(c?.maxSkew) > 0)) errs.push(invalidField(`${p}.maxSkew`, c?.maxSkew ?? 0, isNotPositiveErrorMsg));
    if (!str(c?.topologyKey)) errs.push(required(`${p}.topologyKey`, 'can not be empty'));
    else errs.push(...validateLabelName(c.topologyKey, `${p}.topologyKey`));
    if (!['DoNotSchedule', 'ScheduleAnyway'].includes(c?.whenUnsatisfiable)) errs.push(notSupported(`${p}.whenUnsatisfiable`, c?.whenUnsatisfiable ?? '', ['DoNotSchedule', 'ScheduleAnyway']));
    for (const other of cs.slice(i + 1)) {
      if (other?.topologyKey === c?.topologyKey && other?.whenUnsatisfiable === c?.whenUnsatisfiable) {
        errs.push(duplicate(`${p}.{topologyKey, whenUnsatisfiable}`, `{${str(c?.topologyKey)}, ${str(c?.whenUnsatisfiable)}}`));
        break;
      }
    }
    if (c?.minDomains !== undefined && c?.minDomains !== null) {
      if (!(num(c.minDomains) > 0)) errs.push(invalidField(`${p}.minDomains`, c.minDomains, isNotPositiveErrorMsg));
      else if (c.whenUnsatisfiable !== 'DoNotSchedule') errs.push(invalidField(`${p}.minDomains`, c.minDomains, 'can only use minDomains if whenUnsatisfiable=DoNotSchedule, not ScheduleAnyway'));
    }
    for (const k of ['nodeAffinityPolicy', 'nodeTaintsPolicy']) {
      if (c?.[k] !== undefined && c?.[k] !== null && !['Honor', 'Ignore'].includes(c[k])) errs.push(notSupported(`${p}.${k}`, c[k], ['Honor', 'Ignore']));
    }
    errs.push(...validateLabelSelector(c?.labelSelector, `${p}.labelSelector`));
  });
  return errs;
}

function validatePodSecurityContext(sc: any, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (!isObj(sc)) return errs;
  for (const f of ['fsGroup', 'runAsUser', 'runAsGroup']) {
    if (sc[f] !== undefined && sc[f] !== null) for (const m of isValidUserOrGroupID(sc[f])) errs.push(invalidField(`${path}.${f}`, sc[f], m));
  }
  arr(sc.supplementalGroups).forEach((g, i) => {
    for (const m of isValidUserOrGroupID(g)) errs.push(invalidField(`${path}.supplementalGroups[${i}]`, g, m));
  });
  const names = new Set<string>();
  arr(sc.sysctls).forEach((s: any, i: number) => {
    const name = str(s?.name);
    const p = `${path}.sysctls[${i}].name`;
    const re = /^([a-z0-9]([-_a-z0-9]*[a-z0-9])?[./])*[a-z0-9]([-_a-z0-9]*[a-z0-9])?$/;
    if (!name) errs.push(required(p, ''));
    else if (name.length > 253 || !re.test(name)) errs.push(invalidField(p, name, `must have at most 253 characters and match regex ${re.source}`));
    else if (names.has(name)) errs.push(duplicate(p, name));
    names.add(name);
  });
  if (sc.fsGroupChangePolicy !== undefined && sc.fsGroupChangePolicy !== null && !['Always', 'OnRootMismatch'].includes(sc.fsGroupChangePolicy)) {
    errs.push(notSupported(`${path}.fsGroupChangePolicy`, sc.fsGroupChangePolicy, ['Always', 'OnRootMismatch']));
  }
  errs.push(...validateSeccompProfile(sc.seccompProfile, `${path}.seccompProfile`));
  if (sc.supplementalGroupsPolicy !== undefined && sc.supplementalGroupsPolicy !== null && !['Merge', 'Strict'].includes(sc.supplementalGroupsPolicy)) {
    errs.push(notSupported(`${path}.supplementalGroupsPolicy`, sc.supplementalGroupsPolicy, ['Merge', 'Strict']));
  }
  return errs;
}

function validateDNSConfig(cfg: any, dnsPolicy: string, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (dnsPolicy === 'None') {
    if (!isObj(cfg)) return [required(path, 'must provide `dnsConfig` when `dnsPolicy` is None')];
    if (arr(cfg.nameservers).length === 0) return [required(`${path}.nameservers`, 'must provide at least one DNS nameserver when `dnsPolicy` is None')];
  }
  if (!isObj(cfg)) return errs;
  const ns = arr(cfg.nameservers);
  if (ns.length > 3) errs.push(invalidField(`${path}.nameservers`, ns, 'must not have more than 3 nameservers'));
  ns.forEach((n, i) => errs.push(...validateIP(n, `${path}.nameservers[${i}]`)));
  const searches = arr(cfg.searches).map(str);
  if (searches.length > 32) errs.push(invalidField(`${path}.searches`, searches, 'must not have more than 32 search paths'));
  if (searches.join(' ').length > 2048) errs.push(invalidField(`${path}.searches`, searches, 'must not have more than 2048 characters (including spaces) in the search list'));
  searches.forEach((s, i) => {
    if (s === '.') return;
    const t = s.replace(/\.$/, '');
    const re = /^[a-z0-9_]([-a-z0-9_]*[a-z0-9_])?(\.[a-z0-9_]([-a-z0-9_]*[a-z0-9_])?)*$/;
    if (t.length > 253) errs.push(invalidField(`${path}.searches[${i}]`, t, 'must be no more than 253 characters'));
    if (!re.test(t)) {
      errs.push(
        invalidField(
          `${path}.searches[${i}]`,
          t,
          "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '_', '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9_]([-a-z0-9_]*[a-z0-9_])?(\\.[a-z0-9_]([-a-z0-9_]*[a-z0-9_])?)*')",
        ),
      );
    }
  });
  arr(cfg.options).forEach((o: any, i) => {
    if (!str(o?.name)) errs.push(required(`${path}.options[${i}]`, 'must not be empty'));
  });
  return errs;
}

/** Upstream's ValidatePodSpec; `path` is where the spec sits, as `spec` or `spec.template.spec`. */
export function validatePodSpec(spec: PodSpec, path: string, opts: PodSpecValidationOptions = {}): FieldError[] {
  const s = spec as Obj;
  if (!isObj(s)) return [required(path, '')];
  const errs: FieldError[] = [];
  if (s.terminationGracePeriodSeconds === undefined || s.terminationGracePeriodSeconds === null) errs.push(required(`${path}.terminationGracePeriodSeconds`, ''));
  const grace = s.terminationGracePeriodSeconds === undefined || s.terminationGracePeriodSeconds === null ? undefined : num(s.terminationGracePeriodSeconds);
  const restartPolicy = str(s.restartPolicy);
  const vols = validateVolumes(s.volumes, `${path}.volumes`, opts, errs);
  // Resource claims.
  const claims = new Set<string>();
  arr(s.resourceClaims).forEach((c: any, i: number) => {
    const p = `${path}.resourceClaims[${i}]`;
    const name = str(c?.name);
    if (!name) errs.push(required(`${p}.name`, ''));
    else if (claims.has(name)) errs.push(duplicate(`${p}.name`, name));
    else {
      errs.push(...validateDNS1123Label(name, `${p}.name`));
      claims.add(name);
    }
    const hasName = c?.resourceClaimName !== undefined && c?.resourceClaimName !== null;
    const hasTemplate = c?.resourceClaimTemplateName !== undefined && c?.resourceClaimTemplateName !== null;
    if (hasName && hasTemplate) errs.push(invalidField(p, c, 'at most one of `resourceClaimName` or `resourceClaimTemplateName` may be specified'));
    if (!hasName && !hasTemplate) errs.push(invalidField(p, c, 'must specify one of: `resourceClaimName`, `resourceClaimTemplateName`'));
  });
  // Containers.
  const containers = arr(s.containers);
  const cPath = `${path}.containers`;
  if (containers.length === 0) errs.push(required(cPath, ''));
  const names = new Set<string>();
  containers.forEach((c: any, i: number) => {
    const p = `${cPath}[${i}]`;
    errs.push(...validateContainerCommon(c, vols, claims, p, restartPolicy));
    if (!isObj(c)) return;
    if (names.has(str(c.name))) errs.push(duplicate(`${p}.name`, str(c.name)));
    else names.add(str(c.name));
    errs.push(...validateLifecycle(c.lifecycle, `${p}.lifecycle`, grace));
    errs.push(...validateProbe(c.livenessProbe, `${p}.livenessProbe`, 'liveness'));
    errs.push(...validateProbe(c.readinessProbe, `${p}.readinessProbe`, 'readiness'));
    errs.push(...validateProbe(c.startupProbe, `${p}.startupProbe`, 'startup'));
    if (c.restartPolicy !== undefined && c.restartPolicy !== null) errs.push(forbidden(`${p}.restartPolicy`, 'may not be set for non-init containers'));
  });
  errs.push(...checkHostPortConflicts(containers, cPath));
  // Init containers.
  const icPath = `${path}.initContainers`;
  arr(s.initContainers).forEach((c: any, i: number) => {
    const p = `${icPath}[${i}]`;
    errs.push(...validateContainerCommon(c, vols, claims, p, restartPolicy));
    if (!isObj(c)) return;
    let always = false;
    if (c.restartPolicy !== undefined && c.restartPolicy !== null) {
      if (c.restartPolicy !== 'Always') errs.push(notSupported(`${p}.restartPolicy`, c.restartPolicy, ['Always']));
      always = c.restartPolicy === 'Always';
    }
    if (names.has(str(c.name))) errs.push(duplicate(`${p}.name`, str(c.name)));
    else if (str(c.name)) names.add(str(c.name));
    errs.push(...checkHostPortConflicts([c], icPath));
    if (always) {
      errs.push(...validateLifecycle(c.lifecycle, `${p}.lifecycle`, grace));
      errs.push(...validateProbe(c.livenessProbe, `${p}.livenessProbe`, 'liveness'));
      errs.push(...validateProbe(c.readinessProbe, `${p}.readinessProbe`, 'readiness'));
      errs.push(...validateProbe(c.startupProbe, `${p}.startupProbe`, 'startup'));
    } else {
      for (const f of ['lifecycle', 'livenessProbe', 'readinessProbe', 'startupProbe']) {
        if (c[f] !== undefined && c[f] !== null) errs.push(forbidden(`${p}.${f}`, 'may not be set for init containers without restartPolicy=Always'));
      }
    }
  });
  // hostNetwork: within a Pod, hostPort must equal containerPort; in a template it may be left 0.
  if (s.hostNetwork === true) {
    containers.forEach((c: any, i: number) => {
      arr(c?.ports).forEach((p: any, j: number) => {
        const hp = num(p?.hostPort);
        const cp = num(p?.containerPort);
        if ((opts.resourceIsPod || hp !== 0) && hp !== cp) errs.push(invalidField(`${cPath}[${i}].ports[${j}].hostPort`, p?.hostPort ?? 0, 'must match `containerPort` when `hostNetwork` is true'));
      });
    });
  }
  if (!restartPolicy) errs.push(required(`${path}.restartPolicy`, ''));
  else if (!['Always', 'OnFailure', 'Never'].includes(restartPolicy)) errs.push(notSupported(`${path}.restartPolicy`, restartPolicy, ['Always', 'OnFailure', 'Never']));
  const dnsPolicy = str(s.dnsPolicy);
  const dnsPolicies = ['ClusterFirstWithHostNet', 'ClusterFirst', 'Default', 'None'];
  if (!dnsPolicy) errs.push(required(`${path}.dnsPolicy`, ''));
  else if (!dnsPolicies.includes(dnsPolicy)) errs.push(notSupported(`${path}.dnsPolicy`, dnsPolicy, dnsPolicies));
  errs.push(...validateLabels(s.nodeSelector, `${path}.nodeSelector`));
  errs.push(...validatePodSecurityContext(s.securityContext, `${path}.securityContext`));
  if (isObj(s.securityContext) && s.securityContext.shareProcessNamespace === true && s.hostPID === true) {
    errs.push(invalidField(`${path}.securityContext.shareProcessNamespace`, true, 'ShareProcessNamespace and HostPID cannot both be enabled'));
  }
  arr(s.imagePullSecrets).forEach((r: any, i: number) => {
    if (!isObj(r) || Object.keys(r).some((k) => k !== 'name')) errs.push(invalidField(`${path}.imagePullSecrets[${i}]`, r, 'only name may be set'));
  });
  errs.push(...validateAffinity(s.affinity, `${path}.affinity`));
  errs.push(...validateDNSConfig(s.dnsConfig, dnsPolicy, `${path}.dnsConfig`));
  arr(s.readinessGates).forEach((g: any, i: number) => {
    const t = str(g?.conditionType);
    for (const m of isQualifiedName(t)) errs.push(invalidField(`${path}.readinessGates[${i}].conditionType`, t, m));
  });
  const gates = new Set<string>();
  arr(s.schedulingGates).forEach((g: any, i: number) => {
    const n = str(g?.name);
    for (const m of isQualifiedName(n)) errs.push(invalidField(`${path}.schedulingGates[${i}]`, n, m));
    if (gates.has(n)) errs.push(duplicate(`${path}.schedulingGates[${i}]`, n));
    gates.add(n);
  });
  errs.push(...validateTopologySpreadConstraints(s.topologySpreadConstraints, `${path}.topologySpreadConstraints`));
  if (isObj(s.securityContext) && s.securityContext.hostUsers === false) {
    if (s.hostNetwork) errs.push(forbidden(`${path}.hostNetwork`, 'when `pod.Spec.HostUsers` is false'));
    if (s.hostPID) errs.push(forbidden(`${path}.HostPID`, 'when `pod.Spec.HostUsers` is false'));
    if (s.hostIPC) errs.push(forbidden(`${path}.HostIPC`, 'when `pod.Spec.HostUsers` is false'));
  }
  if (str(s.serviceAccountName)) errs.push(...validateDNS1123Subdomain(s.serviceAccountName, `${path}.serviceAccountName`));
  if (str(s.nodeName)) errs.push(...validateDNS1123Subdomain(s.nodeName, `${path}.nodeName`));
  if (s.activeDeadlineSeconds !== undefined && s.activeDeadlineSeconds !== null) {
    const v = num(s.activeDeadlineSeconds);
    if (!(v >= 1 && v <= maxInt32)) errs.push(invalidField(`${path}.activeDeadlineSeconds`, s.activeDeadlineSeconds, inclusiveRangeError(1, maxInt32)));
  }
  if (str(s.hostname)) errs.push(...validateDNS1123Label(s.hostname, `${path}.hostname`));
  if (str(s.subdomain)) errs.push(...validateDNS1123Label(s.subdomain, `${path}.subdomain`));
  errs.push(...validateTolerationsList(s.tolerations, `${path}.tolerations`));
  arr(s.hostAliases).forEach((h: any, i: number) => {
    errs.push(...validateIP(h?.ip, `${path}.hostAliases[${i}].ip`));
    arr(h?.hostnames).forEach((n, j) => errs.push(...validateDNS1123Subdomain(n, `${path}.hostAliases[${i}].hostnames[${j}]`)));
  });
  if (str(s.priorityClassName)) errs.push(...validateDNS1123Subdomain(s.priorityClassName, `${path}.priorityClassName`));
  if (s.runtimeClassName !== undefined && s.runtimeClassName !== null) errs.push(...validateDNS1123Subdomain(s.runtimeClassName, `${path}.runtimeClassName`));
  if (s.preemptionPolicy !== undefined && s.preemptionPolicy !== null) {
    if (!s.preemptionPolicy) errs.push(required(`${path}.preemptionPolicy`, ''));
    else if (!['PreemptLowerPriority', 'Never'].includes(s.preemptionPolicy)) errs.push(notSupported(`${path}.preemptionPolicy`, s.preemptionPolicy, ['PreemptLowerPriority', 'Never']));
  }
  if (s.overhead !== undefined && s.overhead !== null) errs.push(...validateResourceRequirements({ limits: s.overhead }, `${path}.overhead`));
  if (s.os !== undefined && s.os !== null) {
    const osName = str(s.os?.name);
    if (!osName) errs.push(required(`${path}.os.name`, ''));
    else if (!['linux', 'windows'].includes(osName)) errs.push(notSupported(`${path}.os.name`, osName, ['linux', 'windows']));
    else if (osName === 'linux' && isObj(s.securityContext?.windowsOptions)) errs.push(forbidden(`${path}.securityContext.windowsOptions`, 'windows options cannot be set for a linux pod'));
  }
  return errs;
}

/** ValidatePodTemplateSpec: the template's labels and annotations, and its spec. */
export function validatePodTemplateSpec(t: PodTemplateSpec | undefined, path: string): FieldError[] {
  if (!t) return [];
  const errs: FieldError[] = [];
  const meta = (t as Obj).metadata;
  if (isObj(meta)) {
    errs.push(...validateLabels(meta.labels, `${path}.labels`));
    errs.push(...validateAnnotations(meta.annotations, `${path}.annotations`));
  }
  errs.push(...validatePodSpec((t as Obj).spec ?? {}, `${path}.spec`));
  if (arr((t as Obj).spec?.ephemeralContainers).length > 0) errs.push(forbidden(`${path}.spec.ephemeralContainers`, 'ephemeral containers not allowed in pod template'));
  return errs;
}

// ---------------------------------------------------------------------------------------------
// PersistentVolumeClaimSpec, shared by PVCs and generic ephemeral volumes.

export const supportedAccessModes = ['ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOnce', 'ReadWriteOncePod'];

export function validateAccessModes(modes: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  let rwop = false;
  let other = false;
  for (const m of arr(modes)) {
    if (!supportedAccessModes.includes(m)) errs.push(notSupported(path, m, supportedAccessModes));
    if (m === 'ReadWriteOncePod') rwop = true;
    else if (supportedAccessModes.includes(m)) other = true;
  }
  if (rwop && other) errs.push(forbidden(path, 'may not use ReadWriteOncePod with other access modes'));
  return errs;
}

/** ValidatePersistentVolumeClaimSpec. */
export function validatePersistentVolumeClaimSpec(spec: unknown, path: string): FieldError[] {
  const s = isObj(spec) ? spec : {};
  const errs: FieldError[] = [];
  if (arr(s.accessModes).length === 0) errs.push(required(`${path}.accessModes`, 'at least 1 access mode is required'));
  errs.push(...validateLabelSelector(s.selector, `${path}.selector`));
  errs.push(...validateAccessModes(s.accessModes, `${path}.accessModes`));
  const storagePath = `${path}.resources[storage]`;
  const requests = isObj(s.resources?.requests) ? s.resources.requests : {};
  if (!('storage' in requests)) errs.push(required(storagePath, ''));
  else {
    const q = parseQuantityField(requests.storage, storagePath, errs);
    if (q && q.m <= 0n) errs.push(invalidField(storagePath, formatQuantity(q), isNotPositiveErrorMsg));
  }
  if (str(s.storageClassName)) errs.push(...validateDNS1123Subdomain(s.storageClassName, `${path}.storageClassName`));
  if (s.volumeMode !== undefined && s.volumeMode !== null && !['Block', 'Filesystem'].includes(s.volumeMode)) errs.push(notSupported(`${path}.volumeMode`, s.volumeMode, ['Block', 'Filesystem']));
  for (const k of ['dataSource', 'dataSourceRef']) {
    const ds = s[k];
    if (!isObj(ds)) continue;
    const p = `${path}.${k}`;
    if (!str(ds.name)) errs.push(required(`${p}.name`, ''));
    if (!str(ds.kind)) errs.push(required(`${p}.kind`, ''));
    const group = str(ds.apiGroup);
    if (!group && ds.kind !== 'PersistentVolumeClaim') errs.push(invalidField(p, ds.kind ?? '', "must be 'PersistentVolumeClaim' when referencing the default apiGroup"));
    if (group) errs.push(...validateDNS1123Subdomain(group, `${p}.apiGroup`));
  }
  if (str(s.volumeAttributesClassName)) errs.push(...validateDNS1123Subdomain(s.volumeAttributesClassName, `${path}.volumeAttributesClassName`));
  return errs;
}

/** Total bytes of string values (ConfigMap data) or base64 payloads (Secret data). */
export function dataSize(m: Record<string, unknown>, base64: boolean): number {
  let n = 0;
  for (const v of Object.values(m)) {
    const s = str(v);
    n += base64 ? Buffer.from(s, 'base64').length : Buffer.byteLength(s, 'utf8');
  }
  return n;
}

/** Upstream's MaxSecretSize, the limit for ConfigMaps and Secrets alike. */
export const maxSecretSize = 1024 * 1024;
export { tooLong };
