import { body, type testApiWithStore } from '../../test-helpers.js';

type T = Awaited<ReturnType<typeof testApiWithStore>>;

/** Creates a user through the API (admin key of the tenant) and returns its JSON. */
export async function makeUser(t: T, email: string, password: string, role: 'owner' | 'admin' | 'user' = 'user', key = t.adminKey) {
  const res = await t.call('POST', '/api/v1/users', { key, body: { email, name: email.split('@')[0], role, password } });
  if (res.status !== 201) throw new Error(`user not created: ${res.status} ${await res.text()}`);
  return (await body(res)).data as { id: string; tenant_id: string; email: string; role: string };
}

/** Logs in; returns the raw response. */
export function login(t: T, email: string, password: string, extra: Record<string, unknown> = {}) {
  return t.call('POST', '/api/v1/auth/login', { key: '', body: { email, password, ...extra } });
}

/** Logs in and returns the tokens (throws unless 200). */
export async function sessionFor(t: T, email: string, password: string) {
  const res = await login(t, email, password);
  if (res.status !== 200) throw new Error(`login failed: ${res.status}`);
  return (await body(res)).data as { access_token: string; refresh_token: string; expires_in: number };
}

/** `t.call` with a bearer token instead of the admin key. */
export function asBearer(t: T, token: string, method: string, path: string, b?: unknown) {
  return t.call(method, path, { key: '', headers: { Authorization: `Bearer ${token}` }, ...(b !== undefined && { body: b }) });
}
