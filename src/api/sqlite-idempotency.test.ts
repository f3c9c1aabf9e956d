import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../store/index.js';
import { openTestStore, testSecretKey } from '../store/test-helpers.js';
import { SqliteIdempotencyStore } from './sqlite-idempotency.js';

let store: Store;
beforeEach(async () => {
  store = await openTestStore();
});
afterEach(() => store.close());

const response = { status: 201, contentType: 'application/json', body: '{"data":{"sip_password":"shown-once-secret"}}' };

describe('SqliteIdempotencyStore with a secret key', () => {
  it('replays the stored response while the row holds neither it nor the plain request hash', async () => {
    const key = testSecretKey();
    const s = new SqliteIdempotencyStore(store.db, { secretKey: key });
    expect((await s.claim('tenant-1', 'k1', 'hash-of-body')).state).toBe('claimed');
    await s.complete('tenant-1', 'k1', response);
    const row = await store.db.selectFrom('idempotency_keys').selectAll().executeTakeFirstOrThrow();
    expect(row.response_body).not.toContain('shown-once-secret');
    expect(row.request_hash).not.toBe('hash-of-body');
    // A new instance with the same key (a restart) replays it; another request hash is a mismatch.
    const again = new SqliteIdempotencyStore(store.db, { secretKey: key });
    expect(await again.claim('tenant-1', 'k1', 'hash-of-body')).toEqual({ state: 'completed', response });
    expect((await again.claim('tenant-1', 'k1', 'another-hash')).state).toBe('mismatch');
  });

  it('binds the ciphertext to its tenant and key (a row copied elsewhere does not decrypt)', async () => {
    const key = testSecretKey();
    const s = new SqliteIdempotencyStore(store.db, { secretKey: key });
    await s.claim('tenant-1', 'k1', 'h');
    await s.complete('tenant-1', 'k1', response);
    await store.db.updateTable('idempotency_keys').set({ key: 'k2' }).execute();
    await expect(s.claim('tenant-1', 'k2', 'h')).rejects.toMatchObject({ code: 'SECRET_DECRYPT_FAILED' });
  });
});
