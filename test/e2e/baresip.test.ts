/**
 * Two real softphones (issue 4 acceptance): the real `npm start` with the rtpengine it starts, two
 * extensions created through the API, and two `baresip` processes that register with them and
 * call each other, each "speaking" its own tone (A 1000 Hz, B 2200 Hz, made with sox). Each side
 * must hear the other's tone and not its own: audio went through the PBX both ways. Then the CDR.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBaresip, type Baresip } from './support/baresip.js';
import { ngOf, relayedRtpPackets } from './support/rtp.js';
import { findTone, readWav } from './support/tone.js';
import { killRun, launch, loopbackStart, type Run } from './support/switchboard-run.js';

const bootstrapKey = `sk_live_${randomBytes(24).toString('hex')}`;
// rtpengine's RTP ports, and each phone's own (all disjoint from calls.test.ts's, which runs in parallel).
const RTP_MIN = 41450;
const RTP_MAX = 41499;
const A_RTP: [number, number] = [41420, 41434];
const B_RTP: [number, number] = [41435, 41449];
const TONE_A = 1000;
const TONE_B = 2200;
/** How long the call stays up once both sides say it is established. */
const TALK_MS = 3000;

describe('two baresip softphones call each other through the PBX', () => {
  let dataDir: string;
  let toneDir: string;
  let sipPort: number;
  let httpPort: number;
  let run: Run | undefined;
  const phones: Baresip[] = [];
  const api = (path: string, init: RequestInit = {}): Promise<Response> =>
    fetch(`http://127.0.0.1:${httpPort}/api/v1${path}`, { ...init, headers: { 'X-API-Key': bootstrapKey, 'Content-Type': 'application/json', ...init.headers } });
  const createExtension = async (number: string, name: string): Promise<string> => {
    const res = await api('/extensions', { method: 'POST', body: JSON.stringify({ number, display_name: name }) });
    expect(res.status, await res.clone().text()).toBe(201);
    return ((await res.json()) as { data: { sip_password: string } }).data.sip_password;
  };
  /** A tone longer than any call: baresip's file source ends the call when its file ends. */
  const tone = (freq: number): string => {
    const file = join(toneDir, `${freq}.wav`);
    execFileSync('sox', ['-n', '-r', '8000', '-c', '1', '-b', '16', '-e', 'signed-integer', file, 'synth', '20', 'sine', String(freq), 'vol', '0.5']);
    return file;
  };

  beforeAll(async () => {
    toneDir = mkdtempSync(join(tmpdir(), 'switchboard-e2e-tones-'));
    let env: NodeJS.ProcessEnv;
    ({ dataDir, sipPort, httpPort, env } = await loopbackStart('baresip', bootstrapKey, {
      SWITCHBOARD_MEDIA: 'rtpengine',
      SWITCHBOARD_RTP_PORT_MIN: String(RTP_MIN),
      SWITCHBOARD_RTP_PORT_MAX: String(RTP_MAX),
    }));
    run = launch(env);
    await run.waitForLog((l) => l.msg === 'switchboard ready', 60_000);
  }, 90_000);

  afterAll(() => {
    for (const p of phones) p.kill();
    killRun(run);
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(toneDir, { recursive: true, force: true });
  });

  it('A calls B, B answers: each hears the other’s tone, not its own; the CDR says answered', async () => {
    const registrar = `127.0.0.1:${sipPort}`;
    const a = await startBaresip({ name: 'a', registrar, user: '3001', password: await createExtension('3001', 'Alice'), microphone: tone(TONE_A), rtpPorts: A_RTP });
    phones.push(a);
    const b = await startBaresip({ name: 'b', registrar, user: '3002', password: await createExtension('3002', 'Bob'), microphone: tone(TONE_B), rtpPorts: B_RTP, autoAnswer: true });
    phones.push(b);
    await Promise.all([a.waitForEvent('REGISTER_OK', 5000), b.waitForEvent('REGISTER_OK', 5000)]);

    expect((await a.command('dial', `sip:3002@${registrar}`)).ok).toBe(true);
    await Promise.all([a.waitForEvent('CALL_ESTABLISHED', 10_000), b.waitForEvent('CALL_ESTABLISHED', 10_000)]);
    await new Promise((r) => setTimeout(r, TALK_MS));
    // The audio went through the PBX's rtpengine, not phone to phone: its counters, before the
    // hangup deletes the session. 20 ms packets: 150 each way in 3 s; most of them must be there.
    const relayed = await relayedRtpPackets(ngOf(run!.lines));
    expect(relayed.caller, JSON.stringify(relayed)).toBeGreaterThanOrEqual(100);
    expect(relayed.callee, JSON.stringify(relayed)).toBeGreaterThanOrEqual(100);
    expect((await a.command('hangup')).ok).toBe(true);
    // Closing the call closes the recordings (sndfile writes their final header).
    await Promise.all([a.waitForEvent('CALL_CLOSED', 5000), b.waitForEvent('CALL_CLOSED', 5000)]);

    for (const [phone, heard, own] of [[a, TONE_B, TONE_A], [b, TONE_A, TONE_B]] as const) {
      const files = phone.heardFiles();
      expect(files, phone.output).toHaveLength(1);
      const wav = readWav(files[0]!);
      const other = findTone(wav, heard);
      const self = findTone(wav, own);
      const report = `${files[0]}: ${heard} Hz ${JSON.stringify(other)}, own ${own} Hz ${JSON.stringify(self)}`;
      // At least 2 of the 3 s talked: the other side's tone, clean, for most of the call.
      expect(other.seconds, report).toBeGreaterThanOrEqual(2);
      expect(other.meanShare, report).toBeGreaterThan(0.8);
      // Its own tone would mean an echo or a loop, not the other phone.
      expect(self.seconds, report).toBe(0);
    }

    await expect
      .poll(async () => ((await (await api('/cdrs?limit=1')).json()) as { data: Array<Record<string, unknown>> }).data[0], { timeout: 5000 })
      .toMatchObject({ caller_number: '3001', callee_number: '3002', disposition: 'answered', sip_status: 200, hangup_cause: 'NORMAL_CLEARING' });
    const cdr = ((await (await api('/cdrs?limit=1')).json()) as { data: Array<{ billable_seconds: number; answered_at: string | null }> }).data[0];
    expect(cdr?.answered_at).not.toBeNull();
    expect(cdr?.billable_seconds).toBeGreaterThanOrEqual(2);
  }, 30_000);
});
