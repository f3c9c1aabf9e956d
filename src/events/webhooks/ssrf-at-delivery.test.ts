import { describe, expect, it } from 'vitest';
import { attemptDelivery } from './deliver.js';
import { allowListOf } from './ip-ranges.js';
import { SSRF_FORMS, ssrfDns } from './ssrf-forms.fixture.js';

/**
 * The same forms the guard refuses at creation, now at delivery: a webhook stored before the rules
 * (or the DNS answer) changed must be refused by the attempt itself, before any connection — the
 * attempt reports `refused` with no address, and a refusal is a failed attempt, never a throw.
 */
const req = { headers: { 'content-type': 'application/json' }, body: '{"id":"e1"}', timeoutMs: 1000 };

describe('SSRF guard: URLs refused at delivery', () => {
  for (const [name, url] of SSRF_FORMS) {
    it(`refuses ${name}: ${url}`, async () => {
      const r = await attemptDelivery(url, req, { resolve: ssrfDns, allow: allowListOf([]) });
      expect(r).toMatchObject({ ok: false, refused: true, address: null, statusCode: null });
      expect(r.error).toMatch(/^refused: /);
    });
  }
});
