/** StorageClass (storage.k8s.io/v1): the strategy and resource definition. */
import type { ResourceDef, Strategy } from '../types.js';
import { type FieldError, invalidField, notSupported, required, forbidden, tooLong, duplicate } from '../../api/field-errors.js';
import { deepEqual } from '../../api/meta.js';
import { isQualifiedName } from '../../api/validation.js';
import { col, nameColumn, ageColumn, age } from '../../printers/format.js';
import { immutable } from '../../api/validation.js';
import { guarded } from '../guarded.js';

const maxParameters = 512;
const maxParametersSize = 256 * 1024;
const reclaimPolicies = ['Delete', 'Retain'];
const bindingModes = ['Immediate', 'WaitForFirstConsumer'];
/** The annotations that mark the default class (the beta one still counts). */
const defaultClassAnnotations = ['storageclass.kubernetes.io/is-default-class', 'storageclass.beta.kubernetes.io/is-default-class'];

function validateParameters(params: Record<string, string> | undefined): FieldError[] {
  const entries = Object.entries(params ?? {});
  if (entries.length > maxParameters) return [tooLong('parameters', maxParameters)];
  const errs: FieldError[] = [];
  let size = 0;
  for (const [k, v] of entries) {
    if (k.length < 1) errs.push(invalidField('parameters', k, 'field can not be empty.'));
    size += k.length + String(v).length;
  }
  if (size > maxParametersSize) errs.push(tooLong('parameters', maxParametersSize));
  return errs;
}

/** validateAllowedTopologies: each term's requirements (ValidateTopologySelectorTerm), no term twice. */
function validateAllowedTopologies(terms: any[] | undefined): FieldError[] {
  const errs: FieldError[] = [];
  const seenTerms: Record<string, string[]>[] = [];
  (terms ?? []).forEach((term, i) => {
    const p = `allowedTopologies[${i}].matchLabelExpressions`;
    const exprs: Record<string, string[]> = {};
    (term.matchLabelExpressions ?? []).forEach((e: any, j: number) => {
      const ep = `${p}[${j}]`;
      const values: string[] = e.values ?? [];
      if (values.length === 0) errs.push(required(`${ep}.values`, ''));
      values.forEach((v, k) => {
        if (values.indexOf(v) !== k) errs.push(duplicate(`${ep}.values[${k}]`, v));
      });
      errs.push(...isQualifiedName(String(e.key ?? '')).map((m) => invalidField(`${ep}.key`, e.key, m)));
      if (e.key in exprs) errs.push(duplicate(`${ep}.key`, e.key));
      exprs[e.key] = [...new Set(values)].sort();
    });
    if (seenTerms.some((t) => deepEqual(t, exprs))) errs.push(duplicate(p, ''));
    seenTerms.push(exprs);
  });
  return errs;
}

export const storageClassStrategy: Strategy = guarded({
  defaults(obj) {
    obj.reclaimPolicy ||= 'Delete';
    obj.volumeBindingMode ||= 'Immediate';
  },
  validate(obj) {
    const errs: FieldError[] = [];
    const provisioner = obj.provisioner ?? '';
    if (provisioner === '') errs.push(required('provisioner', ''));
    else errs.push(...isQualifiedName(String(provisioner).toLowerCase()).map((m) => invalidField('provisioner', String(provisioner).toLowerCase(), m)));
    errs.push(...validateParameters(obj.parameters));
    if (obj.reclaimPolicy && !reclaimPolicies.includes(obj.reclaimPolicy)) errs.push(notSupported('reclaimPolicy', obj.reclaimPolicy, reclaimPolicies));
    if (!obj.volumeBindingMode) errs.push(required('volumeBindingMode', ''));
    else if (!bindingModes.includes(obj.volumeBindingMode)) errs.push(notSupported('volumeBindingMode', obj.volumeBindingMode, bindingModes));
    errs.push(...validateAllowedTopologies(obj.allowedTopologies));
    return errs;
  },
  validateUpdate(obj, old) {
    const errs: FieldError[] = [];
    if (!deepEqual(obj.parameters ?? {}, old.parameters ?? {})) errs.push(forbidden('parameters', 'updates to parameters are forbidden.'));
    if (obj.provisioner !== old.provisioner) errs.push(forbidden('provisioner', 'updates to provisioner are forbidden.'));
    if (obj.reclaimPolicy !== old.reclaimPolicy) errs.push(forbidden('reclaimPolicy', 'updates to reclaimPolicy are forbidden.'));
    errs.push(...immutable(obj.volumeBindingMode, old.volumeBindingMode, 'volumeBindingMode'));
    return errs;
  },
  table: {
    columns: [
      nameColumn,
      col('Provisioner', 'string', 'provisioner indicates the type of the provisioner.'),
      col('ReclaimPolicy', 'string', 'reclaimPolicy controls the reclaimPolicy for dynamically provisioned PersistentVolumes of this storage class. Defaults to Delete.'),
      col('VolumeBindingMode', 'string', 'volumeBindingMode indicates how PersistentVolumeClaims should be provisioned and bound.  When unset, VolumeBindingImmediate is used. This field is only honored by servers that enable the VolumeScheduling feature.'),
      col('AllowVolumeExpansion', 'string', 'allowVolumeExpansion shows whether the storage class allow volume expand.'),
      ageColumn,
    ],
    row: (obj, now) => {
      const isDefault = defaultClassAnnotations.some((a) => obj.metadata.annotations?.[a] === 'true');
      return [
        isDefault ? `${obj.metadata.name} (default)` : obj.metadata.name,
        obj.provisioner ?? '',
        obj.reclaimPolicy || 'Delete',
        obj.volumeBindingMode || 'Immediate',
        !!obj.allowVolumeExpansion,
        age(obj, now),
      ];
    },
  },
});

export const storageClassResource: ResourceDef = {
  group: 'storage.k8s.io',
  version: 'v1',
  kind: 'StorageClass',
  plural: 'storageclasses',
  singular: 'storageclass',
  namespaced: false,
  shortNames: ['sc'],
  strategy: storageClassStrategy,
};
