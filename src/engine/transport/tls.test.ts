import tls from 'node:tls';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { collectEvents, nextEvent, selfSignedCert, sipRequest, within } from './test-helpers.js';
import { TransportLayer, type TransportLayerOptions } from './transport-layer.js';
import type { ListenSpec } from './types.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

let material: { key: Buffer; cert: Buffer } = { key: Buffer.alloc(0), cert: Buffer.alloc(0) };

function tlsSpec(): ListenSpec {
  return { protocol: 'tls', bindAddress: '127.0.0.1', port: 0, advertisedHost: '127.0.0.1', localHost: '127.0.0.1', tls: material };
}

async function startLayer(opts: Partial<TransportLayerOptions> = {}): Promise<TransportLayer> {
  const layer = new TransportLayer({ listen: [tlsSpec()], ...opts });
  cleanup.push(() => layer.stop());
  await layer.start();
  return layer;
}

describe('TLS (RFC 3261 §26.3.1)', () => {
  beforeAll(() => {
    material = selfSignedCert();
  });

  it('frames messages from a TLS client and answers on its connection', async () => {
    const layer = await startLayer();
    const port = layer.listeners()[0]?.local.port ?? 0;
    // The public listener description never carries the private key (safe to log).
    expect(layer.listeners()[0]?.spec.tls).toBeUndefined();
    const client = tls.connect({ host: '127.0.0.1', port, ca: material.cert });
    cleanup.push(() => void client.destroy());
    await new Promise<void>((resolve, reject) => {
      client.once('secureConnect', resolve);
      client.once('error', reject);
    });
    const got = collectEvents(layer, 'message', 2);
    const a = sipRequest('one');
    const b = sipRequest('two');
    const both = Buffer.concat([a, b]);
    client.write(both.subarray(0, 50));
    client.write(both.subarray(50));
    const [m1, m2] = await got;
    expect(m1?.data.equals(a) && m2?.data.equals(b)).toBe(true);
    expect(m1?.flow).toMatchObject({ protocol: 'tls', remote: { address: '127.0.0.1', port: client.localPort } });
    expect(m1?.flow.connectionId).toMatch(/^tls-/);

    const reply = new Promise<string>((resolve) => client.once('data', (d: Buffer) => resolve(d.toString())));
    await layer.send(Buffer.from('SIP/2.0 200 OK\r\n\r\n'), { protocol: 'tls', ...(m1?.flow.remote ?? { address: '', port: 0 }) });
    expect(await reply).toBe('SIP/2.0 200 OK\r\n\r\n');
  });

  it('connects out with certificate verification against a trusted CA, and reuses the connection', async () => {
    const a = await startLayer({ tlsClient: { ca: material.cert } });
    const b = await startLayer();
    const bPort = b.listeners()[0]?.local.port ?? 0;
    const atB = nextEvent(b, 'message');
    const f1 = await a.send(sipRequest('hi'), { protocol: 'tls', address: '127.0.0.1', port: bPort });
    const m = await atB;
    expect(m.data.equals(sipRequest('hi'))).toBe(true);
    const atA = nextEvent(a, 'message');
    await b.send(sipRequest('back'), { protocol: 'tls', ...m.flow.remote });
    expect((await atA).flow.connectionId).toBe(f1.connectionId);
  });

  it('refuses an unverifiable server certificate unless told to be insecure', async () => {
    const strict = await startLayer();
    const insecure = await startLayer({ tlsClient: { rejectUnauthorized: false } });
    const b = await startLayer();
    const dest = { protocol: 'tls' as const, address: '127.0.0.1', port: b.listeners()[0]?.local.port ?? 0 };
    await expect(strict.send(sipRequest(), dest)).rejects.toThrow(/self[- ]signed/i);
    await expect(insecure.send(sipRequest(), dest)).resolves.toMatchObject({ protocol: 'tls' });
  });

  it('answers keepalive pings and closes on a framing error', async () => {
    const layer = await startLayer();
    const port = layer.listeners()[0]?.local.port ?? 0;
    const client = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false });
    cleanup.push(() => void client.destroy());
    await new Promise<void>((resolve) => client.once('secureConnect', resolve));
    const pong = new Promise<string>((resolve) => client.once('data', (d: Buffer) => resolve(d.toString())));
    client.write('\r\n\r\n');
    expect(await pong).toBe('\r\n');
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    const err = nextEvent(layer, 'framing-error');
    client.write('INVITE sip:a@b SIP/2.0\r\nContent-Length: -3\r\n\r\n');
    expect((await err).error).toBe('negative-content-length');
    await within(closed, 3000, 'close after framing error');
  });

  it('fails to start a tls listener without key and certificate', async () => {
    const layer = new TransportLayer({ listen: [{ ...tlsSpec(), tls: undefined }] });
    cleanup.push(() => layer.stop());
    await expect(layer.start()).rejects.toThrow(/needs a TLS key and certificate/);
  });
});
