import type { SipResponse } from '../message/types.js';
import type { Flow } from '../transport/types.js';
import { ClientTransactionBase } from './client-transaction.js';
import { backoff } from './context.js';

export type ClientNonInviteState = 'trying' | 'proceeding' | 'completed' | 'terminated';

/**
 * Non-INVITE client transaction (RFC 3261 §17.1.2, figure 6).
 *
 * Trying: over UDP Timer E re-sends the request at T1, 2·T1, … capped at T2; Timer F (64·T1, any
 * transport) ends it with `onFailure('timeout')`. A provisional moves to Proceeding, where Timer E
 * keeps re-sending every T2 (§17.1.2.2). A final moves to Completed, where Timer K (T4 on UDP,
 * zero on reliable transports) absorbs retransmitted finals. Also used for CANCEL (§9.1).
 */
export class ClientNonInviteTransaction extends ClientTransactionBase {
  state: ClientNonInviteState = 'trying';
  private interval = 0;

  start(): void {
    this.transmitRequest(true);
    if (!this.reliable) {
      this.interval = this.ctx.timers.t1;
      this.timers.set('E', this.interval, () => this.fireTimerE());
    }
    this.timers.set('F', this.ctx.timers.t1x64, () => this.fail('timeout'));
  }

  receiveResponse(res: SipResponse, flow: Flow): void {
    if (this.state === 'completed' || this.state === 'terminated') return; // retransmitted final
    if (res.status < 200) {
      this.state = 'proceeding';
      this.user.onResponse(res, flow);
      return;
    }
    this.state = 'completed';
    this.timers.clear('E');
    this.timers.clear('F');
    if (!this.reliable) {
      this.timers.set('K', this.ctx.timers.t4, () => this.end());
      this.user.onResponse(res, flow);
      return;
    }
    try {
      this.user.onResponse(res, flow);
    } finally {
      this.end(); // Timer K is zero on reliable transports
    }
  }

  /**
   * Non-INVITE requests are not cancelled (RFC 3261 §9: a CANCEL SHOULD NOT be sent for them; the
   * server answers them at once). Present so every client transaction offers the same surface.
   */
  cancel(_extraHeaders?: Array<[string, string]>): undefined {
    return undefined;
  }

  protected get awaitingFinal(): boolean {
    return this.state === 'trying' || this.state === 'proceeding';
  }

  protected enterTerminated(): void {
    this.state = 'terminated';
  }

  private fireTimerE(): void {
    this.transmitRequest(false);
    // §17.1.2.2: in Proceeding the interval is T2 outright; in Trying it doubles up to T2.
    this.interval = this.state === 'proceeding' ? this.ctx.timers.t2 : backoff(this.interval, this.ctx.timers.t2);
    this.timers.set('E', this.interval, () => this.fireTimerE());
  }
}
