import type { Logger } from '../../obs/logger.js';
import { latestOutboxSequence, listOutboxEventsAfter, type CallNumbers, type Db } from '../../store/index.js';
import type { CallFactsCache } from './crm-aliases.js';
import { fanOut } from './fan-out.js';
import type { StreamClient } from './stream-client.js';
import type { ConnectRequest } from './stream-messages.js';

export interface OutboxTailOptions {
  db: Db;
  log: Logger;
  /** The stream's live clients (the stream adds and drops them; the tail only reads the set). */
  clients: ReadonlySet<StreamClient>;
  calls: CallFactsCache;
  lookupCalls: (ids: string[]) => Promise<CallNumbers[]>;
  /** The stream's counters this reader keeps. */
  stats: { tailReads: number; headRefreshes: number };
  pageSize: number;
  /** The least time between two reads of the tail (ms); undefined: {@link fanOutWindowMs} of the live clients. */
  coalesceMs: number | undefined;
  /** Welcomes a client that waited for the head refresh (see {@link OutboxTail.join}). */
  admit: (client: StreamClient, connect: ConnectRequest) => void;
}

/** The fan-out window's bounds (ms) and its share per live client (see {@link fanOutWindowMs}). */
const MIN_WINDOW_MS = 5;
const MAX_WINDOW_MS = 25;
const WINDOW_MS_PER_CLIENT = 0.2;

/**
 * The least time between two reads of the tail while commits keep coming, for `clients` live
 * clients: 0.2 ms each, from 5 ms (up to 25 clients) to 25 ms (125 and more). Each read costs one
 * socket write to every live client (and a read on its side), so a window that grows with them
 * keeps the fan-out near 5,000 writes a second instead of growing with every client that connects;
 * a commit after a quiet spell is still read at once, whatever the window.
 *
 * Measured with bench:events (100 clients, 10 webhook endpoints, on a 2-core VM where every
 * syscall is dear): at 1,000 events/s, three interleaved pairs, 20 ms against a fixed 5 ms cut the
 * receivers' CPU from 67–69 % to 62 % of a core and this thread's busy time from 74–81 % to 68–71 %,
 * and the webhooks, sharing the machine, went from p99 259–495 ms to 76–198 ms; the clients' p50
 * went from 6 to 14–17 ms.
 */
export function fanOutWindowMs(clients: number): number {
  return Math.min(MAX_WINDOW_MS, Math.max(MIN_WINDOW_MS, clients * WINDOW_MS_PER_CLIENT));
}

/**
 * The one reader of the outbox tail for the `/ws` stream: it owns the head (the last sequence
 * offered to the live clients), reads from there when woken (wake-ups coalesced, one read at a
 * time) and fans each page out to the live clients. With no client connected it reads nothing and
 * only marks the head stale; the next client to connect waits for one refresh of it.
 */
export class OutboxTail {
  /** The last outbox sequence offered to the live clients. */
  head = 0;
  /** Rows may have been committed past `head` while nobody listened (and were not read). */
  stale = false;
  /** Clients waiting for the head refresh before they are welcomed (only while stale). */
  private joining: { client: StreamClient; connect: ConnectRequest }[] = [];
  private reading = false;
  private again = false;
  /** Cancels the scheduled read (a timer or an immediate); undefined when none is scheduled. */
  private wakeCancel: (() => void) | undefined;
  /** When the last read of the tail started (performance.now() ms). */
  private lastReadAt = -Infinity;
  private running = false;
  private readonly clients: ReadonlySet<StreamClient>;
  private readonly calls: CallFactsCache;
  private readonly stats: { tailReads: number; headRefreshes: number };
  private readonly pageSize: number;

  constructor(private readonly opts: OutboxTailOptions) {
    this.clients = opts.clients;
    this.calls = opts.calls;
    this.stats = opts.stats;
    this.pageSize = opts.pageSize;
  }

  /** Between {@link start} and {@link stop}: wake-ups read, clients are admitted. */
  get started(): boolean {
    return this.running;
  }

  /** Follows the outbox from `head` (its newest sequence at start). */
  start(head: number): void {
    this.head = head;
    this.running = true;
  }

  stop(): void {
    this.running = false;
    this.clearWake();
  }

  /**
   * Something committed to the outbox: read the new rows soon rather than at the next poll. The
   * tail is read at most once per window (`coalesceMs`, or {@link fanOutWindowMs}: a call commits
   * several events in a few ms, and each read is a write to every client): the first commit after
   * a quiet spell is read on the next event-loop turn, later ones wait out the rest of the window
   * together (at 1 event/s the clients' p50 was 8 ms with every read waiting out the full 5 ms).
   * With no client connected nothing is read — the head is refreshed when one connects.
   */
  wake(): void {
    if (!this.running) return;
    if (this.clients.size === 0) {
      this.stale = true;
      return;
    }
    if (this.wakeCancel) return;
    const fire = () => {
      this.wakeCancel = undefined;
      this.read();
    };
    const wait = this.lastReadAt + (this.opts.coalesceMs ?? fanOutWindowMs(this.clients.size)) - performance.now();
    if (wait <= 0) {
      const immediate = setImmediate(fire);
      this.wakeCancel = () => clearImmediate(immediate);
    } else {
      const timer = setTimeout(fire, wait);
      this.wakeCancel = () => clearTimeout(timer);
    }
  }

  private clearWake(): void {
    this.wakeCancel?.();
    this.wakeCancel = undefined;
  }

  /** Reads the tail now; a wake-up during a read starts another read as soon as this one ends. */
  private read(): void {
    if (!this.running) return;
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
      this.lastReadAt = performance.now();
      const page = await listOutboxEventsAfter(this.opts.db, this.head, { limit: this.pageSize });
      if ([...this.clients].some((c) => c.names === 'crm' && !c.catchingUp)) await this.calls.fill(page, this.opts.lookupCalls);
      // A head refresh (idle -> live) may have moved the head past rows this read fetched.
      const head = this.head;
      const rows = page.at(-1) !== undefined && page[0]!.sequence <= head ? page.filter((e) => e.sequence > head) : page;
      this.head = fanOut(this.clients, rows, head, this.calls);
      if (page.length < this.pageSize) return;
    }
  }

  /** A client connecting while the head is stale waits here for one refresh of it, then is admitted. */
  join(client: StreamClient, connect: ConnectRequest): void {
    this.joining.push({ client, connect });
    if (this.joining.length === 1) void this.refreshHead();
  }

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
    for (const { client, connect } of joining) this.opts.admit(client, connect);
    this.wake();
  }
}
