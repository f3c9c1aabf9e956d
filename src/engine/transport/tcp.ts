/**
 * SIP over TCP (RFC 3261 §18) and the listener/connector machinery that TLS shares (tls.ts):
 * accept with connection caps, register every connection in the shared table, and open outbound
 * connections on demand, coalescing concurrent sends to the same peer into one connect.
 */
import net from 'node:net';
import type { HostPort } from '../message/types.js';
import { addressFamily, normalizeAddress } from './address.js';
import type { StreamConnection, StreamProtocol } from './connection-table.js';
import { listenServer, type EndpointContext, type TransportEndpoint } from './endpoint.js';
import { SocketConnection } from './socket-connection.js';
import type { Destination, Flow, ListenSpec, ListeningTransport } from './types.js';

/** How a stream flavour makes its server and its client sockets. */
export interface StreamFlavor {
  protocol: Extract<StreamProtocol, 'tcp' | 'tls'>;
  /** A server whose `readyEvent` hands over sockets ready to carry SIP. */
  createServer(): net.Server;
  /** 'connection' for tcp, 'secureConnection' for tls (after the handshake). */
  readyEvent: string;
  /** Open a client socket; it must emit `connectEvent` once usable. */
  connect(opts: { host: string; port: number; localAddress?: string }): net.Socket;
  connectEvent: string;
}

export const tcpFlavor: StreamFlavor = {
  protocol: 'tcp',
  createServer: () => net.createServer({ noDelay: true }),
  readyEvent: 'connection',
  connect: (opts) => net.connect(opts),
  connectEvent: 'connect',
};

/** A tcp or tls listener plus its outbound connector (RFC 3261 §18.1.1, §18.2.1). */
export class StreamTransport implements TransportEndpoint {
  listening: ListeningTransport | undefined;
  private readonly server: net.Server;
  private readonly pending = new Map<string, Promise<StreamConnection>>();
  /**
   * Every raw socket not yet in the connection table (accepted TLS sockets still handshaking,
   * outbound sockets still connecting), so stop() can end them all.
   */
  private readonly sockets = new Set<net.Socket>();
  /** Host names we connected to → connection id, so a name is not reconnected on every send. */
  private readonly byName = new Map<string, string>();
  private stopped = false;

  constructor(
    private readonly ctx: EndpointContext,
    readonly spec: ListenSpec,
    private readonly flavor: StreamFlavor,
  ) {
    this.server = flavor.createServer();
    // Caps are checked on the raw TCP accept, before any TLS handshake work is spent on the peer.
    this.server.on('connection', (socket: net.Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
      const refusal = ctx.table.refusal(socket.remoteAddress ?? '');
      if (refusal) {
        ctx.log.warn({ protocol: flavor.protocol, remote: socket.remoteAddress }, `refusing connection: ${refusal}`);
        socket.destroy();
        return;
      }
      if (flavor.readyEvent === 'connection') this.accept(socket);
    });
    if (flavor.readyEvent !== 'connection') {
      this.server.on(flavor.readyEvent, (socket: net.Socket) => this.accept(socket));
    }
    this.server.on('tlsClientError', (err: Error, socket: net.Socket) => {
      ctx.log.debug?.({ err, remote: socket.remoteAddress }, 'tls handshake failed');
    });
    this.server.on('error', (err) => ctx.log.warn({ err, protocol: flavor.protocol }, 'listener error'));
  }

  async start(): Promise<ListeningTransport> {
    this.listening = await listenServer(this.server, this.spec);
    return this.listening;
  }

  async send(data: Buffer, dest: Destination): Promise<Flow> {
    const conn = await this.connectTo(normalizeAddress(dest.address), dest.port);
    await conn.write(data);
    return conn.flow;
  }

  stop(): Promise<void> {
    this.stopped = true;
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    return new Promise((resolve) => {
      if (!this.server.listening) {
        resolve();
        return;
      }
      this.server.close(() => resolve());
    });
  }

  private local(): HostPort {
    return this.listening?.local ?? { address: this.spec.bindAddress, port: this.spec.port };
  }

  private accept(socket: net.Socket): void {
    if (socket.destroyed) return;
    const conn = new SocketConnection(
      this.ctx,
      socket,
      this.ctx.table.nextId(this.flavor.protocol),
      this.flavor.protocol,
      this.local(),
      true,
    );
    this.ctx.table.add(conn);
    this.ctx.log.debug?.({ connectionId: conn.id, remote: conn.flow.remote }, 'connection accepted');
  }

  /**
   * Reuse a connect already in flight to the same peer, or an earlier connection opened to the same
   * host name (the table only knows IPs), else open one (RFC 5923 §3 reuse).
   */
  private connectTo(host: string, port: number): Promise<StreamConnection> {
    const key = `${host}|${port}`;
    const named = this.byName.get(key);
    if (named !== undefined) {
      const conn = this.ctx.table.get(named);
      if (conn) return Promise.resolve(conn);
      this.byName.delete(key);
    }
    const inFlight = this.pending.get(key);
    if (inFlight) return inFlight;
    const p = this.open(host, port)
      .then((conn) => {
        if (addressFamily(host) === 0) this.byName.set(key, conn.id);
        return conn;
      })
      .finally(() => this.pending.delete(key));
    this.pending.set(key, p);
    return p;
  }

  private open(host: string, port: number): Promise<StreamConnection> {
    const { protocol } = this.flavor;
    return new Promise((resolve, reject) => {
      // Bind outbound connections to the listener's address when it is a specific one, so the
      // peer sees the same source IP as in our Via (RFC 3261 §18.1.1).
      const bind = this.spec.bindAddress;
      const specific = bind !== '0.0.0.0' && bind !== '::' && addressFamily(bind) === addressFamily(host);
      const socket = this.flavor.connect(specific ? { host, port, localAddress: bind } : { host, port });
      this.sockets.add(socket);
      const fail = (err: Error): void => {
        this.ctx.clock.clearTimeout(timer);
        this.sockets.delete(socket);
        socket.destroy();
        reject(err);
      };
      const timer = this.ctx.clock.setTimeout(
        () => fail(new Error(`${protocol} connect to ${host}:${port} timed out`)),
        this.ctx.limits.connectTimeoutMs,
      );
      socket.once('error', fail);
      const onClose = (): void => fail(new Error(`${protocol} connection to ${host}:${port} closed while connecting`));
      socket.once('close', onClose);
      socket.once(this.flavor.connectEvent, () => {
        this.ctx.clock.clearTimeout(timer);
        this.sockets.delete(socket);
        socket.removeListener('error', fail);
        socket.removeListener('close', onClose);
        if (this.stopped) {
          fail(new Error(`${protocol} transport stopped`));
          return;
        }
        const conn = new SocketConnection(this.ctx, socket, this.ctx.table.nextId(protocol), protocol, this.local(), false);
        this.ctx.table.add(conn);
        this.ctx.log.debug?.({ connectionId: conn.id, remote: conn.flow.remote }, 'connection opened');
        resolve(conn);
      });
    });
  }
}
