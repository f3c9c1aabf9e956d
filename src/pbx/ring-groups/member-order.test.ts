import { describe, expect, it } from 'vitest';
import { memberOrder } from './member-order.js';

const members = ['a', 'b', 'c'].map((extensionId) => ({ extensionId }));
const ids = (list: Array<{ extensionId: string }>) => list.map((m) => m.extensionId);

describe('memberOrder', () => {
  it('keeps priority order for simultaneous and sequential, whatever the memory says', () => {
    expect(ids(memberOrder('sequential', members, 'b'))).toEqual(['a', 'b', 'c']);
    expect(ids(memberOrder('simultaneous', members, 'a'))).toEqual(['a', 'b', 'c']);
  });

  it('round robin starts after the member that answered last, wrapping around', () => {
    expect(ids(memberOrder('round_robin', members, 'a'))).toEqual(['b', 'c', 'a']);
    expect(ids(memberOrder('round_robin', members, 'b'))).toEqual(['c', 'a', 'b']);
    expect(ids(memberOrder('round_robin', members, 'c'))).toEqual(['a', 'b', 'c']);
  });

  it('round robin starts at the top without memory, or when the remembered member left', () => {
    expect(ids(memberOrder('round_robin', members, null))).toEqual(['a', 'b', 'c']);
    expect(ids(memberOrder('round_robin', members, 'gone'))).toEqual(['a', 'b', 'c']);
    expect(memberOrder('round_robin', [], 'a')).toEqual([]);
  });
});
