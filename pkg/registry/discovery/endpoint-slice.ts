/** EndpointSlice (discovery.k8s.io/v1): the strategy and resource definition. */
import { isIPv4, isIPv6 } from 'node:net';
import type { ResourceDef, Strategy } from '../types.js';
import { type FieldError, invalidField, notSupported, required, duplicate } from '../../api/field-errors.js';
import { isDNS1123Label, isDNS1123Subdomain, isQualifiedName, isValidLabelValue, validateLabels } from '../../api/validation.js';
import { col, nameColumn, ageColumn, age } from '../../printers/format.js';
import { immutable } from '../../api/validation.js';
import { guarded } from '../guarded.js';

const addressTypes = ['FQDN', 'IPv4', 'IPv6'];
const protocols = ['SCTP', 'TCP', 'UDP'];
const maxAddresses = 100;
const maxPorts = 20000;
const maxEndpoints = 1000;
const maxZoneHints = 8;

const tooMany = (field: string, max: number): FieldError => ({ type: 'FieldValueTooMany', field, detail: `must have at most ${max} items` });

/** ValidateNonSpecialIP: endpoints may not point at unspecified, loopback or link-local addresses. */
function nonSpecialIP(ip: string, path: string): FieldError[] {
  const v4 = isIPv4(ip);
  const a = v4 ? ip.split('.').map(Number) : [];
  const lower = ip.toLowerCase();
  if ((v4 && a.every((x) => x === 0)) || (!v4 && /^[:0]+$/.test(lower))) return [invalidField(path, ip, 'may not be unspecified (0.0.0.0, ::)')];
  if ((v4 && a[0] === 127) || (!v4 && /^(0*:)*:?0*1$/.test(lower))) return [invalidField(path, ip, 'may not be in the loopback range (127.0.0.0/8, ::1/128)')];
  if ((v4 && a[0] === 169 && a[1] === 254) || (!v4 && /^fe[89ab]/.test(lower))) return [invalidField(path, ip, 'may not be in the link-local range (169.254.0.0/16, fe80::/10)')];
  if ((v4 && a[0] === 224 && a[1] === 0 && a[2] === 0) || (!v4 && lower.startsWith('ff02:'))) return [invalidField(path, ip, 'may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)')];
  return [];
}

/** IsFullyQualifiedDomainName. */
function fqdn(name: string, path: string): FieldError[] {
  const n = name.endsWith('.') ? name.slice(0, -1) : name;
  if (n === '') return [required(path, '')];
  const errs = isDNS1123Subdomain(n).map((m) => invalidField(path, name, m));
  if (!n.includes('.')) errs.push(invalidField(path, name, 'should be a domain with at least two segments separated by dots'));
  return errs;
}

function validateEndpoints(endpoints: any[], addressType: string): FieldError[] {
  if (endpoints.length > maxEndpoints) return [tooMany('endpoints', maxEndpoints)];
  const errs: FieldError[] = [];
  endpoints.forEach((ep, i) => {
    const p = `endpoints[${i}]`;
    const addresses: string[] = ep.addresses ?? [];
    if (addresses.length === 0) errs.push(required(`${p}.addresses`, 'must contain at least 1 address'));
    else if (addresses.length > maxAddresses) errs.push(tooMany(`${p}.addresses`, maxAddresses));
    addresses.forEach((addr, j) => {
      const ap = `${p}.addresses[${j}]`;
      if (addressType === 'IPv4') {
        if (!isIPv4(addr)) errs.push(invalidField(ap, addr, 'must be a valid IPv4 address'));
        else errs.push(...nonSpecialIP(addr, ap));
      } else if (addressType === 'IPv6') {
        if (!isIPv6(addr)) errs.push(invalidField(ap, addr, 'must be a valid IPv6 address'));
        else errs.push(...nonSpecialIP(addr, ap));
      } else if (addressType === 'FQDN') errs.push(...fqdn(addr, ap));
    });
    if (ep.nodeName !== undefined && ep.nodeName !== null) errs.push(...isDNS1123Subdomain(ep.nodeName).map((m) => invalidField(`${p}.nodeName`, ep.nodeName, m)));
    if (ep.deprecatedTopology) {
      if (Object.keys(ep.deprecatedTopology).length > 16) errs.push(tooMany(`${p}.deprecatedTopology`, 16));
      errs.push(...validateLabels(ep.deprecatedTopology, `${p}.deprecatedTopology`));
    }
    if (ep.hostname !== undefined && ep.hostname !== null) errs.push(...isDNS1123Label(ep.hostname).map((m) => invalidField(`${p}.hostname`, ep.hostname, m)));
    const zones: any[] = ep.hints?.forZones ?? [];
    if (zones.length > maxZoneHints) errs.push(tooMany(`${p}.hints.forZones`, maxZoneHints));
    else {
      const seen = new Set<string>();
      zones.forEach((z, j) => {
        const zp = `${p}.hints.forZones[${j}].name`;
        if (seen.has(z.name)) errs.push(duplicate(zp, z.name));
        seen.add(z.name);
        errs.push(...isValidLabelValue(String(z.name ?? '')).map((m) => invalidField(zp, z.name, m)));
      });
    }
  });
  return errs;
}

function validatePorts(ports: any[]): FieldError[] {
  if (ports.length > maxPorts) return [tooMany('ports', maxPorts)];
  const errs: FieldError[] = [];
  const names = new Set<string>();
  ports.forEach((port, i) => {
    const p = `ports[${i}]`;
    const name = port.name ?? '';
    if (name.length > 0) errs.push(...isDNS1123Label(name).map((m) => invalidField(`${p}.name`, name, m)));
    if (names.has(name)) errs.push(duplicate(`${p}.name`, name));
    names.add(name);
    if (port.protocol === undefined || port.protocol === null) errs.push(required(`${p}.protocol`, ''));
    else if (!protocols.includes(port.protocol)) errs.push(notSupported(`${p}.protocol`, port.protocol, protocols));
    if (port.appProtocol !== undefined && port.appProtocol !== null) errs.push(...isQualifiedName(port.appProtocol).map((m) => invalidField(`${p}.appProtocol`, port.appProtocol, m)));
  });
  return errs;
}

/** The PORTS cell: the first three port numbers (or names, or *). */
function formatPorts(ports: any[] | undefined): string {
  const list = (ports ?? []).slice(0, 3).map((p) => (typeof p.port === 'number' ? String(p.port) : (p.name ?? '*')));
  const n = (ports ?? []).length;
  if (n > 3) return `${list.join(',')} + ${n - 3} more...`;
  return list.length ? list.join(',') : '<unset>';
}

/** The ENDPOINTS cell: the first three addresses. */
function formatEndpoints(endpoints: any[] | undefined): string {
  const all: string[] = (endpoints ?? []).flatMap((e) => e.addresses ?? []);
  const list = all.slice(0, 3);
  if (all.length > 3) return `${list.join(',')} + ${all.length - 3} more...`;
  return list.length ? list.join(',') : '<unset>';
}

export const endpointSliceStrategy: Strategy = guarded({
  defaults(obj) {
    for (const p of obj.ports ?? []) {
      p.name ??= '';
      p.protocol ??= 'TCP';
    }
  },
  validate(obj) {
    const errs: FieldError[] = [];
    if (!obj.addressType) errs.push(required('addressType', ''));
    else if (!addressTypes.includes(obj.addressType)) errs.push(notSupported('addressType', obj.addressType, addressTypes));
    errs.push(...validateEndpoints(obj.endpoints ?? [], obj.addressType), ...validatePorts(obj.ports ?? []));
    return errs;
  },
  validateUpdate(obj, old) {
    return immutable(obj.addressType, old.addressType, 'addressType');
  },
  table: {
    columns: [
      nameColumn,
      col('AddressType', 'string', 'addressType specifies the type of address carried by this EndpointSlice. All addresses in this slice must be the same type.'),
      col('Ports', 'string', 'ports specifies the list of network ports exposed by each endpoint in this slice.'),
      col('Endpoints', 'string', 'endpoints is a list of unique endpoints in this slice.'),
      ageColumn,
    ],
    row: (obj, now) => [obj.metadata.name, obj.addressType ?? '', formatPorts(obj.ports), formatEndpoints(obj.endpoints), age(obj, now)],
  },
});

export const endpointSliceResource: ResourceDef = {
  group: 'discovery.k8s.io',
  version: 'v1',
  kind: 'EndpointSlice',
  plural: 'endpointslices',
  singular: 'endpointslice',
  namespaced: true,
  strategy: endpointSliceStrategy,
};
