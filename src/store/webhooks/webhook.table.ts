/** Row shape of `webhooks`. The signing secret is never stored in clear (see webhook.repository.ts). */
export interface WebhookTable {
  id: string;
  tenant_id: string;
  name: string;
  url: string;
  /** JSON array of event types and wildcards. */
  events: string;
  /** AES-256-GCM ciphertext of the signing secret with the row id as AAD. */
  secret_enc: string;
  /**
   * Plain JSON object of custom headers written before migration 0010; `{}` once
   * `upgradeWebhookHeaders` (run at start) or any header write has moved them to `headers_enc`.
   */
  headers: string;
  /** JSON object of custom header name → AES-256-GCM ciphertext of its value, AAD `webhook-header:<id>:<lower-case name>` (0010). */
  headers_enc: string;
  retry_count: number;
  timeout_ms: number;
  enabled: number;
  breaker_state: BreakerState;
  consecutive_failures: number;
  paused_until: string | null;
  created_at: string;
  updated_at: string;
}

/**
 * Row shape of `webhook_cursors` (0012): the last outbox sequence of its tenant an endpoint has
 * handled — each event at or before it was filtered out or has its delivery row. New endpoints,
 * and endpoints enabled again, start at the newest event.
 */
/**
 * Row shape of `webhook_delivery_runs` (0013): consecutive first-attempt successes of one endpoint
 * page. `items` is the JSON of {@link DeliveryRunItem} | null (null: redelivered, now a row of its own).
 */
export interface WebhookDeliveryRunTable {
  id: string;
  webhook_id: string;
  tenant_id: string;
  count: number;
  items: string;
  created_at: string;
}

/** One entry of a run: event id, event type, outbox sequence, status code, duration ms, attempt time (Unix ms), response excerpt. */
export type DeliveryRunItem = [eventId: string, eventType: string, sequence: number, statusCode: number | null, durationMs: number, atMs: number, excerpt: string | null];

export interface WebhookCursorTable {
  webhook_id: string;
  sequence: number;
}

/** Circuit breaker of one endpoint: `open` pauses deliveries until `paused_until`, `half_open` lets one probe through. */
export type BreakerState = 'closed' | 'open' | 'half_open';

export type DeliveryStatus = 'pending' | 'delivered' | 'failed';

/** Row shape of `webhook_deliveries`: one event to one endpoint, with its last attempt's outcome. */
export interface WebhookDeliveryTable {
  id: string;
  webhook_id: string;
  tenant_id: string;
  event_id: string;
  event_type: string;
  status: DeliveryStatus;
  attempts: number;
  last_status_code: number | null;
  last_error: string | null;
  response_excerpt: string | null;
  last_duration_ms: number | null;
  first_attempt_at: string | null;
  last_attempt_at: string | null;
  delivered_at: string | null;
  next_attempt_at: string | null;
  /** The outbox row this delivery sends (0009_outbox): the endpoint's order; null for test events. */
  sequence: number | null;
  /** Attempts since the last (re)delivery request: what the endpoint's retry count limits. */
  round_attempts: number;
  created_at: string;
  updated_at: string;
}
