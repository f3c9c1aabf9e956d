import { createHmac } from 'node:crypto';
import { standardWebhooksKey } from './webhook-secret.js';

/**
 * Webhook signatures (issue 5 §3), over the exact body bytes sent:
 * - `X-Webhook-Signature`: hex HMAC-SHA256 of the body keyed with the secret's UTF-8 bytes — the
 *   EDGVoIP seed's scheme, so its integrators' receivers work unchanged (they must hash the raw body,
 *   not a re-serialised object).
 * - Standard Webhooks (standardwebhooks.com): `webhook-id` (the event id, the same on every retry),
 *   `webhook-timestamp` (unix seconds of this attempt) and `webhook-signature` = `v1,` + base64
 *   HMAC-SHA256 of `${id}.${timestamp}.${body}`, keyed with the decoded bytes of a `whsec_` secret
 *   or the UTF-8 bytes of any other. Receivers reject timestamps more than 5 minutes off.
 */
export function edgvoipSignature(secret: string, body: Buffer | string): string {
  return createHmac('sha256', Buffer.from(secret, 'utf8')).update(body).digest('hex');
}

export function standardWebhooksSignature(secret: string, id: string, timestamp: number, body: Buffer | string): string {
  return standardWebhooksSignatureWith(standardWebhooksKey(secret), id, timestamp, body);
}

function standardWebhooksSignatureWith(key: Buffer, id: string, timestamp: number, body: Buffer | string): string {
  const hmac = createHmac('sha256', key);
  hmac.update(`${id}.${timestamp}.`);
  hmac.update(body);
  return `v1,${hmac.digest('base64')}`;
}

/** What one attempt of one event to one endpoint is about. */
export interface SignedRequestInput {
  secret: string;
  eventId: string;
  eventType: string;
  tenantId: string;
  /** This attempt's delivery id (`X-Request-ID`). */
  deliveryId: string;
  /** Unix seconds of this attempt (a retry is signed afresh, so it is not refused as a replay). */
  timestamp: number;
  body: Buffer | string;
  /** The endpoint's custom headers; validated at creation never to collide with the ones below. */
  customHeaders?: Readonly<Record<string, string>>;
}

/** Every header of a delivery: custom headers first, then ours, which always win. */
export function signedHeaders(input: SignedRequestInput): Record<string, string> {
  return {
    ...input.customHeaders,
    'content-type': 'application/json',
    'user-agent': 'Switchboard-Webhooks/1',
    'x-webhook-event': input.eventType,
    'x-webhook-signature': edgvoipSignature(input.secret, input.body),
    'x-request-id': input.deliveryId,
    'x-tenant-id': input.tenantId,
    'webhook-id': input.eventId,
    'webhook-timestamp': String(input.timestamp),
    'webhook-signature': standardWebhooksSignature(input.secret, input.eventId, input.timestamp, input.body),
  };
}

/**
 * {@link signedHeaders} for the delivery threads, made once per batch (one endpoint, one secret):
 * the keys are derived once rather than per attempt, and the headers come as a flat
 * name/value list (no object spread per attempt). The body should be the Buffer that is sent
 * (signing a string would encode it a second time). A custom header with a reserved name (refused
 * at creation) is left out, so ours always win here too.
 */
export class BatchSigner {
  private readonly edgvoipKey: Buffer;
  private readonly standardKey: Buffer;
  private readonly custom: string[] = [];

  constructor(secret: string, customHeaders: Readonly<Record<string, string>> = {}) {
    this.edgvoipKey = Buffer.from(secret, 'utf8');
    this.standardKey = standardWebhooksKey(secret);
    for (const [name, value] of Object.entries(customHeaders)) if (!RESERVED_HEADER_NAMES.has(name.toLowerCase())) this.custom.push(name, value);
  }

  headers(input: Omit<SignedRequestInput, 'secret' | 'customHeaders'>): string[] {
    return [
      ...this.custom,
      'content-type', 'application/json',
      'user-agent', 'Switchboard-Webhooks/1',
      'x-webhook-event', input.eventType,
      'x-webhook-signature', createHmac('sha256', this.edgvoipKey).update(input.body).digest('hex'),
      'x-request-id', input.deliveryId,
      'x-tenant-id', input.tenantId,
      'webhook-id', input.eventId,
      'webhook-timestamp', String(input.timestamp),
      'webhook-signature', standardWebhooksSignatureWith(this.standardKey, input.eventId, input.timestamp, input.body),
    ];
  }
}

/**
 * Header names a webhook's custom headers may not set: the signature and identity headers above,
 * and those the HTTP client owns (framing, host, connection). Lowercase.
 */
export const RESERVED_HEADER_NAMES: ReadonlySet<string> = new Set([
  'content-type',
  'content-length',
  'transfer-encoding',
  'host',
  'connection',
  'keep-alive',
  'upgrade',
  'te',
  'trailer',
  'expect',
  'user-agent',
  'x-webhook-event',
  'x-webhook-signature',
  'x-request-id',
  'x-tenant-id',
  'webhook-id',
  'webhook-timestamp',
  'webhook-signature',
]);
