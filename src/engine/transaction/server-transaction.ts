import { uuid } from '../../shared/ids.js';
import { getHeader } from '../message/headers.js';
import { getTag } from '../message/name-addr.js';
import type { SipRequest, SipResponse } from '../message/types.js';
import { serializeMessage } from '../message/serialize.js';
import type { Destination, Flow } from '../transport/types.js';
import { sendBytes, type TransactionContext } from './context.js';
import type { RequestIdentity } from './keys.js';
import { TimerSet } from './timer-set.js';
import type { ServerTransactionUser } from './types.js';

const EMPTY_BODY = Buffer.alloc(0);

export type TerminationReason = 'completed' | 'timeout' | 'transport-error';

/** Everything a server transaction is created with; built by the layer from the received request. */
export interface ServerTransactionInit {
  ctx: TransactionContext;
  request: SipRequest;
  flow: Flow;
  identity: RequestIdentity;
  destination: Destination;
  /** Called once when the transaction terminates, so the layer drops it from its maps. */
  onGone: (txn: ServerTransactionBase) => void;
}

/**
 * Shared plumbing of the two server state machines (RFC 3261 §17.2): identity, sending to the
 * response destination, transport-failure handling (§17.2.4) and termination.
 */
export abstract class ServerTransactionBase {
  /** Unique id (a UUID, usable as drachtio's transactionId). */
  readonly id = uuid();
  /**
   * The request. Once the final response is out it is replaced by a header-less stand-in with the
   * same method and URI (see {@link releaseMessages}); read it while the transaction is pending.
   */
  request: SipRequest;
  /** The flow the request arrived on. */
  readonly flow: Flow;
  readonly method: string;
  /** Parsed matching fields of the request (top Via, CSeq, tags). */
  readonly identity: RequestIdentity;
  /** Where responses go (RFC 3261 §18.2.2), fixed at creation. */
  readonly destination: Destination;
  /** Whether the flow is reliable: no retransmission timers, zero-length wait timers. */
  readonly reliable: boolean;
  /** The transaction user's callbacks; set it right after `receiveRequest` returns. */
  user: ServerTransactionUser | undefined;
  /** The most recent response passed to the transport, until {@link releaseMessages}. */
  lastResponse: SipResponse | undefined;
  /** To tag of the most recent response (kept for RFC 2543 ACK matching after the release). */
  lastToTag: string | undefined;

  abstract readonly state: string;

  protected readonly ctx: TransactionContext;
  protected readonly timers: TimerSet;
  protected lastBytes: Buffer | undefined;
  private readonly onGone: (txn: ServerTransactionBase) => void;
  private ended = false;

  constructor(init: ServerTransactionInit) {
    this.ctx = init.ctx;
    this.request = init.request;
    this.flow = init.flow;
    this.method = init.request.method;
    this.identity = init.identity;
    this.destination = init.destination;
    this.reliable = init.ctx.sender.isReliable(init.flow.protocol);
    this.timers = new TimerSet(init.ctx.clock);
    this.onGone = init.onGone;
  }

  /** Whether the transaction has terminated and left the layer. */
  get terminated(): boolean {
    return this.ended;
  }

  /**
   * Send a response from the transaction user (RFC 3261 §17.2.1 / §17.2.2). The response is
   * serialised here; invalid sends for the current state (a second non-2xx final, anything after
   * termination) are dropped with a warning rather than thrown, since the TU races the network.
   */
  abstract respond(res: SipResponse, bytes?: Buffer): void;

  /** A retransmission of the request arrived (§17.2.1, §17.2.2): re-send the last response if due. */
  abstract receiveRetransmission(): void;

  /**
   * End the transaction now, e.g. when the TU gives up on a request it will never answer. Timers
   * are cancelled and `user.onTerminated('completed')` is called.
   */
  terminate(): void {
    this.end('completed');
  }

  /** Serialise (unless the caller passed `serializeMessage(res)` as `bytes`), remember as the last response, and send. */
  protected sendResponse(res: SipResponse, bytes?: Buffer): void {
    this.lastResponse = res;
    this.lastToTag = getTag(getHeader(res, 'to') ?? '');
    this.lastBytes = bytes ?? serializeMessage(res);
    this.transmit(this.lastBytes);
  }

  /**
   * After the final response only its bytes are needed, for retransmissions during the 64·T1
   * wait (Timers H, J, L). At thousands of requests per second those waits hold tens of thousands
   * of transactions, so the parsed request and response — kilobytes each — are let go here.
   */
  protected releaseMessages(): void {
    this.lastResponse = undefined;
    this.request = { type: 'request', method: this.request.method, uri: this.request.uri, headers: [], body: EMPTY_BODY };
  }

  /** Re-send the last response's bytes (retransmission, Timer G). */
  protected resendLast(): void {
    if (this.lastBytes) this.transmit(this.lastBytes);
  }

  protected transmit(bytes: Buffer): void {
    sendBytes(this.ctx.sender, bytes, this.destination).then(undefined, (err: unknown) => {
      if (this.ended) return;
      this.ctx.log.warn({ err, txn: this.id, method: this.method }, 'server transaction: transport error');
      this.end('transport-error');
    });
  }

  protected dropped(res: SipResponse, why: string): void {
    this.ctx.log.warn({ txn: this.id, method: this.method, status: res.status, state: this.state }, why);
  }

  /** Enter Terminated: cancel timers, leave the layer, tell the user (once). */
  protected end(reason: TerminationReason): void {
    if (this.ended) return;
    this.ended = true;
    this.timers.clearAll();
    this.enterTerminated();
    this.onGone(this);
    this.user?.onTerminated?.(reason);
  }

  /** Set the subclass's state to 'terminated'. */
  protected abstract enterTerminated(): void;
}
