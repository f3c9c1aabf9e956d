import type { WebSocket } from 'ws';
import { filterMatches } from '../../events/event-types.js';
import type { OutboxEvent } from '../../store/index.js';
import { CRM_ALIASES, crmEventFrame, type CallFactsCache } from './crm-aliases.js';
import { nativeEventFrame, type NameSet } from './stream-messages.js';
import type { StreamPrincipal } from './stream-auth.js';

/** One event's frames, made on first need and shared by every client that gets it. */
export interface EventFrames {
  native?: string;
  crm?: string | null;
}

/** ws keeps its net.Socket private; corking is an optimisation, so its absence is harmless. */
function socketOf(ws: WebSocket): { cork(): void; uncork(): void } | undefined {
  const s = (ws as unknown as { _socket?: { cork?: unknown; uncork?: unknown } })._socket;
  return s && typeof s.cork === 'function' && typeof s.uncork === 'function' ? (s as { cork(): void; uncork(): void }) : undefined;
}

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

  /**
   * Shows the client one event (in order); false once it has been cut off. `frames` memoises the
   * event's frames across clients, so a row fanned out to a hundred clients is framed once.
   */
  offer(e: OutboxEvent, calls: CallFactsCache, frames: EventFrames = {}): boolean {
    if (this.closed) return false;
    if (e.sequence <= this.cursor) return true;
    this.cursor = e.sequence;
    if (!this.subscribed || !this.visible(e) || !filterMatches(this.filter, e.type)) return true;
    const frame = this.names === 'crm' ? (frames.crm ??= crmEventFrame(e, calls) ?? null) : (frames.native ??= nativeEventFrame(e.sequence, e.body));
    return frame === null ? true : this.send(frame);
  }

  /**
   * Holds writes until {@link uncork}: the frames of one outbox page then leave in one writev
   * instead of one syscall each (at 100 clients the syscalls were the stream's main cost).
   */
  cork(): void {
    this.backlogAtCork = this.socket.bufferedAmount;
    socketOf(this.socket)?.cork();
  }

  uncork(): void {
    this.backlogAtCork = undefined;
    socketOf(this.socket)?.uncork();
  }

  /**
   * While corked, what this page adds sits in the socket unsent whatever the reader does, so the
   * check is on the backlog from before the page: the bound becomes limit + one page of frames.
   */
  private backlogAtCork: number | undefined;

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
    if ((this.backlogAtCork ?? buffered) > this.limits.maxBufferedBytes) {
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
