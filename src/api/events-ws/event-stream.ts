import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { Logger } from '../../obs/logger.js';
import { findCallNumbers, findOutboxEvent, latestOutboxSequence, listOutboxEventsAfter, type CallNumbers, type Db, type OutboxEvent } from '../../store/index.js';
import { CallFactsCache } from './crm-aliases.js';
import type { StreamPrincipal } from './stream-auth.js';
import { CLOSE_GOING_AWAY, CLOSE_POLICY, eventFrame, StreamClient, type EventFrames, type WireFrame } from './stream-client.js';
import { errorFrame, isProtocolError, parseClientMessage, type ClientMessage, type Cursor, type NameSet } from './stream-messages.js';

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
  /** Wake-ups within this many ms share one read of the tail (5 ms). */
  coalesceMs?: number;
}

/** What the connect URL asks for (`?events=call.*,voicemail.*&since=…&names=crm`), applied as a first subscribe. */
export type ConnectRequest = Extract<ClientMessage, { type: 'subscribe' }>;

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
 * clients are connected, wake-ups within {@link EventStreamOptions.coalesceMs} share one read.
 */
export class EventStream {
  readonly wss: WebSocketServer;
  private readonly clients = new Set<StreamClient>();
  private readonly calls = new CallFactsCache();
  private readonly maxBufferedBytes: number;
  private readonly pageSize: number;
  private head = 0;
  /** Rows may have been committed past `head` while nobody listened (and were not read). */
  private stale = false;
  /** Clients waiting for the head refresh before they are welcomed (only while stale). */
  private joining: { client: StreamClient; connect: ConnectRequest }[] = [];
  private reading = false;
  private again = false;
  private wakeTimer: NodeJS.Timeout | undefined;
  private started = false;
  private heartbeat: NodeJS.Timeout | undefined;
  private poll: NodeJS.Timeout | undefined;
  /** Slow consumers cut off so far, and the largest buffer any had: for tests and the bench. */
  readonly stats = { slowCutoffs: 0, maxBufferedAtCutoff: 0, heartbeatTerminations: 0, tailReads: 0, headRefreshes: 0 };

  constructor(private readonly opts: EventStreamOptions) {
    this.maxBufferedBytes = opts.maxBufferedBytes ?? 1024 * 1024;
    this.pageSize = opts.pageSize ?? 500;
    this.wss = new WebSocketServer({ noServer: true, maxPayload: opts.maxPayload ?? 16 * 1024, perMessageDeflate: false });
  }

  async start(): Promise<void> {
    this.head = await latestOutboxSequence(this.opts.db);
    this.started = true;
    this.heartbeat = setInterval(() => this.beat(), this.opts.heartbeatMs ?? 30_000);
    this.poll = setInterval(() => this.wake(), this.opts.pollMs ?? 1000);
    this.heartbeat.unref();
    this.poll.unref();
  }

  get clientCount(): number {
    return this.clients.size;
  }

  /**
   * Something committed to the outbox: read the new rows soon rather than at the next poll. Wake-ups
   * within `coalesceMs` share one read (a call commits several events in a few ms); with no client
   * connected nothing is read — the head is refreshed when one connects.
   */
  wake(): void {
    if (!this.started) return;
    if (this.clients.size === 0) {
      this.stale = true;
      return;
    }
    if (this.wakeTimer) return;
    this.wakeTimer = setTimeout(() => {
      this.wakeTimer = undefined;
      this.read();
    }, this.opts.coalesceMs ?? 5);
  }

  /** Reads the tail now; a wake-up during a read starts another read as soon as this one ends. */
  private read(): void {
    if (!this.started) return;
    if (this.reading) {
      this.again = true;
      return;
    }
    this.reading = true;
    void this.readTail()
      .catch((err: unknown) => this.opts.log.warn({ err }, 'could not read the outbox for the event stream'))
      .finally(() => {
        this.reading = false;
        if (this.again) {
          this.again = false;
          this.read();
        }
      });
  }

  private async readTail(): Promise<void> {
    for (;;) {
      if (this.clients.size === 0) {
        this.stale = true;
        return;
      }
      this.stats.tailReads++;
      const page = await listOutboxEventsAfter(this.opts.db, this.head, { limit: this.pageSize });
      if ([...this.clients].some((c) => c.names === 'crm' && !c.catchingUp)) await this.calls.fill(page, this.lookupCalls);
      // A head refresh (idle -> live) may have moved the head past rows this read fetched.
      const head = this.head;
      this.fanOut(page.at(-1) !== undefined && page[0]!.sequence <= head ? page.filter((e) => e.sequence > head) : page);
      if (page.length < this.pageSize) return;
    }
  }

  /**
   * Offers a page of the tail to every live client. Clients are grouped by view (name set, tenant,
   * filter): each group's page is selected and framed once — one Buffer of frames written to each of
   * its clients in one call — so the per-client cost is a buffer check and a write, whatever the page
   * holds. A client whose cursor is not at the head (none, today) takes the event-by-event path.
   */
  private fanOut(rows: readonly OutboxEvent[]): void {
    const last = rows.at(-1);
    if (!last) return;
    const from = this.head;
    const groups = new Map<string, { sample: StreamClient; members: StreamClient[]; frames: WireFrame[] }>();
    const odd: StreamClient[] = [];
    for (const c of this.clients) {
      if (c.catchingUp) continue;
      if (c.cursor !== from) {
        odd.push(c);
        continue;
      }
      const key = c.viewKey();
      const g = groups.get(key);
      if (g) g.members.push(c);
      else groups.set(key, { sample: c, members: [c], frames: [] });
    }
    for (const c of odd) c.cork();
    for (const e of rows) {
      this.calls.learn(e);
      const frames: EventFrames = {};
      for (const g of groups.values()) {
        if (!g.sample.wants(e)) continue;
        const frame = eventFrame(e, g.sample.names, this.calls, frames);
        if (frame) g.frames.push(frame);
      }
      for (const c of odd) c.offer(e, this.calls, frames);
    }
    for (const c of odd) c.uncork();
    for (const g of groups.values()) {
      const page = { wire: g.frames.length === 1 ? g.frames[0]!.wire : Buffer.concat(g.frames.map((f) => f.wire)), frames: g.frames };
      for (const c of g.members) c.deliver(page, last.sequence);
    }
    this.head = last.sequence;
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
    if (!this.stale) return this.admit(client, connect);
    this.joining.push({ client, connect });
    if (this.joining.length === 1) void this.refreshHead();
  }

  private readonly lookupCalls = (ids: string[]): Promise<CallNumbers[]> => findCallNumbers(this.opts.db, ids);

  private readonly failed = (err: unknown): void => this.opts.log.warn({ err }, 'event stream message failed');

  /**
   * The head after a time with no client: the outbox's newest sequence. Only moved while still nobody
   * is live (a live client's cursor follows the tail reader, which must not skip rows under it); the
   * waiting clients are then admitted at once, in the same turn, and a read picks up anything that
   * committed after the query. Nothing older than the refreshed head is ever sent to them live (the
   * tail reader drops such rows), and nothing newer is missed (they are after the head in the outbox).
   */
  private async refreshHead(): Promise<void> {
    let latest: number | undefined;
    try {
      this.stats.headRefreshes++;
      latest = await latestOutboxSequence(this.opts.db);
    } catch (err) {
      this.opts.log.warn({ err }, 'could not read the outbox head for the event stream');
    }
    const joining = this.joining;
    this.joining = [];
    if (latest === undefined) {
      for (const { client } of joining) client.socket.close(1011, 'could not read the event stream head; reconnect');
      return;
    }
    if (this.clients.size === 0) {
      this.head = Math.max(this.head, latest);
      this.stale = false;
    }
    for (const { client, connect } of joining) this.admit(client, connect);
    this.wake();
  }

  /** The client joins the live tail at the head: welcome, then its first subscribe. */
  private admit(client: StreamClient, connect: ConnectRequest): void {
    if (client.closed || !this.started) {
      client.socket.terminate();
      return;
    }
    client.cursor = this.head;
    this.clients.add(client);
    client.socket.send(JSON.stringify({ type: 'welcome', sequence: this.head, tenant_id: client.principal.allTenants ? null : client.principal.tenantId }));
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
      while (!client.closed && client.cursor < this.head) {
        const head = this.head;
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
    this.started = false;
    clearInterval(this.heartbeat);
    clearInterval(this.poll);
    clearTimeout(this.wakeTimer);
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
