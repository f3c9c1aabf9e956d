import type { WebSocket } from 'ws';
import { filterMatches } from '../../events/event-types.js';
import type { OutboxEvent } from '../../store/index.js';
import { CRM_ALIASES, crmEventFrame, type CallFactsCache } from './crm-aliases.js';
import { nativeEventFrame, type NameSet } from './stream-messages.js';
import type { StreamPrincipal } from './stream-auth.js';

/**
 * A text message as it goes on the wire: the server's (unmasked) RFC 6455 frame, header and UTF-8
 * payload in one Buffer, and the payload alone as a view of it. Made once per event and name set,
 * then written to every client that gets it: no per-client UTF-8 encoding or framing.
 */
export interface WireFrame {
  wire: Buffer;
  payload: Buffer;
}

/** The unmasked, unfragmented text frame of `text` (FIN + opcode 1; 7-, 16- or 64-bit length). */
export function textFrame(text: string): WireFrame {
  const len = Buffer.byteLength(text);
  const head = len < 126 ? 2 : len < 65536 ? 4 : 10;
  const wire = Buffer.allocUnsafe(head + len);
  wire[0] = 0x81;
  if (len < 126) wire[1] = len;
  else if (len < 65536) {
    wire[1] = 126;
    wire.writeUInt16BE(len, 2);
  } else {
    wire[1] = 127;
    wire.writeUInt32BE(Math.floor(len / 2 ** 32), 2);
    wire.writeUInt32BE(len >>> 0, 6);
  }
  wire.write(text, head, 'utf8');
  return { wire, payload: wire.subarray(head) };
}

/** One event's frames, made on first need and shared by every client that gets it. */
export interface EventFrames {
  native?: WireFrame;
  crm?: WireFrame | null;
}

type RawSocket = { cork(): void; uncork(): void; write(b: Buffer): boolean };

/** ws keeps its net.Socket private; corking is an optimisation, so its absence is harmless. */
function socketOf(ws: WebSocket): RawSocket | undefined {
  const s = (ws as unknown as { _socket?: { cork?: unknown; uncork?: unknown; write?: unknown } })._socket;
  return s && typeof s.cork === 'function' && typeof s.uncork === 'function' && typeof s.write === 'function' ? (s as RawSocket) : undefined;
}

/**
 * The socket to write ready-made frames to, when that is safe: the connection is open and ws's sender
 * is idle (state 0: nothing queued behind a Blob read or a compression, which we never use), so a
 * frame written here lands after everything ws.send wrote before it and before anything after.
 * Otherwise undefined, and frames go through ws.send (same bytes, framed per client).
 */
function rawSocketOf(ws: WebSocket): RawSocket | undefined {
  if (ws.readyState !== 1) return undefined;
  const sender = (ws as unknown as { _sender?: { _state?: unknown } })._sender;
  return sender?._state === 0 ? socketOf(ws) : undefined;
}

/** The frame of `e` under a name set (null: the CRM set has no name for its type), memoised in `frames`. */
export function eventFrame(e: OutboxEvent, names: NameSet, calls: CallFactsCache, frames: EventFrames): WireFrame | null {
  if (names === 'crm') {
    if (frames.crm === undefined) {
      const text = crmEventFrame(e, calls);
      frames.crm = text === undefined ? null : textFrame(text);
    }
    return frames.crm;
  }
  return (frames.native ??= textFrame(nativeEventFrame(e.sequence, e.body)));
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
  /** Called once the stream has welcomed it (frames it sent before then are handled after). */
  onAdmit: () => void = () => {};

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
    const frame = eventFrame(e, this.names, calls, frames);
    return frame === null ? true : this.sendFrames([frame]);
  }

  /**
   * Shows the client a page of the live tail, already selected and framed for its view (see
   * {@link viewKey}): `wire` is the page's matching frames back to back, shared by every client with
   * the same view, written in one call. The cursor moves to the page's last sequence whether or not
   * anything matched. False once the client has been cut off.
   */
  deliver(page: { wire: Buffer; frames: readonly WireFrame[] }, lastSequence: number): boolean {
    if (this.closed) return false;
    this.cursor = lastSequence;
    if (page.frames.length === 0) return true;
    const raw = rawSocketOf(this.socket);
    if (!raw) return this.sendFrames(page.frames);
    if (!this.roomFor()) return false;
    raw.write(page.wire);
    return true;
  }

  /**
   * What decides which events this client gets and how they are framed: clients with the same key
   * get byte-identical pages, so a page is selected and framed once per distinct key, not per client.
   */
  viewKey(): string {
    if (!this.subscribed) return '';
    return `${this.names}|${this.principal.allTenants ? '*' : this.principal.tenantId}|${this.filter.join(',')}`;
  }

  /** Whether the client gets `e` at all (subscribed, its tenant, its filter). */
  wants(e: OutboxEvent): boolean {
    return this.subscribed && this.visible(e) && filterMatches(this.filter, e.type);
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
    if (!this.roomFor()) return false;
    this.socket.send(frame);
    return true;
  }

  /** Event frames, in order; the whole batch under one check of the bound (like a corked page). */
  private sendFrames(frames: readonly WireFrame[]): boolean {
    if (!this.roomFor()) return false;
    const raw = rawSocketOf(this.socket);
    for (const f of frames) {
      if (raw) raw.write(f.wire);
      else this.socket.send(f.payload, { binary: false });
    }
    return true;
  }

  private roomFor(): boolean {
    const buffered = this.socket.bufferedAmount;
    if (buffered > this.maxBuffered) this.maxBuffered = buffered;
    if ((this.backlogAtCork ?? buffered) > this.limits.maxBufferedBytes) {
      this.limits.onSlow(this);
      return false;
    }
    return true;
  }

  /** The filter a subscribe without `events` gets: everything, or the CRM alias set. */
  static defaultFilter(names: NameSet): readonly string[] {
    return names === 'crm' ? Object.keys(CRM_ALIASES) : ['*'];
  }
}
