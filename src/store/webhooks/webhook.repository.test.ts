import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../database.js';
import { sql } from 'kysely';
import { openDatabase } from '../database.js';
import { migrateToLatest } from '../migrate.js';
import { migrations } from '../migrations/index.js';
import { openTestStoreWithTenant, testSecretKey } from '../test-helpers.js';
import { createTenant } from '../tenants/tenant.repository.js';
import { createDelivery, getDelivery, listDeliveries, recordDeliveryAttempt } from './webhook-delivery.repository.js';
import { createWebhook, deleteWebhook, getWebhook, getWebhookHeaders, getWebhookSecret, listWebhooks, setWebhookBreaker, updateWebhook, upgradeWebhookHeaders } from './webhook.repository.js';

let store: Store;
let tenantId: string;
const key = testSecretKey();
beforeEach(async () => {
  ({ store, tenantId } = await openTestStoreWithTenant());
});
afterEach(() => store.close());

const base = { name: 'CRM', url: 'https://hooks.example.com/x', events: ['call.*'], secret: 'whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0' };

describe('webhook repository', () => {
  it('stores custom header values encrypted: reads give names only, getWebhookHeaders decrypts them', async () => {
    const token = 'Bearer crm-token-4711';
    const w = await createWebhook(store.db, key, { tenantId, ...base, headers: { Authorization: token, 'X-Source': 'pbx' } });
    expect(w.headerNames).toEqual(['Authorization', 'X-Source']);
    expect(JSON.stringify(await getWebhook(store.db, tenantId, w.id))).not.toContain('crm-token');
    expect(JSON.stringify(await listWebhooks(store.db, tenantId))).not.toContain('crm-token');
    const row = await store.db.selectFrom('webhooks').selectAll().where('id', '=', w.id).executeTakeFirstOrThrow();
    expect(row.headers).toBe('{}');
    expect(row.headers_enc).not.toContain('crm-token');
    expect(row.headers_enc).not.toContain('pbx');
    expect(await getWebhookHeaders(store.db, key, tenantId, w.id)).toEqual({ Authorization: token, 'X-Source': 'pbx' });
    await expect(getWebhookHeaders(store.db, testSecretKey(), tenantId, w.id)).rejects.toMatchObject({ code: 'SECRET_DECRYPT_FAILED' });
    const other = await createTenant(store.db, { name: 'B', sipDomain: 'b.test' });
    await expect(getWebhookHeaders(store.db, key, other.id, w.id)).rejects.toMatchObject({ code: 'WEBHOOK_NOT_FOUND' });
    // A ciphertext moved to another header (or endpoint) does not decrypt: the AAD binds both.
    const enc = JSON.parse(row.headers_enc) as Record<string, string>;
    await store.db.updateTable('webhooks').set({ headers_enc: JSON.stringify({ 'X-Other': enc.Authorization }) }).where('id', '=', w.id).execute();
    await expect(getWebhookHeaders(store.db, key, tenantId, w.id)).rejects.toMatchObject({ code: 'SECRET_DECRYPT_FAILED' });
    // An update replaces the set; other updates leave it alone.
    await updateWebhook(store.db, key, tenantId, w.id, { headers: { 'X-New': 'n' } });
    await updateWebhook(store.db, key, tenantId, w.id, { name: 'renamed' });
    expect(await getWebhookHeaders(store.db, key, tenantId, w.id)).toEqual({ 'X-New': 'n' });
  });

  it('migration 0010 keeps a pre-0010 endpoint\'s headers readable until the upgrade encrypts them', async () => {
    const old = openDatabase(':memory:');
    try {
      const before0010 = Object.fromEntries(Object.entries(migrations).filter(([name]) => name < '0010'));
      await migrateToLatest(old.db, before0010);
      const t = await createTenant(old.db, { name: 'Old', sipDomain: 'old.test' });
      await sql`insert into webhooks (id, tenant_id, name, url, events, secret_enc, headers, created_at, updated_at)
        values ('w-old', ${t.id}, 'old', 'https://x.example.com/', '["*"]', 'v1:x', '{"X-Token":"old-plain-token"}', '2026-01-01', '2026-01-01')`.execute(old.db);
      await migrateToLatest(old.db);
      expect((await getWebhook(old.db, t.id, 'w-old')).headerNames).toEqual(['X-Token']);
      expect(await upgradeWebhookHeaders(old.db, key)).toBe(1);
      expect(await getWebhookHeaders(old.db, key, t.id, 'w-old')).toEqual({ 'X-Token': 'old-plain-token' });
      const row = await old.db.selectFrom('webhooks').select(['headers', 'headers_enc']).where('id', '=', 'w-old').executeTakeFirstOrThrow();
      expect(JSON.stringify(row)).not.toContain('old-plain-token');
    } finally {
      await old.close();
    }
  });

  it('leaves no pre-0010 header value in clear in the database file or its WAL after the upgrade', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'switchboard-headers-'));
    const allBytes = (): Buffer => Buffer.concat(readdirSync(dir).map((f) => readFileSync(join(dir, f))));
    const old = openDatabase(join(dir, 'switchboard.db'));
    try {
      await migrateToLatest(old.db, Object.fromEntries(Object.entries(migrations).filter(([name]) => name < '0010')));
      const t = await createTenant(old.db, { name: 'Old', sipDomain: 'old.test' });
      // Long values too (up to 20 × 1 KB): a row that large spills onto overflow pages, which an update frees.
      const legacy = { 'X-Token': 'Legacy-Plain-Token-0042', ...Object.fromEntries([1, 2, 3, 4, 5].map((i) => [`X-Long-${i}`, `Legacy-Long-Value-${i}-`.padEnd(1000, 'x')])) };
      await sql`insert into webhooks (id, tenant_id, name, url, events, secret_enc, headers, created_at, updated_at)
        values ('w-old', ${t.id}, 'old', 'https://x.example.com/', '["*"]', 'v1:x', ${JSON.stringify(legacy)}, '2026-01-01', '2026-01-01')`.execute(old.db);
      await sql`PRAGMA wal_checkpoint(TRUNCATE)`.execute(old.db);
      const plain = ['Legacy-Plain-Token-0042', 'Legacy-Long-Value-1-', 'Legacy-Long-Value-5-'];
      for (const p of plain) expect(allBytes().includes(Buffer.from(p)), p).toBe(true); // the scan sees them before
      await migrateToLatest(old.db);
      expect(await upgradeWebhookHeaders(old.db, key)).toBe(1);
      for (const p of plain) expect(allBytes().includes(Buffer.from(p)), p).toBe(false);
      expect(await getWebhookHeaders(old.db, key, t.id, 'w-old')).toEqual(legacy);
    } finally {
      await old.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('encrypts header values stored in clear before 0010 at start (upgradeWebhookHeaders), reading them meanwhile', async () => {
    const w = await createWebhook(store.db, key, { tenantId, ...base });
    const plain = await createWebhook(store.db, key, { tenantId, ...base });
    // As a database written before migration 0010 holds them.
    await store.db.updateTable('webhooks').set({ headers: JSON.stringify({ Authorization: 'Bearer legacy-token' }) }).where('id', '=', plain.id).execute();
    expect((await getWebhook(store.db, tenantId, plain.id)).headerNames).toEqual(['Authorization']);
    expect(await getWebhookHeaders(store.db, key, tenantId, plain.id)).toEqual({ Authorization: 'Bearer legacy-token' });
    expect(await upgradeWebhookHeaders(store.db, key)).toBe(1);
    expect(await upgradeWebhookHeaders(store.db, key)).toBe(0);
    const row = await store.db.selectFrom('webhooks').selectAll().where('id', '=', plain.id).executeTakeFirstOrThrow();
    expect(row.headers).toBe('{}');
    expect(row.headers_enc).not.toContain('legacy-token');
    expect(await getWebhookHeaders(store.db, key, tenantId, plain.id)).toEqual({ Authorization: 'Bearer legacy-token' });
    expect(await getWebhookHeaders(store.db, key, tenantId, w.id)).toEqual({});
  });

  it('creates with defaults, reads without the secret, decrypts it on request', async () => {
    const w = await createWebhook(store.db, key, { tenantId, ...base });
    expect(w).toMatchObject({ retryCount: 3, timeoutMs: 5000, enabled: true, headerNames: [], events: ['call.*'], breaker: { state: 'closed', consecutiveFailures: 0, pausedUntil: null } });
    expect(JSON.stringify(await getWebhook(store.db, tenantId, w.id))).not.toContain('secret');
    expect(await getWebhookSecret(store.db, key, tenantId, w.id)).toBe(base.secret);
    await expect(getWebhookSecret(store.db, testSecretKey(), tenantId, w.id)).rejects.toMatchObject({ code: 'SECRET_DECRYPT_FAILED' });
  });

  it('updates fields and rotates the secret; lists per tenant; the breaker is the dispatcher’s to set', async () => {
    const w = await createWebhook(store.db, key, { tenantId, ...base, headers: { 'X-A': '1' } });
    const u = await updateWebhook(store.db, key, tenantId, w.id, { enabled: false, retryCount: 5, secret: 'rotated-secret-123456' });
    expect(u).toMatchObject({ enabled: false, retryCount: 5, headerNames: ['X-A'] });
    expect(await getWebhookHeaders(store.db, key, tenantId, w.id)).toEqual({ 'X-A': '1' });
    expect(await getWebhookSecret(store.db, key, tenantId, w.id)).toBe('rotated-secret-123456');
    const other = await createTenant(store.db, { name: 'B', sipDomain: 'b.test' });
    await createWebhook(store.db, key, { tenantId: other.id, ...base });
    expect((await listWebhooks(store.db, tenantId)).total).toBe(1);
    expect((await listWebhooks(store.db, tenantId, { enabled: true })).total).toBe(0);
    expect((await listWebhooks(store.db, other.id, { enabled: true })).total).toBe(1);
    await setWebhookBreaker(store.db, w.id, { state: 'open', consecutiveFailures: 10, pausedUntil: '2026-11-21T10:05:00.000Z' });
    expect((await getWebhook(store.db, tenantId, w.id)).breaker).toEqual({ state: 'open', consecutiveFailures: 10, pausedUntil: '2026-11-21T10:05:00.000Z' });
    await expect(getWebhook(store.db, other.id, w.id)).rejects.toMatchObject({ code: 'WEBHOOK_NOT_FOUND' });
    await expect(updateWebhook(store.db, key, other.id, w.id, { name: 'x' })).rejects.toMatchObject({ code: 'WEBHOOK_NOT_FOUND' });
    await expect(deleteWebhook(store.db, other.id, w.id)).rejects.toMatchObject({ code: 'WEBHOOK_NOT_FOUND' });
  });

  it('keeps a delivery log: attempts recorded on the delivery\'s row, deleted with the endpoint', async () => {
    const w = await createWebhook(store.db, key, { tenantId, ...base });
    const d = await createDelivery(store.db, { webhookId: w.id, tenantId, eventId: 'ev-1', eventType: 'call.ended' });
    expect(d).toMatchObject({ status: 'pending', attempts: 0 });
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
