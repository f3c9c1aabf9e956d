/**
 * Hold and transfer end to end (issue 4 §5): the real `npm start` with the rtpengine it starts,
 * three extensions whose phones are the scripted UDP phone of support/sip-phone.ts (REFER,
 * NOTIFY and re-INVITEs in both directions, which SIPp would need three coordinated scenarios
 * for). Each case checks what every phone received, the call events in the server's log, and ends
 * with the CDRs read through `GET /api/v1/cdrs`.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { callPbx } from './support/call-pbx.js';
import { directionOf, header, SipPhone, type Dialog, type SipMessage } from './support/sip-phone.js';
import { type LogLine } from './support/switchboard-run.js';

const RTP_MIN = 41700;
const RTP_MAX = 41799;

interface CdrRow {
  id: string;
  call_id: string;
  transferred_to_call_id: string | null;
  caller_number: string;
  callee_number: string;
  disposition: string;
  hangup_cause: string;
  sip_status: number | null;
  answered_at: string | null;
}

const isInvite = (m: SipMessage): boolean => m.first.startsWith('INVITE ');
const isBye = (m: SipMessage): boolean => m.first.startsWith('BYE ');
const isNotify = (status: number) => (m: SipMessage): boolean => m.first.startsWith('NOTIFY ') && m.body.startsWith(`SIP/2.0 ${status}`);
/** The SDP's connection address and audio port. */
const mediaOf = (sdp: string): { address: string; port: number } => ({ address: /c=IN IP4 ([0-9.]+)/.exec(sdp)?.[1] ?? '', port: Number(/m=audio (\d+)/.exec(sdp)?.[1] ?? 0) });

describe('hold and transfer end to end (npm start + rtpengine + scripted phones)', () => {
  const pbx = callPbx('hold-transfer', { rtpMin: RTP_MIN, rtpMax: RTP_MAX, env: { SWITCHBOARD_SIP_DIGEST_ALGORITHMS: 'MD5', SWITCHBOARD_CALL_RING_TIMEOUT_SECONDS: '5' } });
  const { api } = pbx;
  let phones: SipPhone[] = [];
  /** A registered phone for `number` on its own loopback address. */
  const phone = async (number: string, address: string, rtpPort: number): Promise<SipPhone> => {
    const p = await SipPhone.open(number, pbx.extensions[number]!.password, address, { host: '127.0.0.1', port: pbx.sipPort }, rtpPort);
    phones.push(p);
    expect(await p.register()).toBe(200);
    return p;
  };
  // Loopback addresses of this suite's own (the address plan: support/call-pbx.ts).
  const three = async (): Promise<[SipPhone, SipPhone, SipPhone]> => [await phone('3101', '127.0.0.31', 20000), await phone('3102', '127.0.0.32', 22000), await phone('3103', '127.0.0.33', 24000)];
  /** A calls `number`; the callee's phone answers by itself. */
  const connect = async (a: SipPhone, b: SipPhone): Promise<{ ab: Dialog; ba: Dialog }> => {
    const ab = await a.call(b.user);
    if (typeof ab === 'number') throw new Error(`${a.user} → ${b.user} refused with ${ab}\n${serverLog()}`);
    return { ab, ba: await b.waitForDialog() };
  };
  /** `x` and `y` each send RTP to the SDP they were last given: both must receive the other's through rtpengine. */
  const talk = async (x: SipPhone, xSdp: string, y: SipPhone, ySdp: string): Promise<void> => {
    const [x0, y0] = [x.rtpReceived, y.rtpReceived];
    await Promise.all([x.sendRtp(xSdp), y.sendRtp(ySdp)]);
    await expect.poll(() => y.rtpReceived - y0, { timeout: 3000 }).toBeGreaterThan(5);
    await expect.poll(() => x.rtpReceived - x0, { timeout: 3000 }).toBeGreaterThan(5);
  };
  const events = (type: string): LogLine[] => pbx.run.lines.filter((l) => l.msg === 'call event' && l.event === type);
  const serverLog = (): string => pbx.serverLog();
  const cdrs = async (limit: number): Promise<CdrRow[]> => {
    const res = await api(`/cdrs?limit=${limit}`);
    expect(res.status).toBe(200);
    return ((await res.json()) as { data: CdrRow[] }).data;
  };
  /** The CDRs of calls that started after `since` (ids of older ones), newest first. */
  const cdrsSince = async (before: Set<string>): Promise<CdrRow[]> => (await cdrs(20)).filter((c) => !before.has(c.id));
  const knownCdrs = async (): Promise<Set<string>> => new Set((await cdrs(100)).map((c) => c.id));

  beforeAll(() => pbx.start({ '3101': 'Alice', '3102': 'Bob', '3103': 'Carol', '3104': 'Dan (never registers)' }), 90_000);

  afterEach(() => {
    for (const p of phones) p.close();
    phones = [];
  });

  afterAll(() => pbx.close());

  it('A holds and unholds B, then B holds A: each re-INVITE reaches the other phone through rtpengine, call.hold/unhold are published, the call completes', async () => {
    const before = await knownCdrs();
    const [a, b] = await three();
    const { ab } = await connect(a, b);
    const invitesAtB = (): SipMessage[] => b.received.filter(isInvite);

    const held = await a.reinvite(ab, a.sdp('sendonly', 2));
    expect(held.first, serverLog()).toMatch(/^SIP\/2\.0 200/);
    expect(directionOf(held.body)).toBe('recvonly');
    const holdAtB = invitesAtB()[1]!;
    expect(holdAtB, serverLog()).toBeDefined();
    expect(directionOf(holdAtB.body)).toBe('sendonly');
    // The re-INVITE B got names rtpengine, not A's phone.
    expect(mediaOf(holdAtB.body).address).toBe('127.0.0.1');
    expect(mediaOf(holdAtB.body).port).toBeGreaterThanOrEqual(RTP_MIN);
    expect(mediaOf(holdAtB.body).port).toBeLessThanOrEqual(RTP_MAX);
    await expect.poll(() => events('call.hold').length, { timeout: 3000 }).toBe(1);
    expect(events('call.hold')[0]).toMatchObject({ by: 'caller' });

    const resumed = await a.reinvite(ab, a.sdp('sendrecv', 3));
    expect(directionOf(resumed.body)).toBe('sendrecv');
    expect(directionOf(invitesAtB()[2]!.body)).toBe('sendrecv');
    await expect.poll(() => events('call.unhold').length, { timeout: 3000 }).toBe(1);
    // Off hold, media flows both ways through rtpengine again.
    await talk(a, resumed.body, b, invitesAtB()[2]!.body);

    // A session refresh (same direction) is relayed too, without an event.
    await a.reinvite(ab, a.sdp('sendrecv', 4));
    expect(invitesAtB()).toHaveLength(4);

    // Now B (the callee) holds A.
    const ba = b.dialogs[0]!;
    const bHeld = await b.reinvite(ba, b.sdp('inactive', 2));
    expect(bHeld.first).toMatch(/^SIP\/2\.0 200/);
    const holdAtA = await a.waitForRequest(isInvite);
    expect(directionOf(holdAtA.body)).toBe('inactive');
    await expect.poll(() => events('call.hold').length, { timeout: 3000 }).toBe(2);
    expect(events('call.hold')[1]).toMatchObject({ by: 'callee' });
    expect(events('call.unhold')).toHaveLength(1);

    expect(await a.bye(ab)).toBe(200);
    await b.waitForRequest(isBye);
    await expect.poll(() => cdrsSince(before), { timeout: 5000 }).toMatchObject([{ caller_number: '3101', callee_number: '3102', disposition: 'answered', hangup_cause: 'NORMAL_CLEARING', sip_status: 200 }]);
  }, 60_000);

  it('blind transfer: B REFERs A to C; NOTIFY 100 then 200, C rings with A’s media anchored, A is re-INVITEd, B is released; A and C talk on a new call', async () => {
    const before = await knownCdrs();
    const [a, b, c] = await three();
    await connect(a, b);
    const ba = b.dialogs[0]!;
    await b.reinvite(ba, b.sdp('sendonly', 2)); // B holds A first, as phones do
    expect(await b.refer(ba, `<sip:3103@127.0.0.1>`)).toBe(202);

    const cd = await c.waitForDialog();
    const inviteAtC = c.received.find(isInvite)!;
    expect(header(inviteAtC, 'From')).toContain('sip:3101@');
    expect(mediaOf(inviteAtC.body).address).toBe('127.0.0.1');
    expect(directionOf(inviteAtC.body)).toBe('sendrecv');
    await b.waitForRequest(isNotify(100));
    const done = await b.waitForRequest(isNotify(200));
    expect(header(done, 'Event')).toBe('refer');
    expect(header(done, 'Subscription-State')).toMatch(/^terminated/);
    expect(header(done, 'Content-Type')).toMatch(/^message\/sipfrag/);
    // A moved onto the new call's media: a re-INVITE with rtpengine's address, talking both ways again.
    const moved = (await a.waitForRequest((m) => isInvite(m) && directionOf(m.body) === 'sendrecv'));
    expect(mediaOf(moved.body).address).toBe('127.0.0.1');
    await b.waitForRequest(isBye);
    await expect.poll(() => events('call.transfer').length, { timeout: 3000 }).toBeGreaterThanOrEqual(1);
    expect(events('call.transfer').at(-1)).toMatchObject({ kind: 'blind', target: '3103', transferor: { number: '3102' } });

    // A and C talk: each one's RTP, sent where its latest SDP says (rtpengine), reaches the other.
    await talk(a, moved.body, c, inviteAtC.body);
    expect(b.rtpReceived).toBe(0); // none of it went to the released transferor

    // C hangs up, A gets the BYE.
    expect(await c.bye(cd)).toBe(200);
    await a.waitForRequest(isBye);
    await expect.poll(async () => (await cdrsSince(before)).length, { timeout: 5000 }).toBe(2);
    const [transferred, original] = await cdrsSince(before);
    expect(original).toMatchObject({ caller_number: '3101', callee_number: '3102', disposition: 'answered', hangup_cause: 'NORMAL_CLEARING' });
    expect(transferred).toMatchObject({ caller_number: '3101', callee_number: '3103', disposition: 'answered', hangup_cause: 'NORMAL_CLEARING', transferred_to_call_id: null });
    // The original's record names the call A went on in.
    expect(original!.transferred_to_call_id).toBe(transferred!.call_id);
    expect(a.received.filter(isBye)).toHaveLength(1); // A’s original dialog was never released: one BYE, after C hung up.
  }, 60_000);

  it('blind transfer to an extension with no phone: NOTIFY 480, the original call goes on; a malformed Refer-To is 400', async () => {
    const before = await knownCdrs();
    const [a, b] = await three();
    const { ab } = await connect(a, b);
    const ba = b.dialogs[0]!;
    expect(await b.refer(ba, 'not a uri')).toBe(400);
    expect(await b.refer(ba, '<sip:3104@127.0.0.1>')).toBe(202);
    const failed = await b.waitForRequest((m) => m.first.startsWith('NOTIFY ') && !m.body.startsWith('SIP/2.0 100'));
    expect(failed.body).toMatch(/^SIP\/2\.0 480/);
    expect(b.received.filter(isBye)).toHaveLength(0);
    // Still connected: a re-INVITE from A still reaches B.
    expect((await a.reinvite(ab, a.sdp('sendrecv', 2))).first).toMatch(/^SIP\/2\.0 200/);
    expect(await b.bye(ba)).toBe(200);
    await a.waitForRequest(isBye);
    await expect.poll(async () => (await cdrsSince(before)).length, { timeout: 5000 }).toBe(2);
    const [attempt, original] = await cdrsSince(before);
    expect(attempt).toMatchObject({ caller_number: '3101', callee_number: '3104', disposition: 'no_answer', sip_status: 480 });
    expect(original).toMatchObject({ caller_number: '3101', callee_number: '3102', disposition: 'answered', hangup_cause: 'NORMAL_CLEARING', transferred_to_call_id: null });
  }, 60_000);

  it('blind transfer where B hangs up right after the 202: A still reaches C; to a phone-less number A is hung up', async () => {
    const before = await knownCdrs();
    const [a, b, c] = await three();
    await connect(a, b);
    const ba = b.dialogs[0]!;
    expect(await b.refer(ba, '<sip:3103@127.0.0.1>')).toBe(202);
    expect(await b.bye(ba)).toBe(200);
    const cd = await c.waitForDialog();
    const moved = await a.waitForRequest(isInvite);
    await talk(a, moved.body, c, c.received.find(isInvite)!.body);
    expect(await c.bye(cd)).toBe(200);
    await a.waitForRequest(isBye);
    await expect.poll(async () => (await cdrsSince(before)).length, { timeout: 5000 }).toBe(2);
    const [transferred, original] = await cdrsSince(before);
    expect(original).toMatchObject({ callee_number: '3102', disposition: 'answered', transferred_to_call_id: transferred!.call_id });

    const { ab: ab2 } = await connect(a, b);
    const ba2 = b.dialogs.find((d) => !d.ended)!;
    expect(await b.refer(ba2, '<sip:3104@127.0.0.1>')).toBe(202);
    await b.bye(ba2);
    await expect.poll(() => a.received.filter(isBye).length, { timeout: 5000 }).toBe(2);
    expect(ab2.callId).not.toBe('');
  }, 60_000);

  it('attended transfer: B holds A, calls C, REFERs A with Replaces naming its call to C; A and C are joined, both of B’s legs released', async () => {
    const before = await knownCdrs();
    const [a, b, c] = await three();
    const { ab } = await connect(a, b);
    const ba = b.dialogs[0]!;
    await b.reinvite(ba, b.sdp('sendonly', 2));
    const bc = await b.call('3103');
    if (typeof bc === 'number') throw new Error(`B → C refused with ${bc}`);
    const cb = await c.waitForDialog();
    // B's dialog with the PBX in the B→C call: its Call-ID, B's tag (from) and the PBX's (to).
    const replaces = encodeURIComponent(`${bc.callId};to-tag=${bc.remoteTag};from-tag=${bc.localTag}`);
    expect(await b.refer(ba, `<sip:3103@127.0.0.1?Replaces=${replaces}>`)).toBe(202);

    await b.waitForRequest(isNotify(200));
    // C and A are each re-INVITEd onto the joined call's media.
    // The re-INVITE in C's dialog with the PBX (its To carries C's tag; the first INVITE's did not).
    const atC = await c.waitForRequest((m) => isInvite(m) && (header(m, 'To') ?? '').includes(`tag=${cb.localTag}`));
    expect(mediaOf(atC.body).address).toBe('127.0.0.1');
    const atA = await a.waitForRequest((m) => isInvite(m) && directionOf(m.body) === 'sendrecv');
    expect(mediaOf(atA.body).address).toBe('127.0.0.1');
    // Both of B's dialogs get a BYE (or B's own BYE was accepted).
    await expect.poll(() => b.received.filter(isBye).length, { timeout: 5000 }).toBe(2);
    await expect.poll(() => events('call.transfer').filter((e) => e.kind === 'attended').length, { timeout: 3000 }).toBe(2);
    await talk(a, atA.body, c, atC.body);

    expect(await a.bye(ab)).toBe(200);
    await c.waitForRequest(isBye);
    await expect.poll(async () => (await cdrsSince(before)).length, { timeout: 5000 }).toBe(3);
    const rows = await cdrsSince(before);
    const joined = rows.find((r) => r.caller_number === '3101' && r.callee_number === '3103');
    expect(joined).toMatchObject({ disposition: 'answered', hangup_cause: 'NORMAL_CLEARING' });
    // Both calls B was in end answered and name the joined call.
    expect(rows.find((r) => r.caller_number === '3101' && r.callee_number === '3102')).toMatchObject({ disposition: 'answered', transferred_to_call_id: joined!.call_id });
    expect(rows.find((r) => r.caller_number === '3102' && r.callee_number === '3103')).toMatchObject({ disposition: 'answered', transferred_to_call_id: joined!.call_id });
  }, 60_000);

  it('INVITE with Replaces (RFC 3891): C takes B’s place in the A–B call; B gets a BYE, A is re-INVITEd onto C’s media, a new call records A–C', async () => {
    const before = await knownCdrs();
    const [a, b, c] = await three();
    const { ab } = await connect(a, b);
    const ba = b.dialogs[0]!;
    // B's dialog with the PBX, as B would describe it to C (call-id, B's tag, the PBX's tag).
    const unknown = await c.call('3102', c.sdp(), ['Replaces: nope@x;to-tag=1;from-tag=2']);
    expect(unknown).toBe(481);
    const cd = await c.call('3102', c.sdp(), [`Replaces: ${ba.callId};to-tag=${ba.remoteTag};from-tag=${ba.localTag}`]);
    if (typeof cd === 'number') throw new Error(`INVITE with Replaces refused with ${cd}\n${serverLog()}`);
    await b.waitForRequest(isBye);
    const atA = await a.waitForRequest(isInvite);
    expect(mediaOf(atA.body).address).toBe('127.0.0.1');
    expect(await a.bye(ab)).toBe(200);
    await c.waitForRequest(isBye);
    await expect.poll(async () => (await cdrsSince(before)).filter((r) => r.disposition === 'answered').length, { timeout: 5000 }).toBe(2);
    const rows = await cdrsSince(before);
    const joined = rows.find((r) => r.caller_number === '3103' && r.callee_number === '3101');
    expect(joined).toMatchObject({ disposition: 'answered', hangup_cause: 'NORMAL_CLEARING' });
    expect(rows.find((r) => r.caller_number === '3101' && r.callee_number === '3102')).toMatchObject({ disposition: 'answered', transferred_to_call_id: joined!.call_id });
  }, 60_000);
});
