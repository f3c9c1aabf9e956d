import { getHeader } from '../message/headers.js';
import { getTag } from '../message/name-addr.js';
import { serializeMessage } from '../message/serialize.js';
import type { SipRequest, SipResponse } from '../message/types.js';
import type { Flow } from '../transport/types.js';
import type { ClientNonInviteTransaction } from './client-non-invite.js';
import { ClientTransactionBase, type ClientTransactionInit } from './client-transaction.js';
import { buildAckForNon2xx, buildCancel } from './derived-requests.js';

export type ClientInviteState = 'calling' | 'proceeding' | 'completed' | 'accepted' | 'terminated';

/** Where a CANCEL of this INVITE stands (RFC 3261 §9.1). */
export type CancelState = 'none' | 'queued' | 'sent' | 'not-sent';

export interface ClientInviteInit extends ClientTransactionInit {
  /** Start the CANCEL's own non-INVITE client transaction (its responses go nowhere near the INVITE's user). */
  startCancel: (cancel: SipRequest, invite: ClientInviteTransaction) => ClientNonInviteTransaction;
}

/**
 * INVITE client transaction (RFC 3261 §17.1.1, figure 5, as amended by RFC 6026 §7.2).
 *
 * - Calling: over UDP Timer A re-sends the INVITE at T1, 2·T1, 4·T1, … (no cap); Timer B (64·T1,
 *   any transport) ends it with `onFailure('timeout')`. A provisional stops both (Proceeding).
 * - 3xx–6xx → Completed: the layer sends the ACK itself (§17.1.1.3) and, for Timer D (≥32 s on
 *   UDP, zero on reliable transports), answers each retransmitted final with the same ACK
 *   without bothering the user.
 * - 2xx → Accepted (RFC 6026): for Timer M (64·T1) every 2xx — retransmissions and 2xx from
 *   other forks alike — is passed to the user, whose dialog layer sends (and re-sends) the ACK.
 *
 * {@link cancel} implements §9.1, including the rule that a CANCEL waits for a provisional.
 */
export class ClientInviteTransaction extends ClientTransactionBase {
  state: ClientInviteState = 'calling';
  cancelState: CancelState = 'none';
  /** The CANCEL's own transaction, once the CANCEL was sent. */
  cancelTransaction: ClientNonInviteTransaction | undefined;
  /** The ACK the layer sent for a non-2xx final, once sent. */
  ackRequest: SipRequest | undefined;

  private readonly startCancel: ClientInviteInit['startCancel'];
  private queuedCancelHeaders: Array<[string, string]> | undefined;
  private ackBytes: Buffer | undefined;
  private interval = 0;

  constructor(init: ClientInviteInit) {
    super(init);
    this.startCancel = init.startCancel;
  }

  start(): void {
    this.transmitRequest(true);
    if (!this.reliable) {
      this.interval = this.ctx.timers.t1;
      this.timers.set('A', this.interval, () => this.fireTimerA());
    }
    this.timers.set('B', this.ctx.timers.t1x64, () => this.fail('timeout'));
  }

  receiveResponse(res: SipResponse, flow: Flow): void {
    switch (this.state) {
      case 'calling':
      case 'proceeding':
        if (res.status < 200) this.onProvisional(res, flow);
        else if (res.status < 300) this.onAccepted(res, flow);
        else this.onRejected(res, flow);
        return;
      case 'accepted':
        // RFC 6026 §7.2: every 2xx goes up (retransmissions, other forks); others are stray here.
        if (res.status >= 200 && res.status < 300) this.user.onResponse(res, flow);
        return;
      case 'completed':
        // §17.1.1.2: a retransmitted final is answered with the ACK again and absorbed.
        if (res.status >= 300 && this.ackBytes) this.transmitOther(this.ackBytes, 'ACK');
        return;
      default:
    }
  }

  /**
   * Cancel the INVITE (RFC 3261 §9.1). Sent at once when a provisional has been received;
   * otherwise queued and sent when the first provisional arrives, or never if a final comes
   * first. Returns the CANCEL when it was sent now, undefined when queued, already requested, or
   * too late (see {@link cancelState}). Its responses are absorbed by its own transaction. If the
   * INVITE gets no final response within 64·T1 of the CANCEL, the INVITE ends with
   * `onFailure('timeout')` (§9.1).
   */
  cancel(extraHeaders: Array<[string, string]> = []): { request: SipRequest; bytes: Buffer } | undefined {
    if (this.cancelState !== 'none') return undefined;
    if (this.state === 'calling') {
      this.cancelState = 'queued';
      this.queuedCancelHeaders = extraHeaders;
      return undefined;
    }
    if (this.state !== 'proceeding') {
      this.cancelState = 'not-sent';
      return undefined;
    }
    return this.sendCancel(extraHeaders);
  }

  protected get awaitingFinal(): boolean {
    return this.state === 'calling' || this.state === 'proceeding';
  }

  protected enterTerminated(): void {
    this.state = 'terminated';
  }

  private onProvisional(res: SipResponse, flow: Flow): void {
    this.state = 'proceeding';
    this.timers.clear('A');
    this.timers.clear('B');
    if (this.cancelState === 'queued') this.sendCancel(this.queuedCancelHeaders ?? []);
    this.user.onResponse(res, flow);
  }

  private onAccepted(res: SipResponse, flow: Flow): void {
    if (getTag(getHeader(res, 'to') ?? '') === undefined) {
      // A 2xx without a To tag cannot establish a dialog (RFC 3261 §8.2.6.2, §12.1.2). Like
      // sofia-sip, the INVITE stays pending: the user sees the response and may CANCEL it.
      this.state = 'proceeding';
      this.timers.clear('A');
      this.timers.clear('B');
      this.user.onResponse(res, flow);
      return;
    }
    this.state = 'accepted';
    this.finalArrived();
    this.timers.set('M', this.ctx.timers.t1x64, () => this.end());
    this.user.onResponse(res, flow);
  }

  private onRejected(res: SipResponse, flow: Flow): void {
    this.state = 'completed';
    this.finalArrived();
    this.ackRequest = buildAckForNon2xx(this.request, res);
    this.ackBytes = serializeMessage(this.ackRequest);
    this.transmitOther(this.ackBytes, 'ACK');
    if (!this.reliable) {
      this.timers.set('D', this.ctx.timers.timerD, () => this.end());
      this.user.onResponse(res, flow);
      return;
    }
    try {
      this.user.onResponse(res, flow);
    } finally {
      this.end(); // Timer D is zero on reliable transports
    }
  }

  private finalArrived(): void {
    this.timers.clear('A');
    this.timers.clear('B');
    this.timers.clear('cancel');
    if (this.cancelState === 'queued') {
      this.cancelState = 'not-sent';
      this.queuedCancelHeaders = undefined;
    }
  }

  private sendCancel(extraHeaders: Array<[string, string]>): { request: SipRequest; bytes: Buffer } {
    this.cancelState = 'sent';
    this.queuedCancelHeaders = undefined;
    this.cancelTransaction = this.startCancel(buildCancel(this.request, extraHeaders), this);
    this.timers.set('cancel', this.ctx.timers.t1x64, () => this.fail('timeout'));
    return { request: this.cancelTransaction.request, bytes: this.cancelTransaction.bytes };
  }

  private fireTimerA(): void {
    this.transmitRequest(false);
    this.interval *= 2; // §17.1.1.2: Timer A doubles without the T2 cap
    this.timers.set('A', this.interval, () => this.fireTimerA());
  }
}
