/**
 * Service (core/v1): the strategy and resource definition.
 *
 * Cluster IP and node port allocation are not done here: spec.clusterIP and nodePorts stay as the
 * client gave them (the allocator fills them in). This strategy keeps clusterIP/clusterIPs in sync,
 * defaults ipFamilies/ipFamilyPolicy for a single-stack IPv4 cluster, re-applies allocated values a
 * client left out on update, and drops fields a type change makes meaningless, as upstream does.
 */
import { isIP } from 'node:net';
import type { ResourceDef, Strategy, TableColumn } from '../types.js';
import type { StoredObject } from '../../api/types.js';
import { type FieldError, invalidField, required, notSupported, duplicate, forbidden } from '../../api/field-errors.js';
import { nameIsDNS1035Label, validateLabels } from '../../api/validation.js';
import { deepEqual } from '../../api/meta.js';
import { col, nameColumn, ageColumn, age, formatMap } from '../../printers/format.js';
import {
  type Obj,
  isObj,
  arr,
  str,
  isValidPortNum,
  validatePortNumOrName,
  validateDNS1123Label,
  validateDNS1123Subdomain,
  validateLabelName,
  validateIP,
  validateCIDR,
} from './pod-spec.js';

const specOf = (o: StoredObject | undefined): Obj => (o && isObj(o.spec) ? o.spec : {});

const isHeadless = (spec: Obj) => arr(spec.clusterIPs).length === 1 && spec.clusterIPs[0] === 'None';
const needsClusterIP = (spec: Obj) => spec.type !== 'ExternalName';
const needsNodePort = (spec: Obj) => spec.type === 'NodePort' || (spec.type === 'LoadBalancer' && spec.allocateLoadBalancerNodePorts !== false);
const needsHCNodePort = (spec: Obj) => spec.type === 'LoadBalancer' && spec.externalTrafficPolicy === 'Local';
const externallyAccessible = (spec: Obj) => spec.type === 'LoadBalancer' || spec.type === 'NodePort' || (spec.type === 'ClusterIP' && arr(spec.externalIPs).length > 0);

/** SetDefaults_Service. */
function defaultService(obj: StoredObject): void {
  if (!isObj(obj.spec)) obj.spec = {};
  const spec = obj.spec as Obj;
  if (!spec.sessionAffinity) spec.sessionAffinity = 'None';
  if (spec.sessionAffinity === 'None') delete spec.sessionAffinityConfig;
  if (spec.sessionAffinity === 'ClientIP' && (spec.sessionAffinityConfig?.clientIP?.timeoutSeconds === undefined || spec.sessionAffinityConfig?.clientIP?.timeoutSeconds === null)) {
    spec.sessionAffinityConfig = { clientIP: { timeoutSeconds: 10800 } };
  }
  if (!spec.type) spec.type = 'ClusterIP';
  for (const p of arr(spec.ports)) {
    if (!isObj(p)) continue;
    if (!p.protocol) p.protocol = 'TCP';
    if (p.targetPort === undefined || p.targetPort === null || p.targetPort === 0 || p.targetPort === '') p.targetPort = p.port;
  }
  if (externallyAccessible(spec) && !spec.externalTrafficPolicy) spec.externalTrafficPolicy = 'Cluster';
  if ((spec.internalTrafficPolicy === undefined || spec.internalTrafficPolicy === null) && ['NodePort', 'LoadBalancer', 'ClusterIP'].includes(spec.type)) {
    spec.internalTrafficPolicy = 'Cluster';
  }
  if (spec.type === 'LoadBalancer') {
    if (spec.allocateLoadBalancerNodePorts === undefined || spec.allocateLoadBalancerNodePorts === null) spec.allocateLoadBalancerNodePorts = true;
    for (const ing of arr(obj.status?.loadBalancer?.ingress)) if (isObj(ing) && ing.ip && !ing.ipMode) ing.ipMode = 'VIP';
  }
}

/** NormalizeClusterIPs: keep the singular and plural fields in step. */
function normalizeClusterIPs(spec: Obj, old: Obj | undefined): void {
  const ips = arr(spec.clusterIPs);
  if (!old) {
    if (str(spec.clusterIP) && ips.length === 0) spec.clusterIPs = [spec.clusterIP];
    return;
  }
  const sameIPs = deepEqual(ips, arr(old.clusterIPs));
  if (str(spec.clusterIP) !== str(old.clusterIP) && sameIPs) {
    // An old client changed only the singular field: the plural follows.
    if (!str(spec.clusterIP)) delete spec.clusterIPs;
    else spec.clusterIPs = [spec.clusterIP, ...ips.slice(1)];
  } else if (str(spec.clusterIP) && ips.length === 0) {
    spec.clusterIPs = [spec.clusterIP];
  }
}

/**
 * patchAllocatedValues: a client that resubmits its original YAML (without the cluster IP or node
 * ports that were allocated for it) keeps them.
 */
function patchAllocatedValues(spec: Obj, old: Obj): void {
  if (needsClusterIP(old) && needsClusterIP(spec)) {
    if (!str(spec.clusterIP) && str(old.clusterIP)) spec.clusterIP = old.clusterIP;
    if (arr(spec.clusterIPs).length === 0 && arr(old.clusterIPs).length > 0) spec.clusterIPs = [...old.clusterIPs];
  }
  if (needsNodePort(old) && needsNodePort(spec)) {
    const used = new Set(arr(spec.ports).map((p: any) => p?.nodePort).filter((n: unknown) => n));
    const byName = new Map(arr(old.ports).map((p: any) => [str(p?.name), p?.nodePort]));
    for (const p of arr(spec.ports)) {
      if (!isObj(p) || p.nodePort) continue;
      const v = byName.get(str(p.name));
      if (v && !used.has(v)) p.nodePort = v;
    }
  }
  if (needsHCNodePort(old) && needsHCNodePort(spec) && !spec.healthCheckNodePort && old.healthCheckNodePort) spec.healthCheckNodePort = old.healthCheckNodePort;
}

/** dropTypeDependentFields: a type change wipes what no longer applies, unless the client changed it too. */
function dropTypeDependentFields(svc: StoredObject, spec: Obj, old: Obj): void {
  if (needsClusterIP(old) && !needsClusterIP(spec)) {
    if (str(spec.clusterIP) === str(old.clusterIP) && deepEqual(arr(spec.clusterIPs), arr(old.clusterIPs))) {
      delete spec.clusterIP;
      delete spec.clusterIPs;
    }
    if (deepEqual(spec.ipFamilies ?? null, old.ipFamilies ?? null)) delete spec.ipFamilies;
    if (deepEqual(spec.ipFamilyPolicy ?? null, old.ipFamilyPolicy ?? null)) delete spec.ipFamilyPolicy;
  }
  if (needsNodePort(old) && !needsNodePort(spec)) {
    const same = deepEqual(
      arr(spec.ports).map((p: any) => p?.nodePort ?? 0),
      arr(old.ports).map((p: any) => p?.nodePort ?? 0),
    );
    if (same) for (const p of arr(spec.ports)) if (isObj(p)) delete p.nodePort;
  }
  if (needsHCNodePort(old) && !needsHCNodePort(spec) && (spec.healthCheckNodePort ?? 0) === (old.healthCheckNodePort ?? 0)) delete spec.healthCheckNodePort;
  if (old.type === 'LoadBalancer' && spec.type !== 'LoadBalancer') {
    if (typeof spec.allocateLoadBalancerNodePorts === 'boolean' && spec.allocateLoadBalancerNodePorts === old.allocateLoadBalancerNodePorts) delete spec.allocateLoadBalancerNodePorts;
    if (deepEqual(spec.loadBalancerClass ?? null, old.loadBalancerClass ?? null)) delete spec.loadBalancerClass;
  }
  if (externallyAccessible(old) && !externallyAccessible(spec) && spec.externalTrafficPolicy === old.externalTrafficPolicy) delete spec.externalTrafficPolicy;
  if (spec.type !== 'LoadBalancer' && isObj(svc.status)) svc.status.loadBalancer = {};
}

/**
 * initIPFamilyFields for a single-stack IPv4 cluster: SingleStack and the family of the cluster IP
 * (IPv4 when none is set yet); headless services without a selector take both families.
 */
function initIPFamilyFields(spec: Obj): void {
  if (!needsClusterIP(spec)) return;
  const selectorless = !isObj(spec.selector) || Object.keys(spec.selector).length === 0;
  if (isHeadless(spec) && selectorless && !spec.ipFamilyPolicy) spec.ipFamilyPolicy = 'RequireDualStack';
  const families: string[] = arr(spec.ipFamilies).slice();
  if (!isHeadless(spec)) {
    arr(spec.clusterIPs).forEach((ip: unknown, i: number) => {
      if (i >= families.length && isIP(str(ip))) families.push(isIP(str(ip)) === 6 ? 'IPv6' : 'IPv4');
    });
  }
  if (!spec.ipFamilyPolicy) spec.ipFamilyPolicy = 'SingleStack';
  if (families.length === 0) families.push('IPv4');
  if (isHeadless(spec) && families.length < 2 && spec.ipFamilyPolicy === 'RequireDualStack') families.push(families[0] === 'IPv4' ? 'IPv6' : 'IPv4');
  spec.ipFamilies = families;
}

const supportedServiceTypes = ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'];
const supportedProtocols = ['SCTP', 'TCP', 'UDP'];

function validateClusterIPsRelatedFields(spec: Obj): FieldError[] {
  if (spec.type === 'ExternalName') return [];
  const errs: FieldError[] = [];
  const ips = arr(spec.clusterIPs);
  if (str(spec.clusterIP)) {
    if (ips.length === 0) errs.push(required('spec.clusterIPs', ''));
    else if (ips[0] !== spec.clusterIP) errs.push(invalidField('spec.clusterIPs', ips, 'first value must match `clusterIP`'));
  } else if (ips.length !== 0) {
    errs.push(invalidField('spec.clusterIPs', ips, 'must be empty when `clusterIP` is not specified'));
  }
  const seen = new Set<string>();
  arr(spec.ipFamilies).forEach((f: unknown, i: number) => {
    if (f !== 'IPv4' && f !== 'IPv6') errs.push(notSupported(`spec.ipFamilies[${i}]`, f, ['IPv4', 'IPv6']));
    if (seen.has(str(f))) errs.push(duplicate(`spec.ipFamilies[${i}]`, f));
    seen.add(str(f));
  });
  if (spec.ipFamilyPolicy !== undefined && spec.ipFamilyPolicy !== null && !['PreferDualStack', 'RequireDualStack', 'SingleStack'].includes(spec.ipFamilyPolicy)) {
    errs.push(notSupported('spec.ipFamilyPolicy', spec.ipFamilyPolicy, ['PreferDualStack', 'RequireDualStack', 'SingleStack']));
  }
  let badIPs = false;
  ips.forEach((ip: unknown, i: number) => {
    if (i === 0 && ip === 'None') {
      if (ips.length > 1) {
        badIPs = true;
        errs.push(invalidField('spec.clusterIPs', ips, "'None' must be the first and only value"));
      }
      return;
    }
    const e = validateIP(ip, `spec.clusterIPs[${i}]`);
    if (e.length) badIPs = true;
    errs.push(...e);
  });
  if (ips.length > 2) errs.push(invalidField('spec.clusterIPs', ips, 'may only hold up to 2 values'));
  if (badIPs) return errs;
  if (ips.length > 1 && isIP(str(ips[0])) === isIP(str(ips[1]))) errs.push(invalidField('spec.clusterIPs', ips, 'may specify no more than one IP for each IP family'));
  if (!isHeadless(spec)) {
    const families = arr(spec.ipFamilies);
    ips.forEach((ip: unknown, i: number) => {
      if (i >= families.length) return;
      const v6 = isIP(str(ip)) === 6;
      if (families[i] === 'IPv4' && v6) errs.push(invalidField(`spec.clusterIPs[${i}]`, ip, `expected an IPv4 value as indicated by \`ipFamilies[${i}]\``));
      if (families[i] === 'IPv6' && !v6) errs.push(invalidField(`spec.clusterIPs[${i}]`, ip, `expected an IPv6 value as indicated by \`ipFamilies[${i}]\``));
    });
  }
  return errs;
}

function validateNonSpecialIP(ip: string, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (ip === '0.0.0.0' || ip === '::') errs.push(invalidField(path, ip, `may not be unspecified (${ip})`));
  if (/^127\./.test(ip) || ip === '::1') errs.push(invalidField(path, ip, 'may not be in the loopback range (127.0.0.0/8, ::1/128)'));
  if (/^169\.254\./.test(ip) || /^fe[89ab][0-9a-f]:/i.test(ip)) errs.push(invalidField(path, ip, 'may not be in the link-local range (169.254.0.0/16, fe80::/10)'));
  if (/^224\.0\.0\./.test(ip) || /^ff02:/i.test(ip)) errs.push(invalidField(path, ip, 'may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)'));
  return errs;
}

/** ValidateService (without the object metadata, which the store checks). */
export function validateService(svc: StoredObject): FieldError[] {
  const spec = specOf(svc);
  const errs: FieldError[] = [];
  const ports = arr(spec.ports);
  const headless = isHeadless(spec);
  if (ports.length === 0 && !headless && spec.type !== 'ExternalName') errs.push(required('spec.ports', ''));
  switch (spec.type) {
    case 'LoadBalancer':
    case 'NodePort':
      if (headless) errs.push(invalidField('spec.clusterIPs[0]', spec.clusterIPs[0], `may not be set to 'None' for ${spec.type} services`));
      break;
    case 'ExternalName': {
      if (arr(spec.clusterIPs).length > 0) errs.push(forbidden('spec.clusterIPs', 'may not be set for ExternalName services'));
      if (arr(spec.ipFamilies).length > 0) errs.push(forbidden('spec.ipFamilies', 'may not be set for ExternalName services'));
      if (spec.ipFamilyPolicy !== undefined && spec.ipFamilyPolicy !== null) errs.push(forbidden('spec.ipFamilyPolicy', 'may not be set for ExternalName services'));
      const cname = str(spec.externalName).replace(/\.$/, '');
      if (cname) errs.push(...validateDNS1123Subdomain(cname, 'spec.externalName'));
      else errs.push(required('spec.externalName', ''));
      break;
    }
  }
  const names = new Set<string>();
  ports.forEach((p: any, i: number) => {
    const pp = `spec.ports[${i}]`;
    const name = str(p?.name);
    if (ports.length > 1 && !name) errs.push(required(`${pp}.name`, ''));
    else if (name) {
      errs.push(...validateDNS1123Label(name, `${pp}.name`));
      if (names.has(name)) errs.push(duplicate(`${pp}.name`, name));
      else names.add(name);
    }
    for (const m of isValidPortNum(p?.port)) errs.push(invalidField(`${pp}.port`, p?.port ?? 0, m));
    if (!p?.protocol) errs.push(required(`${pp}.protocol`, ''));
    else if (!supportedProtocols.includes(p.protocol)) errs.push(notSupported(`${pp}.protocol`, p.protocol, supportedProtocols));
    errs.push(...validatePortNumOrName(p?.targetPort, `${pp}.targetPort`));
    if (p?.appProtocol !== undefined && p?.appProtocol !== null) errs.push(...validateLabelName(p.appProtocol, `${pp}.appProtocol`));
  });
  if (spec.selector !== undefined && spec.selector !== null) errs.push(...validateLabels(spec.selector, 'spec.selector'));
  if (!spec.sessionAffinity) errs.push(required('spec.sessionAffinity', ''));
  else if (!['ClientIP', 'None'].includes(spec.sessionAffinity)) errs.push(notSupported('spec.sessionAffinity', spec.sessionAffinity, ['ClientIP', 'None']));
  if (spec.sessionAffinity === 'ClientIP') {
    const cfg = spec.sessionAffinityConfig;
    const p = 'spec.sessionAffinityConfig';
    if (!isObj(cfg)) errs.push(required(p, 'when session affinity type is ClientIP'));
    else if (!isObj(cfg.clientIP)) errs.push(required(`${p}.clientIP`, 'when session affinity type is ClientIP'));
    else if (cfg.clientIP.timeoutSeconds === undefined || cfg.clientIP.timeoutSeconds === null) errs.push(required(`${p}.clientIP.timeoutSeconds`, 'when session affinity type is ClientIP'));
    else {
      const t = Number(cfg.clientIP.timeoutSeconds);
      if (!(t > 0 && t <= 86400)) errs.push(invalidField(`${p}.clientIP.timeoutSeconds`, cfg.clientIP.timeoutSeconds, 'must be greater than 0 and less than 86400'));
    }
  } else if (spec.sessionAffinity === 'None' && spec.sessionAffinityConfig !== undefined && spec.sessionAffinityConfig !== null) {
    errs.push(forbidden('spec.sessionAffinityConfig', 'must not be set when session affinity is None'));
  }
  errs.push(...validateClusterIPsRelatedFields(spec));
  arr(spec.externalIPs).forEach((ip: unknown, i: number) => {
    const p = `spec.externalIPs[${i}]`;
    const e = validateIP(ip, p);
    errs.push(...(e.length ? e : validateNonSpecialIP(str(ip), p)));
  });
  if (!spec.type) errs.push(required('spec.type', ''));
  else if (!supportedServiceTypes.includes(spec.type)) errs.push(notSupported('spec.type', spec.type, supportedServiceTypes));
  if (spec.type === 'ClusterIP') {
    ports.forEach((p: any, i: number) => {
      if (p?.nodePort) errs.push(forbidden(`spec.ports[${i}].nodePort`, "may not be used when `type` is 'ClusterIP'"));
    });
  }
  const nodePorts = new Set<string>();
  ports.forEach((p: any, i: number) => {
    if (!p?.nodePort) return;
    const key = `${p.protocol}/${p.nodePort}`;
    if (nodePorts.has(key)) errs.push(duplicate(`spec.ports[${i}].nodePort`, p.nodePort));
    nodePorts.add(key);
  });
  const portKeys = new Set<string>();
  ports.forEach((p: any, i: number) => {
    const key = `${p?.protocol}/${p?.port}`;
    if (portKeys.has(key)) errs.push(duplicate(`spec.ports[${i}]`, { protocol: p?.protocol, port: p?.port }));
    portKeys.add(key);
  });
  const ranges = arr(spec.loadBalancerSourceRanges);
  if (ranges.length) {
    if (spec.type !== 'LoadBalancer') errs.push(forbidden('spec.LoadBalancerSourceRanges', "may only be used when `type` is 'LoadBalancer'"));
    ranges.forEach((r: unknown, i: number) => errs.push(...validateCIDR(str(r).trim(), `spec.LoadBalancerSourceRanges[${i}]`)));
  }
  if (spec.allocateLoadBalancerNodePorts !== undefined && spec.allocateLoadBalancerNodePorts !== null && spec.type !== 'LoadBalancer') {
    errs.push(forbidden('spec.allocateLoadBalancerNodePorts', "may only be used when `type` is 'LoadBalancer'"));
  }
  // Upstream's path for this one has no `spec.` in front.
  if (spec.type === 'LoadBalancer' && (spec.allocateLoadBalancerNodePorts === undefined || spec.allocateLoadBalancerNodePorts === null)) errs.push(required('allocateLoadBalancerNodePorts', ''));
  if (spec.type !== 'LoadBalancer') {
    if (spec.loadBalancerClass !== undefined && spec.loadBalancerClass !== null) errs.push(forbidden('spec.loadBalancerClass', "may only be used when `type` is 'LoadBalancer'"));
  } else if (spec.loadBalancerClass !== undefined && spec.loadBalancerClass !== null) {
    errs.push(...validateLabelName(spec.loadBalancerClass, 'spec.loadBalancerClass'));
  }
  if (!externallyAccessible(spec)) {
    if (spec.externalTrafficPolicy) errs.push(invalidField('spec.externalTrafficPolicy', spec.externalTrafficPolicy, 'may only be set for externally-accessible services'));
  } else if (!spec.externalTrafficPolicy) errs.push(required('spec.externalTrafficPolicy', ''));
  else if (!['Cluster', 'Local'].includes(spec.externalTrafficPolicy)) errs.push(notSupported('spec.externalTrafficPolicy', spec.externalTrafficPolicy, ['Cluster', 'Local']));
  if (!needsHCNodePort(spec)) {
    if (spec.healthCheckNodePort) {
      errs.push(invalidField('spec.healthCheckNodePort', spec.healthCheckNodePort, "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'"));
    }
  } else if (spec.healthCheckNodePort) {
    for (const m of isValidPortNum(spec.healthCheckNodePort)) errs.push(invalidField('spec.healthCheckNodePort', spec.healthCheckNodePort, m));
  }
  if (spec.internalTrafficPolicy === undefined || spec.internalTrafficPolicy === null) {
    if (['NodePort', 'LoadBalancer', 'ClusterIP'].includes(spec.type)) errs.push(required('spec.internalTrafficPolicy', ''));
  } else if (!['Cluster', 'Local'].includes(spec.internalTrafficPolicy)) {
    errs.push(notSupported('spec.internalTrafficPolicy', spec.internalTrafficPolicy, ['Cluster', 'Local']));
  }
  if (spec.trafficDistribution !== undefined && spec.trafficDistribution !== null && spec.trafficDistribution !== 'PreferClose') {
    errs.push(notSupported('spec.trafficDistribution', spec.trafficDistribution, ['PreferClose']));
  }
  return errs;
}

/** ValidateServiceUpdate's extra rules: allocated IPs and families may not change. */
export function validateServiceUpdate(svc: StoredObject, old: StoredObject): FieldError[] {
  const spec = specOf(svc);
  const o = specOf(old);
  const errs: FieldError[] = [];
  if (spec.type !== 'ExternalName' && o.type !== 'ExternalName' && !(isHeadless(spec) && isHeadless(o))) {
    const ips = arr(spec.clusterIPs);
    const oldIPs = arr(o.clusterIPs);
    if (ips.length === oldIPs.length) {
      oldIPs.forEach((ip: unknown, i: number) => {
        if (ip !== ips[i]) errs.push(invalidField(`spec.clusterIPs[${i}]`, ips, 'may not change once set'));
      });
    } else if (oldIPs.length > ips.length) {
      if (ips.length === 0) errs.push(invalidField('spec.clusterIPs[0]', ips, 'primary clusterIP can not be unset'));
      if (ips.length > 0 && ips[0] !== oldIPs[0]) errs.push(invalidField('spec.clusterIPs[0]', ips, 'may not change once set'));
      if (ips.length === 1 && spec.ipFamilyPolicy !== 'SingleStack') {
        errs.push(invalidField('spec.ipFamilyPolicy', spec.ipFamilyPolicy ?? null, "must be set to 'SingleStack' when releasing the secondary clusterIP"));
      }
    } else if (oldIPs.length > 0 && ips[0] !== oldIPs[0]) {
      errs.push(invalidField('spec.clusterIPs[0]', ips, 'may not change once set'));
    }
  }
  if (spec.type !== 'ExternalName' && o.type !== 'ExternalName' && isHeadless(spec) === isHeadless(o) && !isHeadless(spec)) {
    const fams = arr(spec.ipFamilies);
    const oldFams = arr(o.ipFamilies);
    if (fams.length === oldFams.length) {
      if (oldFams.some((f: unknown, i: number) => f !== fams[i])) errs.push(invalidField('spec.ipFamilies[0]', fams, 'may not change once set'));
    } else if (oldFams.length > fams.length) {
      if (fams.length > 0 && fams[0] !== oldFams[0]) errs.push(invalidField('spec.ipFamilies[0]', arr(spec.clusterIPs), 'may not change once set'));
      if (fams.length === 1 && spec.ipFamilyPolicy !== 'SingleStack') {
        errs.push(invalidField('spec.ipFamilyPolicy', spec.ipFamilyPolicy ?? null, "must be set to 'SingleStack' when releasing the secondary ipFamily"));
      }
    } else if (oldFams.length > 0 && fams.length > 0 && fams[0] !== oldFams[0]) {
      errs.push(invalidField('spec.ipFamilies[0]', arr(spec.clusterIPs), 'may not change once set'));
    }
  }
  if (o.type === 'LoadBalancer' && spec.type === 'LoadBalancer' && !deepEqual(o.loadBalancerClass ?? null, spec.loadBalancerClass ?? null)) {
    errs.push(invalidField('spec.loadBalancerClass', spec.loadBalancerClass ?? null, 'may not change once set'));
  }
  if (needsHCNodePort(o) && needsHCNodePort(spec) && (spec.healthCheckNodePort ?? 0) !== (o.healthCheckNodePort ?? 0)) {
    errs.push(forbidden('spec.healthCheckNodePort', 'field is immutable'));
  }
  return errs;
}

function validateServiceStatus(svc: StoredObject): FieldError[] {
  const errs: FieldError[] = [];
  const spec = specOf(svc);
  const ingress = arr(svc.status?.loadBalancer?.ingress);
  if (spec.type !== 'LoadBalancer' && ingress.length) return [forbidden('status.loadBalancer.ingress', "may only be used when `spec.type` is 'LoadBalancer'")];
  ingress.forEach((ing: any, i: number) => {
    const p = `status.loadBalancer.ingress[${i}]`;
    if (str(ing?.ip)) errs.push(...validateIP(ing.ip, `${p}.ip`));
    if (ing?.ipMode !== undefined && ing?.ipMode !== null) {
      if (!str(ing?.ip)) errs.push(forbidden(`${p}.ipMode`, 'may not be specified when `ip` is not set'));
      else if (!['Proxy', 'VIP'].includes(ing.ipMode)) errs.push(notSupported(`${p}.ipMode`, ing.ipMode, ['Proxy', 'VIP']));
    }
    if (str(ing?.hostname)) {
      errs.push(...validateDNS1123Subdomain(ing.hostname, `${p}.hostname`));
      if (isIP(ing.hostname)) errs.push(invalidField(`${p}.hostname`, ing.hostname, 'must be a DNS name, not an IP address'));
    }
  });
  return errs;
}

function loadBalancerIPs(svc: StoredObject): string {
  const out: string[] = [];
  for (const ing of arr(svc.status?.loadBalancer?.ingress)) {
    const v = str(ing?.ip) || str(ing?.hostname);
    if (v && !out.includes(v)) out.push(v);
  }
  return out.join(',');
}

/** getServiceExternalIP (wide, as the server prints it). */
function externalIP(svc: StoredObject): string {
  const spec = specOf(svc);
  const ext = arr(spec.externalIPs).map(str);
  switch (spec.type) {
    case 'ClusterIP':
    case 'NodePort':
      return ext.length ? ext.join(',') : '<none>';
    case 'LoadBalancer': {
      const lb = loadBalancerIPs(svc);
      if (ext.length) return [...(lb ? lb.split(',') : []), ...ext].join(',');
      return lb || '<pending>';
    }
    case 'ExternalName':
      return str(spec.externalName);
  }
  return '<unknown>';
}

function portString(ports: any[]): string {
  return ports.map((p) => (Number(p?.nodePort) > 0 ? `${p.port}:${p.nodePort}/${p.protocol}` : `${p?.port}/${p?.protocol}`)).join(',');
}

const serviceColumns: TableColumn[] = [
  nameColumn,
  col('Type', 'string', 'type determines how the Service is exposed. Defaults to ClusterIP. Valid options are ExternalName, ClusterIP, NodePort, and LoadBalancer.'),
  col('Cluster-IP', 'string', 'clusterIP is the IP address of the service and is usually assigned randomly.'),
  col('External-IP', 'string', 'externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service.'),
  col('Port(s)', 'string', 'The list of ports that are exposed by this service.'),
  ageColumn,
  col('Selector', 'string', 'Route service traffic to pods with label keys and values matching this selector.', 1),
];

export const serviceStrategy: Strategy = {
  hasStatus: true,
  nameValidator: nameIsDNS1035Label,
  defaults: defaultService,
  prepareForCreate(obj) {
    obj.status = { loadBalancer: {} };
    const spec = obj.spec as Obj;
    normalizeClusterIPs(spec, undefined);
    initIPFamilyFields(spec);
  },
  prepareForUpdate(obj, old) {
    const spec = obj.spec as Obj;
    const o = specOf(old);
    if (!isObj(obj.status)) obj.status = { loadBalancer: {} };
    patchAllocatedValues(spec, o);
    normalizeClusterIPs(spec, o);
    dropTypeDependentFields(obj, spec, o);
    initIPFamilyFields(spec);
  },
  validate: validateService,
  validateUpdate: validateServiceUpdate,
  validateStatusUpdate: validateServiceStatus,
  selectableFields(obj) {
    const spec = specOf(obj);
    return { 'spec.clusterIP': str(spec.clusterIP), 'spec.type': str(spec.type) };
  },
  table: {
    columns: serviceColumns,
    row(obj, now) {
      const spec = specOf(obj);
      const ports = portString(arr(spec.ports));
      return [obj.metadata.name, str(spec.type), str(arr(spec.clusterIPs)[0]) || '<none>', externalIP(obj), ports || '<none>', age(obj, now), formatMap(isObj(spec.selector) ? spec.selector : undefined)];
    },
  },
};

export const serviceResource: ResourceDef = {
  group: '',
  version: 'v1',
  kind: 'Service',
  plural: 'services',
  singular: 'service',
  namespaced: true,
  shortNames: ['svc'],
  categories: ['all'],
  subresources: ['status'],
  strategy: serviceStrategy,
};
