import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openTestStore, testSecretKey } from './test-helpers.js';
import { createTenant } from './tenants/tenant.repository.js';
import { createExtension, updateExtension } from './extensions/extension.repository.js';
import { createApiKey } from './api-keys/api-key.repository.js';
import { createWebhook, updateWebhook } from './webhooks/webhook.repository.js';

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Every byte SQLite wrote: the database file and its WAL/SHM companions. */
function allBytes(path: string): Buffer {
  return Buffer.concat(readdirSync(path).map((f) => readFileSync(join(path, f))));
}

describe('secrets at rest (issue 3: a dump of the database contains no secret)', () => {
  it('keeps SIP passwords, API keys, webhook secrets and header values out of the file, WAL included', async () => {
    dir = mkdtempSync(join(tmpdir(), 'switchboard-store-'));
    const store = await openTestStore(join(dir, 'switchboard.db'));
    const tenant = await createTenant(store.db, { name: 'Acme', sipDomain: 'acme.test' });
    const sipPassword = 'Known-SIP-Passw0rd-4711';
    const { extension } = await createExtension(store.db, testSecretKey(), { tenantId: tenant.id, number: '1001', sipPassword });
    const generated = await createExtension(store.db, testSecretKey(), { tenantId: tenant.id, number: '1002' });
    const changed = 'Changed-SIP-Passw0rd-0815';
    await updateExtension(store.db, testSecretKey(), tenant.id, extension.id, { sipPassword: changed });
    const { key } = await createApiKey(store.db, { tenantId: tenant.id, name: 'crm', scopes: ['admin'] });
    const webhookSecret = 'whsec_V2ViaG9vay1zaWduaW5nLXNlY3JldC0wMDAx';
    const rotatedWebhookSecret = 'Rotated-Webhook-Secret-0042';
    const hook = await createWebhook(store.db, testSecretKey(), { tenantId: tenant.id, name: 'crm', url: 'https://crm.example.com/hook', events: ['*'], secret: webhookSecret });
    await updateWebhook(store.db, testSecretKey(), tenant.id, hook.id, { secret: rotatedWebhookSecret });
    const headerToken = 'Header-Token-Bearer-0007';
    const changedHeaderToken = 'Changed-Header-Token-0008';
    const withHeaders = await createWebhook(store.db, testSecretKey(), { tenantId: tenant.id, name: 'h', url: 'https://crm.example.com/h', events: ['*'], secret: webhookSecret, headers: { Authorization: headerToken } });
    await updateWebhook(store.db, testSecretKey(), tenant.id, withHeaders.id, { headers: { Authorization: changedHeaderToken } });

    const before = allBytes(dir);
    await store.close();
    const after = allBytes(dir);
    for (const bytes of [before, after]) {
      expect(bytes.length).toBeGreaterThan(0);
      for (const secret of [sipPassword, changed, generated.sipPassword, key, webhookSecret, rotatedWebhookSecret, headerToken, changedHeaderToken]) {
        expect(bytes.includes(Buffer.from(secret, 'utf8'))).toBe(false);
        expect(bytes.includes(Buffer.from(secret, 'utf16le'))).toBe(false);
      }
      // Sanity: the scan does see what was written.
      expect(bytes.includes(Buffer.from('acme.test', 'utf8'))).toBe(true);
    }
  });
});
