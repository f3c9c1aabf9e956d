/**
 * Issue 3 acceptance: "a dump of the database file contains no API key, password or SIP password in
 * clear text". Every flow that takes or hands out a secret runs through the real API on a
 * file-backed database (Idempotency-Key replays and the request log included); then the raw bytes
 * of the database file and its WAL are searched for each secret.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { body, testApiWithStore } from './test-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'switchboard-secrets-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Every byte SQLite wrote: the database file and its WAL/SHM companions. */
const allBytes = (): Buffer => Buffer.concat(readdirSync(dir).map((f) => readFileSync(join(dir, f))));

describe('secrets at rest through the API', () => {
  it('leaves no SIP password, API key, user password or token in the database file', async () => {
    const t = await testApiWithStore({}, { dbPath: join(dir, 'switchboard.db') });
    const secrets: string[] = [t.adminKey];
    const ok = async (res: Response, status: number) => {
      expect(res.status, JSON.stringify(await res.clone().json().catch(() => null))).toBe(status);
      return (await body(res)).data;
    };
    const idem = (k: string) => ({ 'Idempotency-Key': k });

    // Extensions: a given password, a generated one (replayed once), a changed one, a regenerated one.
    const given = 'Given-SIP-Passw0rd-4711';
    const e1 = await ok(await t.call('POST', '/api/v1/extensions', { body: { number: '2001', sip_password: given }, headers: idem('e1') }), 201);
    await ok(await t.call('POST', '/api/v1/extensions', { body: { number: '2001', sip_password: given }, headers: idem('e1') }), 201);
    const e2 = await ok(await t.call('POST', '/api/v1/extensions', { body: { number: '2002' }, headers: idem('e2') }), 201);
    secrets.push(given, e2.sip_password);
    expect((await ok(await t.call('GET', `/api/v1/extensions/${e2.id}/credentials`), 200)).sip_password).toBe(e2.sip_password);
    const changed = 'Changed-SIP-Passw0rd-0815';
    await ok(await t.call('PATCH', `/api/v1/extensions/${e1.id}`, { body: { sip_password: changed } }), 200);
    const regenerated = await ok(await t.call('POST', `/api/v1/extensions/${e2.id}/credentials/regenerate`, { headers: idem('r1') }), 200);
    secrets.push(changed, regenerated.sip_password);

    // API keys: created under an Idempotency-Key (replayed), then rotated.
    const k = await ok(await t.call('POST', '/api/v1/api-keys', { body: { name: 'crm', scopes: ['voip:read'] }, headers: idem('k1') }), 201);
    await t.call('POST', '/api/v1/api-keys', { body: { name: 'crm', scopes: ['voip:read'] }, headers: idem('k1') });
    const rotated = await ok(await t.call('POST', `/api/v1/api-keys/${k.id}/rotate`, { body: {}, headers: idem('k2') }), 201);
    secrets.push(k.key, rotated.key);

    // Users: created with a password, logged in, refreshed, password changed, reset by token.
    const pw1 = 'First-User-Passw0rd-1';
    const user = await ok(await t.call('POST', '/api/v1/users', { body: { email: 'ada@acme.test', name: 'Ada', role: 'admin', password: pw1 }, headers: idem('u1') }), 201);
    const login = await ok(await t.call('POST', '/api/v1/auth/login', { key: '', body: { email: 'ada@acme.test', password: pw1 }, headers: idem('l1') }), 200);
    const refreshed = await ok(await t.call('POST', '/api/v1/auth/refresh', { key: '', body: { refresh_token: login.refresh_token } }), 200);
    const pw2 = 'Second-User-Passw0rd-2';
    const bearer = { key: '', headers: { Authorization: `Bearer ${refreshed.access_token}` } };
    expect((await t.call('POST', '/api/v1/auth/password', { ...bearer, body: { current_password: pw1, new_password: pw2 } })).status).toBeLessThan(300);
    const reset = await ok(await t.call('POST', `/api/v1/users/${user.id}/password-reset`, { body: {} }), 201);
    const pw3 = 'Third-User-Passw0rd-3';
    expect((await t.call('POST', '/api/v1/auth/password-reset', { key: '', body: { token: reset.token, new_password: pw3 } })).status).toBeLessThan(300);
    secrets.push(pw1, pw2, pw3, login.access_token, login.refresh_token, refreshed.access_token, refreshed.refresh_token, reset.token);

    // Webhooks: a given secret (replayed once), a generated one, a rotated one.
    const givenHook = 'Given-Webhook-Secret-0001';
    const hookBody = { name: 'crm', url: 'https://crm.example.com/hook', events: ['call.*'], secret: givenHook };
    await ok(await t.call('POST', '/api/v1/webhooks', { body: hookBody, headers: idem('w1') }), 201);
    await ok(await t.call('POST', '/api/v1/webhooks', { body: hookBody, headers: idem('w1') }), 201);
    const h2 = await ok(await t.call('POST', '/api/v1/webhooks', { body: { ...hookBody, secret: undefined }, headers: idem('w2') }), 201);
    const rotatedHook = await ok(await t.call('POST', `/api/v1/webhooks/${h2.id}/rotate-secret`, { headers: idem('w3') }), 200);
    secrets.push(givenHook, h2.secret, rotatedHook.secret);
    // Custom header values (receivers' auth tokens): given on create (replayed), replaced, kept by the marker.
    const headerToken = 'Bearer Header-Token-0001';
    const h3 = await ok(await t.call('POST', '/api/v1/webhooks', { body: { ...hookBody, headers: { Authorization: headerToken } }, headers: idem('w4') }), 201);
    await ok(await t.call('POST', '/api/v1/webhooks', { body: { ...hookBody, headers: { Authorization: headerToken } }, headers: idem('w4') }), 201);
    const replacedToken = 'Bearer Header-Token-0002';
    await ok(await t.call('PATCH', `/api/v1/webhooks/${h3.id}`, { body: { headers: { Authorization: replacedToken, 'X-Api-Key': 'Header-Api-Key-0003' } } }), 200);
    await ok(await t.call('PATCH', `/api/v1/webhooks/${h3.id}`, { body: { headers: { Authorization: '********', 'X-Api-Key': '********' } } }), 200);
    secrets.push(headerToken, replacedToken, 'Header-Api-Key-0003');

    // A key sent in the query string (some clients do) must not reach the request log either.
    await t.call('GET', `/api/v1/extensions?api_key=${t.adminKey}`);

    const before = allBytes();
    await t.close();
    const after = allBytes();
    for (const bytes of [before, after]) {
      for (const secret of secrets) {
        expect(secret.length).toBeGreaterThan(8);
        expect(bytes.includes(Buffer.from(secret, 'utf8')), `secret ${secret.slice(0, 6)}… in the database file`).toBe(false);
        expect(bytes.includes(Buffer.from(secret, 'utf16le'))).toBe(false);
      }
      // Sanity: the scan sees what was written (a number, an email, a key's hint).
      expect(bytes.includes(Buffer.from('ada@acme.test'))).toBe(true);
      expect(bytes.includes(Buffer.from('/api/v1/extensions'))).toBe(true);
    }
  });
});
