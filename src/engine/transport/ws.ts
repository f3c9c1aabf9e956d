/**
 * SIP over WebSocket, RFC 7118: ws and wss listeners on an HTTP(S) server. The `sip` subprotocol is
 * required in the handshake (§4.1), each WebSocket message is exactly one SIP message (§5.2), and
 * the server side never opens connections: requests to a browser go over the connection it opened
 * (§5, RFC 5626 flows), so a send with no live connection fails.
 */
import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import { isUtf8 } from 'node:buffer';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { normalizeAddress } from './address.js';
import type { StreamConnection } from './connection-table.js';
import { listenServer, type EndpointContext, type TransportEndpoint } from './endpoint.js';
import { IdleTimer } from './idle-timer.js';
import { MAX_WRITE_BACKLOG_BYTES } from './socket-connection.js';
import type { Destination, Flow, ListenSpec, ListeningTransport } from './types.js';

const SUBPROTOCOL = 'sip';

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

/** Refuse an upgrade with a plain HTTP status before any WebSocket state exists. */
function refuse(socket: Duplex, status: number, reason: string): void {
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  socket.destroy();
}

class WsConnection implements StreamConnection {
  readonly flow: Flow;
  /** RFC 7118: only browsers/clients open WebSocket connections; the server side never does. */
  readonly inbound = true;
  private readonly idle: IdleTimer;
  private closed = false;

  constructor(
    private readonly ctx: EndpointContext,
    private readonly ws: WebSocket,
    readonly id: string,
    readonly protocol: 'ws' | 'wss',
    flow: Omit<Flow, 'connectionId'>,
  ) {
    this.flow = { ...flow, connectionId: id };
    // Only complete messages and control frames count as activity, so a peer trickling one frame
    // forever is closed by this timer as well (the slowloris guard for WebSockets).
    this.idle = new IdleTimer(ctx.clock, ctx.limits.idleTimeoutMs, () => {
      ctx.log.debug?.({ connectionId: id, remote: this.flow.remote }, 'idle timeout, closing');
      this.destroy();
    });
    ws.on('message', (data) => {
      this.idle.touch();
      ctx.sink.message({ data: toBuffer(data), flow: this.flow });
    });
    ws.on('ping', () => this.idle.touch());
    ws.on('pong', () => this.idle.touch());
    ws.on('error', (err: Error & { code?: string }) => {
      if (err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') {
        // ws has already failed the connection with 1009; report it, there is nothing to answer on.
        ctx.sink.framingError({ flow: this.flow, error: 'message-too-large', data: Buffer.alloc(0) });
      }
      ctx.log.debug?.({ connectionId: id, err }, 'websocket error');
    });
    ws.on('close', () => this.onClose());
  }

  write(data: Buffer): Promise<void> {
    if (this.closed || this.ws.readyState !== this.ws.OPEN) {
      return Promise.reject(new Error(`connection ${this.id} is closed`));
    }
    if (this.ws.bufferedAmount > MAX_WRITE_BACKLOG_BYTES) {
      this.ctx.log.warn({ connectionId: this.id, queued: this.ws.bufferedAmount }, 'peer not reading, closing');
      this.destroy();
      return Promise.reject(new Error(`connection ${this.id} closed: peer not reading`));
    }
    this.idle.touch();
    // RFC 7118 §5.1: text frames must be UTF-8; anything else (binary bodies) goes as a binary frame.
    const binary = !isUtf8(data);
    return new Promise((resolve, reject) => {
      this.ws.send(data, { binary }, (err) => (err ? reject(err) : resolve()));
    });
  }

  close(): void {
    this.ws.close(1000);
  }

  destroy(): void {
    this.ws.terminate();
    this.onClose();
  }

  private onClose(): void {
    if (this.closed) return;
    this.closed = true;
    this.idle.stop();
    if (this.ctx.table.delete(this.id)) this.ctx.sink.connectionClosed(this.id);
  }
}

/** A ws or wss listener (RFC 7118 §4); accepts connections, never opens them. */
export class WsTransport implements TransportEndpoint {
  listening: ListeningTransport | undefined;
  private readonly server: http.Server | https.Server;
  private readonly wss: WebSocketServer;
  private readonly protocol: 'ws' | 'wss';

  constructor(
    private readonly ctx: EndpointContext,
    readonly spec: ListenSpec,
  ) {
    if (spec.protocol !== 'ws' && spec.protocol !== 'wss') throw new Error(`not a websocket spec: ${spec.protocol}`);
    this.protocol = spec.protocol;
    const onRequest = (_req: http.IncomingMessage, res: http.ServerResponse): void => {
      res.writeHead(426, { Upgrade: 'websocket', 'Content-Type': 'text/plain' }).end('SIP over WebSocket only\n');
    };
    if (spec.protocol === 'wss') {
      if (!spec.tls) throw new Error(`wss listener on ${spec.bindAddress}:${spec.port} needs a TLS key and certificate`);
      const { key, cert, ca } = spec.tls;
      this.server = https.createServer({ key, cert, ...(ca ? { ca } : {}), noDelay: true }, onRequest);
    } else {
      this.server = http.createServer({ noDelay: true }, onRequest);
    }
    // Bound the time a peer may take to send its upgrade request (slowloris on the handshake).
    this.server.headersTimeout = Math.min(60000, ctx.limits.partialMessageTimeoutMs);
    this.server.requestTimeout = Math.min(300000, ctx.limits.partialMessageTimeoutMs);
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: ctx.limits.maxMessageBytes,
      perMessageDeflate: false,
      handleProtocols: (offered) => (offered.has(SUBPROTOCOL) ? SUBPROTOCOL : false),
    });
    this.server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => this.onUpgrade(req, socket, head));
    this.server.on('error', (err) => ctx.log.warn({ err, protocol: this.protocol }, 'listener error'));
  }

  async start(): Promise<ListeningTransport> {
    this.listening = await listenServer(this.server, this.spec);
    return this.listening;
  }

  send(_data: Buffer, dest: Destination): Promise<Flow> {
    return Promise.reject(
      new Error(`no ${this.protocol} connection to ${dest.address}:${dest.port} (a WebSocket server cannot connect out)`),
    );
  }

  stop(): Promise<void> {
    for (const client of this.wss.clients) client.terminate();
    this.wss.close();
    this.server.closeAllConnections();
    return new Promise((resolve) => {
      if (!this.server.listening) {
        resolve();
        return;
      }
      this.server.close(() => resolve());
    });
  }

  private onUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    const remoteAddress = (socket as Socket).remoteAddress ?? '';
    const refusal = this.ctx.table.refusal(remoteAddress);
    if (refusal) {
      this.ctx.log.warn({ protocol: this.protocol, remote: remoteAddress }, `refusing connection: ${refusal}`);
      refuse(socket, 503, 'Service Unavailable');
      return;
    }
    const offered = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
    if (!offered.includes(SUBPROTOCOL)) {
      // RFC 7118 §4.1: the client MUST offer "sip"; without it this is not a SIP client.
      refuse(socket, 400, 'Bad Request');
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const local = this.listening?.local ?? { address: this.spec.bindAddress, port: this.spec.port };
      const remote = { address: normalizeAddress(remoteAddress), port: (socket as Socket).remotePort ?? 0 };
      const id = this.ctx.table.nextId(this.protocol);
      const conn = new WsConnection(this.ctx, ws, id, this.protocol, { protocol: this.protocol, local, remote });
      this.ctx.table.add(conn);
      this.ctx.log.debug?.({ connectionId: id, remote }, 'websocket accepted');
    });
  }
}
