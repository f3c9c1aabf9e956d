import { describe, expect, it } from 'vitest';
import { parseAction } from './http-handler.js';
import { outboundUriOf } from './request-routing.js';

describe('request handler actions (drachtio-protocol §6)', () => {
  it('reads reject, redirect, route and proxy', () => {
    expect(parseAction({ action: 'reject', data: { status: 486, reason: 'Busy' } })).toEqual({ action: 'reject', status: 486, reason: 'Busy' });
    expect(parseAction({ action: 'redirect', data: { contact: 'sip:a@192.0.2.1' } })).toEqual({ action: 'redirect', contacts: ['sip:a@192.0.2.1'] });
    expect(parseAction({ action: 'route', data: { uri: '127.0.0.1:3001;transport=tcp' } })).toEqual({ action: 'route', uri: '127.0.0.1:3001;transport=tcp' });
    expect(parseAction({ action: 'route', data: { tag: 'blue' } })).toEqual({ action: 'route', tag: 'blue' });
    expect(parseAction({ action: 'proxy', data: { destination: ['192.0.2.1:5060', 'sip:b@192.0.2.2'], recordRoute: true, simultaneous: true, provisionalTimeout: '2s' } })).toEqual({
      action: 'proxy',
      destinations: ['sip:192.0.2.1:5060', 'sip:b@192.0.2.2'],
      recordRoute: true,
      followRedirects: false,
      simultaneous: true,
      provisionalTimeoutMs: 2000,
    });
  });

  it('refuses what cannot be acted on', () => {
    for (const bad of [null, [], { action: 'teleport' }, { action: 'reject', data: { status: 200 } }, { action: 'redirect', data: {} }, { action: 'proxy', data: { destination: [] } }, { action: 'route', data: {} }]) {
      expect(() => parseAction(bad)).toThrow();
    }
  });

  it('turns tcp:// and tls:// handler URLs into outbound route URIs', () => {
    expect(outboundUriOf('tcp://127.0.0.1:3001')).toBe('127.0.0.1:3001;transport=tcp');
    expect(outboundUriOf('TLS://app.example:3002/')).toBe('app.example:3002;transport=tls');
    expect(outboundUriOf('http://127.0.0.1:3000/route')).toBeUndefined();
  });
});
