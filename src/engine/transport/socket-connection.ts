/**
 * One tcp or tls connection: frames its byte stream (stream-framer.ts), answers RFC 5626 §4.4.1
 * keepalive pings, and enforces the idle and partial-message timeouts that keep slow or silent peers
 * (RFC 4475 §3.1.2.3 "clerr", slowloris) from holding sockets forever.
 */
import type { Socket } from 'node:net';
import type { TimerHandle } from '../../shared/clock.js';
import type { HostPort } from '../message/types.js';
import { normalizeAddress } from './address.js';
import { IdleTimer } from './idle-timer.js';
import type { StreamConnection, StreamProtocol } from './connection-table.js';
import type { EndpointContext } from './endpoint.js';
import { StreamFramer } from './stream-framer.js';
import type { Flow } from './types.js';

const PONG = Buffer.from('\r\n');
/** How long a graceful close may take before the socket is destroyed. */
const CLOSE_GRACE_MS = 2000;
/**
 * Unsent bytes a peer may leave queued before we give up on it: a peer that stops reading would
 * otherwise make us buffer every message sent to it without bound.
 */
export const MAX_WRITE_BACKLOG_BYTES = 1024 * 1024;

/** A framed tcp/tls connection registered in the connection table (RFC 3261 §18.3). */
export class SocketConnection implements StreamConnection {
  readonly flow: Flow;
  private readonly framer: StreamFramer;
  private readonly idle: IdleTimer;
  private partialTimer: TimerHandle | undefined;
  private closeTimer: TimerHandle | undefined;
  private closed = false;

  constructor(
    private readonly ctx: EndpointContext,
    private readonly socket: Socket,
    readonly id: string,
    readonly protocol: StreamProtocol,
    local: HostPort,
    readonly inbound: boolean,
  ) {
    this.flow = {
      protocol,
      local,
      remote: { address: normalizeAddress(socket.remoteAddress ?? ''), port: socket.remotePort ?? 0 },
      connectionId: id,
    };
    this.framer = new StreamFramer(ctx.limits);
    // SIP messages are whole units written at once; Nagle only adds latency to them.
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => ctx.log.debug?.({ connectionId: id, err }, 'connection error'));
    socket.on('close', () => this.onClose());
    this.idle = new IdleTimer(ctx.clock, ctx.limits.idleTimeoutMs, () => {
      ctx.log.debug?.({ connectionId: id, remote: this.flow.remote }, 'idle timeout, closing');
      this.destroy();
    });
  }

  write(data: Buffer): Promise<void> {
    if (this.closed || !this.socket.writable) {
      return Promise.reject(new Error(`connection ${this.id} is closed`));
    }
    if (this.socket.writableLength > MAX_WRITE_BACKLOG_BYTES) {
      this.ctx.log.warn({ connectionId: this.id, queued: this.socket.writableLength }, 'peer not reading, closing');
      this.destroy();
      return Promise.reject(new Error(`connection ${this.id} closed: peer not reading`));
    }
    // Our own traffic counts too: a peer answering slowly (a ringing INVITE) is not idle.
    this.idle.touch();
    return new Promise((resolve, reject) => {
      this.socket.write(data, (err) => (err ? reject(err) : resolve()));
    });
  }

  close(): void {
    if (this.closed || this.closeTimer) return;
    this.socket.end();
    this.closeTimer = this.ctx.clock.setTimeout(() => this.destroy(), CLOSE_GRACE_MS);
  }

  destroy(): void {
    this.socket.destroy();
    // 'close' follows asynchronously; forget the connection now so nothing more is sent on it.
    this.onClose();
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    this.idle.touch();
    let completed = false;
    for (const ev of this.framer.push(chunk)) {
      if (ev.type === 'message') {
        completed = true;
        this.ctx.sink.message({ data: ev.data, flow: this.flow });
      } else if (ev.type === 'ping') {
        this.socket.write(PONG);
      } else {
        this.ctx.sink.framingError({ flow: this.flow, error: ev.error, data: ev.data });
        // Further bytes are discarded by the failed framer; the socket keeps flowing so the peer's
        // FIN is seen and the close completes promptly. Closing on the next macrotask lets the
        // engine's handler (sync or on a microtask) write its 400/513 first.
        setImmediate(() => this.close());
        return;
      }
      if (this.closed) return;
    }
    this.armPartial(completed);
  }

  /** Start the slowloris clock at the first byte of a message, not at every byte. */
  private armPartial(restart: boolean): void {
    if (!this.framer.hasPartial) {
      this.ctx.clock.clearTimeout(this.partialTimer);
      this.partialTimer = undefined;
      return;
    }
    if (this.partialTimer && !restart) return;
    this.ctx.clock.clearTimeout(this.partialTimer);
    this.partialTimer = this.ctx.clock.setTimeout(() => {
      this.ctx.log.warn({ connectionId: this.id, remote: this.flow.remote }, 'partial message timeout, closing');
      this.destroy();
    }, this.ctx.limits.partialMessageTimeoutMs);
  }

  private onClose(): void {
    if (this.closed) return;
    this.closed = true;
    this.idle.stop();
    this.ctx.clock.clearTimeout(this.partialTimer);
    this.ctx.clock.clearTimeout(this.closeTimer);
    if (this.ctx.table.delete(this.id)) this.ctx.sink.connectionClosed(this.id);
  }
}
