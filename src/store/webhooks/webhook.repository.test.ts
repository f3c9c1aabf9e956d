import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../database.js';
import { openTestStoreWithTenant, testSecretKey } from '../test-helpers.js';
import { createTenant } from '../tenants/tenant.repository.js';
import { createDelivery, getDelivery, listDeliveries, recordDeliveryAttempt } from './webhook-delivery.repository.js';
import { createWebhook, deleteWebhook, getWebhook, getWebhookSecret, listEnabledWebhooks, listWebhooks, setWebhookBreaker, updateWebhook } from './webhook.repository.js';

let store: Store;
let tenantId: string;
const key = testSecretKey();
beforeEach(async () => {
  ({ store, tenantId } = await openTestStoreWithTenant());
});
afterEach(() => store.close());

const base = { name: 'CRM', url: 'https://hooks.example.com/x', events: ['call.*'], secret: 'whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0' };

describe('webhook repository', () => {
  it('creates with defaults, reads without the secret, decrypts it on request', async () => {
    const w = await createWebhook(store.db, key, { tenantId, ...base });
    expect(w).toMatchObject({ retryCount: 3, timeoutMs: 5000, enabled: true, headers: {}, events: ['call.*'], breaker: { state: 'closed', consecutiveFailures: 0, pausedUntil: null } });
    expect(JSON.stringify(await getWebhook(store.db, tenantId, w.id))).not.toContain('secret');
    expect(await getWebhookSecret(store.db, key, tenantId, w.id)).toBe(base.secret);
    await expect(getWebhookSecret(store.db, testSecretKey(), tenantId, w.id)).rejects.toMatchObject({ code: 'SECRET_DECRYPT_FAILED' });
  });

  it('updates fields and rotates the secret; lists per tenant; the breaker is the dispatcher’s to set', async () => {
    const w = await createWebhook(store.db, key, { tenantId, ...base, headers: { 'X-A': '1' } });
    const u = await updateWebhook(store.db, key, tenantId, w.id, { enabled: false, retryCount: 5, secret: 'rotated-secret-123456' });
    expect(u).toMatchObject({ enabled: false, retryCount: 5, headers: { 'X-A': '1' } });
    expect(await getWebhookSecret(store.db, key, tenantId, w.id)).toBe('rotated-secret-123456');
    const other = await createTenant(store.db, { name: 'B', sipDomain: 'b.test' });
    await createWebhook(store.db, key, { tenantId: other.id, ...base });
    expect((await listWebhooks(store.db, tenantId)).total).toBe(1);
    expect((await listEnabledWebhooks(store.db)).map((x) => x.tenantId)).toEqual([other.id]);
    await setWebhookBreaker(store.db, w.id, { state: 'open', consecutiveFailures: 10, pausedUntil: '2026-11-21T10:05:00.000Z' });
    expect((await getWebhook(store.db, tenantId, w.id)).breaker).toEqual({ state: 'open', consecutiveFailures: 10, pausedUntil: '2026-11-21T10:05:00.000Z' });
    await expect(getWebhook(store.db, other.id, w.id)).rejects.toMatchObject({ code: 'WEBHOOK_NOT_FOUND' });
    await expect(updateWebhook(store.db, key, other.id, w.id, { name: 'x' })).rejects.toMatchObject({ code: 'WEBHOOK_NOT_FOUND' });
    await expect(deleteWebhook(store.db, other.id, w.id)).rejects.toMatchObject({ code: 'WEBHOOK_NOT_FOUND' });
  });

  it('keeps a delivery log: one row per event and endpoint, attempts recorded, deleted with the endpoint', async () => {
    const w = await createWebhook(store.db, key, { tenantId, ...base });
    const d = await createDelivery(store.db, { webhookId: w.id, tenantId, eventId: 'ev-1', eventType: 'call.ended' });
    expect(d).toMatchObject({ status: 'pending', attempts: 0 });
    await expect(createDelivery(store.db, { webhookId: w.id, tenantId, eventId: 'ev-1', eventType: 'call.ended' })).rejects.toMatchObject({ code: 'CONFLICT' });
    const t1 = '2026-11-21T10:00:00.000Z';
    const failed = await recordDeliveryAttempt(store.db, d.id, { ok: false, statusCode: 503, error: 'HTTP 503', excerpt: 'x'.repeat(5000), durationMs: 12.4, at: t1, nextAttemptAt: '2026-11-21T10:00:02.000Z' });
    expect(failed).toMatchObject({ status: 'pending', attempts: 1, lastStatusCode: 503, firstAttemptAt: t1, lastDurationMs: 12, nextAttemptAt: '2026-11-21T10:00:02.000Z' });
    expect(failed.responseExcerpt).toHaveLength(1024);
    const t2 = '2026-11-21T10:00:02.100Z';
    const ok = await recordDeliveryAttempt(store.db, d.id, { ok: true, statusCode: 200, error: null, excerpt: 'ok', durationMs: 5, at: t2, nextAttemptAt: null });
    expect(ok).toMatchObject({ status: 'delivered', attempts: 2, firstAttemptAt: t1, lastAttemptAt: t2, deliveredAt: t2, nextAttemptAt: null });
    const d2 = await createDelivery(store.db, { webhookId: w.id, tenantId, eventId: 'ev-2', eventType: 'call.start' });
    expect(await recordDeliveryAttempt(store.db, d2.id, { ok: false, statusCode: null, error: 'ECONNREFUSED', excerpt: null, durationMs: 1, at: t2, nextAttemptAt: null })).toMatchObject({ status: 'failed' });
    expect((await listDeliveries(store.db, tenantId, w.id)).total).toBe(2);
    expect((await listDeliveries(store.db, tenantId, w.id, { status: 'failed' })).items.map((x) => x.eventId)).toEqual(['ev-2']);
    expect((await getDelivery(store.db, tenantId, w.id, d.id)).status).toBe('delivered');
    await deleteWebhook(store.db, tenantId, w.id);
    expect((await listDeliveries(store.db, tenantId, w.id)).total).toBe(0);
  });
});
