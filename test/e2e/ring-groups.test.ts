/**
 * Ring groups end to end (issue 4 acceptance: "ring group in each strategy"): the real `npm start`
 * with its rtpengine, a caller (SIPp UAC, extension 5001) and members that register from their own
 * loopback addresses with the UDP client and are then played by SIPp UASes bound on those
 * addresses and ports. Groups are created through the API; each case ends with the CDR checked
 * through `GET /api/v1/cdrs`. Qualify is off so no OPTIONS reaches a SIPp UAS.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callPbx } from './support/call-pbx.js';
import { runSipp, userLine, type SippResult } from './support/sipp.js';

const RTP_MIN = 41500;
const RTP_MAX = 41599;

/** Members and the loopback address each registers from (one phone each; the address plan: support/call-pbx.ts). */
const MEMBERS = { '5101': '127.0.0.41', '5102': '127.0.0.42', '5103': '127.0.0.43', '5104': '127.0.0.44', '5105': '127.0.0.45', '5106': '127.0.0.46' } as const;
type Member = keyof typeof MEMBERS;

interface CdrRow {
  caller_number: string;
  callee_number: string;
  callee_name: string | null;
  disposition: string;
  sip_status: number | null;
  answered_at: string | null;
  /** The member that answered (the callee is the group). */
  answered_extension_id: string | null;
}

describe('ring groups end to end (npm start + rtpengine + SIPp)', () => {
  const pbx = callPbx('ring-groups', { rtpMin: RTP_MIN, rtpMax: RTP_MAX });
  const { api, target } = pbx;
  const ids: Record<string, string> = {};
  const ports: Partial<Record<Member, number>> = {};
  const post = async (path: string, body: unknown) => {
    const res = await api(path, { method: 'POST', body: JSON.stringify(body) });
    expect(res.status, await res.clone().text()).toBe(201);
    return ((await res.json()) as { data: { id: string } }).data;
  };
  /** Registers a member from its own address; the SIPp UAS later binds that same address and port. */
  const register = async (number: Member): Promise<void> => {
    ports[number] = await pbx.registerFrom(number, MEMBERS[number], ports[number]);
  };
  const uas = (number: Member, scenario: string): Promise<SippResult> =>
    runSipp({ scenario, target: target(), localAddress: MEMBERS[number], localPort: ports[number]!, calls: 1, killAfterMs: 25_000 });
  /** The caller dials `number` once the member UASes have bound. */
  const dial = async (number: string): Promise<SippResult> => {
    await new Promise((r) => setTimeout(r, 300));
    return runSipp({ scenario: 'uac-invite-auth-then-answered-bye.xml', target: target(), calls: 1, service: number, users: [userLine('5001', pbx.extensions['5001']!.password)] });
  };
  const diagnostics = (...runs: SippResult[]): string => `${runs.map((r) => r.output).join('\n---\n')}\n--- server:\n${pbx.serverLog()}`;
  const lastCdr = (): Promise<CdrRow | undefined> => pbx.lastCdr<CdrRow>();

  beforeAll(async () => {
    await pbx.start();
    // 5107 never registers: a member with no phone, for the fallback case.
    for (const number of ['5001', ...Object.keys(MEMBERS), '5107']) ids[number] = (await pbx.createExtension(number, `Ext ${number}`)).id;
    for (const number of Object.keys(MEMBERS) as Member[]) await register(number);
  }, 90_000);

  afterAll(() => pbx.close());

  it('simultaneous: both members ring, the second answers, the first is CANCELled; the CDR names the group', async () => {
    await post('/ring-groups', { number: '510', name: 'Sales', strategy: 'simultaneous', ring_timeout_seconds: 15, members: [{ extension_id: ids['5101'] }, { extension_id: ids['5102'] }] });
    const loser = uas('5101', 'uas-ring-then-expect-cancel.xml');
    const winner = uas('5102', 'uas-answer-then-expect-bye.xml');
    const a = await dial('510');
    const [l, w] = await Promise.all([loser, winner]);
    expect(a.code, diagnostics(a, w, l)).toBe(0);
    expect(w.code, w.output).toBe(0);
    expect(l.code, l.output).toBe(0);
    await expect.poll(lastCdr, { timeout: 5000 }).toMatchObject({ caller_number: '5001', callee_number: '510', callee_name: 'Sales', disposition: 'answered', sip_status: 200, answered_extension_id: ids['5102'] });
  }, 60_000);

  it('sequential: the first member rings its 2 s and is CANCELled, the second answers', async () => {
    await post('/ring-groups', {
      number: '520', name: 'Support', strategy: 'sequential', ring_timeout_seconds: 20,
      members: [{ extension_id: ids['5103'], priority: 1, timeout_seconds: 2 }, { extension_id: ids['5104'], priority: 2 }],
    });
    const first = uas('5103', 'uas-ring-then-expect-cancel.xml');
    const second = uas('5104', 'uas-answer-then-expect-bye.xml');
    const started = Date.now();
    const a = await dial('520');
    const [f, s] = await Promise.all([first, second]);
    expect(a.code, diagnostics(a, f, s)).toBe(0);
    expect(f.code, f.output).toBe(0);
    expect(s.code, s.output).toBe(0);
    // The second member answered only after the first one's time ran out.
    expect(Date.now() - started).toBeGreaterThanOrEqual(2000);
    await expect.poll(lastCdr, { timeout: 5000 }).toMatchObject({ callee_number: '520', disposition: 'answered', sip_status: 200, answered_extension_id: ids['5104'] });
  }, 60_000);

  it('round robin: the second call starts at the member after the one that answered the first', async () => {
    await post('/ring-groups', { number: '530', name: 'Desk', strategy: 'round_robin', member_timeout_seconds: 10, members: [{ extension_id: ids['5105'] }, { extension_id: ids['5106'] }] });
    // Call 1: no memory yet, 5105 first, and it answers.
    const one = uas('5105', 'uas-answer-then-expect-bye.xml');
    const a1 = await dial('530');
    const o = await one;
    expect(a1.code, diagnostics(a1, o)).toBe(0);
    expect(o.code, o.output).toBe(0);
    await expect.poll(lastCdr, { timeout: 5000 }).toMatchObject({ callee_number: '530', disposition: 'answered', answered_extension_id: ids['5105'] });
    // Call 2: starts at 5106. 5105 has no UAS any more: rung first, it would hold the call for its
    // 10 s, past the caller's 5 s receive timeout, and the call would take that long.
    const two = uas('5106', 'uas-answer-then-expect-bye.xml');
    const started = Date.now();
    const a2 = await dial('530');
    const t = await two;
    expect(a2.code, diagnostics(a2, t)).toBe(0);
    // 0.3 s for the UAS to bind, 1 s of call, and the BYE: far under one member's 10 s.
    expect(Date.now() - started).toBeLessThan(6000);
    expect(t.code, t.output).toBe(0);
    await expect.poll(lastCdr, { timeout: 5000 }).toMatchObject({ callee_number: '530', disposition: 'answered', answered_extension_id: ids['5106'] });
    // The memory moved on, in the store (so a restart keeps it).
    const group = ((await (await api('/ring-groups?number=530')).json()) as { data: Array<{ last_answered_extension_id: string | null }> }).data[0];
    expect(group?.last_answered_extension_id).toBe(ids['5106']);
  }, 60_000);

  it('fallback: every member unavailable, the call goes on to the fallback number, which answers', async () => {
    await post('/ring-groups', { number: '540', name: 'Night', strategy: 'sequential', fallback_number: '5101', members: [{ extension_id: ids['5107'] }] });
    const fallback = uas('5101', 'uas-answer-then-expect-bye.xml');
    const a = await dial('540');
    const f = await fallback;
    expect(a.code, diagnostics(a, f)).toBe(0);
    expect(f.code, f.output).toBe(0);
    await expect.poll(lastCdr, { timeout: 5000 }).toMatchObject({ callee_number: '540', disposition: 'answered', answered_extension_id: ids['5101'] });
  }, 60_000);
});
