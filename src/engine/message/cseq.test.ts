import { describe, expect, it } from 'vitest';
import { formatCSeq, MAX_CSEQ, parseCSeq } from './cseq.js';

describe('parseCSeq (RFC 3261 §20.16)', () => {
  it('parses number and method, with leading zeros and LWS', () => {
    expect(parseCSeq('0009 INVITE')).toEqual({ seq: 9, method: 'INVITE' });
    expect(parseCSeq('  1 \t  REGISTER ')).toEqual({ seq: 1, method: 'REGISTER' });
    expect(parseCSeq('4294967295 OPTIONS')).toEqual({ seq: MAX_CSEQ, method: 'OPTIONS' });
    expect(parseCSeq('0 ACK')?.seq).toBe(0);
  });

  it('rejects overlarge numbers (RFC 4475 scalar02) and malformed values', () => {
    for (const bad of ['4294967296 INVITE', '36893488147419103232 REGISTER', 'INVITE', '1', '1INVITE', '-1 INVITE', '1 IN VITE', '', 'x 1']) {
      expect(parseCSeq(bad), bad).toBeUndefined();
    }
  });

  it('formats', () => {
    expect(formatCSeq({ seq: 42, method: 'BYE' })).toBe('42 BYE');
  });
});
