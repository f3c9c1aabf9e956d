import { attemptDelivery } from '../../events/webhooks/deliver.js';
import { signedHeaders } from '../../events/webhooks/signing.js';
import type { TargetPolicy } from '../../events/webhooks/webhook-target.js';
import type { Logger } from '../../obs/logger.js';
import type { Clock, TimerHandle } from '../../shared/clock.js';
import {
  getOutboxEvent,
  getWebhook,
  getWebhookHeaders,
  getWebhookSecret,
  inTransaction,
  listQueueHeads,
  pruneOutbox,
  recordDeliveryAttempt,
  setWebhookBreaker,
  type Db,
  type Webhook,
  type WebhookDelivery,
} from '../../store/index.js';
import { breakerAfter, breakerGate, DEFAULT_BREAKER, retryDelayMs, type Breaker, type BreakerConfig } from './delivery-policy.js';
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
}

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
  private readonly inFlight = new Set<string>();
  private readonly active = new Set<Promise<unknown>>();
  private timer: TimerHandle | undefined;
  private running = false;
  private again = false;
  private stopped = true;
  private lastPrune = 0;
  private wakePending = false;

  constructor(private readonly opts: WebhookDispatcherOptions) {
    this.pollMs = opts.pollIntervalMs ?? 1000;
    this.breakerCfg = opts.breaker ?? DEFAULT_BREAKER;
  }

  start(): void {
    this.stopped = false;
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
   * Stops polling and waits for attempts in flight, so their outcome is recorded before the store
   * closes — at most `maxWaitMs` (a receiver may take up to 30 s to answer, longer than a shutdown
   * may): an attempt cut off is simply made again after the restart (at least once, same id).
   */
  async stop(maxWaitMs = 3000): Promise<void> {
    this.stopped = true;
    this.opts.clock.clearTimeout(this.timer);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.idle(), new Promise<void>((resolve) => (timer = setTimeout(resolve, maxWaitMs)))]);
    clearTimeout(timer);
  }

  /** Resolves once no scan or attempt is running (tests step a fake clock and then wait on this). */
  async idle(): Promise<void> {
    while (this.active.size > 0) await Promise.allSettled([...this.active]);
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

  /** Fans out new events, starts every endpoint head that is due; returns when to look again. */
  private async scan(): Promise<number> {
    const { db, clock } = this.opts;
    const now = clock.now();
    await fanOutOutbox(db, now);
    let next = Infinity;
    for (const head of await listQueueHeads(db)) {
      if (this.stopped) break;
      if (this.inFlight.has(head.webhookId)) continue;
      // Deleted since the heads were read (its deliveries went with it): nothing to do.
      const webhook = await getWebhook(db, head.tenantId, head.webhookId).catch(() => undefined);
      if (!webhook) continue;
      // A disabled endpoint keeps its queue until it is enabled again.
      if (!webhook.enabled) continue;
      const due = head.nextAttemptAt === null ? now : Date.parse(head.nextAttemptAt);
      const gate = breakerGate(webhook.breaker, now);
      if (!gate.allow) {
        next = Math.min(next, gate.until);
        continue;
      }
      if (due > now) {
        next = Math.min(next, due);
        continue;
      }
      this.inFlight.add(webhook.id);
      this.track(
        this.deliver(webhook, head, gate.breaker)
          .catch((err: unknown) => this.opts.log.error({ err, webhookId: webhook.id, deliveryId: head.id }, 'webhook delivery failed unexpectedly; retrying at the next poll'))
          .finally(() => {
            this.inFlight.delete(webhook.id);
            this.wake();
          }),
      );
    }
    await this.pruneNow(now);
    return next;
  }

  /** One attempt of an endpoint's head delivery, its outcome and the endpoint's breaker recorded in one transaction. */
  private async deliver(webhook: Webhook, delivery: WebhookDelivery, breaker: Breaker): Promise<void> {
    const { db, clock } = this.opts;
    const now = clock.now();
    const at = new Date(now).toISOString();
    if (breaker.state !== webhook.breaker.state) await setWebhookBreaker(db, webhook.id, breaker);
    const event = delivery.sequence === null ? undefined : await getOutboxEvent(db, delivery.sequence);
    if (!event) {
      // Retention removed it (only possible for a requeued old delivery): nothing left to send.
      await recordDeliveryAttempt(db, delivery.id, { ok: false, statusCode: null, error: 'the event is no longer in the outbox', excerpt: null, durationMs: 0, at, nextAttemptAt: null });
      return;
    }
    // A secret that no longer decrypts (the secret key was replaced) fails the attempt like a refused
    // URL would, so the delivery runs out its retries instead of being retried every poll for ever.
    const secret = await getWebhookSecret(db, this.opts.secretKey, webhook.tenantId, webhook.id).catch(() => undefined);
    if (secret === undefined) {
      await this.record(webhook, delivery, breaker, now, { ok: false, statusCode: null, error: 'the signing secret cannot be decrypted (was the secret key changed?)', excerpt: null, durationMs: 0 }, event);
      return;
    }
    // Custom header values are stored encrypted too (auth tokens): the same failure if they no longer decrypt.
    const customHeaders = await getWebhookHeaders(db, this.opts.secretKey, webhook.tenantId, webhook.id).catch(() => undefined);
    if (customHeaders === undefined) {
      await this.record(webhook, delivery, breaker, now, { ok: false, statusCode: null, error: 'the custom headers cannot be decrypted (was the secret key changed?)', excerpt: null, durationMs: 0 }, event);
      return;
    }
    const headers = signedHeaders({
      secret, eventId: event.eventId, eventType: event.type, tenantId: event.tenantId, deliveryId: delivery.id,
      timestamp: Math.floor(now / 1000), body: event.body, customHeaders,
    });
    const attempt = await attemptDelivery(webhook.url, { headers, body: event.body, timeoutMs: webhook.timeoutMs }, this.opts.policy ?? {});
    await this.record(webhook, delivery, breaker, now, attempt, event);
  }

  /** An attempt's outcome, the next attempt time (backoff) or the end, and the endpoint's breaker, in one transaction. */
  private async record(
    webhook: Webhook,
    delivery: WebhookDelivery,
    breaker: Breaker,
    now: number,
    attempt: { ok: boolean; statusCode: number | null; error: string | null; excerpt: string | null; durationMs: number },
    event: { eventId: string; type: string },
  ): Promise<void> {
    const { db, clock } = this.opts;
    const at = new Date(now).toISOString();
    const round = delivery.roundAttempts + 1;
    const retry = !attempt.ok && round <= webhook.retryCount;
    const after = clock.now();
    const nextAttemptAt = retry ? new Date(after + retryDelayMs(round, { ...(this.opts.backoffBaseMs !== undefined && { baseMs: this.opts.backoffBaseMs }), ...(this.opts.random && { random: this.opts.random }) })).toISOString() : null;
    const nextBreaker = breakerAfter(breaker, attempt.ok, after, this.breakerCfg);
    await inTransaction(db, async (trx) => {
      await recordDeliveryAttempt(trx, delivery.id, { ...attempt, at, nextAttemptAt });
      await setWebhookBreaker(trx, webhook.id, nextBreaker);
    });
    const fields = { webhookId: webhook.id, deliveryId: delivery.id, eventId: event.eventId, type: event.type, attempt: round, statusCode: attempt.statusCode };
    if (attempt.ok) this.opts.log.debug(fields, 'webhook delivered');
    else this.opts.log.warn({ ...fields, error: attempt.error, nextAttemptAt, breaker: nextBreaker.state }, retry ? 'webhook attempt failed; will retry' : 'webhook delivery failed finally');
  }

  /** Retention, at most once a minute: events older than the window whose deliveries are all final. */
  private async pruneNow(now: number): Promise<void> {
    if (now - this.lastPrune < 60_000) return;
    this.lastPrune = now;
    const before = new Date(now - (this.opts.retentionMs ?? 24 * 3_600_000)).toISOString();
    const pruned = await pruneOutbox(this.opts.db, { before });
    if (pruned > 0) this.opts.log.debug({ pruned }, 'pruned delivered events from the outbox');
  }
}
