/**
 * Contracts between the wire server and the rest of the engine.
 */
import type { ClientConnection } from './client-connection.js';
import type { ProxyCommand, SipCommand } from './client-command.js';

/**
 * The logging surface the wire layer needs; a pino logger satisfies it. Deep modules receive a
 * logger rather than importing the root one (docs/architecture.md, Conventions).
 */
export interface WireLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** A logger that drops everything, for callers (and tests) that pass none. */
export const silentLogger: WireLogger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
};

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
