import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { SwitchboardError } from '../shared/errors.js';

const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

function checkKey(key: Buffer): void {
  if (key.length !== 32) throw new SwitchboardError('INVALID_SECRET_KEY', 'secret key must be 32 bytes (AES-256)');
}

/**
 * Encrypts a secret the PBX must be able to read back (the SIP password, which the credentials
 * endpoint returns) with AES-256-GCM: a random 96-bit IV per value, and `aad` (the row id) bound
 * in so a ciphertext copied onto another row fails to decrypt. Output: `v1:<base64 iv|tag|ct>`.
 */
export function encryptSecret(key: Buffer, plaintext: string, aad: string): string {
  checkKey(key);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return `${VERSION}:${Buffer.concat([iv, cipher.getAuthTag(), ct]).toString('base64')}`;
}

/**
 * Decrypts what {@link encryptSecret} produced. Fails closed: a wrong key, wrong AAD or any
 * tampered byte throws `SECRET_DECRYPT_FAILED` rather than returning garbage.
 */
export function decryptSecret(key: Buffer, encoded: string, aad: string): string {
  checkKey(key);
  const fail = (cause?: unknown): SwitchboardError =>
    new SwitchboardError('SECRET_DECRYPT_FAILED', 'stored secret could not be decrypted', { cause });
  const [version, body] = encoded.split(':', 2);
  if (version !== VERSION || body === undefined) throw fail();
  const raw = Buffer.from(body, 'base64');
  if (raw.length < IV_BYTES + TAG_BYTES) throw fail();
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
  } catch (err) {
    throw fail(err);
  }
}
