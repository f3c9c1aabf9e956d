/**
 * Event fan-out benchmark (npm run bench:events), loopback only.
 *
 * This process is the product side, built from the real modules as main.ts wires them: a file-backed
 * SQLite store (WAL) in a temp dir, the outbox writer (appendOutboxEvents in a transaction, as every
 * producer does), the WebhookDispatcher (allow-list 127.0.0.0/8) and the /ws EventStream on an HTTP
 * server, both woken on each commit. A child process (scripts/bench-apps/event-receivers.ts) holds
 * --webhooks HTTP receivers (webhooks created in the store, filter `*`) and --clients WebSocket
 * clients. Each step writes --rate events/s (call.ringing, in batches every 10 ms) for --ramp-in
 * seconds and then --seconds more, waits (≤ 30 s) for every delivery, and prints events/s delivered to
 * each side and the latency p50/p99 from the commit to receipt (the envelope timestamp is set just
 * before the commit) of the events written after the ramp-in, then a verdict on the goal (≥ 2,000
 * events/s to 10 endpoints and 100 clients, p99 < 100 ms), which is a sustained rate.
 *
 * Why a ramp-in (default 2 s, measured and printed on its own line, not in the verdict): a step
 * starts with an instant jump of the rate (20× after the warm-up, 2× between default steps), and the
 * webhooks take about a second to settle after it. Receipts per 20 ms at 2,000 events/s showed it:
 * for the first 0.3–0.8 s each endpoint's round trips ran at half their later speed (its connection
 * never idle), latency rose to ~240 ms and was caught up by ~1.5 s; after that every 20 ms window's
 * worst latency stayed at 10–50 ms. Counted in the step, that one-off second was the whole p99.
 * Events written after the ramp-in still queue behind anything it left undelivered: they are
 * measured from their own commit, so a slow settle still shows in the verdict's figures.
 *
 * The receivers are hand-rolled on raw sockets (see event-receivers.ts: fixtures on the product's
 * 2-core box should not eat its CPU); --receivers lib uses node:http and the `ws` client instead.
 * The webhook receivers run in one process and the WebSocket clients in another (--receiver-split
 * sides, the default), as the different systems they stand for would: in one event loop, each
 * burst of 100 clients' reads (every 5 ms) held up the webhook answers behind it, and that queueing
 * was counted in the product's round trip. Four interleaved pairs at 2,000 events/s, same code:
 * webhook p99 40 / 37 / 49 / 60 ms split, against 87 / 55 / 54 / 62 together (receivers' CPU
 * 49-54 % of a core either way). --receiver-split even --receiver-procs N deals both out over N
 * processes instead (N = 1: everything in one, as before).
 *
 *   npm run bench:events                      steps at 500, 1000, 2000 events/s, 10 s each (+ 2 s ramp-in)
 *   (each run starts with --warmup 3 s at 100 events/s, not measured: delivery threads, connections, JIT)
 *   npm run bench:events -- --ramp-in 0        measure each step from its first event
 *   npm run bench:events -- --rates 2000 --seconds 5 --webhooks 10 --clients 100
 *   npm run bench:events -- --rates 2000 --webhooks 0 --receivers lib
 */
import { fork } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { EventStream } from '../src/api/events-ws/event-stream.js';
import { attachEventStream } from '../src/api/events-ws/stream-upgrade.js';
import { makeEvent } from '../src/events/envelope.js';
import { allowListOf } from '../src/events/webhooks/ip-ranges.js';
import { WebhookDispatcher } from '../src/pbx/events/webhook-dispatcher.js';
import { wallClock } from '../src/shared/clock.js';
import { appendOutboxEvents, createApiKey, createTenant, createWebhook, inTransaction, migrateToLatest, openDatabase } from '../src/store/index.js';

const GOAL_EPS = 2000;
const GOAL_P99_MS = 100;
const { values: f } = parseArgs({
  options: {
    rates: { type: 'string', default: '500,1000,2000' },
    seconds: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '3' },
    'ramp-in': { type: 'string', default: '2' },
    webhooks: { type: 'string', default: '10' },
    clients: { type: 'string', default: '100' },
    receivers: { type: 'string', default: 'raw' },
    'receiver-split': { type: 'string', default: 'sides' },
    'receiver-procs': { type: 'string', default: '1' },
    /** Write a V8 CPU profile of each receiver process to this directory (the product: run with node --cpu-prof). */
    'receivers-cpu-prof': { type: 'string' },
  },
});
const GOAL_WEBHOOKS = 10;
const GOAL_CLIENTS = 100;

/**
 * The host's speed just before a step: µs per HMAC-SHA256 of a 300-byte body (what every webhook
 * request signs twice), best of 5 rounds of 4,000 on an otherwise idle machine. The same work costs
 * this shared 2-core VM up to ~40 % more from one minute to the next (the product's CPU for one step
 * ranged 98-140 % of a core); a slow figure here says the step ran on a slow host.
 */
function hostHmacMicros(): number {
  const key = Buffer.alloc(32, 1);
  const body = Buffer.alloc(300, 97);
  let best = Infinity;
  for (let round = 0; round < 5; round++) {
    const t = performance.now();
    for (let i = 0; i < 4000; i++) createHmac('sha256', key).update(body).digest('hex');
    best = Math.min(best, ((performance.now() - t) * 1000) / 4000);
  }
  return best;
}

/**
 * The host's loopback round trip just before a step: 400 bytes to a receiver process's echo server
 * and back, one at a time over one kept connection, for 300 ms — the shape of every webhook
 * delivery. Round trips a second, and this process's CPU per round trip (µs). On this VM the
 * syscalls and wake-ups a delivery is made of cost several times what the HMAC probe's arithmetic
 * does, and vary on their own: the HMAC probe read normal (2.2–2.4 µs) in runs whose endpoints
 * managed 1,650–1,850 events/s, against ≥ 2,000 earlier the same day.
 */
async function hostLoopback(port: number): Promise<{ perSecond: number; cpuMicros: number }> {
  const sock = connect(port, '127.0.0.1');
  sock.setNoDelay(true);
  await new Promise<void>((resolve, reject) => sock.once('connect', resolve).once('error', reject));
  const message = Buffer.alloc(400, 97);
  let trips = 0;
  let got = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await new Promise<void>((resolve) => {
    sock.on('data', (d: Buffer) => {
      got += d.length;
      if (got < message.length) return;
      got = 0;
      trips++;
      if (performance.now() - t0 < 300) sock.write(message);
      else resolve();
    });
    sock.write(message);
  });
  const elapsed = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  sock.destroy();
  return { perSecond: Math.round(trips / elapsed), cpuMicros: (cpu.user + cpu.system) / trips };
}

/** Whole-machine busy and steal ms from /proc/stat, to show what else ran (a shared 2-core box). */
function machineCpuMs(): { busy: number; steal: number } {
  try {
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.split(/\s+/).slice(1).map(Number);
    return { busy: (user + nice + system + irq + softirq) * 10, steal: steal * 10 };
  } catch {
    return { busy: 0, steal: 0 };
  }
}

const dir = mkdtempSync(join(tmpdir(), 'sb-bench-events-'));
const store = openDatabase(join(dir, 'switchboard.db'));
await migrateToLatest(store.db);
const db = store.db;
const secretKey = Buffer.alloc(32, 7);
const tenant = await createTenant(db, { name: 'Bench', sipDomain: 'bench.test' });
const key = (await createApiKey(db, { tenantId: tenant.id, name: 'bench', scopes: ['voip:read'] })).key;
const log = pino({ level: 'warn' });

const stream = new EventStream({ db, log });
await stream.start();
const server = createServer((_q, s) => s.writeHead(404).end());
attachEventStream(server, stream, db);
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const wsUrl = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/ws?api_key=${key}`;

// The receiver processes: webhooks in one and clients in another (sides), or both dealt out evenly over --receiver-procs.
if (f['receiver-split'] !== 'sides' && f['receiver-split'] !== 'even') throw new Error('--receiver-split must be sides or even');
const procs = Math.max(1, Number(f['receiver-procs']));
const share = (total: number, i: number): number => Math.floor(total / procs) + (i < total % procs ? 1 : 0);
const layout: { webhooks: number; clients: number }[] =
  f['receiver-split'] === 'sides'
    ? [{ webhooks: Number(f.webhooks), clients: 0 }, { webhooks: 0, clients: Number(f.clients) }].filter((p) => p.webhooks + p.clients > 0)
    : Array.from({ length: procs }, (_, i) => ({ webhooks: share(Number(f.webhooks), i), clients: share(Number(f.clients), i) }));
const children = layout.map((p) =>
  fork('scripts/bench-apps/event-receivers.ts', ['--webhooks', String(p.webhooks), '--clients', String(p.clients), '--url', wsUrl, '--receivers', f.receivers], {
    execArgv: ['--import', 'tsx', ...(f['receivers-cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${f['receivers-cpu-prof']}`] : [])],
  }),
);
for (const c of children) c.on('exit', (code) => code && (console.error(`a receiver process exited with ${code}`), process.exit(1)));
type Side = { count: number; lastAt: number; hist: [number, number][] };
type Summary = { count: number; p50: number; p99: number; max: number; lastAt: number };
type Report = { webhooks: Summary; ws: Summary; ramp: { webhooks: Summary; ws: Summary }; wsClosed: number; cpu: NodeJS.CpuUsage };
type Received = { webhooks: Side; ws: Side; ramp: { webhooks: Side; ws: Side }; wsClosed: number; cpu: NodeJS.CpuUsage };
const askOne = <T>(child: (typeof children)[number], type: string, reply: string): Promise<T> =>
  new Promise((resolve) => {
    const on = (m: { type: string }): void => {
      if (m.type !== reply) return;
      child.off('message', on);
      resolve(m as T);
    };
    child.on('message', on);
    if (type) child.send({ type });
  });
/** Counts and latency histograms of every receiver process, merged. */
function merge(sides: Side[]): Summary {
  const hist = new Map<number, number>();
  for (const s of sides) for (const [ms, n] of s.hist) hist.set(ms, (hist.get(ms) ?? 0) + n);
  const sorted = [...hist.entries()].sort((a, b) => a[0] - b[0]);
  const total = sorted.reduce((a, [, n]) => a + n, 0);
  const at = (q: number): number => {
    let seen = 0;
    for (const [ms, n] of sorted) if ((seen += n) > Math.min(total - 1, Math.floor(q * total))) return ms;
    return NaN;
  };
  return { count: sides.reduce((a, s) => a + s.count, 0), p50: at(0.5), p99: at(0.99), max: sorted.at(-1)?.[0] ?? NaN, lastAt: Math.max(...sides.map((s) => s.lastAt)) };
}
async function report(): Promise<Report> {
  const rs = await Promise.all(children.map((c) => askOne<Received>(c, 'report', 'report')));
  return {
    webhooks: merge(rs.map((r) => r.webhooks)),
    ws: merge(rs.map((r) => r.ws)),
    ramp: { webhooks: merge(rs.map((r) => r.ramp.webhooks)), ws: merge(rs.map((r) => r.ramp.ws)) },
    wsClosed: rs.reduce((a, r) => a + r.wsClosed, 0),
    cpu: { user: rs.reduce((a, r) => a + r.cpu.user, 0), system: rs.reduce((a, r) => a + r.cpu.system, 0) },
  };
}
const ready = await Promise.all(children.map((c) => askOne<{ ports: number[]; echo: number }>(c, '', 'ready')));
const ports = ready.flatMap((r) => r.ports);
const echoPort = ready[0]!.echo;
for (const [i, port] of ports.entries()) {
  await createWebhook(db, secretKey, { tenantId: tenant.id, name: `bench-${i}`, url: `http://127.0.0.1:${port}/hook`, events: ['*'], secret: 'bench-secret' });
}
const dispatcher = new WebhookDispatcher({ db, secretKey, clock: wallClock, log, policy: { allow: allowListOf([{ address: '127.0.0.0', prefix: 8, family: 'ipv4' }]) } });
dispatcher.start();
const wake = (): void => {
  dispatcher.wake();
  stream.wake();
};

console.log(`bench:events — ${ports.length} webhook endpoints, ${f.clients} WebSocket clients, loopback; ${f.seconds} s per step; goal ≥ ${GOAL_EPS} events/s with p99 < ${GOAL_P99_MS} ms; receivers ${f.receivers} in ${children.length} process(es) (${f['receiver-split']})`);
/** Steps at or above the goal rate: what the verdict is made of. */
const verdicts: { rate: number; ok: boolean; text: string }[] = [];
let callNo = 0;
/** One outbox transaction of `n` call.ringing events, then the commit's wake-up (as every producer does); returns their timestamp (ms). */
async function commitBatch(n: number): Promise<number> {
  const at = new Date();
  const envs = Array.from({ length: n }, () => makeEvent('call.ringing', { tenantId: tenant.id, tenantExternalId: null, at, data: { call_id: `bench-${callNo++}`, extension_id: null } }));
  await inTransaction(db, (trx) => appendOutboxEvents(trx, envs), 'process-crash');
  wake();
  return at.getTime();
}
// Warm-up, not measured: the delivery threads' first requests, connections and the JIT's first
// compilations otherwise land in the first step's p99 (~1 s), which says nothing about steady state.
const warmupEnd = Date.now() + Number(f.warmup) * 1000;
while (Date.now() < warmupEnd) {
  await commitBatch(1);
  await new Promise((r) => setTimeout(r, 10));
}
await dispatcher.idle();
await new Promise((r) => setTimeout(r, 500));
for (const rate of f.rates.split(',').map(Number)) {
  const seconds = Number(f.seconds);
  const perTick = Math.max(1, Math.round(rate / 100));
  // The step's ramp-in: its first --ramp-in seconds at the full rate are produced but not measured
  // (the jump from the previous rate settles there; see the header). The receivers file each
  // receipt by its event's timestamp: events stamped before t0 go to the ramp-in figures, printed
  // on their own line; every event stamped from t0 on is counted, queued behind the ramp-in's or not.
  const hostMicros = hostHmacMicros();
  const loopback = await hostLoopback(echoPort);
  const tStart = Date.now();
  const t0 = tStart + Number(f['ramp-in']) * 1000;
  for (const c of children) c.send({ type: 'reset', since: t0 });
  let produced = 0;
  let measured = 0;
  /** Batches on a 10 ms schedule from tStart (catching up if a tick runs late), each one outbox transaction, until `end`. */
  const produceUntil = async (end: number): Promise<void> => {
    while (Date.now() < end) {
      const due = Math.floor(((Date.now() - tStart) / 1000) * rate);
      const n = Math.min(Math.max(due - produced, 0), perTick * 50);
      if (n > 0) {
        if ((await commitBatch(n)) >= t0) measured += n;
        produced += n;
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  await produceUntil(t0);
  const cpu0 = process.cpuUsage();
  const m0 = machineCpuMs();
  // How busy the product's main thread (store, dispatcher, /ws) is while events are produced.
  const elu0 = performance.eventLoopUtilization();
  // The product's event-loop stalls (a blocking write or checkpoint delays every delivery behind it).
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  await produceUntil(t0 + seconds * 1000);
  const produceMs = Date.now() - t0;
  const mainBusy = Math.round(performance.eventLoopUtilization(elu0).utilization * 100);
  const wantHooks = measured * ports.length;
  const wantWs = measured * Number(f.clients);
  let r = await report();
  const waitUntil = Date.now() + 30_000;
  while ((r.webhooks.count < wantHooks || r.ws.count < wantWs) && Date.now() < waitUntil) {
    await new Promise((res) => setTimeout(res, 200));
    r = await report();
  }
  const doneMs = Date.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  loop.disable();
  const m1 = machineCpuMs();
  const pct = (ms: number): number => Math.round((ms / doneMs) * 100);
  // Events/s delivered to each receiver (deliveries ÷ receivers), over the span from the first write to that side's last receipt.
  const spanS = (s: Summary): number => Math.max(produceMs, s.lastAt - t0) / 1000;
  const line = (name: string, s: Summary, want: number): string =>
    want === 0
      ? `  ${name.padEnd(9)} (none)`
      : `  ${name.padEnd(9)} ${s.count}/${want} delivered, ${Math.round(s.count / (want / measured) / spanS(s))} events/s per receiver over ${spanS(s).toFixed(1)} s  latency p50 ${s.p50} ms  p99 ${s.p99} ms  max ${s.max} ms`;
  const met = (s: Summary, want: number): boolean => want > 0 && s.count === want && s.p99 < GOAL_P99_MS && measured / spanS(s) >= GOAL_EPS * 0.98;
  console.log(`step ${rate} events/s: produced ${measured} in ${(produceMs / 1000).toFixed(1)} s (${Math.round(measured / (produceMs / 1000))}/s), after a ${f['ramp-in']} s ramp-in; host HMAC ${hostMicros.toFixed(2)} µs, loopback ${loopback.perSecond} round trips/s at ${Math.round(loopback.cpuMicros)} µs CPU each`);
  if (produced > measured) {
    const ramp = (name: string, s: Summary): string => (s.count === 0 ? '' : `  ${name} p50 ${s.p50} ms, p99 ${s.p99} ms, max ${s.max} ms;`);
    console.log(`  ramp-in   ${produced - measured} events in the first ${f['ramp-in']} s, not in the verdict:${ramp('webhooks', r.ramp.webhooks)}${ramp('websocket', r.ramp.ws)}`);
  }
  console.log(line('webhooks', r.webhooks, wantHooks) + (met(r.webhooks, wantHooks) ? '  ✓' : ''));
  console.log(line('websocket', r.ws, wantWs) + (met(r.ws, wantWs) ? '  ✓' : '') + (r.wsClosed ? `  (${r.wsClosed} clients closed)` : ''));
  console.log(`  CPU product ${pct((cpu.user + cpu.system) / 1000)}% of a core, receivers ${pct((r.cpu.user + r.cpu.system) / 1000)}%; machine busy ${pct(m1.busy - m0.busy)}% of one core (2 cores = 200%), steal ${pct(m1.steal - m0.steal)}%; slow cut-offs ${stream.stats.slowCutoffs}; product event-loop delay p99 ${Math.round(loop.percentile(99) / 1e6)} ms, max ${Math.round(loop.max / 1e6)} ms; main thread busy ${mainBusy}% while producing`);
  if (rate >= GOAL_EPS) {
    const fig = (name: string, s: Summary, want: number): string =>
      want === 0 ? `${name} none` : `${name} ${Math.round(s.count / (want / measured) / spanS(s))} events/s per receiver, p99 ${s.p99} ms${s.count < want ? `, ${want - s.count} undelivered` : ''}`;
    const ok = (wantHooks === 0 || met(r.webhooks, wantHooks)) && (wantWs === 0 || met(r.ws, wantWs));
    verdicts.push({ rate, ok, text: `at ${rate} events/s: ${fig('webhooks', r.webhooks, wantHooks)}; ${fig('websocket', r.ws, wantWs)}` });
  }
}
// The goal is 10 endpoints and 100 clients at ≥ 2,000 events/s each, p99 < 100 ms, both sides.
const asSpecified = ports.length >= GOAL_WEBHOOKS && Number(f.clients) >= GOAL_CLIENTS;
const best = verdicts.find((v) => v.ok) ?? verdicts.at(-1);
if (!best) console.log(`verdict: goal not tested — no step at ≥ ${GOAL_EPS} events/s`);
else if (!asSpecified) console.log(`verdict: goal not tested as specified (${ports.length} endpoints, ${f.clients} clients; the goal is ${GOAL_WEBHOOKS} and ${GOAL_CLIENTS}) — this run ${best.ok ? 'met' : 'missed'} its targets ${best.text}`);
else console.log(`verdict: goal ${best.ok ? 'met' : 'NOT met'} (≥ ${GOAL_EPS} events/s to ${GOAL_WEBHOOKS} endpoints and ${GOAL_CLIENTS} clients, p99 < ${GOAL_P99_MS} ms) — ${best.text}`);
await dispatcher.stop();
for (const c of children) {
  c.removeAllListeners('exit');
  c.send({ type: 'exit' });
}
stream.close();
server.closeAllConnections();
server.close();
store.close();
rmSync(dir, { recursive: true, force: true });
process.exit(0);
