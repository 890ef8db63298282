/** PersistentVolume (core/v1): the strategy and resource definition. */
import type { ResourceDef, Strategy, TableColumn } from '../types.js';
import type { StoredObject } from '../../api/types.js';
import { type FieldError, invalidField, required, notSupported, forbidden } from '../../api/field-errors.js';
import { deepEqual, nowRFC3339 } from '../../api/meta.js';
import { defaultResourceList, tryParseQuantity, formatQuantity } from '../../api/quantity.js';
import { col, nameColumn, ageColumn, age } from '../../printers/format.js';
import { accessModesAsString, storageClassOf, quantityString } from '../../printers/core.js';
import { type Obj, isObj, arr, str, validateAccessModes, validateDNS1123Subdomain, validateNodeSelector, validateImmutableField, isNotPositiveErrorMsg, parseQuantityField } from './pod-spec.js';
import { jsonDiff } from './pod.js';

const specOf = (o: StoredObject): Obj => (isObj(o.spec) ? o.spec : {});

/** PersistentVolumeSource's members, in the order upstream validates them. */
const pvSourceKeys = [
  'hostPath',
  'gcePersistentDisk',
  'awsElasticBlockStore',
  'glusterfs',
  'flocker',
  'nfs',
  'rbd',
  'quobyte',
  'cephfs',
  'iscsi',
  'cinder',
  'fc',
  'flexVolume',
  'azureFile',
  'vsphereVolume',
  'photonPersistentDisk',
  'portworxVolume',
  'azureDisk',
  'scaleIO',
  'local',
  'storageos',
  'csi',
];

/** The spec's volume source: every member that is not one of PersistentVolumeSpec's own fields. */
function volumeSource(spec: Obj): Obj {
  const own = new Set(['capacity', 'accessModes', 'claimRef', 'persistentVolumeReclaimPolicy', 'storageClassName', 'mountOptions', 'volumeMode', 'nodeAffinity', 'volumeAttributesClassName']);
  return Object.fromEntries(Object.entries(spec).filter(([k]) => !own.has(k)));
}

function defaultPV(obj: StoredObject): void {
  if (!isObj(obj.spec)) obj.spec = {};
  const spec = obj.spec as Obj;
  if (!spec.persistentVolumeReclaimPolicy) spec.persistentVolumeReclaimPolicy = 'Retain';
  if (!spec.volumeMode) spec.volumeMode = 'Filesystem';
  defaultResourceList(spec.capacity);
  if (isObj(spec.hostPath) && spec.hostPath.type === undefined) spec.hostPath.type = '';
  if (isObj(spec.iscsi) && !spec.iscsi.iscsiInterface) spec.iscsi.iscsiInterface = 'default';
  if (isObj(spec.rbd)) {
    if (!spec.rbd.pool) spec.rbd.pool = 'rbd';
    if (!spec.rbd.user) spec.rbd.user = 'admin';
    if (!spec.rbd.keyring) spec.rbd.keyring = '/etc/ceph/keyring';
  }
  if (isObj(obj.status) && !obj.status.phase) obj.status.phase = 'Pending';
}

function validateSourceMember(key: string, src: Obj, path: string): FieldError[] {
  const errs: FieldError[] = [];
  switch (key) {
    case 'hostPath':
      if (!str(src.path)) return [required(`${path}.path`, '')];
      if (str(src.path).split('/').includes('..')) errs.push(invalidField(`${path}.path`, src.path, "must not contain '..'"));
      break;
    case 'nfs':
      if (!str(src.server)) errs.push(required(`${path}.server`, ''));
      if (!str(src.path)) errs.push(required(`${path}.path`, ''));
      if (!str(src.path).startsWith('/')) errs.push(invalidField(`${path}.path`, str(src.path), 'must be an absolute path'));
      break;
    case 'local':
      if (!str(src.path)) errs.push(required(`${path}.path`, ''));
      else if (str(src.path).split('/').includes('..')) errs.push(invalidField(`${path}.path`, src.path, "must not contain '..'"));
      break;
    case 'csi':
      if (!str(src.driver)) errs.push(required(`${path}.driver`, ''));
      if (!str(src.volumeHandle)) errs.push(required(`${path}.volumeHandle`, ''));
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

/** ValidatePersistentVolumeSpec for a standalone PV. */
export function validatePersistentVolume(pv: StoredObject): FieldError[] {
  const spec = specOf(pv);
  const errs: FieldError[] = [];
  if (arr(spec.accessModes).length === 0) errs.push(required('spec.accessModes', ''));
  errs.push(...validateAccessModes(spec.accessModes, 'spec.accessModes'));
  const cap: Obj = isObj(spec.capacity) ? spec.capacity : {};
  if (Object.keys(cap).length === 0) errs.push(required('spec.capacity', ''));
  if (!('storage' in cap) || Object.keys(cap).length > 1) errs.push(notSupported('spec.capacity', cap, ['storage']));
  for (const [k, v] of Object.entries(cap)) {
    const q = parseQuantityField(v, `spec.capacity[${k}]`, errs);
    if (q && q.m <= 0n) errs.push(invalidField(`spec.capacity[${k}]`, formatQuantity(q), isNotPositiveErrorMsg));
  }
  const policy = spec.persistentVolumeReclaimPolicy;
  if (policy && !['Delete', 'Recycle', 'Retain'].includes(policy)) errs.push(notSupported('spec.persistentVolumeReclaimPolicy', policy, ['Delete', 'Recycle', 'Retain']));
  let nodeAffinity = false;
  if (spec.nodeAffinity !== undefined && spec.nodeAffinity !== null) {
    if (isObj(spec.nodeAffinity.required)) {
      nodeAffinity = true;
      errs.push(...validateNodeSelector(spec.nodeAffinity.required, 'spec.nodeAffinity.required'));
    } else errs.push(required('spec.nodeAffinity.required', 'must specify required node constraints'));
  }
  let n = 0;
  for (const k of pvSourceKeys) {
    const src = spec[k];
    if (src === undefined || src === null) continue;
    const p = `spec.${k}`;
    if (n > 0 && k !== 'flexVolume') {
      errs.push(forbidden(p, 'may not specify more than 1 volume type'));
      continue;
    }
    n++;
    errs.push(...validateSourceMember(k, isObj(src) ? src : {}, p));
    if (k === 'local' && !nodeAffinity) errs.push(required('spec.nodeAffinity', 'Local volume requires node affinity'));
  }
  if (n === 0) errs.push(required('spec', 'must specify a volume type'));
  if (isObj(spec.hostPath) && str(spec.hostPath.path).replace(/\/+$/, '') === '' && str(spec.hostPath.path) !== '' && policy === 'Recycle') {
    errs.push(forbidden('spec.persistentVolumeReclaimPolicy', "may not be 'recycle' for a hostPath mount of '/'"));
  }
  if (str(spec.storageClassName)) errs.push(...validateDNS1123Subdomain(spec.storageClassName, 'spec.storageClassName'));
  if (spec.volumeMode !== undefined && spec.volumeMode !== null && !['Block', 'Filesystem'].includes(spec.volumeMode)) errs.push(notSupported('spec.volumeMode', spec.volumeMode, ['Block', 'Filesystem']));
  if (spec.volumeAttributesClassName !== undefined && spec.volumeAttributesClassName !== null) {
    if (!str(spec.volumeAttributesClassName)) errs.push(required('spec.volumeAttributesClassName', 'an empty string is disallowed'));
    else errs.push(...validateDNS1123Subdomain(spec.volumeAttributesClassName, 'spec.volumeAttributesClassName'));
    if (!isObj(spec.csi)) errs.push(required('spec.csi', 'has to be specified when using volumeAttributesClassName'));
  }
  return errs;
}

/** ValidatePersistentVolumeUpdate: the volume source, volumeMode and node affinity are fixed. */
export function validatePersistentVolumeUpdate(pv: StoredObject, old: StoredObject): FieldError[] {
  const spec = specOf(pv);
  const o = specOf(old);
  const errs: FieldError[] = [];
  const src = volumeSource(spec);
  const oldSrc = volumeSource(o);
  // A CSI volume may gain a controllerExpandSecretRef.
  if (isObj(src.csi) && isObj(oldSrc.csi) && oldSrc.csi.controllerExpandSecretRef === undefined) {
    src.csi = { ...src.csi };
    delete src.csi.controllerExpandSecretRef;
  }
  if (!deepEqual(src, oldSrc)) {
    errs.push(forbidden('spec.persistentvolumesource', `spec.persistentvolumesource is immutable after creation\n${jsonDiff(oldSrc, src, 'core.PersistentVolumeSource')}`));
  }
  errs.push(...validateImmutableField(spec.volumeMode, o.volumeMode, 'volumeMode'));
  if (o.nodeAffinity !== undefined && o.nodeAffinity !== null && !deepEqual(spec.nodeAffinity ?? null, o.nodeAffinity)) {
    errs.push(invalidField('nodeAffinity', spec.nodeAffinity ?? null, 'field is immutable, except for updating from beta label to GA'));
  }
  if (o.volumeAttributesClassName !== undefined && o.volumeAttributesClassName !== null && (spec.volumeAttributesClassName === undefined || spec.volumeAttributesClassName === null)) {
    errs.push(forbidden('spec.volumeAttributesClassName', 'update from non-nil value to nil is forbidden'));
  }
  return errs;
}

const pvColumns: TableColumn[] = [
  nameColumn,
  col('Capacity', 'string', "capacity is the description of the persistent volume's resources and capacity. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#capacity"),
  col('Access Modes', 'string', 'accessModes contains all ways the volume can be mounted. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#access-modes'),
  col('Reclaim Policy', 'string', 'persistentVolumeReclaimPolicy defines what happens to a persistent volume when released from its claim. Valid options are Retain (default for manually created PersistentVolumes), Delete (default for dynamically provisioned PersistentVolumes), and Recycle (deprecated). Recycle must be supported by the volume plugin underlying this PersistentVolume. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#reclaiming'),
  col('Status', 'string', 'phase indicates if a volume is available, bound to a claim, or released by a claim. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#phase'),
  col('Claim', 'string', 'claimRef is part of a bi-directional binding between PersistentVolume and PersistentVolumeClaim. Expected to be non-nil when bound. claim.VolumeName is the authoritative bind between PV and PVC. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#binding'),
  col('StorageClass', 'string', 'StorageClass of the pv'),
  col('VolumeAttributesClass', 'string', 'VolumeAttributesClass of the pv'),
  col('Reason', 'string', 'reason is a brief CamelCase string that describes any failure and is meant for machine parsing and tidy display in the CLI.'),
  ageColumn,
  col('VolumeMode', 'string', 'volumeMode defines if a volume is intended to be used with a formatted filesystem or to remain in raw block state. Value of Filesystem is implied when not included in spec.', 1),
];

export const persistentVolumeStrategy: Strategy = {
  hasStatus: true,
  defaults: defaultPV,
  prepareForCreate(obj) {
    obj.status = { phase: 'Pending', lastPhaseTransitionTime: nowRFC3339() };
  },
  prepareForStatusUpdate(obj, old) {
    // upstream records when the phase last changed.
    if (isObj(obj.status) && obj.status.phase !== old.status?.phase) obj.status.lastPhaseTransitionTime = nowRFC3339();
  },
  validate: validatePersistentVolume,
  validateUpdate: validatePersistentVolumeUpdate,
  table: {
    columns: pvColumns,
    row(obj, now) {
      const spec = specOf(obj);
      const claim = isObj(spec.claimRef) ? `${str(spec.claimRef.namespace)}/${str(spec.claimRef.name)}` : '';
      const storage = isObj(spec.capacity) ? spec.capacity.storage : undefined;
      const phase = obj.metadata.deletionTimestamp ? 'Terminating' : str(obj.status?.phase);
      return [
        obj.metadata.name,
        tryParseQuantity(storage) ? quantityString(storage) : '0',
        accessModesAsString(spec.accessModes),
        str(spec.persistentVolumeReclaimPolicy),
        phase,
        claim,
        storageClassOf(obj as never),
        str(spec.volumeAttributesClassName) || '<unset>',
        str(obj.status?.reason),
        age(obj, now),
        str(spec.volumeMode) || '<unset>',
      ];
    },
  },
};

export const persistentVolumeResource: ResourceDef = {
  group: '',
  version: 'v1',
  kind: 'PersistentVolume',
  plural: 'persistentvolumes',
  singular: 'persistentvolume',
  namespaced: false,
  shortNames: ['pv'],
  subresources: ['status'],
  strategy: persistentVolumeStrategy,
};
