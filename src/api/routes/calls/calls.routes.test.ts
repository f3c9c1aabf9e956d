import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FakeCallLegs } from '../../../../test/support/fake-call-legs.js';
import { SwitchboardError } from '../../../shared/errors.js';
import { getCdrByCall } from '../../../store/index.js';
import { body, testApiWithStore } from '../../test-helpers.js';

let t: Awaited<ReturnType<typeof testApiWithStore>>;
beforeEach(async () => {
  t = await testApiWithStore();
});
afterEach(() => t.close());

const alice = { number: '1001', name: 'Alice', extensionId: 'ext-a' };
const bob = { number: '1002', name: 'Bob', extensionId: 'ext-b' };

/** A call as the SIP side starts it, on the service the API reads; `onAbort` is what the INVITE handler would do. */
async function start(tenantId = t.tenant.id, onAbort?: () => void): Promise<string> {
  const started = await t.callService.startCall({ tenantId, direction: 'internal', caller: alice, callee: bob, ...(onAbort ? { onAbort } : {}) });
  if (!started.ok) throw new Error('refused');
  return started.callId;
}

/** Answered by `ext-c` (a forward target, say) and bridged with fake legs that report their hang-up like the bridge. */
async function answered(): Promise<{ id: string; legs: FakeCallLegs }> {
  const id = await start();
  await t.callService.apply(id, { type: 'ring' });
  await t.callService.answer(id, 'ext-c');
  const legs = new FakeCallLegs(() => void t.callService.apply(id, { type: 'hangup' }));
  t.callService.attachLegs(id, legs);
  return { id, legs };
}

const code = async (res: Response): Promise<string> => (await body(res)).error.code;

describe('GET /api/v1/calls', () => {
  it('lists the tenant’s live calls with state, parties, legs and times; another tenant’s are not there', async () => {
    const ringing = await start();
    const { id } = await answered();
    await start(t.otherTenant.id);
    const res = await t.call('GET', '/api/v1/calls');
    expect(res.status).toBe(200);
    const { data } = await body(res);
    expect(data.map((c: { id: string }) => c.id)).toEqual([ringing, id]);
    expect(data[1]).toMatchObject({
      id, direction: 'internal', state: 'answered', answered_extension_id: 'ext-c',
      caller: { number: '1001', name: 'Alice', extension_id: 'ext-a' }, callee: { number: '1002', name: 'Bob', extension_id: 'ext-b' },
      legs: [{ role: 'caller', number: '1001', extension_id: 'ext-a' }, { role: 'callee', number: '1002', extension_id: 'ext-c' }],
    });
    expect(data[1].answered_at).toMatch(/^\d{4}-.*Z$/);
    expect(data[0]).toMatchObject({ state: 'initiated', answered_at: null, answered_extension_id: null });
    expect((await body(await t.call('GET', '/api/v1/calls', { key: t.otherAdminKey }))).data).toHaveLength(1);
  });

  it('reads one call with calls:read; 404 once it ended, for an unknown id, and for another tenant', async () => {
    const { id } = await answered();
    const reader = await t.keyFor(['calls:read']);
    expect((await body(await t.call('GET', `/api/v1/calls/${id}`, { key: reader }))).data).toMatchObject({ id, state: 'answered' });
    expect((await t.call('POST', `/api/v1/calls/${id}/hangup`, { key: reader })).status).toBe(403);
    const other = await t.call('GET', `/api/v1/calls/${id}`, { key: t.otherAdminKey });
    expect(other.status).toBe(404);
    expect(await code(other)).toBe('CALL_NOT_FOUND');
    expect((await t.call('GET', '/api/v1/calls/00000000-0000-4000-8000-000000000000')).status).toBe(404);
    const bad = await t.call('GET', '/api/v1/calls/not-a-uuid');
    expect(bad.status).toBe(400);
    expect((await body(bad)).error.details.map((d: { field: string }) => d.field)).toEqual(['id']);
  });

  it('answers 503 when the API runs without the PBX', async () => {
    delete t.resources.calls;
    const res = await t.call('GET', '/api/v1/calls');
    expect(res.status).toBe(503);
    expect(await code(res)).toBe('CALLS_UNAVAILABLE');
  });
});

describe('POST /api/v1/calls/{id}/hangup', () => {
  it('hangs up an answered call through its legs: 204, then the call is gone and its CDR says answered', async () => {
    const { id, legs } = await answered();
    const res = await t.call('POST', `/api/v1/calls/${id}/hangup`, { key: await t.keyFor(['calls:control']) });
    expect(res.status).toBe(204);
    expect(legs.calls).toEqual(['hangUp']);
    await vi.waitFor(async () => expect(await getCdrByCall(t.db, t.tenant.id, id)).toMatchObject({ disposition: 'answered', hangup_cause: 'NORMAL_CLEARING', answered_extension_id: 'ext-c' }));
    expect((await t.call('GET', `/api/v1/calls/${id}`)).status).toBe(404);
    expect((await t.call('POST', `/api/v1/calls/${id}/hangup`)).status).toBe(404);
  });

  it('ends a ringing call as a caller CANCEL: the SIP side is told, the CDR says cancelled', async () => {
    const onAbort = vi.fn();
    const id = await start(t.tenant.id, onAbort);
    await t.callService.apply(id, { type: 'ring' });
    expect((await t.call('POST', `/api/v1/calls/${id}/hangup`)).status).toBe(204);
    expect(onAbort).toHaveBeenCalledTimes(1);
    expect(await getCdrByCall(t.db, t.tenant.id, id)).toMatchObject({ disposition: 'cancelled', sip_status: 487, hangup_cause: 'ORIGINATOR_CANCEL' });
    expect((await t.call('GET', '/api/v1/calls')).status).toBe(200);
    expect((await body(await t.call('GET', '/api/v1/calls'))).data).toEqual([]);
  });

  it('another tenant’s hang-up is 404 and leaves the call up', async () => {
    const { id, legs } = await answered();
    expect((await t.call('POST', `/api/v1/calls/${id}/hangup`, { key: t.otherAdminKey })).status).toBe(404);
    expect(legs.calls).toEqual([]);
    expect((await t.call('GET', `/api/v1/calls/${id}`)).status).toBe(200);
  });
});

describe('hold, unhold, transfer, cancel transfer', () => {
  it('steer an answered call through its legs and answer with the call', async () => {
    const { id, legs } = await answered();
    for (const [method, path, payload] of [
      ['POST', 'hold', undefined], ['POST', 'unhold', undefined], ['POST', 'transfer', { to: '1003' }], ['DELETE', 'transfer', undefined],
    ] as const) {
      const res = await t.call(method, `/api/v1/calls/${id}/${path}`, payload ? { body: payload } : {});
      expect(res.status, `${method} ${path}`).toBe(200);
      expect((await body(res)).data).toMatchObject({ id, state: 'answered' });
    }
    expect(legs.calls).toEqual(['hold', 'unhold', 'transfer 1003', 'cancelTransfer']);
  });

  it('cancelling a transfer when none rings is 409 NO_PENDING_TRANSFER', async () => {
    const { id } = await answered();
    const res = await t.call('DELETE', `/api/v1/calls/${id}/transfer`);
    expect(res.status).toBe(409);
    expect(await code(res)).toBe('NO_PENDING_TRANSFER');
  });

  it('before the answer each is 409 CALL_NOT_ANSWERED; for another tenant 404', async () => {
    const id = await start();
    for (const [method, path, payload] of [['POST', 'hold', undefined], ['POST', 'unhold', undefined], ['POST', 'transfer', { to: '1003' }], ['DELETE', 'transfer', undefined]] as const) {
      const res = await t.call(method, `/api/v1/calls/${id}/${path}`, payload ? { body: payload } : {});
      expect(res.status, `${method} ${path}`).toBe(409);
      expect(await code(res)).toBe('CALL_NOT_ANSWERED');
      expect((await t.call(method, `/api/v1/calls/${id}/${path}`, { key: t.otherAdminKey, ...(payload ? { body: payload } : {}) })).status).toBe(404);
    }
  });

  it('a transfer names the bad field of its body', async () => {
    const { id, legs } = await answered();
    for (const [payload, field] of [[{}, 'to'], [{ to: 'bob' }, 'to'], [{ to: '1003', extra: 1 }, '(root)']] as const) {
      const res = await t.call('POST', `/api/v1/calls/${id}/transfer`, { body: payload });
      expect(res.status).toBe(400);
      expect((await body(res)).error.details.map((d: { field: string }) => d.field)).toEqual([field]);
    }
    expect(legs.calls).toEqual([]);
  });

  it('maps the legs’ refusals: glare 409 CALL_BUSY, an unknown transfer target 422 naming `to`, a busy one 409', async () => {
    const { id, legs } = await answered();
    legs.failWith = new SwitchboardError('call.busy', 'a renegotiation or transfer of this call is in progress', { sipStatus: 491 });
    const busy = await t.call('POST', `/api/v1/calls/${id}/hold`);
    expect(busy.status).toBe(409);
    expect(await code(busy)).toBe('CALL_BUSY');
    for (const [sipStatus, status, errorCode] of [[404, 422, 'TRANSFER_TARGET_NOT_FOUND'], [486, 409, 'TRANSFER_FAILED'], [491, 409, 'CALL_BUSY']] as const) {
      legs.failWith = new SwitchboardError('call.transfer_failed', `transfer to 1003 failed with ${sipStatus}`, { sipStatus });
      const res = await t.call('POST', `/api/v1/calls/${id}/transfer`, { body: { to: '1003' } });
      expect(res.status, String(sipStatus)).toBe(status);
      const { error } = await body(res);
      expect(error.code).toBe(errorCode);
      if (errorCode !== 'CALL_BUSY') expect(error.details.map((d: { field: string }) => d.field)).toEqual(['to']);
    }
    legs.failWith = new SwitchboardError('call.not_found', 'the call has ended', { sipStatus: 481 });
    expect((await t.call('POST', `/api/v1/calls/${id}/unhold`)).status).toBe(404);
    legs.failWith = new Error('unexpected');
    expect((await t.call('POST', `/api/v1/calls/${id}/hold`)).status).toBe(500);
  });

  it('shows who holds the call, as the SIP side reports it', async () => {
    const { id } = await answered();
    await t.callService.held(id, true, 'caller');
    await t.callService.held(id, true, 'api');
    expect((await body(await t.call('GET', `/api/v1/calls/${id}`))).data).toMatchObject({ on_hold: true, held_by: ['caller', 'api'] });
    await t.callService.held(id, false, 'caller');
    await t.callService.held(id, false, 'api');
    expect((await body(await t.call('GET', `/api/v1/calls/${id}`))).data).toMatchObject({ on_hold: false, held_by: [] });
  });
});
