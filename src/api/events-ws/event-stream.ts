import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { Logger } from '../../obs/logger.js';
import { findCallNumbers, findOutboxEvent, latestOutboxSequence, listOutboxEventsAfter, type CallNumbers, type Db, type OutboxEvent } from '../../store/index.js';
import { CallFactsCache } from './crm-aliases.js';
import { OutboxTail } from './outbox-tail.js';
import type { StreamPrincipal } from './stream-auth.js';
import { CLOSE_GOING_AWAY, CLOSE_POLICY, StreamClient } from './stream-client.js';
import { errorFrame, isProtocolError, parseClientMessage, type ConnectRequest, type Cursor, type NameSet } from './stream-messages.js';

export interface EventStreamOptions {
  db: Db;
  log: Logger;
  /** A client whose send buffer exceeds this is cut off (1 MB). */
  maxBufferedBytes?: number;
  /** Ping every interval; a client that has not answered the previous ping is terminated (30 s). */
  heartbeatMs?: number;
  /** Safety-net poll of the outbox when no commit woke us (1 s). */
  pollMs?: number;
  /** Largest client frame accepted (16 KB); a bigger one closes the connection (1009). */
  maxPayload?: number;
  /** Outbox rows read per query, for the live tail and for each replay page. */
  pageSize?: number;
  /** The tail is read at most once per this many ms (default: 5–25 ms by the live clients, see fanOutWindowMs); see {@link EventStream}. */
  coalesceMs?: number;
}

/** Defined with the other client messages; still exported here, where callers of {@link EventStream.accept} look. */
export type { ConnectRequest };

/**
 * The `/ws` event stream (issue 5 §4). One reader follows the outbox tail (woken after each commit,
 * polling as a safety net) and offers each new row to every live client in sequence order; a client
 * that resumes from a cursor first replays the outbox from there with its own reads, then joins the
 * tail — replay and live are the same rows in the same order, so there is no gap and no duplicate.
 * Nothing is held per client beyond its socket's send buffer, which is bounded (slow consumers are
 * cut off), and a heartbeat terminates dead peers.
 *
 * With no client connected the tail is not read at all: a wake-up only marks the head stale, and the
 * next client to connect first refreshes it (one max(sequence) query) before it is welcomed. While
 * clients are connected, the tail is read at most once per window (5–25 ms, growing with the clients):
 * the first wake-up after a quiet spell at once, later ones together at the end of the window.
 */
export class EventStream {
  readonly wss: WebSocketServer;
  private readonly clients = new Set<StreamClient>();
  private readonly calls = new CallFactsCache();
  private readonly maxBufferedBytes: number;
  private readonly pageSize: number;
  /** The outbox tail reader: the head, wake-ups, the live fan-out, the head refresh after idle. */
  private readonly tail: OutboxTail;
  private heartbeat: NodeJS.Timeout | undefined;
  private poll: NodeJS.Timeout | undefined;
  /** Slow consumers cut off so far, and the largest buffer any had: for tests and the bench. */
  readonly stats = { slowCutoffs: 0, maxBufferedAtCutoff: 0, heartbeatTerminations: 0, tailReads: 0, headRefreshes: 0 };

  constructor(private readonly opts: EventStreamOptions) {
    this.maxBufferedBytes = opts.maxBufferedBytes ?? 1024 * 1024;
    this.pageSize = opts.pageSize ?? 500;
    this.wss = new WebSocketServer({ noServer: true, maxPayload: opts.maxPayload ?? 16 * 1024, perMessageDeflate: false });
    this.tail = new OutboxTail({
      db: opts.db,
      log: opts.log,
      clients: this.clients,
      calls: this.calls,
      lookupCalls: this.lookupCalls,
      stats: this.stats,
      pageSize: this.pageSize,
      coalesceMs: opts.coalesceMs,
      admit: (client, connect) => this.admit(client, connect),
    });
  }

  async start(): Promise<void> {
    this.tail.start(await latestOutboxSequence(this.opts.db));
    this.heartbeat = setInterval(() => this.beat(), this.opts.heartbeatMs ?? 30_000);
    this.poll = setInterval(() => this.wake(), this.opts.pollMs ?? 1000);
    this.heartbeat.unref();
    this.poll.unref();
  }

  get clientCount(): number {
    return this.clients.size;
  }

  /**
   * Something committed to the outbox: read the new rows soon rather than at the next poll (wake-ups
   * within `coalesceMs` share one read; with no client connected nothing is read).
   */
  wake(): void {
    this.tail.wake();
  }

  /**
   * Takes over an authenticated, upgraded socket. While the head is stale (nobody listened since
   * the last commits) the client waits for one refresh of it first, so its welcome sequence is the
   * outbox's newest and it is sent nothing from before it; frames it sends meanwhile wait too.
   */
  accept(socket: WebSocket, principal: StreamPrincipal, connect: ConnectRequest): void {
    const client = new StreamClient(socket, principal, { maxBufferedBytes: this.maxBufferedBytes, onSlow: (c) => this.cutOff(c) });
    socket.on('pong', () => (client.alive = true));
    let admitted: () => void = () => {};
    const ready = new Promise<void>((r) => (admitted = r));
    client.onAdmit = admitted;
    // A client's frame must never take the process down: whatever fails is logged, not thrown.
    socket.on('message', (data: RawData, isBinary: boolean) => {
      const text = isBinary ? '' : rawText(data);
      void ready.then(() => this.onMessage(client, text)).catch(this.failed);
    });
    socket.on('close', () => this.drop(client));
    socket.on('error', (err) => this.opts.log.debug({ err }, 'event stream socket error'));
    if (!this.tail.stale) return this.admit(client, connect);
    this.tail.join(client, connect);
  }

  private readonly lookupCalls = (ids: string[]): Promise<CallNumbers[]> => findCallNumbers(this.opts.db, ids);

  private readonly failed = (err: unknown): void => this.opts.log.warn({ err }, 'event stream message failed');

  /** The client joins the live tail at the head: welcome, then its first subscribe. */
  private admit(client: StreamClient, connect: ConnectRequest): void {
    if (client.closed || !this.tail.started) {
      client.socket.terminate();
      return;
    }
    client.cursor = this.tail.head;
    this.clients.add(client);
    client.socket.send(JSON.stringify({ type: 'welcome', sequence: this.tail.head, tenant_id: client.principal.allTenants ? null : client.principal.tenantId }));
    void this.subscribe(client, connect).catch(this.failed);
    client.onAdmit();
  }

  private async onMessage(client: StreamClient, text: string): Promise<void> {
    const m = parseClientMessage(text);
    if (isProtocolError(m)) return void client.send(errorFrame(m));
    if (m.type === 'unsubscribe') {
      client.subscribed = false;
      return void client.send(JSON.stringify({ type: 'unsubscribed', sequence: client.cursor }));
    }
    await this.subscribe(client, m);
  }

  /**
   * Sets the filter; with `since`, moves the cursor back and replays from the outbox before rejoining
   * the tail. The client leaves the tail before the first await, so no live event can slip in ahead
   * of the replay (which would then send it twice).
   */
  private async subscribe(client: StreamClient, m: ConnectRequest): Promise<void> {
    if (m.since !== undefined && client.catchingUp) {
      return void client.send(errorFrame({ code: 'BAD_MESSAGE', message: 'a replay is still running; wait for it before another subscribe with since' }));
    }
    const names: NameSet = m.names ?? client.names;
    client.names = names;
    client.filter = m.events ?? StreamClient.defaultFilter(names);
    client.subscribed = true;
    if (m.since === undefined) return void client.send(JSON.stringify({ type: 'subscribed', events: client.filter, names, since: client.cursor }));
    client.catchingUp = true;
    let from = client.cursor;
    try {
      const at = await this.resolve(m.since);
      if (at === undefined) client.send(errorFrame({ code: 'CURSOR_NOT_FOUND', message: 'that event is no longer in the outbox (retention) or never was; subscribe without since, or with a sequence' }));
      // Ahead of the tail reader's head is not necessarily ahead of the outbox: rows may have
      // committed that the (coalesced) tail has not read yet. Jumping back to the head would send
      // the client events it already had; trust `since` up to the outbox's newest sequence instead.
      else from = at <= client.cursor ? at : Math.max(client.cursor, Math.min(at, await latestOutboxSequence(this.opts.db)));
    } catch (err) {
      this.opts.log.warn({ err }, 'could not resolve an event stream cursor');
    }
    client.cursor = from;
    client.send(JSON.stringify({ type: 'subscribed', events: client.filter, names, since: from }));
    await this.catchUp(client);
  }

  private async resolve(c: Cursor): Promise<number | undefined> {
    if ('sequence' in c) return c.sequence;
    return (await findOutboxEvent(this.opts.db, c.eventId))?.sequence;
  }

  /**
   * Replays from the client's cursor to the tail, a page at a time, pausing while its send buffer is
   * more than a quarter full so a large replay paces itself to the reader instead of filling memory.
   * Only rows of the client's tenant are read (one indexed query per page); the cursor then jumps to
   * the page's end. Once the cursor has reached the tail the client is live again.
   */
  private async catchUp(client: StreamClient): Promise<void> {
    client.catchingUp = true;
    try {
      const tenantId = client.principal.allTenants ? undefined : client.principal.tenantId;
      while (!client.closed && client.cursor < this.tail.head) {
        const head = this.tail.head;
        const rows = await listOutboxEventsAfter(this.opts.db, client.cursor, { limit: this.pageSize, ...(tenantId && { tenantId }) });
        if (client.names === 'crm') await this.calls.fill(rows, this.lookupCalls);
        client.cork();
        try {
          for (const e of rows) {
            if (e.sequence > head) break;
            this.calls.learn(e);
            if (!client.offer(e, this.calls)) return;
          }
        } finally {
          client.uncork();
        }
        if (rows.length < this.pageSize || (rows.at(-1)?.sequence ?? 0) >= head) client.cursor = Math.max(client.cursor, head);
        while (!client.closed && client.socket.bufferedAmount > this.maxBufferedBytes / 4) await new Promise((r) => setTimeout(r, 10));
      }
    } catch (err) {
      this.opts.log.warn({ err }, 'event stream replay failed');
      client.socket.close(1011, 'replay failed; reconnect with your last sequence');
    } finally {
      client.catchingUp = false;
    }
  }

  private cutOff(client: StreamClient): void {
    if (client.closed) return;
    this.stats.slowCutoffs++;
    this.stats.maxBufferedAtCutoff = Math.max(this.stats.maxBufferedAtCutoff, client.maxBuffered);
    this.opts.log.info({ apiKeyId: client.principal.apiKeyId, buffered: client.maxBuffered, sequence: client.cursor }, 'event stream client too slow; cut off');
    client.socket.close(CLOSE_POLICY, `slow consumer: more than ${this.maxBufferedBytes} bytes unread; reconnect with since=<last sequence>`);
    // A reader that never reads never takes the close frame either: drop the socket (and its buffer) soon.
    setTimeout(() => client.socket.terminate(), 1000).unref();
    this.drop(client);
  }

  private drop(client: StreamClient): void {
    client.closed = true;
    this.clients.delete(client);
  }

  /** RFC 6455 §5.5.2 ping; no pong since the last one means the peer is gone (a half-open TCP connection). */
  private beat(): void {
    for (const c of this.clients) {
      if (!c.alive) {
        this.stats.heartbeatTerminations++;
        c.socket.terminate();
        this.drop(c);
        continue;
      }
      c.alive = false;
      c.socket.ping();
    }
  }

  /** Closes every client (1001) and stops reading. */
  close(): void {
    this.tail.stop();
    clearInterval(this.heartbeat);
    clearInterval(this.poll);
    for (const c of this.clients) {
      c.socket.close(CLOSE_GOING_AWAY, 'server stopping');
      setTimeout(() => c.socket.terminate(), 1000).unref();
      this.drop(c);
    }
    this.wss.close();
  }
}

function rawText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data as ArrayBuffer).toString('utf8');
}

export type { OutboxEvent };
