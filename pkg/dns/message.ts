/** DNS messages on the wire (dns-packet): responses to a query, size limits and truncation. */
import * as dnsPacket from 'dns-packet';
import type { Answer, DecodedPacket, Packet } from 'dns-packet';
import type { Rcode } from './resolver.js';

export const rcodeNumbers: Record<Rcode, number> = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 };

/** The payload size we advertise in EDNS (the DNS flag day 2020 recommendation). */
export const ednsPayloadSize = 1232;

export interface ResponseParts {
  rcode: Rcode;
  authoritative?: boolean;
  recursionAvailable?: boolean;
  answers?: Answer[];
  authorities?: Answer[];
  additionals?: Answer[];
}

/** The query's EDNS OPT record, if any. */
export function queryOpt(q: DecodedPacket): (Answer & { udpPayloadSize?: number }) | undefined {
  return (q.additionals ?? []).find((a) => a.type === 'OPT') as (Answer & { udpPayloadSize?: number }) | undefined;
}

/** The largest UDP response the client accepts: 512 bytes, or its EDNS size (capped at 4096). */
export function maxUDPSize(q: DecodedPacket): number {
  const opt = queryOpt(q);
  return opt ? Math.max(512, Math.min(opt.udpPayloadSize ?? 512, 4096)) : 512;
}

/** A response to `q`: its id, question and RD bit, our flags and records, and OPT if the query had one. */
export function buildResponse(q: DecodedPacket, parts: ResponseParts): Packet {
  let flags = rcodeNumbers[parts.rcode];
  if (q.flag_rd) flags |= dnsPacket.RECURSION_DESIRED;
  if (parts.authoritative) flags |= dnsPacket.AUTHORITATIVE_ANSWER;
  if (parts.recursionAvailable) flags |= dnsPacket.RECURSION_AVAILABLE;
  const additionals = [...(parts.additionals ?? [])];
  if (queryOpt(q)) additionals.push({ name: '.', type: 'OPT', udpPayloadSize: ednsPayloadSize, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] } as unknown as Answer);
  return {
    id: q.id,
    type: 'response',
    flags,
    questions: q.questions ?? [],
    answers: parts.answers ?? [],
    authorities: parts.authorities ?? [],
    additionals,
  };
}

/**
 * Encodes a response, fitting it in `maxSize` when given (UDP): first the additional section goes
 * (all but OPT), then, if still too big, the answers and authorities, with TC set so the client
 * retries over TCP.
 */
export function encodeResponse(p: Packet, maxSize?: number): Buffer {
  let buf = dnsPacket.encode(p);
  if (maxSize === undefined || buf.length <= maxSize) return buf;
  const opt = (p.additionals ?? []).filter((a) => a.type === 'OPT');
  const trimmed: Packet = { ...p, additionals: opt };
  buf = dnsPacket.encode(trimmed);
  if (buf.length <= maxSize) return buf;
  return dnsPacket.encode({ ...trimmed, flags: (p.flags ?? 0) | dnsPacket.TRUNCATED_RESPONSE, answers: [], authorities: [] });
}

/** An error answer for bytes that are not a usable query; undefined when not even the header parses. */
export function errorForRaw(raw: Buffer, rcode: Rcode): Buffer | undefined {
  if (raw.length < 12) return undefined;
  const id = raw.readUInt16BE(0);
  const flags = raw.readUInt16BE(2);
  if (flags & 0x8000) return undefined; // a response: never answer those
  const rd = flags & dnsPacket.RECURSION_DESIRED;
  return dnsPacket.encode({ id, type: 'response', flags: rd | rcodeNumbers[rcode], questions: [], answers: [], authorities: [], additionals: [] });
}

/** The rcode of an encoded message. */
export function rcodeOf(buf: Buffer): Rcode {
  const n = buf.length >= 4 ? buf.readUInt16BE(2) & 0xf : 2;
  return (Object.entries(rcodeNumbers).find(([, v]) => v === n)?.[0] as Rcode | undefined) ?? 'SERVFAIL';
}
