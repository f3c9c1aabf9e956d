import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../database.js';
import { createTenant } from '../tenants/tenant.repository.js';
import { openTestStoreWithTenant } from '../test-helpers.js';
import { createCall, finishCall, updateCallState, type NewCall } from './call.repository.js';
import type { StoredFinalCallState } from './call.table.js';
import { cdrStats, getCdr, listCdrs } from './cdr.repository.js';

let store: Store;
let tenantId: string;

beforeEach(async () => {
  ({ store, tenantId } = await openTestStoreWithTenant());
});
afterEach(() => store.close());

/** One ended call: started at `start`, answered after `answerAfter` s (or never), ended `talk` s later. */
async function endedCall(opts: { start: string; state: StoredFinalCallState; answerAfter?: number; talk?: number; call?: Partial<NewCall> }): Promise<string> {
  const call = await createCall(store.db, {
    tenantId, direction: 'internal', callerNumber: '1001', calleeNumber: '1002', callerExtensionId: 'ext-a', calleeExtensionId: 'ext-b',
    siteId: 'site-1', instanceId: 'i', startedAt: opts.start, ...opts.call,
  });
  const t0 = Date.parse(opts.start);
  let end = t0 + 5000;
  if (opts.answerAfter !== undefined) {
    const answeredAt = t0 + opts.answerAfter * 1000;
    await updateCallState(store.db, call.id, { state: 'ANSWERED', answeredAt: new Date(answeredAt).toISOString() });
    end = answeredAt + (opts.talk ?? 0) * 1000;
  }
  const cdr = await finishCall(store.db, call.id, { state: opts.state, endedAt: new Date(end).toISOString(), hangupCause: 'X' });
  return cdr.id;
}

describe('listCdrs / getCdr', () => {
  beforeEach(async () => {
    await endedCall({ start: '2026-11-20T09:00:00.000Z', state: 'COMPLETED', answerAfter: 2, talk: 30 });
    await endedCall({ start: '2026-11-20T09:30:00.000Z', state: 'BUSY', call: { calleeExtensionId: 'ext-c', siteId: 'site-2' } });
    await endedCall({ start: '2026-11-21T14:00:00.000Z', state: 'NO_ANSWER', call: { direction: 'inbound', callerExtensionId: null } });
    await endedCall({ start: '2026-11-21T14:10:00.000Z', state: 'COMPLETED', answerAfter: 4, talk: 90, call: { callerExtensionId: 'ext-c', calleeExtensionId: 'ext-d' } });
  });

  it('lists newest first with the total', async () => {
    const page = await listCdrs(store.db, tenantId);
    expect(page.total).toBe(4);
    expect(page.items.map((c) => c.started_at)).toEqual(['2026-11-21T14:10:00.000Z', '2026-11-21T14:00:00.000Z', '2026-11-20T09:30:00.000Z', '2026-11-20T09:00:00.000Z']);
  });

  it('pages with limit and offset, the total unchanged', async () => {
    const page = await listCdrs(store.db, tenantId, {}, { limit: 2, offset: 1 });
    expect(page.total).toBe(4);
    expect(page.items.map((c) => c.started_at)).toEqual(['2026-11-21T14:00:00.000Z', '2026-11-20T09:30:00.000Z']);
  });

  it.each([
    [{ from: '2026-11-21T00:00:00.000Z' }, 2],
    [{ to: '2026-11-21T00:00:00.000Z' }, 2],
    [{ from: '2026-11-20T09:00:00.000Z', to: '2026-11-20T09:30:00.000Z' }, 1],
    [{ direction: 'inbound' }, 1],
    [{ disposition: 'answered' }, 2],
    [{ disposition: 'busy' }, 1],
    [{ siteId: 'site-2' }, 1],
    // ext-c is callee of one call and caller of another: both count.
    [{ extensionId: 'ext-c' }, 2],
    [{ extensionId: 'ext-a', disposition: 'answered' }, 1],
  ] as const)('filters %o → %i', async (filter, count) => {
    const page = await listCdrs(store.db, tenantId, filter);
    expect(page.total).toBe(count);
    expect(page.items).toHaveLength(count);
  });

  it('another tenant sees none of them, by list or by id', async () => {
    const other = await createTenant(store.db, { name: 'Other', sipDomain: 'other.test' });
    const [first] = (await listCdrs(store.db, tenantId)).items;
    expect((await listCdrs(store.db, other.id)).total).toBe(0);
    expect(await getCdr(store.db, other.id, first!.id)).toBeUndefined();
    expect(await getCdr(store.db, tenantId, first!.id)).toEqual(first);
  });
});

describe('cdrStats', () => {
  it('is all zeros without calls', async () => {
    expect(await cdrStats(store.db, tenantId)).toEqual({ total: 0, answered: 0, avgDurationSeconds: 0, avgBillableSeconds: 0, byHour: [], byDay: [] });
  });

  it('counts totals, answered, averages and buckets by UTC hour and day', async () => {
    await endedCall({ start: '2026-11-20T09:00:00.000Z', state: 'COMPLETED', answerAfter: 2, talk: 30 }); // 32 s, 30 billable
    await endedCall({ start: '2026-11-20T09:30:00.000Z', state: 'BUSY' }); // 5 s
    await endedCall({ start: '2026-11-21T14:10:00.000Z', state: 'COMPLETED', answerAfter: 4, talk: 90 }); // 94 s, 90 billable
    const stats = await cdrStats(store.db, tenantId);
    expect(stats).toEqual({
      total: 3,
      answered: 2,
      avgDurationSeconds: (32 + 5 + 94) / 3,
      avgBillableSeconds: 60,
      byHour: [
        { period: '2026-11-20T09', total: 2, answered: 1 },
        { period: '2026-11-21T14', total: 1, answered: 1 },
      ],
      byDay: [
        { period: '2026-11-20', total: 2, answered: 1 },
        { period: '2026-11-21', total: 1, answered: 1 },
      ],
    });
    expect((await cdrStats(store.db, tenantId, { disposition: 'busy' })).total).toBe(1);
  });
});
