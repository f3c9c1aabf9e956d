import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { nextEvent, sipRequest, sleep } from './test-helpers.js';
import { TransportLayer } from './transport-layer.js';
import type { ListenSpec } from './types.js';

const udp4: ListenSpec = { protocol: 'udp', bindAddress: '127.0.0.1', port: 0, advertisedHost: '127.0.0.1', localHost: '127.0.0.1' };
const udp6: ListenSpec = { protocol: 'udp', bindAddress: '::1', port: 0, advertisedHost: '::1', localHost: '::1' };

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function startLayer(listen: ListenSpec[], limits = {}): Promise<TransportLayer> {
  const layer = new TransportLayer({ listen, limits });
  cleanup.push(() => layer.stop());
  await layer.start();
  return layer;
}

async function udpPeer(type: 'udp4' | 'udp6', host: string): Promise<dgram.Socket> {
  const s = dgram.createSocket(type);
  cleanup.push(() => new Promise<void>((r) => s.close(() => r())));
  await new Promise<void>((r) => s.bind(0, host, () => r()));
  return s;
}

function nextDatagram(s: dgram.Socket): Promise<Buffer> {
  return new Promise((resolve) => s.once('message', (m) => resolve(m)));
}

describe.each([
  ['IPv4', udp4, 'udp4' as const, '127.0.0.1'],
  ['IPv6', udp6, 'udp6' as const, '::1'],
])('UDP round trip over %s', (_name, spec, type, host) => {
  it('delivers a datagram as one message and sends back to its source', async () => {
    const layer = await startLayer([spec]);
    const listener = layer.listeners()[0];
    expect(listener?.local.port).toBeGreaterThan(0);
    const peer = await udpPeer(type, host);
    const got = nextEvent(layer, 'message');
    const req = sipRequest('body');
    peer.send(req, listener?.local.port ?? 0, host);
    const m = await got;
    expect(m.data.equals(req)).toBe(true);
    expect(m.flow).toMatchObject({ protocol: 'udp', remote: { address: host, port: peer.address().port } });
    expect(m.flow.connectionId).toBeUndefined();

    const reply = nextDatagram(peer);
    const flow = await layer.send(Buffer.from('SIP/2.0 200 OK\r\n\r\n'), { protocol: 'udp', ...m.flow.remote });
    expect((await reply).toString()).toBe('SIP/2.0 200 OK\r\n\r\n');
    expect(flow.local).toEqual(listener?.local);
  });
});

describe('UDP limits and safety', () => {
  it('accepts a datagram of 64 KiB and more with the default limits (RFC 4475 longreq)', async () => {
    const layer = await startLayer([udp4]);
    const peer = await udpPeer('udp4', '127.0.0.1');
    const big = sipRequest(Buffer.alloc(65000 - 200, 0x61));
    expect(big.length).toBeGreaterThan(64000);
    const got = nextEvent(layer, 'message');
    peer.send(big, layer.listeners()[0]?.local.port ?? 0, '127.0.0.1');
    expect((await got).data.length).toBe(big.length);
  });

  it('reports a datagram over maxMessageBytes as a framing error with its bytes', async () => {
    const layer = await startLayer([udp4], { maxMessageBytes: 500 });
    const peer = await udpPeer('udp4', '127.0.0.1');
    const got = nextEvent(layer, 'framing-error');
    const big = sipRequest('x'.repeat(600));
    peer.send(big, layer.listeners()[0]?.local.port ?? 0, '127.0.0.1');
    const e = await got;
    expect(e.error).toBe('message-too-large');
    expect(e.data.equals(big)).toBe(true);
  });

  it('drops whitespace-only keepalive datagrams silently', async () => {
    const layer = await startLayer([udp4]);
    const peer = await udpPeer('udp4', '127.0.0.1');
    const seen: unknown[] = [];
    layer.on('message', (m) => seen.push(m));
    const port = layer.listeners()[0]?.local.port ?? 0;
    peer.send(Buffer.from('\r\n\r\n'), port, '127.0.0.1');
    const got = nextEvent(layer, 'message');
    peer.send(sipRequest(), port, '127.0.0.1');
    await got;
    await sleep(20);
    expect(seen).toHaveLength(1);
  });

  it('refuses to send to a broadcast or unspecified address (RFC 4475 bcast)', async () => {
    const layer = await startLayer([udp4]);
    const data = Buffer.from('SIP/2.0 200 OK\r\n\r\n');
    await expect(layer.send(data, { protocol: 'udp', address: '255.255.255.255', port: 5060 })).rejects.toThrow(/broadcast/);
    await expect(layer.send(data, { protocol: 'udp', address: '0.0.0.0', port: 5060 })).rejects.toThrow(/invalid/);
    await expect(layer.send(data, { protocol: 'udp', address: '127.0.0.1', port: 0 })).rejects.toThrow(/invalid/);
  });

  it('rejects a destination family that has no listener', async () => {
    const layer = await startLayer([udp4]);
    await expect(layer.send(Buffer.from('x'), { protocol: 'udp', address: '::1', port: 5060 })).rejects.toThrow(/no udp transport/);
  });
});
