import { describe, expect, it } from 'vitest';
import {
  isCallId,
  isIPv6Reference,
  isToken,
  parseParams,
  parsePort,
  quote,
  scanQuoted,
  schemeLength,
  trimWs,
  unquote,
} from './grammar.js';

describe('grammar character classes', () => {
  it('tokens (RFC 3261 §25.1)', () => {
    expect(isToken("!interesting-Method0123456789_*+`.%indeed'~")).toBe(true);
    expect(isToken('')).toBe(false);
    expect(isToken('a b')).toBe(false);
    expect(isToken('a:b')).toBe(false);
    expect(isToken('é')).toBe(false);
  });

  it('Call-ID = word [ "@" word ]', () => {
    expect(isCallId('abc')).toBe(true);
    expect(isCallId("intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{")).toBe(true);
    expect(isCallId('a@b@c')).toBe(false);
    expect(isCallId('a@')).toBe(false);
    expect(isCallId('has space')).toBe(false);
    expect(isCallId('')).toBe(false);
  });

  it('ports and IPv6 references', () => {
    expect(parsePort('5060')).toBe(5060);
    expect(parsePort('0')).toBe(0);
    expect(parsePort('65536')).toBeUndefined();
    expect(parsePort('')).toBeUndefined();
    expect(parsePort('50a')).toBeUndefined();
    expect(parsePort('000005060')).toBeUndefined();
    expect(isIPv6Reference('[2001:db8::1]')).toBe(true);
    expect(isIPv6Reference('[::ffff:192.0.2.1]')).toBe(true);
    expect(isIPv6Reference('[example]')).toBe(false);
    expect(isIPv6Reference('2001:db8::1')).toBe(false);
  });

  it('schemes', () => {
    expect(schemeLength('sip:x')).toBe(3);
    expect(schemeLength('soap.beep://x')).toBe(9);
    expect(schemeLength('1sip:x')).toBe(0);
    expect(schemeLength('sip')).toBe(0);
  });

  it('quoted strings and whitespace', () => {
    expect(scanQuoted('"a\\"b" rest', 0)).toBe(6);
    expect(scanQuoted('"unterminated', 0)).toBeUndefined();
    expect(scanQuoted('"ends in backslash\\"', 0)).toBeUndefined();
    expect(unquote('"a\\"b\\\\c"')).toBe('a"b\\c');
    expect(quote('a"b\\c')).toBe('"a\\"b\\\\c"');
    expect(unquote(quote('x"y'))).toBe('x"y');
    expect(trimWs(' \t a b \t')).toBe('a b');
    expect(trimWs('\u00a0x\u00a0')).toBe('\u00a0x\u00a0');
  });
});

describe('parseParams', () => {
  const parse = (s: string, stopAtComma = false): [number | undefined, Map<string, string | null>] => {
    const m = new Map<string, string | null>();
    return [parseParams(s, 0, m, stopAtComma), m];
  };

  it('reads names, values, quoted values and valueless params with LWS around ; and =', () => {
    const [end, m] = parse(' ;  tag = 1918181833n ;lr; +sip.instance="<urn:uuid:1>";received=[2001:db8::9:255]');
    expect(end).toBeDefined();
    expect([...m]).toEqual([
      ['tag', '1918181833n'],
      ['lr', null],
      ['+sip.instance', '"<urn:uuid:1>"'],
      ['received', '[2001:db8::9:255]'],
    ]);
  });

  it('lowercases names and keeps the first of repeated names', () => {
    const [, m] = parse(';TAG=a;tag=b');
    expect([...m]).toEqual([['tag', 'a']]);
  });

  it('rejects empty params, missing values and junk', () => {
    expect(parse(';;')[0]).toBeUndefined();
    expect(parse(';a=')[0]).toBeUndefined();
    expect(parse(';')[0]).toBeUndefined();
    expect(parse('x')[0]).toBeUndefined();
    expect(parse(';a="unterminated')[0]).toBeUndefined();
    expect(parse(';a=b c')[0]).toBeUndefined();
  });

  it('stops at a comma only when asked', () => {
    expect(parse(';a=b , next', true)[0]).toBe(5);
    expect(parse(';a=b , next', false)[0]).toBeUndefined();
  });
});
