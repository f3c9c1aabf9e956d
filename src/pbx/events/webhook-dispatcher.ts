import type { BatchOutcome, DeliveryBatch } from '../../events/webhooks/delivery-batch.js';
import { DeliveryPool, InlineDelivery, type DeliveryRunner } from '../../events/webhooks/delivery-pool.js';
import type { TargetPolicy } from '../../events/webhooks/webhook-target.js';
import type { Logger } from '../../obs/logger.js';
import type { Clock, TimerHandle } from '../../shared/clock.js';
import {
  getWebhook,
  getWebhookHeaders,
  getWebhookSecret,
  inTransaction,
  listDispatchHeads,
  listQueuePage,
  pruneDeliveryLog,
  pruneOutbox,
  setWebhookBreaker,
  type Db,
  type QueuedDelivery,
  type Webhook,
} from '../../store/index.js';
import { CheckedTargets } from './checked-targets.js';
import { breakerAfter, breakerGate, DEFAULT_BREAKER, retryDelayMs, type Breaker, type BreakerConfig } from './delivery-policy.js';
import { OutcomeRecorder, type DeliveryOutcome } from './outcome-recorder.js';
import { fanOutOutbox } from './webhook-fan-out.js';
export interface WebhookDispatcherOptions {
  db: Db;
  /** Decrypts webhook secrets for signing. */
  secretKey: Buffer;
  /** Wall clock (ms since the epoch): due times are stored instants. A FakeClock in tests. */
  clock: Clock;
  log: Logger;
  /** The SSRF policy (allow-list), checked again at every attempt. */
  policy?: TargetPolicy;
  /** Safety-net poll when nothing woke the dispatcher (1 s). */
  pollIntervalMs?: number;
  breaker?: BreakerConfig;
  /** First retry delay (2 s); each next one doubles. */
  backoffBaseMs?: number;
  /** Jitter source (Math.random); tests pass () => 0 for exact times. */
  random?: () => number;
  /** How long delivered events stay in the outbox (24 h): the WebSocket replay window. */
  retentionMs?: number;
  /** How long ended deliveries stay in the delivery log (7 days); pending ones stay until they end. */
  deliveryLogRetentionMs?: number;
  /**
   * Threads for the HTTP attempts: 0 makes them on this thread; default one per core (at most 4).
   */
  deliveryThreads?: number;
  /** How long a host name's checked resolution is reused (2 s); IP-literal URLs need no lookup. */
  resolveCacheMs?: number;
  /** How long outcomes gather before their one commit (20 ms). */
  recordIntervalMs?: number;
}

/** Deliveries read (and handed to the HTTP side) per endpoint at a time. */
const PAGE = 200;

/**
 * How an endpoint's run ended: `drained` attempted all it read and saw the end of the queue;
 * `stopped` did work but ended early (a failure, a thread that ended, a stop, the breaker); `idle`
 * found nothing to do.
 */
type RunEnd = 'drained' | 'stopped' | 'idle';
/** A running endpoint reads its queue from the head again at least this often (ms). */
const FULL_READ_MS = 1000;

/**
 * Delivers outbox events to webhooks, durably (issue 5 §2–3). Everything it knows is in the store:
 * fan-out marks outbox rows dispatched, each delivery row holds its next attempt time and attempt
 * count, each endpoint its breaker — so after a crash (kill -9) a new dispatcher resumes where the
 * store says, and an attempt cut short is simply made again: at least once, same event id.
 *
 * Order: each endpoint is a queue in outbox sequence (the commit order of events, which is event
 * time order for any one call), and only its head is attempted; the next event waits until the head
 * is delivered or has finally failed (retries exhausted). A slow or dead endpoint therefore delays
 * only itself; endpoints are served in parallel.
 */
/** How long a wake-up waits for others to join it (real time, not the injected clock: it only batches). */
const WAKE_COALESCE_MS = 10;

export class WebhookDispatcher {
  private readonly pollMs: number;
  private readonly breakerCfg: BreakerConfig;
  /** Endpoints whose pipeline is running. */
  private readonly inFlight = new Set<string>();
  /** Endpoints a scan passed over because their run was still going: their run is followed by a scan. */
  private readonly passedOver = new Set<string>();
  private readonly active = new Set<Promise<unknown>>();
  private readonly recorder: OutcomeRecorder;
  private delivery: DeliveryRunner | undefined;
  private timer: TimerHandle | undefined;
  private running = false;
  private again = false;
  private stopped = true;
  private lastPrune = 0;
  private wakePending = false;

  private readonly targets: CheckedTargets;

  constructor(private readonly opts: WebhookDispatcherOptions) {
    this.pollMs = opts.pollIntervalMs ?? 1000;
    this.breakerCfg = opts.breaker ?? DEFAULT_BREAKER;
    this.recorder = new OutcomeRecorder({ db: opts.db, log: opts.log, ...(opts.recordIntervalMs !== undefined && { intervalMs: opts.recordIntervalMs }) });
    this.targets = new CheckedTargets(opts.policy ?? {}, opts.resolveCacheMs ?? 2000);
  }

  start(): void {
    this.stopped = false;
    this.recorder.open();
    if (!this.delivery) {
      if (this.opts.deliveryThreads === 0) this.delivery = new InlineDelivery();
      else {
        const pool = new DeliveryPool(this.opts.deliveryThreads, (err) => this.opts.log.error({ err }, 'a webhook delivery thread died; its deliveries will be attempted again'));
        pool.warm();
        this.delivery = pool;
      }
    }
    this.wake();
  }

  /**
   * Something was written to the outbox (or a delivery requeued): look soon rather than at the next
   * poll. Wake-ups within {@link WAKE_COALESCE_MS} share one scan: a busy PBX commits several events
   * per call, and a scan per commit cost more than the calls' own store writes.
   */
  wake(): void {
    if (this.stopped || this.wakePending) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.wakePending = true;
    this.track(
      new Promise<void>((resolve) => setTimeout(resolve, WAKE_COALESCE_MS)).then(() => {
        this.wakePending = false;
        if (this.stopped) return;
        if (this.running) {
          this.again = true;
          return;
        }
        return this.tick();
      }),
    );
  }

  /**
   * Stops polling and waits for attempts in flight (each endpoint's run stops after its current
   * attempt), so their outcome is recorded before the store closes — at most `maxWaitMs` (a
   * receiver may take up to 30 s to answer, longer than a shutdown may): an attempt cut off is
   * simply made again after the restart (at least once, same id). Then ends the delivery threads.
   */
  async stop(maxWaitMs = 3000): Promise<void> {
    this.stopped = true;
    this.opts.clock.clearTimeout(this.timer);
    this.delivery?.cancel();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.idle(), new Promise<void>((resolve) => (timer = setTimeout(resolve, maxWaitMs)))]);
    clearTimeout(timer);
    await this.recorder.close();
    await this.delivery?.close();
    this.delivery = undefined;
  }

  /** Resolves once no scan, attempt or outcome commit is running (tests step a fake clock and then wait on this). */
  async idle(): Promise<void> {
    for (;;) {
      if (this.active.size > 0) await Promise.allSettled([...this.active]);
      else if (this.recorder.busy) await this.recorder.flush();
      else return;
    }
  }

  /** Connections the delivery side opened so far (tests: kept-alive connections are reused). */
  connectionsOpened(): Promise<number> {
    return this.delivery?.connectionsOpened() ?? Promise.resolve(0);
  }

  private track(p: Promise<unknown>): void {
    this.active.add(p);
    void p.finally(() => this.active.delete(p));
  }

  private async tick(): Promise<void> {
    this.running = true;
    let next = this.opts.clock.now() + this.pollMs;
    try {
      next = Math.min(next, await this.scan());
    } catch (err) {
      this.opts.log.error({ err }, 'webhook dispatch scan failed; retrying at the next poll');
    } finally {
      this.running = false;
    }
    if (this.stopped) return;
    if (this.again) {
      this.again = false;
      this.wake();
      return;
    }
    this.opts.clock.clearTimeout(this.timer);
    this.timer = this.opts.clock.setTimeout(() => this.wake(), Math.max(0, next - this.opts.clock.now()));
  }

  /** Fans out new events, starts the pipeline of every endpoint whose head is due; returns when to look again. */
  private async scan(): Promise<number> {
    const { db, clock } = this.opts;
    const now = clock.now();
    await fanOutOutbox(db, now);
    let next = Infinity;
    for (const head of await listDispatchHeads(db)) {
      if (this.stopped) break;
      if (this.inFlight.has(head.webhookId)) {
        this.passedOver.add(head.webhookId);
        continue;
      }
      // A disabled endpoint keeps its queue until it is enabled again.
      if (!head.enabled) continue;
      const gate = breakerGate(head.breaker, now);
      if (!gate.allow) {
        next = Math.min(next, gate.until);
        continue;
      }
      const due = head.headDue === null ? now : Date.parse(head.headDue);
      if (due > now) {
        next = Math.min(next, due);
        continue;
      }
      const { webhookId } = head;
      this.inFlight.add(webhookId);
      this.track(
        this.runEndpoint(head.tenantId, webhookId)
          .catch((err: unknown): RunEnd => {
            this.opts.log.error({ err, webhookId }, 'webhook delivery failed unexpectedly; retrying at the next poll');
            return 'idle';
          })
          .then((end) => {
            this.inFlight.delete(webhookId);
            // A run that emptied its queue needs no scan after it, unless a scan passed it over while
            // it ran (something new may be queued). Otherwise its head may now be due later (a
            // retry) or be the next event: the scan decides.
            const passedOver = this.passedOver.delete(webhookId);
            if (passedOver || end === 'stopped') this.wake();
          }),
      );
    }
    await this.pruneNow(now);
    return next;
  }

  /**
   * One endpoint's pipeline: page after page of its due deliveries in queue order, each page with
   * the endpoint's row and secret read afresh (an edit, a rotation or a disable takes effect at the
   * next page), attempted one after another by the delivery side, until the queue is empty, an
   * attempt fails (the endpoint then waits for its retry), or the dispatcher stops. Deliveries whose
   * outcome is not committed yet are skipped (they still read as pending). Returns how it ended.
   */
  private async runEndpoint(tenantId: string, webhookId: string): Promise<RunEnd> {
    const { db, clock } = this.opts;
    let worked = false;
    let after: number | undefined;
    let fullReadAt = Date.now();
    while (!this.stopped) {
      // Deleted since the scan (its deliveries went with it): nothing to do.
      const webhook = await getWebhook(db, tenantId, webhookId).catch(() => undefined);
      if (!webhook?.enabled) break;
      const now = clock.now();
      const gate = breakerGate(webhook.breaker, now);
      if (!gate.allow) break;
      const breaker = gate.breaker;
      // Deliveries attempted but not recorded yet still read as pending: skipped. While this run has
      // some, the read starts after the last one it attempted (instead of reading them all again),
      // and from the head once a second (a redelivered old event is behind the bound).
      const uncommitted = this.recorder.pendingOf(webhookId);
      const full = uncommitted.size === 0 || after === undefined || Date.now() - fullReadAt >= FULL_READ_MS;
      if (full) fullReadAt = Date.now();
      const limit = full ? PAGE + uncommitted.size : PAGE;
      const rows = await listQueuePage(db, webhookId, limit, full ? -1 : after);
      const page = rows.filter((d) => !uncommitted.has(d.id));
      // A short read saw the end of the queue: once this page is attempted there is nothing left to
      // read until something new is enqueued, which wakes the dispatcher again (no empty re-read).
      const drained = rows.length < limit;
      // Only the head may go while it is not due (a retry); what follows it waits behind it.
      const ready: QueuedDelivery[] = [];
      for (const d of page) {
        if (d.nextAttemptAt !== null && Date.parse(d.nextAttemptAt) > now) break;
        ready.push(d);
        // Half-open lets exactly one probe through.
        if (ready.length >= (breaker.state === 'half_open' ? 1 : PAGE)) break;
      }
      const head = ready[0];
      if (!head) break;
      worked = true;
      // Probing: visible in the API while the probe runs.
      if (breaker.state !== webhook.breaker.state) await inTransaction(db, (trx) => setWebhookBreaker(trx, webhookId, breaker), 'process-crash');
      if (head.body === null) {
        // Retention removed it (only possible for a requeued old delivery): nothing left to send.
        after = head.sequence;
        this.recorder.add([{ webhookId, id: head.id, ok: false, statusCode: null, error: 'the event is no longer in the outbox', excerpt: null, durationMs: 0, at: new Date(now).toISOString(), nextAttemptAt: null }]);
        continue;
      }
      const missing = ready.findIndex((d) => d.body === null);
      const items = missing === -1 ? ready : ready.slice(0, missing);
      const outcome = await this.attempt(webhook, items, now);
      const { failed, breakerChanged } = this.record(webhook, items, breaker, outcome);
      const last = items[outcome.attempts.length - 1];
      if (last) after = last.sequence;
      // The next read of the store must see a failed head (it is not skipped as uncommitted) and the breaker as it now is.
      if (failed || breakerChanged) await this.recorder.flush();
      // Failed (the endpoint waits for its retry), or nothing was attempted (the thread ended): the scan decides when to look again.
      if (failed || outcome.attempts.length === 0) break;
      if (drained && outcome.attempts.length === page.length) return 'drained';
    }
    return worked ? 'stopped' : 'idle';
  }

  /** Checks the URL, then hands the deliveries to the delivery side; a refusal or an undecryptable secret fails the head like an attempt would. */
  private async attempt(webhook: Webhook, items: QueuedDelivery[], now: number): Promise<BatchOutcome> {
    const failHead = (error: string): BatchOutcome => ({ attempts: [{ ok: false, statusCode: null, excerpt: null, error, durationMs: 0, at: now }], expired: false });
    // A secret that no longer decrypts (the secret key was replaced) fails the attempt like a refused
    // URL would, so the delivery runs out its retries instead of being retried every poll for ever.
    const secret = await getWebhookSecret(this.opts.db, this.opts.secretKey, webhook.tenantId, webhook.id).catch(() => undefined);
    if (secret === undefined) return failHead('the signing secret cannot be decrypted (was the secret key changed?)');
    // Custom header values are stored encrypted too (auth tokens): the same failure if they no longer decrypt.
    const customHeaders = await getWebhookHeaders(this.opts.db, this.opts.secretKey, webhook.tenantId, webhook.id).catch(() => undefined);
    if (customHeaders === undefined) return failHead('the custom headers cannot be decrypted (was the secret key changed?)');
    const checked = await this.targets.check(webhook.url);
    if ('refused' in checked) {
      // Never connect again over a connection to an address that no longer passes the check.
      this.delivery?.drop(webhook.id);
      return failHead(checked.refused);
    }
    const { target, until } = checked;
    const batch: DeliveryBatch = {
      endpoint: webhook.id, url: target.url.href, hostname: target.hostname, address: target.address, family: target.family, checkedUntil: until,
      secret, customHeaders, timeoutMs: webhook.timeoutMs, clockAt: now, wallAt: Date.now(),
      items: items.map((d) => ({ deliveryId: d.id, eventId: d.eventId, eventType: d.eventType, tenantId: d.tenantId, body: d.body as string })),
    };
    return (this.delivery ?? new InlineDelivery()).run(batch);
  }

  /**
   * Queues the attempts' outcomes (next attempt time on a failure, the breaker after each) for the
   * batched commit; the breaker is written only when it changed.
   */
  private record(webhook: Webhook, items: QueuedDelivery[], breaker: Breaker, outcome: BatchOutcome): { failed: boolean; breakerChanged: boolean } {
    const { clock, log } = this.opts;
    const after = clock.now();
    const outcomes: DeliveryOutcome[] = [];
    let b = breaker;
    let failed = false;
    for (const [i, attempt] of outcome.attempts.entries()) {
      const d = items[i] as QueuedDelivery;
      const round = d.roundAttempts + 1;
      const retry = !attempt.ok && round <= webhook.retryCount;
      const nextAttemptAt = retry ? new Date(after + retryDelayMs(round, { ...(this.opts.backoffBaseMs !== undefined && { baseMs: this.opts.backoffBaseMs }), ...(this.opts.random && { random: this.opts.random }) })).toISOString() : null;
      b = breakerAfter(b, attempt.ok, after, this.breakerCfg);
      const at = new Date(Math.min(attempt.at, after)).toISOString();
      outcomes.push({ webhookId: webhook.id, id: d.id, ok: attempt.ok, statusCode: attempt.statusCode, error: attempt.error, excerpt: attempt.excerpt, durationMs: attempt.durationMs, at, nextAttemptAt });
      const fields = { webhookId: webhook.id, deliveryId: d.id, eventId: d.eventId, type: d.eventType, attempt: round, statusCode: attempt.statusCode };
      if (attempt.ok) {
        if (log.isLevelEnabled('debug')) log.debug(fields, 'webhook delivered');
      } else {
        failed = true;
        log.warn({ ...fields, error: attempt.error, nextAttemptAt, breaker: b.state }, retry ? 'webhook attempt failed; will retry' : 'webhook delivery failed finally');
      }
    }
    const changed = b.state !== webhook.breaker.state || b.consecutiveFailures !== webhook.breaker.consecutiveFailures || b.pausedUntil !== webhook.breaker.pausedUntil;
    this.recorder.add(outcomes, changed ? { webhookId: webhook.id, breaker: b } : undefined);
    return { failed, breakerChanged: changed };
  }

  /** Retention, at most once a minute: events older than the window whose deliveries are all final, and ended deliveries older than the log's window. */
  private async pruneNow(now: number): Promise<void> {
    if (now - this.lastPrune < 60_000) return;
    this.lastPrune = now;
    const before = new Date(now - (this.opts.retentionMs ?? 24 * 3_600_000)).toISOString();
    const pruned = await pruneOutbox(this.opts.db, { before });
    if (pruned > 0) this.opts.log.debug({ pruned }, 'pruned delivered events from the outbox');
    // Without this the log grows by one row per event and endpoint for ever (20,000 rows a second at 2,000 events/s to 10 endpoints).
    const logBefore = new Date(now - (this.opts.deliveryLogRetentionMs ?? 7 * 24 * 3_600_000)).toISOString();
    const dropped = await pruneDeliveryLog(this.opts.db, { before: logBefore });
    if (dropped > 0) this.opts.log.debug({ dropped }, 'pruned ended deliveries from the delivery log');
  }
}
