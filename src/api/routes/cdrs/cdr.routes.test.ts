import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCall, finishCall, updateCallState } from '../../../store/index.js';
import { body, testApiWithStore } from '../../test-helpers.js';

let t: Awaited<ReturnType<typeof testApiWithStore>>;
beforeEach(async () => {
  t = await testApiWithStore();
});
afterEach(() => t.close());

/** A finished call of `tenantId` (Acme by default), answered after 2 s when `talk` is given. */
async function record(o: { start: string; talk?: number; calleeExt?: string; tenantId?: string }): Promise<string> {
  const call = await createCall(t.db, {
    tenantId: o.tenantId ?? t.tenant.id, direction: 'internal', callerNumber: '1001', callerName: 'Alice', calleeNumber: '1002',
    callerExtensionId: 'ext-a', calleeExtensionId: o.calleeExt ?? 'ext-b', instanceId: 'i', startedAt: o.start,
  });
  const t0 = Date.parse(o.start);
  if (o.talk !== undefined) {
    await updateCallState(t.db, call.id, { state: 'ANSWERED', answeredAt: new Date(t0 + 2000).toISOString() });
    return (await finishCall(t.db, call.id, { state: 'COMPLETED', endedAt: new Date(t0 + 2000 + o.talk * 1000).toISOString(), hangupCause: 'NORMAL_CLEARING', sipStatus: 200 })).id;
  }
  return (await finishCall(t.db, call.id, { state: 'BUSY', endedAt: new Date(t0 + 3000).toISOString(), hangupCause: 'USER_BUSY', sipStatus: 486 })).id;
}

describe('GET /api/v1/cdrs', () => {
  it('lists the tenant’s records newest first, filtered and paged', async () => {
    await record({ start: '2026-11-20T09:00:00.000Z', talk: 30 });
    await record({ start: '2026-11-21T09:00:00.000Z' });
    await record({ start: '2026-11-21T10:00:00.000Z', talk: 10, calleeExt: 'ext-c' });
    await record({ start: '2026-11-21T11:00:00.000Z', tenantId: t.otherTenant.id });

    const all = await body(await t.call('GET', '/api/v1/cdrs'));
    expect(all.pagination).toMatchObject({ total: 3, has_more: false });
    expect(all.data.map((c: { started_at: string }) => c.started_at)).toEqual(['2026-11-21T10:00:00.000Z', '2026-11-21T09:00:00.000Z', '2026-11-20T09:00:00.000Z']);
    expect(all.data[0]).not.toHaveProperty('tenant_id');

    const answered = await body(await t.call('GET', '/api/v1/cdrs?disposition=answered&from=2026-11-21T00:00:00%2B00:00'));
    expect(answered.data).toHaveLength(1);
    expect(answered.data[0]).toMatchObject({ callee_extension_id: 'ext-c', billable_seconds: 10, duration_seconds: 12, sip_status: 200 });
    expect((await body(await t.call('GET', '/api/v1/cdrs?extension_id=ext-c'))).pagination.total).toBe(1);
    expect((await body(await t.call('GET', '/api/v1/cdrs?limit=1&offset=1'))).data).toHaveLength(1);
    expect((await t.call('GET', '/api/v1/cdrs?disposition=maybe')).status).toBe(400);
  });

  it('stats: totals, answered, averages, by hour and by day', async () => {
    await record({ start: '2026-11-21T09:00:00.000Z', talk: 30 });
    await record({ start: '2026-11-21T09:30:00.000Z' });
    const stats = (await body(await t.call('GET', '/api/v1/cdrs/stats'))).data;
    expect(stats).toEqual({
      total: 2, answered: 1, avg_duration_seconds: (32 + 3) / 2, avg_billable_seconds: 30,
      by_hour: [{ period: '2026-11-21T09', total: 2, answered: 1 }],
      by_day: [{ period: '2026-11-21', total: 2, answered: 1 }],
    });
  });

  it('gets one record; another tenant’s is 404', async () => {
    const id = await record({ start: '2026-11-21T09:00:00.000Z' });
    expect((await body(await t.call('GET', `/api/v1/cdrs/${id}`))).data).toMatchObject({ id, disposition: 'busy', hangup_cause: 'USER_BUSY' });
    const foreign = await record({ start: '2026-11-21T09:00:00.000Z', tenantId: t.otherTenant.id });
    expect((await t.call('GET', `/api/v1/cdrs/${foreign}`)).status).toBe(404);
  });
});
