import { describe, expect, it } from 'vitest';
import type { BatchOutcome, DeliveryBatch } from './delivery-batch.js';
import { packBatch, packOutcome, unpackBatch, unpackOutcome } from './delivery-wire.js';

const batch = (items: DeliveryBatch['items']): DeliveryBatch => ({
  endpoint: 'w1', url: 'https://hooks.example.com/in', hostname: 'hooks.example.com', address: '203.0.113.5', family: 4, checkedUntil: 1_700_000_002_000,
  secret: 'whsec_abc', customHeaders: { Authorization: 'Bearer t' }, timeoutMs: 5000, clockAt: 1_700_000_000_000, wallAt: 1_700_000_000_001, items, continues: true,
});

describe('delivery thread wire format', () => {
  it('a batch comes back field for field, whatever its strings hold (empty, multi-byte, separators)', () => {
    const items = [
      { deliveryId: 'd-0', eventId: 'e-0', eventType: 'call.ringing', tenantId: 't', body: '{"a":"ünïcødé ☎ 𝄞"}' },
      { deliveryId: 'd-1', eventId: '', eventType: 'call.ended', tenantId: 't', body: '' },
      { deliveryId: 'd-2', eventId: 'e-2', eventType: 'x', tenantId: 't\u0000\n|', body: '{"n":"a\\nb"}\n' },
    ];
    const wire = packBatch(batch(items));
    expect(wire).not.toHaveProperty('items');
    // What postMessage does to it: a structured clone.
    expect(unpackBatch(structuredClone(wire))).toEqual(batch(items));
    expect(unpackBatch(structuredClone(packBatch(batch([]))))).toEqual(batch([]));
  });

  it('an outcome comes back attempt for attempt: ok, status or none, excerpt, error, duration and time', () => {
    const outcome: BatchOutcome = {
      attempts: [
        { ok: true, statusCode: 200, excerpt: null, error: null, durationMs: 0.42, at: 1_700_000_000_010 },
        { ok: true, statusCode: 204, excerpt: 'accepted ✓', error: null, durationMs: 1.5, at: 1_700_000_000_011 },
        { ok: false, statusCode: 503, excerpt: 'busy', error: 'HTTP 503', durationMs: 12, at: 1_700_000_000_012 },
        { ok: false, statusCode: null, excerpt: null, error: 'connect ECONNREFUSED', durationMs: 0, at: 1_700_000_000_013 },
      ],
      expired: false,
    };
    expect(unpackOutcome(structuredClone(packOutcome(outcome)))).toEqual(outcome);
    const plain: BatchOutcome = { attempts: [{ ok: true, statusCode: 200, excerpt: null, error: null, durationMs: 1, at: 2 }], expired: true };
    const wire = packOutcome(plain);
    expect(wire.excerpts).toBeNull();
    expect(wire.errors).toBeNull();
    expect(unpackOutcome(structuredClone(wire))).toEqual(plain);
    expect(unpackOutcome(structuredClone(packOutcome({ attempts: [], expired: false })))).toEqual({ attempts: [], expired: false });
  });
});
