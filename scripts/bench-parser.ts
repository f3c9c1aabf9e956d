/**
 * Micro-benchmark of the SIP message parser: messages per second on one core for a typical
 * REGISTER and INVITE, parse only and parse + validate + structured views.
 *
 *     npx tsx scripts/bench-parser.ts [seconds-per-case]
 */
import { getHeader, getHeaderValues } from '../src/engine/message/headers.js';
import { parseNameAddr } from '../src/engine/message/name-addr.js';
import { parseMessage } from '../src/engine/message/parse.js';
import { defaultValidationPolicy, validateRequest } from '../src/engine/message/validate.js';
import { parseVia } from '../src/engine/message/via.js';

const REGISTER = [
  'REGISTER sip:pbx.example.com SIP/2.0',
  'Via: SIP/2.0/UDP 192.0.2.10:5060;rport;branch=z9hG4bK-524287-1---a1b2c3d4e5f60718',
  'Max-Forwards: 70',
  'Contact: <sip:1001@192.0.2.10:5060;rinstance=6f8a9c1d2e3b4a5f;transport=UDP>',
  'To: <sip:1001@pbx.example.com>',
  'From: <sip:1001@pbx.example.com>;tag=4f2b8c1a',
  'Call-ID: ZjY0YTQ2NmI3ZDE2YTZkNjM0YTg5ZWQ1ZjJlNDk4MzE',
  'CSeq: 2 REGISTER',
  'Expires: 3600',
  'Allow: INVITE, ACK, CANCEL, BYE, NOTIFY, REFER, MESSAGE, OPTIONS, INFO, SUBSCRIBE',
  'User-Agent: Zoiper rv2.10.19.9',
  'Authorization: Digest username="1001",realm="pbx.example.com",nonce="5f2a8b1c9d3e",uri="sip:pbx.example.com",response="0b2a5c8d7e6f5a4b3c2d1e0f9a8b7c6d",algorithm=MD5',
  'Allow-Events: presence, kpml, talk',
  'Content-Length: 0',
  '',
  '',
].join('\r\n');

const SDP = [
  'v=0',
  'o=- 3900000000 3900000000 IN IP4 192.0.2.10',
  's=-',
  'c=IN IP4 192.0.2.10',
  't=0 0',
  'm=audio 40000 RTP/AVP 0 8 101',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:101 telephone-event/8000',
  'a=fmtp:101 0-16',
  'a=sendrecv',
  '',
].join('\r\n');

const INVITE = [
  'INVITE sip:1002@pbx.example.com SIP/2.0',
  'Via: SIP/2.0/UDP 192.0.2.10:5060;rport;branch=z9hG4bK-524287-1---0718a1b2c3d4e5f6',
  'Max-Forwards: 70',
  'Contact: <sip:1001@192.0.2.10:5060;transport=UDP>',
  'To: <sip:1002@pbx.example.com>',
  'From: "Alice" <sip:1001@pbx.example.com>;tag=9a8b7c6d',
  'Call-ID: YTk4N2M2ZDVlNGYzMjIxMGExYjJjM2Q0ZTVmNjA3MTg',
  'CSeq: 1 INVITE',
  'Allow: INVITE, ACK, CANCEL, BYE, NOTIFY, REFER, MESSAGE, OPTIONS, INFO, SUBSCRIBE',
  'Content-Type: application/sdp',
  'Supported: replaces, norefersub, timer',
  'User-Agent: Zoiper rv2.10.19.9',
  'Allow-Events: presence, kpml, talk',
  `Content-Length: ${Buffer.byteLength(SDP)}`,
  '',
  SDP,
].join('\r\n');

function full(data: Buffer): void {
  const r = parseMessage(data);
  if (r.kind !== 'message' || r.message.type !== 'request') throw new Error('benchmark message did not parse');
  if (validateRequest(r.message, defaultValidationPolicy) !== undefined) throw new Error('benchmark message rejected');
  parseVia(getHeader(r.message, 'via') ?? '');
  parseNameAddr(getHeader(r.message, 'from') ?? '');
  parseNameAddr(getHeader(r.message, 'to') ?? '');
  getHeaderValues(r.message, 'contact').forEach((c) => parseNameAddr(c));
}

function parseOnly(data: Buffer): void {
  if (parseMessage(data).kind !== 'message') throw new Error('benchmark message did not parse');
}

function bench(label: string, data: Buffer, fn: (d: Buffer) => void, seconds: number): void {
  for (let i = 0; i < 20000; i++) fn(data); // warm up the JIT
  let n = 0;
  const start = process.hrtime.bigint();
  const budget = BigInt(Math.round(seconds * 1e9));
  let elapsed = 0n;
  while (elapsed < budget) {
    for (let i = 0; i < 1000; i++) fn(data);
    n += 1000;
    elapsed = process.hrtime.bigint() - start;
  }
  const perSecond = n / (Number(elapsed) / 1e9);
  console.log(`${label.padEnd(34)} ${Math.round(perSecond).toLocaleString('en-US').padStart(10)} msg/s  (${data.length} bytes)`);
}

const seconds = Number(process.argv[2] ?? 1);
const register = Buffer.from(REGISTER);
const invite = Buffer.from(INVITE);
bench('REGISTER parse', register, parseOnly, seconds);
bench('REGISTER parse+validate+views', register, full, seconds);
bench('INVITE parse', invite, parseOnly, seconds);
bench('INVITE parse+validate+views', invite, full, seconds);
