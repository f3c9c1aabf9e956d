import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../test/support/fake-clock.js';
import { NonceCountTracker, NonceSigner, parseNonceCount } from './nonce.js';

const SECRET = 'a-test-secret-of-32-bytes-length';

function setup(lifetimeMs?: number) {
  const clock = new FakeClock(1_700_000_000_000);
  const signer = new NonceSigner({ secret: SECRET, clock, ...(lifetimeMs ? { lifetimeMs } : {}) });
  return { clock, signer };
}

describe('NonceSigner', () => {
  it('issues distinct url-safe nonces that verify', () => {
    const { signer } = setup();
    const a = signer.issue('pbx.example.com');
    const b = signer.issue('pbx.example.com');
    expect(a).not.toBe(b);
    expect(a).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(signer.verify(a, 'pbx.example.com')).toBe('valid');
  });

  it('verifies on another instance with the same secret, not with another secret', () => {
    const { clock, signer } = setup();
    const n = signer.issue('r');
    expect(new NonceSigner({ secret: SECRET, clock }).verify(n, 'r')).toBe('valid');
    expect(new NonceSigner({ secret: 'another-secret-of-enough-length!', clock }).verify(n, 'r')).toBe(
      'invalid',
    );
  });

  it('is stale after the default 300 s lifetime, valid up to it', () => {
    const { clock, signer } = setup();
    const n = signer.issue('r');
    clock.advance(300_000);
    expect(signer.verify(n, 'r')).toBe('valid');
    clock.advance(1);
    expect(signer.verify(n, 'r')).toBe('stale');
  });

  it('honours a configured lifetime', () => {
    const { clock, signer } = setup(10_000);
    const n = signer.issue('r');
    clock.advance(10_001);
    expect(signer.verify(n, 'r')).toBe('stale');
  });

  it('rejects a nonce for another realm or binding', () => {
    const { signer } = setup();
    const n = signer.issue('tenant-a', '192.0.2.1');
    expect(signer.verify(n, 'tenant-b', '192.0.2.1')).toBe('invalid');
    expect(signer.verify(n, 'tenant-a', '192.0.2.2')).toBe('invalid');
    expect(signer.verify(n, 'tenant-a', '192.0.2.1')).toBe('valid');
  });

  it('rejects nonces from the future beyond the skew', () => {
    const clock = new FakeClock(1_000_000);
    const signer = new NonceSigner({ secret: SECRET, clock });
    const n = signer.issue('r');
    const earlier = new NonceSigner({ secret: SECRET, clock: new FakeClock(1_000_000 - 60_000) });
    expect(earlier.verify(n, 'r')).toBe('invalid');
  });

  it('detects any single-character tampering', () => {
    const { signer } = setup();
    const n = signer.issue('r');
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    fc.assert(
      fc.property(fc.nat(n.length - 1), fc.constantFrom(...alphabet), (pos, ch) => {
        fc.pre(n[pos] !== ch);
        const t = n.slice(0, pos) + ch + n.slice(pos + 1);
        // The last character carries 4 padding bits that base64url decoding ignores.
        if (Buffer.from(t, 'base64url').equals(Buffer.from(n, 'base64url'))) return;
        expect(signer.verify(t, 'r')).toBe('invalid');
      }),
    );
  });

  it('rejects garbage without throwing', () => {
    const { signer } = setup();
    for (const g of ['', 'x', 'dcd98b7102dd2f0e8b11d0f600bfb0c093', '!'.repeat(70)]) {
      expect(signer.verify(g, 'r')).toBe('invalid');
    }
    fc.assert(fc.property(fc.string(), (s) => signer.verify(s, 'r') === 'invalid'));
  });

  it('refuses a short secret', () => {
    expect(() => new NonceSigner({ secret: 'short', clock: new FakeClock() })).toThrow();
  });
});

describe('NonceCountTracker', () => {
  it('accepts increasing counts and rejects replays (RFC 7616 §3.4.5)', () => {
    const t = new NonceCountTracker();
    expect(t.accept('n', 1)).toBe(true);
    expect(t.accept('n', 1)).toBe(false);
    expect(t.accept('n', 3)).toBe(true);
    expect(t.accept('n', 2)).toBe(false);
    expect(t.accept('other', 1)).toBe(true);
    expect(t.last('n')).toBe(3);
  });

  it('stays bounded, evicting the least recently used nonce', () => {
    const t = new NonceCountTracker(2);
    t.accept('a', 1);
    t.accept('b', 1);
    t.accept('a', 2); // a is now the most recent
    t.accept('c', 1);
    expect(t.size).toBe(2);
    expect(t.last('b')).toBeUndefined();
    expect(t.last('a')).toBe(2);
  });
});

describe('parseNonceCount', () => {
  it('parses exactly 8 hex digits', () => {
    expect(parseNonceCount('00000001')).toBe(1);
    expect(parseNonceCount('0000000A')).toBe(10);
    expect(parseNonceCount('1')).toBeUndefined();
    expect(parseNonceCount('0000000g')).toBeUndefined();
    expect(parseNonceCount(undefined)).toBeUndefined();
  });
});
