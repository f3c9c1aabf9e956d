import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { body, testApiWithStore } from '../../test-helpers.js';
import { asBearer, login, makeUser, sessionFor } from './auth-test-helpers.js';

let t: Awaited<ReturnType<typeof testApiWithStore>>;
beforeEach(async () => {
  t = await testApiWithStore();
});
afterEach(() => t.close());

/** Every row of every table as JSON: what a dump of the database file would show. */
async function dumpAll(): Promise<string> {
  const tables = await t.db.introspection.getTables();
  const out: string[] = [];
  for (const table of tables) out.push(JSON.stringify(await sql`select * from ${sql.table(table.name)}`.execute(t.db)));
  return out.join('\n');
}

describe('secrets at rest', () => {
  it('leaves no clear password or token in the database, the logs or the audit log', async () => {
    const secrets: string[] = ['first password 111', 'second password 222', 'third password 333', 'wrong password 444'];
    const user = await makeUser(t, 'ada@example.com', secrets[0]!, 'admin');
    await login(t, 'ada@example.com', secrets[3]!);
    const s = await sessionFor(t, 'ada@example.com', secrets[0]!);
    await asBearer(t, s.access_token, 'POST', '/api/v1/auth/password', { current_password: secrets[0], new_password: secrets[1] });
    const s2 = await sessionFor(t, 'ada@example.com', secrets[1]!);
    const r = (await body(await t.call('POST', '/api/v1/auth/refresh', { key: '', body: { refresh_token: s2.refresh_token } }))).data;
    const reset = (await body(await t.call('POST', `/api/v1/users/${user.id}/password-reset`, { headers: { 'Idempotency-Key': 'r1' } }))).data;
    await t.call('POST', '/api/v1/auth/password-reset', { key: '', body: { token: reset.token, new_password: secrets[2] } });
    secrets.push(s.access_token, s.refresh_token, s2.access_token, s2.refresh_token, r.access_token, r.refresh_token, reset.token);

    const dump = await dumpAll();
    const logs = t.lines.join('\n');
    for (const secret of secrets) {
      // The 48 hex of a token, without its prefix, so a partial copy is caught too.
      const needle = /^sb[trp]_/.test(secret) ? secret.slice(4) : secret;
      expect(dump.includes(needle), `database holds ${secret.slice(0, 6)}…`).toBe(false);
      expect(logs.includes(needle), `logs hold ${secret.slice(0, 6)}…`).toBe(false);
    }
    expect(dump).toContain('$scrypt$ln=15,r=8,p=1$');
  });
});
