import { describe, expect, it } from 'vitest';
import { bindingFromRegistration, LocationService } from './location.js';

const reg = (extensionId: string, contactUri: string, expiresAt: string, updatedAt = '2026-01-01T00:00:00.000Z') =>
  bindingFromRegistration({
    id: `${extensionId}-${contactUri}`, tenantId: 't', extensionId, aor: 'sip:x@y', contactUri, expiresAt, userAgent: null, transport: 'udp',
    sourceAddress: '127.0.0.1', sourcePort: 5060, connectionId: null, callId: 'c', cseq: 1, instanceId: null, createdAt: updatedAt, updatedAt,
  });

describe('LocationService', () => {
  it('keeps bindings per extension and contact, lists live ones newest first, and sweeps expired ones', () => {
    const loc = new LocationService();
    loc.load([
      reg('e1', 'sip:a', '2026-01-01T01:00:00.000Z', '2026-01-01T00:00:01.000Z'),
      reg('e1', 'sip:b', '2026-01-01T02:00:00.000Z', '2026-01-01T00:00:02.000Z'),
      reg('e2', 'sip:c', '2026-01-01T00:30:00.000Z'),
    ]);
    expect(loc.size).toBe(3);
    expect(loc.live('e1', Date.parse('2026-01-01T00:00:00Z')).map((b) => b.contactUri)).toEqual(['sip:b', 'sip:a']);
    const expired = loc.takeExpired(Date.parse('2026-01-01T01:00:00Z'));
    expect(expired.map((b) => b.contactUri).sort()).toEqual(['sip:a', 'sip:c']);
    expect(loc.size).toBe(1);
    expect([...loc.values()].map((b) => b.contactUri)).toEqual(['sip:b']);
    expect(loc.delete('e1', 'sip:b')?.contactUri).toBe('sip:b');
    expect(loc.delete('e1', 'sip:b')).toBeUndefined();
    expect(loc.size).toBe(0);
  });
});
