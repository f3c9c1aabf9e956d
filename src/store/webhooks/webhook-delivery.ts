import type { DeliveryStatus } from './webhook.table.js';

/** One event to one endpoint, as the delivery log shows it. */
export interface WebhookDelivery {
  id: string;
  webhookId: string;
  tenantId: string;
  eventId: string;
  eventType: string;
  status: DeliveryStatus;
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  responseExcerpt: string | null;
  lastDurationMs: number | null;
  firstAttemptAt: string | null;
  lastAttemptAt: string | null;
  deliveredAt: string | null;
  nextAttemptAt: string | null;
  /** The outbox sequence of the event (null for test events, which are not in the outbox). */
  sequence: number | null;
  /** Attempts since the delivery was (re)queued; the retry count limits these. */
  roundAttempts: number;
  createdAt: string;
  updatedAt: string;
}

/** The delivery log keeps at most this much of a receiver's answer (characters; the HTTP client caps bytes too). */
export const MAX_EXCERPT_CHARS = 1024;
