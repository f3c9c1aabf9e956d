/**
 * `npm start` end to end: the real composition root (engine child process + drachtio-srf app)
 * answers SIP OPTIONS over UDP and TCP, and stops cleanly on SIGTERM without leaving processes.
 * Loopback only.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

interface LogLine {
  name?: string;
  pid?: number;
  msg?: string;
  [key: string]: unknown;
}

/** A port free for both TCP and UDP on 127.0.0.1 (SIP listens on both). */
async function freeSipPort(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await new Promise<number>((resolve, reject) => {
      const srv = createServer();
      srv.once('error', reject);
      srv.listen(0, '127.0.0.1', () => {
        const addr = srv.address();
        srv.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
      });
    });
    const udpFree = await new Promise<boolean>((resolve) => {
      const sock = createSocket('udp4');
      sock.once('error', () => resolve(false));
      sock.bind(port, '127.0.0.1', () => sock.close(() => resolve(true)));
    });
    if (udpFree) return port;
  }
  throw new Error('no free port');
}

function optionsRequest(port: number, transport: 'UDP' | 'TCP', localPort: number, callId: string): string {
  return [
    `OPTIONS sip:127.0.0.1:${port} SIP/2.0`,
    `Via: SIP/2.0/${transport} 127.0.0.1:${localPort};branch=z9hG4bK-${callId};rport`,
    'Max-Forwards: 70',
    `From: <sip:probe@127.0.0.1>;tag=${callId}`,
    `To: <sip:127.0.0.1:${port}>`,
    `Call-ID: ${callId}`,
    'CSeq: 1 OPTIONS',
    `Contact: <sip:probe@127.0.0.1:${localPort};transport=${transport.toLowerCase()}>`,
    'Accept: application/sdp',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

/** The first final response (≥ 200) in `text`, or undefined while incomplete. */
function finalResponse(text: string): string | undefined {
  for (const msg of text.split(/(?=SIP\/2\.0 \d{3} )/)) {
    const head = msg.split('\r\n\r\n')[0] ?? '';
    if (!msg.includes('\r\n\r\n')) continue;
    const status = Number(/^SIP\/2\.0 (\d{3})/.exec(head)?.[1]);
    if (status >= 200) return head;
  }
  return undefined;
}

function optionsOverUdp(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = createSocket('udp4');
    const timer = setTimeout(() => {
      sock.close();
      reject(new Error('no UDP response'));
    }, 5000);
    let received = '';
    sock.on('message', (buf) => {
      received += buf.toString('utf8');
      const res = finalResponse(received);
      if (res) {
        clearTimeout(timer);
        sock.close();
        resolve(res);
      }
    });
    sock.bind(0, '127.0.0.1', () => {
      sock.send(optionsRequest(port, 'UDP', sock.address().port, `udp-${Date.now()}`), port, '127.0.0.1');
    });
  });
}

function optionsOverTcp(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1');
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error('no TCP response'));
    }, 5000);
    let received = '';
    sock.on('error', reject);
    sock.on('connect', () => sock.write(optionsRequest(port, 'TCP', sock.localPort ?? 0, `tcp-${Date.now()}`)));
    sock.on('data', (buf) => {
      received += buf.toString('utf8');
      const res = finalResponse(received);
      if (res) {
        clearTimeout(timer);
        sock.end();
        resolve(res);
      }
    });
  });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('npm start', () => {
  let child: ChildProcess;
  let sipPort: number;
  let dataDir: string;
  const lines: LogLine[] = [];
  let output = '';

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

  beforeAll(async () => {
    sipPort = await freeSipPort();
    dataDir = mkdtempSync(join(tmpdir(), 'switchboard-e2e-'));
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) {
      if (!k.startsWith('SWITCHBOARD_') && !k.startsWith('DRACHTIO_')) env[k] = v;
    }
    Object.assign(env, {
      SWITCHBOARD_SIP_PORT: String(sipPort),
      SWITCHBOARD_SIP_ADDRESS: '127.0.0.1',
      // 0: the OS picks a free admin port and the engine reports it to main.
      SWITCHBOARD_ENGINE_ADMIN_PORT: '0',
      SWITCHBOARD_DATA_DIR: dataDir,
      SWITCHBOARD_LOG_LEVEL: 'info',
    });
    // Its own process group, so cleanup can reach every process it started if a test fails.
    child = spawn('npx', ['tsx', 'src/main.ts'], { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let pending = '';
    // Both handlers are added before any 'data' listener of waitForLog, so lines are parsed first.
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
  }, 30_000);

  afterAll(() => {
    if (child.pid && child.exitCode === null) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    for (const l of lines) if (l.name === 'engine' && l.pid && isAlive(l.pid)) process.kill(l.pid, 'SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('starts the engine and connects the app', async () => {
    const connected = await waitForLog((l) => l.msg === 'app connected to the SIP engine', 45_000);
    expect(connected.hostports).toEqual([`udp/127.0.0.1:${sipPort}`, `tcp/127.0.0.1:${sipPort}`]);
    expect(lines.some((l) => l.name === 'engine' && l.msg === 'engine listening')).toBe(true);
    // The per-start secret never shows in the logs.
    expect(output).not.toMatch(/"secret"/);
  }, 60_000);

  it('answers OPTIONS with 200 over UDP', async () => {
    const res = await optionsOverUdp(sipPort);
    expect(res).toMatch(/^SIP\/2\.0 200 /);
    expect(res).toMatch(/^Allow: .*OPTIONS/im);
    expect(res).toMatch(/^Accept: application\/sdp/im);
    expect(res).toMatch(/^Supported:/im);
  });

  it('answers OPTIONS with 200 over TCP', async () => {
    const res = await optionsOverTcp(sipPort);
    expect(res).toMatch(/^SIP\/2\.0 200 /);
    expect(res).toMatch(/^Allow: .*OPTIONS/im);
  });

  it('prints the banner with the SIP port', () => {
    expect(output).toContain('Switchboard is running');
    expect(output).toContain(`udp/127.0.0.1:${sipPort}`);
  });

  it('stops on SIGTERM with exit code 0 and leaves no process behind', async () => {
    const mainPid = lines.find((l) => l.name === 'switchboard' && typeof l.pid === 'number')?.pid;
    const enginePid = lines.find((l) => l.name === 'engine' && typeof l.pid === 'number')?.pid;
    expect(mainPid).toBeTypeOf('number');
    expect(enginePid).toBeTypeOf('number');
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    // SIGTERM to the node process running main.ts, as systemd or Docker would deliver it. (npx
    // itself does not forward signals to its child; `npm start` does.)
    process.kill(mainPid!, 'SIGTERM');
    const started = Date.now();
    const code = await Promise.race([exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 5000))]);
    expect(code).toBe(0);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(lines.some((l) => l.msg === 'stopped' && l.code === 0)).toBe(true);
    expect(isAlive(mainPid!)).toBe(false);
    expect(isAlive(enginePid!)).toBe(false);
    // Nothing else in the process group either (tsx's esbuild helper may take a moment to follow).
    const groupEmpty = async (): Promise<boolean> => {
      for (let i = 0; i < 40; i++) {
        if (!isAlive(-child.pid!)) return true;
        await new Promise((r) => setTimeout(r, 50));
      }
      return false;
    };
    expect(await groupEmpty()).toBe(true);
  }, 15_000);
});
