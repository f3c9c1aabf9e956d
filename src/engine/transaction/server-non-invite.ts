import type { SipResponse } from '../message/types.js';
import { ServerTransactionBase } from './server-transaction.js';

export type ServerNonInviteState = 'trying' | 'proceeding' | 'completed' | 'terminated';

/**
 * Non-INVITE server transaction (RFC 3261 §17.2.2, figure 8).
 *
 * Trying → (1xx) Proceeding → (final) Completed → Timer J → Terminated. Request retransmissions
 * are absorbed in Trying and answered with the last response in Proceeding and Completed. Timer J
 * (64·T1) keeps the final response around for retransmissions over UDP; on reliable transports
 * the request cannot be retransmitted, so the transaction ends as soon as the final is sent.
 * Also used for CANCEL (§9.2: a CANCEL is a non-INVITE transaction of its own).
 */
export class ServerNonInviteTransaction extends ServerTransactionBase {
  state: ServerNonInviteState = 'trying';

  respond(res: SipResponse, bytes?: Buffer): void {
    if (this.state === 'completed' || this.state === 'terminated') {
      this.dropped(res, 'server transaction: response after final dropped');
      return;
    }
    if (res.status < 200) {
      this.state = 'proceeding';
      this.sendResponse(res, bytes);
      return;
    }
    this.state = 'completed';
    this.sendResponse(res, bytes);
    this.releaseMessages();
    if (this.reliable) this.end('completed');
    else if (!this.terminated) this.timers.set('J', this.ctx.timers.t1x64, () => this.end('completed'));
  }

  receiveRetransmission(): void {
    // §17.2.2: absorbed in Trying; the last provisional or the final is re-sent otherwise.
    if (this.state === 'proceeding' || this.state === 'completed') this.resendLast();
  }

  protected enterTerminated(): void {
    this.state = 'terminated';
  }
}
