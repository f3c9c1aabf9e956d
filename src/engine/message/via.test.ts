import { describe, expect, it } from 'vitest';
import { formatVia, parseVia } from './via.js';

describe('parseVia (RFC 3261 §20.42)', () => {
  it('parses transport, host, port, branch and params', () => {
    expect(parseVia('SIP/2.0/udp 192.0.2.1:5060;branch=z9hG4bK776;rport;received=192.0.2.9')).toEqual([
      {
        transport: 'UDP',
        host: '192.0.2.1',
        port: 5060,
        branch: 'z9hG4bK776',
        params: new Map([
          ['branch', 'z9hG4bK776'],
          ['rport', null],
          ['received', '192.0.2.9'],
        ]),
      },
    ]);
  });

  it('allows LWS around / : ; = and between elements (RFC 4475 wsinv)', () => {
    const vias = parseVia('SIP  / 2.0  / TCP     spindle.example.com   ; branch  =   z9hG4bK9ikj8  , SIP  /    2.0   / UDP  192.168.255.111 : 5062  ; branch= z9hG4bK30239');
    expect(vias?.map((v) => [v.transport, v.host, v.port, v.branch])).toEqual([
      ['TCP', 'spindle.example.com', undefined, 'z9hG4bK9ikj8'],
      ['UDP', '192.168.255.111', 5062, 'z9hG4bK30239'],
    ]);
  });

  it('accepts unknown transports and IPv6 (RFC 4475 transports, RFC 5118 §4.5)', () => {
    expect(parseVia('SIP/2.0/UNKNOWN t4.example.com;branch=z9hG4bKasd0f3en')?.[0]?.transport).toBe('UNKNOWN');
    const v = parseVia('SIP/2.0/UDP [2001:db8::9:1]:5070;received=[2001:db8::9:255];branch=z9hG4bKas3-111')?.[0];
    expect(v).toMatchObject({ host: '[2001:db8::9:1]', port: 5070 });
    expect(v?.params.get('received')).toBe('[2001:db8::9:255]');
    expect(parseVia('SIP/2.0/UDP [2001:db8::9:1];received=2001:db8::9:255')?.[0]?.params.get('received')).toBe(
      '2001:db8::9:255',
    );
  });

  it('accepts a Via without branch (RFC 2543, RFC 4475 inv2543)', () => {
    expect(parseVia('SIP/2.0/UDP iftgw.example.com')?.[0]?.branch).toBeUndefined();
  });

  it('rejects malformed values', () => {
    for (const bad of [
      'SIP/2.0/UDP 192.0.2.15;;,;,,', // badinv01
      'SIP/2.0/UDP host,,SIP/2.0/UDP host2',
      'SIP/2.0/UDP host,',
      'SIP/2.0/UDP',
      'SIP/2.0/UDPhost',
      'SIP/2.0 host',
      'HTTP/1.1/TCP host',
      'SIP/2.0/UDP host:port',
      'SIP/2.0/UDP host:70000',
      'SIP/2.0/UDP host;branch',
      'SIP/2.0/UDP host;branch=',
      'SIP/2.0/UDP host (comment)',
      'SIP/2.0/UDP [::1',
      '',
    ]) {
      expect(parseVia(bad), bad).toBeUndefined();
    }
  });
});

describe('formatVia', () => {
  it('round-trips and lets v.branch override params', () => {
    const v = parseVia('SIP/2.0/TCP host.example.com:5061;branch=z9hG4bKa;rport=5061;received=192.0.2.1')?.[0];
    if (!v) throw new Error('parse failed');
    expect(formatVia(v)).toBe('SIP/2.0/TCP host.example.com:5061;branch=z9hG4bKa;rport=5061;received=192.0.2.1');
    v.branch = 'z9hG4bKb';
    expect(formatVia(v)).toContain(';branch=z9hG4bKb;');
    expect(formatVia({ transport: 'WSS', host: 'x.invalid', params: new Map(), branch: 'z9hG4bKc' })).toBe(
      'SIP/2.0/WSS x.invalid;branch=z9hG4bKc',
    );
  });
});
