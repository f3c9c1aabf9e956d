import { describe, expect, it } from 'vitest';
import type { Via } from '../message/types.js';
import { responseDestination } from './response-routing.js';
import type { Flow } from './types.js';

function via(host: string, port: number | undefined, params: Record<string, string | null> = {}, transport = 'UDP'): Via {
  const v: Via = { transport, host, params: new Map(Object.entries(params)) };
  if (port !== undefined) v.port = port;
  return v;
}

const udpFlow: Flow = { protocol: 'udp', local: { address: '127.0.0.1', port: 5060 }, remote: { address: '198.51.100.7', port: 40001 } };
const tcpFlow: Flow = {
  protocol: 'tcp',
  local: { address: '127.0.0.1', port: 5060 },
  remote: { address: '198.51.100.7', port: 40001 },
  connectionId: 'tcp-9',
};

describe('responseDestination over UDP (RFC 3261 §18.2.2, RFC 3581 §4)', () => {
  it('uses sent-by host and port when there is no received/rport', () => {
    expect(responseDestination(via('192.0.2.1', 5070), udpFlow)).toEqual({ protocol: 'udp', address: '192.0.2.1', port: 5070 });
  });

  it('defaults the port to 5060', () => {
    expect(responseDestination(via('192.0.2.1', undefined), udpFlow)).toEqual({ protocol: 'udp', address: '192.0.2.1', port: 5060 });
  });

  it('prefers received, keeping the sent-by port', () => {
    const v = via('192.0.2.1', 5070, { received: '198.51.100.7' });
    expect(responseDestination(v, udpFlow)).toEqual({ protocol: 'udp', address: '198.51.100.7', port: 5070 });
  });

  it('uses received and the rport value when rport has one', () => {
    const v = via('192.0.2.1', 5070, { received: '198.51.100.8', rport: '40002' });
    expect(responseDestination(v, udpFlow)).toEqual({ protocol: 'udp', address: '198.51.100.8', port: 40002 });
  });

  it('uses the source address and port for a valueless rport', () => {
    expect(responseDestination(via('192.0.2.1', 5070, { rport: null }), udpFlow)).toEqual({
      protocol: 'udp',
      address: '198.51.100.7',
      port: 40001,
    });
  });

  it('strips IPv6 brackets from sent-by and received', () => {
    expect(responseDestination(via('[2001:db8::1]', 5060), udpFlow).address).toBe('2001:db8::1');
    expect(responseDestination(via('[2001:db8::1]', 5060, { received: '[2001:db8::2]' }), udpFlow).address).toBe('2001:db8::2');
  });

  it('ignores maddr (multicast responses are not supported)', () => {
    const v = via('192.0.2.1', 5070, { maddr: '224.0.1.75', ttl: '1' });
    expect(responseDestination(v, udpFlow)).toEqual({ protocol: 'udp', address: '192.0.2.1', port: 5070 });
  });
});

describe('responseDestination over reliable transports', () => {
  it('names the request connection, with received + sent-by port as the fallback', () => {
    const v = via('192.0.2.1', 5070, { received: '198.51.100.7', rport: '40001' }, 'TCP');
    expect(responseDestination(v, tcpFlow)).toEqual({ protocol: 'tcp', address: '198.51.100.7', port: 5070, connectionId: 'tcp-9' });
  });

  it('falls back to sent-by and the default port of the transport', () => {
    expect(responseDestination(via('192.0.2.1', undefined, {}, 'TLS'), { ...tcpFlow, protocol: 'tls' })).toEqual({
      protocol: 'tls',
      address: '192.0.2.1',
      port: 5061,
      connectionId: 'tcp-9',
    });
  });

  it('keeps the ws connection id (browsers use a made-up .invalid sent-by, RFC 7118 §5.2)', () => {
    const wsFlow: Flow = { ...tcpFlow, protocol: 'ws', connectionId: 'ws-3' };
    expect(responseDestination(via('df7jal23ls0d.invalid', undefined, {}, 'WS'), wsFlow)).toMatchObject({
      protocol: 'ws',
      connectionId: 'ws-3',
    });
  });
});
