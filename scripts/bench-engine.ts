/**
 * Load benchmark of the embedded SIP engine with SIPp (npm run bench:engine), loopback only.
 *
 * For each suite it starts a fresh engine (the standalone CLI, its own process, UDP on 127.0.0.1)
 * and the minimal drachtio-srf apps it needs (scripts/bench-apps/, each its own process), then
 * drives SIPp at rising rates, each step held for --hold seconds and bounded by -m = rate × hold
 * and timeouts. A step is held when fewer than 0.1 % of its calls failed, every call was created
 * and the steady-state creation rate was ≥ 95 % of the target; the suite stops at the first step
 * not held. A held step is also "clean" when SIPp retransmitted for fewer than 1 % of the calls
 * (more means answers lagged past its 500 ms T1 — a backlog a longer step may turn into failures)
 * and, with --max-p95-ms, the p95 response time stayed within it. The summary shows the highest
 * rate held and the highest clean one, with the engine's and the apps' CPU there (% of one core,
 * from /proc/<pid>/stat utime+stime) and what everything else on the machine used. The approach follows the shared
 * ../shared/bench/run-load.py (trace_stat CSV, per-call rtd, /proc CPU, UDP drop counters).
 *
 *   npm run bench:engine -- --quick                 5 s steps, to try it out
 *   npm run bench:engine                            30 s steps (--hold 30)
 *   npm run bench:engine -- --suites register --rates-register 3000,6000 --profile
 *   npm run bench:register                          only register-auth (below)
 *
 * register-auth runs the real Switchboard (src/main.ts: engine child + registrar + SQLite store) on
 * a data directory pre-filled with --extensions extensions (default 10,000) of known passwords;
 * SIPp cycles through them from an injection CSV, each call REGISTER → 401 → REGISTER with MD5
 * digest → 200 (SIPp 3.6 has no SHA-256, so this run offers MD5 first, and qualify is off because
 * SIPp does not answer OPTIONS). "apps" CPU is then Switchboard's main process, "engine" its engine.
 *
 * --profile runs the engine under `node --cpu-prof` and prints its top self-time functions;
 * --engine-node-args=--max-semi-space-size=32 passes V8/Node flags to the engine process (space separated).
 * Output (SIPp stats, logs, profiles, summary.json) goes to --out (default /tmp/switchboard-bench-engine/<time>).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { copyFileSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { prepareBenchData, startSwitchboard } from './bench-apps/switchboard.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const HZ = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
const SECRET = 'bench';
const MAX_FAIL_RATIO = 0.001;
const MIN_RATE_HELD = 0.95;
/**
 * More retransmissions than this share of calls means answers came later than SIPp's T1 (500 ms)
 * for a visible part of the load: a backlog is building, and a longer step would fail.
 */
const MAX_RETRANS_RATIO = 0.01;

type SuiteName = 'register' | 'register-auth' | 'options' | 'calls';

interface Suite {
  name: SuiteName;
  scenario: string;
  apps: Array<'registrar' | 'uas'>;
  rates: number[];
  /** Extra SIPp arguments (service, call length). */
  sippArgs: string[];
  /** Seconds a call lasts beyond its creation (for -l and timeouts). */
  callSeconds: number;
  /** Run the real Switchboard (src/main.ts, its registrar and store) instead of engine + bench apps. */
  switchboard?: boolean;
}

const { values: flags } = parseArgs({
  options: {
    hold: { type: 'string', default: '30' },
    quick: { type: 'boolean', default: false },
    suites: { type: 'string', default: 'register,register-auth,options,calls' },
    'rates-register': { type: 'string', default: '500,1000,2000,3000,4000,5000' },
    'rates-register-auth': { type: 'string', default: '500,1000,2000,3000' },
    extensions: { type: 'string', default: '10000' },
    'rates-options': { type: 'string', default: '500,1000,2000,3000,4000,5000' },
    'rates-calls': { type: 'string', default: '100,200,300,500,700' },
    'call-ms': { type: 'string', default: '1000' },
    pause: { type: 'string', default: '3' },
    'max-p95-ms': { type: 'string' },
    profile: { type: 'boolean', default: false },
    'engine-node-args': { type: 'string', default: '' },
    out: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (flags.help) {
  console.log(readFileSync(fileURLToPath(import.meta.url), 'utf8').split('*/')[0]);
  process.exit(0);
}
const hold = flags.quick ? 5 : Number(flags.hold);
if (!(hold > 0 && hold <= 120)) throw new Error('--hold must be 1..120 seconds');
const callMs = Number(flags['call-ms']);
const pauseS = Number(flags.pause);
const maxP95 = flags['max-p95-ms'] !== undefined ? Number(flags['max-p95-ms']) : undefined;
const rates = (s: string): number[] => s.split(',').map(Number).filter((n) => n > 0);
const outDir = flags.out ?? join('/tmp/switchboard-bench-engine', new Date().toISOString().replace(/[:.]/g, '-'));
mkdirSync(outDir, { recursive: true });

const suites: Record<SuiteName, Suite> = {
  register: {
    name: 'register', scenario: 'uac-register-expect-200.xml', apps: ['registrar'], rates: rates(flags['rates-register']),
    sippArgs: [], callSeconds: 0,
  },
  // Authenticated registrations (401 + 200 pairs) against the real registrar: one "call" = one
  // registration, two REGISTER transactions; users cycle through --extensions distinct extensions.
  'register-auth': {
    name: 'register-auth', scenario: 'uac-register-digest-expect-200.xml', apps: [], rates: rates(flags['rates-register-auth']),
    sippArgs: [], callSeconds: 0, switchboard: true,
  },
  options: {
    name: 'options', scenario: 'uac-options-expect-200.xml', apps: ['registrar'], rates: rates(flags['rates-options']),
    sippArgs: ['-s', 'bench'], callSeconds: 0,
  },
  calls: {
    name: 'calls', scenario: 'uac-call-expect-200-then-bye.xml', apps: ['uas'], rates: rates(flags['rates-calls']),
    sippArgs: ['-s', 'bench', '-d', String(callMs)], callSeconds: callMs / 1000,
  },
};

// ---------------------------------------------------------------------------------------------
// processes

const children = new Set<ChildProcess>();

function killAll(signal: NodeJS.Signals = 'SIGTERM'): void {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill(signal);
}
process.on('exit', () => killAll('SIGKILL'));
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    console.error(`\n${sig}: stopping everything`);
    killAll('SIGKILL');
    process.exit(130);
  });
}

async function stopChild(c: ChildProcess, graceMs = 5000): Promise<void> {
  if (c.exitCode !== null || c.signalCode !== null) return;
  const exited = new Promise<void>((r) => c.once('exit', () => r()));
  c.kill('SIGTERM');
  const timer = setTimeout(() => c.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
  children.delete(c);
}

/** Spawn a node process running a TypeScript file through tsx's loader (so the pid is node itself). */
function spawnNode(script: string, args: string[], log: string, nodeFlags: string[] = []): ChildProcess {
  const fd = openSync(log, 'a');
  const c = spawn(process.execPath, [...nodeFlags, '--import', 'tsx', script, ...args], {
    cwd: root,
    stdio: ['ignore', fd, fd, 'ipc'],
  });
  children.add(c);
  return c;
}

function waitReady<T>(c: ChildProcess, what: string, ms = 20000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} not ready after ${ms} ms`)), ms);
    c.once('exit', (code) => reject(new Error(`${what} exited (${code}) before it was ready`)));
    c.on('message', (m: { type?: string }) => {
      if (m?.type !== 'ready') return;
      clearTimeout(timer);
      resolve(m as T);
    });
  });
}

async function freeUdpPort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind({ address: '127.0.0.1', port: 0 }, () => r()));
  const { port } = s.address();
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

interface System {
  enginePid: number | undefined;
  /** The app processes: the bench apps, or Switchboard's main process (its registrar). */
  appPids: Array<number | undefined>;
  sipPort: number;
  /** Extra SIPp arguments the system needs (the injection file of the authenticated suite). */
  sippArgs: string[];
  profileDir?: string;
  stop(): Promise<void>;
}

async function startSystem(suite: Suite): Promise<System> {
  const sipPort = await freeUdpPort();
  const dir = join(outDir, suite.name);
  mkdirSync(dir, { recursive: true });
  const profileDir = flags.profile ? join(dir, 'profile') : undefined;
  if (suite.switchboard) return startSwitchboardSystem(dir, sipPort, profileDir);
  const engine = spawnNode(
    'src/engine/cli.ts',
    ['--contact', `sip:127.0.0.1:${sipPort};transport=udp`, '--address', '127.0.0.1', '--port', '0', '--secret', SECRET, '-l', 'warn'],
    join(dir, 'engine.log'),
    [...(profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : []), ...flags['engine-node-args'].split(' ').filter(Boolean)],
  );
  const ready = await waitReady<{ adminPort: number }>(engine, 'engine');
  const apps: ChildProcess[] = [];
  for (const name of suite.apps) {
    const app = spawnNode(`scripts/bench-apps/${name}.ts`, ['--port', String(ready.adminPort), '--secret', SECRET], join(dir, `${name}.log`));
    await waitReady(app, name);
    apps.push(app);
  }
  return {
    enginePid: engine.pid, appPids: apps.map((a) => a.pid), sipPort, sippArgs: [], ...(profileDir ? { profileDir } : {}),
    async stop() {
      for (const a of apps) await stopChild(a);
      await stopChild(engine, 15000);
    },
  };
}

/**
 * The real Switchboard (src/main.ts) on a data directory holding --extensions extensions with
 * known passwords; SIPp reads them from the injection CSV. --profile profiles main (the registrar).
 */
async function startSwitchboardSystem(dir: string, sipPort: number, profileDir: string | undefined): Promise<System> {
  const count = Number(flags.extensions);
  const t0 = Date.now();
  const { csv, secretKeyHex } = await prepareBenchData(join(dir, 'data'), count);
  console.log(`register-auth: ${count} extensions created in ${Date.now() - t0} ms`);
  let httpPort = await freeUdpPort();
  while (httpPort === sipPort) httpPort = await freeUdpPort();
  const sb = await startSwitchboard({
    root, dataDir: join(dir, 'data'), sipPort, httpPort, secretKeyHex, log: join(dir, 'switchboard.log'),
    nodeFlags: profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : [],
  });
  children.add(sb.main);
  return {
    enginePid: sb.enginePid, appPids: [sb.main.pid], sipPort, sippArgs: ['-inf', csv], ...(profileDir ? { profileDir } : {}),
    // SIGTERM to main stops its engine too (and writes the CPU profile on a clean exit).
    stop: () => stopChild(sb.main, 15000),
  };
}

// ---------------------------------------------------------------------------------------------
// measurement

function cpuTicks(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return Number(rest[11]) + Number(rest[12]); // utime + stime
  } catch {
    return 0;
  }
}

/** Whole-machine [busy, total] ticks: how much of the 2 cores anything at all used. */
function machineTicks(): [number, number] {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.split(/\s+/).slice(1, 8).map(Number);
  const total = cpu.reduce((a, b) => a + b, 0);
  return [total - (cpu[3] ?? 0) - (cpu[4] ?? 0), total];
}

function udpCounters(): Record<string, number> {
  const rows = readFileSync('/proc/net/snmp', 'utf8').split('\n').filter((l) => l.startsWith('Udp:')).map((l) => l.split(/\s+/));
  const out: Record<string, number> = {};
  rows[0]?.slice(1).forEach((k, i) => (out[k] = Number(rows[1]?.[i + 1] ?? 0)));
  return out;
}

function percentile(sorted: number[], q: number): number | undefined {
  if (sorted.length === 0) return undefined;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.round(q * (sorted.length - 1))))];
}

interface StepResult {
  suite: SuiteName;
  rate: number;
  /** Fewer than 0.1 % failed, all created, rate held. */
  pass: boolean;
  /** Held, and fewer than 1 % retransmitted (and the p95 bound, if any). */
  clean: boolean;
  why?: string;
  expected: number;
  created: number;
  successful: number;
  failed: number;
  retransmissions: number;
  createdPerSecondMedian: number;
  rtdMsP50?: number;
  rtdMsP95?: number;
  rtdMsP99?: number;
  engineCpuPct: number;
  /**
   * CPU ms per successful call of the engine and of the apps: what a call costs whatever else
   * the machine runs, so a contended run still tells the capacity of dedicated cores.
   */
  engineCpuMsPerCall: number;
  appCpuMsPerCall: number;
  appCpuPct: number;
  sippCpuPct: number;
  /** CPU used by everything else on the machine (other jobs skew the figures), % of one core. */
  otherCpuPct: number;
  udpRcvbufErrors: number;
  wallSeconds: number;
  sippExit: number | null;
}

async function runStep(suite: Suite, sys: System, rate: number): Promise<StepResult> {
  const dir = join(outDir, suite.name, `r${rate}`);
  mkdirSync(dir, { recursive: true });
  // SIPp names its rtt file after the scenario path: run a copy from inside the step directory.
  copyFileSync(join(root, 'scripts/sipp', suite.scenario), join(dir, suite.scenario));
  const expected = Math.round(rate * hold);
  const uacPort = await freeUdpPort();
  const args = [
    `127.0.0.1:${sys.sipPort}`, '-sf', suite.scenario, '-i', '127.0.0.1', '-p', String(uacPort),
    '-r', String(rate), '-rp', '1000', '-m', String(expected),
    '-l', String(Math.max(1000, Math.ceil(rate * (suite.callSeconds + 3)))),
    '-timeout', `${Math.ceil(hold + suite.callSeconds + 30)}s`, '-recv_timeout', '8000',
    '-buff_size', '4194304', '-nostdin', '-trace_stat', '-stf', 'stat.csv', '-fd', '1',
    '-trace_rtt', '-rtt_freq', '100', '-trace_err', ...suite.sippArgs, ...sys.sippArgs,
  ];
  const engine0 = cpuTicks(sys.enginePid);
  const apps0 = sys.appPids.map((pid) => cpuTicks(pid));
  const udp0 = udpCounters();
  const machine0 = machineTicks();
  const t0 = Date.now();
  const sipp = spawn('sipp', args, { cwd: dir, stdio: ['ignore', openSync(join(dir, 'sipp.out'), 'w'), openSync(join(dir, 'sipp.err'), 'w')] });
  children.add(sipp);
  let sippTicks = 0;
  const sampler = setInterval(() => (sippTicks = cpuTicks(sipp.pid) || sippTicks), 200);
  const hardStop = setTimeout(() => sipp.kill('SIGKILL'), (hold + suite.callSeconds + 60) * 1000);
  const code = await new Promise<number | null>((r) => sipp.once('exit', (c) => r(c)));
  clearInterval(sampler);
  clearTimeout(hardStop);
  children.delete(sipp);
  const wall = (Date.now() - t0) / 1000;
  const pct = (ticks: number): number => Math.round((1000 * ticks) / HZ / wall) / 10;
  const engineCpuPct = pct(cpuTicks(sys.enginePid) - engine0);
  const appCpuPct = pct(sys.appPids.reduce<number>((sum, pid, i) => sum + cpuTicks(pid) - (apps0[i] ?? 0), 0));
  const udp1 = udpCounters();
  const machine1 = machineTicks();
  const busyPct = Math.round((1000 * (machine1[0] - machine0[0])) / HZ / wall) / 10;

  const stat = readStat(join(dir, 'stat.csv'));
  const rtts = readRtts(dir);
  const res: StepResult = {
    suite: suite.name, rate, pass: false, clean: false, expected,
    created: stat.created, successful: stat.successful, failed: stat.failed, retransmissions: stat.retransmissions,
    createdPerSecondMedian: stat.createdPerSecondMedian,
    ...(rtts.length ? { rtdMsP50: percentile(rtts, 0.5)!, rtdMsP95: percentile(rtts, 0.95)!, rtdMsP99: percentile(rtts, 0.99)! } : {}),
    engineCpuPct, appCpuPct, sippCpuPct: pct(sippTicks),
    engineCpuMsPerCall: perCall(cpuTicks(sys.enginePid) - engine0, stat.successful),
    appCpuMsPerCall: perCall(sys.appPids.reduce<number>((sum, pid, i) => sum + cpuTicks(pid) - (apps0[i] ?? 0), 0), stat.successful),
    otherCpuPct: Math.max(0, Math.round(10 * (busyPct - engineCpuPct - appCpuPct - pct(sippTicks))) / 10),
    udpRcvbufErrors: (udp1.RcvbufErrors ?? 0) - (udp0.RcvbufErrors ?? 0),
    wallSeconds: Math.round(wall * 10) / 10, sippExit: code,
  };
  const why: string[] = [];
  if (res.created < expected) why.push(`created ${res.created}/${expected}`);
  if (res.successful < expected) why.push(`successful ${res.successful}/${expected}`);
  if (res.failed > MAX_FAIL_RATIO * Math.max(1, res.created)) why.push(`failed ${res.failed} (≥ 0.1 %)`);
  if (res.createdPerSecondMedian < MIN_RATE_HELD * rate) why.push(`rate held ${res.createdPerSecondMedian}/s`);
  res.pass = why.length === 0;
  if (res.retransmissions > MAX_RETRANS_RATIO * Math.max(1, res.created)) why.push(`retransmissions ${res.retransmissions} (≥ 1 %)`);
  if (maxP95 !== undefined && (res.rtdMsP95 ?? Infinity) > maxP95) why.push(`rtd p95 ${res.rtdMsP95} ms > ${maxP95} ms`);
  res.clean = why.length === 0;
  if (why.length) res.why = why.join(', ');
  return res;
}

function perCall(ticks: number, calls: number): number {
  return calls > 0 ? Math.round((100_000 * ticks) / HZ / calls) / 100 : 0;
}

function readStat(file: string): { created: number; successful: number; failed: number; retransmissions: number; createdPerSecondMedian: number } {
  if (!existsSync(file)) return { created: 0, successful: 0, failed: 0, retransmissions: 0, createdPerSecondMedian: 0 };
  const lines = readFileSync(file, 'utf8').split('\n').filter((l) => l.trim());
  const hdr = (lines[0] ?? '').split(';');
  const rows = lines.slice(1).map((l) => Object.fromEntries(l.split(';').map((v, i) => [hdr[i] ?? String(i), v])) as Record<string, string>);
  const last = rows.at(-1) ?? {};
  const n = (r: Record<string, string>, k: string): number => Number.parseInt(r[k] ?? '0', 10) || 0;
  // Steady state: the per-period rows that created calls, without the first and last (partial) ones.
  let active = rows.filter((r) => n(r, 'OutgoingCall(P)') > 0);
  if (active.length > 2) active = active.slice(1, -1);
  const perPeriod = active.map((r) => n(r, 'OutgoingCall(P)')).sort((a, b) => a - b);
  return {
    created: n(last, 'TotalCallCreated'),
    successful: n(last, 'SuccessfulCall(C)'),
    failed: n(last, 'FailedCall(C)'),
    retransmissions: n(last, 'Retransmissions(C)'),
    createdPerSecondMedian: perPeriod[Math.floor(perPeriod.length / 2)] ?? 0,
  };
}

/** rtd 1 of every call (-rtt_freq 100 flushes them in blocks), sorted, in ms. */
function readRtts(dir: string): number[] {
  const out: number[] = [];
  for (const f of readdirSync(dir).filter((x) => x.endsWith('_rtt.csv'))) {
    for (const line of readFileSync(join(dir, f), 'utf8').split('\n').slice(1)) {
      const parts = line.trim().split(';');
      const v = Number(parts[1]);
      if (parts.length >= 3 && (parts[2]?.trim() === '1' || parts[2]?.trim() === 'rtd1') && Number.isFinite(v)) out.push(v);
    }
  }
  return out.sort((a, b) => a - b);
}

// ---------------------------------------------------------------------------------------------
// profile

/** Top self-time functions of a V8 .cpuprofile, as "file:line function". */
function hotSpots(file: string, top = 15): string[] {
  interface Node { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number }
  const prof = JSON.parse(readFileSync(file, 'utf8')) as { nodes: Node[]; startTime: number; endTime: number; samples: number[] };
  const total = prof.samples.length || 1;
  const self = new Map<string, number>();
  for (const node of prof.nodes) {
    const { functionName, url, lineNumber } = node.callFrame;
    // tsx-compiled files report line 1 for everything: the file and function name are what is known.
    const where = url ? `${url.replace(`file://${root}/`, '')}${lineNumber > 0 ? `:${lineNumber + 1}` : ''}` : '(native)';
    const key = `${where} ${functionName || '(anonymous)'}`;
    self.set(key, (self.get(key) ?? 0) + (node.hitCount ?? 0));
  }
  return [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([k, hits]) => `${((100 * hits) / total).toFixed(1).padStart(5)} %  ${k}`);
}

// ---------------------------------------------------------------------------------------------
// main

function line(r: StepResult): string {
  const rtd = r.rtdMsP95 !== undefined ? `rtd p50/p95/p99 ${r.rtdMsP50}/${r.rtdMsP95}/${r.rtdMsP99} ms` : 'rtd n/a';
  return `${r.suite.padEnd(8)} ${String(r.rate).padStart(5)}/s  ${r.clean ? 'CLEAN' : r.pass ? 'HELD ' : 'FAIL '}  ok ${r.successful}/${r.expected} failed ${r.failed} ` +
    `retrans ${r.retransmissions} held ${r.createdPerSecondMedian}/s  ${rtd}  engine ${r.engineCpuPct}% apps ${r.appCpuPct}% sipp ${r.sippCpuPct}% other ${r.otherCpuPct}%` +
    `  cpu/call engine ${r.engineCpuMsPerCall} ms apps ${r.appCpuMsPerCall} ms` +
    `${r.udpRcvbufErrors ? `  udp drops ${r.udpRcvbufErrors}` : ''}${r.why ? `  (${r.why})` : ''}`;
}

async function main(): Promise<void> {
  try {
    execFileSync('sipp', ['-v'], { stdio: 'ignore' });
  } catch (err) {
    // sipp -v exits non-zero on some builds; only a missing binary matters.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new Error('sipp is not installed (apt-get install sip-tester)');
  }
  const selected = flags.suites.split(',').map((s) => s.trim()) as SuiteName[];
  console.log(
    `bench:engine  hold ${hold} s per step, calls ${callMs} ms; held = < 0.1 % failed and ≥ ${MIN_RATE_HELD * 100} % of the rate; ` +
      `clean = held and < 1 % retransmitted${maxP95 !== undefined ? ` and rtd p95 ≤ ${maxP95} ms` : ''}; output ${outDir}`,
  );
  const summary: Array<{ suite: SuiteName; best?: StepResult; bestClean?: StepResult; firstFail?: StepResult; steps: StepResult[]; hotSpots?: string[] }> = [];
  for (const name of selected) {
    const suite = suites[name];
    if (!suite) throw new Error(`unknown suite ${name}`);
    const sys = await startSystem(suite);
    const steps: StepResult[] = [];
    let best: StepResult | undefined;
    let bestClean: StepResult | undefined;
    let firstFail: StepResult | undefined;
    try {
      for (const rate of suite.rates) {
        const r = await runStep(suite, sys, rate);
        steps.push(r);
        console.log(line(r));
        if (!r.pass) {
          firstFail = r;
          break;
        }
        best = r;
        if (r.clean) bestClean = r;
        await new Promise((res) => setTimeout(res, pauseS * 1000));
      }
    } finally {
      await sys.stop();
    }
    const entry: (typeof summary)[number] = { suite: name, steps, ...(best ? { best } : {}), ...(bestClean ? { bestClean } : {}), ...(firstFail ? { firstFail } : {}) };
    if (sys.profileDir && existsSync(sys.profileDir)) {
      const prof = readdirSync(sys.profileDir).filter((f) => f.endsWith('.cpuprofile')).map((f) => join(sys.profileDir!, f))[0];
      if (prof) {
        entry.hotSpots = hotSpots(prof);
        console.log(`engine hot spots (${name}, self time, ${basename(prof)}):\n  ${entry.hotSpots.join('\n  ')}`);
      }
    }
    summary.push(entry);
  }
  writeFileSync(join(outDir, 'summary.json'), JSON.stringify({ hold, callMs, summary }, null, 1));
  const cell = (r: StepResult | undefined, last: boolean): string =>
    r ? `${r.rate}/s${last ? '+' : ''} (engine ${r.engineCpuPct}%, apps ${r.appCpuPct}%, other ${r.otherCpuPct}%, p95 ${r.rtdMsP95 ?? '-'} ms, cpu/call ${r.engineCpuMsPerCall}+${r.appCpuMsPerCall} ms)` : 'none';
  console.log('\nsuite     highest rate held (< 0.1 % failed)                         highest clean rate (also < 1 % retransmitted)');
  for (const s of summary) {
    const all = !s.firstFail;
    console.log(`${s.suite.padEnd(9)} ${cell(s.best, all).padEnd(66)} ${cell(s.bestClean, all && s.bestClean === s.best)}`);
  }
  console.log(`(+ = every step passed; CPU in % of one core: the 2 cores are shared by SIPp, the engine, the apps and anything else)\n${join(outDir, 'summary.json')}`);
}

main().then(
  () => {
    killAll('SIGKILL');
    process.exit(0);
  },
  (err: unknown) => {
    console.error(err);
    killAll('SIGKILL');
    process.exit(1);
  },
);
