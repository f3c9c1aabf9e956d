import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';

/**
 * A loopback https receiver with a throwaway self-signed certificate for `receiver.test` (made with
 * openssl), answering 204, and the TLS name (SNI) each request came with: what the pinned-request
 * tests check SNI and certificate verification against.
 */
export async function startTlsReceiver() {
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-tls-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=receiver.test', '-addext', 'subjectAltName=DNS:receiver.test', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
  const cert = readFileSync(join(dir, 'cert.pem'));
  const servernames: Array<string | false | null> = [];
  const server = createServer({ key: readFileSync(join(dir, 'key.pem')), cert }, (req, res) => {
    servernames.push((req.socket as TLSSocket).servername);
    req.resume();
    req.on('end', () => res.writeHead(204).end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    cert,
    servernames,
    close: () => {
      server.closeAllConnections();
      server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
