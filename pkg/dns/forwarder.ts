/**
 * Forwarding to upstream resolvers (`--upstream`), as CoreDNS's forward plugin does for names
 * outside the cluster: the query goes unchanged to each upstream in turn until one answers.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import * as dnsPacket from 'dns-packet';
import type { Answer, RecordType } from 'dns-packet';
import type { QType } from './resolver.js';

export interface Upstream {
  host: string;
  port: number;
}

/** Parses `ip`, `ip:port` or `[v6]:port`; port 53 by default. */
export function parseUpstream(s: string): Upstream {
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(s) ?? /^([^:]+)(?::(\d+))?$/.exec(s);
  if (m) return { host: m[1]!, port: m[2] ? Number(m[2]) : 53 };
  if (net.isIPv6(s)) return { host: s, port: 53 };
  throw new Error(`invalid upstream ${JSON.stringify(s)}`);
}

export class Forwarder {
  constructor(
    readonly upstreams: Upstream[],
    private readonly timeoutMs = 2000,
  ) {}

  get enabled(): boolean {
    return this.upstreams.length > 0;
  }

  /** Sends the raw query to the upstreams in turn; resolves with the first answer, or undefined. */
  async forward(raw: Buffer, proto: 'udp' | 'tcp'): Promise<Buffer | undefined> {
    for (const u of this.upstreams) {
      try {
        return proto === 'tcp' ? await this.tcp(u, raw) : await this.udp(u, raw);
      } catch {
        // try the next one
      }
    }
    return undefined;
  }

  /** Resolves one name upstream (a CNAME that left the cluster zone); the answer records or []. */
  async query(name: string, type: QType): Promise<Answer[]> {
    const raw = dnsPacket.encode({ id: Math.floor(Math.random() * 65536), type: 'query', flags: dnsPacket.RECURSION_DESIRED, questions: [{ name, type: type as RecordType, class: 'IN' }] });
    let res = await this.forward(raw, 'udp');
    if (res && dnsPacket.decode(res).flag_tc) res = await this.forward(raw, 'tcp');
    return res ? (dnsPacket.decode(res).answers ?? []) : [];
  }

  private udp(u: Upstream, raw: Buffer): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const sock = dgram.createSocket(net.isIPv6(u.host) ? 'udp6' : 'udp4');
      const id = raw.readUInt16BE(0);
      const timer = setTimeout(() => done(new Error('timeout')), this.timeoutMs);
      const done = (err?: Error, msg?: Buffer) => {
        clearTimeout(timer);
        sock.close();
        if (err) reject(err);
        else resolve(msg!);
      };
      sock.on('error', (e) => done(e));
      sock.on('message', (msg) => {
        if (msg.length >= 2 && msg.readUInt16BE(0) === id) done(undefined, msg);
      });
      sock.send(raw, u.port, u.host);
    });
  }

  private tcp(u: Upstream, raw: Buffer): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const sock = net.connect({ host: u.host, port: u.port });
      let buf = Buffer.alloc(0);
      const timer = setTimeout(() => done(new Error('timeout')), this.timeoutMs);
      const done = (err?: Error, msg?: Buffer) => {
        clearTimeout(timer);
        sock.destroy();
        if (err) reject(err);
        else resolve(msg!);
      };
      sock.on('error', (e) => done(e));
      sock.on('connect', () => {
        const len = Buffer.alloc(2);
        len.writeUInt16BE(raw.length);
        sock.write(Buffer.concat([len, raw]));
      });
      sock.on('data', (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) done(undefined, buf.subarray(2, 2 + buf.readUInt16BE(0)));
      });
      sock.on('end', () => done(new Error('connection closed')));
    });
  }
}
