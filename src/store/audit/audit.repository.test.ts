import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../database.js';
import { inTransaction } from '../database.js';
import { openTestStoreWithTenant } from '../test-helpers.js';
import { createApiKey } from '../api-keys/api-key.repository.js';
import { appendAudit, listAudit } from './audit.repository.js';

let store: Store;
let tenantId: string;
beforeEach(async () => {
  ({ store, tenantId } = await openTestStoreWithTenant());
});
afterEach(() => store.close());

describe('audit repository', () => {
  it('appends and lists newest first with filters', async () => {
    await appendAudit(store.db, { tenantId, actorType: 'api_key', actorId: 'k1', action: 'extension.create', targetType: 'extension', targetId: 'e1' }, '2026-01-01T00:00:00.000Z');
    await appendAudit(store.db, { tenantId, actorType: 'user', actorId: 'u1', action: 'api_key.revoke', result: 'failure', details: { reason: 'x' } }, '2026-01-02T00:00:00.000Z');
    await appendAudit(store.db, { actorType: 'system', action: 'setup.complete' });
    const all = await listAudit(store.db, tenantId);
    expect(all.total).toBe(2);
    expect(all.items.map((e) => e.action)).toEqual(['api_key.revoke', 'extension.create']);
    expect(all.items[0]).toMatchObject({ result: 'failure', details: { reason: 'x' } });
    expect((await listAudit(store.db, tenantId, { actorId: 'k1' })).items).toHaveLength(1);
    expect((await listAudit(store.db, tenantId, { since: '2026-01-02T00:00:00.000Z' })).total).toBe(1);
  });

  it('entries of one millisecond are listed newest first, in the order they were written', async () => {
    const at = '2026-01-03T00:00:00.000Z';
    const actions = Array.from({ length: 20 }, (_, i) => `step.${i}`);
    for (const action of actions) await appendAudit(store.db, { tenantId, actorType: 'system', action }, at);
    expect((await listAudit(store.db, tenantId)).items.map((e) => e.action)).toEqual([...actions].reverse());
  });

  it('rolls back with the change it audits', async () => {
    await expect(
      inTransaction(store.db, async (trx) => {
        const { apiKey } = await createApiKey(trx, { tenantId, name: 'a', scopes: [] });
        await appendAudit(trx, { tenantId, actorType: 'user', action: 'api_key.create', targetId: apiKey.id });
        throw new Error('later step failed');
      }),
    ).rejects.toThrow('later step failed');
    expect((await listAudit(store.db, tenantId)).total).toBe(0);
    expect(await store.db.selectFrom('api_keys').selectAll().execute()).toEqual([]);
  });
});
