/**
 * Test-only helpers for the transport tests in this folder (raw peers, waiting on events, a
 * throwaway self-signed certificate). Not used by production code.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TransportEvents, TransportLayer } from './transport-layer.js';

/** A minimal request with a correct Content-Length. */
export function sipRequest(body: Buffer | string = '', extra = ''): Buffer {
  const b = typeof body === 'string' ? Buffer.from(body) : body;
  const head =
    'OPTIONS sip:test@127.0.0.1 SIP/2.0\r\n' +
    'Via: SIP/2.0/TCP 127.0.0.1:5999;branch=z9hG4bK-test\r\n' +
    'Call-ID: test-call\r\nCSeq: 1 OPTIONS\r\n' +
    extra +
    `Content-Length: ${b.length}\r\n\r\n`;
  return Buffer.concat([Buffer.from(head), b]);
}

/** The next event of a kind, or a rejection after `ms`. */
export function nextEvent<K extends keyof TransportEvents>(
  layer: TransportLayer,
  event: K,
  ms = 3000,
): Promise<TransportEvents[K][0]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event} within ${ms} ms`)), ms);
    layer.once(event, (...args: TransportEvents[K]) => {
      clearTimeout(timer);
      resolve(args[0]);
    });
  });
}

/** Collect `count` events of a kind. */
export function collectEvents<K extends keyof TransportEvents>(
  layer: TransportLayer,
  event: K,
  count: number,
  ms = 3000,
): Promise<TransportEvents[K][0][]> {
  return new Promise((resolve, reject) => {
    const got: TransportEvents[K][0][] = [];
    const timer = setTimeout(() => reject(new Error(`only ${got.length}/${count} ${event} within ${ms} ms`)), ms);
    const listener = (...args: TransportEvents[K]): void => {
      got.push(args[0]);
      if (got.length === count) {
        clearTimeout(timer);
        layer.off(event, listener);
        resolve(got);
      }
    };
    layer.on(event, listener);
  });
}

/** A raw TCP peer that records what it receives and when it is closed. */
export interface RawPeer {
  socket: net.Socket;
  received(): Buffer;
  /** Resolves once `received()` satisfies the predicate. */
  waitFor(pred: (b: Buffer) => boolean, ms?: number): Promise<Buffer>;
  closed: Promise<void>;
}

export async function rawTcpPeer(host: string, port: number): Promise<RawPeer> {
  const socket = net.connect({ host, port });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  let data = Buffer.alloc(0);
  const waiters: (() => void)[] = [];
  socket.on('error', () => undefined);
  socket.on('data', (chunk: Buffer) => {
    data = Buffer.concat([data, chunk]);
    for (const w of waiters.splice(0)) w();
  });
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  return {
    socket,
    received: () => data,
    closed,
    waitFor(pred, ms = 3000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`peer did not receive expected data: ${JSON.stringify(data.toString('latin1'))}`)), ms);
        const check = (): void => {
          if (pred(data)) {
            clearTimeout(timer);
            resolve(data);
          } else waiters.push(check);
        };
        check();
      });
    },
  };
}

/** Resolve if the promise settles within `ms`, reject otherwise (for "the socket was closed" checks). */
export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([
    p,
    new Promise<T>((_r, reject) => setTimeout(() => reject(new Error(`${what} not within ${ms} ms`)), ms)),
  ]);
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * A throwaway self-signed certificate for localhost, 127.0.0.1 and ::1, made with the openssl CLI
 * (node:crypto cannot issue X.509 certificates). Generated per test run; never committed.
 */
export function selfSignedCert(): { key: Buffer; cert: Buffer } {
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-tls-'));
  try {
    const keyPath = join(dir, 'key.pem');
    const certPath = join(dir, 'cert.pem');
    execFileSync(
      'openssl',
      [
        'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
        '-keyout', keyPath, '-out', certPath, '-days', '2', '-subj', '/CN=localhost',
        '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1',
      ],
      { stdio: 'ignore' },
    );
    return { key: readFileSync(keyPath), cert: readFileSync(certPath) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
