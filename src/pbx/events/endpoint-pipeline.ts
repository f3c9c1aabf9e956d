import { filterMatches } from '../../events/event-types.js';
import type { BatchOutcome, DeliveryBatch } from '../../events/webhooks/delivery-batch.js';
import { InlineDelivery, type DeliveryRunner } from '../../events/webhooks/delivery-pool.js';
import type { Logger } from '../../obs/logger.js';
import type { Clock } from '../../shared/clock.js';
import { uuidv7Block } from '../../shared/ids.js';
import {
  getWebhookForDelivery,
  inTransaction,
  listQueuePage,
  MAX_EXCERPT_CHARS,
  runDeliveryId,
  setWebhookBreaker,
  type DeliveryRunItem,
  type Db,
  type QueuedDelivery,
  type Webhook,
  type WebhookForDelivery,
} from '../../store/index.js';
import type { CheckedTargets } from './checked-targets.js';
import { breakerAfter, breakerGate, retryDelayMs, type Breaker, type BreakerConfig } from './delivery-policy.js';
import type { DeliveryOutcome, OutcomeRecorder } from './outcome-recorder.js';
import { OutboxWindows } from './outbox-window.js';

export interface EndpointPipelineDeps {
  db: Db;
  secretKey: Buffer;
  clock: Clock;
  log: Logger;
  recorder: OutcomeRecorder;
  targets: CheckedTargets;
  /** The HTTP side (delivery threads, or this thread); undefined once the dispatcher stopped. */
  delivery: () => DeliveryRunner | undefined;
  breaker: BreakerConfig;
  backoffBaseMs?: number;
  random?: () => number;
  stopped: () => boolean;
  /** Outbox commits announced so far (see OutboxWindows.read); undefined: the store is always asked. */
  commitGeneration?: () => number;
  /** Resolves after the next outbox commit is announced: a run whose last page is on the wire waits for it to read on. */
  nextCommit?: () => Promise<void>;
}

/**
 * How an endpoint's run ended: `drained` saw the end of its work (having attempted all it read, or
 * finding nothing to send); `stopped` did work but ended early (a failure, a thread that ended, a
 * stop, the breaker); `idle` could do nothing (gone, disabled, paused, a head not due yet).
 */
export type RunEnd = 'drained' | 'stopped' | 'idle';

/**
 * What one step (one page, or a run of pipelined pages) did: `more` goes on to the next page;
 * `short` went on to the next page too, but not every item of the last one was attempted (a probe
 * goes alone; an expired address check), so the run reads again from where it got; `blocked` found
 * nothing that may go now.
 */
type Step = 'more' | 'short' | 'drained' | 'stopped' | 'blocked';

/** A page of events past the cursor, handed to the delivery side (`outcome`), or wanting none of them (only the cursor moves). */
interface CursorPage {
  webhook: Webhook;
  items: QueuedDelivery[];
  /** Events of the page the endpoint's filter wants (more than `items` while probing: one goes). */
  wanted: number;
  /** The sequence of the last event read. */
  lastRead: number;
  /** `drained` when the read came short of a page (the outbox had no more then). */
  end: Step;
  probing: boolean;
  outcome: Promise<BatchOutcome> | undefined;
  /** The dispatcher's commit generation when the page was read (see OutboxWindows.read). */
  generation: number | undefined;
}

/** Deliveries read (and handed to the HTTP side) per endpoint at a time. */
const PAGE = 200;
/** Where a run is: its pending queue's read position, and how far past the cursor it got. */
interface RunPosition {
  /** The last pending delivery attempted (the next read starts after it, but from the head once {@link FULL_READ_MS} passed). */
  after: number | undefined;
  fullReadAt: number;
  /** When a full read last found no pending delivery (undefined: not yet, or it found some). */
  noPendingAt: number | undefined;
  /** Where this run's pages of new events moved the cursor (committed or not). */
  cursor: number;
}

/** A running endpoint reads its pending queue from the head again at least this often (ms). */
const FULL_READ_MS = 1000;

/**
 * One endpoint's pipeline (issue 5 §3): page after page of what it is owed, in outbox sequence
 * order, attempted one after another by the delivery side. First its pending deliveries — retries,
 * redeliveries, the backlog kept while it was disabled — and once none is left, the events of its
 * tenant past its cursor that its filter wants (`webhook_cursors`): their delivery log entries are
 * written with the first attempt's outcome (the page's successes as one run row, a failure as a row
 * of its own), and the cursor moves past them in the same commit.
 *
 * Each page reads the endpoint's row and secret afresh (an edit, a rotation or a disable applies at
 * the next page). A run ends when nothing is left, an attempt fails (the endpoint then waits for its
 * retry: a pending head blocks everything after it), or the dispatcher stops.
 */
export class EndpointPipeline {
  /** The tenants' recent events, read once for all their endpoints. */
  private readonly outbox = new OutboxWindows();

  constructor(private readonly deps: EndpointPipelineDeps) {}

  /**
   * `seen`: whether the scan that started the run just saw a pending delivery, so the run's first
   * page need not look again (at low rates a run is one page of one event). Not the scan's cursor:
   * an outcome batch committing before the run starts moves it, and the process forgets how far it
   * got once that is stored — a run starting from the scan's cursor would send those events again.
   */
  async run(tenantId: string, webhookId: string, seen?: { pending: boolean }): Promise<RunEnd> {
    const { db, clock } = this.deps;
    let worked = false;
    const pos: RunPosition = { after: undefined, fullReadAt: Date.now(), noPendingAt: seen && !seen.pending ? Date.now() : undefined, cursor: 0 };
    while (!this.deps.stopped()) {
      // Each page starts in an event-loop turn of its own: the store calls a page makes resolve as
      // microtasks, so ten endpoints' pages ran back to back in one turn, delaying SIP, API and /ws
      // work behind them (bench:events at 2,000 events/s: event-loop delay p99 105–111 → 70–77 ms,
      // /ws p99 128–164 → 86–109 ms).
      await new Promise<void>((resolve) => setImmediate(resolve));
      // Deleted since the scan (its deliveries went with it): nothing to do.
      const found = await getWebhookForDelivery(db, this.deps.secretKey, tenantId, webhookId).catch(() => undefined);
      if (!found?.webhook.enabled) break;
      const now = clock.now();
      const gate = breakerGate(found.webhook.breaker, now);
      if (!gate.allow) break;
      const pendingStep = await this.pendingStep(found, gate.breaker, now, pos);
      const step = pendingStep ?? (await this.cursorPages(found, gate.breaker, now, pos));
      // Nothing pending and nothing past the cursor: drained (no scan needed after it; the next
      // commit resumes it), whether or not this run had anything to send.
      if (step === 'blocked' && pendingStep === undefined) return 'drained';
      if (step === 'blocked') break;
      worked = true;
      if (step === 'drained') return 'drained';
      if (step === 'stopped') break;
    }
    return worked ? 'stopped' : 'idle';
  }

  /**
   * A page of the endpoint's pending queue, or undefined when it has none left to attempt.
   * Deliveries attempted but not recorded yet still read as pending: skipped. While this run has
   * some, the read starts after the last one it attempted (instead of reading them all again), and
   * from the head once a second (a redelivered old event is behind the bound). Once a run found
   * none, it looks again only once a second: during a run only a redelivery or a disable's backlog
   * adds one (this run's own failures end it).
   */
  private async pendingStep(found: WebhookForDelivery, breaker: Breaker, now: number, pos: RunPosition): Promise<Step | undefined> {
    const { webhook } = found;
    if (pos.noPendingAt !== undefined && Date.now() - pos.noPendingAt < FULL_READ_MS) return undefined;
    const uncommitted = this.deps.recorder.pendingOf(webhook.id);
    const full = uncommitted.size === 0 || pos.after === undefined || Date.now() - pos.fullReadAt >= FULL_READ_MS;
    if (full) pos.fullReadAt = Date.now();
    const limit = full ? PAGE + uncommitted.size : PAGE;
    const rows = await listQueuePage(this.deps.db, webhook.id, limit, full ? -1 : pos.after);
    const page = rows.filter((d) => !uncommitted.has(d.id));
    if (rows.length === 0 && full) pos.noPendingAt = Date.now();
    if (page.length === 0) return undefined;
    // Only the head may go while it is not due (a retry); what follows it waits behind it.
    const ready: QueuedDelivery[] = [];
    for (const d of page) {
      if (d.nextAttemptAt !== null && Date.parse(d.nextAttemptAt) > now) break;
      ready.push(d);
      // Half-open lets exactly one probe through.
      if (ready.length >= (breaker.state === 'half_open' ? 1 : PAGE)) break;
    }
    const head = ready[0];
    if (!head) return 'blocked';
    await this.showProbe(webhook, breaker);
    if (head.body === null) {
      // Retention removed it (only possible for a requeued old delivery): nothing left to send.
      pos.after = head.sequence;
      this.deps.recorder.add([{ webhookId: webhook.id, id: head.id, ok: false, statusCode: null, error: 'the event is no longer in the outbox', excerpt: null, durationMs: 0, at: new Date(now).toISOString(), nextAttemptAt: null }]);
      return 'more';
    }
    const missing = ready.findIndex((d) => d.body === null);
    const items = missing === -1 ? ready : ready.slice(0, missing);
    const outcome = await this.attempt(found, items, now);
    const last = items[outcome.attempts.length - 1];
    if (last) pos.after = last.sequence;
    return (await this.settle(webhook, items, breaker, webhook.breaker, outcome, undefined)).step;
  }

  /**
   * Pages of the tenant's events past the endpoint's cursor, from the stored one (read with the
   * endpoint, so an enable's jump to the newest event applies at once), this run's progress, or
   * what this process attempted but has not committed yet, whichever is furthest.
   *
   * The next page is read and handed over while the one before it is still on the wire, marked
   * `continues`: the delivery side attempts it only if that one went through completely (see
   * EndpointLanes), so a failure still blocks everything after it. Without this the endpoint's
   * connection sat idle while this thread recorded a page and read the next — under load 15–25 %
   * of the time (bench:events at 1,500 events/s: 10–60 ms between pages of 200). Pages are still
   * recorded strictly in order, each only once the one before it completed. Before each page the
   * endpoint is read afresh (an edit, a disable or a rotation applies from that page on).
   */
  private async cursorPages(first: WebhookForDelivery, breaker: Breaker, now: number, pos: RunPosition): Promise<Step> {
    const { db, clock, recorder } = this.deps;
    let found = first;
    let gate = breaker;
    let at = now;
    // The breaker going into the page on the wire, and as the store will hold it once what is queued commits.
    let before = breaker;
    let stored: Breaker = first.webhook.breaker;
    let inFlight: CursorPage | undefined;
    for (;;) {
      if (inFlight) {
        // The page on the wire read all there was, and no commit was announced since: nothing to
        // read yet. Wait for a commit or for its outcome, whichever comes first (at low rates the
        // outcome: the run ends, and the next commit resumes the endpoint).
        if (inFlight.end === 'drained' && inFlight.outcome && this.deps.nextCommit && inFlight.generation !== undefined && inFlight.generation === this.deps.commitGeneration?.()) {
          if (!(await settlesFirst(this.deps.nextCommit(), inFlight.outcome))) {
            const done = await this.finishCursorPage(inFlight, before, stored, pos);
            return done.step === 'more' ? 'drained' : done.step;
          }
        }
        // The next page starts in an event-loop turn of its own (see run), with the endpoint read afresh.
        await new Promise<void>((resolve) => setImmediate(resolve));
        if (this.deps.stopped()) return (await this.finishCursorPage(inFlight, before, stored, pos)).step;
        const again = await getWebhookForDelivery(db, this.deps.secretKey, found.webhook.tenantId, found.webhook.id).catch(() => undefined);
        at = clock.now();
        const g = again?.webhook.enabled ? breakerGate(again.webhook.breaker, at) : undefined;
        // Deleted, disabled or no longer closed meanwhile: the page on the wire is recorded, and run() decides.
        if (!again || !g?.allow || g.breaker.state !== 'closed') return (await this.finishCursorPage(inFlight, before, stored, pos)).step;
        found = again;
        gate = g.breaker;
      }
      const from = Math.max(found.cursor, inFlight?.lastRead ?? pos.cursor, recorder.cursorOf(found.webhook.id) ?? 0);
      const next = await this.sendCursorPage(found, gate, at, from, inFlight !== undefined);
      if (inFlight) {
        const done = await this.finishCursorPage(inFlight, before, stored, pos);
        before = stored = done.breaker;
        if (done.step !== 'more') {
          // Stopped short: the page queued behind it is not attempted (a failure blocks it); its
          // outcome is awaited so that nothing of this run is left with the delivery side.
          if (next) await this.finishCursorPage(next, before, stored, pos, { afterIncomplete: true });
          return done.step;
        }
        if (!next) return inFlight.end;
      } else if (!next) return 'blocked';
      inFlight = next;
      // A probe goes alone; a pending delivery that appeared meanwhile (a redelivery) goes before
      // any more new events: run() reads the pending queue next (looked for once a second, as there).
      if (next.probing || this.deps.stopped() || (await this.pendingAppeared(found.webhook.id, pos))) return (await this.finishCursorPage(next, before, stored, pos)).step;
    }
  }

  /** Whether the endpoint's pending queue has a delivery not attempted by this process, looked for at most once a second. */
  private async pendingAppeared(webhookId: string, pos: RunPosition): Promise<boolean> {
    if (pos.noPendingAt !== undefined && Date.now() - pos.noPendingAt < FULL_READ_MS) return false;
    const uncommitted = this.deps.recorder.pendingOf(webhookId);
    const rows = await listQueuePage(this.deps.db, webhookId, 1 + uncommitted.size, -1);
    if (rows.length === 0) pos.noPendingAt = Date.now();
    return rows.some((d) => !uncommitted.has(d.id));
  }

  /**
   * Reads a page past `from` and hands what the endpoint's filter wants to the delivery side
   * (undefined: nothing was read). `continues`: the page before it is still on the wire.
   */
  private async sendCursorPage(found: WebhookForDelivery, breaker: Breaker, now: number, from: number, continues: boolean): Promise<CursorPage | undefined> {
    const { webhook } = found;
    const generation = this.deps.commitGeneration?.();
    const events = await this.outbox.read(this.deps.db, webhook.tenantId, from, PAGE, generation);
    const lastRead = events.at(-1);
    if (!lastRead) return undefined;
    const end: Step = events.length < PAGE ? 'drained' : 'more';
    const wanted = events.filter((e) => filterMatches(webhook.events, e.type));
    // Nothing here for this endpoint: the cursor moves past it once the page before it completed.
    if (wanted.length === 0) return { webhook, items: [], wanted: 0, lastRead: lastRead.sequence, end, probing: false, outcome: undefined, generation };
    await this.showProbe(webhook, breaker);
    const probing = breaker.state === 'half_open';
    const sent = probing ? wanted.slice(0, 1) : wanted;
    const ids = uuidv7Block(sent.length);
    const items: QueuedDelivery[] = sent.map((e, i) => ({
      id: ids[i] as string, tenantId: e.tenantId, eventId: e.eventId, eventType: e.type, sequence: e.sequence, nextAttemptAt: null, roundAttempts: 0, body: e.body,
    }));
    const { outcome } = await this.handOver(found, items, now, continues);
    return { webhook, items, wanted: wanted.length, lastRead: lastRead.sequence, end, probing, outcome, generation };
  }

  /**
   * Records a page's outcome (delivery rows, the cursor's move; see settle) and says how the run
   * goes on: `more` only if every wanted event of it went. `before`: the breaker going into it;
   * `stored`: as the store will hold it. `afterIncomplete`: the page before it stopped short, so
   * it was not attempted — nothing of it is recorded (a page wanting nothing must not move the
   * cursor past events that page left unattempted; an URL refused meanwhile is found again later).
   */
  private async finishCursorPage(page: CursorPage, before: Breaker, stored: Breaker, pos: RunPosition, opts?: { afterIncomplete: true }): Promise<{ step: Step; breaker: Breaker }> {
    if (opts?.afterIncomplete) {
      await page.outcome;
      return { step: 'stopped', breaker: before };
    }
    if (!page.outcome) {
      this.deps.recorder.add([], undefined, { webhookId: page.webhook.id, sequence: page.lastRead });
      pos.cursor = page.lastRead;
      return { step: 'more', breaker: before };
    }
    const outcome = await page.outcome;
    const attempted = outcome.attempts.length;
    // Past everything read once every wanted event went (what the filter skipped needs no row);
    // else up to the last one attempted — a failed one has its row, pending, and blocks the rest.
    const cursor = attempted === page.wanted ? page.lastRead : page.items[attempted - 1]?.sequence;
    if (cursor !== undefined) pos.cursor = cursor;
    const settled = await this.settle(page.webhook, page.items, before, stored, outcome, cursor);
    const step = settled.step !== 'more' ? settled.step : attempted === page.items.length && !page.probing ? 'more' : 'short';
    return { step, breaker: settled.breaker };
  }

  /** Probing: visible in the API while the probe runs. */
  private async showProbe(webhook: Webhook, breaker: Breaker): Promise<void> {
    if (breaker.state !== webhook.breaker.state) await inTransaction(this.deps.db, (trx) => setWebhookBreaker(trx, webhook.id, breaker), 'process-crash');
  }

  /** Checks the URL, then hands the deliveries to the delivery side; a refusal or an undecryptable secret fails the head like an attempt would. */
  private async attempt(found: WebhookForDelivery, items: QueuedDelivery[], now: number): Promise<BatchOutcome> {
    return (await this.handOver(found, items, now, false)).outcome;
  }

  /**
   * {@link attempt}, resolving once the batch is with the delivery side (its outcome still to
   * come): a `continues` page must be handed over after the page before it, and the URL's check
   * (a DNS lookup, now and then) comes first.
   */
  private async handOver(found: WebhookForDelivery, items: QueuedDelivery[], now: number, continues: boolean): Promise<{ outcome: Promise<BatchOutcome> }> {
    const { webhook, secret, customHeaders } = found;
    const failHead = (error: string) => ({ outcome: Promise.resolve<BatchOutcome>({ attempts: [{ ok: false, statusCode: null, excerpt: null, error, durationMs: 0, at: now }], expired: false }) });
    // A secret that no longer decrypts (the secret key was replaced) fails the attempt like a refused
    // URL would, so the delivery runs out its retries instead of being retried every poll for ever.
    if (secret === undefined) return failHead('the signing secret cannot be decrypted (was the secret key changed?)');
    // Custom header values are stored encrypted too (auth tokens): the same failure if they no longer decrypt.
    if (customHeaders === undefined) return failHead('the custom headers cannot be decrypted (was the secret key changed?)');
    const delivery = this.deps.delivery() ?? new InlineDelivery();
    const checked = await this.deps.targets.check(webhook.url);
    if ('refused' in checked) {
      // Never connect again over a connection to an address that no longer passes the check.
      delivery.drop(webhook.id);
      return failHead(checked.refused);
    }
    const { target, until } = checked;
    const batch: DeliveryBatch = {
      endpoint: webhook.id, url: target.url.href, hostname: target.hostname, address: target.address, family: target.family, checkedUntil: until,
      secret, customHeaders, timeoutMs: webhook.timeoutMs, clockAt: now, wallAt: Date.now(),
      items: items.map((d) => ({ deliveryId: d.id, eventId: d.eventId, eventType: d.eventType, tenantId: d.tenantId, body: d.body as string })),
      ...(continues && { continues }),
    };
    return { outcome: delivery.run(batch) };
  }

  /**
   * Queues the attempts' outcomes (next attempt time on a failure, the breaker after each, and for
   * events read past the cursor the cursor's new place) for the batched commit; then decides how
   * the run goes on. A failure or a breaker change waits for its commit: the next read of the store
   * must see the failed head (pending, so it blocks what follows) and the breaker as it now is.
   */
  private async settle(webhook: Webhook, items: QueuedDelivery[], breaker: Breaker, stored: Breaker, outcome: BatchOutcome, cursor: number | undefined): Promise<{ step: Step; breaker: Breaker }> {
    const { clock, log, recorder } = this.deps;
    const after = clock.now();
    const outcomes: DeliveryOutcome[] = [];
    // First attempts that went through, from the page's first item on: one row of the log (see
    // webhook_delivery_runs), named by the first item's id (the page's ids are a uuidv7Block).
    const runId = items[0]?.id;
    const runItems: DeliveryRunItem[] = [];
    let b = breaker;
    let failed = false;
    const debug = log.isLevelEnabled('debug');
    for (let i = 0; i < outcome.attempts.length; i++) {
      const attempt = outcome.attempts[i] as BatchOutcome['attempts'][number];
      const d = items[i] as QueuedDelivery;
      const round = d.roundAttempts + 1;
      const retry = !attempt.ok && round <= webhook.retryCount;
      const nextAttemptAt = retry ? new Date(after + retryDelayMs(round, { ...(this.deps.backoffBaseMs !== undefined && { baseMs: this.deps.backoffBaseMs }), ...(this.deps.random && { random: this.deps.random }) })).toISOString() : null;
      b = breakerAfter(b, attempt.ok, after, this.deps.breaker);
      if (cursor !== undefined && attempt.ok && runItems.length === i && runId !== undefined && d.id === runDeliveryId(runId, i)) {
        const excerpt = attempt.excerpt === null ? null : attempt.excerpt.slice(0, MAX_EXCERPT_CHARS);
        runItems.push([d.eventId, d.eventType, d.sequence, attempt.statusCode, Math.round(attempt.durationMs), Math.min(attempt.at, after), excerpt]);
        if (debug) log.debug({ webhookId: webhook.id, deliveryId: d.id, eventId: d.eventId, type: d.eventType, attempt: round, statusCode: attempt.statusCode }, 'webhook delivered');
        continue;
      }
      const at = new Date(Math.min(attempt.at, after)).toISOString();
      outcomes.push({
        webhookId: webhook.id, id: d.id, ok: attempt.ok, statusCode: attempt.statusCode, error: attempt.error, excerpt: attempt.excerpt, durationMs: attempt.durationMs, at, nextAttemptAt,
        // Read past the cursor: no row yet, the outcome writes it.
        ...(cursor !== undefined && { first: { tenantId: d.tenantId, eventId: d.eventId, eventType: d.eventType, sequence: d.sequence } }),
      });
      // The log fields are made only when a line is written (tens of thousands of deliveries a second).
      if (attempt.ok) {
        if (debug) log.debug({ webhookId: webhook.id, deliveryId: d.id, eventId: d.eventId, type: d.eventType, attempt: round, statusCode: attempt.statusCode }, 'webhook delivered');
      } else {
        failed = true;
        log.warn(
          { webhookId: webhook.id, deliveryId: d.id, eventId: d.eventId, type: d.eventType, attempt: round, statusCode: attempt.statusCode, error: attempt.error, nextAttemptAt, breaker: b.state },
          retry ? 'webhook attempt failed; will retry' : 'webhook delivery failed finally',
        );
      }
    }
    const changed = b.state !== stored.state || b.consecutiveFailures !== stored.consecutiveFailures || b.pausedUntil !== stored.pausedUntil;
    const run = runItems.length > 0 && runId !== undefined ? { id: runId, webhookId: webhook.id, tenantId: webhook.tenantId, items: runItems } : undefined;
    recorder.add(outcomes, changed ? { webhookId: webhook.id, breaker: b } : undefined, cursor === undefined ? undefined : { webhookId: webhook.id, sequence: cursor }, run);
    if (failed || changed) await recorder.flush();
    // Failed (the endpoint waits for its retry), or nothing was attempted (the thread ended): the scan decides when to look again.
    return { step: failed || outcome.attempts.length === 0 ? 'stopped' : 'more', breaker: b };
  }
}

/** Whether `a` settles before `b` (both are awaited no further than the first to settle). */
async function settlesFirst(a: Promise<unknown>, b: Promise<unknown>): Promise<boolean> {
  return Promise.race([a.then(() => true, () => true), b.then(() => false, () => false)]);
}
