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
 * pbx-calls (npm run bench:calls) is issue 4's acceptance run: calls A → B through the real
 * Switchboard with the media anchored by the rtpengine it starts. One SIPp UAS first registers half
 * of the extensions (the callees) from its own port — the PBX forks each INVITE to the REGISTER's
 * source ip:port — and then answers on that port (180, 200 with SDP, -rtp_echo); one SIPp UAC calls
 * them from the other half (INVITE → 407 → INVITE with MD5 digest → 200 → ACK), plays a G.711 pcap
 * to rtpengine (--media rtp; --media idle keeps the media anchored but silent), holds
 * --call-seconds (10) and hangs up. Caller i calls callee i, so with 10,000 extensions each pair
 * comes back every 5,000 calls and the per-extension call limit (2) does not bite below 1,000
 * calls/s × 10 s. Per step it also reports the peak concurrent calls (SIPp's CurrentCall, and
 * rtpengine's own session count sampled each second), the UAS's failures, and the CPU of the
 * engine, main ("apps"), rtpengine and both SIPps over the steady part of the step (after the
 * first calls ended, before the last were made). After the run it checks that rtpengine has no
 * session left and that the CDRs (GET /api/v1/cdrs/stats) count every call.
 *
 *   npm run bench:calls                              60 s steps at 25,50,100,150,200,300 calls/s
 *   npm run bench:calls -- --step-seconds 20 --rates-pbx-calls 100,200 --media idle
 *   npm run bench:calls -- --data-dir /dev/shm       the store on tmpfs: what its fsyncs cost
 *
 * Each step line also names the UDP receive drops per process (the kernel's drops column for the
 * sockets each one holds): "apps" dropping is the app's ng client losing rtpengine's replies,
 * "rtpengine" its ng socket losing requests, sipp a media port nobody reads (expected with RTP).
 *
 * --profile runs the engine under `node --cpu-prof` and prints its top self-time functions;
 * --engine-node-args=--max-semi-space-size=32 passes V8/Node flags to the engine process (space separated).
 * Output (SIPp stats, logs, profiles, summary.json) goes to --out (default /tmp/switchboard-bench-engine/<time>).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { copyFileSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import rtpengine from 'rtpengine-client';
import { hotModules, hotSpots } from './cpu-profile.js';
import { benchUser, injectionLine, prepareBenchData, startSwitchboard, type RunningSwitchboard } from './bench-apps/switchboard.js';

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

type SuiteName = 'register' | 'register-auth' | 'options' | 'calls' | 'pbx-calls';

interface Suite {
  name: SuiteName;
  scenario: string;
  apps: Array<'registrar' | 'uas'>;
  rates: number[];
  /** Extra SIPp arguments (service, call length). */
  sippArgs: string[];
  /** Seconds a call lasts beyond its creation (for -l and timeouts). */
  callSeconds: number;
  /**
   * Run the real Switchboard (src/main.ts, its registrar and store) instead of engine + bench apps;
   * `calls` also anchors media with the rtpengine it starts and answers with a registered SIPp UAS.
   */
  switchboard?: 'register' | 'calls';
}

const { values: flags } = parseArgs({
  options: {
    hold: { type: 'string', default: '30' },
    // The same as --hold, under the name bench:calls uses (a step is not a call's hold time).
    'step-seconds': { type: 'string' },
    quick: { type: 'boolean', default: false },
    suites: { type: 'string', default: 'register,register-auth,options,calls' },
    'rates-register': { type: 'string', default: '500,1000,2000,3000,4000,5000' },
    'rates-register-auth': { type: 'string', default: '500,1000,2000,3000' },
    extensions: { type: 'string', default: '10000' },
    'rates-options': { type: 'string', default: '500,1000,2000,3000,4000,5000' },
    'rates-calls': { type: 'string', default: '100,200,300,500,700' },
    'call-ms': { type: 'string', default: '1000' },
    // From 25/s, so that a loaded machine still shows a figure; an idle one goes on to the goal and past it.
    'rates-pbx-calls': { type: 'string', default: '25,50,100,150,200,300' },
    'call-seconds': { type: 'string', default: '10' },
    media: { type: 'string', default: 'rtp' },
    'rtp-ports': { type: 'string', default: '16000-31999' },
    // Where Switchboard's data directory (the SQLite store) goes; default under --out. A tmpfs
    // (/dev/shm) makes fsync free: the difference to a disk run is what the store's commits cost.
    'data-dir': { type: 'string' },
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
const hold = flags.quick ? 5 : Number(flags['step-seconds'] ?? flags.hold);
if (!(hold > 0 && hold <= 120)) throw new Error('--hold / --step-seconds must be 1..120 seconds');
const pbxCallMs = 1000 * Number(flags['call-seconds']);
if (!(pbxCallMs >= 0 && pbxCallMs <= 600_000)) throw new Error('--call-seconds must be 0..600');
if (flags.media !== 'rtp' && flags.media !== 'idle') throw new Error('--media must be rtp or idle');
const rtpPorts = /^(\d+)-(\d+)$/.exec(flags['rtp-ports']);
if (!rtpPorts) throw new Error('--rtp-ports must be MIN-MAX');
/** The pcap the UAC plays in every call with --media rtp (SIPp's own G.711 A-law sample, 7 s). */
const PCAP = '/usr/share/sip-tester/g711a.pcap';
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
    sippArgs: [], callSeconds: 0, switchboard: 'register',
  },
  options: {
    name: 'options', scenario: 'uac-options-expect-200.xml', apps: ['registrar'], rates: rates(flags['rates-options']),
    sippArgs: ['-s', 'bench'], callSeconds: 0,
  },
  calls: {
    name: 'calls', scenario: 'uac-call-expect-200-then-bye.xml', apps: ['uas'], rates: rates(flags['rates-calls']),
    sippArgs: ['-s', 'bench', '-d', String(callMs)], callSeconds: callMs / 1000,
  },
  'pbx-calls': {
    name: 'pbx-calls', scenario: 'uac-call-auth-hold-bye.xml', apps: [], rates: rates(flags['rates-pbx-calls']),
    sippArgs: ['-d', String(pbxCallMs)], callSeconds: pbxCallMs / 1000, switchboard: 'calls',
  },
};

/** Switchboard's data directory for a suite: under the suite's output, or under --data-dir (removed at exit). */
function dataDirOf(dir: string): string {
  if (flags['data-dir'] === undefined) return join(dir, 'data');
  const d = join(flags['data-dir'], `${basename(outDir)}-${basename(dir)}`);
  process.on('exit', () => rmSync(d, { recursive: true, force: true }));
  return d;
}

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
  /** More processes whose CPU is reported apart (rtpengine, the SIPp UAS), by name. */
  extraPids?: Record<string, number | undefined>;
  sipPort: number;
  /** Extra SIPp arguments the system needs (the injection file of the authenticated suite). */
  sippArgs: string[];
  /** Rewrites the scenario copied into a step's directory (the calls suite's media switch). */
  editScenario?: (xml: string) => string;
  /** Live calls as the system itself counts them (rtpengine's sessions), sampled during a step. */
  liveCalls?: () => Promise<number | undefined>;
  /** Failed calls on the far side (the SIPp UAS) so far: a step's share is the difference. */
  farFailed?: () => number;
  /** What is left after the last step (sessions, CDRs), as lines for the report. */
  finalCheck?: (calls: { successful: number; attempted: number }) => Promise<string[]>;
  profileDir?: string;
  stop(): Promise<void>;
}

async function startSystem(suite: Suite): Promise<System> {
  const sipPort = await freeUdpPort();
  const dir = join(outDir, suite.name);
  mkdirSync(dir, { recursive: true });
  const profileDir = flags.profile ? join(dir, 'profile') : undefined;
  if (suite.switchboard === 'calls') return startCallsSystem(dir, sipPort, profileDir);
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
  const dataDir = dataDirOf(dir);
  const { csv, secretKeyHex } = await prepareBenchData(dataDir, count);
  console.log(`register-auth: ${count} extensions created in ${Date.now() - t0} ms`);
  let httpPort = await freeUdpPort();
  while (httpPort === sipPort) httpPort = await freeUdpPort();
  const sb = await startSwitchboard({
    root, dataDir, sipPort, httpPort, secretKeyHex, log: join(dir, 'switchboard.log'),
    nodeFlags: profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : [],
  });
  children.add(sb.main);
  return {
    enginePid: sb.enginePid, appPids: [sb.main.pid], sipPort, sippArgs: ['-inf', csv], ...(profileDir ? { profileDir } : {}),
    // SIGTERM to main stops its engine too (and writes the CPU profile on a clean exit).
    stop: () => stopChild(sb.main, 15000),
  };
}

/** Run SIPp to completion in `cwd` (stdout/stderr to files there); resolves with its exit code. */
function runSipp(args: string[], cwd: string, killAfterMs: number): Promise<number | null> {
  const sipp = spawn('sipp', args, { cwd, stdio: ['ignore', openSync(join(cwd, 'sipp.out'), 'w'), openSync(join(cwd, 'sipp.err'), 'w')] });
  children.add(sipp);
  const timer = setTimeout(() => sipp.kill('SIGKILL'), killAfterMs);
  return new Promise((r) =>
    sipp.once('exit', (code) => {
      clearTimeout(timer);
      children.delete(sipp);
      r(code);
    }),
  );
}

/** A free even UDP port p on loopback with p+1..p+3 free too (SIPp's audio and video RTP/RTCP). */
async function freeMediaPort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 2 * Math.floor((await freeUdpPort()) / 2);
    const sockets: dgram.Socket[] = [];
    let ok = true;
    for (let p = base; p < base + 4 && ok; p++) {
      const s = dgram.createSocket('udp4');
      ok = await new Promise<boolean>((r) => {
        s.once('error', () => r(false));
        s.bind({ address: '127.0.0.1', port: p }, () => r(true));
      });
      sockets.push(s);
    }
    for (const s of sockets) s.close();
    if (ok) return base;
  }
  throw new Error('no 4 consecutive free UDP ports for SIPp media');
}

/**
 * Issue 4's call path: the real Switchboard with the rtpengine it starts (--rtp-ports), --extensions
 * extensions, an admin API key for the CDR check; then the SIPp UAS (B). It registers the callees
 * (the second half of the extensions) from its port first, then answers there for the whole run.
 * The UAC's injection file pairs caller i with callee i.
 */
async function startCallsSystem(dir: string, sipPort: number, profileDir: string | undefined): Promise<System> {
  const pairs = Math.floor(Number(flags.extensions) / 2);
  if (!(pairs >= 1)) throw new Error('--extensions must be at least 2');
  if (flags.media === 'rtp' && !existsSync(PCAP)) throw new Error(`${PCAP} is missing (apt-get install sip-tester)`);
  const apiKey = `sk_live_${randomBytes(24).toString('hex')}`;
  const t0 = Date.now();
  const dataDir = dataDirOf(dir);
  const { secretKeyHex } = await prepareBenchData(dataDir, 2 * pairs, { apiKey });
  const callers = join(dir, 'callers.csv');
  const callees = join(dir, 'callees.csv');
  const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
  writeFileSync(callers, ['SEQUENTIAL', ...range(pairs).map((i) => injectionLine(i, benchUser(pairs + i).number))].join('\n') + '\n');
  writeFileSync(callees, ['SEQUENTIAL', ...range(pairs).map((i) => injectionLine(pairs + i))].join('\n') + '\n');
  console.log(`pbx-calls: ${2 * pairs} extensions created in ${Date.now() - t0} ms (${pairs} callers → ${pairs} callees), store in ${dataDir}`);
  let httpPort = await freeUdpPort();
  while (httpPort === sipPort) httpPort = await freeUdpPort();
  const sb: RunningSwitchboard = await startSwitchboard({
    root, dataDir, sipPort, httpPort, secretKeyHex, log: join(dir, 'switchboard.log'),
    nodeFlags: profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : [],
    env: {
      SWITCHBOARD_MEDIA: 'rtpengine',
      SWITCHBOARD_RTP_ADDRESS: '127.0.0.1',
      SWITCHBOARD_RTP_PORT_MIN: rtpPorts![1]!,
      SWITCHBOARD_RTP_PORT_MAX: rtpPorts![2]!,
    },
  });
  children.add(sb.main);
  const rtp = sb.rtpengine;
  if (!rtp) {
    await stopChild(sb.main, 15000);
    throw new Error(`Switchboard did not start rtpengine (see ${join(dir, 'switchboard.log')}; apt-get install rtpengine-daemon)`);
  }

  // B registers every callee from the port it will answer on: the PBX sends INVITEs along that flow.
  const uasPort = await freeUdpPort();
  const regDir = join(dir, 'register');
  mkdirSync(regDir, { recursive: true });
  copyFileSync(join(root, 'scripts/sipp/uac-register-digest-expect-200.xml'), join(regDir, 'register.xml'));
  // A loaded machine can lose a few to retransmission races: a second, slower pass registers
  // every callee again (a refresh of the same binding where the first pass worked).
  let regCode: number | null = null;
  let reg = readStat(join(regDir, 'none'));
  for (const rate of [500, 100]) {
    regCode = await runSipp([
      `127.0.0.1:${sipPort}`, '-sf', 'register.xml', '-inf', callees, '-i', '127.0.0.1', '-p', String(uasPort),
      '-r', String(rate), '-rp', '1000', '-m', String(pairs), '-l', '2000', '-timeout', '150s', '-recv_timeout', '8000',
      '-nostdin', '-trace_stat', '-stf', 'stat.csv', '-fd', '1', '-trace_err',
    ], regDir, 180_000);
    reg = readStat(join(regDir, 'stat.csv'));
    if (regCode === 0 && reg.successful === pairs) break;
  }
  if (regCode !== 0 || reg.successful !== pairs) {
    await stopChild(sb.main, 15000);
    throw new Error(`registering the ${pairs} callees failed (sipp exit ${regCode}, ${reg.successful} ok, ${reg.failed} failed); see ${regDir}`);
  }
  console.log(`pbx-calls: ${pairs} callees registered from 127.0.0.1:${uasPort}; media ${flags.media === 'rtp' ? `G.711 pcap from A, echoed by B` : 'anchored, idle'}`);

  const uasDir = join(dir, 'uas');
  mkdirSync(uasDir, { recursive: true });
  copyFileSync(join(root, 'scripts/sipp/uas-answer-expect-bye.xml'), join(uasDir, 'uas.xml'));
  const uas = spawn('sipp', [
    '-sf', 'uas.xml', '-i', '127.0.0.1', '-p', String(uasPort), '-mp', String(await freeMediaPort()),
    ...(flags.media === 'rtp' ? ['-rtp_echo'] : []),
    '-buff_size', '4194304', '-nostdin', '-trace_stat', '-stf', 'stat.csv', '-fd', '1', '-trace_err',
  ], { cwd: uasDir, stdio: ['ignore', openSync(join(uasDir, 'sipp.out'), 'w'), openSync(join(uasDir, 'sipp.err'), 'w')] });
  children.add(uas);
  await new Promise((r) => setTimeout(r, 500));
  if (uas.exitCode !== null) throw new Error(`the SIPp UAS exited at once (${uas.exitCode}); see ${uasDir}`);

  // A generous timeout: a late reply would be printed by the library (console.log) as unknown.
  const ng = new rtpengine.Client({ timeout: 10_000 });
  ng.on('error', () => undefined);
  const statistics = (ng as unknown as { statistics: (dest: { host: string; port: number }) => Promise<Record<string, unknown>> }).statistics.bind(ng);
  /** rtpengine's own count of its sessions (every one is ours: it was started for this run). */
  const sessions = async (): Promise<number | undefined> => {
    try {
      const r = await statistics(rtp.ng);
      const cur = (r.statistics as { currentstatistics?: Record<string, unknown> } | undefined)?.currentstatistics;
      const n = Number(cur?.sessionsown ?? cur?.sessionstotal);
      return Number.isFinite(n) ? n : undefined;
    } catch {
      return undefined;
    }
  };
  return {
    enginePid: sb.enginePid, appPids: [sb.main.pid], extraPids: { rtpengine: rtp.pid, 'sipp-uas': uas.pid },
    // A free media port even when idle: SIPp binds one anyway, 6000 by default, which another run may hold.
    sipPort, sippArgs: ['-inf', callers, '-mp', String(await freeMediaPort())],
    editScenario: (xml) => (flags.media === 'rtp' ? xml : xml.replace(/<!-- BENCH-MEDIA -->.*<!-- \/BENCH-MEDIA -->/s, '')),
    liveCalls: sessions,
    farFailed: () => readStat(join(uasDir, 'stat.csv')).failed,
    ...(profileDir ? { profileDir } : {}),
    async finalCheck({ successful, attempted }) {
      // Calls end with a BYE each way and a CDR write; give the last ones a moment.
      let left: number | undefined;
      for (let i = 0; i < 20 && (left = await sessions()) !== 0; i++) await new Promise((r) => setTimeout(r, 500));
      const res = await fetch(`http://127.0.0.1:${httpPort}/api/v1/cdrs/stats`, { headers: { 'X-API-Key': apiKey } });
      const stats = res.ok ? ((await res.json()) as { data: { total: number; answered: number } }).data : undefined;
      const uasStat = readStat(join(uasDir, 'stat.csv'));
      return [
        `rtpengine sessions left: ${left ?? 'unknown'}${left === 0 ? ' (none: every call released its media)' : ' (want 0)'}`,
        stats
          ? `CDRs: ${stats.total} written, ${stats.answered} answered (SIPp: ${successful} calls completed of ${attempted} started)${stats.answered === successful ? '' : '  MISMATCH'}`
          : `CDRs: GET /api/v1/cdrs/stats answered ${res.status}`,
        `SIPp UAS (B): ${uasStat.successful} calls completed, ${uasStat.failed} failed`,
      ];
    },
    async stop() {
      ng.close();
      await stopChild(uas, 3000);
      await stopChild(sb.main, 15000);
    },
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

/**
 * Whole-machine [busy, steal] ticks: how much of the 2 cores anything at all used, and how much
 * the hypervisor gave to someone else (a noisy VM neighbour: it slows everything, unseen).
 */
function machineTicks(): [number, number] {
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.split(/\s+/).slice(1, 9).map(Number);
  return [user + nice + system + irq + softirq, steal];
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
  /** Most calls SIPp had open at once (its CurrentCall, per second). */
  peakConcurrent: number;
  /** Most live calls the system itself counted (rtpengine's sessions, sampled each second). */
  peakLive?: number;
  /** Calls the far side (the SIPp UAS) failed during the step. */
  farFailed?: number;
  rtdMsP50?: number;
  rtdMsP95?: number;
  rtdMsP99?: number;
  /** CPU over the steady part of the step (every call length in it), or over the whole step. */
  cpuWindow: 'steady' | 'step';
  engineCpuPct: number;
  /**
   * CPU ms per successful call of the engine and of the apps: what a call costs whatever else
   * the machine runs, so a contended run still tells the capacity of dedicated cores.
   */
  engineCpuMsPerCall: number;
  appCpuMsPerCall: number;
  appCpuPct: number;
  sippCpuPct: number;
  /** The system's other processes (rtpengine, the SIPp UAS), % of one core. */
  extraCpuPct: Record<string, number>;
  /** CPU used by everything else on the machine (other jobs skew the figures), % of one core. */
  otherCpuPct: number;
  /** CPU the hypervisor gave to other VMs, % of one core. */
  stealPct: number;
  udpRcvbufErrors: number;
  /** Datagrams the kernel dropped on the server's SIP socket (its receive buffer was full). */
  sipSocketDrops: number;
  /** Receive drops on each process's UDP sockets during the step (long-lived processes only). */
  dropsByProcess: Record<string, number>;
  wallSeconds: number;
  sippExit: number | null;
}

/** CPU ticks of named processes and of the whole machine at one instant. */
interface Snapshot {
  at: number;
  ticks: Record<string, number>;
  machine: [number, number];
}

function snapshot(pids: Record<string, number | undefined>): Snapshot {
  const ticks: Record<string, number> = {};
  for (const [name, pid] of Object.entries(pids)) ticks[name] = cpuTicks(pid);
  return { at: Date.now(), ticks, machine: machineTicks() };
}

/**
 * Receive drops per process: the drops column of /proc/net/udp for every UDP socket each pid
 * holds (socket inodes from /proc/<pid>/fd). Names which buffer overflowed: the SIP socket, the
 * app's rtpengine ng client, rtpengine's ng socket, a SIPp media port nobody reads…
 */
function udpDropsByProcess(pids: Record<string, number | undefined>): Record<string, number> {
  const byInode = new Map<string, number>();
  for (const l of readFileSync('/proc/net/udp', 'utf8').split('\n').slice(1)) {
    const f = l.trim().split(/\s+/);
    if (f.length > 12) byInode.set(f[9]!, Number(f.at(-1)) || 0);
  }
  const out: Record<string, number> = {};
  for (const [name, pid] of Object.entries(pids)) {
    if (!pid) continue;
    let sum = 0;
    try {
      for (const fd of readdirSync(`/proc/${pid}/fd`)) {
        try {
          const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
          if (m) sum += byInode.get(m[1]!) ?? 0;
        } catch {
          // closed meanwhile
        }
      }
    } catch {
      continue; // the process is gone
    }
    out[name] = sum;
  }
  return out;
}

/** Drops counted on the UDP sockets bound to `port` (the drops column of /proc/net/udp). */
function udpSocketDrops(port: number): number {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  let drops = 0;
  for (const l of readFileSync('/proc/net/udp', 'utf8').split('\n').slice(1)) {
    const f = l.trim().split(/\s+/);
    if (f[1]?.endsWith(hex)) drops += Number(f.at(-1)) || 0;
  }
  return drops;
}

async function runStep(suite: Suite, sys: System, rate: number): Promise<StepResult> {
  const dir = join(outDir, suite.name, `r${rate}`);
  mkdirSync(dir, { recursive: true });
  // SIPp names its rtt file after the scenario path: run a copy from inside the step directory.
  const xml = readFileSync(join(root, 'scripts/sipp', suite.scenario), 'utf8');
  writeFileSync(join(dir, suite.scenario), sys.editScenario ? sys.editScenario(xml) : xml);
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
  const extra = sys.extraPids ?? {};
  // SIPp's own pid once it runs (it starts after the first snapshot).
  const uac: { pid?: number | undefined } = {};
  const pids = (): Record<string, number | undefined> => ({
    engine: sys.enginePid, ...Object.fromEntries(sys.appPids.map((pid, i) => [`app${i}`, pid])), ...extra, sipp: uac.pid,
  });
  const farFailed0 = sys.farFailed?.();
  const udp0 = udpCounters();
  const drops0 = udpSocketDrops(sys.sipPort);
  const procDrops0 = udpDropsByProcess(pids());
  const start = snapshot(pids());
  const t0 = start.at;
  const sipp = spawn('sipp', args, { cwd: dir, stdio: ['ignore', openSync(join(dir, 'sipp.out'), 'w'), openSync(join(dir, 'sipp.err'), 'w')] });
  uac.pid = sipp.pid;
  children.add(sipp);
  // SIPp's ticks are gone once it exits: keep the last reading (and the steady-window ones).
  let sippTicks = 0;
  const sampler = setInterval(() => (sippTicks = cpuTicks(sipp.pid) || sippTicks), 200);
  // The steady part: every call of a call length is in it (calls started after the first ended,
  // none yet ending for good), so CPU there is what that rate with that many calls up costs.
  const steady: Snapshot[] = [];
  const steadyFrom = suite.callSeconds + 1.5;
  const timers = suite.callSeconds >= 2 && hold >= steadyFrom + 5
    ? [steadyFrom, hold].map((s) => setTimeout(() => steady.push(snapshot(pids())), s * 1000))
    : [];
  let peakLive: number | undefined;
  let sampling = true;
  const liveSampler = sys.liveCalls
    ? (async () => {
        while (sampling) {
          const n = await sys.liveCalls!();
          if (n !== undefined) peakLive = Math.max(peakLive ?? 0, n);
          await new Promise((r) => setTimeout(r, 1000));
        }
      })()
    : Promise.resolve();
  const hardStop = setTimeout(() => sipp.kill('SIGKILL'), (hold + suite.callSeconds + 60) * 1000);
  const code = await new Promise<number | null>((r) => sipp.once('exit', (c) => r(c)));
  clearInterval(sampler);
  clearTimeout(hardStop);
  for (const t of timers) clearTimeout(t);
  sampling = false;
  await liveSampler;
  children.delete(sipp);
  const end = snapshot(pids());
  end.ticks.sipp = sippTicks;
  const wall = (end.at - t0) / 1000;
  const [w0, w1] = steady.length === 2 ? [steady[0]!, steady[1]!] : [start, end];
  const secs = (w1.at - w0.at) / 1000;
  const pctOf = (name: string): number => Math.round((1000 * ((w1.ticks[name] ?? 0) - (w0.ticks[name] ?? 0))) / HZ / secs) / 10;
  const appNames = sys.appPids.map((_, i) => `app${i}`);
  const engineCpuPct = pctOf('engine');
  const appCpuPct = Math.round(10 * appNames.reduce((sum, n) => sum + pctOf(n), 0)) / 10;
  const sippCpuPct = pctOf('sipp');
  const extraCpuPct = Object.fromEntries(Object.keys(extra).map((n) => [n, pctOf(n)]));
  const busyPct = Math.round((1000 * (w1.machine[0] - w0.machine[0])) / HZ / secs) / 10;
  const stealPct = Math.round((1000 * (w1.machine[1] - w0.machine[1])) / HZ / secs) / 10;
  const udp1 = udpCounters();
  const procDrops1 = udpDropsByProcess(pids());
  const appName = (n: string): string => (n.startsWith('app') ? (sys.appPids.length === 1 ? 'apps' : n) : n);
  const dropsByProcess = Object.fromEntries(
    Object.entries(procDrops1).filter(([n]) => procDrops0[n] !== undefined).map(([n, v]) => [appName(n), v - (procDrops0[n] ?? 0)]).filter(([, v]) => (v as number) > 0),
  ) as Record<string, number>;
  const appTicks = appNames.reduce((sum, n) => sum + (end.ticks[n] ?? 0) - (start.ticks[n] ?? 0), 0);

  const stat = readStat(join(dir, 'stat.csv'));
  const rtts = readRtts(dir);
  const res: StepResult = {
    suite: suite.name, rate, pass: false, clean: false, expected,
    created: stat.created, successful: stat.successful, failed: stat.failed, retransmissions: stat.retransmissions,
    createdPerSecondMedian: stat.createdPerSecondMedian, peakConcurrent: stat.peakConcurrent,
    ...(peakLive !== undefined ? { peakLive } : {}),
    ...(farFailed0 !== undefined ? { farFailed: sys.farFailed!() - farFailed0 } : {}),
    ...(rtts.length ? { rtdMsP50: percentile(rtts, 0.5)!, rtdMsP95: percentile(rtts, 0.95)!, rtdMsP99: percentile(rtts, 0.99)! } : {}),
    cpuWindow: steady.length === 2 ? 'steady' : 'step',
    engineCpuPct, appCpuPct, sippCpuPct, extraCpuPct,
    engineCpuMsPerCall: perCall((end.ticks.engine ?? 0) - (start.ticks.engine ?? 0), stat.successful),
    appCpuMsPerCall: perCall(appTicks, stat.successful),
    otherCpuPct: Math.max(0, Math.round(10 * (busyPct - engineCpuPct - appCpuPct - sippCpuPct - Object.values(extraCpuPct).reduce((a, b) => a + b, 0))) / 10),
    stealPct,
    udpRcvbufErrors: (udp1.RcvbufErrors ?? 0) - (udp0.RcvbufErrors ?? 0),
    sipSocketDrops: udpSocketDrops(sys.sipPort) - drops0, dropsByProcess,
    wallSeconds: Math.round(wall * 10) / 10, sippExit: code,
  };
  const why: string[] = [];
  if (res.created < expected) why.push(`created ${res.created}/${expected}`);
  if (res.successful < expected) why.push(`successful ${res.successful}/${expected}`);
  if (res.failed > MAX_FAIL_RATIO * Math.max(1, res.created)) why.push(`failed ${res.failed} (≥ 0.1 %)`);
  if ((res.farFailed ?? 0) > MAX_FAIL_RATIO * Math.max(1, res.created)) why.push(`UAS failed ${res.farFailed} (≥ 0.1 %)`);
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

function readStat(file: string): { created: number; successful: number; failed: number; retransmissions: number; createdPerSecondMedian: number; peakConcurrent: number } {
  if (!existsSync(file)) return { created: 0, successful: 0, failed: 0, retransmissions: 0, createdPerSecondMedian: 0, peakConcurrent: 0 };
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
    peakConcurrent: rows.reduce((max, r) => Math.max(max, n(r, 'CurrentCall')), 0),
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
// main

/** Drops on sockets of no long-lived process of ours: the UAC SIPp's (gone by then; its media port is never read) or anyone else's. */
function dropsElsewhere(r: StepResult): string {
  const known = Object.values(r.dropsByProcess).reduce((a, b) => a + b, 0);
  const rest = r.udpRcvbufErrors - known;
  return rest > 0 ? `, elsewhere ${rest}${r.suite === 'pbx-calls' && flags.media === 'rtp' ? ' — mostly the UAC SIPp media port, which nobody reads' : ''}` : '';
}

function line(r: StepResult): string {
  const rtd = r.rtdMsP95 !== undefined ? `rtd p50/p95/p99 ${r.rtdMsP50}/${r.rtdMsP95}/${r.rtdMsP99} ms` : 'rtd n/a';
  const calls = r.peakConcurrent > 0 && suites[r.suite].callSeconds >= 2
    ? `  concurrent ${r.peakConcurrent}${r.peakLive !== undefined ? ` (rtpengine ${r.peakLive})` : ''}${r.farFailed !== undefined ? ` UAS failed ${r.farFailed}` : ''}`
    : '';
  const extra = Object.entries(r.extraCpuPct).map(([n, v]) => ` ${n} ${v}%`).join('');
  return `${r.suite.padEnd(8)} ${String(r.rate).padStart(5)}/s  ${r.clean ? 'CLEAN' : r.pass ? 'HELD ' : 'FAIL '}  ok ${r.successful}/${r.expected} failed ${r.failed} ` +
    `retrans ${r.retransmissions} held ${r.createdPerSecondMedian}/s${calls}  ${rtd}  ` +
    `cpu(${r.cpuWindow}) engine ${r.engineCpuPct}% apps ${r.appCpuPct}%${extra} sipp ${r.sippCpuPct}% other ${r.otherCpuPct}% steal ${r.stealPct}%` +
    `  cpu/call engine ${r.engineCpuMsPerCall} ms apps ${r.appCpuMsPerCall} ms` +
    `${r.udpRcvbufErrors ? `  udp drops ${r.udpRcvbufErrors} (SIP socket ${r.sipSocketDrops}${Object.entries(r.dropsByProcess).map(([n, v]) => `, ${n} ${v}`).join('')}${dropsElsewhere(r)})` : ''}` +
    `${r.why ? `  (${r.why})` : ''}`;
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
    `bench:engine  hold ${hold} s per step, calls ${selected.includes('pbx-calls') ? `${callMs} ms (engine), ${pbxCallMs / 1000} s (pbx-calls, media ${flags.media})` : `${callMs} ms`}; held = < 0.1 % failed and ≥ ${MIN_RATE_HELD * 100} % of the rate; ` +
      `clean = held and < 1 % retransmitted${maxP95 !== undefined ? ` and rtd p95 ≤ ${maxP95} ms` : ''}; output ${outDir}`,
  );
  const summary: Array<{ suite: SuiteName; best?: StepResult; bestClean?: StepResult; firstFail?: StepResult; steps: StepResult[]; hotSpots?: string[]; hotModules?: string[]; checks?: string[] }> = [];
  for (const name of selected) {
    const suite = suites[name];
    if (!suite) throw new Error(`unknown suite ${name}`);
    const sys = await startSystem(suite);
    const steps: StepResult[] = [];
    let best: StepResult | undefined;
    let bestClean: StepResult | undefined;
    let firstFail: StepResult | undefined;
    let checks: string[] | undefined;
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
      if (sys.finalCheck) {
        checks = await sys.finalCheck({ successful: steps.reduce((n, r) => n + r.successful, 0), attempted: steps.reduce((n, r) => n + r.created, 0) });
        console.log(`after the run (${name}):\n  ${checks.join('\n  ')}`);
      }
    } finally {
      await sys.stop();
    }
    const entry: (typeof summary)[number] = {
      suite: name, steps, ...(best ? { best } : {}), ...(bestClean ? { bestClean } : {}), ...(firstFail ? { firstFail } : {}), ...(checks ? { checks } : {}),
    };
    if (sys.profileDir && existsSync(sys.profileDir)) {
      const prof = readdirSync(sys.profileDir).filter((f) => f.endsWith('.cpuprofile')).map((f) => join(sys.profileDir!, f))[0];
      if (prof) {
        entry.hotSpots = hotSpots(prof, root);
        entry.hotModules = hotModules(prof, root);
        // Switchboard suites profile main (the registrar and call code); the others the engine.
        console.log(`${suite.switchboard ? 'main' : 'engine'} hot spots (${name}, self time, ${basename(prof)}):\n  ${entry.hotSpots.join('\n  ')}\nby module:\n  ${entry.hotModules.join('\n  ')}`);
      }
    }
    summary.push(entry);
  }
  writeFileSync(join(outDir, 'summary.json'), JSON.stringify({ hold, callMs, pbxCallMs, media: flags.media, summary }, null, 1));
  const cell = (r: StepResult | undefined, last: boolean): string =>
    r
      ? `${r.rate}/s${last ? '+' : ''} (engine ${r.engineCpuPct}%, apps ${r.appCpuPct}%${Object.entries(r.extraCpuPct).map(([n, v]) => `, ${n} ${v}%`).join('')}, other ${r.otherCpuPct}%, ` +
        `p95 ${r.rtdMsP95 ?? '-'} ms, cpu/call ${r.engineCpuMsPerCall}+${r.appCpuMsPerCall} ms${suites[r.suite].callSeconds >= 2 ? `, ${r.peakConcurrent} concurrent` : ''})`
      : 'none';
  console.log('\nsuite     highest rate held (< 0.1 % failed)                         highest clean rate (also < 1 % retransmitted)');
  for (const s of summary) {
    const all = !s.firstFail;
    console.log(`${s.suite.padEnd(9)} ${cell(s.best, all).padEnd(66)} ${cell(s.bestClean, all && s.bestClean === s.best)}`);
  }
  console.log(`(+ = every step passed; CPU in % of one core: the 2 cores are shared by SIPp, the engine, the apps and anything else)\n${join(outDir, 'summary.json')}`);
  const calls = summary.find((s) => s.suite === 'pbx-calls');
  if (calls) {
    const peak = Math.max(0, ...calls.steps.filter((r) => r.pass).map((r) => r.peakConcurrent));
    console.log(
      `\npbx-calls: highest rate held ${calls.best ? `${calls.best.rate} calls/s${calls.firstFail ? '' : ' (every step held: try higher rates)'}` : 'none'} ` +
        `(${hold} s steps, ${pbxCallMs / 1000} s calls, media ${flags.media === 'rtp' ? 'anchored and relayed (pcap A → B, echoed back)' : 'anchored, idle'}); ` +
        `peak concurrent calls in a held step ${peak}; goal ≥ 200 calls/s and ≥ 1,000 concurrent`,
    );
  }
  const busy = summary.flatMap((s) => s.steps).filter((r) => r.otherCpuPct + r.stealPct > 25);
  if (busy.length > 0) {
    console.log(
      `WARNING: the machine was not ours alone: other processes used up to ${Math.max(...busy.map((r) => r.otherCpuPct))}% of a core and steal reached ` +
        `${Math.max(...busy.map((r) => r.stealPct))}% in ${busy.length} step(s); these figures understate what the PBX can do on idle cores.`,
    );
  }
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
