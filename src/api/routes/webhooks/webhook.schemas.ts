import { z } from '@hono/zod-openapi';
import { filterPatternProblem } from '../../../events/event-types.js';
import { customHeaderIssues } from '../../../events/webhooks/custom-headers.js';
import { MAX_WEBHOOK_URL_LENGTH, parseWebhookUrl } from '../../../events/webhooks/webhook-target.js';
import { webhookSecretProblem } from '../../../events/webhooks/webhook-secret.js';
import type { Webhook, WebhookDelivery } from '../../../store/index.js';

/**
 * Request and response shapes of `/api/v1/webhooks`. Field rules live in events/webhooks (the
 * dispatcher applies the same ones); here they become zod refinements, so a bad field is a 400
 * naming it. Resolving the URL's host needs I/O and is the route's job (422 naming `url`).
 */

/** What replaces a secret in every answer but the one that hands it out. */
export const REDACTED_SECRET = '[redacted]';

/**
 * What replaces every custom header value in every answer (values are secrets: receivers' auth
 * tokens). Sent back as a value in a PATCH, it keeps that header's stored value, so a client can
 * send the headers of a GET back with one changed or added without wiping the others.
 */
export const REDACTED_HEADER_VALUE = '********';

const url = z
  .string()
  .trim()
  .max(MAX_WEBHOOK_URL_LENGTH)
  .superRefine((value, ctx) => {
    try {
      parseWebhookUrl(value);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
    }
  })
  .openapi({ example: 'https://crm.example.com/hooks/switchboard', description: 'https (http only for hosts in SWITCHBOARD_WEBHOOK_ALLOWLIST); every address its host resolves to must be public' });

const events = z
  .array(z.string().max(64).superRefine((p, ctx) => {
    const problem = filterPatternProblem(p);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  }))
  .min(1)
  .max(50)
  .transform((list) => [...new Set(list)])
  .openapi({ example: ['call.start', 'call.ended', 'trunk.status'], description: 'Event types, `prefix.*` wildcards (`call.*`) or `*`' });

const headers = z
  .record(z.string(), z.string())
  .superRefine((h, ctx) => {
    // Each problem names its header (`headers.<name>`), the count the set (`headers`).
    for (const { header, message } of customHeaderIssues(h)) ctx.addIssue({ code: 'custom', message, ...(header !== undefined && { path: [header] }) });
  })
  .openapi({
    example: { Authorization: 'Bearer crm-token' },
    description:
      'Sent with every delivery; may not set signature, identity or framing headers. Values are stored encrypted and never shown again ' +
      `(answers show "${REDACTED_HEADER_VALUE}"). In a PATCH the object replaces the whole set; a value of "${REDACTED_HEADER_VALUE}" keeps that header's stored value.`,
  });

const secret = z
  .string()
  .superRefine((s, ctx) => {
    const problem = webhookSecretProblem(s);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  })
  .openapi({ description: 'Signing secret; generated (whsec_ + base64 of 32 bytes) when absent' });

const fields = {
  name: z.string().trim().min(1).max(200),
  url,
  events,
  headers: headers.optional(),
  retry_count: z.number().int().min(0).max(10).optional().openapi({ description: 'Retries after the first attempt (default 3)' }),
  timeout_ms: z.number().int().min(1000).max(30000).optional().openapi({ description: 'Per attempt (default 5000)' }),
  enabled: z.boolean().optional(),
};

export const CreateWebhookBody = z.object({ ...fields, secret: secret.optional() }).strict().openapi('CreateWebhook');
export const UpdateWebhookBody = z
  .object({ name: fields.name.optional(), url: url.optional(), events: events.optional(), headers: fields.headers, retry_count: fields.retry_count, timeout_ms: fields.timeout_ms, enabled: fields.enabled })
  .strict()
  .openapi('UpdateWebhook');
export const RotateSecretBody = z.object({ secret: secret.optional() }).strict().openapi('RotateWebhookSecret');

export const WebhookSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    url: z.string(),
    events: z.array(z.string()),
    secret: z.string().openapi({ description: `The signing secret on create and rotate only; "${REDACTED_SECRET}" otherwise` }),
    headers: z
      .record(z.string(), z.literal(REDACTED_HEADER_VALUE))
      .openapi({ example: { Authorization: REDACTED_HEADER_VALUE }, description: `Custom header names; every value is "${REDACTED_HEADER_VALUE}" (values are write-only secrets)` }),
    retry_count: z.number().int(),
    timeout_ms: z.number().int(),
    enabled: z.boolean(),
    circuit_breaker: z
      .object({
        state: z.enum(['closed', 'open', 'half_open']),
        consecutive_failures: z.number().int(),
        paused_until: z.string().nullable(),
      })
      .openapi({ description: 'Read-only, kept by the dispatcher: 10 consecutive failures open it for 5 minutes, then one probe (half_open)' }),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('Webhook');
export type WebhookView = z.infer<typeof WebhookSchema>;

export function webhookView(w: Webhook, secretShown?: string): WebhookView {
  return {
    id: w.id,
    name: w.name,
    url: w.url,
    events: w.events,
    secret: secretShown ?? REDACTED_SECRET,
    headers: Object.fromEntries(w.headerNames.map((name) => [name, REDACTED_HEADER_VALUE])) as Record<string, typeof REDACTED_HEADER_VALUE>,
    retry_count: w.retryCount,
    timeout_ms: w.timeoutMs,
    enabled: w.enabled,
    circuit_breaker: { state: w.breaker.state, consecutive_failures: w.breaker.consecutiveFailures, paused_until: w.breaker.pausedUntil },
    created_at: w.createdAt,
    updated_at: w.updatedAt,
  };
}

export const DeliverySchema = z
  .object({
    id: z.uuid(),
    webhook_id: z.uuid(),
    event_id: z.string(),
    event_type: z.string(),
    status: z.enum(['pending', 'delivered', 'failed']),
    attempts: z.number().int(),
    last_status_code: z.number().int().nullable(),
    last_error: z.string().nullable(),
    response_excerpt: z.string().nullable().openapi({ description: 'At most 1 KB of the receiver\'s last answer' }),
    last_duration_ms: z.number().int().nullable(),
    first_attempt_at: z.string().nullable(),
    last_attempt_at: z.string().nullable(),
    delivered_at: z.string().nullable(),
    next_attempt_at: z.string().nullable(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('WebhookDelivery');

export function deliveryView(d: WebhookDelivery): z.infer<typeof DeliverySchema> {
  return {
    id: d.id,
    webhook_id: d.webhookId,
    event_id: d.eventId,
    event_type: d.eventType,
    status: d.status,
    attempts: d.attempts,
    last_status_code: d.lastStatusCode,
    last_error: d.lastError,
    response_excerpt: d.responseExcerpt,
    last_duration_ms: d.lastDurationMs,
    first_attempt_at: d.firstAttemptAt,
    last_attempt_at: d.lastAttemptAt,
    delivered_at: d.deliveredAt,
    next_attempt_at: d.nextAttemptAt,
    created_at: d.createdAt,
    updated_at: d.updatedAt,
  };
}
