/**
 * Addresses of the hollow nodes: each node's InternalIP, its pod CIDR, and the pod IPs handed
 * out of it. Nothing is routed; the addresses only have to be unique and consistent, as a
 * host-local IPAM on the node's podCIDR would make them.
 */
import { intToIp, ipToInt, parseCIDR, type CIDR } from '../registry/allocators/cidr.js';

/** The mask size that leaves room for `pods` addresses besides network, gateway and broadcast. */
export function effectiveMaskSize(requested: number, pods: number): number {
  const needed = 32 - Math.ceil(Math.log2(pods + 3));
  return Math.max(0, Math.min(requested, needed));
}

/** The i-th node's pod CIDR carved out of `cluster`; throws when the range is exhausted. */
export function nodePodCIDR(cluster: CIDR, maskSize: number, index: number): CIDR {
  if (maskSize < cluster.prefix) throw new Error(`node CIDR mask /${maskSize} is wider than the cluster CIDR ${cluster.text}`);
  const size = 2 ** (32 - maskSize);
  const base = cluster.base + index * size;
  if (base + size > cluster.base + cluster.size) throw new Error(`cluster CIDR ${cluster.text} has no room for node ${index} with /${maskSize} blocks`);
  return parseCIDR(`${intToIp(base)}/${maskSize}`);
}

/** The i-th node's InternalIP: the (i+1)-th address of `range`. */
export function nodeAddress(range: CIDR, index: number): string {
  if (index + 1 >= range.size - 1) throw new Error(`node IP range ${range.text} has no address for node ${index}`);
  return intToIp(range.base + index + 1);
}

/** IPv4 pod CIDRs only; anything else (IPv6, garbage) is not used for pod IPs. */
export function parseIPv4CIDR(text: string | undefined): CIDR | undefined {
  if (!text) return undefined;
  try {
    return parseCIDR(text);
  } catch {
    return undefined;
  }
}

/**
 * Pod IPs of one node, as host-local IPAM hands them out: the first address is the bridge's,
 * addresses are taken round-robin so a freed one is not reused at once.
 */
export class PodIPPool {
  private readonly used = new Set<number>();
  private next = 2;

  constructor(private cidr: CIDR) {}

  get range(): CIDR {
    return this.cidr;
  }

  /** Switches to another CIDR (the node already had one); addresses handed out so far stay recorded. */
  reset(cidr: CIDR): void {
    this.cidr = cidr;
    this.next = 2;
  }

  /** A free address, or undefined when the range is full. */
  allocate(): string | undefined {
    const last = this.cidr.size - 2;
    const span = last - 1;
    for (let i = 0; i < span; i++) {
      const off = this.next;
      this.next = off >= last ? 2 : off + 1;
      if (!this.used.has(off)) {
        this.used.add(off);
        return intToIp(this.cidr.base + off);
      }
    }
    return undefined;
  }

  /** Records an address already in use (a pod found Running after a restart). */
  claim(ip: string): void {
    const off = this.offset(ip);
    if (off !== undefined) this.used.add(off);
  }

  release(ip: string | undefined): void {
    const off = ip === undefined ? undefined : this.offset(ip);
    if (off !== undefined) this.used.delete(off);
  }

  inUse(): number {
    return this.used.size;
  }

  private offset(ip: string): number | undefined {
    const n = ipToInt(ip);
    if (n === undefined || n < this.cidr.base || n >= this.cidr.base + this.cidr.size) return undefined;
    return n - this.cidr.base;
  }
}
