import type { Clock } from '../../shared/clock.js';
import type { Destination, Flow } from '../transport/types.js';
import type { MessageSender, TimerConfig } from './types.js';

/** The logger shape the layer accepts (a pino child logger fits). */
export interface TransactionLog {
  debug?(o: object, m: string): void;
  warn(o: object, m: string): void;
}

/** Timer values with every optional one resolved. */
export type ResolvedTimers = Required<TimerConfig>;

/** What every transaction needs from the layer that owns it. */
export interface TransactionContext {
  sender: MessageSender;
  clock: Clock;
  timers: ResolvedTimers;
  log: TransactionLog;
}

/**
 * Send through the MessageSender, turning a synchronous throw into a rejection so callers have a
 * single failure path (RFC 3261 §17.1.4 / §17.2.4 transport errors).
 */
export function sendBytes(sender: MessageSender, data: Buffer, dest: Destination): Promise<Flow> {
  try {
    return sender.send(data, dest);
  } catch (err) {
    return Promise.reject(err);
  }
}

/** Next retransmission interval: doubling, optionally capped (T2 for Timer E/G, none for Timer A). */
export function backoff(current: number, cap?: number): number {
  const next = current * 2;
  return cap === undefined ? next : Math.min(next, cap);
}
