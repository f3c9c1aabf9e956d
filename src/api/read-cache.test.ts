import { describe, expect, it } from 'vitest';
import { ReadCache, readCacheKey } from './read-cache.js';

/** A cache over a counter and a clock the test moves by hand. */
function fixture(options: { maxEntries?: number; maxBytes?: number } = {}) {
  const state = { changes: 0, now: 1_000_000, computed: 0 };
  const cache = new ReadCache({ changes: () => state.changes, clock: { now: () => state.now }, ...options });
  const get = async (key: string, body = `body of ${key}`) =>
    Buffer.from(
      await cache.getOrCompute(key, async () => {
        state.computed++;
        return body;
      }),
    ).toString('utf8');
  return { state, cache, get };
}

describe('ReadCache', () => {
  it('answers from the cache while the change counter stands still', async () => {
    const { state, get } = fixture();
    expect(await get('a')).toBe('body of a');
    expect(await get('a', 'other')).toBe('body of a');
    expect(state.computed).toBe(1);
  });

  it('computes again after any write', async () => {
    const { state, get } = fixture();
    await get('a', 'v1');
    state.changes++;
    expect(await get('a', 'v2')).toBe('v2');
    expect(await get('a', 'v3')).toBe('v2');
    expect(state.computed).toBe(2);
  });

  it('keeps an entry under the counter read before its queries, so a write during them is not hidden', async () => {
    const { state, cache } = fixture();
    await cache.getOrCompute('a', async () => {
      state.changes++; // a write lands while the list is being read
      return 'maybe before the write';
    });
    expect(Buffer.from(await cache.getOrCompute('a', async () => 'after the write')).toString()).toBe('after the write');
  });

  it('serves an entry for less than 1 s, whatever the counter', async () => {
    const { state, get } = fixture();
    await get('a', 'v1');
    state.now += 999;
    expect(await get('a', 'v2')).toBe('v1');
    state.now += 1;
    expect(await get('a', 'v3')).toBe('v3');
    state.now -= 5000; // a wall clock stepped back: not trusted
    expect(await get('a', 'v4')).toBe('v4');
  });

  it('keeps at most maxEntries, dropping the least recently used', async () => {
    const { state, cache, get } = fixture({ maxEntries: 2 });
    await get('a');
    await get('b');
    await get('a'); // a is now more recent than b
    await get('c'); // evicts b
    expect(cache.size).toBe(2);
    state.computed = 0;
    await get('a');
    await get('c');
    expect(state.computed).toBe(0);
    await get('b');
    expect(state.computed).toBe(1);
  });

  it('keeps at most maxBytes of bodies and never keeps a body larger than that', async () => {
    const { state, cache, get } = fixture({ maxBytes: 10 });
    await get('a', '123456');
    await get('b', '123456'); // 12 > 10: a goes
    expect(cache.size).toBe(1);
    await get('big', '12345678901');
    expect(cache.size).toBe(1);
    state.computed = 0;
    await get('big', '12345678901');
    expect(state.computed).toBe(1);
  });
});

describe('readCacheKey', () => {
  it('is the tenant, the route and the path with its query sorted', () => {
    const a = readCacheKey('t1', 'GET /x', 'http://localhost/api/v1/x?limit=100&offset=0&sort=-number');
    expect(readCacheKey('t1', 'GET /x', 'http://other:8080/api/v1/x?sort=-number&offset=0&limit=100')).toBe(a);
    expect(readCacheKey('t2', 'GET /x', 'http://localhost/api/v1/x?limit=100&offset=0&sort=-number')).not.toBe(a);
    expect(readCacheKey('t1', 'GET /y', 'http://localhost/api/v1/x?limit=100&offset=0&sort=-number')).not.toBe(a);
    expect(readCacheKey('t1', 'GET /x', 'http://localhost/api/v1/x?limit=10&offset=0&sort=-number')).not.toBe(a);
    expect(readCacheKey('t1', 'GET /x', 'http://localhost/api/v1/x')).not.toBe(readCacheKey('t1', 'GET /x', 'http://localhost/api/v1/x/'));
  });
});
