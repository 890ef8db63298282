/** CustomResourceDefinition (apiextensions.k8s.io/v1): the strategy and resource definition. */
import type { ResourceDef, Strategy } from '../types.js';
import type { StoredObject } from '../../api/types.js';
import { type FieldError, invalidField, notSupported, required, forbidden } from '../../api/field-errors.js';
import { isDNS1035Label, isDNS1123Subdomain } from '../../api/validation.js';
import { createdAtPrinter } from '../../printers/workloads.js';
import { immutable } from '../../api/validation.js';
import { guarded } from '../guarded.js';

/** DNS-1035 label errors joined as upstream's CRD validation reports them. */
function dns1035(v: string): string | undefined {
  const errs = isDNS1035Label(v);
  return errs.length ? errs.join(',') : undefined;
}

/** ValidateCustomResourceDefinitionNames, plus the names every CRD must have. */
function validateNames(names: any, path: string): FieldError[] {
  const errs: FieldError[] = [];
  for (const f of ['plural', 'singular']) {
    const v = names[f] ?? '';
    const e = v ? dns1035(v) : undefined;
    if (e) errs.push(invalidField(`${path}.${f}`, v, e));
  }
  for (const f of ['kind', 'listKind']) {
    const v = names[f] ?? '';
    const e = v ? dns1035(String(v).toLowerCase()) : undefined;
    if (e) errs.push(invalidField(`${path}.${f}`, v, `may have mixed case, but should otherwise match: ${e}`));
  }
  (names.shortNames ?? []).forEach((s: string, i: number) => {
    const e = dns1035(s);
    if (e) errs.push(invalidField(`${path}.shortNames[${i}]`, s, e));
  });
  if (names.kind && names.kind === names.listKind) errs.push(invalidField(`${path}.listKind`, names.listKind, 'kind and listKind may not be the same'));
  (names.categories ?? []).forEach((c: string, i: number) => {
    const e = dns1035(c);
    if (e) errs.push(invalidField(`${path}.categories[${i}]`, c, e));
  });
  for (const f of ['plural', 'singular', 'kind', 'listKind']) if (!names[f]) errs.push(required(`${path}.${f}`, ''));
  return errs;
}

/** The basic shape of a CRD spec: group, scope, names, and versions with one storage version. */
function validateSpec(spec: any): FieldError[] {
  const errs: FieldError[] = [];
  const group: string = spec.group ?? '';
  if (group === '') errs.push(required('spec.group', ''));
  else {
    const e = isDNS1123Subdomain(group);
    if (e.length) errs.push(invalidField('spec.group', group, e.join(',')));
    else if (group.split('.').length < 2) errs.push(invalidField('spec.group', group, 'should be a domain with at least one dot'));
  }
  if (!spec.scope) errs.push(required('spec.scope', ''));
  else if (spec.scope !== 'Cluster' && spec.scope !== 'Namespaced') errs.push(notSupported('spec.scope', spec.scope, ['Cluster', 'Namespaced']));
  const versions: any[] = spec.versions ?? [];
  let storage = 0;
  const seen = new Set<string>();
  let unique = true;
  versions.forEach((v, i) => {
    const p = `spec.versions[${i}]`;
    if (v.storage) storage++;
    if (seen.has(v.name)) unique = false;
    seen.add(v.name);
    const e = dns1035(String(v.name ?? ''));
    if (e) errs.push(invalidField(`${p}.name`, v.name ?? '', e));
    if (!v.schema?.openAPIV3Schema) errs.push(required(`${p}.schema.openAPIV3Schema`, 'schemas are required'));
    (v.additionalPrinterColumns ?? []).forEach((c: any, j: number) => {
      const cp = `${p}.additionalPrinterColumns[${j}]`;
      if (!c.name) errs.push(required(`${cp}.name`, ''));
      if (!c.type) errs.push(required(`${cp}.type`, ''));
      else if (!['integer', 'number', 'string', 'boolean', 'date'].includes(c.type)) errs.push(notSupported(`${cp}.type`, c.type, ['integer', 'number', 'string', 'boolean', 'date']));
      if (!c.jsonPath) errs.push(required(`${cp}.jsonPath`, ''));
    });
  });
  if (storage !== 1) errs.push(invalidField('spec.versions', versions, 'must have exactly one version marked as storage version'));
  if (!unique) errs.push(invalidField('spec.versions', versions, 'must contain unique version names'));
  errs.push(...validateNames(spec.names ?? {}, 'spec.names'));
  const conv = spec.conversion;
  if (conv?.strategy && conv.strategy !== 'None' && conv.strategy !== 'Webhook') errs.push(notSupported('spec.conversion.strategy', conv.strategy, ['None', 'Webhook']));
  if (conv?.strategy === 'None' && conv.webhook) errs.push(forbidden('spec.conversion.webhook', 'should not be set when strategy is not set to Webhook'));
  if (conv?.strategy === 'Webhook' && !conv.webhook) errs.push(required('spec.conversion.webhook', 'required when strategy is set to Webhook'));
  return errs;
}

/** The storage version, which status.storedVersions must come to include. */
function storageVersion(obj: StoredObject): string | undefined {
  return (obj.spec?.versions ?? []).find((v: any) => v.storage)?.name;
}

function recordStorageVersion(obj: StoredObject): void {
  const v = storageVersion(obj);
  obj.status ??= {};
  const stored: string[] = obj.status.storedVersions ?? [];
  if (v && !stored.includes(v)) obj.status.storedVersions = [...stored, v];
}

function isEstablished(obj: StoredObject): boolean {
  return (obj.status?.conditions ?? []).some((c: any) => c.type === 'Established' && c.status === 'True');
}

export const customResourceDefinitionStrategy: Strategy = guarded({
  generation: true,
  hasStatus: true,
  defaults(obj) {
    obj.spec ??= {};
    const names = (obj.spec.names ??= {});
    if (!names.singular && names.kind) names.singular = String(names.kind).toLowerCase();
    if (!names.listKind && names.kind) names.listKind = `${names.kind}List`;
    obj.spec.conversion ??= { strategy: 'None' };
    if (obj.spec.conversion.webhook?.clientConfig?.service) obj.spec.conversion.webhook.clientConfig.service.port ??= 443;
  },
  prepareForCreate(obj) {
    // acceptedNames is a struct that is always written; the naming controller fills it in.
    obj.status = { acceptedNames: { kind: '', plural: '' }, storedVersions: [] };
    recordStorageVersion(obj);
  },
  prepareForUpdate(obj) {
    recordStorageVersion(obj);
  },
  validate(obj) {
    const errs = validateSpec(obj.spec ?? {});
    // The name must be `<plural>.<group>`, where the resources it describes are served.
    const name = obj.metadata.name ?? '';
    const want = `${obj.spec?.names?.plural ?? ''}.${obj.spec?.group ?? ''}`;
    if (name !== want) errs.push(invalidField('metadata.name', name, 'must be spec.names.plural+"."+spec.group'));
    return errs;
  },
  validateUpdate(obj, old) {
    const errs: FieldError[] = [];
    // Kind and scope are fixed once clients have seen the CRD served.
    if (isEstablished(old)) {
      errs.push(...immutable(obj.spec?.scope, old.spec?.scope, 'spec.scope'), ...immutable(obj.spec?.names?.kind, old.spec?.names?.kind, 'spec.names.kind'));
    }
    errs.push(...immutable(obj.spec?.group, old.spec?.group, 'spec.group'), ...immutable(obj.spec?.names?.plural, old.spec?.names?.plural, 'spec.names.plural'));
    return errs;
  },
  validateStatusUpdate(obj) {
    const stored: string[] = obj.status?.storedVersions ?? [];
    const sv = storageVersion(obj);
    const errs: FieldError[] = [];
    if (sv && !stored.includes(sv)) errs.push(invalidField('status.storedVersions', stored, `must have the storage version ${sv}`));
    const versions = new Set((obj.spec?.versions ?? []).map((v: any) => v.name));
    stored.forEach((s, i) => {
      if (!versions.has(s)) errs.push(invalidField(`status.storedVersions[${i}]`, s, 'must appear in spec.versions'));
    });
    return errs;
  },
  table: createdAtPrinter,
});

export const customResourceDefinitionResource: ResourceDef = {
  group: 'apiextensions.k8s.io',
  version: 'v1',
  kind: 'CustomResourceDefinition',
  plural: 'customresourcedefinitions',
  singular: 'customresourcedefinition',
  namespaced: false,
  shortNames: ['crd', 'crds'],
  subresources: ['status'],
  strategy: customResourceDefinitionStrategy,
};
