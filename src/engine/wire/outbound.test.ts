import { describe, expect, it } from 'vitest';
import { parseOutboundUri } from './outbound.js';

describe('parseOutboundUri', () => {
  it.each([
    ['127.0.0.1:3001;transport=tcp', { host: '127.0.0.1', port: 3001, transport: 'tcp' }],
    ['app.example:3001;transport=TLS', { host: 'app.example', port: 3001, transport: 'tls' }],
    ['10.0.0.1:3001', { host: '10.0.0.1', port: 3001, transport: 'tcp' }],
    ['sip:10.0.0.1:3001;foo=bar;transport=tcp', { host: '10.0.0.1', port: 3001, transport: 'tcp' }],
    ['[::1]:3001;transport=tcp', { host: '::1', port: 3001, transport: 'tcp' }],
  ])('parses %s', (uri, expected) => {
    expect(parseOutboundUri(uri)).toEqual(expected);
  });

  it.each(['10.0.0.1', '10.0.0.1:0', '10.0.0.1:70000', ':3001', '10.0.0.1:3001;transport=udp', '::1:3001'])(
    'rejects %s',
    (uri) => {
      expect(() => parseOutboundUri(uri)).toThrow(/wire|expected|transport/);
    },
  );
});
