import type { WebSocket } from 'ws';
import { filterMatches } from '../../events/event-types.js';
import type { OutboxEvent } from '../../store/index.js';
import { CRM_ALIASES, crmEventFrame, type CallFactsCache } from './crm-aliases.js';
import { nativeEventFrame, type NameSet } from './stream-messages.js';
import type { StreamPrincipal } from './stream-auth.js';

/** WebSocket close codes we use (RFC 6455 §7.4.1). */
export const CLOSE_POLICY = 1008;
export const CLOSE_GOING_AWAY = 1001;

/**
 * One connected reader. `cursor` is the last outbox sequence it has been shown (sent, or skipped
 * because it did not match): everything it is sent comes in sequence order after the cursor, so
 * replay and live never overlap or leave a gap. While `catchingUp`, the stream's live tail passes it
 * by and its own replay reads the outbox until it reaches the tail.
 */
export class StreamClient {
  cursor = 0;
  catchingUp = false;
  subscribed = false;
  filter: readonly string[] = [];
  names: NameSet = 'native';
  alive = true;
  /** Largest send buffer seen (bytes): what the memory bound is checked against. */
  maxBuffered = 0;
  closed = false;

  constructor(
    readonly socket: WebSocket,
    readonly principal: StreamPrincipal,
    private readonly limits: { maxBufferedBytes: number; onSlow: (c: StreamClient) => void },
  ) {}

  /** Shows the client one event (in order); false once it has been cut off. */
  offer(e: OutboxEvent, calls: CallFactsCache): boolean {
    if (this.closed) return false;
    if (e.sequence <= this.cursor) return true;
    this.cursor = e.sequence;
    if (!this.subscribed || !this.visible(e) || !filterMatches(this.filter, e.type)) return true;
    const frame = this.names === 'crm' ? crmEventFrame(e, calls) : nativeEventFrame(e.sequence, e.body);
    return frame === undefined ? true : this.send(frame);
  }

  private visible(e: OutboxEvent): boolean {
    return this.principal.allTenants || e.tenantId === this.principal.tenantId;
  }

  /**
   * Sends unless the client has fallen behind: `bufferedAmount` (ws's queue plus the kernel-refused
   * bytes Node holds) above the limit means it is not reading, and buffering more would let one slow
   * reader grow the server's memory without bound. It is cut off instead (1008 with a reason); it can
   * reconnect with its last sequence and replay from the outbox at its own pace.
   */
  send(frame: string): boolean {
    const buffered = this.socket.bufferedAmount;
    if (buffered > this.maxBuffered) this.maxBuffered = buffered;
    if (buffered > this.limits.maxBufferedBytes) {
      this.limits.onSlow(this);
      return false;
    }
    this.socket.send(frame);
    return true;
  }

  /** The filter a subscribe without `events` gets: everything, or the CRM alias set. */
  static defaultFilter(names: NameSet): readonly string[] {
    return names === 'crm' ? Object.keys(CRM_ALIASES) : ['*'];
  }
}
