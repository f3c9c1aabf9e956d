/**
 * What one authenticated REGISTER does to an AOR's bindings (RFC 3261 §10.3 steps 6–8, RFC 5626
 * §6 for instance ids), as a pure plan: the bindings to set and remove in memory, the changes to
 * write through, or the error to answer. No I/O, so every rule is unit-tested on plain data.
 */
import type { Registration, RegistrationChange } from '../../store/index.js';
import type { Binding } from './location.js';
import { contactExpiry, type ExpiryLimits } from './register-request.js';

/** One Contact of the request. */
export interface ContactInput {
  uri: string;
  /** The `expires` parameter, raw. */
  expires?: string | undefined;
  /** RFC 5626 `+sip.instance` (and `;reg-id=n` when given), or null. */
  instance: string | null;
}

/** The network flow the REGISTER arrived on: later requests to the binding go back over it (NAT). */
export interface Flow {
  transport: string;
  sourceAddress: string;
  sourcePort: number;
  /** The engine connection of a stream transport (TCP/TLS/WS/WSS); null for UDP. */
  connectionId: string | null;
}

export interface RegisterInput {
  /** The Contacts; `*` for a wildcard; an empty list is a query (RFC 3261 §10.2.3). */
  contacts: ContactInput[] | '*';
  expiresHeader: string | undefined;
  callId: string;
  cseq: number;
  flow: Flow;
  userAgent: string | null;
  tenantId: string;
  extensionId: string;
  aor: string;
}

export interface PlanOptions {
  limits: ExpiryLimits;
  maxContacts: number;
  /**
   * A refresh that changes nothing but the expiry (and Call-ID/CSeq) is written only when the
   * stored expiry would lag the real one by more than this (capped at half the granted time), so
   * phones refreshing every few seconds cost no database write each time. After a restart such a
   * binding may expire up to this much early; its phone's next refresh restores it.
   */
  refreshWriteSlackMs: number;
  now: number;
  newId: () => string;
}

export type Plan =
  | { ok: false; code: number; headers: Record<string, string> }
  | { ok: true; set: Binding[]; removed: Binding[]; changes: RegistrationChange[]; bindings: Binding[] };

const outOfOrder: Plan = { ok: false, code: 500, headers: { 'Retry-After': '1' } };

/** True if `b` holds the same Call-ID with a CSeq not above `cseq` (RFC 3261 §10.3 step 7: abort). */
const stale = (b: Binding, input: RegisterInput): boolean => b.callId === input.callId && input.cseq <= b.cseq;

const sameFlow = (b: Binding, f: Flow): boolean =>
  b.transport === f.transport && b.sourceAddress === f.sourceAddress && b.sourcePort === f.sourcePort && b.connectionId === f.connectionId;

/** Plan the request against `existing` (all bindings of the extension, expired ones included). */
export function planRegister(existing: readonly Binding[], input: RegisterInput, o: PlanOptions): Plan {
  const live = existing.filter((b) => b.expiresAtMs > o.now);
  if (input.contacts === '*') {
    if (input.expiresHeader?.trim() !== '0') return { ok: false, code: 400, headers: {} };
    if (live.some((b) => stale(b, input))) return outOfOrder;
    return { ok: true, set: [], removed: [...existing], changes: [{ kind: 'delete-extension', extensionId: input.extensionId }], bindings: [] };
  }
  const current = new Map(live.map((b) => [b.contactUri, b]));
  const set: Binding[] = [];
  const removed: Binding[] = [];
  const changes: RegistrationChange[] = [];
  const nowIso = new Date(o.now).toISOString();
  for (const c of input.contacts) {
    const e = contactExpiry(c.expires, input.expiresHeader, o.limits);
    if (e.kind === 'too-brief') return { ok: false, code: 423, headers: { 'Min-Expires': String(o.limits.minExpires) } };
    const old = current.get(c.uri);
    if (old && stale(old, input)) return outOfOrder;
    if (e.kind === 'remove') {
      if (old) {
        current.delete(c.uri);
        removed.push(old);
        changes.push({ kind: 'delete', extensionId: input.extensionId, contactUri: c.uri });
      }
      continue;
    }
    // RFC 5626 §6: a new Contact with the instance (and reg-id) of another binding replaces it.
    if (c.instance !== null) {
      for (const b of current.values()) {
        if (b.instanceId === c.instance && b.contactUri !== c.uri) {
          current.delete(b.contactUri);
          removed.push(b);
          changes.push({ kind: 'delete', extensionId: input.extensionId, contactUri: b.contactUri });
        }
      }
    }
    const expiresAtMs = o.now + e.seconds * 1000;
    const significant = !old || !sameFlow(old, input.flow) || old.userAgent !== input.userAgent || old.instanceId !== c.instance || old.aor !== input.aor;
    const slack = Math.min(o.refreshWriteSlackMs, (e.seconds * 1000) / 2);
    const write = significant || old.storedExpiresAtMs < expiresAtMs - slack;
    const b: Binding = {
      id: old?.id ?? o.newId(),
      tenantId: input.tenantId,
      extensionId: input.extensionId,
      aor: input.aor,
      contactUri: c.uri,
      expiresAt: new Date(expiresAtMs).toISOString(),
      userAgent: input.userAgent,
      ...input.flow,
      callId: input.callId,
      cseq: input.cseq,
      instanceId: c.instance,
      createdAt: old?.createdAt ?? nowIso,
      updatedAt: nowIso,
      expiresAtMs,
      storedExpiresAtMs: write ? expiresAtMs : (old?.storedExpiresAtMs ?? expiresAtMs),
    };
    current.set(c.uri, b);
    set.push(b);
    if (write) changes.push({ kind: 'upsert', registration: toRegistration(b) });
  }
  // Keep at most maxContacts, dropping the least recently refreshed (reliability R9).
  const bindings = [...current.values()].sort((a, b) => (a.updatedAt < b.updatedAt ? 1 : a.updatedAt > b.updatedAt ? -1 : 0));
  for (const old of bindings.splice(o.maxContacts)) {
    removed.push(old);
    changes.push({ kind: 'delete', extensionId: input.extensionId, contactUri: old.contactUri });
  }
  const kept = new Set(bindings);
  return { ok: true, set: set.filter((b) => kept.has(b)), removed, changes, bindings };
}

/** The stored shape of a binding (without the in-memory instants). */
export function toRegistration(b: Binding): Registration {
  const { expiresAtMs: _e, storedExpiresAtMs: _s, ...row } = b;
  return row;
}
