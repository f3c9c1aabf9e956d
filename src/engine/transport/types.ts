import type { HostPort, TransportProtocol } from '../message/types.js';

/**
 * A flow: the path a message arrived on, or should leave by (RFC 3581, RFC 5626 §5).
 * For connection-oriented transports `connectionId` names the very connection, so responses and
 * in-dialog requests reuse the connection a peer opened (NAT-friendly, and required for WS).
 */
export interface Flow {
  protocol: TransportProtocol;
  /** The local listening transport this flow belongs to. */
  local: HostPort;
  /** The peer's source address and port as seen on the socket. */
  remote: HostPort;
  /** Set for tcp/tls/ws/wss: id of the connection the message came in on. */
  connectionId?: string;
}

/** A complete message's bytes as framed by a transport, before SIP parsing. */
export interface InboundData {
  data: Buffer;
  flow: Flow;
}

/** Why a stream transport rejected bytes it was framing (RFC 4475 §3.1.2.3, §3.3.9, RFC 3261 §18.3). */
export type FramingError =
  | 'negative-content-length'
  | 'multiple-content-length'
  | 'invalid-content-length'
  | 'message-too-large'
  | 'header-too-large';

/** Where to send a message. */
export interface Destination {
  protocol: TransportProtocol;
  address: string;
  port: number;
  /**
   * Prefer this existing connection (the flow the request came in on). If it is gone, a
   * connection-oriented transport opens a new one to address:port (not possible for ws/wss server
   * side flows, in which case the send fails).
   */
  connectionId?: string;
}

/** One listening endpoint, as given by a `--contact` URI such as `sip:127.0.0.1:5060;transport=udp,tcp`. */
export interface ListenSpec {
  protocol: TransportProtocol;
  /** Address to bind (`0.0.0.0`, `::`, or a specific IP). */
  bindAddress: string;
  port: number;
  /** The address to advertise in Via/Contact/Record-Route (external IP if configured, else the bound IP). */
  advertisedHost: string;
  /** The address advertised inside the local network (drachtio's localHostports). */
  localHost: string;
  /** TLS material for tls/wss. */
  tls?: { key: Buffer | string; cert: Buffer | string; ca?: Buffer | string };
  /**
   * drachtio's `--local-net` CIDR (IPv4, e.g. `10.0.0.0/8`): peers inside it are addressed with
   * `localHost`, everyone else with `advertisedHost` (see `inCidr` in address.ts).
   */
  localNet?: string;
}

/** A bound, listening transport. */
export interface ListeningTransport {
  spec: ListenSpec;
  /** The actually bound port (differs from spec.port when spec.port was 0). */
  local: HostPort;
}

export interface TransportLimits {
  /** Largest message accepted, in bytes (header + body). Default 65535 (≥64 KiB on UDP, RFC 4475 longreq). */
  maxMessageBytes: number;
  /** Largest header section before the blank line. */
  maxHeaderBytes: number;
  /** Close a stream connection that sends nothing for this long (ms). */
  idleTimeoutMs: number;
  /** Close a stream connection whose partial message has not completed within this time (ms, slowloris). */
  partialMessageTimeoutMs: number;
  /** Refuse new inbound connections beyond this many open at once (all stream transports). */
  maxConnections: number;
  /** Refuse new inbound connections beyond this many from one remote IP. */
  maxConnectionsPerIp: number;
  /**
   * Give up an outbound tcp/tls connect after this long (ms). Optional so existing literals stay
   * valid; the transport layer defaults it to 10000, well inside Timer B/F (32 s).
   */
  connectTimeoutMs?: number;
}
