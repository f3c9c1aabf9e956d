import { z } from 'zod';

/** Payloads (`data`) of the non-call events (issue 5 §1), named as the EDGVoIP seed names them. */

const instant = z.iso.datetime({ offset: true });
const port = z.number().int().min(0).max(65535);

const extensionStatus = z.enum(['registered', 'unregistered', 'in_call', 'idle']);

/**
 * An extension's status changed, in one of two dimensions; `previous_status` is always from the
 * same dimension as `current_status`.
 * - Registration: a phone's binding (contact) came or went. `registered` while the extension has
 *   any live binding, `unregistered` once it has none; the connection fields describe the binding
 *   that changed, so a second phone registering says registered → registered with its own address.
 *   `registered_contacts` counts the live bindings after the change.
 * - Call presence: `in_call` from its first live call, `idle` after its last, with `active_calls`;
 *   the connection fields are null.
 */
export const ExtensionStatusData = z.object({
  extension_id: z.string(),
  extension: z.string(),
  previous_status: extensionStatus.nullable(),
  current_status: extensionStatus,
  /** `sip` (UDP, TCP, TLS), `ws` or `wss` (WebRTC phones), as the registrations API shows it. */
  connection_type: z.enum(['sip', 'ws', 'wss']).nullable(),
  /** The SIP transport itself (`udp`, `tcp`, `tls`, `ws`, `wss`). */
  transport: z.string().nullable(),
  registration_ip: z.string().nullable(),
  registration_port: port.nullable(),
  registered_contacts: z.number().int().nonnegative().optional(),
  active_calls: z.number().int().nonnegative().optional(),
});

export const TrunkStatusData = z.object({
  trunk_id: z.string(),
  trunk_name: z.string(),
  previous_status: z.string().nullable(),
  current_status: z.string(),
  /** Why, when the change is a failure (a SIP status, a timeout). */
  reason: z.string().nullable().optional(),
});

export const VoicemailReceivedData = z.object({
  voicemail_id: z.string(),
  call_id: z.string().nullable(),
  extension_id: z.string(),
  mailbox: z.string(),
  from_number: z.string(),
  from_name: z.string().nullable(),
  to_number: z.string(),
  duration_seconds: z.number().int().nonnegative(),
  received_at: instant,
  /** The CRM user the mailbox maps to (external user mappings), for the CRM bridge's targeting. */
  target_crm_user: z.string().nullable().optional(),
});

/**
 * Any API answer ≥ 400 to a request that authenticated as a tenant, so integrators see failed calls
 * to the API they did not make themselves. The same facts as the request log line (`/api/v1/logs`):
 * no message, header or body, which may echo what the client sent (a password, a key).
 */
export const ApiErrorData = z.object({
  /** `X-Request-ID` of the request: ties the event to the client's report and our logs. */
  request_id: z.string(),
  /** The matched route's template (`/api/v1/extensions/:id`), or the path (no query string) when none matched. */
  endpoint: z.string(),
  method: z.string(),
  status_code: z.number().int().min(400).max(599),
  /** The error envelope's `code`; null when the answer had none (not JSON). */
  error_code: z.string().nullable(),
  /** Who made the request: the API key's id or the user's id. */
  principal_id: z.string().nullable(),
});

export const RegistrationCreatedData = z.object({
  registration_id: z.string(),
  extension_id: z.string(),
  extension: z.string(),
  contact: z.string(),
  transport: z.string(),
  source_ip: z.string(),
  source_port: port,
  user_agent: z.string().nullable(),
  expires_at: instant,
});

export const RegistrationExpiredData = z.object({
  registration_id: z.string(),
  extension_id: z.string(),
  extension: z.string(),
  contact: z.string(),
  /** `expired` (not refreshed in time), `unregistered` (Expires: 0), `removed` (by the API or a password change). */
  reason: z.enum(['expired', 'unregistered', 'removed']),
});

export const SecurityBanData = z.object({
  ip: z.string(),
  source: z.enum(['sip', 'api']),
  reason: z.string(),
  failures: z.number().int().nonnegative(),
  banned_until: instant.nullable(),
});

/** What `POST /webhooks/{id}/test` sends: enough for a receiver to check its signature code. */
export const WebhookTestData = z.object({ webhook_id: z.string(), message: z.string() });
