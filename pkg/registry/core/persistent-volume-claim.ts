/** PersistentVolumeClaim (core/v1): the strategy and resource definition. */
import type { ResourceDef, Strategy, TableColumn } from '../types.js';
import type { StoredObject } from '../../api/types.js';
import { type FieldError, forbidden, invalidField } from '../../api/field-errors.js';
import { deepEqual, clone } from '../../api/meta.js';
import { tryParseQuantity, compareQuantities } from '../../api/quantity.js';
import { col, nameColumn, ageColumn, age } from '../../printers/format.js';
import { accessModesAsString, storageClassOf, quantityString } from '../../printers/core.js';
import { type Obj, isObj, str, defaultPersistentVolumeClaimSpec, validatePersistentVolumeClaimSpec, validateImmutableField } from './pod-spec.js';
import { jsonDiff } from './pod.js';

const betaStorageClass = 'volume.beta.kubernetes.io/storage-class';
const specOf = (o: StoredObject): Obj => (isObj(o.spec) ? o.spec : {});

/** ValidatePersistentVolumeClaimUpdate: only volumeName (once) and, when bound, the size may change. */
export function validatePersistentVolumeClaimUpdate(pvc: StoredObject, old: StoredObject): FieldError[] {
  const errs: FieldError[] = [];
  const newSpec: Obj = clone(specOf(pvc));
  const oldSpec: Obj = clone(specOf(old));
  const oldAnn = old.metadata.annotations ?? {};
  const newAnn = pvc.metadata.annotations ?? {};
  if (!str(oldSpec.volumeName)) oldSpec.volumeName = newSpec.volumeName;
  const oldScAnn = oldAnn[betaStorageClass];
  const scFromAnnotation = oldScAnn !== undefined && (oldSpec.storageClassName === undefined || oldSpec.storageClassName === null) && newSpec.storageClassName === oldScAnn && (newAnn[betaStorageClass] === undefined || newAnn[betaStorageClass] === oldScAnn);
  if (scFromAnnotation) {
    delete newSpec.storageClassName;
  } else {
    if ((newAnn[betaStorageClass] ?? '') !== (oldAnn[betaStorageClass] ?? '')) {
      errs.push(invalidField(`metadata.annotations.${betaStorageClass}`, newAnn[betaStorageClass] ?? '', 'field is immutable'));
    }
    // A claim without a class may be given one (the default class admission does this later).
    const fromNil = newSpec.storageClassName !== undefined && newSpec.storageClassName !== null && (oldSpec.storageClassName === undefined || oldSpec.storageClassName === null) && (oldScAnn === undefined || oldScAnn === newSpec.storageClassName);
    if (fromNil) delete newSpec.storageClassName;
  }
  const bound = pvc.status?.phase === 'Bound';
  if (bound && isObj(newSpec.resources?.requests)) newSpec.resources.requests.storage = oldSpec.resources?.requests?.storage;
  if (bound && newSpec.volumeAttributesClassName !== undefined) newSpec.volumeAttributesClassName = oldSpec.volumeAttributesClassName;
  for (const k of Object.keys(newSpec)) if (newSpec[k] === undefined) delete newSpec[k];
  for (const k of Object.keys(oldSpec)) if (oldSpec[k] === undefined) delete oldSpec[k];
  if (!deepEqual(newSpec, oldSpec)) {
    errs.push(forbidden('spec', `spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims\n${jsonDiff(oldSpec, newSpec, 'core.PersistentVolumeClaimSpec')}`));
  }
  const newSize = tryParseQuantity(specOf(pvc).resources?.requests?.storage);
  const oldSize = tryParseQuantity(specOf(old).resources?.requests?.storage);
  if (newSize && oldSize && compareQuantities(newSize, oldSize) < 0) {
    // Shrinking back towards status.capacity recovers from a failed expansion; below it is refused.
    const statusSize = tryParseQuantity(old.status?.capacity?.storage);
    if (!statusSize || compareQuantities(newSize, statusSize) <= 0) errs.push(forbidden('spec.resources.requests.storage', 'field can not be less than status.capacity'));
  }
  errs.push(...validateImmutableField(specOf(pvc).volumeMode, specOf(old).volumeMode, 'volumeMode'));
  return errs;
}

const pvcColumns: TableColumn[] = [
  nameColumn,
  col('Status', 'string', 'phase represents the current phase of PersistentVolumeClaim.'),
  col('Volume', 'string', 'volumeName is the binding reference to the PersistentVolume backing this claim.'),
  col('Capacity', 'string', 'capacity represents the actual resources of the underlying volume.'),
  col('Access Modes', 'string', 'accessModes contains the actual access modes the volume backing the PVC has. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#access-modes-1'),
  col('StorageClass', 'string', 'StorageClass of the pvc'),
  col('VolumeAttributesClass', 'string', 'VolumeAttributesClass of the pvc'),
  ageColumn,
  col('VolumeMode', 'string', 'volumeMode defines what type of volume is required by the claim. Value of Filesystem is implied when not included in claim spec.', 1),
];

export const persistentVolumeClaimStrategy: Strategy = {
  hasStatus: true,
  defaults(obj) {
    if (!isObj(obj.spec)) obj.spec = {};
    defaultPersistentVolumeClaimSpec(obj.spec);
    if (isObj(obj.status) && !obj.status.phase) obj.status.phase = 'Pending';
  },
  prepareForCreate(obj) {
    obj.status = { phase: 'Pending' };
  },
  validate: (obj) => validatePersistentVolumeClaimSpec(obj.spec, 'spec'),
  validateUpdate: validatePersistentVolumeClaimUpdate,
  table: {
    columns: pvcColumns,
    row(obj, now) {
      const spec = specOf(obj);
      const status: Obj = isObj(obj.status) ? obj.status : {};
      const phase = obj.metadata.deletionTimestamp ? 'Terminating' : str(status.phase);
      let capacity = '';
      let modes = '';
      if (str(spec.volumeName)) {
        modes = accessModesAsString(status.accessModes);
        capacity = quantityString(status.capacity?.storage);
      }
      return [obj.metadata.name, phase, str(spec.volumeName), capacity, modes, storageClassOf(obj as never), str(spec.volumeAttributesClassName) || '<unset>', age(obj, now), str(spec.volumeMode) || '<unset>'];
    },
  },
};

export const persistentVolumeClaimResource: ResourceDef = {
  group: '',
  version: 'v1',
  kind: 'PersistentVolumeClaim',
  plural: 'persistentvolumeclaims',
  singular: 'persistentvolumeclaim',
  namespaced: true,
  shortNames: ['pvc'],
  subresources: ['status'],
  strategy: persistentVolumeClaimStrategy,
};
