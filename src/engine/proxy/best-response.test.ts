import { describe, expect, it } from 'vitest';
import { chooseBest, responseRank } from './best-response.js';

const finals = (statuses: number[]) => statuses.map((status, seq) => ({ status, seq, value: status }));

describe('best response (RFC 3261 §16.7 step 6)', () => {
  it('prefers 6xx, then 401/407/415/420/484, then other 4xx, then 5xx', () => {
    expect(chooseBest(finals([500, 404, 603, 401]), false)?.status).toBe(603);
    expect(chooseBest(finals([500, 404, 484]), false)?.status).toBe(484);
    expect(chooseBest(finals([503, 486]), false)?.status).toBe(486);
    expect(chooseBest(finals([503, 500]), false)?.status).toBe(503);
  });

  it('breaks ties by arrival order', () => {
    expect(chooseBest(finals([486, 404, 480]), false)?.value).toBe(486);
    expect(chooseBest(finals([407, 401]), false)?.value).toBe(407);
  });

  it('ranks 3xx as the lowest class unless the redirects were followed', () => {
    expect(chooseBest(finals([404, 302]), false)?.status).toBe(302);
    expect(chooseBest(finals([404, 302]), true)?.status).toBe(404);
    expect(chooseBest(finals([503, 302]), true)?.status).toBe(503);
    expect(responseRank(302, true)).toBeGreaterThan(responseRank(503, true));
  });

  it('has no answer without finals (the caller sends 408) and ignores 2xx', () => {
    expect(chooseBest([], false)).toBeUndefined();
    expect(chooseBest(finals([200]), false)).toBeUndefined();
  });
});
