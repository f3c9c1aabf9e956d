import { DeliveryPool, InlineDelivery, type DeliveryRunner } from '../../events/webhooks/delivery-pool.js';
import type { TargetPolicy } from '../../events/webhooks/webhook-target.js';
import type { Logger } from '../../obs/logger.js';
import type { Clock, TimerHandle } from '../../shared/clock.js';
import { listDispatchHeads, pruneDeliveryLog, pruneOutbox, type Db } from '../../store/index.js';
import { CheckedTargets } from './checked-targets.js';
import { breakerGate, DEFAULT_BREAKER, type BreakerConfig } from './delivery-policy.js';
import { EndpointPipeline, type RunEnd } from './endpoint-pipeline.js';
import { OutcomeRecorder } from './outcome-recorder.js';
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

/** How long a wake-up waits for others to join it (real time, not the injected clock: it only batches). */
const WAKE_COALESCE_MS = 10;

/**
 * Delivers outbox events to webhooks, durably (issue 5 §2–3). Everything it knows is in the store:
 * each endpoint's cursor says which events of its tenant it has handled, each delivery row holds
 * its next attempt time and attempt count, each endpoint its breaker — so after a crash (kill -9) a
 * new dispatcher resumes where the store says, and an attempt cut short is simply made again: at
 * least once, same event id.
 *
 * Order: each endpoint is a queue in outbox sequence (the commit order of events, which is event
 * time order for any one call), and only its head is attempted; the next event waits until the head
 * is delivered or has finally failed (retries exhausted). A slow or dead endpoint therefore delays
 * only itself; endpoints are served in parallel, each by its {@link EndpointPipeline}.
 */
export class WebhookDispatcher {
  private readonly pollMs: number;
  private readonly breakerCfg: BreakerConfig;
  /** Endpoints whose pipeline is running. */
  private readonly inFlight = new Set<string>();
  /** Endpoints a scan passed over because their run was still going: their run is followed by a scan. */
  private readonly passedOver = new Set<string>();
  /** Endpoints whose last run sent all there was (webhook id → tenant id): the next commit resumes them at once. */
  private readonly caughtUp = new Map<string, string>();
  private resumePending = false;
  /** Bumped by every wake-up and scan: an outbox commit announced since the pages last asked the store (see OutboxWindows.read). */
  private commitGeneration = 0;
  /** Runs waiting for the next commit while their last page is on the wire (see EndpointPipeline.cursorPages). */
  private commitWaiter: { promise: Promise<void>; resolve: () => void } | undefined;
  private readonly active = new Set<Promise<unknown>>();
  private readonly recorder: OutcomeRecorder;
  private delivery: DeliveryRunner | undefined;
  private timer: TimerHandle | undefined;
  private running = false;
  private again = false;
  private stopped = true;
  private lastPrune = 0;
  private wakePending = false;

  private readonly pipeline: EndpointPipeline;

  constructor(private readonly opts: WebhookDispatcherOptions) {
    this.pollMs = opts.pollIntervalMs ?? 1000;
    this.breakerCfg = opts.breaker ?? DEFAULT_BREAKER;
    this.recorder = new OutcomeRecorder({ db: opts.db, log: opts.log, ...(opts.recordIntervalMs !== undefined && { intervalMs: opts.recordIntervalMs }) });
    this.pipeline = new EndpointPipeline({
      db: opts.db, secretKey: opts.secretKey, clock: opts.clock, log: opts.log, recorder: this.recorder,
      targets: new CheckedTargets(opts.policy ?? {}, opts.resolveCacheMs ?? 2000),
      delivery: () => this.delivery, breaker: this.breakerCfg, stopped: () => this.stopped, commitGeneration: () => this.commitGeneration,
      nextCommit: () => this.nextCommit(),
      ...(opts.backoffBaseMs !== undefined && { backoffBaseMs: opts.backoffBaseMs }), ...(opts.random && { random: opts.random }),
    });
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
    if (this.stopped) return;
    this.commitGeneration++;
    this.announceCommit();
    this.resumeCaughtUp();
    if (this.wakePending) return;
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

  /** Resolves on the event-loop turn after the next wake-up (or a stop). */
  private nextCommit(): Promise<void> {
    if (!this.commitWaiter) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      this.commitWaiter = { promise, resolve };
    }
    return this.commitWaiter.promise;
  }

  private announceCommit(): void {
    const w = this.commitWaiter;
    this.commitWaiter = undefined;
    if (w) setImmediate(w.resolve);
  }

  /**
   * An endpoint that was sent everything a moment ago is the common case of a running PBX: its
   * next event is sent from the next event-loop turn rather than after the coalesced scan (10 ms,
   * and longer under load: at 50 events/s the webhooks' p50 was ~15 ms). Commits in one turn share
   * one resume. The run itself reads the endpoint (enabled, breaker) as always; the scan still
   * follows for everything else (a redelivery's pending head, a retry falling due, an endpoint not
   * seen yet), and an endpoint whose run is still going picks the new events up on its next page.
   */
  private resumeCaughtUp(): void {
    if (this.resumePending || this.caughtUp.size === 0) return;
    this.resumePending = true;
    this.track(
      new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
        this.resumePending = false;
        if (this.stopped) return;
        for (const [webhookId, tenantId] of this.caughtUp) {
          // The scan that follows sees a redelivery's pending head; these runs read new events only.
          if (!this.inFlight.has(webhookId)) this.startRun(webhookId, tenantId, { pending: false });
        }
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
    this.announceCommit();
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

  /** Starts the pipeline of every endpoint with work that may go now (new events, a due head); returns when to look again. */
  private async scan(): Promise<number> {
    const { db, clock } = this.opts;
    const now = clock.now();
    let next = Infinity;
    // What the scan finds was committed, announced or not (a poll): the pages it starts ask the store.
    this.commitGeneration++;
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
      // New events this process already sent, whose outcomes wait for their commit: nothing to do.
      if (head.headDue === undefined && head.newestSequence <= (this.recorder.cursorOf(head.webhookId) ?? 0)) continue;
      // A pending head goes first (a retry blocks what follows it); without one, new events are due now.
      const due = head.headDue == null ? now : Date.parse(head.headDue);
      if (due > now) {
        next = Math.min(next, due);
        continue;
      }
      this.startRun(head.webhookId, head.tenantId, { pending: head.headDue !== undefined });
    }
    await this.pruneNow(now);
    return next;
  }

  /** `seen`: what the scan saw of the endpoint's pending queue (see EndpointPipeline.run). */
  private startRun(webhookId: string, tenantId: string, seen: { pending: boolean }): void {
    this.inFlight.add(webhookId);
    this.caughtUp.delete(webhookId);
    this.track(
      this.pipeline.run(tenantId, webhookId, seen)
        .catch((err: unknown): RunEnd => {
          this.opts.log.error({ err, webhookId }, 'webhook delivery failed unexpectedly; retrying at the next poll');
          return 'idle';
        })
        .then((end) => {
          this.inFlight.delete(webhookId);
          if (end === 'drained') this.caughtUp.set(webhookId, tenantId);
          // A run that emptied its queue needs no scan after it, unless a scan passed it over while
          // it ran (something new may be queued). Otherwise its head may now be due later (a
          // retry) or be the next event: the scan decides.
          const passedOver = this.passedOver.delete(webhookId);
          if (passedOver || end === 'stopped') this.wake();
        }),
    );
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
