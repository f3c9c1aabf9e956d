/**
 * The contract between the transport layer facade and each transport implementation (udp, tcp,
 * tls, ws, wss), kept internal to this folder.
 */
import type { Clock } from '../../shared/clock.js';
import type net from 'node:net';
import { addressFamily, normalizeAddress } from './address.js';
import type { ConnectionTable } from './connection-table.js';
import type { Destination, Flow, FramingError, InboundData, ListenSpec, ListeningTransport, TransportLimits } from './types.js';

/** The logger surface the transports need (a pino logger fits). */
export interface TransportLog {
  warn(obj: object, msg: string): void;
  debug?(obj: object, msg: string): void;
}

/** A framing error as reported to the engine. */
export interface FramingErrorEvent {
  flow: Flow;
  error: FramingError;
  /** The bytes of the bad message (its header section at least, when there was one). */
  data: Buffer;
}

/** Where transports deliver what they receive. */
export interface TransportSink {
  message(m: InboundData): void;
  framingError(e: FramingErrorEvent): void;
  connectionClosed(id: string): void;
}

export type ResolvedLimits = Required<TransportLimits>;

export const defaultLimits: ResolvedLimits = {
  maxMessageBytes: 65535,
  maxHeaderBytes: 16384,
  // A registered phone may keep its TCP/TLS/WS connection quiet between re-registrations (RFC 5626
  // keepalives are optional), and calls to it must still use that connection: idle means long.
  idleTimeoutMs: 900_000,
  // RFC 4475 §3.1.2.2 "clerr": a stream message shorter than its Content-Length waits ~30 s, then goes.
  partialMessageTimeoutMs: 30000,
  maxConnections: 10000,
  maxConnectionsPerIp: 256,
  connectTimeoutMs: 10000,
};

/** Outbound TLS policy (tls and, should it ever connect out, wss). */
export interface TlsClientOptions {
  /** Verify the server certificate (default true). Tests against self-signed peers turn it off. */
  rejectUnauthorized?: boolean;
  /** Extra trust anchors in addition to Node's bundled CAs. */
  ca?: Buffer | string;
}

export interface EndpointContext {
  limits: ResolvedLimits;
  clock: Clock;
  log: TransportLog;
  table: ConnectionTable;
  sink: TransportSink;
  tlsClient: TlsClientOptions;
}

/** One listening transport: owns its server socket and (for streams) opens outbound connections. */
export interface TransportEndpoint {
  readonly spec: ListenSpec;
  /** Bind and listen. */
  start(): Promise<ListeningTransport>;
  /** The bound transport, once started. */
  readonly listening: ListeningTransport | undefined;
  /**
   * Send where no existing connection could be reused: a datagram for udp, a new connection for
   * tcp/tls, a rejection for ws/wss (RFC 7118 §5: the server side cannot open WebSocket connections).
   */
  send(data: Buffer, dest: Destination): Promise<Flow>;
  /** Close the listener; the facade destroys the connections. */
  stop(): Promise<void>;
}

/**
 * The public description of a bound listener. The TLS key material is left out of the copy so that
 * logging `listeners()` can never leak a private key.
 */
export function describeListener(spec: ListenSpec, bound: { address: string; port: number }): ListeningTransport {
  const { tls: _secret, ...rest } = spec;
  return { spec: rest, local: { address: normalizeAddress(bound.address), port: bound.port } };
}

/**
 * Start a stream listener (net, tls or http server) on `spec`'s address and port, IPv6-only when
 * the address is IPv6 (so the same port can be bound separately for IPv4), and describe it.
 */
export function listenServer(server: net.Server, spec: ListenSpec): Promise<ListeningTransport> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    const ipv6Only = addressFamily(spec.bindAddress) === 6;
    server.listen({ host: spec.bindAddress, port: spec.port, ipv6Only }, () => {
      server.off('error', onError);
      resolve(describeListener(spec, server.address() as net.AddressInfo));
    });
  });
}
