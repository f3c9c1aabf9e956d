import { afterEach, describe, expect, it } from 'vitest';
import { commit, connect, produce, startStreamServer } from './stream-test-helpers.js';
import { textFrame } from './stream-client.js';
import { fanOutWindowMs } from './outbox-tail.js';

let t: Awaited<ReturnType<typeof startStreamServer>> | undefined;
afterEach(async () => t?.close());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const seqs = (c: ReturnType<typeof connect>) => c.events().map((f) => f.sequence);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('/ws outbox reads', () => {
  it('reads nothing while no client is connected, however many commits wake it', async () => {
    t = await startStreamServer({ pollMs: 20 });
    const before = t.outboxReads();
    for (let i = 0; i < 20; i++) await produce(t.store, t.stream, t.tenantId, 5);
    await sleep(100); // several polls and any coalescing window
    expect(t.outboxReads()).toBe(before);
    expect(t.stream.stats.tailReads).toBe(0);
  });

  it('a client joining after idle commits is welcomed at the outbox head (one refresh) and gets only what follows', async () => {
    t = await startStreamServer();
    const old = await produce(t.store, t.stream, t.tenantId, 30, 'old');
    const c = connect(t.url(`?api_key=${t.key}`));
    await c.subscribed();
    expect(c.frames[0]).toMatchObject({ type: 'welcome', sequence: old.at(-1) });
    expect(t.stream.stats.headRefreshes).toBe(1);
    const fresh = await produce(t.store, t.stream, t.tenantId, 5, 'new');
    await c.until(() => c.events().length === 5);
    await sleep(30);
    expect(seqs(c)).toEqual(fresh);
    c.ws.close();
  });

  it('wake-ups within the coalescing window share one read', async () => {
    t = await startStreamServer({ coalesceMs: 250 });
    const c = connect(t.url(`?api_key=${t.key}`));
    await c.subscribed();
    const before = t.stream.stats.tailReads;
    const written: number[] = [];
    for (let i = 0; i < 10; i++) {
      written.push(...(await commit(t.store, t.tenantId, 2, `b${i}-`)));
      t.stream.wake();
    }
    await c.until(() => c.events().length === 20);
    expect(seqs(c)).toEqual(written);
    // Ten commits, ten wake-ups: one read (two if the commits outlasted the window on a slow machine).
    expect(t.stream.stats.tailReads - before).toBeLessThanOrEqual(2);
  });

  it('the first commit after a quiet spell is read at once, whatever the coalescing window; the next ones wait out the window together', async () => {
    t = await startStreamServer({ coalesceMs: 60_000 });
    const c = connect(t.url(`?api_key=${t.key}`));
    await c.subscribed();
    const first = await produce(t.store, t.stream, t.tenantId, 2, 'q');
    // Without the leading read this would wait a minute.
    await c.until(() => c.events().length === 2);
    expect(seqs(c)).toEqual(first);
    const reads = t.stream.stats.tailReads;
    await produce(t.store, t.stream, t.tenantId, 2, 'r');
    await sleep(50);
    expect(t.stream.stats.tailReads).toBe(reads);
    expect(c.events()).toHaveLength(2);
    c.ws.close();
  });

  it('the window grows with the live clients: 5 ms up to 25 clients, 0.2 ms each beyond, at most 25 ms', () => {
    expect([0, 1, 25, 50, 100, 125, 1000].map(fanOutWindowMs)).toEqual([5, 5, 5, 10, 20, 25, 25]);
  });

  it('with 100 clients, commits every few ms are read about once per 20 ms, and every client still gets every event in order', async () => {
    t = await startStreamServer();
    const cs = Array.from({ length: 100 }, () => connect(t!.url(`?api_key=${t!.key}`)));
    for (const c of cs) await c.subscribed();
    const before = t.stream.stats.tailReads;
    const written: number[] = [];
    const started = performance.now();
    for (let i = 0; i < 60; i++) {
      written.push(...(await produce(t.store, t.stream, t.tenantId, 1, `p${i}-`)));
      await sleep(2);
    }
    const elapsed = performance.now() - started;
    for (const c of cs) await c.until(() => c.events().length === written.length, 5000);
    // A fixed 5 ms window would read about four times as often. The leading read after the quiet
    // spell and the last window's read are the two beyond elapsed / 20 ms.
    expect(t.stream.stats.tailReads - before).toBeLessThanOrEqual(Math.ceil(elapsed / 20) + 2);
    for (const c of cs) expect(seqs(c)).toEqual(written);
    for (const c of cs) c.ws.close();
  });

  it('resume with since just after a commit the tail has not read yet: no event the client had is sent again', async () => {
    t = await startStreamServer();
    const watcher = connect(t.url(`?api_key=${t.key}`));
    await watcher.subscribed();
    // Committed but not announced yet: the tail reader's head stays behind the outbox while the second client subscribes.
    const s = await commit(t.store, t.tenantId, 3);
    const c = connect(t.url(`?api_key=${t.key}&since=${s[0]}`));
    await c.subscribed();
    t.stream.wake();
    await c.until(() => c.events().length === 2);
    await watcher.until(() => watcher.events().length === 3);
    await sleep(50);
    expect(seqs(c)).toEqual([s[1], s[2]]);
    expect(seqs(watcher)).toEqual(s);
    for (const x of [c, watcher]) x.ws.close();
  });
});

describe('/ws resume across idle -> live', () => {
  it('replays what was committed while nobody listened, then live events: no loss, no duplicates', async () => {
    t = await startStreamServer({ pageSize: 50 });
    const first = connect(t.url(`?api_key=${t.key}`));
    await first.subscribed();
    const a = await produce(t.store, t.stream, t.tenantId, 10, 'a');
    await first.until(() => first.events().length === 10);
    first.ws.close();
    await first.closed;
    await first.until(() => t!.stream.clientCount === 0);
    const reads = t.stream.stats.tailReads;
    const gap = await produce(t.store, t.stream, t.tenantId, 120, 'g'); // idle: several pages, none read
    await sleep(30);
    expect(t.stream.stats.tailReads).toBe(reads);
    const second = connect(t.url(`?api_key=${t.key}&since=${a.at(-1)}`));
    // Commits racing the head refresh and the replay.
    const live: number[] = [];
    const writer = (async () => {
      for (let i = 0; i < 20; i++) {
        live.push(...(await produce(t.store, t.stream, t.tenantId, 3, `l${i}-`)));
        await sleep(2);
      }
    })();
    await second.opened;
    await writer;
    await second.until(() => second.events().length === gap.length + live.length, 5000);
    await sleep(50);
    expect(seqs(first)).toEqual(a);
    expect(seqs(second)).toEqual([...gap, ...live]);
    second.ws.close();
  });

  it('clients joining together while commits race the head refresh each get a gapless run from their welcome', async () => {
    t = await startStreamServer();
    await produce(t.store, t.stream, t.tenantId, 10, 'old');
    const all: number[] = [];
    const writer = (async () => {
      for (let i = 0; i < 30; i++) {
        all.push(...(await produce(t.store, t.stream, t.tenantId, 2, `w${i}-`)));
        await sleep(1);
      }
    })();
    const cs = Array.from({ length: 5 }, () => connect(t!.url(`?api_key=${t!.key}`)));
    await writer;
    const last = all.at(-1)!;
    for (const c of cs) {
      await c.until(() => c.events().at(-1)?.sequence === last);
      const welcome = c.frames[0]!;
      expect(welcome.type).toBe('welcome');
      expect(seqs(c)).toEqual(range(welcome.sequence! + 1, last));
      c.ws.close();
    }
  });
});

describe('/ws views in one page', () => {
  it('native, CRM, filtered and other-tenant clients on one page each get their own frames', async () => {
    t = await startStreamServer();
    const native = [connect(t.url(`?api_key=${t.key}`)), connect(t.url(`?api_key=${t.key}`))];
    const crm = connect(t.url(`?api_key=${t.key}&names=crm`));
    const narrow = connect(t.url(`?api_key=${t.key}&events=registration.*`));
    const other = connect(t.url(`?api_key=${t.otherKey}`));
    const all = [...native, crm, narrow, other];
    for (const c of all) await c.subscribed();
    const mine = await commit(t.store, t.tenantId, 4, 'm');
    const theirs = await commit(t.store, t.otherTenantId, 2, 'o');
    t.stream.wake();
    for (const c of native) await c.until(() => c.events().length === 4);
    await other.until(() => other.events().length === 2);
    await crm.until(() => crm.frames.filter((f) => f.event === 'call.ring').length === 4);
    await sleep(50);
    for (const c of native) expect(seqs(c)).toEqual(mine);
    expect(native[0]!.events().map((f) => (f.event as { id: string }).id)).toEqual(native[1]!.events().map((f) => (f.event as { id: string }).id));
    expect(seqs(other)).toEqual(theirs);
    expect(crm.frames.filter((f) => f.event === 'call.ring').map((f) => f.sequence)).toEqual(mine);
    expect(narrow.events()).toHaveLength(0);
    for (const c of all) c.ws.close();
  });
});

describe('wire frames', () => {
  it('frames text with 7-, 16- and 64-bit lengths, unmasked', () => {
    for (const [len, head] of [[125, 2], [126, 4], [65535, 4], [65536, 10]] as const) {
      const f = textFrame('é'.repeat(len / 2) + 'x'.repeat(len % 2));
      expect(f.wire[0]).toBe(0x81);
      expect(f.payload.length).toBe(len);
      expect(f.wire.length).toBe(head + len);
      const decoded = head === 2 ? f.wire[1] : head === 4 ? f.wire.readUInt16BE(2) : Number(f.wire.readBigUInt64BE(2));
      expect(head === 2 ? decoded : f.wire[1]).toBe(head === 2 ? len : head === 4 ? 126 : 127);
      if (head > 2) expect(decoded).toBe(len);
      expect(f.payload.toString()).toBe('é'.repeat(len / 2) + 'x'.repeat(len % 2));
    }
  });
});
