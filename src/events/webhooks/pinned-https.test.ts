/**
 * The pinned request over TLS: the socket goes to the checked address while SNI and the certificate
 * check use the URL's name — so pinning does not weaken TLS, and a certificate for another name fails.
 * A throwaway self-signed certificate is made with openssl (tls-receiver.fixture.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attemptDelivery } from './deliver.js';
import { allowListOf } from './ip-ranges.js';
import { startTlsReceiver } from './tls-receiver.fixture.js';

let tls: Awaited<ReturnType<typeof startTlsReceiver>>;
let port: number;
let cert: Buffer;
beforeAll(async () => {
  tls = await startTlsReceiver();
  ({ port, cert } = tls);
});
afterAll(() => tls.close());

const policy = { allow: allowListOf([{ address: '127.0.0.0', prefix: 8, family: 'ipv4' }]), resolve: async () => [{ address: '127.0.0.1', family: 4 }] };

describe('pinned https', () => {
  it('connects to the checked address with the URL’s name as SNI, and verifies the certificate against it', async () => {
    const r = await attemptDelivery(`https://receiver.test:${port}/hook`, { headers: {}, body: '{}', timeoutMs: 3000, ca: cert }, policy);
    expect(r).toMatchObject({ ok: true, statusCode: 204, address: '127.0.0.1' });
    expect(tls.servernames.at(-1)).toBe('receiver.test');
  });

  it('fails when the certificate does not name the URL’s host', async () => {
    const r = await attemptDelivery(`https://other.test:${port}/hook`, { headers: {}, body: '{}', timeoutMs: 3000, ca: cert }, policy);
    expect(r).toMatchObject({ ok: false, statusCode: null, error: 'ERR_TLS_CERT_ALTNAME_INVALID' });
  });

  it('fails on an untrusted certificate (no test CA given)', async () => {
    const r = await attemptDelivery(`https://receiver.test:${port}/hook`, { headers: {}, body: '{}', timeoutMs: 3000 }, policy);
    expect(r.ok).toBe(false);
    expect(r.error).toMatch(/SELF_SIGNED|CERT/);
  });
});
