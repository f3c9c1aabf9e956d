import type { Logger } from '../../obs/logger.js';
import {
  advanceWebhookCursors,
  inTransaction,
  insertDeliveryRuns,
  insertFirstAttempts,
  recordDeliveryOutcomes,
  setWebhookBreaker,
  type Db,
  type DeliveryOutcomeRow,
  type DeliveryRunRow,
  type FirstAttemptRow,
} from '../../store/index.js';
import type { Breaker } from './delivery-policy.js';

/** One attempt's outcome for an endpoint's delivery. */
export interface DeliveryOutcome extends DeliveryOutcomeRow {
  webhookId: string;
  /** Set for an event read past the endpoint's cursor: it has no row yet, and this outcome writes it. */
  first?: { tenantId: string; eventId: string; eventType: string; sequence: number };
}

export interface OutcomeRecorderOptions {
  db: Db;
  log: Logger;
  /**
   * How long outcomes wait for others before their commit (20 ms, real time: it only batches). It
   * delays no delivery, only its record; fewer, larger commits write each touched page once.
   */
  intervalMs?: number;
  /** Commit at once when this many wait (1000). */
  maxBatch?: number;
}

/**
 * Records delivery outcomes in batches: everything gathered over the last few milliseconds commits
 * in one transaction (multi-row UPDATE) with `process-crash` durability — one commit, and no fsync,
 * instead of an fsync per delivery, which blocked the event loop (better-sqlite3 is synchronous)
 * and capped delivery at a few hundred a second. Losing the last batch to a crash or a power cut
 * only means those deliveries are made again, with the same event id: at least once still holds.
 *
 * Until its outcome commits, a pending delivery still reads as pending in the store: {@link pendingOf}
 * lists those, and an event read past an endpoint's cursor is still past it: {@link cursorOf} says
 * how far this process got — so the dispatcher does not attempt them a second time meanwhile. The
 * rows of first attempts, the cursors' moves and (only when it changed) an endpoint's breaker commit
 * in the same transaction as the outcomes.
 */
export class OutcomeRecorder {
  private readonly intervalMs: number;
  private readonly maxBatch: number;
  private queue: DeliveryOutcome[] = [];
  /** First-attempt successes, a page's worth per run (see webhook_delivery_runs). */
  private runs: DeliveryRunRow[] = [];
  /** Deliveries queued: outcomes plus the runs' items. */
  private queued = 0;
  private breakers = new Map<string, Breaker>();
  private cursors = new Map<string, number>();
  /** Per endpoint: the furthest cursor queued or being committed. */
  private readonly cursorsAhead = new Map<string, number>();
  /** Per endpoint: deliveries whose outcome is queued or being committed. */
  private readonly uncommitted = new Map<string, Map<string, number>>();
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<void> = Promise.resolve();
  private inFlight = 0;
  private closed = false;

  constructor(private readonly opts: OutcomeRecorderOptions) {
    this.intervalMs = opts.intervalMs ?? 20;
    this.maxBatch = opts.maxBatch ?? 1000;
  }

  /**
   * Queues outcomes (in attempt order) and, when given, the endpoint's breaker after them, its
   * cursor's new place and a run of first-attempt successes (they come before `outcomes`).
   */
  add(outcomes: readonly DeliveryOutcome[], breaker?: { webhookId: string; breaker: Breaker }, cursor?: { webhookId: string; sequence: number }, run?: DeliveryRunRow): void {
    if (this.closed) return;
    if (run) {
      this.runs.push(run);
      this.queued += run.items.length;
    }
    this.queued += outcomes.length;
    for (const o of outcomes) {
      this.queue.push(o);
      // A first attempt has no row that could read as pending.
      if (o.first) continue;
      let ids = this.uncommitted.get(o.webhookId);
      if (!ids) this.uncommitted.set(o.webhookId, (ids = new Map()));
      ids.set(o.id, (ids.get(o.id) ?? 0) + 1);
    }
    if (breaker) this.breakers.set(breaker.webhookId, breaker.breaker);
    if (cursor) {
      this.cursors.set(cursor.webhookId, Math.max(cursor.sequence, this.cursors.get(cursor.webhookId) ?? 0));
      this.cursorsAhead.set(cursor.webhookId, Math.max(cursor.sequence, this.cursorsAhead.get(cursor.webhookId) ?? 0));
    }
    if (this.queued >= this.maxBatch) void this.flush();
    else if (this.timer === undefined && this.waiting) this.timer = setTimeout(() => void this.flush(), this.intervalMs);
  }

  /** Deliveries of the endpoint whose outcome has not committed yet. */
  pendingOf(webhookId: string): { has(id: string): boolean; readonly size: number } {
    return this.uncommitted.get(webhookId) ?? EMPTY;
  }

  /** How far this process read past the endpoint's stored cursor, until that commits (undefined: not past it). */
  cursorOf(webhookId: string): number | undefined {
    return this.cursorsAhead.get(webhookId);
  }

  /** True while anything waits for, or is in, a commit. */
  get busy(): boolean {
    return this.waiting || this.inFlight > 0;
  }

  private get waiting(): boolean {
    return this.queued > 0 || this.breakers.size > 0 || this.cursors.size > 0;
  }

  /** Commits everything queued so far; resolves once it is committed (or its commit failed, logged). */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.waiting) return this.chain;
    const outcomes = this.queue;
    const runs = this.runs;
    const breakers = this.breakers;
    const cursors = this.cursors;
    this.queue = [];
    this.runs = [];
    this.queued = 0;
    this.breakers = new Map();
    this.cursors = new Map();
    this.inFlight++;
    this.chain = this.chain.then(() => this.commit(outcomes, runs, breakers, cursors)).finally(() => this.inFlight--);
    return this.chain;
  }

  /** Accepts outcomes again (a dispatcher started after a stop). */
  open(): void {
    this.closed = false;
  }

  /** Commits what is queued, then accepts nothing more (the store is about to close). */
  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
  }

  private async commit(outcomes: DeliveryOutcome[], runs: DeliveryRunRow[], breakers: Map<string, Breaker>, cursors: Map<string, number>): Promise<void> {
    const firsts: FirstAttemptRow[] = [];
    const again: DeliveryOutcome[] = [];
    for (const o of outcomes) {
      if (o.first) firsts.push(o as FirstAttemptRow);
      else again.push(o);
    }
    try {
      await inTransaction(
        this.opts.db,
        async (trx) => {
          await insertDeliveryRuns(trx, runs);
          await insertFirstAttempts(trx, firsts);
          await recordDeliveryOutcomes(trx, again);
          await advanceWebhookCursors(trx, cursors);
          for (const [id, b] of breakers) await setWebhookBreaker(trx, id, b);
        },
        'process-crash',
      );
    } catch (err) {
      // Lost outcomes read as pending again, or their events as past the cursor: those deliveries are made again (same event id).
      this.opts.log.error({ err, outcomes: outcomes.length + runs.reduce((n, r) => n + r.items.length, 0) }, 'recording webhook delivery outcomes failed; those deliveries will be attempted again');
    } finally {
      // Committed (the store's cursor is here now), or lost (read again from the store's cursor: made again, same event ids).
      for (const [id, sequence] of cursors) if (this.cursorsAhead.get(id) === sequence) this.cursorsAhead.delete(id);
      for (const o of again) {
        const ids = this.uncommitted.get(o.webhookId);
        const n = ids?.get(o.id) ?? 0;
        if (n > 1) ids?.set(o.id, n - 1);
        else ids?.delete(o.id);
        if (ids?.size === 0) this.uncommitted.delete(o.webhookId);
      }
    }
  }
}

const EMPTY: ReadonlyMap<string, number> = new Map();
