import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { OriginateInput, Originator } from '../../../pbx/calls/live-calls.js';
import { getCdrByCall } from '../../../store/index.js';
import { createExt } from '../extensions/test-helpers.js';
import { body, testApiWithStore } from '../../test-helpers.js';

let t: Awaited<ReturnType<typeof testApiWithStore>>;
let placed: OriginateInput[];
/** What the fake SIP side answers for a destination: a SIP refusal, or ringing (undefined). */
let refuse: Record<string, { sipStatus: number; refusedBy: 'extension' | 'destination' }>;

beforeEach(async () => {
  t = await testApiWithStore();
  placed = [];
  refuse = {};
  // The SIP side's part, as src/sip/calls/originate.ts does it: open the call in the call service, ring (or refuse with a CDR).
  const originator: Originator = {
    async originate(input) {
      placed.push(input);
      const started = await t.callService.startCall({
        tenantId: input.tenantId, direction: 'internal', caller: { number: '1001', name: 'Alice', extensionId: input.extensionId },
        callee: { number: input.to, name: null, extensionId: null },
      });
      const refusal = refuse[input.to];
      if (refusal) {
        await t.callService.apply(started.callId, { type: 'fail', sipStatus: refusal.sipStatus, cause: 'CALL_REJECTED' });
        return { ok: false, callId: started.callId, ...refusal };
      }
      await t.callService.apply(started.callId, { type: 'ring' });
      return { ok: true, callId: started.callId };
    },
  };
  t.liveCalls.useOriginator(originator);
});
afterEach(() => t.close());

const fields = async (res: Response): Promise<string[]> => (await body(res)).error.details.map((d: { field: string }) => d.field);

describe('POST /api/v1/calls (click-to-call)', () => {
  it('rings the extension, answers 202 with the call, which GET /calls lists', async () => {
    const alice = await createExt(t, { number: '1001' });
    const res = await t.call('POST', '/api/v1/calls', { key: await t.keyFor(['calls:control']), body: { extension_id: alice.id, to: '1002', caller_id: '+15550100', timeout_seconds: 20 } });
    expect(res.status, JSON.stringify(await res.clone().json())).toBe(202);
    const { data } = await body(res);
    expect(data).toMatchObject({ state: 'ringing', caller: { extension_id: alice.id }, callee: { number: '1002' } });
    expect(placed).toEqual([{ tenantId: t.tenant.id, extensionId: alice.id, to: '1002', callerId: '+15550100', ringTimeoutMs: 20_000 }]);
    expect((await body(await t.call('GET', '/api/v1/calls'))).data.map((c: { id: string }) => c.id)).toEqual([data.id]);
  });

  it('takes the extension by number (`from`), and rings for 30 s unless told', async () => {
    const alice = await createExt(t, { number: '1001' });
    expect((await t.call('POST', '/api/v1/calls', { body: { from: '1001', to: '1002' } })).status).toBe(202);
    expect(placed[0]).toMatchObject({ extensionId: alice.id, callerId: null, ringTimeoutMs: 30_000 });
  });

  it('replays the same call for the same Idempotency-Key and places one call only', async () => {
    const alice = await createExt(t, { number: '1001' });
    const send = () => t.call('POST', '/api/v1/calls', { body: { extension_id: alice.id, to: '1002' }, headers: { 'Idempotency-Key': 'click-1' } });
    const first = await send();
    const again = await send();
    expect(first.status).toBe(202);
    expect(again.status).toBe(202);
    expect(again.headers.get('Idempotent-Replayed')).toBe('true');
    expect((await body(again)).data.id).toBe((await body(first)).data.id);
    expect(placed).toHaveLength(1);
    expect((await body(await t.call('GET', '/api/v1/calls'))).data).toHaveLength(1);
    // The same key for another request is a client bug, not a second call.
    const reused = await t.call('POST', '/api/v1/calls', { body: { extension_id: alice.id, to: '1003' }, headers: { 'Idempotency-Key': 'click-1' } });
    expect(reused.status).toBe(422);
    expect(placed).toHaveLength(1);
  });

  it('names each bad field', async () => {
    const alice = await createExt(t, { number: '1001' });
    const cases: Array<[unknown, string[]]> = [
      [{ extension_id: alice.id }, ['to']],
      [{ to: '1002' }, ['extension_id', 'from']],
      [{ extension_id: alice.id, from: '1001', to: '1002' }, ['extension_id', 'from']],
      [{ extension_id: 'x', to: '1002' }, ['extension_id']],
      [{ from: 'alice', to: '1002' }, ['from']],
      [{ from: '1001', to: 'sip:bob@example.com' }, ['to']],
      [{ from: '1001', to: '1002', caller_id: 'ACME' }, ['caller_id']],
      [{ from: '1001', to: '1002', timeout_seconds: 1 }, ['timeout_seconds']],
      [{ from: '1001', to: '1002', timeout_seconds: '30' }, ['timeout_seconds']],
    ];
    for (const [payload, expected] of cases) {
      const res = await t.call('POST', '/api/v1/calls', { body: payload });
      expect(res.status, JSON.stringify(payload)).toBe(400);
      expect(await fields(res), JSON.stringify(payload)).toEqual(expected);
    }
    expect(placed).toEqual([]);
  });

  it('refuses an extension that is not the tenant’s, unknown or disabled, naming the field (422), and places no call', async () => {
    const foreign = await createExt(t, { number: '1001' }).then(async () => {
      const res = await t.call('POST', '/api/v1/extensions', { key: t.otherAdminKey, body: { number: '2001' } });
      return (await body(res)).data;
    });
    const disabled = await createExt(t, { number: '1009', status: 'disabled' });
    for (const [payload, field, errorCode] of [
      [{ extension_id: foreign.id, to: '1002' }, 'extension_id', 'EXTENSION_NOT_FOUND'],
      [{ from: '2001', to: '1002' }, 'from', 'EXTENSION_NOT_FOUND'],
      [{ extension_id: disabled.id, to: '1002' }, 'extension_id', 'EXTENSION_DISABLED'],
    ] as const) {
      const res = await t.call('POST', '/api/v1/calls', { body: payload });
      expect(res.status).toBe(422);
      const { error } = await body(res);
      expect(error.code).toBe(errorCode);
      expect(error.details.map((d: { field: string }) => d.field)).toEqual([field]);
    }
    expect(placed).toEqual([]);
  });

  it('reports a refusal with who refused and the recorded call’s id; the CDR is there', async () => {
    await createExt(t, { number: '1001' });
    refuse = {
      '1999': { sipStatus: 404, refusedBy: 'destination' },
      '1002': { sipStatus: 486, refusedBy: 'destination' },
      '1003': { sipStatus: 480, refusedBy: 'extension' },
      '1004': { sipStatus: 403, refusedBy: 'extension' },
    };
    for (const [to, status, errorCode, field] of [
      ['1999', 422, 'DESTINATION_NOT_FOUND', 'to'], ['1002', 409, 'DESTINATION_BUSY', 'to'],
      ['1003', 409, 'EXTENSION_UNAVAILABLE', 'from'], ['1004', 409, 'CALL_LIMIT_REACHED', 'from'],
    ] as const) {
      const res = await t.call('POST', '/api/v1/calls', { body: { from: '1001', to } });
      expect(res.status, to).toBe(status);
      const error = (await body(res)).error;
      expect(error.code).toBe(errorCode);
      expect(error.details.map((d: { field: string }) => d.field)).toEqual([field]);
      const callId = /call ([0-9a-f-]{36})/.exec(error.message)?.[1];
      expect(callId, error.message).toBeDefined();
      expect(await getCdrByCall(t.db, t.tenant.id, callId!)).toMatchObject({ callee_number: to, disposition: 'failed' });
    }
  });

  it('answers 503 while SIP calls are not running', async () => {
    const fresh = await testApiWithStore();
    try {
      await createExt(fresh, { number: '1001' });
      const res = await fresh.call('POST', '/api/v1/calls', { body: { from: '1001', to: '1002' } });
      expect(res.status).toBe(503);
      expect((await body(res)).error.code).toBe('CALLS_UNAVAILABLE');
    } finally {
      await fresh.close();
    }
  });

  it('another tenant cannot see or hang up the originated call', async () => {
    await createExt(t, { number: '1001' });
    const { data } = await body(await t.call('POST', '/api/v1/calls', { body: { from: '1001', to: '1002' } }));
    expect((await body(await t.call('GET', '/api/v1/calls', { key: t.otherAdminKey }))).data).toEqual([]);
    expect((await t.call('POST', `/api/v1/calls/${data.id}/hangup`, { key: t.otherAdminKey })).status).toBe(404);
  });
});
