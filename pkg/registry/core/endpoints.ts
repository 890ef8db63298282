/** Endpoints (core/v1): the strategy and resource definition. */
import type { ResourceDef, Strategy } from '../types.js';
import type { StoredObject } from '../../api/types.js';
import { type FieldError, invalidField, required, notSupported } from '../../api/field-errors.js';
import { col, nameColumn, ageColumn, age } from '../../printers/format.js';
import { formatEndpoints } from '../../printers/core.js';
import { isObj, arr, str, validateIP, validateDNS1123Label, validateDNS1123Subdomain, isValidPortNum, validateLabelName } from './pod-spec.js';

function validateNonSpecialIP(ip: string, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (ip === '0.0.0.0' || ip === '::') errs.push(invalidField(path, ip, `may not be unspecified (${ip})`));
  if (/^127\./.test(ip) || ip === '::1') errs.push(invalidField(path, ip, 'may not be in the loopback range (127.0.0.0/8, ::1/128)'));
  if (/^169\.254\./.test(ip) || /^fe[89ab][0-9a-f]:/i.test(ip)) errs.push(invalidField(path, ip, 'may not be in the link-local range (169.254.0.0/16, fe80::/10)'));
  if (/^224\.0\.0\./.test(ip) || /^ff02:/i.test(ip)) errs.push(invalidField(path, ip, 'may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)'));
  return errs;
}

function validateAddress(a: any, path: string): FieldError[] {
  const ipErrs = validateIP(a?.ip, `${path}.ip`);
  const errs = [...ipErrs];
  if (str(a?.hostname)) errs.push(...validateDNS1123Label(a.hostname, `${path}.hostname`));
  if (a?.nodeName !== undefined && a?.nodeName !== null) errs.push(...validateDNS1123Subdomain(a.nodeName, `${path}.nodeName`));
  errs.push(...(ipErrs.length ? [invalidField(`${path}.ip`, a?.ip ?? '', 'must be a valid IP address')] : validateNonSpecialIP(str(a?.ip), `${path}.ip`)));
  return errs;
}

/** ValidateEndpoints' subsets. */
export function validateEndpoints(ep: StoredObject): FieldError[] {
  const errs: FieldError[] = [];
  arr(ep.subsets).forEach((ss: any, i: number) => {
    const p = `subsets[${i}]`;
    const addrs = arr(ss?.addresses);
    const notReady = arr(ss?.notReadyAddresses);
    if (addrs.length === 0 && notReady.length === 0) errs.push(required(p, 'must specify `addresses` or `notReadyAddresses`'));
    addrs.forEach((a, j) => errs.push(...validateAddress(a, `${p}.addresses[${j}]`)));
    notReady.forEach((a, j) => errs.push(...validateAddress(a, `${p}.notReadyAddresses[${j}]`)));
    const ports = arr(ss?.ports);
    ports.forEach((port: any, j: number) => {
      const pp = `${p}.ports[${j}]`;
      if (ports.length > 1 && !str(port?.name)) errs.push(required(`${pp}.name`, ''));
      else if (str(port?.name)) errs.push(...validateDNS1123Label(port.name, `${pp}.name`));
      for (const m of isValidPortNum(port?.port)) errs.push(invalidField(`${pp}.port`, port?.port ?? 0, m));
      if (!port?.protocol) errs.push(required(`${pp}.protocol`, ''));
      else if (!['SCTP', 'TCP', 'UDP'].includes(port.protocol)) errs.push(notSupported(`${pp}.protocol`, port.protocol, ['SCTP', 'TCP', 'UDP']));
      if (port?.appProtocol !== undefined && port?.appProtocol !== null) errs.push(...validateLabelName(port.appProtocol, `${pp}.appProtocol`));
    });
  });
  return errs;
}

export const endpointsStrategy: Strategy = {
  defaults(obj) {
    for (const ss of arr(obj.subsets)) for (const p of arr(ss?.ports)) if (isObj(p) && !p.protocol) p.protocol = 'TCP';
  },
  validate: validateEndpoints,
  table: {
    columns: [
      nameColumn,
      col('Endpoints', 'string', 'The set of all endpoints is the union of all subsets. Addresses are placed into subsets according to the IPs they share. A single address with multiple ports, some of which are ready and some of which are not (because they come from different containers) will result in the address being displayed in different subsets for the different ports. No address will appear in both Addresses and NotReadyAddresses in the same subset. Sets of addresses and ports that comprise a service.'),
      ageColumn,
    ],
    row: (obj, now) => [obj.metadata.name, formatEndpoints(obj.subsets), age(obj, now)],
  },
};

export const endpointsResource: ResourceDef = {
  group: '',
  version: 'v1',
  kind: 'Endpoints',
  plural: 'endpoints',
  singular: 'endpoints',
  namespaced: true,
  shortNames: ['ep'],
  strategy: endpointsStrategy,
};
