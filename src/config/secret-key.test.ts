import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadOrCreateSecretKey, SECRET_KEY_FILE } from './secret-key.js';

describe('loadOrCreateSecretKey', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sb-key-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('uses the env key and writes no file', () => {
    const r = loadOrCreateSecretKey(dir, 'AB'.repeat(32));
    expect(r.source).toBe('env');
    expect(r.key.toString('hex')).toBe('ab'.repeat(32));
    expect(() => statSync(join(dir, SECRET_KEY_FILE))).toThrow();
  });

  it('generates a 0600 key file on first start and reuses it', () => {
    const first = loadOrCreateSecretKey(dir, undefined);
    expect(first.source).toBe('generated');
    expect(first.key).toHaveLength(32);
    expect(statSync(join(dir, SECRET_KEY_FILE)).mode & 0o777).toBe(0o600);
    const second = loadOrCreateSecretKey(dir, undefined);
    expect(second.source).toBe('file');
    expect(second.key.equals(first.key)).toBe(true);
  });

  it('refuses a corrupt key file instead of replacing it', () => {
    writeFileSync(join(dir, SECRET_KEY_FILE), 'not a key');
    expect(() => loadOrCreateSecretKey(dir, undefined)).toThrow(/SWITCHBOARD_SECRET_KEY/);
  });
});
