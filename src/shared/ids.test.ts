import { afterEach, describe, expect, it, vi } from 'vitest';
import { uuidv7, uuidv7Block } from './ids.js';

const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const msOf = (id: string): number => parseInt(id.slice(0, 8) + id.slice(9, 13), 16);

afterEach(() => vi.restoreAllMocks());

describe('uuidv7', () => {
  it('ids made one after another are well-formed version 7 ids, strictly increasing, stamped with the time they were made', () => {
    const before = Date.now();
    const ids = Array.from({ length: 10_000 }, () => uuidv7());
    const after = Date.now();
    for (const id of ids) expect(id).toMatch(V7);
    for (let i = 1; i < ids.length; i++) expect(ids[i]! > ids[i - 1]!).toBe(true);
    expect(msOf(ids[0]!)).toBeGreaterThanOrEqual(before);
    expect(msOf(ids.at(-1)!)).toBeLessThanOrEqual(after + 2);
  });

  it('more than 4,096 ids in one millisecond, or a clock that steps back, still increase: the next millisecond is borrowed', () => {
    const now = vi.spyOn(Date, 'now').mockReturnValue(4_000_000_000_000);
    const ids = Array.from({ length: 6_000 }, () => uuidv7());
    now.mockReturnValue(3_999_999_999_000);
    ids.push(uuidv7(), ...uuidv7Block(3), uuidv7());
    for (let i = 1; i < ids.length; i++) expect(ids[i]! > ids[i - 1]!).toBe(true);
    expect(msOf(ids[0]!)).toBe(4_000_000_000_000);
    expect(msOf(ids.at(-1)!)).toBeLessThanOrEqual(4_000_000_000_002);
  });
});
