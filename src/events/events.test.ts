import { describe, expect, it } from 'vitest';
import { makeEvent, parseEvent } from './envelope.js';
import { eventJsonSchema } from './event-json-schema.js';
import { EVENT_TYPES, SUBSCRIBABLE_EVENT_TYPES, filterMatches, filterPatternProblem, type EventData, type EventType } from './event-types.js';

const at = '2026-11-21T10:00:00.000Z';
const call = { direction: 'internal', caller_number: '1001', caller_name: 'Ada', caller_extension_id: 'e1', callee_number: '1002', callee_name: null, callee_extension_id: 'e2' } as const;

/** One valid payload per type: every type of the registry must have one (checked below). */
const examples: { [T in EventType]: EventData<T> } = {
  'call.start': { call_id: 'c1', ...call, site_id: null, started_at: at },
  'call.ringing': { call_id: 'c1', extension_id: 'e2' },
  'call.answered': { call_id: 'c1', answered_extension_id: 'e2', answered_at: at },
  'call.hold': { call_id: 'c1', by: 'caller' },
  'call.unhold': { call_id: 'c1', by: 'api' },
  'call.transfer': { call_id: 'c1', kind: 'blind', target: '1003', new_call_id: 'c2', transferor: { number: '1002', name: null, extension_id: 'e2' } },
  'call.ended': {
    call_id: 'c1', cdr_id: 'r1', ...call, answered_extension_id: 'e2', site_id: null, sip_call_id: 'abc@host', started_at: at,
    answered_at: at, ended_at: at, duration_seconds: 30, billable_seconds: 28, hangup_cause: 'NORMAL_CLEARING', sip_status: 200, disposition: 'answered',
  },
  'extension.status': { extension_id: 'e1', extension: '1001', previous_status: 'unregistered', current_status: 'registered', connection_type: 'sip', transport: 'udp', registration_ip: '192.0.2.7', registration_port: 5060, registered_contacts: 1 },
  'trunk.status': { trunk_id: 't1', trunk_name: 'Carrier', previous_status: 'unregistered', current_status: 'registered' },
  'voicemail.received': { voicemail_id: 'v1', call_id: 'c1', extension_id: 'e1', mailbox: '1001', from_number: '+391234', from_name: null, to_number: '1001', duration_seconds: 45, received_at: at },
  'api.error': { request_id: 'req-1', endpoint: '/api/v1/extensions/x', method: 'GET', status_code: 404, error_code: 'EXTENSION_NOT_FOUND', principal_id: null },
  'registration.created': { registration_id: 'g1', extension_id: 'e1', extension: '1001', contact: 'sip:1001@192.0.2.7:5060', transport: 'udp', source_ip: '192.0.2.7', source_port: 5060, user_agent: 'Yealink', expires_at: at },
  'registration.expired': { registration_id: 'g1', extension_id: 'e1', extension: '1001', contact: 'sip:1001@192.0.2.7:5060', reason: 'expired' },
  'security.ban': { ip: '198.51.100.9', source: 'sip', reason: 'digest failures', failures: 10, banned_until: at },
  'webhook.test': { webhook_id: 'w1', message: 'hello' },
};

describe('event envelope', () => {
  it('builds and parses back an envelope of every registered type', () => {
    expect(Object.keys(examples).sort()).toEqual([...EVENT_TYPES].sort());
    for (const type of EVENT_TYPES) {
      const event = makeEvent(type, { tenantId: 't-1', tenantExternalId: 'acme', data: examples[type] as never, at });
      expect(Object.keys(event)).toEqual(['id', 'type', 'tenant_id', 'tenant_external_id', 'timestamp', 'data']);
      expect(event.timestamp).toBe(at);
      expect(parseEvent(JSON.parse(JSON.stringify(event)))).toEqual(event);
    }
  });

  it('refuses a payload that does not match its type, naming the field', () => {
    expect(() => makeEvent('call.ended', { tenantId: 't', tenantExternalId: null, data: { ...examples['call.ended'], disposition: 'weird' } as never })).toThrow(/disposition/);
    expect(() => parseEvent({ id: 'x', type: 'call.nope', data: {} })).toThrow(expect.objectContaining({ code: 'EVENT_INVALID' }));
  });

  it('drops keys a producer did not mean to publish', () => {
    const event = makeEvent('call.hold', { tenantId: 't', tenantExternalId: null, data: { call_id: 'c', by: 'caller', internal: 1 } as never });
    expect(event.data).toEqual({ call_id: 'c', by: 'caller' });
  });

  it('keeps the same id when one is given (a retry or replay)', () => {
    const id = '3c6f3ab2-5b59-4a8c-8f3f-0d6f1c2b1a11';
    expect(makeEvent('webhook.test', { id, tenantId: 't', tenantExternalId: null, data: examples['webhook.test'] }).id).toBe(id);
  });
});

describe('event filters', () => {
  it('matches exact names, prefix wildcards and *', () => {
    expect(filterMatches(['call.*'], 'call.ended')).toBe(true);
    expect(filterMatches(['call.*'], 'callx.ended')).toBe(false);
    expect(filterMatches(['registration.created'], 'registration.expired')).toBe(false);
    expect(filterMatches(['*'], 'security.ban')).toBe(true);
    expect(filterMatches([], 'call.start')).toBe(false);
    // A test event goes only to the endpoint being tested, never through filters.
    expect(filterMatches(['*'], 'webhook.test')).toBe(false);
    expect(filterMatches(['webhook.*'], 'webhook.test')).toBe(false);
  });

  it('accepts known types and useful wildcards, refuses the rest with a reason', () => {
    for (const ok of ['*', 'call.*', 'registration.*', ...SUBSCRIBABLE_EVENT_TYPES]) expect(filterPatternProblem(ok)).toBeUndefined();
    expect(filterPatternProblem('cal.*')).toMatch(/matches no event type/);
    expect(filterPatternProblem('call.finished')).toMatch(/not an event type/);
    expect(filterPatternProblem('webhook.test')).toMatch(/not an event type/);
    expect(filterPatternProblem('call.**')).toMatch(/not an event type or a wildcard/);
    expect(filterPatternProblem('')).toBeDefined();
  });
});

describe('published JSON Schema', () => {
  it('describes every type with its envelope and data', () => {
    const schema = eventJsonSchema() as { $schema: string; oneOf: Array<{ properties: { type: { const: string }; data: { required?: string[] } }; required: string[] }> };
    expect(schema.$schema).toContain('2020-12');
    const types = schema.oneOf.map((s) => s.properties.type.const);
    expect(types.sort()).toEqual([...EVENT_TYPES].sort());
    const ended = schema.oneOf.find((s) => s.properties.type.const === 'call.ended');
    expect(ended?.required).toEqual(['id', 'type', 'tenant_id', 'tenant_external_id', 'timestamp', 'data']);
    expect(ended?.properties.data.required).toEqual(expect.arrayContaining(['cdr_id', 'duration_seconds', 'billable_seconds', 'hangup_cause', 'disposition']));
  });
});
