/**
 * Load benchmark of the HTTP API with autocannon (npm run bench:api), loopback only.
 *
 * Starts scripts/bench-apps/api-server.ts in its own process — the API as main.ts builds it, over
 * a file-backed SQLite database (WAL) in a temp dir, with a tenant, an admin key and --seed
 * extensions — then drives it with autocannon in this process:
 *   GET  /api/v1/extensions?limit=100   (100 rows per answer) for --get-seconds at each of --connections
 *   POST /api/v1/extensions             (a new number each time) for --post-seconds at --post-connections
 * after a short unreported warm-up. Each step prints requests/s, p50/p99 latency, errors and non-2xx,
 * and the CPU of the API process and of the load generator (% of one core). GET steps are compared
 * with the goal of quality.md: ≥ 5,000 requests/s with p99 < 20 ms.
 *
 *   npm run bench:api                          15 s GET steps at 10 and 50 connections, 10 s POST
 *   npm run bench:api -- --quick               3 s steps, to try it out
 *   npm run bench:api -- --profile             the API process under node --cpu-prof; prints hot spots
 *   npm run bench:api -- --connections 1,10,50,100 --seed 5000 --rate-limit off --log-level warn
 *
 * The rate limiter stays on with a bucket no bench can empty (--rate-limit high, the default), so its
 * per-request cost is measured without 429s; `off` removes it, `default` keeps 20 burst / 10 per s.
 * Output (server log, profile, summary.json) goes to --out (default /tmp/switchboard-bench-api/<time>).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon, { type RequestSpec, type Result } from 'autocannon';
import { hotSpots, hotModules } from './cpu-profile.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const GOAL_GET_RPS = 5000;
const GOAL_GET_P99_MS = 20;
const LIST_PATH = '/api/v1/extensions';

const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    'get-seconds': { type: 'string', default: '15' },
    'post-seconds': { type: 'string', default: '10' },
    connections: { type: 'string', default: '10,50' },
    'post-connections': { type: 'string', default: '10' },
    limit: { type: 'string', default: '100' },
    seed: { type: 'string', default: '1000' },
    'rate-limit': { type: 'string', default: 'high' },
    'log-level': { type: 'string', default: 'info' },
    idempotency: { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
    out: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (flags.help) {
  console.log(readFileSync(fileURLToPath(import.meta.url), 'utf8').split('*/')[0]);
  process.exit(0);
}
const getSeconds = flags.quick ? 3 : Number(flags['get-seconds']);
const postSeconds = flags.quick ? 3 : Number(flags['post-seconds']);
const connections = flags.connections.split(',').map(Number);
const postConnections = Number(flags['post-connections']);
const limit = Number(flags.limit);
const seed = Number(flags.seed);
if (![getSeconds, postSeconds, postConnections, limit, ...connections].every((n) => Number.isInteger(n) && n > 0)) {
  throw new Error('durations, connection counts and --limit must be positive whole numbers');
}
if (!['high', 'off', 'default'].includes(flags['rate-limit'])) throw new Error('--rate-limit must be high, off or default');
if (seed < limit) console.warn(`note: --seed ${seed} < --limit ${limit}: GET answers carry ${seed} rows, not ${limit}`);
const outDir = flags.out ?? join('/tmp/switchboard-bench-api', new Date().toISOString().replace(/[:.]/g, '-'));
mkdirSync(outDir, { recursive: true });

// ---------------------------------------------------------------------------------------------
// the API process

interface Ready {
  port: number;
  key: string;
  seeded: number;
}

interface Cpu {
  usage: NodeJS.CpuUsage;
  rss: number;
}

let server: ChildProcess | undefined;
process.on('exit', () => server?.kill('SIGKILL'));
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    console.error(`\n${sig}: stopping`);
    server?.kill('SIGKILL');
    process.exit(130);
  });
}

function startServer(dataDir: string, profileDir: string | undefined): Promise<Ready> {
  const fd = openSync(join(outDir, 'api-server.log'), 'a');
  const nodeFlags = profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : [];
  const args = ['--dir', dataDir, '--seed', String(seed), '--rate-limit', flags['rate-limit'], '--log-level', flags['log-level']];
  // node itself runs the server (tsx only as a loader), so the pid is the one whose CPU counts.
  const child = spawn(process.execPath, [...nodeFlags, '--import', 'tsx', 'scripts/bench-apps/api-server.ts', ...args], {
    cwd: root,
    stdio: ['ignore', fd, fd, 'ipc'],
  });
  server = child;
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new Error('the API server was not ready within 60 s')), 60_000);
    child.once('exit', (code) => reject(new Error(`the API server exited (${code}) before it was ready; see ${join(outDir, 'api-server.log')}`)));
    child.on('message', (m: { type?: string } & Ready) => {
      if (m?.type !== 'ready') return;
      clearTimeout(timer);
      resolvePromise(m);
    });
  });
}

function serverCpu(): Promise<Cpu> {
  return new Promise((resolvePromise) => {
    const onMessage = (m: { type?: string } & Cpu) => {
      if (m?.type !== 'cpu') return;
      server?.off('message', onMessage);
      resolvePromise(m);
    };
    server?.on('message', onMessage);
    server?.send({ type: 'cpu' });
  });
}

async function stopServer(): Promise<void> {
  const child = server;
  if (!child || child.exitCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.send({ type: 'stop' });
  const force = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(force);
}

// ---------------------------------------------------------------------------------------------
// checks before measuring

/**
 * One GET and one POST by hand, so a missing route or a wrong body fails with a message instead of
 * a table of 404s.
 */
async function preflight(base: string, key: string): Promise<void> {
  const list = await fetch(`${base}${LIST_PATH}?limit=${limit}`, { headers: { 'X-API-Key': key } });
  if (list.status === 404) {
    throw new Error(
      `GET ${LIST_PATH} answers 404: the extensions resource is not in this build (it is registered in ` +
        'src/api/routes/index.ts once its branch is merged). Merge main when it has landed, then run the bench again.',
    );
  }
  if (list.status !== 200) throw new Error(`GET ${LIST_PATH} answered ${list.status}: ${await list.text()}`);
  const page = (await list.json()) as { data?: unknown[] };
  const expected = Math.min(limit, seed);
  if (page.data?.length !== expected) throw new Error(`GET ${LIST_PATH}?limit=${limit} returned ${page.data?.length} rows, expected ${expected}`);

  const created = await fetch(`${base}${LIST_PATH}`, {
    method: 'POST',
    headers: { 'X-API-Key': key, 'content-type': 'application/json' },
    body: JSON.stringify(newExtensionBody()),
  });
  if (created.status === 404 || created.status === 405) throw new Error(`POST ${LIST_PATH} answers ${created.status}: the route is not in this build`);
  if (created.status !== 201) throw new Error(`POST ${LIST_PATH} answered ${created.status}: ${await created.text()}`);
}

/** POSTed numbers: 8 digits from 20000000 up, far from the seeded 1000… range. */
let nextNumber = 20_000_000;
function newExtensionBody(): { number: string; display_name: string } {
  const number = String(nextNumber++);
  return { number, display_name: `Bench ${number}` };
}

// ---------------------------------------------------------------------------------------------
// measurement

interface Step {
  name: string;
  connections: number;
  seconds: number;
  requests: number;
  rps: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  statusCodes: Record<string, number>;
  mbPerS: number;
  apiCpuPct: number;
  loadGenCpuPct: number;
  apiRssMb: number;
  /** CPU used by everything else on the machine, % of one core. */
  otherCpuPct: number;
  /** Time the hypervisor gave our vCPUs to someone else, % of one core. */
  stealPct: number;
  goal?: 'MET' | 'MISSED';
}

const pct = (usage: NodeJS.CpuUsage, ms: number) => Math.round(((usage.user + usage.system) / 1000 / ms) * 100);

/** Kernel clock ticks per second: 100 on every mainstream Linux build. */
const USER_HZ = 100;

/**
 * Whole-machine CPU counters from /proc/stat (Linux; zeros elsewhere): busy and steal time in ms.
 * Other work on the machine (or a noisy VM neighbour, which shows as steal) skews every figure, so
 * each step reports what was used besides the API and the load generator.
 */
function machineCpuMs(): { busy: number; steal: number } {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]?.split(/\s+/).slice(1).map(Number) ?? [];
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = f;
    const tick = 1000 / USER_HZ;
    return { busy: (user + nice + system + irq + softirq) * tick, steal: steal * tick };
  } catch {
    return { busy: 0, steal: 0 };
  }
}

async function measure(name: string, opts: { url: string; connections: number; seconds: number; requests: RequestSpec[] }): Promise<Step> {
  const before = await serverCpu();
  const selfBefore = process.cpuUsage();
  const machineBefore = machineCpuMs();
  const started = performance.now();
  const r: Result = await autocannon({ url: opts.url, connections: opts.connections, duration: opts.seconds, requests: opts.requests });
  const wallMs = performance.now() - started;
  const after = await serverCpu();
  const self = process.cpuUsage(selfBefore);
  const machineAfter = machineCpuMs();
  const serverUsage = { user: after.usage.user - before.usage.user, system: after.usage.system - before.usage.system };
  const apiCpuPct = pct(serverUsage, wallMs);
  const loadGenCpuPct = pct(self, wallMs);
  const machinePct = Math.round(((machineAfter.busy - machineBefore.busy) / wallMs) * 100);
  return {
    name,
    connections: opts.connections,
    seconds: opts.seconds,
    requests: r.requests.total,
    rps: Math.round(r.requests.average),
    p50: r.latency.p50,
    p90: r.latency.p90,
    p99: r.latency.p99,
    max: r.latency.max,
    errors: r.errors,
    timeouts: r.timeouts,
    non2xx: r.non2xx,
    statusCodes: Object.fromEntries(Object.entries(r.statusCodeStats).map(([code, s]) => [code, s.count])),
    mbPerS: Math.round((r.throughput.average / 1e6) * 10) / 10,
    apiCpuPct,
    loadGenCpuPct,
    apiRssMb: Math.round(after.rss / 1e6),
    otherCpuPct: Math.max(0, machinePct - apiCpuPct - loadGenCpuPct),
    stealPct: Math.round(((machineAfter.steal - machineBefore.steal) / wallMs) * 100),
  };
}

function line(s: Step): string {
  const goal = s.goal ? `  ${s.goal}` : '';
  const codes = Object.entries(s.statusCodes).map(([c, n]) => `${c}×${n}`).join(' ');
  return (
    `${s.name.padEnd(5)} c=${String(s.connections).padEnd(4)} ${String(s.rps).padStart(6)} req/s  p50 ${s.p50} ms  p90 ${s.p90} ms  p99 ${s.p99} ms  max ${s.max} ms  ` +
    `errors ${s.errors} timeouts ${s.timeouts} non-2xx ${s.non2xx}  [${codes}]  ${s.mbPerS} MB/s  ` +
    `CPU api ${s.apiCpuPct}% load-gen ${s.loadGenCpuPct}% other ${s.otherCpuPct}% steal ${s.stealPct}%  rss ${s.apiRssMb} MB${goal}`
  );
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'switchboard-bench-api-'));
  const profileDir = flags.profile ? join(outDir, 'profile') : undefined;
  const rateLimitNote = {
    high: 'rate limiter ON with a 1e9 burst and 1e9/s refill (never limits; its per-request cost is included)',
    off: 'rate limiter OFF (removed from the pipeline)',
    default: 'rate limiter at its DEFAULT (20 burst, 10/s): expect 429s',
  }[flags['rate-limit']];
  try {
    const ready = await startServer(dataDir, profileDir);
    const base = `http://127.0.0.1:${ready.port}`;
    console.log(
      `bench:api  API on ${base} (own process, SQLite WAL file in ${dataDir}), ${ready.seeded} extensions seeded, ` +
        `log level ${flags['log-level']}; ${rateLimitNote}${flags.idempotency ? '; POSTs carry an Idempotency-Key' : ''}; output ${outDir}`,
    );
    await preflight(base, ready.key);

    const headers = { 'X-API-Key': ready.key };
    const get: RequestSpec[] = [{ method: 'GET', path: `${LIST_PATH}?limit=${limit}`, headers }];
    const post: RequestSpec[] = [
      {
        method: 'POST',
        path: LIST_PATH,
        headers: { ...headers, 'content-type': 'application/json' },
        // A fresh number per request: the same body twice would be a 409 CONFLICT, not a create.
        setupRequest: (req) => {
          const body = newExtensionBody();
          return {
            ...req,
            body: JSON.stringify(body),
            ...(flags.idempotency ? { headers: { ...req.headers, 'Idempotency-Key': `bench-${body.number}` } } : {}),
          };
        },
      },
    ];

    // JIT, statement caches and connection set-up, so the first step is not the cold one.
    await autocannon({ url: base, connections: 10, duration: 2, requests: get });

    const steps: Step[] = [];
    for (const c of connections) {
      const s = await measure('GET', { url: base, connections: c, seconds: getSeconds, requests: get });
      s.goal = s.rps >= GOAL_GET_RPS && s.p99 < GOAL_GET_P99_MS && s.errors + s.non2xx === 0 ? 'MET' : 'MISSED';
      steps.push(s);
      console.log(line(s));
    }
    const p = await measure('POST', { url: base, connections: postConnections, seconds: postSeconds, requests: post });
    steps.push(p);
    console.log(line(p));

    await stopServer();
    let profile: { functions: string[]; modules: string[] } | undefined;
    if (profileDir && existsSync(profileDir)) {
      const file = readdirSync(profileDir).find((f) => f.endsWith('.cpuprofile'));
      if (file) {
        profile = { functions: hotSpots(join(profileDir, file), root, 25), modules: hotModules(join(profileDir, file), root, 15) };
        console.log(`\nAPI process hot spots (self time, whole run incl. seeding):\n  ${profile.functions.join('\n  ')}`);
        console.log(`by module:\n  ${profile.modules.join('\n  ')}`);
      }
    }

    const getSteps = steps.filter((s) => s.name === 'GET');
    const best = getSteps.reduce((a, b) => (b.rps > a.rps ? b : a));
    const met = getSteps.filter((s) => s.goal === 'MET');
    writeFileSync(join(outDir, 'summary.json'), JSON.stringify({ flags, goal: { rps: GOAL_GET_RPS, p99Ms: GOAL_GET_P99_MS }, steps, profile }, null, 1));
    console.log(
      `\ngoal GET ${LIST_PATH}?limit=${limit}: ≥ ${GOAL_GET_RPS} req/s with p99 < ${GOAL_GET_P99_MS} ms — ` +
        (met.length ? `MET at ${met.map((s) => `c=${s.connections}`).join(', ')}` : 'MISSED at every step') +
        `; best ${best.rps} req/s (p99 ${best.p99} ms, c=${best.connections}). POST: ${p.rps} creates/s, p99 ${p.p99} ms.` +
        `\n(CPU in % of one core on ${cpus().length} cores; the API is one Node process, the load generator shares the machine with it.)\n${join(outDir, 'summary.json')}`,
    );
    const busy = steps.filter((s) => s.otherCpuPct + s.stealPct > 25);
    if (busy.length) {
      console.log(
        `WARNING: other work used the machine during ${busy.length} of ${steps.length} steps (up to ${Math.max(...busy.map((s) => s.otherCpuPct))}% of a core, ` +
          `steal up to ${Math.max(...busy.map((s) => s.stealPct))}%): these figures understate the API; run again on an idle machine.`,
      );
    }
  } finally {
    await stopServer().catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(`bench:api failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
