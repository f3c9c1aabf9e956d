import type { Clock } from '../../shared/clock.js';
import type { LocalAddresses } from '../core/local-address.js';
import type { AppConnection, Logger, ServerTxn } from '../core/ports.js';
import type { ResolvedTarget } from '../core/resolver.js';
import type { InboundTxn } from '../core/state.js';
import type { SipMessage, SipRequest, Via } from '../message/types.js';
import type { ClientTransactionUser, MessageSender } from '../transaction/types.js';
import type { Destination, Flow } from '../transport/types.js';
import type { CdrRole } from '../wire/meta.js';

/**
 * Contracts between the stateful proxy (drachtio-protocol §4.9) and the engine around it. The
 * proxy is written against these small ports so that branch selection can be tested with a fake
 * transaction layer and a fake clock.
 */

/** A client transaction as the proxy uses it (RFC 3261 §16.6 step 10: one per branch). */
export interface ProxyClientTxn {
  /** The request as sent, our Via on top. */
  readonly request: SipRequest;
  /**
   * RFC 3261 §9.1 CANCEL; the transaction layer holds it until a provisional arrives and drops it
   * if a final comes first. A no-op for non-INVITE transactions.
   */
  cancel?(headers?: Array<[string, string]>): unknown;
}

export interface SendOptions {
  sentBy: { protocol: string; host: string; port: number };
  branch?: string;
}

/** What the proxy needs of the RFC 3261 §17 transaction layer. */
export interface ProxyTransactions {
  sendRequest(req: SipRequest, dest: Destination, user: ClientTransactionUser, opts: SendOptions): ProxyClientTxn;
  /** Send outside any transaction (stateless relay, RFC 3261 §16.11), stamping our Via. */
  sendStateless(req: SipRequest, dest: Destination, opts: SendOptions): { sent: Promise<Flow> };
}

export type CdrKind = 'attempt' | 'start' | 'stop';

/** The answer of {@link ProxyDeps.takeOver}. */
export type TakeOverResult =
  | { kind: 'taken'; inbound: InboundTxn }
  /** No such pending request, or the app already answered it (it can no longer be proxied). */
  | { kind: 'unknown' };

export interface ProxyDeps {
  clock: Clock;
  log: Logger;
  /** 64·T1: how long a finished proxy operation is kept to absorb late CANCELs/ACKs. */
  t1x64: number;
  /** Timer C (RFC 3261 §16.6 step 11): drachtio fixes it at 185 s. */
  timerC: number;
  transactions: ProxyTransactions;
  /** Raw sends: relayed responses. */
  sender: MessageSender;
  local: LocalAddresses;
  /** Where responses to a request received on `flow` go (RFC 3261 §18.2.2, RFC 3581). */
  responseDestination: (via: Via, flow: Flow) => Destination;
  /** Take a pending network request away from the drachtio core: the app proxies it instead of answering. */
  takeOver(txnId: string): TakeOverResult;
  /** Resolve a target/next-hop URI (RFC 3263); may answer synchronously for IP literals. */
  resolve(uri: string): ResolvedTarget | Promise<ResolvedTarget>;
  /** Emit a CDR event to an app that routed it, if CDRs are on (drachtio-protocol §3.2). */
  cdr(kind: CdrKind, source: 'network' | 'application', msg: SipMessage, extra?: CdrRole | string): void;
  /** Header names whose spelling the app's header block keeps (DRACHTIO_PRESERVE_HEADER_NAMES). */
  preserveHeaderNames: ReadonlySet<string>;
}

/** The `proxy` command options that drive one operation (drachtio-protocol §3.1, §4.9). */
export interface ProxyOptions {
  remainInDialog: boolean;
  /** Report each branch's final as a `continue` frame (srf always asks); else `done` comes at once. */
  fullResponse: boolean;
  followRedirects: boolean;
  simultaneous: boolean;
  /** ms; undefined means no provisional timeout. */
  provisionalTimeoutMs?: number;
  destinations: string[];
}

/** The request being proxied, with the transaction and connection it belongs to. */
export interface ProxySource {
  msgId: string;
  conn: AppConnection;
  txn: ServerTxn;
  req: SipRequest;
  flow: Flow;
}
