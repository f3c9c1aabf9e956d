import { describe, expect, it } from 'vitest';
import { planRegister, type ContactInput, type PlanOptions, type RegisterInput } from './binding-update.js';
import type { Binding } from './location.js';

const NOW = Date.parse('2026-01-01T00:00:00.000Z');
let ids = 0;
const opts = (over: Partial<PlanOptions> = {}): PlanOptions => ({
  limits: { minExpires: 60, maxExpires: 3600, defaultExpires: 3600 },
  maxContacts: 3,
  refreshWriteSlackMs: 30_000,
  now: NOW,
  newId: () => `id-${++ids}`,
  ...over,
});
const flow = { transport: 'udp', sourceAddress: '203.0.113.7', sourcePort: 40000, connectionId: null };
const contact = (uri: string, over: Partial<ContactInput> = {}): ContactInput => ({ uri, instance: null, ...over });
const input = (contacts: RegisterInput['contacts'], over: Partial<RegisterInput> = {}): RegisterInput => ({
  contacts, expiresHeader: '600', callId: 'call-1', cseq: 2, flow, userAgent: 'phone', tenantId: 't', extensionId: 'e', aor: 'sip:1001@pbx', ...over,
});

/** The binding a plan made for one contact, to feed the next plan as "existing". */
function bindOnce(uri: string, over: Partial<RegisterInput> = {}, o: Partial<PlanOptions> = {}): Binding {
  const plan = planRegister([], input([contact(uri)], over), opts(o));
  if (!plan.ok) throw new Error('plan failed');
  return plan.set[0]!;
}

describe('planRegister (RFC 3261 §10.3)', () => {
  it('binds a new contact with the flow it came on, and writes it', () => {
    const plan = planRegister([], input([contact('sip:1001@10.0.0.5')]), opts());
    expect(plan.ok && plan.set[0]).toMatchObject({ contactUri: 'sip:1001@10.0.0.5', sourceAddress: '203.0.113.7', sourcePort: 40000, transport: 'udp', expiresAtMs: NOW + 600_000 });
    expect(plan.ok && plan.changes.map((c) => c.kind)).toEqual(['upsert']);
  });

  it('refuses a CSeq not above the stored one for the same Call-ID (step 7), and accepts a new Call-ID', () => {
    const old = bindOnce('sip:a@x', { cseq: 5 });
    expect(planRegister([old], input([contact('sip:a@x')], { cseq: 5 }), opts())).toMatchObject({ ok: false, code: 500 });
    expect(planRegister([old], input([contact('sip:a@x')], { cseq: 4 }), opts())).toMatchObject({ ok: false, code: 500 });
    expect(planRegister([old], input([contact('sip:a@x')], { cseq: 6 }), opts()).ok).toBe(true);
    const other = planRegister([old], input([contact('sip:a@x')], { callId: 'call-2', cseq: 1 }), opts());
    expect(other.ok && other.set[0]).toMatchObject({ id: old.id, callId: 'call-2', cseq: 1 });
  });

  it('skips the write of a refresh that only moves the expiry a little, but not a flow change', () => {
    const old = bindOnce('sip:a@x', { cseq: 1 });
    const later = NOW + 10_000;
    const refresh = planRegister([old], input([contact('sip:a@x')], { cseq: 2 }), opts({ now: later }));
    expect(refresh.ok && refresh.changes).toEqual([]);
    expect(refresh.ok && refresh.set[0]).toMatchObject({ expiresAtMs: later + 600_000, storedExpiresAtMs: old.storedExpiresAtMs });
    const moved = planRegister([old], input([contact('sip:a@x')], { cseq: 2, flow: { ...flow, sourcePort: 40002 } }), opts({ now: later }));
    expect(moved.ok && moved.changes.map((c) => c.kind)).toEqual(['upsert']);
    const muchLater = planRegister([old], input([contact('sip:a@x')], { cseq: 2 }), opts({ now: NOW + 31_000 }));
    expect(muchLater.ok && muchLater.changes.map((c) => c.kind)).toEqual(['upsert']);
  });

  it('removes a contact with expires 0 and all with Contact: * (only with Expires: 0)', () => {
    const a = bindOnce('sip:a@x', { cseq: 1 });
    const b = bindOnce('sip:b@x', { cseq: 1, callId: 'other' });
    const one = planRegister([a, b], input([contact('sip:a@x', { expires: '0' })]), opts());
    expect(one.ok && one.removed.map((x) => x.contactUri)).toEqual(['sip:a@x']);
    expect(one.ok && one.bindings.map((x) => x.contactUri)).toEqual(['sip:b@x']);
    expect(planRegister([a, b], input('*', { expiresHeader: '60' }), opts())).toMatchObject({ ok: false, code: 400 });
    const all = planRegister([a, b], input('*', { expiresHeader: '0' }), opts());
    expect(all.ok && all.changes).toEqual([{ kind: 'delete-extension', extensionId: 'e' }]);
    expect(planRegister([a], input('*', { expiresHeader: '0', cseq: 1 }), opts())).toMatchObject({ ok: false, code: 500 });
  });

  it('answers 423 below the minimum, and lists the current bindings for a query', () => {
    expect(planRegister([], input([contact('sip:a@x', { expires: '10' })]), opts())).toMatchObject({ ok: false, code: 423, headers: { 'Min-Expires': '60' } });
    const a = bindOnce('sip:a@x');
    const query = planRegister([a], input([]), opts());
    expect(query.ok && query.bindings.map((x) => x.contactUri)).toEqual(['sip:a@x']);
    expect(query.ok && query.changes).toEqual([]);
  });

  it('replaces the binding of the same +sip.instance (RFC 5626 §6) and evicts the oldest beyond the maximum', () => {
    const inst = '<urn:uuid:1>';
    const a = bindOnce('sip:a@x', { callId: 'c-a' }, { now: NOW - 3000 });
    const old = { ...a, instanceId: inst };
    const plan = planRegister([old], input([contact('sip:new@x', { instance: inst })]), opts());
    expect(plan.ok && plan.removed.map((x) => x.contactUri)).toEqual(['sip:a@x']);
    const b = bindOnce('sip:b@x', { callId: 'c-b' }, { now: NOW - 2000 });
    const c = bindOnce('sip:c@x', { callId: 'c-c' }, { now: NOW - 1000 });
    const full = planRegister([a, b, c], input([contact('sip:d@x')]), opts());
    expect(full.ok && full.removed.map((x) => x.contactUri)).toEqual(['sip:a@x']);
    expect(full.ok && full.bindings.map((x) => x.contactUri)).toEqual(['sip:d@x', 'sip:c@x', 'sip:b@x']);
  });

  it('ignores expired bindings that the sweep has not removed yet', () => {
    const gone = { ...bindOnce('sip:a@x', { cseq: 9 }), expiresAtMs: NOW - 1 };
    const plan = planRegister([gone], input([contact('sip:a@x')], { cseq: 1 }), opts());
    expect(plan.ok && plan.set[0]?.cseq).toBe(1);
  });
});
