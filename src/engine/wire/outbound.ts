/**
 * Dialling an srf.listen app for outbound mode (docs/drachtio-protocol.md §2.2): routing resolved a
 * request to `{"action":"route","data":{"uri":"host:port;transport=tcp|tls"}}`, so the server
 * becomes the TCP client of that app.
 */
import net from 'node:net';
import tls from 'node:tls';
import { SwitchboardError } from '../../shared/errors.js';
import type { ClientConnection } from './client-connection.js';

/** Where an srf.listen app waits. */
export interface OutboundTarget {
  host: string;
  port: number;
  transport: 'tcp' | 'tls';
}

/**
 * Parses `host:port;transport=tcp|tls` (an optional `sip:` prefix and `[v6]` brackets are
 * accepted; transport defaults to tcp). The port is required: srf.listen has no default port.
 */
export function parseOutboundUri(uri: string): OutboundTarget {
  const bad = (why: string): SwitchboardError => new SwitchboardError('wire-bad-outbound-uri', `${why}: ${uri}`);
  const [hostPort = '', ...params] = uri.trim().replace(/^sips?:/i, '').split(';');
  let transport: 'tcp' | 'tls' = 'tcp';
  for (const param of params) {
    const [name = '', value = ''] = param.split('=');
    if (name.trim().toLowerCase() !== 'transport') continue;
    const t = value.trim().toLowerCase();
    if (t !== 'tcp' && t !== 'tls') throw bad(`unsupported transport "${value}"`);
    transport = t;
  }
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(hostPort);
  const host = m?.[1] ?? m?.[2];
  const port = Number(m?.[3]);
  if (!host || !Number.isInteger(port) || port < 1 || port > 65535) throw bad('expected host:port');
  return { host, port, transport };
}

/**
 * Opens the socket (TLS when asked) and resolves once it is connected (handshake done for TLS).
 * Rejects on error or when `timeoutMs` passes first; the socket is destroyed in both cases.
 */
export function dial(target: OutboundTarget, timeoutMs: number, tlsOptions: tls.ConnectionOptions = {}): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket =
      target.transport === 'tls'
        ? tls.connect({ ...tlsOptions, host: target.host, port: target.port,
          servername: net.isIP(target.host) ? undefined : target.host })
        : net.connect({ host: target.host, port: target.port });
    const event = target.transport === 'tls' ? 'secureConnect' : 'connect';
    const fail = (err: Error): void => {
      clearTimeout(timer);
      socket.destroy();
      reject(new SwitchboardError('wire-outbound-failed',
        `cannot connect to ${target.host}:${target.port}: ${err.message}`, { cause: err }));
    };
    const timer = setTimeout(() => fail(new Error('connect timeout')), timeoutMs);
    timer.unref();
    socket.once('error', fail);
    socket.once(event, () => {
      clearTimeout(timer);
      socket.off('error', fail);
      resolve(socket);
    });
  });
}

/**
 * Outbound connections waiting for the app's `authenticate`: the server only hands a connection
 * to the caller of `connectOutbound` once the app has proved it knows the secret.
 */
export class OutboundWaiters {
  private readonly pending = new Map<ClientConnection, {
    resolve(conn: ClientConnection): void;
    reject(err: Error): void;
    timer: NodeJS.Timeout;
  }>();

  /** Resolves when {@link authenticated} is called for `conn`; rejects on close or after `timeoutMs`. */
  wait(conn: ClientConnection, timeoutMs: number, label: string): Promise<ClientConnection> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(conn);
        conn.destroy();
        reject(new SwitchboardError('wire-outbound-failed', `no authenticate from ${label}`));
      }, timeoutMs);
      timer.unref();
      this.pending.set(conn, { resolve, reject, timer });
    });
  }

  /** The app authenticated: hand the connection over. */
  authenticated(conn: ClientConnection): void {
    const p = this.pending.get(conn);
    if (!p) return;
    clearTimeout(p.timer);
    this.pending.delete(conn);
    p.resolve(conn);
  }

  /** The connection closed (refused secret, peer hang-up) before authenticating. */
  closed(conn: ClientConnection): void {
    const p = this.pending.get(conn);
    if (!p) return;
    clearTimeout(p.timer);
    this.pending.delete(conn);
    p.reject(new SwitchboardError('wire-outbound-failed', 'outbound connection closed before authenticate'));
  }
}
