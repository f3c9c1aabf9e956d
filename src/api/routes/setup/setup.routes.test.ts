import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listAudit } from '../../../store/index.js';
import { body, testApiWithStore } from '../../test-helpers.js';
import { asBearer, makeUser } from '../auth/auth-test-helpers.js';

let t: Awaited<ReturnType<typeof testApiWithStore>>;
beforeEach(async () => {
  t = await testApiWithStore();
});
afterEach(() => t.close());

const PW = 'the owner password';
const status = async () => (await body(await t.call('GET', '/api/v1/setup/status', { key: '' }))).data;
const complete = (b: unknown) => t.call('POST', '/api/v1/setup/complete', { key: '', body: b });
const owner = { email: 'Owner@Example.com', name: 'Olga', password: PW };

describe('first-run setup', () => {
  it('reports, completes (owner + renamed primary tenant + session), then refuses with 409', async () => {
    expect(await status()).toEqual({ setup_complete: false, tenant: { name: 'Acme', sip_domain: 'acme.test' }, needs: ['owner'] });
    const res = await complete({ owner, tenant: { name: 'Acme Srl', sip_domain: 'pbx.acme.test', tenant_external_id: 'acme-1' } });
    expect(res.status).toBe(201);
    expect(res.headers.get('Cache-Control')).toBe('no-store');
    const s = (await body(res)).data;
    expect(s).toMatchObject({ token_type: 'Bearer', expires_in: 3600, user: { email: 'owner@example.com', role: 'owner', tenant_id: t.tenant.id } });
    const me = await body(await asBearer(t, s.access_token, 'GET', '/api/v1/auth/me'));
    expect(me.data).toMatchObject({ type: 'user', scopes: ['admin'] });
    expect(await status()).toEqual({ setup_complete: true, tenant: { name: 'Acme Srl', sip_domain: 'pbx.acme.test' }, needs: [] });
    const tenant = (await body(await t.call('GET', `/api/v1/tenants/${t.tenant.id}`))).data;
    expect(tenant).toMatchObject({ tenant_external_id: 'acme-1', realm: 'acme.test' });

    const again = await complete({ owner: { ...owner, email: 'second@example.com' } });
    expect(again.status).toBe(409);
    expect((await body(again)).error.code).toBe('SETUP_ALREADY_COMPLETE');
    expect((await listAudit(t.db, t.tenant.id, { action: 'setup.completed' })).total).toBe(1);
  });

  it('keeps the tenant as it is when no tenant block is given', async () => {
    expect((await complete({ owner })).status).toBe(201);
    expect((await status()).tenant).toEqual({ name: 'Acme', sip_domain: 'acme.test' });
  });

  it('counts as complete once the primary tenant has an owner, however it got one', async () => {
    await makeUser(t, 'o@example.com', PW, 'owner');
    expect((await status()).setup_complete).toBe(true);
    expect((await complete({ owner })).status).toBe(409);
  });

  it('lets exactly one of two concurrent completions win', async () => {
    const results = await Promise.all([
      complete({ owner: { ...owner, email: 'a@example.com' } }),
      complete({ owner: { ...owner, email: 'b@example.com' } }),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual([201, 409]);
    expect((await t.db.selectFrom('users').select('email').where('role', '=', 'owner').execute())).toHaveLength(1);
  });

  it('names invalid fields', async () => {
    const res = await complete({ owner: { email: 'x', name: '', password: 'short' }, tenant: { name: '', sip_domain: 'no spaces', tenant_external_id: 'a b' } });
    expect(res.status).toBe(400);
    const fields = (await body(res)).error.details.map((d: { field: string }) => d.field).sort();
    expect(fields).toEqual(['owner.email', 'owner.name', 'owner.password', 'tenant.name', 'tenant.sip_domain', 'tenant.tenant_external_id']);
    expect((await body(await complete({}))).error.details[0].field).toBe('owner');
  });

  it('creates the tenant too on an empty install, which then needs its sip_domain', async () => {
    await t.db.deleteFrom('tenants').execute();
    expect(await status()).toEqual({ setup_complete: false, tenant: null, needs: ['tenant', 'owner'] });
    const missing = await complete({ owner, tenant: { name: 'New Co' } });
    expect(missing.status).toBe(400);
    expect((await body(missing)).error.details[0].field).toBe('tenant.sip_domain');
    expect((await complete({ owner, tenant: { name: 'New Co', sip_domain: 'new.test' } })).status).toBe(201);
    expect(await status()).toEqual({ setup_complete: true, tenant: { name: 'New Co', sip_domain: 'new.test' }, needs: [] });
  });
});
