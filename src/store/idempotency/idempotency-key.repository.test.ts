import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../database.js';
import { openTestStore } from '../test-helpers.js';
import { deleteIdempotencyKeysBefore, getIdempotentResponse, putIdempotentResponse } from './idempotency-key.repository.js';

let store: Store;
beforeEach(async () => {
  store = await openTestStore();
});
afterEach(() => store.close());

const entry = { tenantId: 't1', key: 'k1', method: 'POST', path: '/api/v1/extensions', requestHash: 'h', status: 201, responseBody: '{"data":{}}' };

describe('idempotency key repository', () => {
  it('stores and returns the first response, per tenant', async () => {
    await putIdempotentResponse(store.db, entry, '2026-01-01T00:00:00.000Z');
    expect(await getIdempotentResponse(store.db, 't1', 'k1')).toEqual({ ...entry, createdAt: '2026-01-01T00:00:00.000Z' });
    expect(await getIdempotentResponse(store.db, 't2', 'k1')).toBeUndefined();
    await putIdempotentResponse(store.db, { ...entry, tenantId: 't2' });
  });

  it('refuses a second put for the same key with CONFLICT', async () => {
    await putIdempotentResponse(store.db, entry);
    await expect(putIdempotentResponse(store.db, { ...entry, status: 500 })).rejects.toMatchObject({ code: 'CONFLICT' });
    expect((await getIdempotentResponse(store.db, 't1', 'k1'))?.status).toBe(201);
  });

  it('expires old keys', async () => {
    await putIdempotentResponse(store.db, entry, '2026-01-01T00:00:00.000Z');
    await putIdempotentResponse(store.db, { ...entry, key: 'k2' }, '2026-01-03T00:00:00.000Z');
    expect(await deleteIdempotencyKeysBefore(store.db, '2026-01-02T00:00:00.000Z')).toBe(1);
    expect(await getIdempotentResponse(store.db, 't1', 'k2')).toBeDefined();
  });
});
