import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { computeHa1, findDigestCredentials, listRegistrations } from '../../../store/index.js';
import { dumpAllTables } from '../../../store/test-helpers.js';
import { body, testApiWithStore } from '../../test-helpers.js';
import { auditOf, bind, createExt, type TestApi } from './test-helpers.js';

let t: TestApi;
beforeEach(async () => {
  t = await testApiWithStore();
});
afterEach(() => t.close());

describe('GET /api/v1/extensions/{id}/credentials', () => {
  it('returns what a phone needs with the extensions:credentials scope, and audits the read without the password', async () => {
    const created = await createExt(t, { sip_password: 'correct-horse-battery' });
    const res = await t.call('GET', `/api/v1/extensions/${created.id}/credentials`, { key: await t.keyFor(['extensions:credentials']) });
    expect(res.status).toBe(200);
    expect((await body(res)).data).toEqual({
      sip_username: '1001',
      sip_password: 'correct-horse-battery',
      realm: 'acme.test',
      sip_domain: 'acme.test',
      registrar: 'acme.test',
    });
    const [entry] = await auditOf(t, 'extension.credentials.read');
    expect(entry).toMatchObject({ targetType: 'extension', targetId: created.id, details: { number: '1001' } });
    expect(JSON.stringify(entry)).not.toContain('correct-horse-battery');
  });

  it('is refused to keys that may write extensions or read VoIP data but not read credentials', async () => {
    const created = await createExt(t);
    for (const scopes of [['extensions:write'], ['voip:read', 'voip:write'], ['cdrs:read']]) {
      const res = await t.call('GET', `/api/v1/extensions/${created.id}/credentials`, { key: await t.keyFor(scopes) });
      expect(res.status, scopes.join()).toBe(403);
    }
    expect((await t.call('GET', `/api/v1/extensions/${created.id}/credentials`, { key: '' })).status).toBe(401);
    expect(await auditOf(t, 'extension.credentials.read')).toEqual([]);
  });

  it("404 for another tenant's extension", async () => {
    const created = await createExt(t);
    const res = await t.call('GET', `/api/v1/extensions/${created.id}/credentials`, { key: t.otherAdminKey });
    expect(res.status).toBe(404);
    expect((await body(res)).error.code).toBe('EXTENSION_NOT_FOUND');
  });
});

describe('POST /api/v1/extensions/{id}/credentials/regenerate', () => {
  it('sets a new generated password, returns it once, drops bindings and audits without it', async () => {
    const created = await createExt(t);
    await bind(t, created);
    const res = await t.call('POST', `/api/v1/extensions/${created.id}/credentials/regenerate`, { key: await t.keyFor(['extensions:write']) });
    expect(res.status).toBe(200);
    const { data } = await body(res);
    expect(data).toMatchObject({ sip_username: '1001', realm: 'acme.test' });
    expect(data.sip_password).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(data.sip_password).not.toBe(created.sip_password);
    const creds = await findDigestCredentials(t.db, t.tenant.id, '1001');
    expect(creds?.ha1Md5).toBe(computeHa1('1001', 'acme.test', data.sip_password).md5);
    const read = await body(await t.call('GET', `/api/v1/extensions/${created.id}/credentials`));
    expect(read.data.sip_password).toBe(data.sip_password);
    expect((await listRegistrations(t.db, t.tenant.id, { now: null })).total).toBe(0);
    const [entry] = await auditOf(t, 'extension.credentials.regenerated');
    expect(entry?.details).toEqual({ number: '1001', bindings_removed: 1 });
    expect(JSON.stringify(entry)).not.toContain(data.sip_password);
  });

  it('a retry with the same Idempotency-Key gets the same password instead of regenerating again', async () => {
    const created = await createExt(t);
    const regenerate = () =>
      t.call('POST', `/api/v1/extensions/${created.id}/credentials/regenerate`, { headers: { 'Idempotency-Key': 'regen-1' } });
    const first = await body(await regenerate());
    const retry = await regenerate();
    expect(retry.headers.get('Idempotent-Replayed')).toBe('true');
    expect((await body(retry)).data.sip_password).toBe(first.data.sip_password);
    expect(await auditOf(t, 'extension.credentials.regenerated')).toHaveLength(1);
    const read = await body(await t.call('GET', `/api/v1/extensions/${created.id}/credentials`));
    expect(read.data.sip_password).toBe(first.data.sip_password);
  });

  it('401, 403 (credentials scope alone does not allow writing) and 404 across tenants', async () => {
    const created = await createExt(t);
    const regen = async (key: string) => (await t.call('POST', `/api/v1/extensions/${created.id}/credentials/regenerate`, { key })).status;
    expect(await regen('')).toBe(401);
    expect(await regen(await t.keyFor(['extensions:credentials']))).toBe(403);
    expect(await regen(t.otherAdminKey)).toBe(404);
  });
});

describe('SIP passwords at rest and in logs', () => {
  it('no table holds a SIP password in clear, even after an idempotent create, and no log line does', async () => {
    const given = 'given-password-0123456789';
    await createExt(t, { number: '1001', sip_password: given });
    const replayed = await t.call('POST', '/api/v1/extensions', { body: { number: '1002' }, headers: { 'Idempotency-Key': 'k-1002' } });
    const generated = (await body(replayed)).data.sip_password as string;
    const ext = (await body(await t.call('GET', '/api/v1/extensions?number=1001'))).data[0];
    const regenerated = (await body(await t.call('POST', `/api/v1/extensions/${ext.id}/credentials/regenerate`))).data.sip_password as string;
    await t.call('GET', `/api/v1/extensions/${ext.id}/credentials`);
    await t.call('PATCH', `/api/v1/extensions/${ext.id}`, { body: { sip_password: 'patched-password-987654' } });

    const everything = await dumpAllTables(t.db);
    expect(everything).toContain('extension.credentials.read'); // the dump is real: it has the audit log
    for (const secret of [given, generated, regenerated, 'patched-password-987654']) {
      expect(everything).not.toContain(secret);
      expect(t.lines.join('\n')).not.toContain(secret);
    }
  });
});
