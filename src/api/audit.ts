import type { Context } from 'hono';
import type { NewAuditEntry } from '../store/index.js';
import type { ApiEnv } from './env.js';

/**
 * Who did it, for an audit entry written by a route: the caller's tenant, principal (API key id or
 * user id) and the client address. Spread into `appendAudit(trx, { ...auditActor(c), action, … })`
 * inside the same transaction as the change.
 */
export function auditActor(c: Context<ApiEnv>): Pick<NewAuditEntry, 'tenantId' | 'actorType' | 'actorId' | 'ip'> {
  return {
    tenantId: c.get('tenantId') ?? null,
    actorType: c.get('principalType') ?? 'anonymous',
    actorId: c.get('principalId') ?? null,
    ip: clientIp(c),
  };
}

/** The peer address of the request (no X-Forwarded-For trust: that needs a configured proxy list). */
export function clientIp(c: Context<ApiEnv>): string | null {
  const incoming = (c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming;
  return incoming?.socket?.remoteAddress ?? null;
}
