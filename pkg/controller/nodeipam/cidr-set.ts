/**
 * The pod CIDR pool of the node IPAM controller (upstream's cidrset): the cluster CIDR cut into
 * subnets of `--node-cidr-mask-size`, each either free or in use. Invariant: a subnet is handed
 * out by `allocateNext` only while nothing else holds it.
 */
import { intToIp, parseCIDR, type CIDR } from '../../registry/allocators/cidr.js';

export class CIDRRangeNotAvailableError extends Error {
  constructor(clusterCIDR: string) {
    super(`CIDR allocation failed; there are no remaining CIDRs left to allocate in the accepted range ${clusterCIDR}`);
  }
}

export class CIDRSet {
  readonly cluster: CIDR;
  private readonly subnetSize: number;
  private readonly count: number;
  private readonly used = new Set<number>();
  /** Where the next search starts, so freed subnets are not reused at once (upstream's nextCandidate). */
  private next = 0;

  constructor(
    clusterCIDR: string,
    readonly maskSize: number,
  ) {
    this.cluster = parseCIDR(clusterCIDR);
    if (!Number.isInteger(maskSize) || maskSize < this.cluster.prefix || maskSize > 32) {
      throw new Error(`--node-cidr-mask-size ${maskSize} does not fit in the cluster CIDR ${this.cluster.text}`);
    }
    this.subnetSize = 2 ** (32 - maskSize);
    this.count = 2 ** (maskSize - this.cluster.prefix);
  }

  /** How many subnets are in use. */
  usedCount(): number {
    return this.used.size;
  }

  /** The index of a subnet of this set, or undefined when `cidr` is not one of its subnets. */
  private indexOf(cidr: string): number | undefined {
    let c: CIDR;
    try {
      c = parseCIDR(cidr);
    } catch {
      return undefined;
    }
    if (c.prefix !== this.maskSize || c.base < this.cluster.base || c.base >= this.cluster.base + this.cluster.size) return undefined;
    return (c.base - this.cluster.base) / this.subnetSize;
  }

  private textOf(index: number): string {
    return `${intToIp(this.cluster.base + index * this.subnetSize)}/${this.maskSize}`;
  }

  /** Marks a subnet used (a node already has it); false when it is not a subnet of this set. */
  occupy(cidr: string): boolean {
    const i = this.indexOf(cidr);
    if (i === undefined) return false;
    this.used.add(i);
    return true;
  }

  release(cidr: string): void {
    const i = this.indexOf(cidr);
    if (i !== undefined) this.used.delete(i);
  }

  isUsed(cidr: string): boolean {
    const i = this.indexOf(cidr);
    return i !== undefined && this.used.has(i);
  }

  /** Takes the next free subnet; throws CIDRRangeNotAvailableError when none is left. */
  allocateNext(): string {
    for (let k = 0; k < this.count; k++) {
      const i = (this.next + k) % this.count;
      if (this.used.has(i)) continue;
      this.used.add(i);
      this.next = (i + 1) % this.count;
      return this.textOf(i);
    }
    throw new CIDRRangeNotAvailableError(this.cluster.text);
  }
}
