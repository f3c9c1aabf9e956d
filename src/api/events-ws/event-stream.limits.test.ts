import { afterEach, describe, expect, it } from 'vitest';
import { connect, produce, startStreamServer } from './stream-test-helpers.js';

let t: Awaited<ReturnType<typeof startStreamServer>> | undefined;
afterEach(async () => t?.close());

describe('/ws slow consumers and heartbeats', () => {
  it('cuts off a client that stops reading (1008), its send buffer bounded by the limit, while others keep up', async () => {
    const limit = 64 * 1024;
    const pageSize = 50;
    t = await startStreamServer({ maxBufferedBytes: limit, pageSize });
    const slow = connect(t.url(`?api_key=${t.key}`));
    const fast = connect(t.url(`?api_key=${t.key}`));
    await Promise.all([slow.opened, fast.opened]);
    await slow.subscribed();
    await fast.subscribed();
    // Stop reading: the kernel buffers fill, then Node's, then ours hits the limit.
    (slow.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    let produced = 0;
    for (let round = 0; round < 40 && t.stream.stats.slowCutoffs === 0; round++) {
      produced += (await produce(t.store, t.stream, t.tenantId, 1000, `r${round}-`)).length;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(t.stream.stats.slowCutoffs).toBe(1);
    // A page's frames (~300 bytes each) are written corked, past the check; nothing more.
    expect(t.stream.stats.maxBufferedAtCutoff).toBeLessThanOrEqual(limit + pageSize * 300);
    expect(t.stream.clientCount).toBe(1);
    await fast.until(() => fast.events().length === produced, 10_000);
    (slow.ws as unknown as { _socket: { resume(): void } })._socket.resume();
    const { code } = await slow.closed;
    expect([1008, 1006]).toContain(code);
    fast.ws.close();
  }, 30_000);

  it('terminates a peer that stops answering pings', async () => {
    // Long enough that a busy test machine's event-loop stall does not look like a dead peer.
    t = await startStreamServer({ heartbeatMs: 200 });
    const dead = connect(t.url(`?api_key=${t.key}`), { autoPong: false });
    const alive = connect(t.url(`?api_key=${t.key}`));
    await Promise.all([dead.opened, alive.opened]);
    const { code } = await dead.closed;
    expect(code).toBe(1006);
    expect(t.stream.stats.heartbeatTerminations).toBe(1);
    await new Promise((r) => setTimeout(r, 450));
    expect(t.stream.clientCount).toBe(1);
    alive.ws.close();
  });
});
