/**
 * The engine's transport layer (RFC 3261 §18): every listening transport behind one
 * {@link MessageSender}, plus the events the message/transaction layers consume.
 */
import { EventEmitter } from 'node:events';
import { systemClock, type Clock } from '../../shared/clock.js';
import type { TransportProtocol } from '../message/types.js';
import type { MessageSender } from '../transaction/types.js';
import { addressFamily, isUnspecifiedAddress, normalizeAddress } from './address.js';
import { ConnectionTable, type StreamConnection } from './connection-table.js';
import {
  defaultLimits,
  type EndpointContext,
  type FramingErrorEvent,
  type ResolvedLimits,
  type TlsClientOptions,
  type TransportEndpoint,
  type TransportLog,
  type TransportSink,
} from './endpoint.js';
import { StreamTransport, tcpFlavor } from './tcp.js';
import { tlsFlavor } from './tls.js';
import type { Destination, Flow, InboundData, ListenSpec, ListeningTransport, TransportLimits } from './types.js';
import { UdpTransport } from './udp.js';
import { WsTransport } from './ws.js';

export type { FramingErrorEvent, TlsClientOptions, TransportLog } from './endpoint.js';

/** Events of the transport layer. Listener exceptions are caught and logged, never thrown into sockets. */
export interface TransportEvents {
  /** One complete message's bytes (a datagram, a framed stream message, a WebSocket message). */
  message: [m: InboundData];
  /**
   * Bytes that could not be framed. On a stream the connection is closed right after (on the next
   * macrotask, so a 400/513 sent from this handler still goes out); on UDP only the datagram is lost.
   */
  'framing-error': [e: FramingErrorEvent];
  /** A tcp/tls/ws/wss connection closed, for whatever reason; its id is no longer usable. */
  'connection-closed': [connectionId: string];
}

export interface TransportLayerOptions {
  listen: ListenSpec[];
  limits?: Partial<TransportLimits>;
  clock?: Clock;
  log?: TransportLog;
  /** Outbound TLS verification (default: verify against Node's CAs plus any `ca` given). */
  tlsClient?: TlsClientOptions;
}

const silentLog: TransportLog = { warn: () => undefined };

/**
 * Composition rather than `extends EventEmitter`: the emitter's own `listeners()` would clash with
 * {@link TransportLayer.listeners}, and only the three typed events should be public.
 */
export class TransportLayer implements MessageSender {
  /** Untyped inside; the typed on/off/once below are the only way in. */
  private readonly events = new EventEmitter();
  private readonly ctx: EndpointContext;
  private readonly specs: ListenSpec[];
  private endpoints: TransportEndpoint[] = [];
  private state: 'new' | 'starting' | 'running' | 'stopped' = 'new';

  constructor(opts: TransportLayerOptions) {
    this.specs = opts.listen;
    const limits: ResolvedLimits = { ...defaultLimits };
    for (const [k, v] of Object.entries(opts.limits ?? {})) {
      if (v !== undefined) limits[k as keyof ResolvedLimits] = v;
    }
    const log = opts.log ?? silentLog;
    this.ctx = {
      limits,
      clock: opts.clock ?? systemClock,
      log,
      table: new ConnectionTable(limits),
      sink: this.makeSink(log),
      tlsClient: opts.tlsClient ?? {},
    };
  }

  on<K extends keyof TransportEvents>(event: K, listener: (...args: TransportEvents[K]) => void): this {
    this.events.on(event, listener as (...args: unknown[]) => void);
    return this;
  }

  off<K extends keyof TransportEvents>(event: K, listener: (...args: TransportEvents[K]) => void): this {
    this.events.off(event, listener as (...args: unknown[]) => void);
    return this;
  }

  once<K extends keyof TransportEvents>(event: K, listener: (...args: TransportEvents[K]) => void): this {
    this.events.once(event, listener as (...args: unknown[]) => void);
    return this;
  }

  /** Bind every listener; if one fails, the ones already bound are closed and the error is thrown. */
  async start(): Promise<ListeningTransport[]> {
    if (this.state !== 'new') throw new Error(`transport layer cannot start: ${this.state}`);
    this.state = 'starting';
    try {
      for (const spec of this.specs) {
        const ep = this.createEndpoint(spec);
        this.endpoints.push(ep);
        await ep.start();
      }
    } catch (err) {
      await this.stop();
      throw err;
    }
    this.state = 'running';
    return this.listeners();
  }

  listeners(): ListeningTransport[] {
    return this.endpoints.flatMap((ep) => (ep.listening ? [ep.listening] : []));
  }

  /**
   * The local transport to advertise (Via sent-by, Contact, Record-Route) for a destination of this
   * protocol and address family: the first listener configured for it.
   */
  listenerFor(protocol: TransportProtocol, family: 4 | 6): ListeningTransport | undefined {
    return this.endpointFor(protocol, family)?.listening;
  }

  /** The listener a flow belongs to (the one a request came in on), for Record-Route and Contact. */
  listenerForFlow(flow: Flow): ListeningTransport | undefined {
    // Called for every new request: a plain loop, without building the listeners() array.
    for (const ep of this.endpoints) {
      const l = ep.listening;
      if (l && l.spec.protocol === flow.protocol && l.local.port === flow.local.port && l.local.address === flow.local.address) return l;
    }
    return undefined;
  }

  /** The flow of a live connection, or undefined once it has closed. */
  connectionFlow(connectionId: string): Flow | undefined {
    return this.ctx.table.get(connectionId)?.flow;
  }

  /**
   * Send one message. Stream protocols reuse, in order: the connection named by `connectionId`,
   * then any live connection to the same remote address, port and protocol, whoever opened it
   * (RFC 3261 §18.2.2, RFC 5923 §3); only then does tcp/tls connect (ws/wss cannot, RFC 7118 §5).
   * Rejects on failure, including a refused broadcast destination (RFC 4475 §3.3.1).
   */
  async send(data: Buffer, dest: Destination): Promise<Flow> {
    if (this.state !== 'running') throw new Error(`transport layer is ${this.state}`);
    // 0.0.0.0/:: would reach this very host, port 0 nothing: both mean a bad Via or URI upstream.
    if (isUnspecifiedAddress(dest.address) || !Number.isInteger(dest.port) || dest.port < 1 || dest.port > 65535) {
      throw new Error(`invalid ${dest.protocol} destination ${dest.address}:${dest.port}`);
    }
    if (dest.protocol !== 'udp') {
      const conn = this.liveConnection(dest);
      if (conn) {
        await conn.write(data);
        return conn.flow;
      }
    }
    const family = addressFamily(dest.address);
    const ep =
      family === 0
        ? (this.endpointFor(dest.protocol, 4) ?? this.endpointFor(dest.protocol, 6))
        : this.endpointFor(dest.protocol, family);
    if (!ep) throw new Error(`no ${dest.protocol} transport for ${dest.address}`);
    return ep.send(data, dest);
  }

  /** RFC 3261 §17.1.1.2: only UDP needs retransmissions; every stream transport is reliable. */
  isReliable(protocol: TransportProtocol): boolean {
    return protocol !== 'udp';
  }

  /** Close a connection gracefully (queued writes are flushed first). Unknown ids are ignored. */
  closeConnection(connectionId: string): void {
    this.ctx.table.get(connectionId)?.close();
  }

  /** Close every connection and listener; timers are cleared as each connection goes. */
  async stop(): Promise<void> {
    if (this.state === 'stopped') return;
    this.state = 'stopped';
    for (const conn of this.ctx.table.all()) conn.destroy();
    await Promise.all(this.endpoints.map((ep) => ep.stop()));
  }

  private liveConnection(dest: Destination): StreamConnection | undefined {
    const protocol = dest.protocol as StreamConnection['protocol'];
    if (dest.connectionId !== undefined) {
      const named = this.ctx.table.get(dest.connectionId);
      if (named && named.protocol === protocol) return named;
    }
    return this.ctx.table.findByRemote(protocol, normalizeAddress(dest.address), dest.port);
  }

  private endpointFor(protocol: TransportProtocol, family: 4 | 6): TransportEndpoint | undefined {
    return this.endpoints.find(
      (ep) => ep.spec.protocol === protocol && (addressFamily(ep.spec.bindAddress) === 6 ? 6 : 4) === family,
    );
  }

  private createEndpoint(spec: ListenSpec): TransportEndpoint {
    switch (spec.protocol) {
      case 'udp':
        return new UdpTransport(this.ctx, spec);
      case 'tcp':
        return new StreamTransport(this.ctx, spec, tcpFlavor);
      case 'tls':
        return new StreamTransport(
          this.ctx,
          spec,
          tlsFlavor(spec, this.ctx.tlsClient, this.ctx.limits.partialMessageTimeoutMs),
        );
      case 'ws':
      case 'wss':
        return new WsTransport(this.ctx, spec);
    }
  }

  private makeSink(log: TransportLog): TransportSink {
    const safeEmit = <K extends keyof TransportEvents>(event: K, ...args: TransportEvents[K]): void => {
      try {
        this.events.emit(event, ...args);
      } catch (err) {
        log.warn({ err, event }, 'transport event listener threw');
      }
    };
    return {
      message: (m) => safeEmit('message', m),
      framingError: (e) => safeEmit('framing-error', e),
      connectionClosed: (id) => safeEmit('connection-closed', id),
    };
  }
}
