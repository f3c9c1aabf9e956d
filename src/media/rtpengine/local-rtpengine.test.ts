import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { startLocalRtpengine, type LocalRtpengine } from './local-rtpengine.js';

const fakeBinary = fileURLToPath(new URL('../../../test/support/fake-rtpengine-bin.mjs', import.meta.url));

interface Line {
  level: number;
  msg: string;
  restartInMs?: number;
  why?: string[];
}

function capture(): { log: pino.Logger; lines: Line[] } {
  const lines: Line[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(JSON.parse(chunk.toString()) as Line);
      done();
    },
  });
  return { log: pino({ level: 'debug' }, sink), lines };
}

async function until(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('startLocalRtpengine supervision (with a fake rtpengine binary)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sb-fake-rtpengine-'));
  const planFile = join(dir, 'plan.json');
  let running: LocalRtpengine | undefined;
  afterEach(async () => {
    await running?.stop();
    running = undefined;
    delete process.env.FAKE_RTPENGINE_PLAN;
    rmSync(planFile, { force: true });
  });

  it('restarts a dead rtpengine with doubling delays, logging why each start died', async () => {
    writeFileSync(planFile, JSON.stringify(['serve', 'crash', 'crash', 'serve']));
    process.env.FAKE_RTPENGINE_PLAN = planFile;
    const { log, lines } = capture();
    running = await startLocalRtpengine({ binary: fakeBinary, ngPort: 0, portMin: 40000, portMax: 40099, interface: '127.0.0.1', log, initialBackoffMs: 20 });
    const firstPid = running.pid as number;
    process.kill(firstPid, 'SIGKILL');
    await until(() => lines.some((l) => l.msg === 'rtpengine restarted and answers ping'));
    expect(running.restarts).toBe(3);
    const exits = lines.filter((l) => l.msg.startsWith('rtpengine exited'));
    expect(exits.map((l) => l.restartInMs)).toEqual([20, 40, 80]);
    expect(exits[0]?.msg).toMatch(/killed by signal 9/);
    expect(exits[1]?.msg).toMatch(/code 1\b/);
    expect(exits[1]?.why?.join('\n')).toMatch(/fake failure/);
    // Its error lines are relayed at warn level, the rest at debug.
    expect(lines.some((l) => l.level === 40 && l.msg === 'rtpengine')).toBe(true);
    expect(running.isRunning()).toBe(true);
    expect(running.pid).not.toBe(firstPid);
  });

  it('does not restart after stop()', async () => {
    writeFileSync(planFile, JSON.stringify(['serve', 'serve']));
    process.env.FAKE_RTPENGINE_PLAN = planFile;
    const { log, lines } = capture();
    running = await startLocalRtpengine({ binary: fakeBinary, ngPort: 0, portMin: 40000, portMax: 40099, interface: '127.0.0.1', log, initialBackoffMs: 10 });
    await running.stop();
    await new Promise((r) => setTimeout(r, 100));
    expect(running.isRunning()).toBe(false);
    expect(running.restarts).toBe(0);
    expect(lines.some((l) => l.msg.startsWith('rtpengine exited'))).toBe(false);
  });
});
