/**
 * One admin-protocol connection with a drachtio-srf app, inbound (srf.connect) or outbound
 * (srf.listen): the socket, its frame decoder, and the per-connection state the routing rules
 * need (docs/drachtio-protocol.md §2, §4.1).
 */
import type { Socket } from 'node:net';
import { FrameDecoder, FrameError, encodeFrame } from './framing.js';
import type { WireLogger } from './logger.js';

/** How the connection came about. */
export type ConnectionMode = 'inbound' | 'outbound';

/** What a connection reports to the server that owns it. */
export interface ConnectionOwner {
  /** One decoded payload, in arrival order. Must not throw (the connection guards it anyway). */
  onFrame(conn: ClientConnection, payload: string): void;
  /** Called exactly once, at the moment the connection starts closing for any reason. */
  onClosed(conn: ClientConnection): void;
}

/** Settings for a connection, fixed by the server. */
export interface ConnectionSettings {
  id: string;
  mode: ConnectionMode;
  secure: boolean;
  maxFrameBytes: number;
  /** Unsent bytes allowed to pile up for a client that does not read before it is dropped. */
  maxQueuedBytes: number;
  /** How long a closing socket may take to flush and close before it is destroyed. */
  lingerMs: number;
  log: WireLogger;
}

/**
 * A connected app. The dialog core keeps references to these to route traffic to the connection
 * that owns a dialog or transaction, and writes to it with {@link ClientConnection.send}.
 */
export class ClientConnection {
  /** Unique within the process, for logs and maps. */
  readonly id: string;
  readonly mode: ConnectionMode;
  /** True when the admin connection runs over TLS. */
  readonly secure: boolean;
  readonly remoteAddress: string;
  readonly remotePort: number;

  private readonly socket: Socket;
  private readonly decoder: FrameDecoder;
  private readonly owner: ConnectionOwner;
  private readonly settings: ConnectionSettings;
  private readonly verbSet = new Set<string>();
  private tagList: readonly string[] = [];
  private isAuthenticated = false;
  private isClosed = false;

  constructor(socket: Socket, owner: ConnectionOwner, settings: ConnectionSettings) {
    this.socket = socket;
    this.owner = owner;
    this.settings = settings;
    this.id = settings.id;
    this.mode = settings.mode;
    this.secure = settings.secure;
    this.remoteAddress = socket.remoteAddress ?? '';
    this.remotePort = socket.remotePort ?? 0;
    this.decoder = new FrameDecoder({ maxFrameBytes: settings.maxFrameBytes });
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => settings.log.debug({ conn: this.id, err: err.message }, 'admin socket error'));
    socket.on('close', () => this.markClosed());
  }

  /** Tags from the app's `authenticate` (for tag routing); empty until authenticated. */
  get tags(): readonly string[] {
    return this.tagList;
  }

  get authenticated(): boolean {
    return this.isAuthenticated;
  }

  /** Verbs (lowercase methods and `cdr:*`) this connection routed, each once. */
  get verbs(): ReadonlySet<string> {
    return this.verbSet;
  }

  /** True once the connection started closing; nothing more is sent or handled. */
  get closed(): boolean {
    return this.isClosed;
  }

  /**
   * Writes one payload as a frame, synchronously and in call order: the dialog core relies on
   * this to put the "Msg sent" echo ahead of any response to the same request (§3.3). Returns
   * false (and drops the payload) when the connection is closed.
   */
  send(payload: string): boolean {
    if (this.isClosed || this.socket.destroyed || !this.socket.writable) return false;
    // Frames written in the same turn of the event loop go out in one write (corked until the
    // next check phase): under load one syscall per frame was the engine's biggest single cost.
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      setImmediate(this.uncork);
    }
    this.socket.write(encodeFrame(payload));
    if (this.socket.writableLength > this.settings.maxQueuedBytes) {
      // An app that stops reading would otherwise make us buffer without limit.
      this.settings.log.warn({ conn: this.id, queued: this.socket.writableLength }, 'admin client not reading; dropping it');
      this.destroy();
    }
    return true;
  }

  private corked = false;
  private readonly uncork = (): void => {
    this.corked = false;
    if (!this.socket.destroyed) this.socket.uncork();
  };

  /** True when the app listed `tag` in its authenticate command. */
  hasTag(tag: string): boolean {
    return this.tagList.includes(tag);
  }

  /**
   * Closes gracefully: what was already sent is flushed, then the socket ends. Routes are dropped
   * at once (the owner is told synchronously). This is also how the server ends an outbound
   * session (srf's `endSession`).
   */
  close(): void {
    if (this.isClosed) return;
    this.markClosed();
    this.socket.end();
    // A peer that never closes its side must not keep the socket alive for ever.
    setTimeout(() => this.socket.destroy(), this.settings.lingerMs).unref();
  }

  /** Closes at once, discarding anything unsent. */
  destroy(): void {
    this.markClosed();
    this.socket.destroy();
  }

  /** @internal Used by the server when `authenticate` succeeds. */
  markAuthenticated(tags: readonly string[]): void {
    this.isAuthenticated = true;
    this.tagList = Object.freeze([...tags]);
  }

  /** @internal Records a routed verb; false when it was already routed (srf re-sends routes). */
  addVerb(verb: string): boolean {
    if (this.verbSet.has(verb)) return false;
    this.verbSet.add(verb);
    return true;
  }

  /** @internal Forgets one routed verb; false when it was not routed. */
  removeVerb(verb: string): boolean {
    return this.verbSet.delete(verb);
  }

  private markClosed(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    try {
      this.owner.onClosed(this);
    } catch (err) {
      this.settings.log.error({ conn: this.id, err }, 'error while cleaning up a closed admin connection');
    }
  }

  private onData(chunk: Buffer): void {
    if (this.isClosed) return;
    let frames: string[];
    let fault: FrameError | undefined;
    try {
      frames = this.decoder.push(chunk);
    } catch (err) {
      fault = err instanceof FrameError ? err : new FrameError('wire-bad-length', String(err), []);
      frames = fault.frames;
    }
    for (const frame of frames) {
      if (this.isClosed) return;
      try {
        this.owner.onFrame(this, frame);
      } catch (err) {
        this.settings.log.error({ conn: this.id, err }, 'error handling an admin command');
      }
    }
    if (fault && !this.isClosed) {
      this.settings.log.warn({ conn: this.id, code: fault.code, reason: fault.message }, 'bad framing from admin client; closing');
      this.close();
    }
  }
}
