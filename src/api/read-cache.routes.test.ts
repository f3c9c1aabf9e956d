import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { wallClock } from '../shared/clock.js';
import { apiKeyAuth } from './api-key-auth.js';
import { createApi } from './app.js';
import { bind, createExt, type TestApi } from './routes/extensions/test-helpers.js';
import { body, captureLogger, testApiWithStore } from './test-helpers.js';

/**
 * The read cache as the routes use it (main.ts wiring: the store's change counter): answers are the
 * same bytes as without it, and every write is visible to the very next request.
 */
let t: TestApi;
beforeEach(async () => {
  t = await testApiWithStore();
  for (const number of ['1001', '1002', '1003']) await createExt(t, { number });
});
afterEach(async () => t.close());

const LIST = '/api/v1/extensions?limit=100&sort=number';
const get = (path = LIST) => t.call('GET', path);
const numbersOf = async (res: Response) => (await body(res)).data.map((e: { number: string }) => e.number);

/** Headers that differ between any two requests whatever the cache does. */
const PER_REQUEST = new Set(['x-request-id', 'x-ratelimit-remaining', 'x-ratelimit-reset']);
const stableHeaders = (res: Response) => [...res.headers].filter(([name]) => !PER_REQUEST.has(name)).sort();

describe('read cache on list routes', () => {
  it('answers cached and uncached with the same status, headers and bytes', async () => {
    // The same store and key, without a change counter: no read cache.
    const uncached = createApi({
      logger: captureLogger().logger,
      version: '9.9.9-test',
      rateLimit: false,
      auth: apiKeyAuth({ db: t.db }),
      resources: { db: t.db, secretKey: t.secretKey, clock: wallClock },
    });
    for (const path of [LIST, '/api/v1/extensions?number=1002', '/api/v1/registrations']) {
      const plain = await uncached.request(path, { headers: { 'X-API-Key': t.adminKey } });
      const miss = await get(path);
      const hit = await get(path);
      const plainText = await plain.text();
      expect(miss.status).toBe(plain.status);
      expect(hit.status).toBe(plain.status);
      expect(await miss.text()).toBe(plainText);
      expect(await hit.text()).toBe(plainText);
      expect(stableHeaders(miss)).toEqual(stableHeaders(plain));
      expect(stableHeaders(hit)).toEqual(stableHeaders(plain));
    }
  });

  it('shows a POST, PATCH and DELETE through the API on the very next GET', async () => {
    expect(await numbersOf(await get())).toEqual(['1001', '1002', '1003']);
    const created = await createExt(t, { number: '1004' });
    expect(await numbersOf(await get())).toEqual(['1001', '1002', '1003', '1004']);
    expect((await t.call('PATCH', `/api/v1/extensions/${created.id}`, { body: { display_name: 'Renamed' } })).status).toBe(200);
    const renamed = (await body(await get())).data.find((e: { id: string }) => e.id === created.id);
    expect(renamed.display_name).toBe('Renamed');
    expect((await t.call('DELETE', `/api/v1/extensions/${created.id}`)).status).toBe(204);
    expect(await numbersOf(await get())).toEqual(['1001', '1002', '1003']);
  });

  it('shows a registrar write through the store on the very next GET', async () => {
    const contactsOf1001 = async () => (await body(await get())).data[0].registration_status.contacts;
    expect(await contactsOf1001()).toBe(0);
    expect((await body(await get('/api/v1/registrations'))).data).toHaveLength(0);
    const [first] = (await body(await get())).data;
    await bind(t, first);
    expect(await contactsOf1001()).toBe(1);
    expect((await body(await get('/api/v1/registrations'))).data).toHaveLength(1);
  });

  it('drops a binding that expires without any write within 1 s', async () => {
    // Without the request log, whose flushes would move the change counter anyway.
    await t.close();
    t = await testApiWithStore({ requestLog: undefined });
    const ext = await createExt(t, { number: '1001' });
    await bind(t, ext, { expiresInSeconds: 0.3 });
    expect((await body(await get('/api/v1/registrations'))).data).toHaveLength(1);
    expect((await body(await get())).data[0].registration_status.contacts).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 400));
    // Expired, possibly still served from the cache, but for less than 1 s from when it was cached.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect((await body(await get('/api/v1/registrations'))).data).toHaveLength(0);
    expect((await body(await get())).data[0].registration_status.contacts).toBe(0);
  });
});
