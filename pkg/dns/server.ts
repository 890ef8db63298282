/**
 * The DNS server: one UDP socket and one TCP listener on the same address, each query answered
 * from the cluster index (or forwarded), with CoreDNS's request metrics.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import * as dnsPacket from 'dns-packet';
import type { Answer, DecodedPacket } from 'dns-packet';
import type { Logger } from 'pino';
import type { Forwarder } from './forwarder.js';
import { buildResponse, encodeResponse, errorForRaw, maxUDPSize, rcodeOf } from './message.js';
import { typeLabel, type DnsMetrics } from './metrics.js';
import type { ClusterIndex } from './records.js';
import { resolve, type QType, type ResolverOptions } from './resolver.js';

export interface DnsServerDeps {
  index: () => ClusterIndex;
  options: () => ResolverOptions;
  forwarder: Forwarder;
  metrics: DnsMetrics;
  logger: Logger;
  /** Shuffle address records, as CoreDNS's loadbalance plugin (round robin). */
  loadBalance: boolean;
  random?: () => number;
}

type Proto = 'udp' | 'tcp';

/** Idle TCP connections are closed after this long. */
const tcpIdleTimeoutMs = 10_000;

export class DnsServer {
  private udp: dgram.Socket | undefined;
  private tcp: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  private serverLabel = 'dns://:53';

  constructor(private readonly deps: DnsServerDeps) {}

  /** Binds UDP and TCP on host:port (port 0: one free port for both). Resolves with the port. */
  async listen(host: string, port: number): Promise<number> {
    for (let attempt = 0; ; attempt++) {
      const udp = dgram.createSocket({ type: net.isIPv6(host) ? 'udp6' : 'udp4' });
      const udpPort = await new Promise<number>((resolve, reject) => {
        udp.once('error', reject);
        udp.bind(port, host, () => resolve(udp.address().port));
      });
      const tcp = net.createServer((s) => this.onTCP(s));
      try {
        await new Promise<void>((resolve, reject) => {
          tcp.once('error', reject);
          tcp.listen(udpPort, host, () => resolve());
        });
      } catch (e) {
        udp.close();
        if (port !== 0 || attempt >= 5) throw e;
        continue;
      }
      udp.on('message', (msg, rinfo) => {
        void this.handle(msg, 'udp', rinfo.family === 'IPv6' ? 2 : 1).then((out) => {
          if (out) udp.send(out, rinfo.port, rinfo.address);
        });
      });
      udp.on('error', (e) => this.deps.logger.error({ err: e.message }, 'udp socket error'));
      this.udp = udp;
      this.tcp = tcp;
      this.serverLabel = `dns://${host === '0.0.0.0' || host === '::' ? '' : host}:${udpPort}`;
      return udpPort;
    }
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await Promise.all([
      new Promise<void>((r) => (this.udp ? this.udp.close(() => r()) : r())),
      new Promise<void>((r) => (this.tcp ? this.tcp.close(() => r()) : r())),
    ]);
  }

  private onTCP(s: net.Socket): void {
    this.sockets.add(s);
    s.setTimeout(tcpIdleTimeoutMs, () => s.destroy());
    s.on('close', () => this.sockets.delete(s));
    s.on('error', () => s.destroy());
    let buf = Buffer.alloc(0);
    let chain = Promise.resolve();
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const msg = buf.subarray(2, 2 + buf.readUInt16BE(0));
        buf = buf.subarray(2 + msg.length);
        const family = s.remoteFamily === 'IPv6' ? 2 : 1;
        // Answers go out in query order.
        chain = chain.then(async () => {
          const out = await this.handle(msg, 'tcp', family);
          if (!out || s.destroyed) return;
          const len = Buffer.alloc(2);
          len.writeUInt16BE(out.length);
          s.write(Buffer.concat([len, out]));
        });
      }
    });
  }

  /** Answers one message; undefined when it deserves no answer. */
  async handle(raw: Buffer, proto: Proto, family: number): Promise<Buffer | undefined> {
    const start = performance.now();
    let q: DecodedPacket;
    try {
      q = dnsPacket.decode(raw);
    } catch {
      return this.report(errorForRaw(raw, 'FORMERR'), raw, proto, family, '.', 'other', '', start);
    }
    if (q.type === 'response') return undefined;
    const question = q.questions?.[0];
    const qtype = typeLabel(question?.type);
    if ((q as any).opcode !== 'QUERY') return this.report(encodeResponse(buildResponse(q, { rcode: 'NOTIMP' })), raw, proto, family, '.', qtype, '', start);
    if (!question || (q.questions?.length ?? 0) !== 1) return this.report(encodeResponse(buildResponse(q, { rcode: 'FORMERR' })), raw, proto, family, '.', qtype, '', start);
    const maxSize = proto === 'udp' ? maxUDPSize(q) : undefined;
    if (question.class && question.class !== 'IN' && question.class !== 'ANY') return this.report(encodeResponse(buildResponse(q, { rcode: 'REFUSED' }), maxSize), raw, proto, family, '.', qtype, '', start);

    const { forwarder } = this.deps;
    let res;
    try {
      res = resolve(question.name, question.type as QType, this.deps.index(), this.deps.options());
    } catch (e) {
      this.deps.logger.error({ err: e instanceof Error ? e.message : String(e), name: question.name }, 'resolve failed');
      return this.report(encodeResponse(buildResponse(q, { rcode: 'SERVFAIL' })), raw, proto, family, '.', qtype, '', start);
    }
    if (res.forwardable && forwarder.enabled) {
      const up = await forwarder.forward(raw, proto);
      const out = up ?? encodeResponse(buildResponse(q, { rcode: 'SERVFAIL', recursionAvailable: true }), maxSize);
      return this.report(out, raw, proto, family, res.zone, qtype, 'forward', start);
    }
    const answers: Answer[] = [...res.answers];
    if (res.chase && forwarder.enabled) answers.push(...(await forwarder.query(res.chase.name, res.chase.type)));
    const out = encodeResponse(
      buildResponse(q, {
        rcode: res.rcode,
        authoritative: res.authoritative,
        recursionAvailable: forwarder.enabled,
        answers: this.deps.loadBalance ? this.shuffle(answers) : answers,
        authorities: res.authorities,
        additionals: res.additionals,
      }),
      maxSize,
    );
    return this.report(out, raw, proto, family, res.zone, qtype, res.zone === '.' ? '' : 'kubernetes', start);
  }

  private report(out: Buffer | undefined, raw: Buffer, proto: Proto, family: number, zone: string, type: string, plugin: string, start: number): Buffer | undefined {
    const { metrics } = this.deps;
    const labels = { server: this.serverLabel, zone, view: '' };
    metrics.requests.inc({ ...labels, proto, family: String(family), type });
    metrics.requestSize.observe({ ...labels, proto }, raw.length);
    if (out) {
      metrics.responses.inc({ ...labels, rcode: rcodeOf(out), plugin });
      metrics.responseSize.observe({ ...labels, proto }, out.length);
    }
    metrics.duration.observe({ ...labels, type }, (performance.now() - start) / 1000);
    return out;
  }

  /** Shuffles the address records among themselves (CNAMEs and others keep their places). */
  private shuffle(answers: Answer[]): Answer[] {
    const idx = answers.map((a, i) => (a.type === 'A' || a.type === 'AAAA' ? i : -1)).filter((i) => i >= 0);
    if (idx.length < 2) return answers;
    const addrs = idx.map((i) => answers[i]!);
    const random = this.deps.random ?? Math.random;
    for (let i = addrs.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [addrs[i], addrs[j]] = [addrs[j]!, addrs[i]!];
    }
    const out = [...answers];
    idx.forEach((i, k) => (out[i] = addrs[k]!));
    return out;
  }
}
