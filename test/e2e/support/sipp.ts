/**
 * Run one bounded SIPp scenario (test/e2e/sipp/) against Switchboard: `-m` calls, a global
 * `-timeout`, and a hard kill after `killAfterMs`, so a hung scenario cannot hang the suite.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, repoRoot } from './switchboard-run.js';

export interface SippResult {
  /** 0: every call succeeded; 1: some failed; others: SIPp errors (see `output`). */
  code: number | null;
  successful: number;
  failed: number;
  output: string;
}

export interface SippRun {
  scenario: string;
  target: string;
  /** Local address to bind (another loopback address is "another source"). */
  localAddress?: string;
  calls: number;
  /** Injection file lines after the SEQUENTIAL header: `user;password;[authentication …]`. */
  users?: string[];
  rate?: number;
  killAfterMs?: number;
  /** Local port to bind (a UAS on the port a phone registered from); a free one otherwise. */
  localPort?: number;
  /** Write the scenario's <log> actions (`-trace_logs`); they end up in `output`. */
  traceLogs?: boolean;
  /** The user part of the Request-URI ([service]) of a UAC scenario. */
  service?: string;
  /**
   * The RTP port ([media_port], `-mp`; SIPp also binds it + 2). Without it SIPp takes 6000, which
   * parallel runs share. With it the media address is `localAddress` too (SIPp's default is the
   * host's primary address, not loopback).
   */
  mediaPort?: number;
  /** Send every RTP packet received on `mediaPort` back to its sender (`-rtp_echo`). */
  rtpEcho?: boolean;
}

/** An injection line for {@link SippRun.users} (SIPp expands a keyword held in a field, not fields inside one). */
export const userLine = (user: string, password: string): string => `${user};${password};[authentication username=${user} password=${password}]`;

export async function runSipp(o: SippRun): Promise<SippResult> {
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-sipp-'));
  try {
    // An explicit free port: without -p SIPp tries 5060 first, which may be another test's.
    const local = o.localAddress ?? '127.0.0.1';
    const args = [o.target, '-sf', join(repoRoot, 'test/e2e/sipp', o.scenario), '-i', local, '-p', String(o.localPort ?? (await freePort(local))),
      '-m', String(o.calls), '-r', String(o.rate ?? 10), '-timeout', '20s', '-recv_timeout', '5000', '-nostdin', '-trace_stat', '-stf', join(dir, 'stat.csv'), '-trace_err', '-error_file', join(dir, 'err.log')];
    if (o.mediaPort !== undefined) args.push('-mi', local, '-mp', String(o.mediaPort));
    if (o.rtpEcho) args.push('-rtp_echo');
    if (o.service !== undefined) args.push('-s', o.service);
    if (o.traceLogs) args.push('-trace_logs');
    if (o.users) {
      writeFileSync(join(dir, 'users.csv'), ['SEQUENTIAL', ...o.users].join('\n') + '\n');
      args.push('-inf', join(dir, 'users.csv'));
    }
    const child = spawn('sipp', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (b: Buffer) => (output += b.toString()));
    child.stderr.on('data', (b: Buffer) => (output += b.toString()));
    const kill = setTimeout(() => child.kill('SIGKILL'), o.killAfterMs ?? 30_000);
    const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    clearTimeout(kill);
    const stat = readStat(join(dir, 'stat.csv'));
    for (const f of readdirSync(dir).filter((n) => n.endsWith('.log'))) output += `\n${f}:\n${readFileSync(join(dir, f), 'utf8').slice(0, 4000)}`;
    return { code, ...stat, output };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function readStat(file: string): { successful: number; failed: number } {
  try {
    const lines = readFileSync(file, 'utf8').split('\n').filter((l) => l.trim());
    const hdr = (lines[0] ?? '').split(';');
    const last = (lines.at(-1) ?? '').split(';');
    const n = (k: string): number => Number.parseInt(last[hdr.indexOf(k)] ?? '0', 10) || 0;
    return { successful: n('SuccessfulCall(C)'), failed: n('FailedCall(C)') };
  } catch {
    return { successful: 0, failed: 0 };
  }
}
