import { expect } from 'vitest';
import { listAudit, upsertRegistration, type Registration } from '../../../store/index.js';
import { body, type testApiWithStore } from '../../test-helpers.js';

/** Shared set-up of the extensions route tests (test-only: tsconfig.build.json excludes test-helpers.ts). */
export type TestApi = Awaited<ReturnType<typeof testApiWithStore>>;

/** Creates an extension through the API and returns the response's `data` (with `sip_password`). */
export async function createExt(t: TestApi, fields: Record<string, unknown> = {}) {
  const res = await t.call('POST', '/api/v1/extensions', { body: { number: '1001', ...fields } });
  expect(res.status, JSON.stringify(await res.clone().json())).toBe(201);
  return (await body(res)).data;
}

let contactSeq = 0;

/** Writes a binding as the registrar would after a successful REGISTER. */
export async function bind(
  t: TestApi,
  ext: { id: string; number: string },
  opts: { transport?: string; expiresInSeconds?: number; tenantId?: string; userAgent?: string } = {},
): Promise<Registration> {
  const n = ++contactSeq;
  return upsertRegistration(t.db, {
    tenantId: opts.tenantId ?? t.tenant.id,
    extensionId: ext.id,
    aor: `sip:${ext.number}@acme.test`,
    contactUri: `sip:${ext.number}@192.0.2.${n % 250}:${5060 + n};transport=${opts.transport ?? 'udp'}`,
    expiresAt: new Date(Date.now() + (opts.expiresInSeconds ?? 3600) * 1000).toISOString(),
    userAgent: opts.userAgent ?? 'Yealink SIP-T46U 108.86.0.20',
    transport: opts.transport ?? 'udp',
    sourceAddress: `192.0.2.${n % 250}`,
    sourcePort: 5060 + n,
    connectionId: null,
    callId: `call-${n}`,
    cseq: 1,
    instanceId: null,
  });
}

/** The tenant's audit entries with this action (newest first). */
export async function auditOf(t: TestApi, action: string) {
  return (await listAudit(t.db, t.tenant.id, { action })).items;
}

/** The `error.details[].field` values of an error answer. */
export async function fieldsOf(res: Response): Promise<string[]> {
  const b = await body(res);
  return (b.error?.details ?? []).map((d: { field: string }) => d.field);
}
