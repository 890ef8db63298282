/** IPv4 CIDR arithmetic for the allocators (service IPs, node pod CIDRs). */

export interface CIDR {
  /** The network address as an unsigned 32-bit number. */
  base: number;
  prefix: number;
  /** How many addresses the range spans. */
  size: number;
  text: string;
}

export function ipToInt(ip: string): number | undefined {
  const parts = ip.split('.');
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return undefined;
    const v = Number(p);
    if (v > 255) return undefined;
    n = n * 256 + v;
  }
  return n;
}

export function intToIp(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

export function parseCIDR(text: string): CIDR {
  const m = /^(\d+\.\d+\.\d+\.\d+)\/(\d{1,2})$/.exec(text.trim());
  const ip = m ? ipToInt(m[1]!) : undefined;
  const prefix = m ? Number(m[2]) : NaN;
  if (!m || ip === undefined || prefix > 32) throw new Error(`invalid CIDR address: ${text}`);
  const size = 2 ** (32 - prefix);
  const base = ip - (ip % size);
  return { base, prefix, size, text: `${intToIp(base)}/${prefix}` };
}

export function contains(c: CIDR, ip: number): boolean {
  return ip >= c.base && ip < c.base + c.size;
}
