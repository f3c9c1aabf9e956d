/**
 * The server side of the drachtio admin protocol (docs/drachtio-protocol.md §1–§3): accepts
 * drachtio-srf apps on the admin port (TCP and optionally TLS), authenticates them, keeps their
 * routes, answers ping, and hands `sip`/`proxy` commands to the dialog core. It also dials
 * srf.listen apps for outbound mode (§2.2). Nothing here knows SIP.
 */
import net from 'node:net';
import tls from 'node:tls';
import { uuid } from '../../shared/ids.js';
import { SwitchboardError } from '../../shared/errors.js';
import { checkVersion, secretMatches, tagsProblem } from './auth.js';
import type { AuthenticateCommand, ClientCommand } from './client-command.js';
import { parseClientMessage } from './client-command.js';
import { ClientConnection, type ConnectionMode, type ConnectionOwner } from './client-connection.js';
import { DEFAULT_MAX_FRAME_BYTES } from './framing.js';
import { responseNo, responseNok, responseOk } from './meta.js';
import { OutboundWaiters, dial, parseOutboundUri } from './outbound.js';
import { RouteTable } from './route-table.js';
import { silentLogger, type WireHandler, type WireLogger, type WireServerOptions } from './types.js';

export type { WireServerOptions } from './types.js';

const DEFAULT_VERSION = 'v1.0.0';

/**
 * The admin-protocol server. One instance serves any number of app connections at once; the
 * dialog core picks connections with {@link WireServer.pickClient} and writes to them with
 * `ClientConnection.send`.
 */
export class WireServer implements ConnectionOwner {
  private readonly opts: WireServerOptions;
  private readonly log: WireLogger;
  private readonly version: string;
  private handler: WireHandler | undefined;
  private readonly routes = new RouteTable();
  private readonly conns = new Map<string, ClientConnection>();
  private readonly authTimers = new Map<ClientConnection, NodeJS.Timeout>();
  private readonly outbound = new OutboundWaiters();
  private readonly listeners: net.Server[] = [];
  private nextConnId = 1;
  private stopped = false;

  constructor(opts: WireServerOptions) {
    if (!opts.secret) throw new SwitchboardError('wire-no-secret', 'an admin secret is required');
    if (opts.tlsPort !== undefined && !opts.tls) {
      throw new SwitchboardError('wire-no-tls-material', 'tlsPort requires tls key and cert');
    }
    this.version = opts.version ?? DEFAULT_VERSION;
    checkVersion(this.version);
    this.opts = opts;
    this.log = opts.log ?? silentLogger;
    this.handler = opts.handler;
  }

  /** Installs (or replaces) the dialog core's handler. */
  setHandler(handler: WireHandler): void {
    this.handler = handler;
  }

  /** Starts listening; resolves with the bound ports (useful with port 0). */
  async start(): Promise<{ port: number; tlsPort?: number }> {
    const plain = net.createServer((socket) => this.accept(socket, 'inbound', false));
    const port = await this.listen(plain, this.opts.port);
    if (this.opts.tlsPort === undefined || !this.opts.tls) return { port };
    const secure = tls.createServer({ ...this.opts.tls }, (socket) => this.accept(socket, 'inbound', true));
    secure.on('tlsClientError', (err) => this.log.debug({ err: err.message }, 'admin TLS handshake failed'));
    const tlsPort = await this.listen(secure, this.opts.tlsPort);
    return { port, tlsPort };
  }

  /** Stops listening and drops every connection (each authenticated one reports `onClientClosed`). */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const conn of [...this.conns.values()]) conn.destroy();
    const servers = this.listeners.splice(0);
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }

  /**
   * Round-robin choice among authenticated connections that routed `verb` (a SIP method or
   * `cdr:*`, any case), restricted to those whose tags include `tag` when given (§4.1). Undefined
   * when none qualifies: the caller answers 503.
   */
  pickClient(verb: string, tag?: string): ClientConnection | undefined {
    return this.routes.pick(verb, tag);
  }

  /** Every connection that routed `verb`, in routing order. */
  clientsFor(verb: string): ClientConnection[] {
    return this.routes.clientsFor(verb);
  }

  /** Every open connection, authenticated or not. */
  clients(): ClientConnection[] {
    return [...this.conns.values()];
  }

  /** The open connection with this id. */
  getClient(id: string): ClientConnection | undefined {
    return this.conns.get(id);
  }

  /**
   * Outbound mode (§2.2): connects to an srf.listen app at `host:port;transport=tcp|tls`, waits for
   * its `authenticate`, validates it, replies OK, and resolves with the authenticated connection.
   * The caller then sends the pending `sip` request on it. srf sends no `route` commands in this
   * mode; the connection stays open for the dialogs created over it until either side closes it.
   * Rejects when the app cannot be reached, refuses, or does not authenticate within
   * `outboundTimeoutMs`; the caller then answers the SIP request 480.
   */
  async connectOutbound(uri: string): Promise<ClientConnection> {
    const target = parseOutboundUri(uri);
    const timeoutMs = this.opts.outboundTimeoutMs ?? 5000;
    const started = Date.now();
    const socket = await dial(target, timeoutMs, this.opts.outboundTls);
    if (this.stopped) {
      socket.destroy();
      throw new SwitchboardError('wire-outbound-failed', 'wire server stopped');
    }
    const conn = this.accept(socket, 'outbound', target.transport === 'tls');
    if (conn.closed) throw new SwitchboardError('wire-outbound-failed', `connection to ${uri} closed`);
    return this.outbound.wait(conn, Math.max(1, timeoutMs - (Date.now() - started)), uri);
  }

  // ---- ConnectionOwner ------------------------------------------------------------------------

  /** @internal Dispatches one decoded payload from a connection. */
  onFrame(conn: ClientConnection, payload: string): void {
    const cmd = parseClientMessage(payload);
    if (cmd.type === 'unknown') {
      this.log.warn({ conn: conn.id, command: cmd.command.slice(0, 40) }, 'unknown admin command; disconnecting');
      this.refuse(conn, cmd.msgId, 'Unknown message type');
      return;
    }
    if (cmd.type === 'authenticate') {
      this.authenticate(conn, cmd);
      return;
    }
    if (!conn.authenticated) {
      this.log.warn({ conn: conn.id, command: cmd.type }, 'admin command before authenticate; disconnecting');
      this.refuse(conn, cmd.msgId, 'authentication required');
      return;
    }
    this.dispatch(conn, cmd);
  }

  /** @internal A connection started closing: drop its routes at once and tell the core. */
  onClosed(conn: ClientConnection): void {
    this.conns.delete(conn.id);
    this.routes.removeAll(conn, conn.verbs);
    const authTimer = this.authTimers.get(conn);
    if (authTimer) clearTimeout(authTimer);
    this.authTimers.delete(conn);
    this.outbound.closed(conn);
    this.log.info({ conn: conn.id, mode: conn.mode }, 'admin client disconnected');
    if (conn.authenticated) this.handler?.onClientClosed(conn);
  }

  // ---- internals ------------------------------------------------------------------------------

  private listen(server: net.Server, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, this.opts.host, () => {
        server.off('error', reject);
        server.on('error', (err) => this.log.error({ err }, 'admin listener error'));
        this.listeners.push(server);
        const addr = server.address();
        resolve(typeof addr === 'object' && addr ? addr.port : port);
      });
    });
  }

  private accept(socket: net.Socket, mode: ConnectionMode, secure: boolean): ClientConnection {
    socket.setNoDelay(true);
    socket.setKeepAlive(true, this.opts.keepaliveMs ?? 45_000);
    const conn = new ClientConnection(socket, this, {
      id: `c${this.nextConnId++}-${uuid().slice(0, 8)}`,
      mode,
      secure,
      maxFrameBytes: this.opts.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES,
      maxQueuedBytes: this.opts.maxQueuedBytes ?? 64 * 1024 * 1024,
      lingerMs: 2000,
      log: this.log,
    });
    this.conns.set(conn.id, conn);
    if (mode === 'inbound') {
      const timer = setTimeout(() => {
        this.log.warn({ conn: conn.id }, 'admin client did not authenticate in time');
        conn.destroy();
      }, this.opts.authTimeoutMs ?? 10_000);
      timer.unref();
      this.authTimers.set(conn, timer);
    }
    this.log.info({ conn: conn.id, mode, secure, remote: `${conn.remoteAddress}:${conn.remotePort}` }, 'admin client connected');
    // A socket that was already gone before we wrapped it never emits 'close' to our listener.
    if (socket.destroyed) conn.destroy();
    return conn;
  }

  /** Sends `NO|reason` and closes: the C++ server's answer to a refused secret or unknown command. */
  private refuse(conn: ClientConnection, msgId: string, reason: string): void {
    conn.send(responseNo(msgId, reason));
    conn.close();
  }

  private authenticate(conn: ClientConnection, cmd: AuthenticateCommand): void {
    if (!secretMatches(cmd.secret, this.opts.secret)) {
      this.log.warn({ conn: conn.id, remote: conn.remoteAddress }, 'admin client presented an incorrect secret');
      this.refuse(conn, cmd.msgId, 'incorrect secret');
      return;
    }
    const problem = tagsProblem(cmd.tags);
    if (problem) {
      this.log.warn({ conn: conn.id, problem }, 'admin client sent invalid tags');
      this.refuse(conn, cmd.msgId, problem);
      return;
    }
    let hostports: { external: string; local: string };
    try {
      hostports = this.opts.hostports();
    } catch (err) {
      this.log.error({ err }, 'cannot list SIP transports for an authenticate reply');
      this.refuse(conn, cmd.msgId, 'server not ready');
      return;
    }
    const authTimer = this.authTimers.get(conn);
    if (authTimer) clearTimeout(authTimer);
    this.authTimers.delete(conn);
    const firstTime = !conn.authenticated;
    conn.markAuthenticated(cmd.tags);
    conn.send(responseOk(cmd.msgId, hostports.external, this.version, hostports.local));
    this.log.info({ conn: conn.id, tags: cmd.tags }, 'admin client authenticated');
    if (!firstTime) return;
    this.outbound.authenticated(conn);
    try {
      this.handler?.onClientAuthenticated?.(conn);
    } catch (err) {
      this.log.error({ conn: conn.id, err }, 'dialog core failed on a new admin client');
    }
  }

  private dispatch(conn: ClientConnection, cmd: Exclude<ClientCommand, AuthenticateCommand | { type: 'unknown' }>): void {
    switch (cmd.type) {
      case 'route':
        if (conn.addVerb(cmd.verb)) {
          this.routes.add(cmd.verb, conn);
          this.log.debug({ conn: conn.id, verb: cmd.verb }, 'route added');
        }
        conn.send(responseOk(cmd.msgId));
        return;
      case 'remove_route':
        // Only this verb: the C++ server drops every verb of the client here, which is a bug (§3.1).
        if (conn.removeVerb(cmd.verb)) this.routes.remove(cmd.verb, conn);
        conn.send(responseOk(cmd.msgId));
        return;
      case 'ping':
        conn.send(responseOk(cmd.msgId, 'pong'));
        return;
      case 'malformed':
        conn.send(responseNok(cmd.msgId, cmd.reason));
        return;
      case 'sip':
      case 'proxy':
        this.handOver(conn, cmd);
        return;
    }
  }

  private handOver(conn: ClientConnection, cmd: Extract<ClientCommand, { type: 'sip' | 'proxy' }>): void {
    const handler = this.handler;
    if (!handler) {
      conn.send(responseNok(cmd.msgId, 'SIP engine not ready'));
      return;
    }
    try {
      if (cmd.type === 'sip') handler.onSip(conn, cmd);
      else handler.onProxy(conn, cmd);
    } catch (err) {
      this.log.error({ conn: conn.id, err, command: cmd.type }, 'dialog core failed on an app command');
      conn.send(responseNok(cmd.msgId, 'internal server error'));
    }
  }
}
