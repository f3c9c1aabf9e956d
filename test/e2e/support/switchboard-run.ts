/**
 * `npm start` for end-to-end tests: `npx tsx src/main.ts` as a child process in its own process
 * group, on free loopback ports and a temp data directory, with its JSON log lines parsed. The
 * caller stops it with SIGTERM ({@link stopRun}) and must call {@link killRun} in `afterAll`, so
 * nothing outlives a failing test.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));

export interface LogLine {
  name?: string;
  pid?: number;
  msg?: string;
  [key: string]: unknown;
}

/** A port free for both TCP and UDP on `address` (SIP listens on both). */
export async function freePort(address = '127.0.0.1'): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await new Promise<number>((resolve, reject) => {
      const srv = createServer();
      srv.once('error', reject);
      srv.listen(0, address, () => {
        const addr = srv.address();
        srv.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
      });
    });
    const udpFree = await new Promise<boolean>((resolve) => {
      const sock = createSocket('udp4');
      sock.once('error', () => resolve(false));
      sock.bind(port, address, () => sock.close(() => resolve(true)));
    });
    if (udpFree) return port;
  }
  throw new Error('no free port');
}

/** The environment without any SWITCHBOARD_/DRACHTIO_ variable of the caller's, plus `own`. */
export function cleanEnv(own: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('SWITCHBOARD_') && !k.startsWith('DRACHTIO_')) env[k] = v;
  return { ...env, ...own };
}

export interface Run {
  child: ChildProcess;
  lines: LogLine[];
  readonly output: string;
  waitForLog(pred: (l: LogLine) => boolean, ms: number): Promise<LogLine>;
}

export function launch(env: NodeJS.ProcessEnv): Run {
  const child = spawn('npx', ['tsx', 'src/main.ts'], { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const lines: LogLine[] = [];
  let output = '';
  let pending = '';
  child.stdout?.on('data', (buf: Buffer) => {
    output += buf.toString('utf8');
    pending += buf.toString('utf8');
    const parts = pending.split('\n');
    pending = parts.pop() ?? '';
    for (const p of parts) {
      try {
        lines.push(JSON.parse(p) as LogLine);
      } catch {
        // not a log line
      }
    }
  });
  child.stderr?.on('data', (buf: Buffer) => {
    output += buf.toString('utf8');
  });
  const waitForLog = (pred: (l: LogLine) => boolean, ms: number): Promise<LogLine> =>
    new Promise((resolve, reject) => {
      const found = lines.find(pred);
      if (found) return resolve(found);
      const timer = setTimeout(() => {
        child.stdout?.off('data', check);
        reject(new Error(`log line not seen within ${ms} ms; output so far:\n${output}`));
      }, ms);
      const check = (): void => {
        const hit = lines.find(pred);
        if (!hit) return;
        clearTimeout(timer);
        child.stdout?.off('data', check);
        resolve(hit);
      };
      child.stdout?.on('data', check);
    });
  return {
    child,
    lines,
    get output() {
      return output;
    },
    waitForLog,
  };
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Kills a run's process group and its engine (its own group) if still running. */
export function killRun(run: Run | undefined): void {
  if (!run) return;
  if (run.child.pid && run.child.exitCode === null) {
    try {
      process.kill(-run.child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  for (const l of run.lines) if (l.name === 'engine' && l.pid && isAlive(l.pid)) process.kill(l.pid, 'SIGKILL');
  // rtpengine dies with main (its death watch), but a failing test must not depend on it.
  for (const l of run.lines) if (typeof l.rtpenginePid === 'number' && isAlive(l.rtpenginePid)) process.kill(l.rtpenginePid, 'SIGKILL');
}

/** SIGTERM to the node process running main.ts (npx does not forward signals); its exit code. */
export async function stopRun(run: Run): Promise<number | null | 'timeout'> {
  const mainPid = run.lines.find((l) => l.name === 'switchboard' && typeof l.pid === 'number')?.pid;
  if (mainPid === undefined || run.child.exitCode !== null) return run.child.exitCode;
  const exited = new Promise<number | null>((resolve) => run.child.once('exit', (code) => resolve(code)));
  process.kill(mainPid, 'SIGTERM');
  return Promise.race([exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 10_000))]);
}

/**
 * What every `npm start` e2e suite sets up first: free SIP and HTTP ports on loopback, a temp data
 * directory, and the environment of a loopback-only start with a known bootstrap key (first start)
 * and an OS-chosen engine admin port. `extra` adds or overrides variables.
 */
export async function loopbackStart(name: string, bootstrapKey: string, extra: Record<string, string> = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), `switchboard-e2e-${name}-`));
  const sipPort = await freePort();
  let httpPort: number;
  do httpPort = await freePort();
  while (httpPort === sipPort);
  const env = cleanEnv({
    SWITCHBOARD_SIP_PORT: String(sipPort),
    SWITCHBOARD_SIP_ADDRESS: '127.0.0.1',
    SWITCHBOARD_ENGINE_ADMIN_PORT: '0',
    SWITCHBOARD_HTTP_PORT: String(httpPort),
    SWITCHBOARD_HTTP_ADDRESS: '127.0.0.1',
    SWITCHBOARD_BOOTSTRAP_API_KEY: bootstrapKey,
    SWITCHBOARD_DATA_DIR: dataDir,
    SWITCHBOARD_LOG_LEVEL: 'info',
    ...extra,
  });
  return { dataDir, sipPort, httpPort, env };
}
