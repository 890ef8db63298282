/** Lease (coordination.k8s.io/v1): the strategy and resource definition. */
import type { ResourceDef, Strategy } from '../types.js';
import { type FieldError, invalidField, forbidden, notSupported } from '../../api/field-errors.js';
import { isQualifiedName } from '../../api/validation.js';
import { col, nameColumn, ageColumn, age } from '../../printers/format.js';
import { guarded } from '../guarded.js';

/** The coordinated leader election strategies known to this version. */
const strategies = ['OldestEmulationVersion'];

/** ValidateLeaseSpec. */
function validateSpec(spec: any): FieldError[] {
  const errs: FieldError[] = [];
  if (spec.leaseDurationSeconds !== undefined && spec.leaseDurationSeconds !== null && spec.leaseDurationSeconds <= 0) {
    errs.push(invalidField('spec.leaseDurationSeconds', spec.leaseDurationSeconds, 'must be greater than 0'));
  }
  if (spec.leaseTransitions !== undefined && spec.leaseTransitions !== null && spec.leaseTransitions < 0) {
    errs.push(invalidField('spec.leaseTransitions', spec.leaseTransitions, 'must be greater than or equal to 0'));
  }
  if (spec.strategy !== undefined && spec.strategy !== null) {
    const s = String(spec.strategy);
    // A name without a prefix must be one of Kubernetes' own; prefixed ones are custom strategies.
    if (!s.includes('/')) {
      if (!strategies.includes(s)) errs.push(notSupported('spec.strategy', s, strategies));
    } else errs.push(...isQualifiedName(s).map((m) => invalidField('spec.strategy', s, m)));
  }
  if (spec.preferredHolder && !spec.strategy) errs.push(forbidden('spec.preferredHolder', 'may only be specified if `strategy` is defined'));
  return errs;
}

export const leaseStrategy: Strategy = guarded({
  validate(obj) {
    return validateSpec(obj.spec ?? {});
  },
  table: {
    columns: [nameColumn, col('Holder', 'string', 'holderIdentity contains the identity of the holder of a current lease. If Coordinated Leader Election is used, the holder identity must be equal to the elected LeaseCandidate.metadata.name field.'), ageColumn],
    row: (obj, now) => [obj.metadata.name, obj.spec?.holderIdentity ?? '', age(obj, now)],
  },
});

export const leaseResource: ResourceDef = {
  group: 'coordination.k8s.io',
  version: 'v1',
  kind: 'Lease',
  plural: 'leases',
  singular: 'lease',
  namespaced: true,
  strategy: leaseStrategy,
};
