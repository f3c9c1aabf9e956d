import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { createSocket } from 'node:dgram';
import type { AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import type { Logger } from '../../obs/logger.js';
import { createNgClient } from './ng-client.js';
import { deathWatchScript, rtpengineArgs } from './rtpengine-args.js';

export interface LocalRtpengineOptions {
  /** Path or name (looked up on PATH) of the rtpengine binary. */
  binary: string;
  /** ng control port on 127.0.0.1; 0 picks a free one, kept across restarts. */
  ngPort: number;
  portMin: number;
  portMax: number;
  /** rtpengine's `--interface`: the address RTP binds to and the rewritten SDP advertises. */
  interface: string;
  log: Logger;
  logLevel?: number;
  /** How long one start may take to answer `ping`. */
  readyTimeoutMs?: number;
  /** How long rtpengine gets to exit after SIGTERM before SIGKILL. */
  stopTimeoutMs?: number;
  /** First restart delay, doubled per failed start up to `maxBackoffMs`. */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
}

/** A supervised rtpengine child: restarted with backoff when it dies, stopped with us. */
export interface LocalRtpengine {
  /** Where its ng socket listens; the same across restarts, so clients keep working. */
  readonly ng: { readonly host: string; readonly port: number };
  /** The rtpengine process id now (undefined between a death and the restart). */
  readonly pid: number | undefined;
  /** How many times it was restarted after dying. */
  readonly restarts: number;
  /** True while a started rtpengine runs (it may still be starting after a restart). */
  isRunning(): boolean;
  /** Stop supervising, SIGTERM rtpengine, SIGKILL it after the stop timeout. */
  stop(): Promise<void>;
}

type Child = ChildProcessByStdio<Writable, Readable, Readable>;

/** Runs after this long count as stable: the next death restarts after the initial delay again. */
const stableAfterMs = 30_000;
/** stderr lines kept to say why rtpengine exited. */
const tailLines = 20;

/**
 * Start rtpengine in userspace mode with its own ports and wait until it answers ng `ping`.
 * Rejects when the first start fails (binary missing, port taken…), with rtpengine's last log lines.
 */
export async function startLocalRtpengine(opts: LocalRtpengineOptions): Promise<LocalRtpengine> {
  const log = opts.log;
  const readyTimeoutMs = opts.readyTimeoutMs ?? 10_000;
  const stopTimeoutMs = opts.stopTimeoutMs ?? 3_000;
  const initialBackoffMs = opts.initialBackoffMs ?? 250;
  const maxBackoffMs = opts.maxBackoffMs ?? 10_000;
  const ng = { host: '127.0.0.1', port: opts.ngPort === 0 ? await freeUdpPort() : opts.ngPort };
  const args = rtpengineArgs({ interface: opts.interface, ngPort: ng.port, portMin: opts.portMin, portMax: opts.portMax, logLevel: opts.logLevel });

  let child: Child | undefined;
  let pid: number | undefined;
  let restarts = 0;
  let backoffMs = initialBackoffMs;
  let stopping = false;
  let restartTimer: NodeJS.Timeout | undefined;
  let tail: string[] = [];

  const spawnOnce = async (): Promise<Child> => {
    // rtpengine binds its ng socket with SO_REUSEPORT, so a second one on a taken port starts
    // "fine" and the ping is answered by whoever held the port first. Check first.
    await assertUdpPortFree(ng.host, ng.port);
    tail = [];
    pid = undefined;
    // Its own process group: a terminal's Ctrl-C reaches us alone, and we delete our sessions
    // before rtpengine goes; SIGKILL on stop reaches the shell, rtpengine and the watcher at once.
    const c = spawn('/bin/sh', ['-c', deathWatchScript, 'rtpengine-supervised', opts.binary, ...args], { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    createInterface({ input: c.stdout }).on('line', (line) => {
      const m = /^pid (\d+)$/.exec(line);
      if (m) pid = Number(m[1]);
    });
    createInterface({ input: c.stderr }).on('line', (line) => {
      tail = [...tail.slice(1 - tailLines), line];
      // rtpengine's own levels: keep its warnings and errors visible at our default level.
      if (/\b(ERR|CRIT|ALERT|EMERG|WARNING)\b/.test(line)) log.warn({ rtpengine: line }, 'rtpengine');
      else log.debug({ rtpengine: line }, 'rtpengine');
    });
    // stdin is the death-watch pipe; an EPIPE on it only means the shell is gone, which 'exit' reports.
    c.stdin.on('error', () => {});
    return c;
  };

  /** Ping until pong, the child exits, or the ready timeout passes. */
  const waitReady = async (c: Child): Promise<void> => {
    const client = createNgClient({ ...ng, timeoutMs: 250 });
    const deadline = Date.now() + readyTimeoutMs;
    try {
      for (;;) {
        if (c.exitCode !== null || c.signalCode !== null) throw new Error(`rtpengine exited during start (${exitText(c.exitCode, c.signalCode)})${tailText(tail)}`);
        if (Date.now() > deadline) throw new Error(`rtpengine did not answer ng ping on ${ng.host}:${ng.port} within ${readyTimeoutMs / 1000} s${tailText(tail)}`);
        const ok = await client.send('ping').then((r) => r.result === 'pong', () => false);
        if (ok) return;
        await sleep(100);
      }
    } finally {
      client.close();
    }
  };

  const supervise = (c: Child): void => {
    const startedAt = Date.now();
    c.once('exit', (code, signal) => {
      if (child === c) child = undefined;
      pid = undefined;
      if (stopping) return;
      if (Date.now() - startedAt >= stableAfterMs) backoffMs = initialBackoffMs;
      log.error({ code, signal, why: tail.slice(-5), restartInMs: backoffMs }, `rtpengine exited (${exitText(code, signal)}); restarting it`);
      restartTimer = setTimeout(() => void restart(), backoffMs);
      backoffMs = Math.min(backoffMs * 2, maxBackoffMs);
    });
  };

  const restart = async (): Promise<void> => {
    restartTimer = undefined;
    if (stopping) return;
    restarts += 1;
    let c: Child;
    try {
      c = await spawnOnce();
    } catch (err) {
      log.error({ err, restartInMs: backoffMs }, 'rtpengine restart failed');
      restartTimer = setTimeout(() => void restart(), backoffMs);
      backoffMs = Math.min(backoffMs * 2, maxBackoffMs);
      return;
    }
    if (stopping) {
      // stop() came while the port was being checked: end this one at once (the death watch).
      c.stdin.end();
      return;
    }
    child = c;
    supervise(c);
    try {
      await waitReady(c);
      log.info({ rtpenginePid: pid, ng, restarts }, 'rtpengine restarted and answers ping');
    } catch (err) {
      // The exit handler schedules the next attempt; a hung start is killed so that it exits.
      log.error({ err }, 'rtpengine restart failed');
      if (c.exitCode === null && c.signalCode === null) killGroup(c, 'SIGKILL');
    }
  };

  const first = await spawnOnce();
  try {
    await waitReady(first);
  } catch (err) {
    killGroup(first, 'SIGKILL');
    throw err;
  }
  child = first;
  supervise(first);
  log.info({ rtpenginePid: pid, ng, interface: opts.interface, ports: `${opts.portMin}-${opts.portMax}` }, 'rtpengine started');

  return {
    ng,
    get pid() {
      return pid;
    },
    get restarts() {
      return restarts;
    },
    isRunning: () => child !== undefined,
    stop: async () => {
      stopping = true;
      if (restartTimer) clearTimeout(restartTimer);
      const c = child;
      if (!c || c.exitCode !== null || c.signalCode !== null) return;
      await new Promise<void>((resolve) => {
        const force = setTimeout(() => killGroup(c, 'SIGKILL'), stopTimeoutMs);
        c.once('exit', () => {
          clearTimeout(force);
          resolve();
        });
        // Closing the pipe makes the watcher send rtpengine SIGTERM (see deathWatchScript).
        c.stdin.end();
      });
    },
  };
}

function killGroup(c: Child, signal: NodeJS.Signals): void {
  try {
    if (c.pid !== undefined) process.kill(-c.pid, signal);
  } catch {
    // Already gone.
  }
}

function exitText(code: number | null, signal: NodeJS.Signals | null): string {
  if (signal) return `signal ${signal}`;
  if (code !== null && code > 128) return `code ${code}, killed by signal ${code - 128}`;
  return `code ${code}`;
}

function tailText(lines: string[]): string {
  return lines.length === 0 ? '' : `; its last log lines:\n  ${lines.slice(-5).join('\n  ')}`;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function assertUdpPortFree(host: string, port: number): Promise<void> {
  const s = createSocket('udp4');
  try {
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.bind(port, host, resolve);
    });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(`the rtpengine ng port ${host}:${port} is in use${code === 'EADDRINUSE' ? ' (another rtpengine?)' : ` (${code ?? String(err)})`}`, { cause: err });
  } finally {
    s.close();
  }
}

/** A UDP port free on loopback right now (the OS picks it; a race with another binder is unlikely). */
async function freeUdpPort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}
