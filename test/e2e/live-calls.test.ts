/**
 * Live calls end to end (issue 4 §7): the real `npm start` with the rtpengine it starts, driven
 * through the API. Click-to-call: extension A's phone (a SIPp UAS registered as A) gets an INVITE
 * without SDP and answers with its offer; then B (a SIPp UAS registered as B) rings and answers; A
 * gets B's answer, anchored by rtpengine, in the ACK (RFC 3725 flow I). The call is listed by
 * `GET /calls` while up, `POST /calls/{id}/hangup` sends BYE to both, and the CDR is read through
 * `GET /api/v1/cdrs`. Hold, unhold and blind transfer (cancelled while ringing, then completed) are
 * driven through the API on an originated call. A call placed by a phone (a SIPp UAC) is hung up through the API while it
 * rings. Each phone is registered by the UDP client from its own loopback address and
 * port, and the SIPp UAS then binds that same address and port. Qualify is off so no OPTIONS
 * reaches a SIPp UAS, which expects only the call.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callPbx } from './support/call-pbx.js';
import { runSipp, userLine, type SippResult } from './support/sipp.js';
import { freePort } from './support/switchboard-run.js';

const RTP_MIN = 41800;
const RTP_MAX = 41899;
/** Loopback addresses no other e2e suite uses, so parallel suites never share a phone (the address plan: support/call-pbx.ts). */
const A_ADDRESS = '127.0.0.21';
const B_ADDRESS = '127.0.0.22';
const C_ADDRESS = '127.0.0.23';

interface LiveCall {
  id: string;
  state: string;
  caller: { number: string; extension_id: string | null };
  callee: { number: string };
  answered_extension_id: string | null;
  on_hold: boolean;
  held_by: string[];
  legs: Array<{ role: string; number: string; extension_id: string | null }>;
}

describe('live calls end to end (npm start + rtpengine + SIPp)', () => {
  const pbx = callPbx('live-calls', { rtpMin: RTP_MIN, rtpMax: RTP_MAX });
  const { api, target } = pbx;
  const ext = pbx.extensions;
  const ports: Record<string, number> = {};
  const json = async <T>(res: Response): Promise<T> => (await res.json()) as T;
  /** Register `number` from `address`, always from the same port, so each test refreshes one binding. */
  const register = async (number: string, address: string): Promise<number> => {
    ports[number] ??= await freePort(address);
    return pbx.registerFrom(number, address, ports[number]);
  };
  /** Register the phone, then start `scenario` as that phone; `done` settles when SIPp exits (wrapped: awaiting must not wait for it). */
  const phone = async (number: string, address: string, scenario: string): Promise<{ done: Promise<SippResult> }> => {
    const port = await register(number, address);
    return { done: runSipp({ scenario, target: target(), localAddress: address, localPort: port, calls: 1, killAfterMs: 45_000, traceLogs: true }) };
  };
  const originate = (body: object, key?: string): Promise<Response> =>
    api('/calls', { method: 'POST', body: JSON.stringify(body), ...(key ? { headers: { 'Idempotency-Key': key } } : {}) });
  const getCall = async (id: string): Promise<LiveCall | undefined> => {
    const res = await api(`/calls/${id}`);
    return res.status === 200 ? (await json<{ data: LiveCall }>(res)).data : undefined;
  };
  const lastCdr = (): Promise<Record<string, unknown> | undefined> => pbx.lastCdr<Record<string, unknown>>();
  const diagnostics = (...results: SippResult[]): string => `${results.map((r) => r.output).join('\n---\n')}\n--- server:\n${pbx.serverLog()}`;

  beforeAll(() => pbx.start({ '5001': 'Alice', '5002': 'Bob', '5003': 'Carol' }), 90_000);

  afterAll(() => pbx.close());

  it('click-to-call: A’s phone answers, B rings and answers, the call is listed while up, hung up through the API, and its CDR names A as caller', async () => {
    const { done: a } = await phone('5001', A_ADDRESS, 'uas-offer-in-200-then-expect-bye.xml');
    const { done: b } = await phone('5002', B_ADDRESS, 'uas-answer-then-wait-for-bye.xml');
    // Let both UAS bind before the INVITEs can reach them.
    await new Promise((r) => setTimeout(r, 300));

    const res = await originate({ from: '5001', to: '5002' }, 'click-e2e-1');
    expect(res.status, await res.clone().text()).toBe(202);
    const { data: started } = await json<{ data: LiveCall }>(res);
    expect(started.caller).toMatchObject({ number: '5001', extension_id: ext['5001']!.id });
    // A retry with the same key is the same call, and places none.
    const retry = await originate({ from: '5001', to: '5002' }, 'click-e2e-1');
    expect((await json<{ data: LiveCall }>(retry)).data.id).toBe(started.id);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');

    await expect.poll(async () => (await getCall(started.id))?.state, { timeout: 15_000, interval: 200 }).toBe('answered').catch(async (err: unknown) => {
      throw new Error(`${String(err)}\n${diagnostics(await a, await b)}`);
    });
    const { data: list } = await json<{ data: LiveCall[] }>(await api('/calls'));
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({
      id: started.id, state: 'answered', answered_extension_id: ext['5002']!.id,
      legs: [{ role: 'caller', number: '5001', extension_id: ext['5001']!.id }, { role: 'callee', number: '5002', extension_id: ext['5002']!.id }],
    });
    const hangup = await api(`/calls/${started.id}/hangup`, { method: 'POST' });
    expect(hangup.status, await hangup.clone().text()).toBe(204);
    const [ra, rb] = await Promise.all([a, b]);
    expect(ra.code, diagnostics(ra, rb)).toBe(0);
    expect(rb.code, diagnostics(rb, ra)).toBe(0);
    // Both phones were given rtpengine's address and ports, not each other's.
    const ack = /ACK_SDP c=([0-9.]+) m=(\d+)/.exec(ra.output);
    const offer = /OFFER_SDP m=(\d+)/.exec(rb.output);
    expect(ack, ra.output).not.toBeNull();
    expect(offer, rb.output).not.toBeNull();
    for (const port of [Number(ack![2]), Number(offer![1])]) {
      expect(port).toBeGreaterThanOrEqual(RTP_MIN);
      expect(port).toBeLessThanOrEqual(RTP_MAX);
    }

    await expect.poll(async () => (await json<{ data: LiveCall[] }>(await api('/calls'))).data, { timeout: 5000 }).toEqual([]);
    await expect.poll(lastCdr, { timeout: 5000 }).toMatchObject({
      call_id: started.id, direction: 'internal', caller_number: '5001', caller_name: 'Alice', caller_extension_id: ext['5001']!.id,
      callee_number: '5002', answered_extension_id: ext['5002']!.id, disposition: 'answered', hangup_cause: 'NORMAL_CLEARING', sip_status: 200,
    });
  }, 90_000);

  it('hold, unhold, a transfer cancelled while it rings, then a blind transfer to C, all through the API; each CDR tells its part', async () => {
    const { done: a } = await phone('5001', A_ADDRESS, 'uas-offer-in-200-held-unheld-transferred-bye.xml');
    const { done: b } = await phone('5002', B_ADDRESS, 'uas-answer-held-unheld-then-bye.xml');
    await new Promise((r) => setTimeout(r, 300));
    const res = await originate({ from: '5001', to: '5002' });
    expect(res.status, await res.clone().text()).toBe(202);
    const { data: started } = await json<{ data: LiveCall }>(res);
    const id = started.id;
    await expect.poll(async () => (await getCall(id))?.state, { timeout: 15_000, interval: 200 }).toBe('answered');
    const steer = (method: string, path: string, body?: object): Promise<Response> => api(`/calls/${id}/${path}`, { method, ...(body ? { body: JSON.stringify(body) } : {}) });

    const held = await steer('POST', 'hold');
    expect(held.status, await held.clone().text()).toBe(200);
    expect((await json<{ data: LiveCall }>(held)).data).toMatchObject({ on_hold: true, held_by: ['api'] });
    const unheld = await steer('POST', 'unhold');
    expect(unheld.status, await unheld.clone().text()).toBe(200);
    expect((await json<{ data: LiveCall }>(unheld)).data).toMatchObject({ on_hold: false, held_by: [] });

    // C rings and the transfer is cancelled: C gets CANCEL, the call goes on as it was.
    const { done: ringOnly } = await phone('5003', C_ADDRESS, 'uas-ring-then-expect-cancel.xml');
    await new Promise((r) => setTimeout(r, 300));
    expect((await steer('POST', 'transfer', { to: '5003' })).status).toBe(200);
    const transferLeg = async (): Promise<LiveCall | undefined> => (await json<{ data: LiveCall[] }>(await api('/calls'))).data.find((c) => c.callee.number === '5003');
    await expect.poll(async () => (await transferLeg())?.state, { timeout: 10_000, interval: 100 }).toBe('ringing');
    const cancelled = await steer('DELETE', 'transfer');
    expect(cancelled.status, await cancelled.clone().text()).toBe(200);
    const rc = await ringOnly;
    expect(rc.code, diagnostics(rc)).toBe(0);
    await expect.poll(async () => (await steer('DELETE', 'transfer')).status, { timeout: 5000 }).toBe(409);
    expect((await getCall(id))?.state).toBe('answered');

    // Now C answers: A is moved onto C's media, B is released, the old call ends and the new one is listed.
    const { done: c } = await phone('5003', C_ADDRESS, 'uas-answer-then-wait-for-bye.xml');
    await new Promise((r) => setTimeout(r, 300));
    const transfer = await steer('POST', 'transfer', { to: '5003' });
    expect(transfer.status, await transfer.clone().text()).toBe(200);
    const rb = await b;
    expect(rb.code, diagnostics(rb)).toBe(0);
    await expect.poll(async () => (await transferLeg())?.state, { timeout: 10_000, interval: 100 }).toBe('answered');
    expect((await api(`/calls/${id}`)).status).toBe(404);
    const next = (await transferLeg())!;
    expect(next).toMatchObject({ caller: { number: '5001' }, callee: { number: '5003' }, answered_extension_id: ext['5003']!.id });

    expect((await api(`/calls/${next.id}/hangup`, { method: 'POST' })).status).toBe(204);
    const [ra, rc2] = await Promise.all([a, c]);
    expect(ra.code, diagnostics(ra, rc2)).toBe(0);
    expect(rc2.code, diagnostics(rc2, ra)).toBe(0);
    expect(ra.output).toMatch(/HOLD a=inactive/);
    expect(ra.output).toMatch(/UNHOLD a=sendrecv/);

    const cdrs = async (): Promise<Array<Record<string, unknown>>> => (await json<{ data: Array<Record<string, unknown>> }>(await api('/cdrs?limit=10'))).data;
    await expect.poll(async () => (await cdrs()).find((r) => r.call_id === next.id), { timeout: 5000 }).toMatchObject({ caller_number: '5001', callee_number: '5003', disposition: 'answered' });
    expect((await cdrs()).find((r) => r.call_id === id)).toMatchObject({ caller_number: '5001', callee_number: '5002', disposition: 'answered', transferred_to_call_id: next.id });
  }, 120_000);

  it('hang-up while A’s phone still rings: the phone gets CANCEL, hold is refused (409) before the answer, the CDR says cancelled', async () => {
    const { done: a } = await phone('5001', A_ADDRESS, 'uas-ring-then-expect-cancel.xml');
    await new Promise((r) => setTimeout(r, 300));
    const res = await originate({ extension_id: ext['5001']!.id, to: '5002' });
    expect(res.status, await res.clone().text()).toBe(202);
    const { data: started } = await json<{ data: LiveCall }>(res);
    await expect.poll(async () => (await getCall(started.id))?.state, { timeout: 10_000, interval: 100 }).toBe('ringing');
    const hold = await api(`/calls/${started.id}/hold`, { method: 'POST' });
    expect(hold.status).toBe(409);
    expect((await json<{ error: { code: string } }>(hold)).error.code).toBe('CALL_NOT_ANSWERED');

    expect((await api(`/calls/${started.id}/hangup`, { method: 'POST' })).status).toBe(204);
    const ra = await a;
    expect(ra.code, diagnostics(ra)).toBe(0);
    expect((await api(`/calls/${started.id}`)).status).toBe(404);
    await expect.poll(lastCdr, { timeout: 5000 }).toMatchObject({ call_id: started.id, caller_number: '5001', callee_number: '5002', disposition: 'cancelled', sip_status: 487, answered_at: null });
  }, 60_000);

  it('a phone’s own call hung up through the API while B rings: B gets CANCEL, the caller 487, the CDR says cancelled', async () => {
    const { done: b } = await phone('5002', B_ADDRESS, 'uas-ring-then-expect-cancel.xml');
    await new Promise((r) => setTimeout(r, 300));
    const a = runSipp({ scenario: 'uac-invite-auth-ring-then-487.xml', target: target(), calls: 1, service: '5002', users: [userLine('5001', ext['5001']!.password)], killAfterMs: 45_000 });
    const ringing = async (): Promise<LiveCall | undefined> => (await json<{ data: LiveCall[] }>(await api('/calls'))).data.find((c) => c.state === 'ringing');
    await expect.poll(ringing, { timeout: 10_000, interval: 100 }).toBeDefined();
    const call = (await ringing())!;
    expect(call).toMatchObject({ caller: { number: '5001' }, callee: { number: '5002' } });
    expect((await api(`/calls/${call.id}/hangup`, { method: 'POST' })).status).toBe(204);
    const [ra, rb] = await Promise.all([a, b]);
    expect(ra.code, diagnostics(ra, rb)).toBe(0);
    expect(rb.code, diagnostics(rb, ra)).toBe(0);
    await expect.poll(lastCdr, { timeout: 5000 }).toMatchObject({ call_id: call.id, disposition: 'cancelled', hangup_cause: 'ORIGINATOR_CANCEL', sip_status: 487 });
  }, 60_000);

  it('a destination that is no number: 422 naming `to`, nothing rings, and the attempt is recorded', async () => {
    await register('5001', A_ADDRESS);
    const res = await originate({ from: '5001', to: '5999' });
    expect(res.status).toBe(422);
    const { error } = await json<{ error: { code: string; details: Array<{ field: string }> } }>(res);
    expect(error.code).toBe('DESTINATION_NOT_FOUND');
    expect(error.details.map((d) => d.field)).toEqual(['to']);
    await expect.poll(lastCdr, { timeout: 5000 }).toMatchObject({ caller_number: '5001', callee_number: '5999', disposition: 'failed', sip_status: 404 });
  }, 30_000);
});
