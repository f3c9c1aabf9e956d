import type { Db } from '../database.js';
import { insertRequestLog, pruneRequestLog, type RequestLogEvents, type RequestLogRecord } from './request-log.repository.js';

/** Tuning of {@link RequestLogWriter}; the defaults suit a PBX's API traffic. */
export interface RequestLogWriterOptions {
  /** Longest an entry waits in memory before its batch is written (ms); default 250. */
  flushIntervalMs?: number;
  /** A batch this large is written at once, without waiting for the timer; default 200. */
  batchSize?: number;
  /** Entries held while the database is slow; beyond this new ones are dropped (and counted). Default 10,000. */
  maxBuffered?: number;
  /** Rows older than this are deleted; default 7 days. */
  retentionDays?: number;
  /** At most this many rows are kept; default 1,000,000. */
  maxRows?: number;
  /** How often retention runs, piggybacking on a flush (ms); default 10 minutes. */
  pruneEveryMs?: number;
  /** Wall clock in ms since the epoch (tests move it). */
  now?: () => number;
  /** Called with write failures; the request path never sees them. */
  onError?: (err: unknown) => void;
  /** Outbox events of each batch (api.error), committed in the batch's transaction. */
  events?: RequestLogEvents;
  /** A batch that carried events committed: wake whoever reads the outbox. */
  onEventsCommitted?: () => void;
}

/**
 * The API request log's SQLite sink (it matches the API's `RequestLogSink` port). `record` only
 * appends to an in-memory buffer, so a request never waits for the database; the buffer is written
 * in one transaction every `flushIntervalMs` or as soon as `batchSize` entries wait, and retention
 * runs now and then on the same path. `close()` writes what is left (call it before closing the
 * store). Flushes are serialised, so batches land in order and never overlap.
 */
export class RequestLogWriter {
  private buffer: RequestLogRecord[] = [];
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<void> = Promise.resolve();
  private lastPrune = Number.NEGATIVE_INFINITY;
  private closed = false;
  /** Entries lost because the buffer was full or the writer closed (a metric for operators). */
  dropped = 0;
  private readonly o: Required<Omit<RequestLogWriterOptions, 'onError' | 'events' | 'onEventsCommitted'>> & Pick<RequestLogWriterOptions, 'onError' | 'events' | 'onEventsCommitted'>;

  constructor(
    private readonly db: Db,
    options: RequestLogWriterOptions = {},
  ) {
    this.o = {
      flushIntervalMs: 250,
      batchSize: 200,
      maxBuffered: 10_000,
      retentionDays: 7,
      maxRows: 1_000_000,
      pruneEveryMs: 10 * 60_000,
      now: Date.now,
      ...options,
    };
  }

  record(entry: RequestLogRecord): void {
    if (this.closed || this.buffer.length >= this.o.maxBuffered) {
      this.dropped++;
      return;
    }
    this.buffer.push(entry);
    if (this.buffer.length >= this.o.batchSize) void this.flush();
    else if (!this.timer) {
      this.timer = setTimeout(() => void this.flush(), this.o.flushIntervalMs);
      this.timer.unref();
    }
  }

  /** Writes everything buffered so far; resolves when it is in the database (or failed). */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.chain = this.chain.then(() => this.writeBuffered());
    return this.chain;
  }

  /** Stops taking entries and writes the rest. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
  }

  private async writeBuffered(): Promise<void> {
    const batch = this.buffer;
    this.buffer = [];
    try {
      if ((await insertRequestLog(this.db, batch, this.o.events)) > 0) this.o.onEventsCommitted?.();
      const now = this.o.now();
      if (now - this.lastPrune >= this.o.pruneEveryMs) {
        this.lastPrune = now;
        await pruneRequestLog(this.db, { before: new Date(now - this.o.retentionDays * 86_400_000).toISOString(), maxRows: this.o.maxRows });
      }
    } catch (err) {
      this.o.onError?.(err);
    }
  }
}
