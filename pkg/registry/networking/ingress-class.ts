/** IngressClass (networking.k8s.io/v1): the strategy and resource definition. */
import type { ResourceDef, Strategy } from '../types.js';
import { type FieldError, invalidField, notSupported, required, forbidden, tooLong } from '../../api/field-errors.js';
import { isDNS1123Label, isDNS1123Subdomain } from '../../api/validation.js';
import { col, nameColumn, ageColumn, age } from '../../printers/format.js';
import { immutable } from '../../api/validation.js';
import { guarded } from '../guarded.js';
import { validateTypedLocalObjectReference } from './ingress.js';

const maxControllerLength = 250;
const httpPathFmt = "[A-Za-z0-9/\\-._~%!$&'()*+,;=:]+";
const httpPathRe = new RegExp(`^${httpPathFmt}$`);

/** IsDomainPrefixedPath: `example.com/path`. */
function domainPrefixedPath(v: string, path: string): FieldError[] {
  if (v === '') return [required(path, '')];
  const i = v.indexOf('/');
  const host = i < 0 ? v : v.slice(0, i);
  const rest = i < 0 ? '' : v.slice(i + 1);
  if (i < 0 || host === '' || rest === '') return [invalidField(path, v, 'must be a domain-prefixed path (such as "acme.io/foo")')];
  const errs = isDNS1123Subdomain(host).map((m) => invalidField(path, host, m));
  if (!httpPathRe.test(rest)) errs.push(invalidField(path, rest, `Invalid path (regex used for validation is '${httpPathFmt}')`));
  return errs;
}

function validateParameters(params: any): FieldError[] {
  if (!params) return [];
  const path = 'spec.parameters';
  const errs = validateTypedLocalObjectReference(params, path);
  if (params.scope === undefined || params.scope === null) return [...errs, required(`${path}.scope`, '')];
  if (params.scope !== 'Cluster' && params.scope !== 'Namespace') return [...errs, notSupported(`${path}.scope`, params.scope, ['Cluster', 'Namespace'])];
  if (params.scope === 'Namespace') {
    if (params.namespace === undefined || params.namespace === null) errs.push(required(`${path}.namespace`, "`parameters.scope` is set to 'Namespace'"));
    else errs.push(...isDNS1123Label(params.namespace).map((m) => invalidField(`${path}.namespace`, params.namespace, m)));
  }
  if (params.scope === 'Cluster' && params.namespace !== undefined && params.namespace !== null) {
    errs.push(forbidden(`${path}.namespace`, "`parameters.scope` is set to 'Cluster'"));
  }
  return errs;
}

/** The PARAMETERS cell: `<kind>[.<apiGroup>]/<name>`. */
function parametersText(p: any): string {
  if (!p) return '<none>';
  return `${p.kind ?? ''}${p.apiGroup ? `.${p.apiGroup}` : ''}/${p.name ?? ''}`;
}

export const ingressClassStrategy: Strategy = guarded({
  generation: true,
  defaults(obj) {
    const params = obj.spec?.parameters;
    if (params && (params.scope === undefined || params.scope === null)) params.scope = 'Cluster';
  },
  validate(obj) {
    const spec = obj.spec ?? {};
    const controller: string = spec.controller ?? '';
    const errs: FieldError[] = [];
    if (controller.length > maxControllerLength) errs.push(tooLong('spec.controller', maxControllerLength));
    errs.push(...domainPrefixedPath(controller, 'spec.controller'), ...validateParameters(spec.parameters));
    return errs;
  },
  validateUpdate(obj, old) {
    return immutable(obj.spec?.controller, old.spec?.controller, 'spec.controller');
  },
  table: {
    columns: [
      nameColumn,
      col('Controller', 'string', 'Controller that is responsible for handling this class'),
      col('Parameters', 'string', 'A reference to a resource with additional parameters'),
      ageColumn,
    ],
    row: (obj, now) => [obj.metadata.name, obj.spec?.controller ?? '', parametersText(obj.spec?.parameters), age(obj, now)],
  },
});

export const ingressClassResource: ResourceDef = {
  group: 'networking.k8s.io',
  version: 'v1',
  kind: 'IngressClass',
  plural: 'ingressclasses',
  singular: 'ingressclass',
  namespaced: false,
  strategy: ingressClassStrategy,
};
