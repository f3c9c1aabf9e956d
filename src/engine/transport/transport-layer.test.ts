import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../../test/support/fake-clock.js';
import { IdleTimer } from './idle-timer.js';
import { nextEvent, rawTcpPeer, sipRequest, sleep, within } from './test-helpers.js';
import { TransportLayer } from './transport-layer.js';
import type { ListenSpec } from './types.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

function spec(protocol: ListenSpec['protocol'], bindAddress = '127.0.0.1'): ListenSpec {
  return { protocol, bindAddress, port: 0, advertisedHost: bindAddress, localHost: bindAddress };
}

function layerOf(listen: ListenSpec[], extra: Partial<ConstructorParameters<typeof TransportLayer>[0]> = {}): TransportLayer {
  const layer = new TransportLayer({ listen, ...extra });
  cleanup.push(() => layer.stop());
  return layer;
}

describe('TransportLayer', () => {
  it('starts every listener and picks the one to advertise per protocol and family', async () => {
    const layer = layerOf([spec('udp'), spec('tcp'), spec('udp', '::1'), spec('ws')]);
    const started = await layer.start();
    expect(started.map((l) => l.spec.protocol)).toEqual(['udp', 'tcp', 'udp', 'ws']);
    expect(started.every((l) => l.local.port > 0)).toBe(true);
    expect(layer.listeners()).toEqual(started);
    expect(layer.listenerFor('udp', 4)?.local.address).toBe('127.0.0.1');
    expect(layer.listenerFor('udp', 6)?.local.address).toBe('::1');
    expect(layer.listenerFor('tcp', 6)).toBeUndefined();
    expect(layer.listenerFor('tls', 4)).toBeUndefined();
    const tcp = layer.listenerFor('tcp', 4);
    expect(tcp && layer.listenerForFlow({ protocol: 'tcp', local: tcp.local, remote: { address: '127.0.0.1', port: 1 } })).toBe(tcp);
  });

  it('reports reliability per RFC 3261 §17: only UDP retransmits', () => {
    const layer = layerOf([]);
    expect(['udp', 'tcp', 'tls', 'ws', 'wss'].map((p) => layer.isReliable(p as ListenSpec['protocol']))).toEqual([false, true, true, true, true]);
  });

  it('closes what it bound when a later listener fails to bind', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    cleanup.push(() => new Promise<void>((r) => blocker.close(() => r())));
    const busyPort = (blocker.address() as net.AddressInfo).port;
    const udp = spec('udp');
    const layer = layerOf([udp, { ...spec('tcp'), port: busyPort }]);
    await expect(layer.start()).rejects.toThrow(/EADDRINUSE/);
    expect(layer.listeners()).toEqual([]);
    await expect(layer.start()).rejects.toThrow(/cannot start/);
  });

  it('stops everything: connections closed, sends refused', async () => {
    const layer = layerOf([spec('tcp')]);
    await layer.start();
    const peer = await rawTcpPeer('127.0.0.1', layer.listenerFor('tcp', 4)?.local.port ?? 0);
    cleanup.push(() => void peer.socket.destroy());
    const got = nextEvent(layer, 'message');
    peer.socket.write(sipRequest());
    const { flow } = await got;
    const closed = nextEvent(layer, 'connection-closed');
    await layer.stop();
    expect(await closed).toBe(flow.connectionId);
    await within(peer.closed, 2000, 'peer close on stop');
    await expect(layer.send(sipRequest(), { protocol: 'tcp', ...flow.remote })).rejects.toThrow(/stopped/);
    await layer.stop();
  });

  it('survives a throwing event listener and logs it', async () => {
    const warnings: string[] = [];
    const layer = layerOf([spec('tcp')], { log: { warn: (_o, msg) => void warnings.push(msg) } });
    await layer.start();
    let calls = 0;
    const second = new Promise<void>((resolve) => {
      layer.on('message', () => {
        calls += 1;
        if (calls === 1) throw new Error('handler bug');
        resolve();
      });
    });
    const peer = await rawTcpPeer('127.0.0.1', layer.listenerFor('tcp', 4)?.local.port ?? 0);
    cleanup.push(() => void peer.socket.destroy());
    // Both messages in one chunk: the throw on the first must not lose the second.
    peer.socket.write(Buffer.concat([sipRequest(), sipRequest()]));
    await second;
    expect(warnings).toEqual(['transport event listener threw']);
  });

  it('closes an idle connection on the injected clock, and clears its timers', async () => {
    const clock = new FakeClock();
    const layer = layerOf([spec('tcp')], { clock, limits: { idleTimeoutMs: 30000, partialMessageTimeoutMs: 30000 } });
    await layer.start();
    const peer = await rawTcpPeer('127.0.0.1', layer.listenerFor('tcp', 4)?.local.port ?? 0);
    cleanup.push(() => void peer.socket.destroy());
    const got = nextEvent(layer, 'message');
    peer.socket.write(sipRequest());
    await got;
    clock.advance(20000);
    peer.socket.write('\r\n\r\n');
    await peer.waitFor((b) => b.toString() === '\r\n');
    clock.advance(20000); // 40 s since accept, 20 s since the ping: still open
    await sleep(20);
    expect(peer.socket.destroyed).toBe(false);
    clock.advance(10001);
    await within(peer.closed, 2000, 'idle close');
    expect(clock.pendingCount()).toBe(0);
  });

  it('closes a partial message after partialMessageTimeoutMs on the injected clock (RFC 4475 clerr)', async () => {
    const clock = new FakeClock();
    const layer = layerOf([spec('tcp')], { clock });
    await layer.start();
    const peer = await rawTcpPeer('127.0.0.1', layer.listenerFor('tcp', 4)?.local.port ?? 0);
    cleanup.push(() => void peer.socket.destroy());
    peer.socket.write('INVITE sip:a@b SIP/2.0\r\nContent-Length: 100\r\n\r\nshort');
    await sleep(30);
    clock.advance(29999);
    await sleep(20);
    expect(peer.socket.destroyed).toBe(false);
    clock.advance(1);
    await within(peer.closed, 2000, 'partial-message close');
  });
});

describe('IdleTimer', () => {
  it('fires only after a full quiet period, re-arming lazily', () => {
    const clock = new FakeClock();
    let fired = 0;
    const t = new IdleTimer(clock, 1000, () => fired++);
    clock.advance(600);
    t.touch();
    clock.advance(600);
    expect(fired).toBe(0);
    expect(clock.pendingCount()).toBe(1);
    clock.advance(400);
    expect(fired).toBe(1);
    t.stop();
    expect(clock.pendingCount()).toBe(0);
  });
});
