import type { Logger } from '../../obs/logger.js';
import { inTransaction, recordDeliveryOutcomes, setWebhookBreaker, type Db, type DeliveryOutcomeRow } from '../../store/index.js';
import type { Breaker } from './delivery-policy.js';

/** One attempt's outcome for an endpoint's delivery. */
export interface DeliveryOutcome extends DeliveryOutcomeRow {
  webhookId: string;
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
 * Until its outcome commits, a delivery still reads as pending in the store: {@link pendingOf}
 * lists those, so the dispatcher does not attempt them a second time meanwhile. An endpoint's
 * breaker is written (in the same transaction) only when it changed.
 */
export class OutcomeRecorder {
  private readonly intervalMs: number;
  private readonly maxBatch: number;
  private queue: DeliveryOutcome[] = [];
  private breakers = new Map<string, Breaker>();
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

  /** Queues outcomes (in attempt order) and, when given, the endpoint's breaker after them. */
  add(outcomes: readonly DeliveryOutcome[], breaker?: { webhookId: string; breaker: Breaker }): void {
    if (this.closed) return;
    for (const o of outcomes) {
      this.queue.push(o);
      let ids = this.uncommitted.get(o.webhookId);
      if (!ids) this.uncommitted.set(o.webhookId, (ids = new Map()));
      ids.set(o.id, (ids.get(o.id) ?? 0) + 1);
    }
    if (breaker) this.breakers.set(breaker.webhookId, breaker.breaker);
    if (this.queue.length >= this.maxBatch) void this.flush();
    else if (this.timer === undefined && (this.queue.length > 0 || this.breakers.size > 0)) this.timer = setTimeout(() => void this.flush(), this.intervalMs);
  }

  /** Deliveries of the endpoint whose outcome has not committed yet. */
  pendingOf(webhookId: string): { has(id: string): boolean; readonly size: number } {
    return this.uncommitted.get(webhookId) ?? EMPTY;
  }

  /** True while anything waits for, or is in, a commit. */
  get busy(): boolean {
    return this.queue.length > 0 || this.breakers.size > 0 || this.inFlight > 0;
  }

  /** Commits everything queued so far; resolves once it is committed (or its commit failed, logged). */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.queue.length === 0 && this.breakers.size === 0) return this.chain;
    const outcomes = this.queue;
    const breakers = this.breakers;
    this.queue = [];
    this.breakers = new Map();
    this.inFlight++;
    this.chain = this.chain.then(() => this.commit(outcomes, breakers)).finally(() => this.inFlight--);
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

  private async commit(outcomes: DeliveryOutcome[], breakers: Map<string, Breaker>): Promise<void> {
    try {
      await inTransaction(
        this.opts.db,
        async (trx) => {
          await recordDeliveryOutcomes(trx, outcomes);
          for (const [id, b] of breakers) await setWebhookBreaker(trx, id, b);
        },
        'process-crash',
      );
    } catch (err) {
      // Lost outcomes read as pending again: those deliveries are made again (same event id).
      this.opts.log.error({ err, outcomes: outcomes.length }, 'recording webhook delivery outcomes failed; those deliveries will be attempted again');
    } finally {
      for (const o of outcomes) {
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
