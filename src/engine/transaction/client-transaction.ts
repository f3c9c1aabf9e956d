import { uuid } from '../../shared/ids.js';
import type { SipRequest, SipResponse } from '../message/types.js';
import type { Destination, Flow } from '../transport/types.js';
import { sendBytes, type TransactionContext } from './context.js';
import { TimerSet } from './timer-set.js';
import type { ClientTransactionUser } from './types.js';

/** Everything a client transaction is created with; built by the layer in `sendRequest`. */
export interface ClientTransactionInit {
  ctx: TransactionContext;
  /** The request as sent, top Via included. */
  request: SipRequest;
  bytes: Buffer;
  destination: Destination;
  /** Branch of the top Via: with the CSeq method, the §17.1.3 matching key. */
  branch: string;
  user: ClientTransactionUser;
  /** Called once when the transaction terminates, so the layer drops it from its map. */
  onGone: (txn: ClientTransactionBase) => void;
}

/**
 * Shared plumbing of the two client state machines (RFC 3261 §17.1): sending and re-sending the
 * request, transport failures (§17.1.4) and termination.
 */
export abstract class ClientTransactionBase {
  readonly id = uuid();
  /** The request exactly as sent (with the top Via the layer added). */
  readonly request: SipRequest;
  /** Its serialised bytes, as passed to the MessageSender. */
  readonly bytes: Buffer;
  readonly method: string;
  readonly branch: string;
  readonly destination: Destination;
  readonly reliable: boolean;
  readonly user: ClientTransactionUser;
  /** The flow the first send used (known once the transport resolves it; a TCP connection id). */
  flow: Flow | undefined;

  abstract readonly state: string;

  protected readonly ctx: TransactionContext;
  protected readonly timers: TimerSet;
  private readonly onGone: (txn: ClientTransactionBase) => void;
  private ended = false;

  constructor(init: ClientTransactionInit) {
    this.ctx = init.ctx;
    this.request = init.request;
    this.bytes = init.bytes;
    this.method = init.request.method;
    this.branch = init.branch;
    this.destination = init.destination;
    this.reliable = init.ctx.sender.isReliable(init.destination.protocol);
    this.user = init.user;
    this.timers = new TimerSet(init.ctx.clock);
    this.onGone = init.onGone;
  }

  get terminated(): boolean {
    return this.ended;
  }

  /** Send the request for the first time and arm the state machine's timers. Called once by the layer. */
  abstract start(): void;

  /** A response matched this transaction (§17.1.3). */
  abstract receiveResponse(res: SipResponse, flow: Flow): void;

  /**
   * Where follow-up messages of this transaction go (ACK for a non-2xx, CANCEL): the same
   * destination, pinned to the connection the request actually used (RFC 3261 §17.1.1.3, §9.1).
   */
  followUpDestination(): Destination {
    const connectionId = this.flow?.connectionId;
    return connectionId === undefined ? this.destination : { ...this.destination, connectionId };
  }

  /** Send the request (first time or retransmission); failures end the transaction (§17.1.4). */
  protected transmitRequest(first: boolean): void {
    sendBytes(this.ctx.sender, this.bytes, this.destination).then(
      (flow) => {
        if (first) this.flow = flow;
      },
      (err: unknown) => this.fail('transport-error', err),
    );
  }

  /** Send another message (ACK, …) on this transaction's path; failures are only logged. */
  protected transmitOther(bytes: Buffer, what: string): void {
    sendBytes(this.ctx.sender, bytes, this.followUpDestination()).then(undefined, (err: unknown) =>
      this.ctx.log.warn({ err, txn: this.id, what }, 'client transaction: send failed'),
    );
  }

  /**
   * Report a timeout or transport failure to the user and terminate (§17.1.1.2, §17.1.2.2,
   * §17.1.4). Ignored once a final response has arrived: the user already has its outcome.
   */
  protected fail(reason: 'timeout' | 'transport-error', err?: unknown): void {
    if (this.ended || !this.awaitingFinal) return;
    if (reason === 'transport-error') {
      this.ctx.log.warn({ err, txn: this.id, method: this.method }, 'client transaction: transport error');
    }
    this.leave();
    this.user.onFailure(reason, err);
    this.user.onTerminated?.();
  }

  /** Enter Terminated: cancel timers, leave the layer, tell the user (once). */
  protected end(): void {
    if (this.leave()) this.user.onTerminated?.();
  }

  /** Whether no final response has been received yet. */
  protected abstract get awaitingFinal(): boolean;

  /**
   * Leave the layer before any user callback runs, so that a user reacting to the outcome (a
   * retry with the same branch, a new request) finds a consistent layer. False if already gone.
   */
  private leave(): boolean {
    if (this.ended) return false;
    this.ended = true;
    this.timers.clearAll();
    this.enterTerminated();
    this.onGone(this);
    return true;
  }

  protected abstract enterTerminated(): void;
}
