import type { Clock } from '../../shared/clock.js';
import type { SipRequest, SipResponse } from '../message/types.js';
import type { ClientTransactionUser, MessageSender, TimerConfig } from '../transaction/types.js';
import type { Destination, Flow } from '../transport/types.js';
import type { Via } from '../message/types.js';
import type { LocalAddresses } from './local-address.js';

/**
 * What the drachtio semantics core needs from the layers around it. The core is written against
 * these small ports, so that it can be tested with fakes and so that the concrete wire server,
 * transaction layer and transports are chosen in one place (`server.ts`).
 */

/** One drachtio-srf connection, as the core sees it. */
export interface AppConnection {
  readonly id: string;
  /** The socket is gone: nothing more can be delivered to it. */
  readonly closed: boolean;
  /** Write one wire-protocol payload; payloads reach the app in call order (echo-before-response). */
  send(payload: string): void;
}

/** Picks the app connection for a new request or CDR (round-robin among those that routed the verb). */
export interface AppRouter {
  pick(verb: string): AppConnection | undefined;
}

/**
 * drachtio's request handler (drachtio-protocol §2.2, §6): when one is configured it, not the
 * `route` verbs, decides where a new out-of-dialog request goes. It may take its time (an HTTP
 * call, a TCP connect); it either answers the transaction itself (reject, redirect, proxy, 480,
 * 500, 503) or calls `deliver` with the app connection that is to own the request.
 */
export interface RequestRouting {
  route(txn: ServerTxn, deliver: (owner: AppConnection) => void): void;
  /**
   * A CANCEL matched an INVITE that is still being routed: answer it 487 and drop it (nothing is
   * delivered later). False when the INVITE is not one being routed.
   */
  cancel(inviteTxn: ServerTxn): boolean;
}

/** A server transaction as the core uses it. */
export interface ServerTxn {
  readonly id: string;
  readonly request: SipRequest;
  readonly flow: Flow;
  /** `bytes`, when given, must be `serializeMessage(res)`: a caller that already serialised it saves doing it twice. */
  respond(res: SipResponse, bytes?: Buffer): void;
  /** Drop the transaction without answering (the app never did). */
  terminate(): void;
}

/**
 * An INVITE server transaction that retransmits its 2xx until the ACK (RFC 3261 §13.3.1.4) and
 * reports when 64·T1 pass without one.
 */
export interface InviteServerTxn extends ServerTxn {
  retransmit2xxUntilAck(onAckTimeout: () => void): void;
  ackReceived(): void;
}

/** A client transaction as the core uses it. */
export interface ClientTxn {
  /** The request exactly as sent (top Via added). */
  readonly request: SipRequest;
  /** RFC 3261 §9.1 CANCEL of this INVITE; undefined when it cannot be sent (final already received). */
  cancel?(headers?: Array<[string, string]>): { request: SipRequest } | undefined;
  /** INVITE only: 'queued' when the CANCEL waits for the first provisional (RFC 3261 §9.1). */
  readonly cancelState?: 'none' | 'queued' | 'sent' | 'not-sent';
}

export interface Transactions {
  sendRequest(
    req: SipRequest,
    dest: Destination,
    user: ClientTransactionUser,
    opts: { sentBy: { protocol: string; host: string; port: number } },
  ): ClientTxn;
}

export interface Logger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** Engine behaviour switches that follow drachtio-server's configuration (drachtio-protocol §6). */
export interface CoreConfig {
  /** Send cdr:* messages to apps that routed them. */
  cdrs: boolean;
  /** `<session-timers default-refresher>`: applied when the UAC offered no Session-Expires. */
  defaultRefresher: 'none' | 'uac' | 'uas';
  /** Reply 200 to OPTIONS from this User-Agent without involving an app. */
  optionsAutoRespondUserAgent?: string;
  /** Send 180 along with the automatic 100 Trying. */
  alwaysSend180: boolean;
  /** Header names whose spelling is kept as the app wrote it. */
  preserveHeaderNames: ReadonlySet<string>;
  /** Drop a network request the app has not answered after this long (ms); drachtio uses 64 s. */
  pendingRequestTimeoutMs: number;
}

export const defaultCoreConfig: CoreConfig = {
  cdrs: true,
  defaultRefresher: 'none',
  alwaysSend180: false,
  preserveHeaderNames: new Set(),
  pendingRequestTimeoutMs: 64_000,
};

export interface CoreDeps {
  clock: Clock;
  timers: TimerConfig;
  log: Logger;
  transactions: Transactions;
  /** Raw sends outside transactions: ACK for 2xx, 2xx retransmissions, stateless forwarding. */
  sender: MessageSender;
  local: LocalAddresses;
  router: AppRouter;
  /** Set when drachtio's `--http-handler` is configured: new requests are routed by it instead of `router`. */
  requestRouting?: RequestRouting;
  config: CoreConfig;
  /** Where responses to a request go (RFC 3261 §18.2.2, RFC 3581; symmetric for UDP by default). */
  responseDestination: (via: Via, flow: Flow) => Destination;
}
