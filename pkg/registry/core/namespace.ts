/** Namespace (core/v1): the strategy and resource definition. */
import type { ResourceDef, Strategy } from '../types.js';
import { nameIsDNSLabel } from '../../api/validation.js';
import { invalidField, type FieldError } from '../../api/field-errors.js';
import { col, nameColumn, ageColumn, age } from '../../printers/format.js';

export const namespaceStrategy: Strategy = {
  hasStatus: true,
  nameValidator: nameIsDNSLabel,
  defaults(obj) {
    obj.spec ??= {};
    // Every namespace carries the `kubernetes` finalizer: the namespace controller removes it
    // once the namespace is empty.
    if (!obj.spec.finalizers) obj.spec.finalizers = ['kubernetes'];
    obj.metadata ??= {};
    // Upstream labels every namespace with its own name (NamespaceDefaultLabelName).
    obj.metadata.labels = { ...(obj.metadata.labels ?? {}), 'kubernetes.io/metadata.name': obj.metadata.name ?? '' };
  },
  prepareForCreate(obj) {
    obj.status = { phase: 'Active' };
    if (!obj.spec.finalizers?.includes('kubernetes')) obj.spec.finalizers = [...(obj.spec.finalizers ?? []), 'kubernetes'];
  },
  prepareForUpdate(obj, old) {
    // spec.finalizers changes only through /finalize.
    obj.spec = { ...(obj.spec ?? {}), finalizers: old.spec?.finalizers ?? [] };
  },
  prepareForDelete(obj) {
    obj.status = { ...(obj.status ?? {}), phase: 'Terminating' };
  },
  validate(obj) {
    const errs: FieldError[] = [];
    (obj.spec?.finalizers ?? []).forEach((f: unknown, i: number) => {
      if (typeof f !== 'string' || f === '') errs.push(invalidField(`spec.finalizers[${i}]`, f, 'must be a non-empty string'));
    });
    return errs;
  },
  selectableFields(obj) {
    return { 'status.phase': obj.status?.phase ?? '' };
  },
  table: {
    columns: [nameColumn, col('Status', 'string', 'The status of the namespace'), ageColumn],
    row: (obj, now) => [obj.metadata.name, obj.status?.phase ?? '', age(obj, now)],
  },
};

export const namespaceResource: ResourceDef = {
  group: '',
  version: 'v1',
  kind: 'Namespace',
  plural: 'namespaces',
  singular: 'namespace',
  namespaced: false,
  shortNames: ['ns'],
  subresources: ['status', 'finalize'],
  strategy: namespaceStrategy,
};
