import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { computeHa1, createSite, findDigestCredentials } from '../../../store/index.js';
import { body, testApiWithStore } from '../../test-helpers.js';
import { auditOf, createExt, fieldsOf, type TestApi } from './test-helpers.js';

let t: TestApi;
beforeEach(async () => {
  t = await testApiWithStore();
});
afterEach(() => t.close());

describe('POST /api/v1/extensions', () => {
  it('creates with defaults, a generated strong password and what a phone needs', async () => {
    const res = await t.call('POST', '/api/v1/extensions', { body: { number: '1001', display_name: 'Alice' } });
    expect(res.status).toBe(201);
    const { data } = await body(res);
    expect(data).toMatchObject({
      number: '1001',
      display_name: 'Alice',
      sip_username: '1001',
      sip_domain: 'acme.test',
      realm: 'acme.test',
      status: 'active',
      dnd: false,
      voicemail_enabled: true,
      recording_enabled: false,
      max_concurrent_calls: 2,
      site_id: null,
      codecs: ['opus', 'PCMU', 'PCMA', 'G722'],
      forward: { always: null, busy: null, no_answer: null, no_answer_seconds: null },
      registration_status: { registered: false, contacts: 0 },
    });
    expect(data.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(data.sip_password).toMatch(/^[A-Za-z0-9_-]{24}$/);
    // The password works for digest: the stored HA1 is the one computed from what we were given.
    const creds = await findDigestCredentials(t.db, t.tenant.id, '1001');
    expect(creds?.ha1Sha256).toBe(computeHa1('1001', 'acme.test', data.sip_password).sha256);
  });

  it('keeps a given password and every setting', async () => {
    const site = await createSite(t.db, { tenantId: t.tenant.id, name: 'Shop 1', storeId: 'store-001' });
    const data = await createExt(t, {
      number: '2001',
      sip_password: 'correct-horse-battery',
      caller_id_name: 'Front desk',
      caller_id_number: '+390212345678',
      codecs: ['PCMA', 'G729'],
      voicemail_enabled: false,
      recording_enabled: true,
      forward: { busy: '2002', no_answer: '+390298765432', no_answer_seconds: 25 },
      dnd: true,
      max_concurrent_calls: 4,
      site_id: site.id,
      status: 'disabled',
    });
    expect(data).toMatchObject({
      sip_password: 'correct-horse-battery',
      caller_id_name: 'Front desk',
      caller_id_number: '+390212345678',
      codecs: ['PCMA', 'G729'],
      voicemail_enabled: false,
      recording_enabled: true,
      forward: { always: null, busy: '2002', no_answer: '+390298765432', no_answer_seconds: 25 },
      dnd: true,
      max_concurrent_calls: 4,
      site_id: site.id,
      status: 'disabled',
      display_name: '2001',
    });
  });

  it('writes an audit entry without the password', async () => {
    const data = await createExt(t, { sip_password: 'correct-horse-battery' });
    const [entry] = await auditOf(t, 'extension.created');
    expect(entry).toMatchObject({ targetType: 'extension', targetId: data.id, actorType: 'api_key' });
    expect(entry?.details).toMatchObject({ number: '1001', sip_password_generated: false });
    expect(JSON.stringify(entry)).not.toContain('correct-horse-battery');
  });

  it.each([
    // undefined is dropped by JSON.stringify: the body has no number at all.
    ['number missing', { number: undefined }, 'number'],
    ['number with letters', { number: '10a1' }, 'number'],
    ['number too short', { number: '1' }, 'number'],
    ['number too long', { number: '12345678901' }, 'number'],
    ['number not a string', { number: 1001 }, 'number'],
    ['short password', { sip_password: 'short-pass' }, 'sip_password'],
    ['password with a space', { sip_password: 'has a space inside' }, 'sip_password'],
    ['empty display name', { display_name: '' }, 'display_name'],
    ['long caller id name', { caller_id_name: 'x'.repeat(65) }, 'caller_id_name'],
    ['caller id number with letters', { caller_id_number: 'ABC' }, 'caller_id_number'],
    ['unknown codec', { codecs: ['opus', 'mp3'] }, 'codecs.1'],
    ['no codecs', { codecs: [] }, 'codecs'],
    ['a codec twice', { codecs: ['PCMU', 'PCMU'] }, 'codecs'],
    ['voicemail not boolean', { voicemail_enabled: 'yes' }, 'voicemail_enabled'],
    ['recording not boolean', { recording_enabled: 1 }, 'recording_enabled'],
    ['dnd not boolean', { dnd: 'on' }, 'dnd'],
    ['forward target not a number', { forward: { always: 'sip:evil@example.com' } }, 'forward.always'],
    ['forward timeout too short', { forward: { no_answer_seconds: 1 } }, 'forward.no_answer_seconds'],
    ['max calls 0', { max_concurrent_calls: 0 }, 'max_concurrent_calls'],
    ['max calls 101', { max_concurrent_calls: 101 }, 'max_concurrent_calls'],
    ['site id not a uuid', { site_id: 'store-001' }, 'site_id'],
    ['unknown status', { status: 'deleted' }, 'status'],
  ])('400 for %s, naming the field', async (_name, fields: Record<string, unknown>, field) => {
    const res = await t.call('POST', '/api/v1/extensions', { body: { number: '1001', ...fields } });
    expect(res.status).toBe(400);
    expect((await body(res.clone())).error.code).toBe('VALIDATION_FAILED');
    expect(await fieldsOf(res)).toContain(field);
  });

  it('400 for an unknown field (a misspelt setting must not be ignored)', async () => {
    const res = await t.call('POST', '/api/v1/extensions', { body: { number: '1001', displayName: 'Alice' } });
    expect(res.status).toBe(400);
    expect((await body(res)).error.details[0].issue).toContain('displayName');
  });

  it('400 for a body that is not JSON', async () => {
    const res = await t.call('POST', '/api/v1/extensions', { body: '{"number":' });
    expect(res.status).toBe(400);
  });

  it('409 EXTENSION_NUMBER_TAKEN naming number; the same number is free in another tenant', async () => {
    await createExt(t, { number: '1001' });
    const res = await t.call('POST', '/api/v1/extensions', { body: { number: '1001' } });
    expect(res.status).toBe(409);
    const b = await body(res);
    expect(b.error.code).toBe('EXTENSION_NUMBER_TAKEN');
    expect(b.error.details).toEqual([{ field: 'number', issue: expect.stringContaining('1001') }]);
    const other = await t.call('POST', '/api/v1/extensions', { key: t.otherAdminKey, body: { number: '1001' } });
    expect(other.status).toBe(201);
  });

  it("422 SITE_NOT_FOUND naming site_id for another tenant's site; nothing is created", async () => {
    const foreign = await createSite(t.db, { tenantId: t.otherTenant.id, name: 'Not yours' });
    const res = await t.call('POST', '/api/v1/extensions', { body: { number: '1001', site_id: foreign.id } });
    expect(res.status).toBe(422);
    const b = await body(res);
    expect(b.error.code).toBe('SITE_NOT_FOUND');
    expect(b.error.details[0].field).toBe('site_id');
    expect((await body(await t.call('GET', '/api/v1/extensions'))).pagination.total).toBe(0);
  });

  it('replays the first answer for the same Idempotency-Key', async () => {
    const send = () =>
      t.call('POST', '/api/v1/extensions', { body: { number: '1001' }, headers: { 'Idempotency-Key': 'create-1001' } });
    const first = await send();
    expect(first.status).toBe(201);
    const replay = await send();
    expect(replay.status).toBe(201);
    expect(replay.headers.get('Idempotent-Replayed')).toBe('true');
    const [a, b] = [await body(first), await body(replay)];
    expect(b.data.id).toBe(a.data.id);
    expect(b.data.sip_password).toBe(a.data.sip_password);
    expect((await body(await t.call('GET', '/api/v1/extensions'))).pagination.total).toBe(1);
  });

  it('401 without a key, 403 for keys without extensions:write', async () => {
    expect((await t.call('POST', '/api/v1/extensions', { key: '', body: { number: '1001' } })).status).toBe(401);
    for (const scopes of [['cdrs:read'], ['voip:read'], ['extensions:credentials']]) {
      const res = await t.call('POST', '/api/v1/extensions', { key: await t.keyFor(scopes), body: { number: '1001' } });
      expect(res.status, scopes.join()).toBe(403);
    }
    const ok = await t.call('POST', '/api/v1/extensions', { key: await t.keyFor(['extensions:write']), body: { number: '1001' } });
    expect(ok.status).toBe(201);
  });
});
