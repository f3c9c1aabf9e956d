import { EventEmitter } from 'node:events';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { Binding } from '../registrar/location.js';
import { FakeClock } from '../../../test/support/fake-clock.js';
import { tieDialogs } from './bridge.js';
import type { Bridge, BridgeDeps, TieInput } from './bridge-types.js';
import { DialogRegistry } from './dialog-registry.js';
import type { CallControl, CallLegs, CallPartyInfo } from './ports.js';

const sdp = (dir: string, who: string): string => `v=0\r\no=- 1 1 IN IP4 ${who}\r\ns=-\r\nc=IN IP4 ${who}\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\na=${dir}\r\n`;

/** A srf Dialog as the bridge uses it: events in, re-INVITEs/requests/BYEs out, recorded. */
class FakeDialog extends EventEmitter {
  readonly modified: string[] = [];
  readonly requests: unknown[] = [];
  destroyed = false;
  /** Set to hold the next re-INVITE's answer until the test resolves it, or to make it fail. */
  nextModify?: Promise<string>;
  local: { sdp: string; contact: string };
  remote: { sdp: string };
  sip: { callId: string; localTag: string; remoteTag: string };

  constructor(callId: string, localTag: string, remoteTag: string, who: string) {
    super();
    this.sip = { callId, localTag, remoteTag };
    this.local = { sdp: sdp('sendrecv', '127.0.0.1'), contact: '<sip:pbx@127.0.0.1>' };
    this.remote = { sdp: sdp('sendrecv', who) };
  }

  modify(offer: string): Promise<string> {
    this.modified.push(offer);
    this.local.sdp = offer;
    const answer = this.nextModify ?? Promise.resolve(sdp('sendrecv', this.remote.sdp.includes('10.0.0.1') ? '10.0.0.1' : '10.0.0.2'));
    this.nextModify = undefined;
    return answer;
  }

  request(opts: unknown): Promise<unknown> {
    this.requests.push(opts);
    return Promise.resolve({ status: 200 });
  }

  destroy(): void {
    this.destroyed = true;
    this.removeAllListeners();
  }
}

class FakeRes {
  status?: number;
  body?: string;
  get finalResponseSent(): boolean {
    return this.status !== undefined;
  }
  send(status: number, a?: unknown, b?: unknown): void {
    this.status = status;
    const opts = (typeof a === 'object' ? a : b) as { body?: string } | undefined;
    this.body = opts?.body;
  }
}

const fakeReq = (body: string, headers: Record<string, string> = {}) => ({
  body,
  has: (h: string) => h in headers,
  get: (h: string) => headers[h],
});

const flush = async (): Promise<void> => {
  for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
};

const alice: CallPartyInfo = { number: '1001', name: 'Alice', extensionId: 'ext-a' };
const bob: CallPartyInfo = { number: '1002', name: 'Bob', extensionId: 'ext-b' };

interface Extra {
  srf?: unknown;
  router?: BridgeDeps['router'];
  location?: unknown;
}

function setup(extra: Extra = {}) {
  const log: string[] = [];
  const media = {
    ops: [] as Array<Record<string, unknown>>,
    offer(req: Record<string, unknown>) {
      media.ops.push({ op: 'offer', ...req });
      return Promise.resolve({ sdp: `anchored-offer:${String(req.sdp)}` });
    },
    answer(req: Record<string, unknown>) {
      media.ops.push({ op: 'answer', ...req });
      return Promise.resolve({ sdp: `anchored-answer:${String(req.sdp)}` });
    },
    delete(req: Record<string, unknown>) {
      media.ops.push({ op: 'delete', ...req });
      return Promise.resolve();
    },
  };
  let legs: CallLegs | undefined;
  const calls = {
    held: (callId: string, on: boolean, by: string) => {
      log.push(`held ${callId} ${on} ${by}`);
      return Promise.resolve();
    },
    hungUp: (callId: string) => {
      log.push(`hungUp ${callId}`);
      return Promise.resolve();
    },
    attachLegs: (callId: string, l: CallLegs) => {
      if (callId === 'call-1') legs = l;
      else log.push(`attachLegs ${callId}`);
    },
    startCall: () => Promise.resolve({ ok: true, callId: 'call-2' }),
    ringing: () => Promise.resolve(),
    answered: (callId: string) => {
      log.push(`answered ${callId}`);
      return Promise.resolve(true);
    },
    failed: (callId: string, status: number) => {
      log.push(`failed ${callId} ${status}`);
      return Promise.resolve();
    },
    transferred: (callId: string, info: { newCallId?: string }) => {
      log.push(`transferred ${callId} → ${info.newCallId}`);
      return Promise.resolve();
    },
  } as unknown as CallControl;
  const registry = new DialogRegistry();
  const deps: BridgeDeps = {
    srf: (extra.srf ?? {}) as never, calls, media, router: extra.router ?? { route: () => Promise.reject(new Error('no routing here')) }, location: (extra.location ?? {}) as never,
    clock: new FakeClock(0), log: pino({ level: 'silent' }), registry, tie: (input) => tieDialogs(input, deps),
  };
  const a = new FakeDialog('a-call@x', 'pbx-a', 'tag-a', '10.0.0.1');
  const b = new FakeDialog('b-call@pbx', 'pbx-b', 'tag-b', '10.0.0.2');
  const input: TieInput = {
    callId: 'call-1', tenantId: 't', siteId: null, sipDomain: 'pbx.test',
    caller: { dialog: a as never, party: alice, sdp: a.remote.sdp },
    callee: { dialog: b as never, party: bob, sdp: b.remote.sdp },
  };
  const bridge: Bridge = deps.tie(input);
  return { a, b, media, log, registry, bridge, legs: () => legs! };
}

describe('bridge: re-INVITE relay (hold from a phone)', () => {
  it('relays the caller’s hold offer through rtpengine with both tags, answers with the anchored answer, publishes hold once', async () => {
    const { a, b, media, log } = setup();
    const res = new FakeRes();
    a.emit('modify', fakeReq(sdp('sendonly', '10.0.0.1')), res);
    await flush();
    expect(media.ops[0]).toMatchObject({ op: 'offer', callId: 'call-1', fromTag: 'tag-a', toTag: 'tag-b' });
    expect(b.modified[0]).toContain('anchored-offer:');
    expect(media.ops[1]).toMatchObject({ op: 'answer', callId: 'call-1', fromTag: 'tag-a', toTag: 'tag-b' });
    expect(res.status).toBe(200);
    expect(res.body).toContain('anchored-answer:');
    expect(log).toEqual(['held call-1 true caller']);

    // The same direction again (a session refresh): relayed, no event.
    const again = new FakeRes();
    a.emit('modify', fakeReq(sdp('sendonly', '10.0.0.1')), again);
    await flush();
    expect(again.status).toBe(200);
    expect(log).toEqual(['held call-1 true caller']);

    // The callee's re-INVITE goes the other way: from-tag is B's.
    const fromB = new FakeRes();
    b.emit('modify', fakeReq(sdp('sendrecv', '10.0.0.2')), fromB);
    await flush();
    expect(media.ops.at(-2)).toMatchObject({ op: 'offer', fromTag: 'tag-b', toTag: 'tag-a' });
    expect(a.modified).toHaveLength(1);
  });

  it('answers 491 to a re-INVITE while another is relayed (glare), and relays the other phone’s refusal', async () => {
    const { a, b } = setup();
    let release!: (s: string) => void;
    b.nextModify = new Promise((r) => (release = r));
    const first = new FakeRes();
    a.emit('modify', fakeReq(sdp('sendonly', '10.0.0.1')), first);
    await flush();
    const glare = new FakeRes();
    b.emit('modify', fakeReq(sdp('sendonly', '10.0.0.2')), glare);
    await flush();
    expect(glare.status).toBe(491);
    release(sdp('recvonly', '10.0.0.2'));
    await flush();
    expect(first.status).toBe(200);

    b.nextModify = Promise.reject(Object.assign(new Error('refused'), { status: 488 }));
    const refused = new FakeRes();
    a.emit('modify', fakeReq(sdp('sendrecv', '10.0.0.1')), refused);
    await flush();
    expect(refused.status).toBe(488);
  });

  it('a re-INVITE without SDP gets the SDP the phone already has', async () => {
    const { a, media } = setup();
    const res = new FakeRes();
    a.emit('modify', fakeReq(''), res);
    await flush();
    expect(res.status).toBe(200);
    expect(res.body).toBe(a.local.sdp);
    expect(media.ops).toHaveLength(0);
  });
});

describe('bridge: REFER validation', () => {
  it('a missing or malformed Refer-To is 400; a REFER during a renegotiation is 491', async () => {
    const { a, b } = setup();
    const none = new FakeRes();
    b.emit('refer', fakeReq(''), none);
    const bad = new FakeRes();
    b.emit('refer', fakeReq('', { 'Refer-To': 'not a uri' }), bad);
    await flush();
    expect([none.status, bad.status]).toEqual([400, 400]);
    b.nextModify = new Promise(() => undefined);
    a.emit('modify', fakeReq(sdp('sendonly', '10.0.0.1')), new FakeRes());
    await flush();
    const busy = new FakeRes();
    b.emit('refer', fakeReq('', { 'Refer-To': '<sip:1003@pbx.test>' }), busy);
    await flush();
    expect(busy.status).toBe(491);
  });

  it('an attended transfer naming no known dialog is accepted, then NOTIFY 481 and the call goes on', async () => {
    const { b, bridge } = setup();
    const res = new FakeRes();
    b.emit('refer', fakeReq('', { 'Refer-To': '<sip:1003@pbx.test?Replaces=nope%40x%3Bto-tag%3D1%3Bfrom-tag%3D2>' }), res);
    await flush();
    expect(res.status).toBe(202);
    expect(b.requests.map((r) => (r as { body: string }).body)).toEqual(['SIP/2.0 100 Trying\r\n', 'SIP/2.0 481 Call/Transaction Does Not Exist\r\n']);
    expect(bridge.over).toBe(false);
    expect(b.destroyed).toBe(false);
  });
});

describe('bridge: CallLegs and the end of the call', () => {
  it('PBX hold re-INVITEs both phones a=inactive, unhold a=sendrecv, each published as by api', async () => {
    const { a, b, log, legs } = setup();
    await legs().hold();
    expect(a.modified[0]).toContain('a=inactive');
    expect(b.modified[0]).toContain('a=inactive');
    await legs().hold(); // already held: nothing more
    expect(a.modified).toHaveLength(1);
    await legs().unhold();
    expect(a.modified[1]).toContain('a=sendrecv');
    expect(b.modified[1]).toContain('a=sendrecv');
    expect(log).toEqual(['held call-1 true api', 'held call-1 false api']);
    expect(await legs().cancelTransfer()).toBe(false);
  });

  it('a BYE on one side hangs up the other, releases media and ends the call once; the registry forgets it', async () => {
    const { a, b, media, log, registry } = setup();
    expect(registry.find('a-call@x', 'tag-a', 'pbx-a')?.side.role).toBe('caller');
    expect(registry.find('b-call@pbx', 'pbx-b', 'tag-b')?.side.role).toBe('callee');
    b.emit('destroy');
    expect(a.destroyed).toBe(true);
    expect(media.ops).toEqual([{ op: 'delete', callId: 'call-1' }]);
    expect(log).toEqual(['hungUp call-1']);
    expect(registry.size).toBe(0);
  });

  it('hangUp from the API BYEs both legs', () => {
    const { a, b, log, legs } = setup();
    legs().hangUp();
    expect([a.destroyed, b.destroyed]).toEqual([true, true]);
    expect(log).toEqual(['hungUp call-1']);
  });
});

describe('bridge: blind transfer from the API (CallLegs.transfer)', () => {
  const carol: CallPartyInfo = { number: '1003', name: 'Carol', extensionId: 'ext-c' };
  /** Routing to Carol, one contact, and a UAC INVITE the test settles. */
  function transferSetup(route: 'ring' | 'reject' = 'ring') {
    const target = { resolve: (_d: unknown) => undefined as void, reject: (_e: unknown) => undefined as void, cancelled: false };
    const srf = {
      createUAC(_uri: string, _opts: unknown, cbs: { cbRequest: (err: unknown, req: { cancel(): void }) => void }) {
        return new Promise((resolve, reject) => {
          target.resolve = resolve;
          target.reject = reject;
          cbs.cbRequest(undefined, {
            cancel() {
              target.cancelled = true;
              reject(Object.assign(new Error('cancelled'), { status: 487 }));
            },
          });
        });
      },
    };
    const router: BridgeDeps['router'] = {
      route: () =>
        Promise.resolve(
          route === 'reject'
            ? { kind: 'reject' as const, sipStatus: 404, reason: 'unknown', callee: carol, trace: [] }
            : {
                kind: 'ring' as const, callee: carol, trace: [], ringTimeoutMs: null,
                plan: {
                  first: () => Promise.resolve({ kind: 'step' as const, extensionIds: ['ext-c'], timeoutMs: null, reason: 'carol' }),
                  next: (o: { sipStatus: number }) => Promise.resolve({ kind: 'end' as const, sipStatus: o.sipStatus, reason: 'done' }),
                  answered: () => undefined,
                },
              },
        ),
    };
    const location = { live: () => [{ extensionId: 'ext-c', contactUri: 'sip:c@127.0.0.1:5099', sourceAddress: '127.0.0.1', sourcePort: 5099, transport: 'UDP' } as unknown as Binding] };
    return { ...setup({ srf, router, location }), target };
  }

  it('rings the target with the transferee’s media; on answer the caller is re-INVITEd onto it, the callee released, the new call bridged', async () => {
    const { a, b, media, log, legs, target, registry } = transferSetup();
    await legs().transfer('1003');
    expect(media.ops.at(-1)).toMatchObject({ op: 'offer', callId: 'call-2', fromTag: 'tag-a' });
    const c = new FakeDialog('c-call@pbx', 'pbx-c', 'tag-c', '10.0.0.3');
    target.resolve(c);
    await flush();
    expect(media.ops.find((o) => o.op === 'answer')).toMatchObject({ callId: 'call-2', fromTag: 'tag-a', toTag: 'tag-c' });
    expect(a.modified[0]).toContain('anchored-answer:');
    expect(a.destroyed).toBe(false);
    expect(b.destroyed).toBe(true);
    expect(log).toEqual(['answered call-2', 'attachLegs call-2', 'transferred call-1 → call-2', 'hungUp call-1']);
    expect(registry.find('c-call@pbx', 'tag-c', 'pbx-c')?.bridge.callId).toBe('call-2');
    expect(media.ops.filter((o) => o.op === 'delete')).toEqual([{ op: 'delete', callId: 'call-1' }]);
  });

  it('cancelTransfer stops the ringing target; the call goes on untouched', async () => {
    const { a, b, log, legs, target, bridge } = transferSetup();
    await legs().transfer('1003');
    expect(await legs().cancelTransfer()).toBe(true);
    await flush();
    expect(target.cancelled).toBe(true);
    expect(log).toContain('failed call-2 487');
    expect([a.destroyed, b.destroyed, bridge.over, bridge.busy]).toEqual([false, false, false, false]);
    expect(await legs().cancelTransfer()).toBe(false);
  });

  it('a number the router rejects fails at once with its status', async () => {
    const { legs, bridge } = transferSetup('reject');
    await expect(legs().transfer('999')).rejects.toMatchObject({ code: 'call.transfer_failed', sipStatus: 404 });
    expect([bridge.over, bridge.busy]).toEqual([false, false]);
  });
});

