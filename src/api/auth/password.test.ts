import { describe, expect, it } from 'vitest';
import { hashPassword, verifyAgainstDummy, verifyPassword } from './password.js';

describe('password hashing', () => {
  it('produces a PHC-like scrypt string with a fresh salt each time', async () => {
    const a = await hashPassword('correct horse battery');
    const b = await hashPassword('correct horse battery');
    expect(a).toMatch(/^\$scrypt\$ln=15,r=8,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    expect(a).not.toBe(b);
    expect(a).not.toContain('correct horse');
  });

  it('verifies the right password only', async () => {
    const h = await hashPassword('correct horse battery');
    expect(await verifyPassword('correct horse battery', h)).toBe(true);
    expect(await verifyPassword('correct horse batterY', h)).toBe(false);
    expect(await verifyPassword('', h)).toBe(false);
  });

  it('verifies hashes made with another cost (parameters come from the string)', async () => {
    const h = await hashPassword('another password', 14);
    expect(h).toContain('ln=14');
    expect(await verifyPassword('another password', h)).toBe(true);
  });

  it('treats malformed or absurd stored values as no match', async () => {
    expect(await verifyPassword('x', 'not a hash')).toBe(false);
    expect(await verifyPassword('x', '$scrypt$ln=40,r=8,p=1$AAAA$AAAA')).toBe(false);
  });

  it('spends comparable time on the dummy as on a real verification', async () => {
    const h = await hashPassword('some password 1');
    await verifyAgainstDummy('warm up');
    const t0 = performance.now();
    await verifyPassword('wrong password', h);
    const real = performance.now() - t0;
    const t1 = performance.now();
    expect(await verifyAgainstDummy('wrong password')).toBe(false);
    const fake = performance.now() - t1;
    // Same scrypt cost either way; generous bounds because CI machines are noisy.
    expect(fake).toBeGreaterThan(real / 3);
    expect(fake).toBeLessThan(real * 3);
  });
});
