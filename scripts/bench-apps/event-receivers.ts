/**
 * The receiving side of npm run bench:events, in its own process so its CPU is not the product's:
 * --webhooks loopback HTTP receivers (answer 200 at once) and --clients WebSocket clients of /ws.
 * Each receipt's latency is receipt time minus the envelope's `timestamp`, which the bench sets just
 * before the outbox commit. IPC: sends {type:'ready', ports}; answers {type:'report'} with counts and
 * latency percentiles; {type:'reset'} starts a new step.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';

const { values: f } = parseArgs({ options: { webhooks: { type: 'string', default: '10' }, clients: { type: 'string', default: '100' }, url: { type: 'string' } } });

let hook: number[] = [];
let ws: number[] = [];
/** Wall time of each side's latest receipt: its delivery rate is over its own span, not the bench's wait. */
const last = { hook: 0, ws: 0 };
let wsClosed = 0;
let cpuAtReset = process.cpuUsage();

/** The envelope's timestamp, found without parsing the whole frame (100 clients × thousands of frames/s). */
function latency(text: string, now: number): number {
  const i = text.indexOf('"timestamp":"');
  return i < 0 ? NaN : now - Date.parse(text.slice(i + 13, i + 37));
}

const ports: number[] = [];
for (let i = 0; i < Number(f.webhooks); i++) {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      last.hook = Date.now();
      hook.push(latency(Buffer.concat(chunks).toString('utf8'), last.hook));
      res.writeHead(200).end();
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  ports.push((server.address() as AddressInfo).port);
}

const sockets: WebSocket[] = [];
await Promise.all(
  Array.from({ length: Number(f.clients) }, () => new Promise<void>((resolve, reject) => {
    const s = new WebSocket(f.url!);
    s.on('message', (d) => {
      const text = String(d);
      if (!text.startsWith('{"type":"event"')) return;
      last.ws = Date.now();
      ws.push(latency(text, last.ws));
    });
    s.once('open', () => resolve());
    s.once('error', reject);
    s.once('close', () => wsClosed++);
    sockets.push(s);
  })),
);

function summary(xs: number[], lastAt: number): { count: number; p50: number; p99: number; max: number; lastAt: number } {
  const s = xs.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  const at = (q: number): number => s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
  return { count: xs.length, p50: at(0.5), p99: at(0.99), max: s.at(-1) ?? NaN, lastAt };
}

process.on('message', (m: { type: string }) => {
  if (m.type === 'report') process.send!({ type: 'report', webhooks: summary(hook, last.hook), ws: summary(ws, last.ws), wsClosed, cpu: process.cpuUsage(cpuAtReset) });
  if (m.type === 'reset') {
    hook = [];
    ws = [];
    cpuAtReset = process.cpuUsage();
  }
  if (m.type === 'exit') process.exit(0);
});
process.send!({ type: 'ready', ports });
