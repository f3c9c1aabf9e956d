/**
 * Issue 4's release guarantee across a crash: Switchboard is killed with SIGKILL while rtpengine
 * (an external one, RTPENGINE_NG) holds a session of this instance; the next start deletes it and
 * leaves another instance's session alone. Loopback only; every process is stopped in afterAll.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalRtpengine, type LocalRtpengine } from '../../src/media/rtpengine/local-rtpengine.js';
import { createNgClient } from '../../src/media/rtpengine/ng-client.js';
import { RtpengineAnchor } from '../../src/media/rtpengine/rtpengine-anchor.js';
import { cleanEnv, freePort, killRun, launch, stopRun, type Run } from './support/switchboard-run.js';

const binary = execFileSync('sh', ['-c', 'command -v rtpengine || true']).toString().trim() || 'rtpengine';
const log = pino({ level: 'silent' });
const sdp = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n';

describe('media sessions after a crash (RTPENGINE_NG)', () => {
  let rtpengine: LocalRtpengine;
  let dataDir: string;
  let first: Run | undefined;
  let second: Run | undefined;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    const portMin = 40_000 + 100 * Math.floor(Math.random() * 150);
    rtpengine = await startLocalRtpengine({ binary, ngPort: 0, portMin, portMax: portMin + 99, interface: '127.0.0.1', log });
    dataDir = mkdtempSync(join(tmpdir(), 'switchboard-e2e-media-'));
    env = cleanEnv({
      RTPENGINE_NG: `${rtpengine.ng.host}:${rtpengine.ng.port}`,
      SWITCHBOARD_DATA_DIR: dataDir,
      SWITCHBOARD_SIP_ADDRESS: '127.0.0.1',
      SWITCHBOARD_SIP_PORT: String(await freePort()),
      SWITCHBOARD_HTTP_ADDRESS: '127.0.0.1',
      SWITCHBOARD_HTTP_PORT: '0',
      SWITCHBOARD_ENGINE_ADMIN_PORT: '0',
    });
  });

  afterAll(async () => {
    killRun(first);
    killRun(second);
    await rtpengine?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('deletes the sessions a killed run left in rtpengine at the next start, and only those', async () => {
    first = launch(env);
    await first.waitForLog((l) => l.msg === 'switchboard ready', 45_000);
    expect(first.output).toContain(`Media   through rtpengine at 127.0.0.1:${rtpengine.ng.port} (RTPENGINE_NG)`);

    // A call of this instance is up (same owner tag as the PBX), and one of another instance.
    const instanceId = readFileSync(join(dataDir, 'instance-id'), 'utf8').trim();
    const mine = new RtpengineAnchor({ client: createNgClient(rtpengine.ng), ownerTag: `sb-${instanceId}-`, log });
    const other = new RtpengineAnchor({ client: createNgClient(rtpengine.ng), ownerTag: 'sb-someoneelse-', log });
    try {
      await mine.offer({ callId: 'in-progress', fromTag: 'a', sdp });
      await other.offer({ callId: 'theirs', fromTag: 'a', sdp });

      killRun(first); // SIGKILL: no chance to release anything
      await new Promise((r) => first?.child.once('exit', r));
      await expect(mine.list()).resolves.toEqual(['in-progress']);

      second = launch(env);
      const swept = await second.waitForLog((l) => l.msg === 'deleted media sessions left in rtpengine by a previous run', 45_000);
      expect(swept.count).toBe(1);
      await second.waitForLog((l) => l.msg === 'switchboard ready', 45_000);
      await expect(mine.list()).resolves.toEqual([]);
      await expect(other.list()).resolves.toEqual(['theirs']);
      expect(await stopRun(second)).toBe(0);
    } finally {
      mine.close();
      other.close();
    }
  }, 120_000);
});
