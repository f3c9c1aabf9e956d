import { EventStream } from '../api/events-ws/event-stream.js';
import type { AppConfig } from '../config/load-config.js';
import { allowListOf } from '../events/webhooks/ip-ranges.js';
import type { TargetPolicy } from '../events/webhooks/webhook-target.js';
import type { Logger } from '../obs/logger.js';
import { WebhookDispatcher } from '../pbx/events/webhook-dispatcher.js';
import { wallClock } from '../shared/clock.js';
import type { Db } from '../store/index.js';

/** The two readers of the outbox, and the wake-up every producer calls after its commit. */
export interface EventDelivery {
  dispatcher: WebhookDispatcher;
  stream: EventStream;
  /** Wakes both readers: what `onCommitted` of every outbox producer (and the API) calls. */
  wake: { wake(): void };
  /** The SSRF allow-list for webhook URLs, checked at creation (API) and at every delivery. */
  webhookPolicy: TargetPolicy;
}

/**
 * Webhooks and the `/ws` stream: events are written to the outbox with each change; the
 * dispatcher delivers them (woken after each commit, polling as a safety net) and resumes from the
 * store after a crash; the stream reads the same outbox. Built, not started: main keeps both so
 * that a stop during start reaches them, then starts the stream (now) and the dispatcher (later).
 */
export function createEventDelivery(config: AppConfig, deps: { db: Db; secretKey: Buffer; log: Logger }): EventDelivery {
  const { db, log } = deps;
  const webhookPolicy = { allow: allowListOf(config.webhooks.allowlist) };
  const dispatcher = new WebhookDispatcher({
    db,
    secretKey: deps.secretKey,
    clock: wallClock,
    log: log.child({ component: 'webhooks' }),
    policy: webhookPolicy,
    breaker: { threshold: 10, pauseMs: config.webhooks.breakerPauseSeconds * 1000 },
    retentionMs: config.events.retentionHours * 3_600_000,
    deliveryLogRetentionMs: config.events.deliveryLogRetentionHours * 3_600_000,
  });
  // The /ws event stream reads the same outbox; every commit wakes both readers.
  const stream = new EventStream({ db, log: log.child({ component: 'event-stream' }) });
  const wake = {
    wake: (): void => {
      dispatcher.wake();
      stream.wake();
    },
  };
  return { dispatcher, stream, wake, webhookPolicy };
}
