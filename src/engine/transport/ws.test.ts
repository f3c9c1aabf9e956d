import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { nextEvent, selfSignedCert, sipRequest, within } from './test-helpers.js';
import { TransportLayer } from './transport-layer.js';
import type { ListenSpec, TransportLimits } from './types.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

const wsSpec: ListenSpec = { protocol: 'ws', bindAddress: '127.0.0.1', port: 0, advertisedHost: '127.0.0.1', localHost: '127.0.0.1' };

async function startLayer(listen: ListenSpec[], limits: Partial<TransportLimits> = {}): Promise<TransportLayer> {
  const layer = new TransportLayer({ listen, limits });
  cleanup.push(() => layer.stop());
  await layer.start();
  return layer;
}

async function client(url: string, protocols: string[] = ['sip'], opts: WebSocket.ClientOptions = {}): Promise<WebSocket> {
  const ws = new WebSocket(url, protocols, opts);
  cleanup.push(() => ws.terminate());
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return ws;
}

function nextWsMessage(ws: WebSocket): Promise<{ data: Buffer; isBinary: boolean }> {
  return new Promise((resolve) => ws.once('message', (data, isBinary) => resolve({ data: data as Buffer, isBinary })));
}

describe('WebSocket (RFC 7118)', () => {
  it('carries one SIP message per WebSocket message, text or binary, both ways', async () => {
    const layer = await startLayer([wsSpec]);
    const port = layer.listeners()[0]?.local.port ?? 0;
    const ws = await client(`ws://127.0.0.1:${port}`);
    expect(ws.protocol).toBe('sip');

    const got = nextEvent(layer, 'message');
    ws.send(sipRequest('text').toString());
    const m = await got;
    expect(m.data.equals(sipRequest('text'))).toBe(true);
    expect(m.flow).toMatchObject({ protocol: 'ws', remote: { address: '127.0.0.1' } });
    expect(m.flow.connectionId).toMatch(/^ws-/);

    const gotBinary = nextEvent(layer, 'message');
    const binaryBody = sipRequest(Buffer.from([0, 0xff, 0xfe, 0]));
    ws.send(binaryBody);
    expect((await gotBinary).data.equals(binaryBody)).toBe(true);

    // Text goes out as a text frame; a non-UTF-8 body forces a binary frame (RFC 7118 §5.1).
    const reply = nextWsMessage(ws);
    await layer.send(Buffer.from('SIP/2.0 200 OK\r\n\r\n'), { protocol: 'ws', address: '192.0.2.1', port: 9, ...(m.flow.connectionId ? { connectionId: m.flow.connectionId } : {}) });
    expect(await reply).toEqual({ data: Buffer.from('SIP/2.0 200 OK\r\n\r\n'), isBinary: false });
    const replyBinary = nextWsMessage(ws);
    await layer.send(binaryBody, { protocol: 'ws', ...m.flow.remote });
    expect((await replyBinary).isBinary).toBe(true);
  });

  it('refuses a handshake that does not offer the sip subprotocol', async () => {
    const layer = await startLayer([wsSpec]);
    const port = layer.listeners()[0]?.local.port ?? 0;
    await expect(client(`ws://127.0.0.1:${port}`, [])).rejects.toThrow(/400/);
    await expect(client(`ws://127.0.0.1:${port}`, ['chat'])).rejects.toThrow(/400/);
  });

  it('cannot connect out, and fails sends once the browser is gone', async () => {
    const layer = await startLayer([wsSpec]);
    const port = layer.listeners()[0]?.local.port ?? 0;
    await expect(layer.send(sipRequest(), { protocol: 'ws', address: '127.0.0.1', port: 9 })).rejects.toThrow(/cannot connect out/);
    const ws = await client(`ws://127.0.0.1:${port}`);
    const got = nextEvent(layer, 'message');
    ws.send(sipRequest());
    const { flow } = await got;
    const closed = nextEvent(layer, 'connection-closed');
    ws.close();
    expect(await closed).toBe(flow.connectionId);
    await expect(layer.send(sipRequest(), { protocol: 'ws', ...flow.remote, ...(flow.connectionId ? { connectionId: flow.connectionId } : {}) })).rejects.toThrow(
      /cannot connect out/,
    );
  });

  it('closes a connection sending a message over maxMessageBytes and reports it', async () => {
    const layer = await startLayer([wsSpec], { maxMessageBytes: 1000 });
    const ws = await client(`ws://127.0.0.1:${layer.listeners()[0]?.local.port ?? 0}`);
    const err = nextEvent(layer, 'framing-error');
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    ws.send(sipRequest('x'.repeat(2000)));
    expect((await err).error).toBe('message-too-large');
    expect(await within(closed, 2000, 'close')).toBe(1009);
  });

  it('closes an idle connection and refuses beyond the per-IP cap', async () => {
    const layer = await startLayer([wsSpec], { idleTimeoutMs: 150, maxConnectionsPerIp: 1 });
    const url = `ws://127.0.0.1:${layer.listeners()[0]?.local.port ?? 0}`;
    const ws = await client(url);
    await expect(client(url)).rejects.toThrow(/503/);
    const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
    await within(closed, 2000, 'idle close');
  });

  it('answers plain HTTP requests with 426', async () => {
    const layer = await startLayer([wsSpec]);
    const res = await fetch(`http://127.0.0.1:${layer.listeners()[0]?.local.port ?? 0}/`);
    expect(res.status).toBe(426);
  });
});

describe('Secure WebSocket (wss)', () => {
  let material: { key: Buffer; cert: Buffer } = { key: Buffer.alloc(0), cert: Buffer.alloc(0) };
  beforeAll(() => {
    material = selfSignedCert();
  });

  it('round-trips over wss with the sip subprotocol', async () => {
    const layer = await startLayer([{ ...wsSpec, protocol: 'wss', tls: material }]);
    const port = layer.listeners()[0]?.local.port ?? 0;
    const ws = await client(`wss://127.0.0.1:${port}`, ['sip'], { ca: material.cert });
    const got = nextEvent(layer, 'message');
    ws.send(sipRequest('secure'));
    const m = await got;
    expect(m.flow.protocol).toBe('wss');
    expect(m.flow.connectionId).toMatch(/^wss-/);
    const reply = nextWsMessage(ws);
    await layer.send(Buffer.from('SIP/2.0 200 OK\r\n\r\n'), { protocol: 'wss', ...m.flow.remote });
    expect((await reply).data.toString()).toBe('SIP/2.0 200 OK\r\n\r\n');
  });

  it('fails to start wss without key and certificate', async () => {
    const layer = new TransportLayer({ listen: [{ ...wsSpec, protocol: 'wss' }] });
    cleanup.push(() => layer.stop());
    await expect(layer.start()).rejects.toThrow(/needs a TLS key and certificate/);
  });
});
