/** Ingress (networking.k8s.io/v1): the strategy and resource definition. */
import { isIP } from 'node:net';
import type { ResourceDef, Strategy } from '../types.js';
import type { StoredObject } from '../../api/types.js';
import { type FieldError, invalidField, notSupported, required } from '../../api/field-errors.js';
import { isDNS1035Label, isDNS1123Subdomain, isValidPathSegmentName } from '../../api/validation.js';
import { col, nameColumn, ageColumn, age } from '../../printers/format.js';
import { guarded } from '../guarded.js';

const pathTypes = ['Exact', 'ImplementationSpecific', 'Prefix'];
const invalidPathSequences = ['//', '/./', '/../', '%2f', '%2F'];
const invalidPathSuffixes = ['/..', '/.'];
const ingressClassAnnotation = 'kubernetes.io/ingress.class';

const wildcardSubdomainFmt = '\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*';
const wildcardSubdomainRe = new RegExp(`^${wildcardSubdomainFmt}$`);

/** IsWildcardDNS1123Subdomain. */
export function isWildcardDNS1123Subdomain(v: string): string[] {
  const errs: string[] = [];
  if (v.length > 253) errs.push('must be no more than 253 characters');
  if (!wildcardSubdomainRe.test(v)) {
    errs.push(`a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character (e.g. '*.example.com', regex used for validation is '${wildcardSubdomainFmt}')`);
  }
  return errs;
}

/** IsValidPortNum. */
export function isValidPortNum(n: unknown): string[] {
  return typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= 65535 ? [] : ['must be between 1 and 65535, inclusive'];
}

/** IsValidPortName: an IANA service name. */
export function isValidPortName(name: string): string[] {
  const errs: string[] = [];
  if (name.length > 15) errs.push('must be no more than 15 characters');
  if (!/^[-a-z0-9]+$/.test(name)) errs.push('must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)');
  if (!/[a-z]/.test(name)) errs.push('must contain at least one letter (a-z)');
  if (name.includes('--')) errs.push('must not contain consecutive hyphens');
  if (name.startsWith('-') || name.endsWith('-')) errs.push('must not begin or end with a hyphen');
  return errs;
}

/** validateIngressTypedLocalObjectReference, also used by IngressClass parameters. */
export function validateTypedLocalObjectReference(ref: any, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (ref.apiGroup !== undefined && ref.apiGroup !== null) errs.push(...isDNS1123Subdomain(ref.apiGroup).map((m) => invalidField(`${path}.apiGroup`, ref.apiGroup, m)));
  if (!ref.kind) errs.push(required(`${path}.kind`, 'kind is required'));
  else errs.push(...isValidPathSegmentName(ref.kind).map((m) => invalidField(`${path}.kind`, ref.kind, m)));
  if (!ref.name) errs.push(required(`${path}.name`, 'name is required'));
  else errs.push(...isValidPathSegmentName(ref.name).map((m) => invalidField(`${path}.name`, ref.name, m)));
  return errs;
}

function validateBackend(b: any, path: string): FieldError[] {
  const hasResource = !!b?.resource;
  const hasService = !!b?.service;
  if (hasResource && hasService) return [invalidField(path, '', 'cannot set both resource and service backends')];
  if (hasResource) return validateTypedLocalObjectReference(b.resource, `${path}.resource`);
  if (!hasService) return [invalidField(path, '', 'resource or service backend is required')];
  const errs: FieldError[] = [];
  const svc = b.service;
  if (!svc.name) errs.push(required(`${path}.service.name`, ''));
  else errs.push(...isDNS1035Label(svc.name).map((m) => invalidField(`${path}.service.name`, svc.name, m)));
  const portName = svc.port?.name ?? '';
  const portNumber = svc.port?.number ?? 0;
  if (portName && portNumber) errs.push(invalidField(path, '', 'cannot set both port name & port number'));
  else if (portName) errs.push(...isValidPortName(portName).map((m) => invalidField(`${path}.service.port.name`, portName, m)));
  else if (portNumber) errs.push(...isValidPortNum(portNumber).map((m) => invalidField(`${path}.service.port.number`, portNumber, m)));
  else errs.push(required(path, 'port name or number is required'));
  return errs;
}

function validatePath(p: any, path: string): FieldError[] {
  if (p.pathType === undefined || p.pathType === null) return [required(`${path}.pathType`, 'pathType must be specified')];
  const errs: FieldError[] = [];
  const value: string = p.path ?? '';
  switch (p.pathType) {
    case 'Exact':
    case 'Prefix':
      if (!value.startsWith('/')) errs.push(invalidField(`${path}.path`, value, 'must be an absolute path'));
      if (value.length > 0) {
        for (const seq of invalidPathSequences) if (value.includes(seq)) errs.push(invalidField(`${path}.path`, value, `must not contain '${seq}'`));
        for (const suf of invalidPathSuffixes) if (value.endsWith(suf)) errs.push(invalidField(`${path}.path`, value, `cannot end with '${suf}'`));
      }
      break;
    case 'ImplementationSpecific':
      if (value.length > 0 && !value.startsWith('/')) errs.push(invalidField(`${path}.path`, value, 'must be an absolute path'));
      break;
    default:
      errs.push(notSupported(`${path}.pathType`, p.pathType, pathTypes));
  }
  errs.push(...validateBackend(p.backend, `${path}.backend`));
  return errs;
}

function validateRules(rules: any[]): FieldError[] {
  const errs: FieldError[] = [];
  rules.forEach((rule, i) => {
    const p = `spec.rules[${i}]`;
    const host: string = rule.host ?? '';
    if (host) {
      if (isIP(host)) errs.push(invalidField(`${p}.host`, host, 'must be a DNS name, not an IP address'));
      const msgs = host.includes('*') ? isWildcardDNS1123Subdomain(host) : isDNS1123Subdomain(host);
      errs.push(...msgs.map((m) => invalidField(`${p}.host`, host, m)));
    }
    if (rule.http) {
      const paths: any[] = rule.http.paths ?? [];
      if (paths.length === 0) errs.push(required(`${p}.http.paths`, ''));
      paths.forEach((x, j) => errs.push(...validatePath(x, `${p}.http.paths[${j}]`)));
    }
  });
  return errs;
}

/** ValidateIngressSpec. */
function validateSpec(spec: any): FieldError[] {
  const errs: FieldError[] = [];
  const rules: any[] = spec.rules ?? [];
  if (rules.length === 0 && !spec.defaultBackend) errs.push(invalidField('spec', spec.rules ?? null, 'either `defaultBackend` or `rules` must be specified'));
  if (spec.defaultBackend) errs.push(...validateBackend(spec.defaultBackend, 'spec.defaultBackend'));
  errs.push(...validateRules(rules));
  (spec.tls ?? []).forEach((tls: any, i: number) => {
    (tls.hosts ?? []).forEach((h: string, j: number) => {
      const msgs = h.includes('*') ? isWildcardDNS1123Subdomain(h) : isDNS1123Subdomain(h);
      errs.push(...msgs.map((m) => invalidField(`spec.tls[${i}].hosts[${j}]`, h, m)));
    });
    if (tls.secretName) errs.push(...isDNS1123Subdomain(tls.secretName).map((m) => invalidField(`spec.tls[${i}].secretName`, tls.secretName, m)));
  });
  if (spec.ingressClassName !== undefined && spec.ingressClassName !== null) {
    errs.push(...isDNS1123Subdomain(spec.ingressClassName).map((m) => invalidField('spec.ingressClassName', spec.ingressClassName, m)));
  }
  return errs;
}

/** ingressLoadBalancerStatusStringer: sorted unique IPs or hostnames. */
function addressText(obj: StoredObject): string {
  const set = new Set<string>();
  for (const i of obj.status?.loadBalancer?.ingress ?? []) {
    if (i.ip) set.add(i.ip);
    else if (i.hostname) set.add(i.hostname);
  }
  return [...set].sort().join(',');
}

/** formatHosts: the first three hosts, `*` when no rule names one. */
function hostsText(rules: any[] | undefined): string {
  const rs = rules ?? [];
  const list: string[] = [];
  let more = false;
  for (const r of rs) {
    if (list.length === 3) more = true;
    if (!more && r.host) list.push(r.host);
  }
  if (list.length === 0) return '*';
  return more ? `${list.join(',')} + ${rs.length - 3} more...` : list.join(',');
}

export const ingressStrategy: Strategy = guarded({
  generation: true,
  hasStatus: true,
  prepareForCreate(obj) {
    // IngressStatus.loadBalancer is a struct that is always written.
    obj.status = { loadBalancer: {} };
  },
  validate(obj) {
    return validateSpec(obj.spec ?? {});
  },
  validateCreate(obj) {
    // The legacy class annotation and the field must agree (upstream checks this on create).
    const annotation = obj.metadata.annotations?.[ingressClassAnnotation];
    const cls = obj.spec?.ingressClassName;
    if (annotation !== undefined && cls !== undefined && cls !== null && annotation !== cls) {
      return [invalidField(`annotations.${ingressClassAnnotation}`, annotation, 'must match `ingressClassName` when both are specified')];
    }
    return [];
  },
  validateStatusUpdate(obj) {
    const errs: FieldError[] = [];
    (obj.status?.loadBalancer?.ingress ?? []).forEach((i: any, n: number) => {
      const p = `status.loadBalancer.ingress[${n}]`;
      if (i.ip && !isIP(i.ip)) errs.push(invalidField(`${p}.ip`, i.ip, 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)'));
      if (i.hostname) {
        errs.push(...isDNS1123Subdomain(i.hostname).map((m) => invalidField(`${p}.hostname`, i.hostname, m)));
        if (isIP(i.hostname)) errs.push(invalidField(`${p}.hostname`, i.hostname, 'must be a DNS name, not an IP address'));
      }
    });
    return errs;
  },
  table: {
    columns: [
      nameColumn,
      col('Class', 'string', 'The name of the IngressClass resource that should be used for additional configuration'),
      col('Hosts', 'string', 'Hosts that incoming requests are matched against before the ingress rule'),
      col('Address', 'string', 'Address is a list containing ingress points for the load-balancer'),
      col('Ports', 'string', 'Ports of TLS configurations that open'),
      ageColumn,
    ],
    // The server fills every cell as for -o wide, so the address is never clipped.
    row: (obj, now) => [obj.metadata.name, obj.spec?.ingressClassName ?? '<none>', hostsText(obj.spec?.rules), addressText(obj), (obj.spec?.tls ?? []).length ? '80, 443' : '80', age(obj, now)],
  },
});

export const ingressResource: ResourceDef = {
  group: 'networking.k8s.io',
  version: 'v1',
  kind: 'Ingress',
  plural: 'ingresses',
  singular: 'ingress',
  namespaced: true,
  shortNames: ['ing'],
  subresources: ['status'],
  strategy: ingressStrategy,
};
