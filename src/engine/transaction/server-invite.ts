import type { SipResponse } from '../message/types.js';
import { backoff } from './context.js';
import { ServerTransactionBase } from './server-transaction.js';

export type ServerInviteState = 'proceeding' | 'completed' | 'confirmed' | 'accepted' | 'terminated';

/**
 * INVITE server transaction (RFC 3261 §17.2.1, figure 7, as amended by RFC 6026 §7.1).
 *
 * - Proceeding: provisionals are sent; a retransmitted INVITE gets the last provisional again.
 * - 3xx–6xx → Completed: over UDP Timer G re-sends the final at T1, 2·T1, … capped at T2 until
 *   the ACK; Timer H (64·T1, any transport) gives up with `onTerminated('timeout')`.
 * - ACK → Confirmed: Timer I (T4 on UDP, zero on reliable transports) absorbs ACK retransmissions.
 * - 2xx → Accepted (RFC 6026): Timer L (64·T1) keeps the transaction so that INVITE
 *   retransmissions are absorbed instead of looking like new calls; further 2xx from the TU (its
 *   own retransmissions, §13.3.1.4) are passed to the transport.
 *
 * 2xx retransmission belongs to the UAS core (RFC 3261 §13.3.1.4), not to the transaction; it is
 * offered here as {@link retransmit2xxUntilAck} because the Accepted state spans exactly the same
 * 64·T1 and already holds the 2xx bytes, which keeps the dialog layer free of timers.
 */
export class ServerInviteTransaction extends ServerTransactionBase {
  state: ServerInviteState = 'proceeding';
  private interval = 0;
  private ackTimeout: (() => void) | undefined;

  respond(res: SipResponse, bytes?: Buffer): void {
    switch (this.state) {
      case 'proceeding':
        if (res.status < 200) this.sendResponse(res, bytes);
        else if (res.status < 300) this.accept(res, bytes);
        else this.complete(res, bytes);
        return;
      case 'accepted':
        // RFC 6026 §7.1: 2xx retransmissions from the TU go to the transport; nothing else does.
        if (res.status >= 200 && res.status < 300) this.sendResponse(res, bytes);
        else this.dropped(res, 'server transaction: response after 2xx dropped');
        return;
      default:
        this.dropped(res, 'server transaction: response after final dropped');
    }
  }

  receiveRetransmission(): void {
    // §17.2.1: re-send the last provisional (Proceeding) or final (Completed). In Accepted the
    // INVITE is absorbed (RFC 6026 §7.1); re-sending the 2xx as well costs one datagram and
    // rescues a caller whose 2xx was lost when the TU does not retransmit it itself.
    if (this.state === 'proceeding' || this.state === 'completed' || this.state === 'accepted') this.resendLast();
  }

  /**
   * An ACK matched this transaction (§17.2.1). Returns whether it was for a non-2xx final (and so
   * absorbed); an ACK in Accepted is a 2xx ACK that reused the INVITE's branch (or an RFC 2543
   * ACK) and belongs to the dialog layer, so it only stops the 2xx retransmissions here.
   */
  receiveAck(): 'absorbed' | 'for-2xx' {
    if (this.state === 'accepted') {
      this.ackReceived();
      return 'for-2xx';
    }
    if (this.state === 'completed') {
      this.state = 'confirmed';
      this.timers.clear('G');
      this.timers.clear('H');
      if (this.reliable) this.end('completed');
      else this.timers.set('I', this.ctx.timers.t4, () => this.end('completed'));
    }
    // Confirmed: a retransmitted ACK; Proceeding: an ACK before any final, meaningless.
    return 'absorbed';
  }

  /**
   * Retransmit the 2xx just sent until {@link ackReceived} is called (RFC 3261 §13.3.1.4): over
   * UDP at T1, 2·T1, … capped at T2, always re-sending the latest 2xx passed to `respond`. If no
   * ACK has arrived when the Accepted state ends (64·T1), `onAckTimeout` is called — the point at
   * which drachtio sends BYE with `Reason: SIP ;cause=200 ;text="ACK timeout"`. On reliable
   * transports nothing is retransmitted but the timeout still applies. Only valid in Accepted.
   */
  retransmit2xxUntilAck(onAckTimeout: () => void): void {
    if (this.state !== 'accepted') {
      this.ctx.log.warn({ txn: this.id, state: this.state }, 'retransmit2xxUntilAck outside Accepted ignored');
      return;
    }
    this.ackTimeout = onAckTimeout;
    if (this.reliable) return;
    this.interval = this.ctx.timers.t1;
    this.timers.set('G2xx', this.interval, () => this.fire2xxRetransmit());
  }

  /** The ACK for the 2xx arrived (seen by the dialog layer): stop retransmitting, cancel the timeout. */
  ackReceived(): void {
    this.ackTimeout = undefined;
    this.timers.clear('G2xx');
  }

  /** Whether a 2xx is being retransmitted and its ACK is still awaited. */
  get awaitingAck(): boolean {
    return this.ackTimeout !== undefined;
  }

  protected enterTerminated(): void {
    this.state = 'terminated';
  }

  private accept(res: SipResponse, bytes?: Buffer): void {
    this.state = 'accepted';
    this.sendResponse(res, bytes);
    this.releaseMessages();
    // Timer L (RFC 6026 §7.1) on every transport: absorbs INVITE retransmissions for 64·T1.
    this.timers.set('L', this.ctx.timers.t1x64, () => {
      const onTimeout = this.ackTimeout;
      this.ackReceived();
      onTimeout?.();
      this.end('completed');
    });
  }

  private complete(res: SipResponse, bytes?: Buffer): void {
    this.state = 'completed';
    this.sendResponse(res, bytes);
    this.releaseMessages();
    if (!this.reliable) {
      this.interval = this.ctx.timers.t1;
      this.timers.set('G', this.interval, () => this.fireTimerG());
    }
    this.timers.set('H', this.ctx.timers.t1x64, () => this.end('timeout'));
  }

  private fireTimerG(): void {
    this.resendLast();
    this.interval = backoff(this.interval, this.ctx.timers.t2);
    this.timers.set('G', this.interval, () => this.fireTimerG());
  }

  private fire2xxRetransmit(): void {
    this.resendLast();
    this.interval = backoff(this.interval, this.ctx.timers.t2);
    this.timers.set('G2xx', this.interval, () => this.fire2xxRetransmit());
  }
}
