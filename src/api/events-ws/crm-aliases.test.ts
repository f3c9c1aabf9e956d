import { describe, expect, it } from 'vitest';
import { makeEvent, type EventEnvelope } from '../../events/envelope.js';
import type { OutboxEvent } from '../../store/index.js';
import { CallFactsCache, crmEventFrame } from './crm-aliases.js';

let seq = 0;
const row = (e: EventEnvelope): OutboxEvent => ({ sequence: ++seq, eventId: e.id, tenantId: e.tenant_id, type: e.type, occurredAt: e.timestamp, body: JSON.stringify(e) });
const t = { tenantId: 't1', tenantExternalId: null };
const at = '2026-11-21T10:00:00.000Z';

describe('CRM bridge names', () => {
  it('call.ring and call.started carry the numbers of the call’s call.start; unknown types have no CRM frame', () => {
    const calls = new CallFactsCache();
    const start = row(makeEvent('call.start', { ...t, at, data: {
      call_id: 'c1', direction: 'inbound', caller_number: '+15551234567', caller_name: null, caller_extension_id: null,
      callee_number: '1001', callee_name: null, callee_extension_id: 'e1', site_id: null, started_at: at,
    } }));
    calls.learn(start);
    expect(crmEventFrame(start, calls)).toBeUndefined();
    const ring = row(makeEvent('call.ringing', { ...t, at, data: { call_id: 'c1', extension_id: 'e1' } }));
    expect(JSON.parse(crmEventFrame(ring, calls)!)).toEqual({
      event: 'call.ring', id: ring.eventId, sequence: ring.sequence, call_id: 'c1', direction: 'inbound',
      from_number: '+15551234567', to_number: '1001', status: 'ringing', user_id: 'e1', timestamp: at,
    });
    const answered = row(makeEvent('call.answered', { ...t, at, data: { call_id: 'c1', answered_extension_id: 'e2', answered_at: at } }));
    expect(JSON.parse(crmEventFrame(answered, calls)!)).toMatchObject({ event: 'call.started', status: 'active', user_id: 'e2', from_number: '+15551234567' });
  });

  it('voicemail.received keeps target_crm_user', () => {
    const vm = row(makeEvent('voicemail.received', { ...t, at, data: {
      voicemail_id: 'v1', call_id: 'c1', extension_id: 'e1', mailbox: '1001', from_number: '+1555', from_name: null, to_number: '1001',
      duration_seconds: 45, received_at: at, target_crm_user: 'user_abc123',
    } }));
    expect(JSON.parse(crmEventFrame(vm, new CallFactsCache())!)).toMatchObject({ event: 'voicemail.received', voicemail_id: 'v1', target_crm_user: 'user_abc123', duration_seconds: 45 });
  });
});
