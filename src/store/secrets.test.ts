import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decryptSecret, encryptSecret } from './secrets.js';

const key = randomBytes(32);

describe('secrets', () => {
  it('round-trips and uses a fresh IV each time', () => {
    const a = encryptSecret(key, 'hunter2-sip', 'row-1');
    const b = encryptSecret(key, 'hunter2-sip', 'row-1');
    expect(a).not.toBe(b);
    expect(a).not.toContain('hunter2');
    expect(decryptSecret(key, a, 'row-1')).toBe('hunter2-sip');
  });

  it('fails closed on a flipped bit', () => {
    const enc = encryptSecret(key, 'secret', 'row-1');
    const raw = Buffer.from(enc.slice(3), 'base64');
    raw[raw.length - 1] = (raw[raw.length - 1] ?? 0) ^ 1;
    expect(() => decryptSecret(key, `v1:${raw.toString('base64')}`, 'row-1')).toThrow(
      expect.objectContaining({ code: 'SECRET_DECRYPT_FAILED' }),
    );
  });

  it('fails on the wrong AAD, the wrong key and garbage', () => {
    const enc = encryptSecret(key, 'secret', 'row-1');
    expect(() => decryptSecret(key, enc, 'row-2')).toThrow(/could not be decrypted/);
    expect(() => decryptSecret(randomBytes(32), enc, 'row-1')).toThrow(/could not be decrypted/);
    expect(() => decryptSecret(key, 'nope', 'row-1')).toThrow(/could not be decrypted/);
  });

  it('rejects a key of the wrong size', () => {
    expect(() => encryptSecret(randomBytes(16), 'x', 'a')).toThrow(/32 bytes/);
  });
});
