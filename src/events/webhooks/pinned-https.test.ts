/**
 * The pinned request over TLS: the socket goes to the checked address while SNI and the certificate
 * check use the URL's name — so pinning does not weaken TLS, and a certificate for another name fails.
 * A throwaway self-signed certificate is made with openssl (skipped where openssl is missing).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attemptDelivery } from './deliver.js';
import { allowListOf } from './ip-ranges.js';

const hasOpenssl = spawnSync('openssl', ['version']).status === 0;
let dir: string;
let server: Server;
let port: number;
let cert: Buffer;
const seenServernames: Array<string | false | null> = [];

beforeAll(async () => {
  if (!hasOpenssl) return;
  dir = mkdtempSync(join(tmpdir(), 'switchboard-tls-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=receiver.test', '-addext', 'subjectAltName=DNS:receiver.test', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
  cert = readFileSync(join(dir, 'cert.pem'));
  server = createServer({ key: readFileSync(join(dir, 'key.pem')), cert }, (req, res) => {
    seenServernames.push((req.socket as TLSSocket).servername);
    req.resume();
    req.on('end', () => res.writeHead(204).end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => {
  server?.closeAllConnections();
  server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const policy = { allow: allowListOf([{ address: '127.0.0.0', prefix: 8, family: 'ipv4' }]), resolve: async () => [{ address: '127.0.0.1', family: 4 }] };

describe.skipIf(!hasOpenssl)('pinned https', () => {
  it('connects to the checked address with the URL’s name as SNI, and verifies the certificate against it', async () => {
    const r = await attemptDelivery(`https://receiver.test:${port}/hook`, { headers: {}, body: '{}', timeoutMs: 3000, ca: cert }, policy);
    expect(r).toMatchObject({ ok: true, statusCode: 204, address: '127.0.0.1' });
    expect(seenServernames.at(-1)).toBe('receiver.test');
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
