/**
 * Protobuf request bodies: the 4 magic bytes `k8s\0` followed by a runtime.Unknown whose raw is
 * the object's own k8s.io message (docs/kubectl-wire.md §2). kubectl 1.32+ sends every
 * `kubectl create <kind>` body, DeleteOptions and the `auth can-i` reviews this way.
 *
 * The messages come from the .proto files under `proto/k8s.io/`, loaded once on first use. A
 * decoded message is turned into the JSON upstream's Go types would marshal for the same bytes:
 * - gogo-protobuf writes every non-pointer scalar, so a zero scalar on the wire usually means
 *   "unset" and is dropped (Go's `omitempty`); the fields in {@link KEEP_ZERO} are pointers (or
 *   lack omitempty) in upstream's types, and there the zero value means something;
 * - messages present on the wire are kept even when empty (`status: {}`), since gogo writes
 *   non-pointer structs unconditionally and encoding/json does the same;
 * - the apimachinery wrapper types (Time, MicroTime, IntOrString, Quantity, RawExtension,
 *   FieldsV1, …) become their JSON forms, and embedded Go structs are inlined.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import * as errors from '../api/errors.js';
import type { KubeObject } from '../api/types.js';
import type { ResourceDef } from '../registry/types.js';

const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

const META = 'k8s.io.apimachinery.pkg.apis.meta.v1';
const RUNTIME = 'k8s.io.apimachinery.pkg.runtime';
const CORE = 'k8s.io.api.core.v1';
const APIEXTENSIONS = 'k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1';

/** Kinds of meta.k8s.io that every group version also accepts (upstream's AddToGroupVersion). */
const META_KINDS = new Set(['DeleteOptions', 'CreateOptions', 'UpdateOptions', 'PatchOptions', 'Status', 'WatchEvent']);

/**
 * Go embedded structs (`json:",inline"`): go-to-protobuf gives them a field of their own, whose
 * content JSON flattens into the parent.
 */
const INLINE = new Set([
  `${CORE}.ConfigMapEnvSource.localObjectReference`,
  `${CORE}.ConfigMapKeySelector.localObjectReference`,
  `${CORE}.ConfigMapProjection.localObjectReference`,
  `${CORE}.ConfigMapVolumeSource.localObjectReference`,
  `${CORE}.SecretEnvSource.localObjectReference`,
  `${CORE}.SecretKeySelector.localObjectReference`,
  `${CORE}.SecretProjection.localObjectReference`,
  `${CORE}.EphemeralContainer.ephemeralContainerCommon`,
  `${CORE}.Probe.handler`,
  `${CORE}.Volume.volumeSource`,
  `${CORE}.PersistentVolumeSpec.persistentVolumeSource`,
  'k8s.io.api.networking.v1.IngressRule.ingressRuleValue',
]);

/** Fields whose proto name differs from the JSON name for reasons other than the patterns below. */
const JSON_NAMES: Record<string, string> = {
  'k8s.io.api.networking.v1.IngressClassParametersReference.aPIGroup': 'apiGroup',
  'k8s.io.api.authentication.v1.BoundObjectReference.uID': 'uid',
  'k8s.io.api.authentication.v1.BoundObjectReference.aPIVersion': 'apiVersion',
  [`${APIEXTENSIONS}.JSONSchemaProps.ref`]: '$ref',
  [`${APIEXTENSIONS}.JSONSchemaProps.schema`]: '$schema',
};

/**
 * Scalars kept even at their zero value: pointer fields of upstream's Go types (nil is not on the
 * wire, so a zero that is there was set on purpose), and a few non-omitempty fields whose zero
 * value matters. Keyed `<message full name>.<field>`; each entry is `Message: field field …`.
 */
const KEEP_ZERO = new Set(
  Object.entries({
    [CORE]: [
      'PodSpec: terminationGracePeriodSeconds activeDeadlineSeconds automountServiceAccountToken shareProcessNamespace priority enableServiceLinks preemptionPolicy runtimeClassName setHostnameAsFQDN hostUsers hostnameOverride',
      'SecurityContext: privileged runAsUser runAsGroup runAsNonRoot readOnlyRootFilesystem allowPrivilegeEscalation procMount',
      'PodSecurityContext: runAsUser runAsGroup runAsNonRoot fsGroup fsGroupChangePolicy supplementalGroupsPolicy seLinuxChangePolicy',
      'WindowsSecurityContextOptions: gmsaCredentialSpecName gmsaCredentialSpec runAsUserName hostProcess',
      'Probe: terminationGracePeriodSeconds',
      'GRPCAction: service',
      'Container: restartPolicy',
      'EphemeralContainerCommon: restartPolicy',
      'Lifecycle: stopSignal',
      'VolumeMount: recursiveReadOnly mountPropagation',
      'ConfigMapVolumeSource: defaultMode optional',
      'SecretVolumeSource: defaultMode optional',
      'ProjectedVolumeSource: defaultMode',
      'DownwardAPIVolumeSource: defaultMode',
      'DownwardAPIVolumeFile: mode',
      'KeyToPath: mode',
      'ConfigMapProjection: optional',
      'SecretProjection: optional',
      'ConfigMapKeySelector: optional',
      'SecretKeySelector: optional',
      'ConfigMapEnvSource: optional',
      'SecretEnvSource: optional',
      'FileKeySelector: optional',
      'ServiceAccountTokenProjection: expirationSeconds',
      'ClusterTrustBundleProjection: name signerName optional',
      'PodCertificateProjection: maxExpirationSeconds',
      'HostPathVolumeSource: type',
      'CSIVolumeSource: readOnly fsType',
      'AzureDiskVolumeSource: cachingMode fsType readOnly kind',
      'ISCSIVolumeSource: initiatorName',
      'ISCSIPersistentVolumeSource: initiatorName',
      'LocalVolumeSource: fsType',
      'PersistentVolumeClaimSpec: storageClassName volumeMode volumeAttributesClassName',
      'PersistentVolumeClaimStatus: currentVolumeAttributesClassName',
      'PersistentVolumeSpec: volumeMode volumeAttributesClassName',
      'ServiceSpec: allocateLoadBalancerNodePorts loadBalancerClass internalTrafficPolicy ipFamilyPolicy trafficDistribution',
      'ServicePort: appProtocol',
      'ClientIPConfig: timeoutSeconds',
      'LoadBalancerIngress: ipMode',
      'PortStatus: error',
      'EndpointPort: appProtocol',
      'EndpointAddress: nodeName',
      'ServiceAccount: automountServiceAccountToken',
      'ConfigMap: immutable',
      'Secret: immutable',
      'ReplicationControllerSpec: replicas',
      'ReplicationControllerStatus: replicas',
      'TopologySpreadConstraint: minDomains nodeAffinityPolicy nodeTaintsPolicy',
      'Toleration: tolerationSeconds',
      'SeccompProfile: localhostProfile',
      'AppArmorProfile: localhostProfile',
      'TypedLocalObjectReference: apiGroup',
      'TypedObjectReference: apiGroup namespace',
      'PodDNSConfigOption: value',
      'PodResourceClaim: resourceClaimName resourceClaimTemplateName',
      'PodResourceClaimStatus: resourceClaimName',
      'ContainerStatus: ready restartCount started stopSignal',
      'ContainerStateTerminated: exitCode',
      'LinuxContainerUser: uid gid',
      'NodeSwapStatus: capacity',
      'NodeFeatures: supplementalGroupsPolicy',
      'NodeRuntimeHandlerFeatures: recursiveReadOnlyMounts userNamespaces',
    ],
    'k8s.io.api.apps.v1': [
      'DeploymentSpec: replicas revisionHistoryLimit progressDeadlineSeconds podReplacementPolicy',
      'DeploymentStatus: terminatingReplicas collisionCount',
      'ReplicaSetSpec: replicas',
      'ReplicaSetStatus: replicas terminatingReplicas',
      'StatefulSetSpec: replicas revisionHistoryLimit',
      'StatefulSetStatus: replicas collisionCount',
      'RollingUpdateStatefulSetStrategy: partition',
      'DaemonSetSpec: revisionHistoryLimit',
      'DaemonSetStatus: currentNumberScheduled numberMisscheduled desiredNumberScheduled numberReady collisionCount',
    ],
    'k8s.io.api.batch.v1': [
      'JobSpec: parallelism completions activeDeadlineSeconds backoffLimit backoffLimitPerIndex maxFailedIndexes ttlSecondsAfterFinished manualSelector suspend completionMode podReplacementPolicy managedBy',
      'JobStatus: ready terminating',
      'CronJobSpec: timeZone startingDeadlineSeconds suspend successfulJobsHistoryLimit failedJobsHistoryLimit',
      'PodFailurePolicyOnExitCodesRequirement: containerName',
      'SuccessPolicyRule: succeededIndexes succeededCount',
    ],
    'k8s.io.api.policy.v1': [
      'PodDisruptionBudgetSpec: unhealthyPodEvictionPolicy availabilityMode',
      'PodDisruptionBudgetStatus: disruptionsAllowed currentHealthy desiredHealthy expectedPods',
    ],
    'k8s.io.api.networking.v1': [
      'IngressSpec: ingressClassName',
      'HTTPIngressPath: pathType',
      'NetworkPolicyPort: protocol endPort',
      'IngressClassParametersReference: aPIGroup scope namespace',
      'IngressPortStatus: error',
    ],
    'k8s.io.api.scheduling.v1': ['PriorityClass: value preemptionPolicy'],
    'k8s.io.api.coordination.v1': ['LeaseSpec: holderIdentity leaseDurationSeconds leaseTransitions strategy preferredHolder'],
    'k8s.io.api.discovery.v1': [
      'Endpoint: hostname nodeName zone',
      'EndpointConditions: ready serving terminating',
      'EndpointPort: name protocol port appProtocol',
    ],
    'k8s.io.api.events.v1': ['EventSeries: count'],
    'k8s.io.api.autoscaling.v1': [
      'HorizontalPodAutoscalerSpec: minReplicas maxReplicas targetCPUUtilizationPercentage',
      'HorizontalPodAutoscalerStatus: observedGeneration currentReplicas desiredReplicas currentCPUUtilizationPercentage',
      'ScaleStatus: replicas',
    ],
    'k8s.io.api.autoscaling.v2': [
      'HorizontalPodAutoscalerSpec: minReplicas maxReplicas',
      'HorizontalPodAutoscalerStatus: observedGeneration desiredReplicas',
      'MetricTarget: averageUtilization',
      'MetricValueStatus: averageUtilization',
      'HPAScalingRules: stabilizationWindowSeconds selectPolicy',
      'HPAScalingPolicy: value periodSeconds',
    ],
    'k8s.io.api.storage.v1': ['StorageClass: reclaimPolicy allowVolumeExpansion volumeBindingMode'],
    'k8s.io.api.authorization.v1': ['SubjectAccessReviewStatus: allowed', 'SubjectRulesReviewStatus: incomplete'],
    'k8s.io.api.authentication.v1': ['TokenRequestSpec: expirationSeconds'],
    [META]: [
      'DeleteOptions: gracePeriodSeconds orphanDependents propagationPolicy ignoreStoreReadErrorWithClusterBreakingPotential',
      'Preconditions: uid resourceVersion',
      'ObjectMeta: deletionGracePeriodSeconds',
      'OwnerReference: controller blockOwnerDeletion',
      'ListMeta: remainingItemCount',
    ],
    [APIEXTENSIONS]: [
      'CustomResourceDefinitionVersion: served storage',
      'JSONSchemaProps: maximum minimum maxLength minLength maxItems minItems multipleOf maxProperties minProperties xKubernetesPreserveUnknownFields xKubernetesListType xKubernetesMapType',
      'ServiceReference: path port',
      'WebhookClientConfig: url',
      'CustomResourceSubresourceScale: labelSelectorPath',
      'ValidationRule: reason optionalOldSelf',
    ],
  }).flatMap(([pkg, lines]) =>
    lines.flatMap((line) => {
      const [msg, fields] = line.split(': ') as [string, string];
      return fields.split(' ').map((f) => `${pkg}.${msg}.${f}`);
    }),
  ),
);

let root: protobuf.Root | undefined;

/** Finds `proto/k8s.io` from the running module, in the source tree, `dist/` or a `.build/<x>/` outDir. */
function protoDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = path.join(dir, 'proto');
    if (fs.existsSync(path.join(candidate, 'k8s.io'))) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('proto/k8s.io not found above ' + path.dirname(fileURLToPath(import.meta.url)));
    dir = parent;
  }
}

function protoFiles(base: string, rel: string, out: string[]): string[] {
  for (const e of fs.readdirSync(path.join(base, rel), { withFileTypes: true })) {
    const p = path.posix.join(rel, e.name);
    if (e.isDirectory()) protoFiles(base, p, out);
    else if (e.name.endsWith('.proto')) out.push(p);
  }
  return out;
}

/** The k8s.io messages, parsed on first use (a few tens of milliseconds) and kept. */
export function kubeProtoRoot(): protobuf.Root {
  if (root) return root;
  const base = protoDir();
  const r = new protobuf.Root();
  r.resolvePath = (_origin, target) => path.join(base, target);
  r.loadSync(protoFiles(base, 'k8s.io', []).sort(), { keepCase: true });
  r.resolveAll();
  root = r;
  return r;
}

/** The protobuf package of an apiVersion: `apps/v1` → `k8s.io.api.apps.v1`. */
function packageOf(apiVersion: string): string | undefined {
  const slash = apiVersion.indexOf('/');
  const group = slash < 0 ? '' : apiVersion.slice(0, slash);
  const version = slash < 0 ? apiVersion : apiVersion.slice(slash + 1);
  if (!/^v\d+((alpha|beta)\d+)?$/.test(version)) return undefined;
  if (group === '') return `k8s.io.api.core.${version}`;
  if (group === 'meta.k8s.io') return `k8s.io.apimachinery.pkg.apis.meta.${version}`;
  if (group === 'apiextensions.k8s.io') return `k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.${version}`;
  if (group.endsWith('.k8s.io') || !group.includes('.')) return `k8s.io.api.${group.split('.')[0]}.${version}`;
  return undefined;
}

/** The message type of a top-level kind, or undefined when this server has none. */
function typeFor(r: protobuf.Root, apiVersion: string, kind: string): protobuf.Type | undefined {
  if (!/^[A-Z][A-Za-z0-9]*$/.test(kind)) return undefined;
  const pkg = packageOf(apiVersion);
  if (!pkg) return undefined;
  const found = r.lookup(`${pkg}.${kind}`);
  if (found instanceof protobuf.Type && found.fields['metadata']) return found;
  if (META_KINDS.has(kind)) {
    const meta = r.lookup(`${META}.${kind}`);
    if (meta instanceof protobuf.Type) return meta;
  }
  return undefined;
}

function groupVersionOf(def: ResourceDef): string {
  return def.group ? `${def.group}/${def.version}` : def.version;
}

/**
 * Decodes a `k8s\0` + runtime.Unknown body into the object's JSON form, with apiVersion and kind
 * from the envelope (or from `def` when the envelope leaves them empty).
 * @throws StatusError 400 for a malformed body, 415 for a kind with no protobuf message here.
 */
export function decodeProtobuf(body: Buffer, def: ResourceDef | undefined): KubeObject {
  if (body.length < MAGIC.length || !body.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw errors.badRequest('the protobuf body does not start with the "k8s\\x00" envelope prefix');
  }
  const r = kubeProtoRoot();
  const unknownType = r.lookupType(`${RUNTIME}.Unknown`);
  let unknown: Record<string, any>;
  try {
    unknown = unknownType.decode(body.subarray(MAGIC.length)) as unknown as Record<string, any>;
  } catch (e) {
    throw errors.badRequest(`unable to decode the protobuf envelope: ${(e as Error).message}`);
  }
  const typeMeta = (unknown['typeMeta'] ?? {}) as { apiVersion?: string; kind?: string };
  const apiVersion = typeMeta.apiVersion || (def ? groupVersionOf(def) : '');
  const kind = typeMeta.kind || def?.kind || '';
  if (!kind) throw errors.badRequest("Object 'Kind' is missing in the protobuf envelope");
  if (unknown['contentEncoding']) throw errors.badRequest(`unsupported content encoding ${JSON.stringify(unknown['contentEncoding'])} in the protobuf envelope`);
  const raw: Uint8Array = unknown['raw'] ?? new Uint8Array();
  const contentType = String(unknown['contentType'] ?? '');

  let obj: Record<string, unknown>;
  if (contentType.startsWith('application/json')) {
    obj = parseJSONBytes(raw, 'raw');
    if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) throw errors.badRequest('the JSON inside the protobuf envelope is not an object');
  } else {
    if (contentType && contentType !== 'application/vnd.kubernetes.protobuf') {
      throw errors.badRequest(`unsupported content type ${JSON.stringify(contentType)} in the protobuf envelope`);
    }
    const type = typeFor(r, apiVersion, kind);
    if (!type) throw errors.unsupportedMediaType(`application/vnd.kubernetes.protobuf (no protobuf message for kind "${kind}" in version "${apiVersion}")`);
    let msg: protobuf.Message;
    try {
      msg = type.decode(raw);
    } catch (e) {
      throw errors.badRequest(`unable to decode ${kind} from protobuf: ${(e as Error).message}`);
    }
    obj = messageToJSON(type, msg as unknown as Record<string, unknown>);
  }
  return { kind, apiVersion, ...obj } as KubeObject;
}

function parseJSONBytes(raw: Uint8Array, what: string): any {
  try {
    return JSON.parse(Buffer.from(raw).toString('utf8'));
  } catch (e) {
    throw errors.badRequest(`${what} inside the protobuf body is not valid JSON: ${(e as Error).message}`);
  }
}

function toNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  if (v && typeof v === 'object' && 'low' in v && 'high' in v) return protobuf.util.LongBits.from(v as protobuf.Long).toNumber((v as protobuf.Long).unsigned);
  return Number(v);
}

function isZero(v: unknown): boolean {
  if (v === '' || v === false || v === 0 || v === null || v === undefined) return true;
  if (v instanceof Uint8Array) return v.length === 0;
  if (typeof v === 'object' && 'low' in v && 'high' in v) return (v as protobuf.Long).low === 0 && (v as protobuf.Long).high === 0;
  return false;
}

function jsonName(type: protobuf.Type, field: protobuf.Field): string {
  const full = `${type.fullName.slice(1)}.${field.name}`;
  const named = JSON_NAMES[full];
  if (named) return named;
  if (field.name.startsWith('xKubernetes') && type.fullName === `.${APIEXTENSIONS}.JSONSchemaProps`) {
    return 'x-kubernetes' + field.name.slice('xKubernetes'.length).replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
  }
  return field.name;
}

/** RFC 3339 in UTC; `micros` adds the six fraction digits of metav1.MicroTime. */
function formatTime(msg: Record<string, unknown>, micros: boolean): string | undefined {
  const seconds = toNumber(msg['seconds'] ?? 0);
  const nanos = toNumber(msg['nanos'] ?? 0);
  if (seconds === 0 && nanos === 0) return undefined; // the zero Time marshals as null
  const d = new Date(seconds * 1000);
  if (Number.isNaN(d.getTime())) throw errors.badRequest(`timestamp ${seconds} is out of range`);
  const base = d.toISOString().slice(0, 19);
  if (!micros) return `${base}Z`;
  return `${base}.${String(Math.floor(nanos / 1000)).padStart(6, '0')}Z`;
}

/** The JSON of a message whose type has a special JSON form; `undefined` means "omit the field". */
function specialToJSON(fullName: string, msg: Record<string, unknown>): { value: unknown } | undefined {
  switch (fullName) {
    case `.${META}.Time`:
      return { value: formatTime(msg, false) };
    case `.${META}.MicroTime`:
      return { value: formatTime(msg, true) };
    case '.k8s.io.apimachinery.pkg.util.intstr.IntOrString':
      return { value: toNumber(msg['type'] ?? 0) === 1 ? String(msg['strVal'] ?? '') : toNumber(msg['intVal'] ?? 0) };
    case '.k8s.io.apimachinery.pkg.api.resource.Quantity':
      return { value: typeof msg['string'] === 'string' && msg['string'] !== '' ? msg['string'] : '0' };
    case `.${META}.FieldsV1`:
      return { value: rawJSON(msg['Raw']) };
    case `.${RUNTIME}.RawExtension`:
    case `.${APIEXTENSIONS}.JSON`:
      return { value: rawJSON(msg['raw']) };
    case `.${META}.Verbs`:
    case '.k8s.io.api.authentication.v1.ExtraValue':
    case '.k8s.io.api.authorization.v1.ExtraValue':
      return { value: [...((msg['items'] as string[] | undefined) ?? [])] };
    default:
      return undefined;
  }
}

function rawJSON(raw: unknown): unknown {
  if (!(raw instanceof Uint8Array) || raw.length === 0) return undefined;
  return parseJSONBytes(raw, 'an embedded JSON value');
}

/** The apiextensions "either/or" wrappers, as their MarshalJSON writes them. */
function schemaUnionToJSON(type: protobuf.Type, msg: Record<string, unknown>): { value: unknown } | undefined {
  const schemaType = (): protobuf.Type => type.fields['schema']!.resolvedType as protobuf.Type;
  const schema = msg['schema'] as Record<string, unknown> | null | undefined;
  switch (type.fullName) {
    case `.${APIEXTENSIONS}.JSONSchemaPropsOrArray`: {
      const list = (msg['jSONSchemas'] as Record<string, unknown>[] | undefined) ?? [];
      if (list.length > 0) return { value: list.map((s) => messageToJSON(schemaType(), s)) };
      return { value: schema ? messageToJSON(schemaType(), schema) : undefined };
    }
    case `.${APIEXTENSIONS}.JSONSchemaPropsOrBool`:
      if (schema) return { value: messageToJSON(schemaType(), schema) };
      return { value: Boolean(msg['allows']) };
    case `.${APIEXTENSIONS}.JSONSchemaPropsOrStringArray`: {
      const property = (msg['property'] as string[] | undefined) ?? [];
      if (property.length > 0) return { value: [...property] };
      return { value: schema ? messageToJSON(schemaType(), schema) : undefined };
    }
    default:
      return undefined;
  }
}

/** One value of a field (an element of a repeated field, or a map value) as JSON. */
function valueToJSON(field: protobuf.Field, v: unknown): unknown {
  const rt = field.resolvedType;
  if (rt instanceof protobuf.Type) return messageValueToJSON(rt, v as Record<string, unknown>);
  if (rt instanceof protobuf.Enum) return v; // upstream has no enums; kept for completeness
  switch (field.type) {
    case 'bytes':
      return Buffer.from(v as Uint8Array).toString('base64');
    case 'int64':
    case 'uint64':
    case 'sint64':
    case 'fixed64':
    case 'sfixed64':
      return toNumber(v);
    default:
      return v;
  }
}

function messageValueToJSON(type: protobuf.Type, msg: Record<string, unknown>): unknown {
  const special = specialToJSON(type.fullName, msg) ?? schemaUnionToJSON(type, msg);
  if (special) return special.value;
  return messageToJSON(type, msg);
}

/** A decoded message as the JSON object upstream's Go type marshals to. */
function messageToJSON(type: protobuf.Type, msg: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const typeName = type.fullName.slice(1);
  for (const field of type.fieldsArray) {
    const v = msg[field.name];
    const key = jsonName(type, field);
    if (field.map) {
      const entries = Object.entries((v as Record<string, unknown> | undefined) ?? {});
      if (entries.length === 0) continue;
      const m: Record<string, unknown> = {};
      for (const [k, e] of entries) m[k] = valueToJSON(field, e);
      out[key] = m;
      continue;
    }
    if (field.repeated) {
      const list = (v as unknown[] | undefined) ?? [];
      if (list.length === 0) continue;
      out[key] = list.map((e) => valueToJSON(field, e));
      continue;
    }
    if (!Object.prototype.hasOwnProperty.call(msg, field.name) || v === null || v === undefined) continue;
    if (field.resolvedType instanceof protobuf.Type) {
      const value = messageValueToJSON(field.resolvedType, v as Record<string, unknown>);
      if (value === undefined) continue;
      if (INLINE.has(`${typeName}.${field.name}`) && value && typeof value === 'object' && !Array.isArray(value)) {
        Object.assign(out, value);
        continue;
      }
      out[key] = value;
      continue;
    }
    if (isZero(v) && !KEEP_ZERO.has(`${typeName}.${field.name}`)) continue;
    out[key] = valueToJSON(field, v);
  }
  return out;
}
