/**
 * Contracts between the wire server and the rest of the engine.
 */
import type tls from 'node:tls';
import type { ClientConnection } from './client-connection.js';
import type { ProxyCommand, SipCommand } from './client-command.js';
import type { WireLogger } from './logger.js';

export { silentLogger } from './logger.js';
export type { WireLogger } from './logger.js';

/**
 * What the dialog core implements to receive app traffic. The wire server answers the admin
 * commands (authenticate, route, remove_route, ping) itself and hands `sip` and `proxy` over; the
 * core replies later through `client.send` (echo, NOK, `continue`/`done` frames), in order.
 *
 * Calls are synchronous and must not throw; if one does, the server logs it and answers the
 * command `NOK` so the app is not left waiting.
 */
export interface WireHandler {
  /** A `sip` command (§3.1: response, in-dialog request, CANCEL, or new request). */
  onSip(client: ClientConnection, cmd: SipCommand): void;
  /** A `proxy` command (§4.9). */
  onProxy(client: ClientConnection, cmd: ProxyCommand): void;
  /**
   * An authenticated connection has closed (or is closing): its routes are already gone. The core
   * drops what the client owned (§4.1: in-dialog requests for its dialogs then get 481).
   */
  onClientClosed(client: ClientConnection): void;
  /** Optional: a connection authenticated (inbound, or outbound after `connectOutbound`). */
  onClientAuthenticated?(client: ClientConnection): void;
}

/** Options of `WireServer`. */
export interface WireServerOptions {
  /** Admin bind address (drachtio `--address`). */
  host: string;
  /** Admin TCP port (drachtio `-p`, default 9022); 0 picks an ephemeral port. */
  port: number;
  /** Admin TLS port (drachtio `--tls-port`); requires `tls`. */
  tlsPort?: number;
  tls?: { key: string | Buffer; cert: string | Buffer; ca?: string | Buffer };
  /** Shared secret apps present in `authenticate`. */
  secret: string;
  /** SIP transports for the auth reply: comma-joined `proto/host:port`, external and local forms. */
  hostports: () => { external: string; local: string };
  /**
   * Version reported to apps. srf only starts pinging when it parses as `vX.Y.Z` ≥ v0.8.2
   * (outside NODE_ENV=test), so anything else is refused. Default `v1.0.0`.
   */
  version?: string;
  /** TCP keepalive on admin sockets (drachtio `tcp-keepalive`); default 45 s. */
  keepaliveMs?: number;
  log?: WireLogger;
  /** Receives `sip`/`proxy` commands and closures; may be set later with `WireServer.setHandler`. */
  handler?: WireHandler;
  /** Largest frame accepted from an app; default 16 MiB. */
  maxFrameBytes?: number;
  /** Close connections that have not authenticated within this time; default 10 s. */
  authTimeoutMs?: number;
  /** Drop an app that lets this many unsent bytes pile up; default 64 MiB. */
  maxQueuedBytes?: number;
  /** Outbound mode: time allowed to connect and receive a valid authenticate; default 5 s. */
  outboundTimeoutMs?: number;
  /** Outbound mode over TLS: extra `tls.connect` options (CA, client cert, rejectUnauthorized…). */
  outboundTls?: tls.ConnectionOptions;
}
