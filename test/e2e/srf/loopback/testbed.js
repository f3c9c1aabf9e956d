'use strict';
// Loopback testbed for drachtio-srf's own integration tests.
//
// Replaces test/docker-compose-testbed.yaml: two drachtio-compatible servers (ours by default) and
// one long-running sipp per UAS scenario, everything on 127.0.0.1 with fixed ports. Used by
// test/e2e/srf/run.mjs and, inside the copied package, by the replacement docker_start.js,
// docker_stop.js and sipp.js (this file is copied next to them as test/loopback/testbed.js).
//
// Every process started here is a process-group leader (detached), so it and anything it spawns
// can be killed as a group; killAllSync() is the last-resort cleanup for process 'exit'.
const { spawn } = require('child_process');
const fs = require('fs');
const net = require('net');
const path = require('path');

const HOST = '127.0.0.1';

function intEnv(name, dflt) {
  const v = process.env[name];
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0 || n > 65535) throw new Error(`${name}=${v} is not a port number`);
  return n;
}

const uasBase = intEnv('SRF_SIPP_UAS_PORT_BASE', 5080);

// Long-running sipp UASes, named after the docker testbed's containers. Offsets from
// SRF_SIPP_UAS_PORT_BASE (default 5080). sipp-uas-refer and sipp-uas-options are not started:
// no test sends to them.
const UAS_TABLE = [
  ['sipp-uas-cancel', 'uas-cancel.xml', 0],
  ['sipp-uas', 'uas.xml', 1],
  ['sipp-uas-404', 'uas-404.xml', 2],
  ['sipp-uas-auth', 'uas-auth.xml', 3],
  ['sipp-uas-auth-register', 'uas-auth-register.xml', 4],
  ['sipp-uas-auth-register-no-realm', 'uas-auth-register-no-realm.xml', 5],
  ['sipp-uas-fast-reinvite', 'uas-reinvite.xml', 6],
  ['sipp-uas-reinvite-overlap', 'uas-reinvite-overlap.xml', 7],
  ['sipp-uas-302', 'uas-302.xml', 8],
  ['sipp-uas-prack', 'uas-prack.xml', 9],
  ['sipp-uas-bye-with-auth', 'uas-bye-with-auth.xml', 10],
  ['sipp-uas-reinvite-with-auth', 'uas-reinvite-with-auth.xml', 11],
  ['sipp-uas-407-no-auth-header', 'uas-407-no-auth-header.xml', 12],
  ['sipp-uas-200-ok-no-contact-cancel', 'uas-200-ok-no-contact-cancel.xml', 13],
  ['sipp-uas-fast-update', 'uas-update-with-sdp.xml', 14],
];

const plan = {
  host: HOST,
  secret: process.env.SRF_SECRET || 'cymru',
  engines: {
    sut: {
      name: 'drachtio-sut',
      sipPort: intEnv('SRF_SUT_SIP_PORT', 5060),
      adminPort: intEnv('SRF_SUT_ADMIN_PORT', 9061),
    },
    uas: {
      name: 'drachtio-uas',
      sipPort: intEnv('SRF_UAS_SIP_PORT', 5070),
      adminPort: intEnv('SRF_UAS_ADMIN_PORT', 9062),
    },
  },
  uas: Object.fromEntries(UAS_TABLE.map(([name, scenario, off]) => [name, { scenario, port: uasBase + off }])),
  // UASes a test starts itself with sipp.js sippUas(file, containerName); b2b.js's 3pcc case
  // starts uas.xml as 'sipp-uas-b-teardown' and sends the B leg to sip:sipp-uas-b-teardown.
  onDemandUas: { 'sipp-uas-b-teardown': uasBase + 15 },
  // sipp UACs use uacPortBase + n (n = 1, 2, … within one test process), skipping ports that are
  // taken. Not 6000…: sipp's default media ports (-mp 6000, +2, …) of any other sipp live there.
  uacPortBase: intEnv('SRF_SIPP_UAC_PORT_BASE', 7000),
};

/** Media (-mp) and control (-cp) ports derived from a sipp's SIP port, so that all are unique. */
function sippAuxPorts(sipPort) {
  if (sipPort < 5000 || sipPort > 9999) {
    throw new Error(`sipp SIP port ${sipPort} outside 5000-9999 (media/control ports are derived from it)`);
  }
  // sipp binds -mp and -mp+2 (audio, video); -cp is the UDP control socket (default 8888, which
  // would be shared by every sipp otherwise).
  return { mp: 20000 + (sipPort - 5000) * 4, cp: sipPort + 10000 };
}

function findRepoRoot(start) {
  if (process.env.SRF_REPO_ROOT) return process.env.SRF_REPO_ROOT;
  let dir = start;
  for (;;) {
    const pj = path.join(dir, 'package.json');
    if (fs.existsSync(pj)) {
      try {
        if (JSON.parse(fs.readFileSync(pj, 'utf8')).name === 'switchboard') return dir;
      } catch {
        // not JSON; keep walking
      }
    }
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`cannot find the switchboard repo root above ${start} (set SRF_REPO_ROOT)`);
    dir = up;
  }
}

function splitWords(s) {
  return String(s || '').trim().split(/\s+/).filter(Boolean);
}

const externalEngines = () => process.env.SRF_ENGINE === 'external';

/** How an engine is started: SRF_ENGINE_CMD (words) or our CLI through tsx. */
function engineCommand(repoRoot) {
  if (process.env.SRF_ENGINE_CMD) {
    const words = splitWords(process.env.SRF_ENGINE_CMD);
    return { cmd: words[0], args: words.slice(1), cwd: repoRoot, entry: null };
  }
  return {
    cmd: process.execPath,
    args: ['--import', 'tsx', 'src/engine/cli.ts'],
    cwd: repoRoot,
    entry: path.join(repoRoot, 'src', 'engine', 'cli.ts'),
  };
}

function engineArgs(engine) {
  return [
    '--contact', `sip:${HOST}:${engine.sipPort};transport=udp`,
    '--port', String(engine.adminPort),
    '--address', HOST, // admin listener on loopback too (the default is all interfaces)
    '--secret', plan.secret,
    '--loglevel', 'info',
    ...splitWords(process.env.SRF_ENGINE_ARGS),
  ];
}

// ---------------------------------------------------------------------------------------------
// process bookkeeping

/** @type {Map<string, {name:string, child:import('child_process').ChildProcess, logFile:string, exited:boolean, code:number|null, signal:string|null, error:Error|null}>} */
const procs = new Map();

function spawnGroup(name, cmd, args, { cwd, env, logFile, stdoutToLog }) {
  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  const fd = fs.openSync(logFile, 'a');
  fs.writeSync(fd, `# ${new Date().toISOString()} ${cmd} ${args.join(' ')}\n`);
  let child;
  try {
    child = spawn(cmd, args, {
      cwd,
      env: env || process.env,
      detached: true, // own process group: killed as a group, no terminal SIGINT
      stdio: ['ignore', stdoutToLog ? fd : 'ignore', fd],
    });
  } finally {
    fs.closeSync(fd);
  }
  const rec = { name, child, logFile, exited: false, code: null, signal: null, error: null };
  child.on('exit', (code, signal) => Object.assign(rec, { exited: true, code, signal }));
  child.on('error', (error) => Object.assign(rec, { exited: true, error }));
  procs.set(name, rec);
  return rec;
}

function killGroup(rec, signal) {
  if (!rec.child.pid) return;
  try {
    process.kill(-rec.child.pid, signal);
  } catch {
    // ESRCH: the group is gone
  }
}

function groupAlive(rec) {
  if (!rec.child.pid) return false;
  try {
    process.kill(-rec.child.pid, 0);
    return true;
  } catch {
    return false;
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** SIGTERM every group, SIGKILL what is left after graceMs. */
async function stopAll({ graceMs = 3000 } = {}) {
  const recs = [...procs.values()];
  for (const rec of recs) killGroup(rec, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && recs.some(groupAlive)) await sleep(50);
  for (const rec of recs) killGroup(rec, 'SIGKILL');
  const until = Date.now() + 2000;
  while (Date.now() < until && recs.some(groupAlive)) await sleep(50);
  const left = recs.filter(groupAlive).map((r) => `${r.name} (pid ${r.child.pid})`);
  for (const rec of recs) procs.delete(rec.name);
  return left;
}

function killAllSync() {
  for (const rec of procs.values()) killGroup(rec, 'SIGKILL');
}

function tail(file, lines = 30) {
  try {
    const text = fs.readFileSync(file, 'utf8');
    return text.split('\n').slice(-lines - 1).join('\n').trimEnd();
  } catch {
    return '(no log)';
  }
}

function describeExit(rec) {
  if (rec.error) return `failed to start: ${rec.error.message}`;
  return `exited with ${rec.signal ? `signal ${rec.signal}` : `code ${rec.code}`}`;
}

// ---------------------------------------------------------------------------------------------
// port probes (non-intrusive: /proc/net lists bound sockets; nothing is sent to a UDP peer)

function procNetPorts(kinds) {
  const ports = new Set();
  for (const kind of kinds) {
    let text;
    try {
      text = fs.readFileSync(`/proc/net/${kind}`, 'utf8');
    } catch {
      return null; // not Linux
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 4) continue;
      const port = parseInt(cols[1].split(':')[1], 16);
      const state = cols[3];
      if (kind.startsWith('tcp') && state !== '0A') continue; // LISTEN only
      ports.add(port);
    }
  }
  return ports;
}

const udpBoundPorts = () => procNetPorts(['udp', 'udp6']);
const tcpListenPorts = () => procNetPorts(['tcp', 'tcp6']);

/** Returns a list of "port/proto" strings that are already taken. */
function portsInUse({ udp = [], tcp = [] }) {
  const u = udpBoundPorts();
  const t = tcpListenPorts();
  const taken = [];
  if (u) for (const p of udp) if (u.has(p)) taken.push(`${p}/udp`);
  if (t) for (const p of tcp) if (t.has(p)) taken.push(`${p}/tcp`);
  return taken;
}

function tcpAccepts(host, port) {
  return new Promise((resolve) => {
    const sock = net.connect({ host, port });
    const done = (ok) => {
      sock.removeAllListeners();
      sock.on('error', () => {});
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(500, () => done(false));
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

async function waitUntil(what, probe, { timeoutMs, rec }) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (rec && rec.exited) {
      throw new Error(`${rec.name} ${describeExit(rec)} while waiting for ${what}\n--- ${rec.logFile} (tail) ---\n${tail(rec.logFile)}`);
    }
    if (await probe()) return;
    if (Date.now() > deadline) {
      const log = rec ? `\n--- ${rec.logFile} (tail) ---\n${tail(rec.logFile)}` : '';
      throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}${log}`);
    }
    await sleep(100);
  }
}

async function waitUdpBound(port, opts) {
  if (udpBoundPorts() === null) {
    await sleep(500); // no /proc: process start plus a grace period is all we can check
    if (opts.rec && opts.rec.exited) await waitUntil(`UDP ${port} bound`, async () => true, opts);
    return;
  }
  await waitUntil(`UDP ${HOST}:${port} to be bound`, async () => udpBoundPorts().has(port), opts);
}

// ---------------------------------------------------------------------------------------------
// components

const engineStartTimeoutMs = () => 1000 * Number(process.env.SRF_ENGINE_START_TIMEOUT_S || 30);

/** Start (or, with SRF_ENGINE=external, only wait for) the named engines ('sut', 'uas'). */
async function startEngines(keys, { logsDir, repoRoot = findRepoRoot(__dirname) } = {}) {
  const engines = keys.map((k) => {
    const e = plan.engines[k];
    if (!e) throw new Error(`unknown engine '${k}'`);
    return e;
  });
  if (externalEngines()) {
    await Promise.all(engines.map(async (e) => {
      try {
        await waitUntil(`a drachtio server on admin ${HOST}:${e.adminPort}`, () => tcpAccepts(HOST, e.adminPort), { timeoutMs: 10000 });
      } catch (err) {
        throw new Error(`SRF_ENGINE=external, but no server accepts connections on ${HOST}:${e.adminPort} (${e.name}): ${err.message}`);
      }
    }));
    return;
  }
  const how = engineCommand(repoRoot);
  if (how.entry && !fs.existsSync(how.entry)) {
    throw new Error(`engine CLI ${path.relative(repoRoot, how.entry)} does not exist yet ` +
      '(set SRF_ENGINE_CMD to start another server, or SRF_ENGINE=external to use running ones)');
  }
  const taken = portsInUse({ udp: engines.map((e) => e.sipPort), tcp: engines.map((e) => e.adminPort) });
  if (taken.length) {
    throw new Error(`ports needed by the engines are already in use: ${taken.join(', ')} ` +
      '(a leftover from an earlier run? check `ss -ulpn; ss -tlpn`)');
  }
  const recs = engines.map((e) => spawnGroup(e.name, how.cmd, [...how.args, ...engineArgs(e)], {
    cwd: how.cwd,
    logFile: path.join(logsDir, `engine-${e.name}.log`),
    stdoutToLog: true,
  }));
  await Promise.all(engines.map(async (e, i) => {
    const rec = recs[i];
    const opts = { timeoutMs: engineStartTimeoutMs(), rec };
    await waitUntil(`${e.name} to accept admin connections on ${HOST}:${e.adminPort}`, () => tcpAccepts(HOST, e.adminPort), opts);
    await waitUdpBound(e.sipPort, { ...opts, timeoutMs: 5000 });
  }));
}

function sippTraceArgs(logsDir, label) {
  const dir = path.join(logsDir, 'sipp');
  fs.mkdirSync(dir, { recursive: true });
  return [
    '-trace_err', '-error_file', path.join(dir, `${label}.errors.log`),
    '-trace_msg', '-message_file', path.join(dir, `${label}.messages.log`),
  ];
}

/** Start the named long-running sipp UASes and wait until each has bound its SIP port. */
async function startUas(names, { logsDir, scenarioDir }) {
  const list = names.map((name) => {
    const u = plan.uas[name];
    if (!u) throw new Error(`unknown sipp UAS '${name}'`);
    return { name, ...u };
  });
  const taken = portsInUse({ udp: list.flatMap((u) => { const a = sippAuxPorts(u.port); return [u.port, a.mp, a.mp + 2, a.cp]; }) });
  if (taken.length) {
    throw new Error(`ports needed by the sipp UASes are already in use: ${taken.join(', ')} ` +
      '(a leftover sipp from an earlier run? check `ss -ulpn`)');
  }
  const recs = list.map((u) => {
    const { mp, cp } = sippAuxPorts(u.port);
    const args = [
      '-sf', path.join(scenarioDir, u.scenario),
      '-i', HOST, '-p', String(u.port), '-mp', String(mp), '-cp', String(cp),
      '-nostdin',
      ...sippTraceArgs(logsDir, u.name),
    ];
    return spawnGroup(u.name, 'sipp', args, { cwd: logsDir, logFile: path.join(logsDir, 'sipp', `${u.name}.stderr.log`), stdoutToLog: false });
  });
  await Promise.all(list.map((u, i) => waitUdpBound(u.port, { timeoutMs: 5000, rec: recs[i] })));
}

/** Processes started here that have died (for health reports between test files). */
function deadProcesses() {
  return [...procs.values()].filter((r) => r.exited).map((r) => ({ name: r.name, why: describeExit(r), logFile: r.logFile }));
}

function defaultLogsDir() {
  return process.env.SRF_LOOPBACK_LOGS || path.join(process.cwd(), 'loopback-logs');
}

/** Everything the docker testbed provided (used by the replacement docker_start.js). */
async function startAll({ logsDir = defaultLogsDir(), scenarioDir = path.join(__dirname, '..', 'scenarios') } = {}) {
  fs.mkdirSync(logsDir, { recursive: true });
  process.once('exit', killAllSync);
  await startEngines(['sut', 'uas'], { logsDir });
  await startUas(Object.keys(plan.uas), { logsDir, scenarioDir });
}

module.exports = {
  HOST,
  plan,
  sippAuxPorts,
  sippTraceArgs,
  findRepoRoot,
  externalEngines,
  engineCommand,
  engineArgs,
  startEngines,
  startUas,
  startAll,
  stopAll,
  killAllSync,
  deadProcesses,
  defaultLogsDir,
  portsInUse,
  tail,
};
