import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../test/support/fake-clock.js';
import type { Binding, LocationService } from '../registrar/location.js';
import type { RingOutcome, RingPlan, RingStep } from './ports.js';
import { runRingPlan } from './ring-plan-runner.js';
import { declineAllMedia } from './feature-answer.js';

/** A fake srf whose UAC INVITEs settle as the test says, per contact URI. */
function fakeSrf() {
  const branches = new Map<string, { resolve: (d: unknown) => void; reject: (e: unknown) => void; cancelled: boolean }>();
  const srf = {
    createUAC(uri: string, _opts: unknown, cbs: { cbRequest: (err: unknown, req: { cancel(): void }) => void }) {
      return new Promise((resolve, reject) => {
        const branch = { resolve, reject, cancelled: false };
        branches.set(uri, branch);
        cbs.cbRequest(undefined, {
          cancel() {
            branch.cancelled = true;
            reject(Object.assign(new Error('cancelled'), { status: 487 }));
          },
        });
      });
    },
  };
  return { srf: srf as never, branches };
}

const binding = (extensionId: string, n: number): Binding =>
  ({ extensionId, contactUri: `sip:${extensionId}-${n}@127.0.0.1:${5000 + n}`, sourceAddress: '127.0.0.1', sourcePort: 5000 + n, transport: 'UDP' }) as Binding;

/** A plan that rings the given steps in order and records every outcome it was told. */
function scriptedPlan(steps: RingStep[]): RingPlan & { outcomes: RingOutcome[]; answeredBy: string[] } {
  let i = 0;
  const outcomes: RingOutcome[] = [];
  const answeredBy: string[] = [];
  const at = (n: number) => Promise.resolve(steps[n] ?? { kind: 'end' as const, sipStatus: outcomes.at(-1)?.sipStatus ?? 480, reason: 'done' });
  return {
    outcomes,
    answeredBy,
    first: () => at(0),
    next: (o) => {
      outcomes.push(o);
      return at(++i);
    },
    answered: (id) => void answeredBy.push(id),
  };
}

const step = (extensionIds: string[], timeoutMs: number | null): RingStep => ({ kind: 'step', extensionIds, timeoutMs, reason: 'test' });

describe('runRingPlan', () => {
  const contacts: Record<string, Binding[]> = { a: [binding('a', 1)], b: [binding('b', 2), binding('b', 3)], none: [] };
  const location = { live: (id: string) => contacts[id] ?? [] } as unknown as LocationService;
  const log = pino({ level: 'silent' });
  const opts = { sdp: 'v=0', from: '<sip:1001@x>', onRinging: () => undefined };

  it('moves on when a step times out, reports the timeout, and the next step’s answer wins', async () => {
    const clock = new FakeClock(0);
    const { srf, branches } = fakeSrf();
    const plan = scriptedPlan([step(['a'], 2000), step(['b'], null)]);
    const run = runRingPlan({ srf, location, clock, log }, plan, opts);
    await Promise.resolve();
    await Promise.resolve();
    clock.advance(2000);
    await expect.poll(() => branches.size).toBe(3);
    expect(branches.get(contacts.a![0]!.contactUri)?.cancelled).toBe(true);
    branches.get(contacts.b![1]!.contactUri)?.resolve({ id: 'dialog', on: () => undefined });
    const result = await run.result;
    expect(result).toMatchObject({ answered: true, extensionId: 'b' });
    expect(plan.outcomes).toEqual([{ sipStatus: 480, timedOut: true }]);
    expect(plan.answeredBy).toEqual(['b']);
    // The other contact of the answering step was CANCELled.
    expect(branches.get(contacts.b![0]!.contactUri)?.cancelled).toBe(true);
  });

  it('an extension without contacts is unavailable (480) without ringing; busy phones report 486; the plan’s end is the result', async () => {
    const clock = new FakeClock(0);
    const { srf, branches } = fakeSrf();
    const plan = scriptedPlan([step(['none'], 5000), step(['a'], null)]);
    const run = runRingPlan({ srf, location, clock, log }, plan, opts);
    await expect.poll(() => branches.size).toBe(1);
    branches.get(contacts.a![0]!.contactUri)?.reject(Object.assign(new Error('busy'), { status: 486 }));
    expect(await run.result).toMatchObject({ answered: false, sipStatus: 486 });
    expect(plan.outcomes).toEqual([{ sipStatus: 480, timedOut: false }, { sipStatus: 486, timedOut: false }]);
  });

  it('cancel() stops the current step and starts no other', async () => {
    const clock = new FakeClock(0);
    const { srf, branches } = fakeSrf();
    const plan = scriptedPlan([step(['a'], null), step(['b'], null)]);
    const run = runRingPlan({ srf, location, clock, log }, plan, opts);
    await expect.poll(() => branches.size).toBe(1);
    run.cancel();
    expect(await run.result).toMatchObject({ answered: false, sipStatus: 487 });
    expect(branches.size).toBe(1);
    expect(plan.outcomes).toEqual([]);
  });
});

describe('declineAllMedia', () => {
  it('answers each offered stream with port 0 and its first format, in order', () => {
    const offer = 'v=0\r\no=a 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\nm=video 4002 RTP/AVP 96\r\n';
    const answer = declineAllMedia(offer, 7);
    expect(answer.split('\r\n').filter((l) => l.startsWith('m='))).toEqual(['m=audio 0 RTP/AVP 0', 'm=video 0 RTP/AVP 96']);
    expect(answer).toContain('o=- 7 7 IN IP4 0.0.0.0');
  });
});
