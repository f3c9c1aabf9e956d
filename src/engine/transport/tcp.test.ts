import { afterEach, describe, expect, it } from 'vitest';
import { collectEvents, nextEvent, rawTcpPeer, type RawPeer, sipRequest, sleep, within } from './test-helpers.js';
import { TransportLayer } from './transport-layer.js';
import type { ListenSpec, TransportLimits } from './types.js';

const tcp4: ListenSpec = { protocol: 'tcp', bindAddress: '127.0.0.1', port: 0, advertisedHost: '127.0.0.1', localHost: '127.0.0.1' };
const tcp6: ListenSpec = { protocol: 'tcp', bindAddress: '::1', port: 0, advertisedHost: '::1', localHost: '::1' };

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function startLayer(listen: ListenSpec[], limits: Partial<TransportLimits> = {}): Promise<TransportLayer> {
  const layer = new TransportLayer({ listen, limits });
  cleanup.push(() => layer.stop());
  await layer.start();
  return layer;
}

async function peerOf(layer: TransportLayer, host = '127.0.0.1'): Promise<RawPeer> {
  const listener = layer.listenerFor('tcp', host.includes(':') ? 6 : 4);
  const peer = await rawTcpPeer(host, listener?.local.port ?? 0);
  cleanup.push(() => void peer.socket.destroy());
  return peer;
}

describe('TCP framing (RFC 3261 §18.3)', () => {
  it('reassembles a message split across writes', async () => {
    const layer = await startLayer([tcp4]);
    const peer = await peerOf(layer);
    const req = sipRequest('split body');
    const got = nextEvent(layer, 'message');
    peer.socket.write(req.subarray(0, 10));
    await sleep(20);
    peer.socket.write(req.subarray(10, 60));
    await sleep(20);
    peer.socket.write(req.subarray(60));
    const m = await got;
    expect(m.data.equals(req)).toBe(true);
    expect(m.flow.protocol).toBe('tcp');
    expect(m.flow.connectionId).toMatch(/^tcp-/);
    expect(m.flow.remote).toEqual({ address: '127.0.0.1', port: peer.socket.localPort });
  });

  it('delivers several messages written in one chunk, binary bodies intact', async () => {
    const layer = await startLayer([tcp4]);
    const peer = await peerOf(layer);
    const a = sipRequest('first');
    const b = sipRequest(Buffer.from([0, 0, 13, 10, 13, 10, 0, 255]));
    const c = sipRequest();
    const got = collectEvents(layer, 'message', 3);
    peer.socket.write(Buffer.concat([a, b, c]));
    const ms = await got;
    expect(ms.map((m) => m.data.equals(a) || m.data.equals(b) || m.data.equals(c))).toEqual([true, true, true]);
    expect(ms[1]?.data.equals(b)).toBe(true);
  });

  it('answers a CRLFCRLF keepalive ping with a single CRLF pong (RFC 5626 §4.4.1)', async () => {
    const layer = await startLayer([tcp4]);
    const peer = await peerOf(layer);
    peer.socket.write('\r\n\r\n');
    await peer.waitFor((b) => b.toString() === '\r\n');
    await sleep(30);
    expect(peer.received().toString()).toBe('\r\n');
  });

  it.each([
    ['Content-Length: -1\r\n', 'negative-content-length'],
    ['Content-Length: 4\r\nContent-Length: 5\r\n', 'multiple-content-length'],
  ])('reports "%s" as a framing error, lets a 400 out, then closes', async (cl, error) => {
    const layer = await startLayer([tcp4]);
    const peer = await peerOf(layer);
    const closedId = nextEvent(layer, 'connection-closed');
    // The engine answers 400 from the header bytes synchronously in its handler.
    layer.on('framing-error', (e) => {
      void layer.send(Buffer.from('SIP/2.0 400 Bad Request\r\nContent-Length: 0\r\n\r\n'), {
        protocol: 'tcp',
        ...e.flow.remote,
        ...(e.flow.connectionId ? { connectionId: e.flow.connectionId } : {}),
      });
    });
    const got = nextEvent(layer, 'framing-error');
    const head = `INVITE sip:a@b SIP/2.0\r\nCall-ID: ncl\r\n${cl}\r\n`;
    peer.socket.write(head + 'abcd');
    const e = await got;
    expect(e.error).toBe(error);
    expect(e.data.toString()).toBe(head);
    await within(peer.closed, 3000, 'connection close');
    expect(peer.received().toString()).toMatch(/^SIP\/2.0 400 Bad Request/);
    expect(await closedId).toBe(e.flow.connectionId);
  });

  it('closes a connection whose message does not complete in time (slowloris, RFC 4475 clerr)', async () => {
    const layer = await startLayer([tcp4], { partialMessageTimeoutMs: 150, idleTimeoutMs: 10000 });
    const peer = await peerOf(layer);
    const started = Date.now();
    peer.socket.write('INVITE sip:a@b SIP/2.0\r\nContent-Length: 500\r\n\r\nonly a little');
    // Keep trickling bytes: the partial timer must not be reset by them.
    const trickle = setInterval(() => peer.socket.writable && peer.socket.write('x'), 30);
    cleanup.push(() => clearInterval(trickle));
    await within(peer.closed, 2000, 'slowloris close');
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });

  it('closes an idle connection', async () => {
    const layer = await startLayer([tcp4], { idleTimeoutMs: 150 });
    const peer = await peerOf(layer);
    const closed = nextEvent(layer, 'connection-closed');
    await within(peer.closed, 2000, 'idle close');
    expect(await closed).toMatch(/^tcp-/);
  });

  it('keeps a connection that sends keepalives past the idle timeout', async () => {
    const layer = await startLayer([tcp4], { idleTimeoutMs: 200 });
    const peer = await peerOf(layer);
    for (let i = 0; i < 5; i++) {
      await sleep(80);
      peer.socket.write('\r\n\r\n');
    }
    expect(peer.socket.destroyed).toBe(false);
  });

  it('refuses connections beyond the per-IP cap', async () => {
    const layer = await startLayer([tcp4], { maxConnectionsPerIp: 2 });
    const p1 = await peerOf(layer);
    const p2 = await peerOf(layer);
    await sleep(30);
    const p3 = await peerOf(layer);
    await within(p3.closed, 2000, 'refused connection close');
    expect(p1.socket.destroyed || p2.socket.destroyed).toBe(false);
    // Freed slots can be reused.
    p1.socket.destroy();
    await nextEvent(layer, 'connection-closed');
    const p4 = await peerOf(layer);
    const got = nextEvent(layer, 'message');
    p4.socket.write(sipRequest());
    await got;
  });

  it('refuses connections beyond the total cap', async () => {
    const layer = await startLayer([tcp4], { maxConnections: 1 });
    await peerOf(layer);
    await sleep(30);
    const p2 = await peerOf(layer);
    await within(p2.closed, 2000, 'refused connection close');
  });

  it('works over IPv6', async () => {
    const layer = await startLayer([tcp6]);
    const peer = await peerOf(layer, '::1');
    const got = nextEvent(layer, 'message');
    peer.socket.write(sipRequest('v6'));
    const m = await got;
    expect(m.flow.remote.address).toBe('::1');
    await layer.send(Buffer.from('SIP/2.0 200 OK\r\n\r\n'), { protocol: 'tcp', address: '[::1]', port: m.flow.remote.port });
    await peer.waitFor((b) => b.toString().startsWith('SIP/2.0 200 OK'));
  });
});

describe('TCP connection reuse (RFC 3261 §18.2.2, RFC 5923)', () => {
  it('answers a peer-opened connection on that connection, by id or by address', async () => {
    const layer = await startLayer([tcp4]);
    const peer = await peerOf(layer);
    const got = nextEvent(layer, 'message');
    peer.socket.write(sipRequest());
    const { flow } = await got;
    const byId = await layer.send(Buffer.from('SIP/2.0 100 Trying\r\n\r\n'), {
      protocol: 'tcp',
      address: '127.0.0.1',
      port: 5999, // the Via sent-by port: wrong for this connection, but connectionId wins
      ...(flow.connectionId ? { connectionId: flow.connectionId } : {}),
    });
    expect(byId.connectionId).toBe(flow.connectionId);
    const byAddr = await layer.send(Buffer.from('SIP/2.0 200 OK\r\n\r\n'), { protocol: 'tcp', ...flow.remote });
    expect(byAddr.connectionId).toBe(flow.connectionId);
    await peer.waitFor((b) => b.toString() === 'SIP/2.0 100 Trying\r\n\r\nSIP/2.0 200 OK\r\n\r\n');
  });

  it('opens an outbound connection once, reuses it, and carries the answer back on it', async () => {
    const a = await startLayer([tcp4]);
    const b = await startLayer([tcp4]);
    const bPort = b.listeners()[0]?.local.port ?? 0;
    const atB = collectEvents(b, 'message', 2);
    const [f1, f2] = await Promise.all([
      a.send(sipRequest('one'), { protocol: 'tcp', address: '127.0.0.1', port: bPort }),
      a.send(sipRequest('two'), { protocol: 'tcp', address: '127.0.0.1', port: bPort }),
    ]);
    expect(f1.connectionId).toBeDefined();
    expect(f2.connectionId).toBe(f1.connectionId);
    expect(f1.local).toEqual(a.listeners()[0]?.local);
    const [m1] = await atB;
    // b answers on the connection a opened; a sees it on its own outbound connection.
    const atA = nextEvent(a, 'message');
    await b.send(Buffer.from('SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n'), {
      protocol: 'tcp',
      ...(m1?.flow.remote ?? { address: '', port: 0 }),
    });
    expect((await atA).flow.connectionId).toBe(f1.connectionId);
  });

  it('falls back to a new connection when the named one is gone, and reports closes', async () => {
    const a = await startLayer([tcp4]);
    const b = await startLayer([tcp4]);
    const bPort = b.listeners()[0]?.local.port ?? 0;
    const f1 = await a.send(sipRequest(), { protocol: 'tcp', address: '127.0.0.1', port: bPort });
    const closed = nextEvent(a, 'connection-closed');
    a.closeConnection(f1.connectionId ?? '');
    expect(await closed).toBe(f1.connectionId);
    expect(a.connectionFlow(f1.connectionId ?? '')).toBeUndefined();
    const f2 = await a.send(sipRequest(), { protocol: 'tcp', address: '127.0.0.1', port: bPort, connectionId: f1.connectionId ?? '' });
    expect(f2.connectionId).not.toBe(f1.connectionId);
  });

  it('rejects when the peer refuses the connection', async () => {
    const a = await startLayer([tcp4]);
    const b = await startLayer([tcp4]);
    const port = b.listeners()[0]?.local.port ?? 0;
    await b.stop();
    await expect(a.send(sipRequest(), { protocol: 'tcp', address: '127.0.0.1', port })).rejects.toThrow(/ECONNREFUSED/);
  });

  it('reuses a connection opened to a host name instead of reconnecting', async () => {
    const a = await startLayer([tcp4]);
    const v4 = await startLayer([tcp4]);
    const port = v4.listenerFor('tcp', 4)?.local.port ?? 0;
    // The same port on ::1 too, so "localhost" connects whichever way it resolves.
    await startLayer([{ ...tcp6, port }]);
    const f1 = await a.send(sipRequest(), { protocol: 'tcp', address: 'localhost', port });
    const f2 = await a.send(sipRequest(), { protocol: 'tcp', address: 'LOCALHOST', port });
    expect(f2.connectionId).toBe(f1.connectionId);
  });

  it('rejects unspecified addresses and bad ports instead of connecting to ourselves', async () => {
    const a = await startLayer([tcp4]);
    await expect(a.send(sipRequest(), { protocol: 'tcp', address: '0.0.0.0', port: 5060 })).rejects.toThrow(/invalid tcp destination/);
    await expect(a.send(sipRequest(), { protocol: 'tcp', address: '127.0.0.1', port: 0 })).rejects.toThrow(/invalid tcp destination/);
  });

  it('drops a peer that stops reading once the write backlog passes 1 MiB', async () => {
    const layer = await startLayer([tcp4]);
    const peer = await peerOf(layer);
    const got = nextEvent(layer, 'message');
    peer.socket.write(sipRequest());
    const { flow } = await got;
    peer.socket.pause();
    const chunk = sipRequest('z'.repeat(60000));
    // Sends resolve only once the kernel takes the bytes, so fire them without waiting.
    const sends: Promise<unknown>[] = [];
    let error: unknown;
    for (let i = 0; i < 2000 && !error; i++) {
      sends.push(layer.send(chunk, { protocol: 'tcp', ...flow.remote }).catch((e: unknown) => (error ??= e)));
      if (i % 20 === 0) await sleep(1);
    }
    await Promise.all(sends);
    expect(String(error)).toMatch(/peer not reading|closed/);
    expect(layer.connectionFlow(flow.connectionId ?? '')).toBeUndefined();
  });
});
