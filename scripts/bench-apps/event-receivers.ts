/**
 * The receiving side of npm run bench:events, in its own process(es) so its CPU is not the product's:
 * --webhooks loopback HTTP receivers (answer 200 at once) and --clients WebSocket clients of /ws.
 * Each receipt's latency is receipt time minus the envelope's `timestamp`, which the bench sets just
 * before the outbox commit. IPC: sends {type:'ready', ports, echo} (echo: the port of a TCP echo
 * server the bench times the host's loopback round trip with); answers {type:'report'} with counts,
 * a latency histogram (1 ms buckets, so several receiver processes can be merged) and CPU;
 * {type:'reset', since} starts a new step: receipts of events stamped before `since` (the step's
 * ramp-in) are kept apart and reported as `ramp`.
 *
 * Why the receivers are hand-rolled on raw `net` (the default, --receivers raw): they are fixtures,
 * not product. Real webhook endpoints and WebSocket clients run on other machines; here they share a
 * 2-core box with the product, and Node's http server plus the `ws` client cost about as much CPU as
 * the product itself at 2,000 events/s × 100 clients — the bench then measured the receivers'
 * contention more than the stream. The raw ones do only what a receipt needs: the HTTP receiver
 * parses a request head and its content-length (keep-alive and pipelining safe; chunked bodies are
 * refused loudly) and answers a fixed `200` with no body; the WebSocket client does the upgrade
 * handshake (checking Sec-WebSocket-Accept), parses the server's unmasked frames (7/16/64-bit lengths;
 * a fragmented or masked frame is a bug and fails loudly), answers pings with masked pongs and a close
 * with a close. `--receivers lib` keeps the old node:http + `ws` receivers, to compare.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer as createHttpServer } from 'node:http';
import { connect as netConnect, createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';

const { values: f } = parseArgs({
  options: {
    webhooks: { type: 'string', default: '10' },
    clients: { type: 'string', default: '100' },
    url: { type: 'string' },
    receivers: { type: 'string', default: 'raw' },
  },
});
if (f.receivers !== 'raw' && f.receivers !== 'lib') throw new Error('--receivers must be raw or lib');

/** Receipts of one side: a count and latencies in 1 ms buckets (the last bucket holds everything ≥ it). */
class Receipts {
  static readonly BUCKETS = 120_001;
  count = 0;
  lastAt = 0;
  hist = new Uint32Array(Receipts.BUCKETS);
  add(latencyMs: number, now: number): void {
    this.count++;
    this.lastAt = now;
    if (Number.isNaN(latencyMs)) return;
    this.hist[Math.min(Receipts.BUCKETS - 1, Math.max(0, Math.round(latencyMs)))]!++;
  }
  /** Non-empty buckets as [ms, count] pairs: small enough for IPC several times a second. */
  report(): { count: number; lastAt: number; hist: [number, number][] } {
    const hist: [number, number][] = [];
    for (let i = 0; i < this.hist.length; i++) if (this.hist[i]) hist.push([i, this.hist[i]!]);
    return { count: this.count, lastAt: this.lastAt, hist };
  }
}

/** One side's receipts, filed by the event's timestamp: before `since` (the step's ramp-in) or not. */
class Side {
  measured = new Receipts();
  ramp = new Receipts();
  constructor(private readonly since: number) {}
  add(latencyMs: number, now: number): void {
    (now - latencyMs < this.since ? this.ramp : this.measured).add(latencyMs, now);
  }
}

let hook = new Side(0);
let ws = new Side(0);
let wsClosed = 0;
let cpuAtReset = process.cpuUsage();

const TIMESTAMP = Buffer.from('"timestamp":"');
const STAMP_LEN = 24; // 2026-11-22T04:47:50.123Z
/** The last timestamp parsed: the bench stamps a whole batch alike, and 100 clients get each event. */
const lastStamp = { bytes: Buffer.alloc(STAMP_LEN), ms: NaN };
/** Where the timestamp's value began in the last body of a kind, from its start (one run's bodies differ little). */
interface StampPlace {
  offset: number;
}
const hookPlace: StampPlace = { offset: -1 };
const wsPlace: StampPlace = { offset: -1 };

/** Whether `buf[at..]` begins with `needle` (a JS loop: for a few bytes, cheaper than a native Buffer call). */
function startsWith(buf: Buffer, at: number, needle: Buffer): boolean {
  if (at + needle.length > buf.length) return false;
  for (let i = 0; i < needle.length; i++) if (buf[at + i] !== needle[i]) return false;
  return true;
}

/**
 * The latency of the envelope in `body[start, end)`: now minus its `timestamp`, found without parsing
 * the frame (100 clients × 2,000 frames/s); NaN without one. The value's place is tried where it was
 * in the last frame before it is searched for, and a stamp equal to the last one is not parsed again.
 */
function latency(place: StampPlace, body: Buffer, now: number, start = 0, end = body.length): number {
  let v = place.offset < 0 ? -1 : start + place.offset;
  if (v < 0 || v + STAMP_LEN > end || !startsWith(body, v - TIMESTAMP.length, TIMESTAMP)) {
    const i = body.indexOf(TIMESTAMP, start);
    if (i < 0 || i + TIMESTAMP.length + STAMP_LEN > end) return NaN;
    v = i + TIMESTAMP.length;
    place.offset = v - start;
  }
  if (!startsWith(body, v, lastStamp.bytes)) {
    body.copy(lastStamp.bytes, 0, v, v + STAMP_LEN);
    lastStamp.ms = Date.parse(lastStamp.bytes.toString('latin1'));
  }
  return now - lastStamp.ms;
}

// --- webhook receivers -----------------------------------------------------------------------

const OK = Buffer.from('HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n');
const HEAD_END = Buffer.from('\r\n\r\n');

/** One HTTP/1.1 connection: requests parsed in order (pipelined or not), one fixed 200 for each. */
function rawHttpConnection(sock: Socket): void {
  sock.setNoDelay(true);
  let pending: Buffer = Buffer.alloc(0);
  let bodyLength = -1; // -1: reading a request head
  sock.on('data', (chunk: Buffer) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    const now = Date.now();
    let answered = 0;
    for (;;) {
      if (bodyLength < 0) {
        const end = pending.indexOf(HEAD_END);
        if (end < 0) {
          if (pending.length > 64 * 1024) sock.destroy(new Error('request head over 64 KB'));
          break;
        }
        const head = pending.toString('latin1', 0, end);
        if (/\r\ntransfer-encoding:/i.test(head)) throw new Error('bench HTTP receiver: chunked request bodies are not supported (expected content-length)');
        const m = /\r\ncontent-length:[ \t]*(\d+)/i.exec(head);
        bodyLength = m ? Number(m[1]) : 0;
        pending = pending.subarray(end + 4);
      }
      if (pending.length < bodyLength) break;
      hook.add(latency(hookPlace, pending, now, 0, bodyLength), now);
      pending = pending.subarray(bodyLength);
      bodyLength = -1;
      answered++;
    }
    if (answered > 0) sock.write(answered === 1 ? OK : Buffer.concat(Array.from({ length: answered }, () => OK)));
  });
  sock.on('error', () => sock.destroy());
}

async function startHookReceiver(): Promise<number> {
  const server =
    f.receivers === 'raw'
      ? createNetServer(rawHttpConnection)
      : createHttpServer((req, res) => {
          const chunks: Buffer[] = [];
          req.on('data', (c: Buffer) => chunks.push(c));
          req.on('end', () => {
            const now = Date.now();
            hook.add(latency(hookPlace, Buffer.concat(chunks), now), now);
            res.writeHead(200).end();
          });
        });
  if ('keepAliveTimeout' in server) server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

// --- WebSocket clients -----------------------------------------------------------------------

const EVENT_PREFIX = Buffer.from('{"type":"event"');
const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** A text frame's payload, `buf[start, end)`: an event frame is counted (other messages are not events). */
function onTextFrame(buf: Buffer, start: number, end: number, now: number): void {
  if (end - start < EVENT_PREFIX.length || !startsWith(buf, start, EVENT_PREFIX)) return;
  ws.add(latency(wsPlace, buf, now, start, end), now);
}

/** A client frame (RFC 6455 §5.3: masked), for control frames only (≤ 125 bytes). */
function maskedControl(opcode: number, payload: Buffer): Buffer {
  const mask = randomBytes(4);
  const out = Buffer.allocUnsafe(6 + payload.length);
  out[0] = 0x80 | opcode;
  out[1] = 0x80 | payload.length;
  mask.copy(out, 2);
  for (let i = 0; i < payload.length; i++) out[6 + i] = payload[i]! ^ mask[i % 4]!;
  return out;
}

/**
 * Work left for later turns of the event loop, one piece per turn: the WebSocket clients' frames
 * are parsed there rather than in their sockets' data events. The stream writes all 100 clients at
 * each commit; parsed on arrival, that burst (~2,000 frames, a few ms) held every webhook receiver's
 * answer behind it — a coupling of fixtures sharing one event loop that independent receivers on
 * other machines never have, and that inflated the webhooks' round trips (p90 1–2 ms against ~0.5 ms
 * with no clients). One piece per turn lets the loop poll, and the webhook receivers answer, in
 * between. Receipt times are taken on arrival, so no latency is understated by the wait.
 */
const backlog: Array<() => void> = [];
let draining = false;
function later(work: () => void): void {
  backlog.push(work);
  if (!draining) {
    draining = true;
    setImmediate(drainOne);
  }
}
function drainOne(): void {
  backlog.shift()?.();
  if (backlog.length > 0) setImmediate(drainOne);
  else draining = false;
}

/** A WebSocket client on a raw socket: handshake, then unmasked server frames. */
function rawWsClient(url: URL): Promise<void> {
  return new Promise((resolve, reject) => {
    const key = randomBytes(16).toString('base64');
    const accept = createHash('sha1').update(key + WS_GUID).digest('base64');
    const sock = netConnect(Number(url.port), url.hostname);
    sock.setNoDelay(true);
    let open = false;
    let pending: Buffer = Buffer.alloc(0);
    const fail = (why: string): never => {
      sock.destroy();
      throw new Error(`bench WebSocket client: ${why}`);
    };
    sock.once('connect', () =>
      sock.write(`GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`),
    );
    /**
     * Parses the frames in `pending`, stamped with the time their bytes arrived: by offsets into the
     * chunk, with no Buffer made per frame (100 clients × 2,000 frames/s); what is left of a frame
     * split across reads is kept for the next.
     */
    const frames = (now: number): void => {
      const buf = pending;
      let at = 0;
      for (;;) {
        if (buf.length - at < 2) break;
        const b0 = buf[at]!;
        const b1 = buf[at + 1]!;
        if (b1 & 0x80) fail('the server masked a frame (RFC 6455 §5.1 forbids it)');
        let len = b1 & 0x7f;
        let start = at + 2;
        if (len === 126) {
          if (buf.length - at < 4) break;
          len = (buf[at + 2]! << 8) | buf[at + 3]!;
          start = at + 4;
        } else if (len === 127) {
          if (buf.length - at < 10) break;
          len = Number(buf.readBigUInt64BE(at + 2));
          start = at + 10;
        }
        const end = start + len;
        if (buf.length < end) break;
        at = end;
        const opcode = b0 & 0x0f;
        if (!(b0 & 0x80) || opcode === 0) fail('fragmented message (not used by the stream, not supported here)');
        if (opcode === 1) onTextFrame(buf, start, end, now);
        else if (opcode === 9) sock.write(maskedControl(0xa, buf.subarray(start, end)));
        else if (opcode === 8) {
          pending = Buffer.alloc(0);
          sock.end(maskedControl(0x8, buf.subarray(start, Math.min(end, start + 2))));
          return;
        } else if (opcode !== 0xa) fail(`unexpected opcode ${opcode}`);
      }
      pending = at === buf.length ? Buffer.alloc(0) : buf.subarray(at);
    };
    sock.on('data', (chunk: Buffer) => {
      const now = Date.now();
      if (open) return later(() => {
        pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
        frames(now);
      });
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      const end = pending.indexOf(HEAD_END);
      if (end < 0) return;
      const head = pending.toString('latin1', 0, end);
      if (!head.startsWith('HTTP/1.1 101')) return reject(new Error(`upgrade refused: ${head.split('\r\n')[0]}`));
      if (!new RegExp(`\\r\\nsec-websocket-accept:[ \\t]*${accept.replace(/[+/=]/g, '\\$&')}\\r?$`, 'im').test(head)) return reject(new Error('bad Sec-WebSocket-Accept'));
      open = true;
      pending = pending.subarray(end + 4);
      resolve();
      frames(now);
    });
    sock.once('error', reject);
    sock.once('close', () => {
      if (open) wsClosed++;
    });
  });
}

function libWsClient(url: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const s = new WebSocket(url);
    s.on('message', (d: Buffer) => onTextFrame(d, 0, d.length, Date.now()));
    s.once('open', () => resolve());
    s.once('error', reject);
    s.once('close', () => wsClosed++);
  });
}

const ports: number[] = [];
for (let i = 0; i < Number(f.webhooks); i++) ports.push(await startHookReceiver());
// Echoes what it reads, for the bench's probe of the host's loopback round trip between two processes.
const echoServer = createNetServer((sock) => {
  sock.setNoDelay(true);
  sock.on('data', (d: Buffer) => sock.write(d));
  sock.on('error', () => sock.destroy());
});
await new Promise<void>((r) => echoServer.listen(0, '127.0.0.1', r));
if (Number(f.clients) > 0) {
  const url = new URL(f.url!);
  await Promise.all(Array.from({ length: Number(f.clients) }, () => (f.receivers === 'raw' ? rawWsClient(url) : libWsClient(f.url!))));
}

process.on('message', (m: { type: string; since?: number }) => {
  if (m.type === 'report') {
    process.send!({ type: 'report', webhooks: hook.measured.report(), ws: ws.measured.report(), ramp: { webhooks: hook.ramp.report(), ws: ws.ramp.report() }, wsClosed, cpu: process.cpuUsage(cpuAtReset) });
  }
  if (m.type === 'reset') {
    hook = new Side(m.since ?? 0);
    ws = new Side(m.since ?? 0);
    cpuAtReset = process.cpuUsage();
  }
  if (m.type === 'exit') process.exit(0);
});
process.send!({ type: 'ready', ports, echo: (echoServer.address() as AddressInfo).port });
