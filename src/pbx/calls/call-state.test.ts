import { describe, expect, it } from 'vitest';
import { eventForFinalStatus, hangupCauseOf, isFinalCallState, reduceCallState, type CallEvent, type CallState } from './call-state.js';

const events: Record<CallEvent['type'], CallEvent> = {
  ring: { type: 'ring' },
  answer: { type: 'answer' },
  hangup: { type: 'hangup' },
  fail: { type: 'fail', sipStatus: 404, cause: 'UNALLOCATED_NUMBER' },
  busy: { type: 'busy', sipStatus: 486 },
  noAnswer: { type: 'noAnswer', sipStatus: 480 },
  cancel: { type: 'cancel' },
};

// Written out state by state (not derived from the implementation's table): every cell of
// state × event, `null` where the event must be rejected.
const expected: Record<CallState, Record<CallEvent['type'], CallState | null>> = {
  INITIATED: { ring: 'RINGING', answer: 'ANSWERED', hangup: null, fail: 'FAILED', busy: 'BUSY', noAnswer: 'NO_ANSWER', cancel: 'CANCELLED' },
  RINGING: { ring: 'RINGING', answer: 'ANSWERED', hangup: null, fail: 'FAILED', busy: 'BUSY', noAnswer: 'NO_ANSWER', cancel: 'CANCELLED' },
  ANSWERED: { ring: null, answer: null, hangup: 'COMPLETED', fail: null, busy: null, noAnswer: null, cancel: null },
  COMPLETED: { ring: null, answer: null, hangup: null, fail: null, busy: null, noAnswer: null, cancel: null },
  FAILED: { ring: null, answer: null, hangup: null, fail: null, busy: null, noAnswer: null, cancel: null },
  BUSY: { ring: null, answer: null, hangup: null, fail: null, busy: null, noAnswer: null, cancel: null },
  NO_ANSWER: { ring: null, answer: null, hangup: null, fail: null, busy: null, noAnswer: null, cancel: null },
  CANCELLED: { ring: null, answer: null, hangup: null, fail: null, busy: null, noAnswer: null, cancel: null },
};

describe('reduceCallState', () => {
  const cells = Object.entries(expected).flatMap(([state, row]) =>
    Object.entries(row).map(([event, next]) => ({ state: state as CallState, event: event as CallEvent['type'], next })),
  );

  it.each(cells)('$state + $event → $next', ({ state, event, next }) => {
    const result = reduceCallState(state, events[event]);
    if (next === null) {
      expect(result).toEqual({ ok: false, from: state, event });
    } else {
      expect(result).toEqual({ ok: true, state: next, changed: next !== state });
    }
  });

  it('a second ring (another fork) is accepted but announces no change', () => {
    expect(reduceCallState('RINGING', { type: 'ring' })).toEqual({ ok: true, state: 'RINGING', changed: false });
  });

  it('walks the happy path INITIATED → RINGING → ANSWERED → COMPLETED', () => {
    let state: CallState = 'INITIATED';
    for (const type of ['ring', 'answer', 'hangup'] as const) {
      const t = reduceCallState(state, events[type]);
      if (!t.ok) throw new Error(`rejected ${type}`);
      state = t.state;
    }
    expect(state).toBe('COMPLETED');
    expect(isFinalCallState(state)).toBe(true);
  });

  it('marks exactly the five outcomes as final', () => {
    const finals = (Object.keys(expected) as CallState[]).filter(isFinalCallState);
    expect(finals.sort()).toEqual(['BUSY', 'CANCELLED', 'COMPLETED', 'FAILED', 'NO_ANSWER']);
  });
});

describe('eventForFinalStatus', () => {
  it.each([
    [486, { type: 'busy', sipStatus: 486 }],
    [600, { type: 'busy', sipStatus: 600 }],
    [480, { type: 'noAnswer', sipStatus: 480 }],
    [408, { type: 'noAnswer', sipStatus: 408 }],
    [487, { type: 'cancel' }],
    [404, { type: 'fail', sipStatus: 404, cause: 'UNALLOCATED_NUMBER' }],
    [484, { type: 'fail', sipStatus: 484, cause: 'UNALLOCATED_NUMBER' }],
    [603, { type: 'fail', sipStatus: 603, cause: 'CALL_REJECTED' }],
    [403, { type: 'fail', sipStatus: 403, cause: 'CALL_REJECTED' }],
    [500, { type: 'fail', sipStatus: 500, cause: 'NORMAL_TEMPORARY_FAILURE' }],
    [302, { type: 'fail', sipStatus: 302, cause: 'NORMAL_TEMPORARY_FAILURE' }],
  ])('%i → %o', (status, event) => {
    expect(eventForFinalStatus(status)).toEqual(event);
  });

  it.each([200, 180, 100, 700, 486.5, Number.NaN])('rejects %s, which is no final failure', (status) => {
    expect(() => eventForFinalStatus(status)).toThrow(RangeError);
  });

  it('each mapped status leads from RINGING to the outcome the issue names', () => {
    const outcome = (status: number): CallState | undefined => {
      const t = reduceCallState('RINGING', eventForFinalStatus(status));
      return t.ok ? t.state : undefined;
    };
    expect([486, 600, 480, 408, 404, 487].map(outcome)).toEqual(['BUSY', 'BUSY', 'NO_ANSWER', 'NO_ANSWER', 'FAILED', 'CANCELLED']);
  });
});

describe('hangupCauseOf', () => {
  it.each([
    [{ type: 'hangup' }, 'NORMAL_CLEARING'],
    [{ type: 'busy', sipStatus: 486 }, 'USER_BUSY'],
    [{ type: 'noAnswer', sipStatus: 480 }, 'NO_ANSWER'],
    [{ type: 'noAnswer', sipStatus: 408 }, 'NO_USER_RESPONSE'],
    [{ type: 'cancel' }, 'ORIGINATOR_CANCEL'],
    [{ type: 'fail', sipStatus: 404, cause: 'UNALLOCATED_NUMBER' }, 'UNALLOCATED_NUMBER'],
  ] as Array<[CallEvent, string]>)('%o → %s', (event, cause) => {
    expect(hangupCauseOf(event)).toBe(cause);
  });
});
