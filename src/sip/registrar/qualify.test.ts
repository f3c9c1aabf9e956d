import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../test/support/fake-clock.js';
import { bindingFromRegistration, type Binding } from './location.js';
import { Qualifier } from './qualify.js';
import { flowUri } from './srf-ping.js';

const binding = (id: string, over: Partial<Binding> = {}): Binding => ({
  ...bindingFromRegistration({
    id, tenantId: 't', extensionId: 'e', aor: 'sip:1001@pbx', contactUri: `sip:1001@10.0.0.${id}:5060`, expiresAt: '2999-01-01T00:00:00.000Z',
    userAgent: null, transport: 'udp', sourceAddress: '203.0.113.7', sourcePort: 40000, connectionId: null, callId: 'c', cseq: 1, instanceId: null,
    createdAt: '2026-01-01T00:00:00.000Z', updatedAt: '2026-01-01T00:00:00.000Z',
  }),
  ...over,
});
const flush = async (): Promise<void> => {
  for (let i = 0; i < 20; i++) await Promise.resolve();
};

describe('Qualifier', () => {
  it('pings every binding each interval, records reachability and drops a binding after 3 failed rounds', async () => {
    const clock = new FakeClock(1000);
    const up = binding('1');
    const down = binding('2');
    const dropped: string[] = [];
    const q = new Qualifier({
      clock, intervalMs: 30_000, maxFailures: 3,
      bindings: () => [up, down],
      ping: async (b) => b.id === '1',
      onUnreachable: (b) => dropped.push(b.id),
    });
    q.start();
    for (let round = 1; round <= 3; round++) {
      clock.advance(30_000);
      await flush();
      expect(q.status('1')).toMatchObject({ reachable: true, rttMs: 0 });
      if (round < 3) expect(q.status('2')).toMatchObject({ reachable: false });
    }
    expect(dropped).toEqual(['2']);
    expect(q.status('2')).toBeUndefined();
    q.stop();
    expect(clock.pendingCount()).toBe(0);
  });

  it('counts a ping without an answer within the timeout as a failure, and bounds the pings in flight', async () => {
    const clock = new FakeClock(0);
    let inFlight = 0;
    let most = 0;
    const q = new Qualifier({
      clock, intervalMs: 0, timeoutMs: 5000, concurrency: 2,
      bindings: () => ['1', '2', '3', '4', '5'].map((id) => binding(id)),
      ping: () => {
        most = Math.max(most, ++inFlight);
        return new Promise<boolean>(() => undefined); // never answers
      },
      onUnreachable: () => undefined,
    });
    const round = q.runOnce();
    for (let i = 0; i < 3; i++) {
      await flush();
      clock.advance(5000);
      inFlight = Math.max(0, inFlight - 2);
    }
    await round;
    expect(most).toBe(2);
    expect(q.status('5')).toMatchObject({ reachable: false });
  });

  it('sends to the flow the binding registered on (NAT), IPv6 in brackets', () => {
    expect(flowUri(binding('1'))).toBe('sip:203.0.113.7:40000;transport=udp');
    expect(flowUri({ sourceAddress: '2001:db8::1', sourcePort: 5061, transport: 'TLS' })).toBe('sip:[2001:db8::1]:5061;transport=tls');
  });
});
