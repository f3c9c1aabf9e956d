import type { SipRequest, SipResponse, Via } from '../message/types.js';
import type { Destination, Flow } from '../transport/types.js';

/** RFC 3261 §17.1.1.1 / §17.1.2.1 timer base values, in ms. */
export interface TimerConfig {
  t1: number;
  t2: number;
  t4: number;
  /** Timer B/F/H/J base (64·T1 by default; drachtio's `t1x64`). */
  t1x64: number;
  /** Timer C for proxies (RFC 3261 §16.6 step 11), > 3 min. */
  timerC: number;
  /**
   * Timer D, how long an INVITE client transaction absorbs retransmitted non-2xx finals over an
   * unreliable transport (RFC 3261 §17.1.1.2: at least 32 s). Default 32000.
   */
  timerD?: number;
}

export const defaultTimers: TimerConfig = { t1: 500, t2: 4000, t4: 5000, t1x64: 32000, timerC: 185000 };

/**
 * What the transaction layer needs from below: serialise-and-send on a destination or flow.
 * Implemented by the transport layer (or a fake in tests).
 */
export interface MessageSender {
  /**
   * Send bytes. Resolves with the flow actually used (a new connection id for a fresh TCP
   * connection); rejects on transport failure (connect refused, no route, send error).
   */
  send(data: Buffer, dest: Destination): Promise<Flow>;
  /** Whether a destination's transport is unreliable (UDP): retransmission timers apply. */
  isReliable(protocol: Destination['protocol']): boolean;
}

/** Events a server transaction reports to its transaction user. */
export interface ServerTransactionUser {
  /**
   * A CANCEL matched this INVITE server transaction (RFC 3261 §9.2). `TransactionLayer` does not
   * call it: it reports a CANCEL as `receiveRequest(...).kind === 'cancel'`, and the caller answers
   * it (200 or 481) and the INVITE (487). Kept for transaction users that want a push notification.
   */
  onCancel?(cancel: SipRequest, flow: Flow): void;
  /** The transaction ended (normally, or by transport error / timeout). */
  onTerminated?(reason: 'completed' | 'timeout' | 'transport-error'): void;
}

/** Events a client transaction reports to its transaction user. */
export interface ClientTransactionUser {
  /** Every response except the ones the transaction absorbs (retransmitted finals). 1xx included. */
  onResponse(response: SipResponse, flow: Flow): void;
  /** Timer B/F fired, or the transport failed: the user should synthesise 408 / 503 as it sees fit. */
  onFailure(reason: 'timeout' | 'transport-error', error?: unknown): void;
  /** The transaction left the layer (after Timer D/K/M, a failure, or at once on reliable transports). */
  onTerminated?(): void;
}

/**
 * Where a server transaction sends its responses (RFC 3261 §18.2.2, RFC 3581 §4): chosen once
 * from the request's top Via and the flow it arrived on. The transport layer provides the real one.
 */
export type ResponseDestinationFn = (via: Via, flow: Flow) => Destination;
