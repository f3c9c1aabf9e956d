import { randomBytes } from 'node:crypto';

/**
 * Webhook signing secrets. A generated one is `whsec_` + base64 of 32 random bytes, the Standard
 * Webhooks format, so receivers can use that project's libraries unchanged. A secret the integrator
 * gives may be that format (the key is then the decoded bytes) or any string (its UTF-8 bytes are the
 * key, as the EDGVoIP seed's `createHmac('sha256', secret)` does).
 */
export const WHSEC_PREFIX = 'whsec_';

export function generateWebhookSecret(): string {
  return `${WHSEC_PREFIX}${randomBytes(32).toString('base64')}`;
}

/** The HMAC key of the Standard Webhooks signature: decoded bytes for `whsec_`, else the UTF-8 bytes. */
export function standardWebhooksKey(secret: string): Buffer {
  return secret.startsWith(WHSEC_PREFIX) ? Buffer.from(secret.slice(WHSEC_PREFIX.length), 'base64') : Buffer.from(secret, 'utf8');
}

/**
 * Why a given secret is unacceptable, or undefined. A `whsec_` secret must be strict base64 of
 * 24–64 bytes (the Standard Webhooks range); any other secret 16–256 printable ASCII characters,
 * so it survives being pasted into a receiver's configuration.
 */
export function webhookSecretProblem(secret: string): string | undefined {
  if (secret.startsWith(WHSEC_PREFIX)) {
    const b64 = secret.slice(WHSEC_PREFIX.length);
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64) || b64.length % 4 !== 0) return 'a whsec_ secret must be followed by standard base64';
    const bytes = Buffer.from(b64, 'base64').length;
    return bytes >= 24 && bytes <= 64 ? undefined : `a whsec_ secret must encode 24-64 bytes (got ${bytes})`;
  }
  if (secret.length < 16 || secret.length > 256) return 'must be 16-256 characters (or whsec_<base64>)';
  return /^[\x21-\x7e]+$/.test(secret) ? undefined : 'must be printable ASCII without spaces';
}
