/**
 * Calls end to end (issue 4 first steps): the real `npm start` with the rtpengine it starts
 * (rtpengine-daemon is installed by `npm test`), two extensions created through the API, B
 * registered from 127.0.0.11 by the UDP client and then answered by a SIPp UAS bound on that same
 * address and port, A a SIPp UAC that authenticates its INVITE (407) and calls B. Each outcome ends
 * with the CDR checked through `GET /api/v1/cdrs`. The answered call carries audio both ways (A
 * plays SIPp's G.711 recording, B echoes it) and rtpengine's own counters must show both. Qualify is off so
 * no OPTIONS reaches the SIPp UAS, which expects only the call.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callPbx } from './support/call-pbx.js';
import { freeRtpPort, ngOf, relayedRtpPackets } from './support/rtp.js';
import { runSipp, userLine, type SippResult, type SippRun } from './support/sipp.js';
import { freePort, killRun } from './support/switchboard-run.js';

const RTP_MIN = 41200;
const RTP_MAX = 41299;
/** B's loopback address, and those of B's two phones (the address plan: support/call-pbx.ts). */
const B_ADDRESS = '127.0.0.11';
const TWO_PHONES = ['127.0.0.12', '127.0.0.13'];
// The SIPp ends' own RTP ports: a range of their own, clear of rtpengine's and of other suites'.
const PHONE_RTP_MIN = 41400;
const PHONE_RTP_MAX = 41419; // 41420-41449: the baresip phones of baresip.test.ts
/** Packets in SIPp's G.711 recording (/usr/share/sip-tester/g711a.pcap, 30 ms each, 7.05 s). */
const RECORDING_PACKETS = 236;

interface CdrRow {
  caller_number: string;
  caller_name: string | null;
  callee_number: string;
  disposition: string;
  sip_status: number | null;
  hangup_cause: string;
  answered_at: string | null;
  billable_seconds: number;
}

describe('calls end to end (npm start + rtpengine + SIPp)', () => {
  // Short ring timeout, for the no-answer case; every other case answers or cancels at once.
  const pbx = callPbx('calls', { rtpMin: RTP_MIN, rtpMax: RTP_MAX, env: { SWITCHBOARD_CALL_RING_TIMEOUT_SECONDS: '3' } });
  const { target } = pbx;
  const ext = pbx.extensions;
  /**
   * Register `number` from B_ADDRESS and hand the port back for the SIPp UAS. Always the same port,
   * so each test refreshes one binding instead of leaving a dead contact the next call would fork to.
   */
  let calleePort = 0;
  const registerCallee = async (number: string): Promise<number> => {
    if (calleePort === 0) calleePort = await freePort(B_ADDRESS);
    return pbx.registerFrom(number, B_ADDRESS, calleePort);
  };
  /** B runs `uasScenario` on its registered port while A runs `uacScenario` calling B; `extra` adds SIPp options to each. */
  const call = async (uacScenario: string, uasScenario: string, callee: string, extra: { a?: Partial<SippRun>; b?: Partial<SippRun> } = {}): Promise<{ a: SippResult; b: SippResult }> => {
    const port = await registerCallee(callee);
    const b = runSipp({ scenario: uasScenario, target: target(), localAddress: B_ADDRESS, localPort: port, calls: 1, killAfterMs: 25_000, ...extra.b });
    // Let the UAS bind before the INVITE can reach it.
    await new Promise((r) => setTimeout(r, 300));
    const a = await runSipp({ scenario: uacScenario, target: target(), calls: 1, service: callee, users: [userLine('3001', ext['3001']!.password)], traceLogs: true, ...extra.a });
    return { a, b: await b };
  };
  /** Both SIPp runs and the server's call lines, for a failure message. */
  const diagnostics = (a: SippResult, b: SippResult): string => `${a.output}\n--- B:\n${b.output}\n--- server:\n${pbx.serverLog()}`;
  /** The newest call record, through `GET /api/v1/cdrs` (newest first). */
  const lastCdr = (): Promise<CdrRow | undefined> => pbx.lastCdr<CdrRow>();

  beforeAll(() => pbx.start({ '3001': 'Alice', '3002': 'Bob', '3003': 'Carol (never registers)', '3004': 'Dave (two phones)' }), 90_000);

  afterAll(() => pbx.close());

  it('A calls B, B answers and echoes what A plays, A hangs up: the audio went both ways through rtpengine, the CDR says answered', async () => {
    // A plays SIPp's recording to the address in the answer; B (-rtp_echo) sends every packet back.
    const media = {
      a: { mediaPort: await freeRtpPort('127.0.0.1', PHONE_RTP_MIN, PHONE_RTP_MAX, 4) },
      b: { mediaPort: await freeRtpPort(B_ADDRESS, PHONE_RTP_MIN, PHONE_RTP_MAX, 4), rtpEcho: true },
    };
    const talking = call('uac-invite-auth-then-audio-bye.xml', 'uas-answer-pcma-then-expect-bye.xml', '3002', media);
    // rtpengine deletes a session at the BYE (--delete-delay=0), so its counters are read while A
    // is still on the line: A holds the call 9 s after the answer, the recording lasts 7.05 s.
    const ng = ngOf(pbx.run.lines);
    let seen: Record<string, number> = {};
    const enough = RECORDING_PACKETS - 12; // all but the last 0.36 s: read before the BYE, with margin
    for (const deadline = Date.now() + 15_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 250))) {
      const now = await relayedRtpPackets(ng).catch(() => ({}));
      if (Object.keys(now).length > 0) seen = now;
      if ((seen.caller ?? 0) >= enough && (seen.callee ?? 0) >= enough) break;
    }
    const { a, b } = await talking;
    expect(a.code, diagnostics(a, b)).toBe(0);
    expect(b.code, b.output).toBe(0);
    // Packets rtpengine got from A and relayed to B, and B's echo it got and relayed back to A.
    expect(seen.caller, `rtpengine's RTP packets by side: ${JSON.stringify(seen)}`).toBeGreaterThanOrEqual(enough);
    expect(seen.callee, `rtpengine's RTP packets by side: ${JSON.stringify(seen)}`).toBeGreaterThanOrEqual(enough);
    // Never more than the recording: nothing else (no loop, no other call) is counted here.
    expect(seen.caller).toBeLessThanOrEqual(RECORDING_PACKETS);
    const sdp = /ANSWER_SDP c=([0-9.]+) m=(\d+)/.exec(a.output);
    expect(sdp, a.output).not.toBeNull();
    // rtpengine's own address and range, not the SIPp UAS's media port.
    expect(sdp![1]).toBe('127.0.0.1');
    expect(Number(sdp![2])).toBeGreaterThanOrEqual(RTP_MIN);
    expect(Number(sdp![2])).toBeLessThanOrEqual(RTP_MAX);
    await expect.poll(lastCdr, { timeout: 5000 }).toMatchObject({ caller_number: '3001', caller_name: 'Alice', callee_number: '3002', disposition: 'answered', hangup_cause: 'NORMAL_CLEARING', sip_status: 200 });
    const cdr = await lastCdr();
    expect(cdr?.answered_at).not.toBeNull();
    // The call lasted the 9 s A held it.
    expect(cdr?.billable_seconds).toBeGreaterThanOrEqual(8);
  }, 60_000);

  it('B answers 486: A gets 486, the CDR says busy', async () => {
    const { a, b } = await call('uac-invite-auth-expect-486.xml', 'uas-busy.xml', '3002');
    expect(a.code, diagnostics(a, b)).toBe(0);
    expect(b.code, b.output).toBe(0);
    await expect.poll(lastCdr, { timeout: 5000 }).toMatchObject({ caller_number: '3001', callee_number: '3002', disposition: 'busy', hangup_cause: 'USER_BUSY', sip_status: 486, billable_seconds: 0 });
  }, 60_000);

  it('A cancels while B rings: B is cancelled, A gets 487, the CDR says cancelled', async () => {
    const { a, b } = await call('uac-invite-auth-then-cancel.xml', 'uas-ring-then-expect-cancel.xml', '3002');
    expect(a.code, diagnostics(a, b)).toBe(0);
    expect(b.code, b.output).toBe(0);
    await expect.poll(lastCdr, { timeout: 5000 }).toMatchObject({ caller_number: '3001', callee_number: '3002', disposition: 'cancelled', hangup_cause: 'ORIGINATOR_CANCEL', sip_status: 487, answered_at: null });
  }, 60_000);

  it.each([
    ['an extension that is not registered', '3003', 'uac-invite-auth-expect-480.xml', { disposition: 'no_answer', sip_status: 480, hangup_cause: 'NO_ANSWER' }],
    ['a number that is no extension', '3999', 'uac-invite-auth-expect-404.xml', { disposition: 'failed', sip_status: 404, hangup_cause: 'UNALLOCATED_NUMBER' }],
  ])('A calls %s: refused without ringing anyone, and still recorded', async (_what, number, scenario, cdr) => {
    const a = await runSipp({ scenario, target: target(), calls: 1, service: number, users: [userLine('3001', ext['3001']!.password)] });
    expect(a.code, a.output).toBe(0);
    await expect.poll(lastCdr, { timeout: 5000 }).toMatchObject({ caller_number: '3001', callee_number: number, billable_seconds: 0, ...cdr });
  }, 60_000);

  it('B has two phones: both ring, the second answers, the first is CANCELled; the call completes', async () => {
    const phones: Array<{ address: string; port: number }> = [];
    for (const address of TWO_PHONES) phones.push({ address, port: await pbx.registerFrom('3004', address) });
    const [ringing, answering] = phones as [{ address: string; port: number }, { address: string; port: number }];
    const loser = runSipp({ scenario: 'uas-ring-then-expect-cancel.xml', target: target(), localAddress: ringing.address, localPort: ringing.port, calls: 1, killAfterMs: 25_000 });
    const winner = runSipp({ scenario: 'uas-answer-then-expect-bye.xml', target: target(), localAddress: answering.address, localPort: answering.port, calls: 1, killAfterMs: 25_000 });
    await new Promise((r) => setTimeout(r, 300));
    const a = await runSipp({ scenario: 'uac-invite-auth-then-answered-bye.xml', target: target(), calls: 1, service: '3004', users: [userLine('3001', ext['3001']!.password)] });
    const [l, w] = await Promise.all([loser, winner]);
    expect(a.code, diagnostics(a, w)).toBe(0);
    expect(w.code, w.output).toBe(0);
    expect(l.code, l.output).toBe(0);
    await expect.poll(lastCdr, { timeout: 5000 }).toMatchObject({ callee_number: '3004', disposition: 'answered', sip_status: 200 });
  }, 60_000);

  it('B rings and never answers: the ring timeout CANCELs B, A gets 480, the CDR says no answer', async () => {
    const { a, b } = await call('uac-invite-auth-ring-then-480.xml', 'uas-ring-then-expect-cancel.xml', '3002');
    expect(a.code, diagnostics(a, b)).toBe(0);
    expect(b.code, b.output).toBe(0);
    await expect.poll(lastCdr, { timeout: 5000 }).toMatchObject({ callee_number: '3002', disposition: 'no_answer', hangup_cause: 'NO_ANSWER', sip_status: 480, answered_at: null });
  }, 60_000);

  // Last: it kills the server the other cases use.
  it('Switchboard killed (SIGKILL) during an answered call: the next start closes the call with disposition interrupted', async () => {
    // waitForLog also sees earlier lines: wait for one more 'bridged' than the earlier cases left.
    const bridged = (): number => pbx.run.lines.filter((l) => l.msg === 'call: bridged').length;
    const before = bridged();
    const port = await registerCallee('3002');
    const b = runSipp({ scenario: 'uas-answer-then-expect-bye.xml', target: target(), localAddress: B_ADDRESS, localPort: port, calls: 1, killAfterMs: 8_000 });
    await new Promise((r) => setTimeout(r, 300));
    const a = runSipp({ scenario: 'uac-invite-auth-then-long-call.xml', target: target(), calls: 1, service: '3002', users: [userLine('3001', ext['3001']!.password)], killAfterMs: 8_000 });
    await expect.poll(bridged, { timeout: 10_000 }).toBeGreaterThan(before);
    const exited = new Promise((resolve) => pbx.run.child.once('exit', resolve));
    killRun(pbx.run);
    await exited;
    // Both SIPp ends fail now (no BYE will come, theirs gets no answer); only the record matters.
    await Promise.all([a, b]);
    await pbx.relaunch();
    await expect.poll(lastCdr, { timeout: 5000 }).toMatchObject({ callee_number: '3002', disposition: 'interrupted', hangup_cause: 'SYSTEM_SHUTDOWN' });
    expect((await lastCdr())?.answered_at).not.toBeNull();
  }, 90_000);
});
