/**
 * ClusterIP and NodePort allocation for Services.
 *
 * Every allocated IP is an IPAddress object at `/registry/ipaddresses/<ip>` naming its Service
 * (upstream's networking.k8s.io IPAddress allocator), and every allocated node port a key at
 * `/registry/servicenodeports/<port>`. Both are created with a create-only etcd transaction, so
 * two apiservers can never hand out the same address or port.
 */
import { randomInt } from 'node:crypto';
import * as errors from '../../api/errors.js';
import type { FieldError } from '../../api/field-errors.js';
import type { StoredObject, Service } from '../../api/types.js';
import type { EtcdStore } from '../../storage/etcd-store.js';
import { isStorageError } from '../../storage/errors.js';
import { parseCIDR, ipToInt, intToIp, contains, type CIDR } from './cidr.js';
import type { StoreHooks } from '../store.js';

export interface ServiceAllocatorConfig {
  /** `--service-cluster-ip-range`, default 10.96.0.0/12. */
  serviceClusterIPRange: string;
  /** `--service-node-port-range`, default 30000-32767. */
  serviceNodePortRange: string;
}

const ipKey = (ip: string) => `/registry/ipaddresses/${ip}`;
const portKey = (port: number) => `/registry/servicenodeports/${port}`;

function invalidService(name: string, errs: FieldError[]) {
  return errors.invalid({ group: '', kind: 'Service' }, name, errs);
}

export class ServiceAllocator {
  readonly range: CIDR;
  readonly portMin: number;
  readonly portMax: number;

  constructor(
    private readonly etcd: EtcdStore,
    cfg: ServiceAllocatorConfig,
  ) {
    this.range = parseCIDR(cfg.serviceClusterIPRange);
    const m = /^(\d+)-(\d+)$/.exec(cfg.serviceNodePortRange);
    if (!m) throw new Error(`invalid --service-node-port-range ${cfg.serviceNodePortRange}`);
    this.portMin = Number(m[1]);
    this.portMax = Number(m[2]);
  }

  /** The first usable address of the range: the `kubernetes` Service's. */
  firstIP(): string {
    return intToIp(this.range.base + 1);
  }

  private ipObject(ip: string, svc: StoredObject): StoredObject {
    return {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'IPAddress',
      metadata: {
        name: ip,
        labels: { 'ipaddress.kubernetes.io/ip-family': 'IPv4', 'ipaddress.kubernetes.io/managed-by': 'ipallocator.k8s.io' },
        creationTimestamp: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
      },
      spec: { parentRef: { group: '', resource: 'services', namespace: svc.metadata.namespace, name: svc.metadata.name } },
    };
  }

  private async claimIP(ip: string, svc: StoredObject): Promise<boolean> {
    try {
      await this.etcd.create(ipKey(ip), this.ipObject(ip, svc), 'ipaddresses');
      return true;
    } catch (e) {
      if (isStorageError(e, 'KeyExists')) return false;
      throw e;
    }
  }

  /** Allocates the IP a Service asks for, or a free one; throws 422 as upstream does. */
  async allocateIP(svc: StoredObject, dryRun: boolean): Promise<string> {
    const name = svc.metadata.name ?? '';
    const requested: string | undefined = svc.spec?.clusterIP;
    if (requested) {
      const n = ipToInt(requested);
      if (n === undefined || !contains(this.range, n) || n === this.range.base || n === this.range.base + this.range.size - 1) {
        throw invalidService(name, [
          {
            type: 'FieldValueInvalid',
            field: 'spec.clusterIPs',
            value: [requested],
            detail: `failed to allocate IP ${requested}: the provided IP (${requested}) is not in the valid range. The range of valid IPs is ${this.range.text}`,
          },
        ]);
      }
      if (dryRun) {
        if (await this.etcd.get(ipKey(requested), 'ipaddresses')) throw alreadyAllocated(name, requested);
        return requested;
      }
      if (!(await this.claimIP(requested, svc))) throw alreadyAllocated(name, requested);
      return requested;
    }
    // Dynamic allocations come from the upper part of the range first, leaving the lower band
    // for static choices (upstream's ServiceIPStaticSubrange).
    const usable = this.range.size - 2;
    const lowBand = Math.min(Math.max(16, Math.floor(usable / 16)), 256);
    const tryRange = async (from: number, count: number): Promise<string | undefined> => {
      if (count <= 0) return undefined;
      const start = randomInt(count);
      for (let i = 0; i < count; i++) {
        const ip = intToIp(this.range.base + 1 + from + ((start + i) % count));
        if (dryRun ? !(await this.etcd.get(ipKey(ip), 'ipaddresses')) : await this.claimIP(ip, svc)) return ip;
      }
      return undefined;
    };
    const ip = (await tryRange(lowBand, usable - lowBand)) ?? (await tryRange(0, lowBand));
    if (!ip) throw errors.internalError(`failed to allocate a serviceIP: range is full`);
    return ip;
  }

  async releaseIP(ip: string | undefined, svc: StoredObject): Promise<void> {
    if (!ip || ip === 'None') return;
    const cur = await this.etcd.get(ipKey(ip), 'ipaddresses');
    const ref = cur?.spec?.parentRef;
    if (!cur || ref?.namespace !== svc.metadata.namespace || ref?.name !== svc.metadata.name) return;
    try {
      await this.etcd.delete(ipKey(ip), Number(cur.metadata.resourceVersion), 'ipaddresses');
    } catch (e) {
      if (!isStorageError(e)) throw e;
    }
  }

  private async claimPort(port: number, svc: StoredObject): Promise<boolean> {
    try {
      await this.etcd.create(portKey(port), { metadata: { name: String(port) }, spec: { namespace: svc.metadata.namespace, name: svc.metadata.name } }, 'servicenodeports');
      return true;
    } catch (e) {
      if (isStorageError(e, 'KeyExists')) return false;
      throw e;
    }
  }

  /** Gives every port of a NodePort/LoadBalancer Service a nodePort; returns the ports claimed. */
  async allocateNodePorts(svc: StoredObject, keep: Set<number>, dryRun: boolean): Promise<number[]> {
    const claimed: number[] = [];
    const name = svc.metadata.name ?? '';
    const ports: { nodePort?: number }[] = svc.spec?.ports ?? [];
    try {
      for (let i = 0; i < ports.length; i++) {
        const p = ports[i]!;
        if (p.nodePort) {
          if (keep.has(p.nodePort)) continue;
          if (p.nodePort < this.portMin || p.nodePort > this.portMax) {
            throw invalidService(name, [
              { type: 'FieldValueInvalid', field: `spec.ports[${i}].nodePort`, value: p.nodePort, detail: `provided port is not in the valid range. The range of valid ports is ${this.portMin}-${this.portMax}` },
            ]);
          }
          if (dryRun ? !!(await this.etcd.get(portKey(p.nodePort), 'servicenodeports')) : !(await this.claimPort(p.nodePort, svc))) {
            throw invalidService(name, [{ type: 'FieldValueInvalid', field: `spec.ports[${i}].nodePort`, value: p.nodePort, detail: 'provided port is already allocated' }]);
          }
          if (!dryRun) claimed.push(p.nodePort);
          continue;
        }
        const span = this.portMax - this.portMin + 1;
        const start = randomInt(span);
        let got: number | undefined;
        for (let j = 0; j < span && got === undefined; j++) {
          const port = this.portMin + ((start + j) % span);
          if (keep.has(port) || claimed.includes(port)) continue;
          if (dryRun ? !(await this.etcd.get(portKey(port), 'servicenodeports')) : await this.claimPort(port, svc)) got = port;
        }
        if (got === undefined) throw errors.internalError('failed to allocate a nodePort: range is full');
        if (!dryRun) claimed.push(got);
        p.nodePort = got;
      }
    } catch (e) {
      await this.releaseNodePorts(claimed, svc);
      throw e;
    }
    return claimed;
  }

  async releaseNodePorts(ports: number[], svc: StoredObject): Promise<void> {
    for (const port of ports) {
      const cur = await this.etcd.get(portKey(port), 'servicenodeports');
      if (!cur || cur.spec?.namespace !== svc.metadata.namespace || cur.spec?.name !== svc.metadata.name) continue;
      try {
        await this.etcd.delete(portKey(port), Number(cur.metadata.resourceVersion), 'servicenodeports');
      } catch (e) {
        if (!isStorageError(e)) throw e;
      }
    }
  }

  /** The store hooks that allocate on create/update and release on delete. */
  hooks(): StoreHooks {
    const needsIP = (s: Service) => s.spec?.type !== 'ExternalName' && s.spec?.clusterIP !== 'None';
    const needsNodePorts = (s: Service) => s.spec?.type === 'NodePort' || s.spec?.type === 'LoadBalancer';
    const nodePortsOf = (s: Service) => new Set((s.spec?.ports ?? []).map((p) => p.nodePort).filter((p): p is number => !!p));
    return {
      beforeCreate: async (obj, dryRun) => {
        const svc = obj as Service & StoredObject;
        svc.spec ??= {};
        let ip: string | undefined;
        if (needsIP(svc)) {
          ip = await this.allocateIP(obj, dryRun);
          svc.spec.clusterIP = ip;
          svc.spec.clusterIPs = [ip];
        } else if (svc.spec.clusterIP === 'None') {
          svc.spec.clusterIPs = ['None'];
        }
        let ports: number[] = [];
        try {
          if (needsNodePorts(svc)) ports = await this.allocateNodePorts(obj, new Set(), dryRun);
        } catch (e) {
          if (!dryRun) await this.releaseIP(ip, obj);
          throw e;
        }
        return async () => {
          if (dryRun) return;
          await this.releaseIP(ip, obj);
          await this.releaseNodePorts(ports, obj);
        };
      },
      beforeUpdate: async (obj, old, dryRun) => {
        const svc = obj as Service & StoredObject;
        const prev = old as Service & StoredObject;
        svc.spec ??= {};
        let newIP: string | undefined;
        // A change to ExternalName frees the IP; a change away from it allocates one.
        if (needsIP(svc) && !needsIP(prev)) {
          newIP = await this.allocateIP(obj, dryRun);
          svc.spec.clusterIP = newIP;
          svc.spec.clusterIPs = [newIP];
        } else if (needsIP(svc) && !svc.spec.clusterIP) {
          svc.spec.clusterIP = prev.spec?.clusterIP;
          svc.spec.clusterIPs = prev.spec?.clusterIPs;
        }
        const oldPorts = needsNodePorts(prev) ? nodePortsOf(prev) : new Set<number>();
        let claimed: number[] = [];
        if (needsNodePorts(svc)) {
          // Ports that keep their number keep their claim.
          if (needsNodePorts(prev)) {
            for (const p of svc.spec.ports ?? []) {
              if (p.nodePort) continue;
              const before = (prev.spec?.ports ?? []).find((q) => q.port === p.port && (q.protocol ?? 'TCP') === (p.protocol ?? 'TCP'));
              if (before?.nodePort) p.nodePort = before.nodePort;
            }
          }
          try {
            claimed = await this.allocateNodePorts(obj, oldPorts, dryRun);
          } catch (e) {
            if (newIP && !dryRun) await this.releaseIP(newIP, obj);
            throw e;
          }
        } else {
          for (const p of svc.spec.ports ?? []) delete p.nodePort;
        }
        return {
          undo: async () => {
            if (dryRun) return;
            if (newIP) await this.releaseIP(newIP, obj);
            await this.releaseNodePorts(claimed, obj);
          },
          commit: async () => {
            if (dryRun) return;
            const kept = needsNodePorts(svc) ? nodePortsOf(svc) : new Set<number>();
            await this.releaseNodePorts([...oldPorts].filter((p) => !kept.has(p)), old);
            if (needsIP(prev) && !needsIP(svc)) await this.releaseIP(prev.spec?.clusterIP, old);
          },
        };
      },
      afterDelete: async (old) => {
        const svc = old as Service & StoredObject;
        await this.releaseIP(svc.spec?.clusterIP, old);
        if (needsNodePorts(svc)) await this.releaseNodePorts([...nodePortsOf(svc)], old);
      },
    };
  }
}

function alreadyAllocated(name: string, ip: string) {
  return invalidService(name, [
    { type: 'FieldValueInvalid', field: 'spec.clusterIPs', value: [ip], detail: `failed to allocate IP ${ip}: provided IP is already allocated` },
  ]);
}
