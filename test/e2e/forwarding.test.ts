/**
 * Forwarding, DND and feature codes end to end (issue 4 §3, §5): the real `npm start` with the
 * rtpengine it starts, extensions created and configured through the API, B and C registered by the
 * UDP client from 127.0.0.51 and 127.0.0.52 and then played by SIPp UASes on those same ports, A a
 * SIPp UAC that authenticates its INVITE. Each case ends with the CDR checked through
 * `GET /api/v1/cdrs`: the callee is the number A dialled, `answered_extension_id` who answered.
 * Qualify is off so no OPTIONS reaches a SIPp UAS, which expects only the call.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callPbx } from './support/call-pbx.js';
import { runSipp, userLine, type SippResult } from './support/sipp.js';
import { cleanEnv, freePort, killRun, launch } from './support/switchboard-run.js';

const RTP_MIN = 41600;
const RTP_MAX = 41699;
/** B's and C's loopback addresses (the address plan: support/call-pbx.ts). */
const B_ADDRESS = '127.0.0.51';
const C_ADDRESS = '127.0.0.52';

interface CdrRow {
  caller_number: string;
  callee_number: string;
  callee_extension_id: string | null;
  answered_extension_id: string | null;
  disposition: string;
  sip_status: number | null;
}

describe('forwarding, DND and feature codes end to end (npm start + rtpengine + SIPp)', () => {
  const pbx = callPbx('forwarding', { rtpMin: RTP_MIN, rtpMax: RTP_MAX, env: { SWITCHBOARD_CALL_RING_TIMEOUT_SECONDS: '15' } });
  const { api, target } = pbx;
  const ext = pbx.extensions;
  /** Each phone keeps its address and port across tests, so a test refreshes its binding instead of adding a dead one. */
  const phones: Record<string, { address: string; port: number }> = {};
  const patch = async (number: string, body: unknown): Promise<void> => {
    const res = await api(`/extensions/${ext[number]!.id}`, { method: 'PATCH', body: JSON.stringify(body) });
    expect(res.status, await res.clone().text()).toBe(200);
  };
  const getExt = async (number: string): Promise<{ dnd: boolean; forward: Record<string, unknown> }> =>
    ((await (await api(`/extensions/${ext[number]!.id}`)).json()) as { data: { dnd: boolean; forward: Record<string, unknown> } }).data;
  /** Registers `number` from its own loopback address and returns where its SIPp UAS must bind. */
  const register = async (number: string, address: string): Promise<{ address: string; port: number }> => {
    phones[number] ??= { address, port: await freePort(address) };
    const spot = phones[number];
    await pbx.registerFrom(number, spot.address, spot.port);
    return spot;
  };
  const uas = (scenario: string, spot: { address: string; port: number }) =>
    runSipp({ scenario, target: target(), localAddress: spot.address, localPort: spot.port, calls: 1, killAfterMs: 30_000 });
  const dial = (scenario: string, number: string) =>
    runSipp({ scenario, target: target(), calls: 1, service: number, users: [userLine('5001', ext['5001']!.password)], traceLogs: true, killAfterMs: 30_000 });
  // Long enough for a SIPp UAS to bind even on a loaded machine: an INVITE to an unbound port is lost.
  const settle = () => new Promise((r) => setTimeout(r, 1000));
  const diagnostics = (...runs: SippResult[]): string =>
    `${runs.map((r, i) => `--- sipp ${i}:\n${r.output}`).join('\n')}\n--- server:\n${pbx.serverLog(['calls', 'routing'])}`;
  const lastCdr = (): Promise<CdrRow | undefined> => pbx.lastCdr<CdrRow>();

  beforeAll(() => pbx.start({ '5001': 'Alice', '5002': 'Bob', '5003': 'Carol' }), 90_000);

  afterAll(() => pbx.close());

  it('forward on busy: B answers 486, the call goes to C, who answers; the CDR says answered by C', async () => {
    await patch('5002', { dnd: false, forward: { always: null, busy: '5003', no_answer: null } });
    const b = uas('uas-busy.xml', await register('5002', B_ADDRESS));
    const c = uas('uas-answer-then-expect-bye.xml', await register('5003', C_ADDRESS));
    await settle();
    const a = await dial('uac-invite-auth-then-answered-bye.xml', '5002');
    const [rb, rc] = await Promise.all([b, c]);
    expect(a.code, diagnostics(a, rb, rc)).toBe(0);
    expect(rb.code, rb.output).toBe(0);
    expect(rc.code, rc.output).toBe(0);
    await expect.poll(lastCdr, { timeout: 5000 }).toMatchObject({ caller_number: '5001', callee_number: '5002', callee_extension_id: ext['5002']!.id, answered_extension_id: ext['5003']!.id, disposition: 'answered', sip_status: 200 });
  }, 60_000);

  it('forward on no answer: B rings for no_answer_seconds and is CANCELled, then C answers', async () => {
    await patch('5002', { forward: { busy: null, no_answer: '5003', no_answer_seconds: 5 } });
    const b = uas('uas-ring-long-then-expect-cancel.xml', await register('5002', B_ADDRESS));
    const c = uas('uas-answer-then-expect-bye.xml', await register('5003', C_ADDRESS));
    await settle();
    const started = Date.now();
    const a = await dial('uac-invite-auth-then-answered-late-bye.xml', '5002');
    const [rb, rc] = await Promise.all([b, c]);
    expect(a.code, diagnostics(a, rb, rc)).toBe(0);
    expect(rb.code, rb.output).toBe(0);
    expect(rc.code, rc.output).toBe(0);
    // B's 5 s, then C and A's 1 s of call.
    expect(Date.now() - started).toBeGreaterThanOrEqual(5000);
    await expect.poll(lastCdr, { timeout: 5000 }).toMatchObject({ callee_number: '5002', answered_extension_id: ext['5003']!.id, disposition: 'answered' });
  }, 60_000);

  it('DND: A gets 486 without B ringing; the CDR says busy', async () => {
    await patch('5002', { dnd: true, forward: { busy: null, no_answer: null } });
    const a = await dial('uac-invite-auth-expect-486.xml', '5002');
    expect(a.code, diagnostics(a)).toBe(0);
    await expect.poll(lastCdr, { timeout: 5000 }).toMatchObject({ caller_number: '5001', callee_number: '5002', disposition: 'busy', sip_status: 486, answered_extension_id: null });
  }, 60_000);

  it('DND with forward on busy: C rings instead and answers', async () => {
    await patch('5002', { dnd: true, forward: { busy: '5003' } });
    const c = uas('uas-answer-then-expect-bye.xml', await register('5003', C_ADDRESS));
    await settle();
    const a = await dial('uac-invite-auth-then-answered-bye.xml', '5002');
    const rc = await c;
    expect(a.code, diagnostics(a, rc)).toBe(0);
    expect(rc.code, rc.output).toBe(0);
    await expect.poll(lastCdr, { timeout: 5000 }).toMatchObject({ callee_number: '5002', answered_extension_id: ext['5003']!.id, disposition: 'answered' });
  }, 60_000);

  it('feature codes from a phone: *78 turns A’s DND on (seen by the API), *79 off; each call is answered, hung up by the PBX and recorded', async () => {
    expect((await getExt('5001')).dnd).toBe(false);
    const on = await dial('uac-invite-auth-then-feature-bye.xml', '*78');
    expect(on.code, diagnostics(on)).toBe(0);
    // The answer declines media: port 0.
    expect(on.output).toMatch(/ANSWER_SDP m=0 /);
    expect((await getExt('5001')).dnd).toBe(true);
    await expect.poll(lastCdr, { timeout: 5000 }).toMatchObject({ caller_number: '5001', callee_number: '*78', disposition: 'answered' });
    const off = await dial('uac-invite-auth-then-feature-bye.xml', '*79');
    expect(off.code, diagnostics(off)).toBe(0);
    expect((await getExt('5001')).dnd).toBe(false);
    await expect.poll(lastCdr, { timeout: 5000 }).toMatchObject({ callee_number: '*79', disposition: 'answered' });
  }, 60_000);

  it('*72<number> sets forward always from the phone; a call to A then rings C; *73 clears it', async () => {
    const on = await dial('uac-invite-auth-then-feature-bye.xml', '*725003');
    expect(on.code, diagnostics(on)).toBe(0);
    expect((await getExt('5001')).forward).toMatchObject({ always: '5003' });
    const sim = await api('/routing/simulate', { method: 'POST', body: JSON.stringify({ from: '5002', to: '5001' }) });
    expect(((await sim.json()) as { data: { steps: Array<{ extension_numbers: string[] }> } }).data.steps[0]?.extension_numbers).toEqual(['5003']);
    const off = await dial('uac-invite-auth-then-feature-bye.xml', '*73');
    expect(off.code, diagnostics(off)).toBe(0);
    expect((await getExt('5001')).forward).toMatchObject({ always: null });
  }, 60_000);
});

describe('a dialplan that does not validate', () => {
  it('stops the start with exit code 2, naming the file, the JSON path and the fault', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'switchboard-e2e-dialplan-'));
    const file = join(dir, 'dialplan.json');
    writeFileSync(file, JSON.stringify({ version: 1, rules: [{ name: 'broken', match: '^[1-9', action: { type: 'local' } }] }));
    const run = launch(cleanEnv({ SWITCHBOARD_DIALPLAN: file, SWITCHBOARD_DATA_DIR: join(dir, 'data'), SWITCHBOARD_SIP_PORT: String(await freePort()), SWITCHBOARD_HTTP_PORT: '0', SWITCHBOARD_ENGINE_ADMIN_PORT: '0' }));
    try {
      const code = await new Promise<number | null>((resolve) => run.child.once('exit', (c) => resolve(c)));
      expect(code, run.output).toBe(2);
      expect(run.output).toContain(`switchboard: invalid dialplan ${file}:`);
      expect(run.output).toMatch(/rules\[0\]\.match: not a valid regular expression/);
      // Before anything started: no engine.
      expect(run.lines.some((l) => l.name === 'engine')).toBe(false);
    } finally {
      killRun(run);
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
