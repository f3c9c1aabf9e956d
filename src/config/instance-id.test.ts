import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { INSTANCE_ID_FILE, loadOrCreateInstanceId } from './instance-id.js';

describe('loadOrCreateInstanceId', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sb-instance-'));
  afterEach(() => rmSync(join(dir, INSTANCE_ID_FILE), { force: true }));

  it('creates an id on first start and returns the same one later', () => {
    const first = loadOrCreateInstanceId(dir);
    expect(first).toMatch(/^[0-9a-f]{12}$/);
    expect(readFileSync(join(dir, INSTANCE_ID_FILE), 'utf8').trim()).toBe(first);
    expect(loadOrCreateInstanceId(dir)).toBe(first);
  });

  it('replaces a damaged file with a fresh id', () => {
    writeFileSync(join(dir, INSTANCE_ID_FILE), 'garbage\n');
    expect(loadOrCreateInstanceId(dir)).toMatch(/^[0-9a-f]{12}$/);
  });
});
