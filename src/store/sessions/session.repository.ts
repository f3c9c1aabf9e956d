import { createHash, randomBytes } from 'node:crypto';
import { uuid } from '../../shared/ids.js';
import { inTransaction, type Db } from '../database.js';
import type { UserRole } from '../users/user.table.js';
import type { SessionTable } from './session.table.js';

/** Access tokens live an hour: short enough that a leaked one soon dies, long enough for a UI. */
export const ACCESS_TTL_MS = 60 * 60 * 1000;
/** Refresh tokens live 30 days; each use rotates them. */
export const REFRESH_TTL_MS = 30 * 24 * 60 * 60 * 1000;
/** How often at most `last_used_at` is written, so authenticated reads stay cheap. */
export const SESSION_TOUCH_MS = 60_000;

/** Opaque tokens: a type prefix (so logs and scanners can tell them apart) + 48 hex (192 bits). */
const token = (prefix: 'sbt_' | 'sbr_' | 'sbp_'): string => `${prefix}${randomBytes(24).toString('hex')}`;

/** SHA-256 hex; the only form in which any session or reset token is stored. */
export const hashToken = (value: string): string => createHash('sha256').update(value).digest('hex');

const iso = (ms: number): string => new Date(ms).toISOString();

/** A session's metadata (never its tokens). */
export interface Session {
  id: string;
  tenantId: string;
  userId: string;
  accessExpiresAt: string;
  refreshExpiresAt: string;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

/** A session with the clear tokens, which exist only in this return value (shown to the client once). */
export interface IssuedSession {
  session: Session;
  accessToken: string;
  refreshToken: string;
}

function toSession(row: SessionTable): Session {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    userId: row.user_id,
    accessExpiresAt: row.access_expires_at,
    refreshExpiresAt: row.refresh_expires_at,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
    revokedAt: row.revoked_at,
  };
}

/** Starts a session for a user who has just proved who they are. `now` is wall-clock ms. */
export async function createSession(
  db: Db,
  input: { tenantId: string; userId: string; now: number; ip?: string | null; userAgent?: string | null },
): Promise<IssuedSession> {
  const accessToken = token('sbt_');
  const refreshToken = token('sbr_');
  const row: SessionTable = {
    id: uuid(),
    tenant_id: input.tenantId,
    user_id: input.userId,
    access_token_hash: hashToken(accessToken),
    refresh_token_hash: hashToken(refreshToken),
    access_expires_at: iso(input.now + ACCESS_TTL_MS),
    refresh_expires_at: iso(input.now + REFRESH_TTL_MS),
    created_at: iso(input.now),
    last_used_at: iso(input.now),
    revoked_at: null,
    ip: input.ip ?? null,
    // Bounded: the header is client-controlled.
    user_agent: input.userAgent?.slice(0, 512) ?? null,
  };
  await db.insertInto('sessions').values(row).execute();
  return { session: toSession(row), accessToken, refreshToken };
}

/** Who an access token belongs to, while it is unexpired and its session unrevoked. */
export interface SessionPrincipal {
  session: Session;
  role: UserRole;
}

/**
 * The live session for an access token at `now`, joined with the user's current role (so a
 * demotion takes effect on the next request, not at the next login); undefined otherwise.
 */
export async function findSessionByAccessToken(db: Db, accessToken: string, now: number): Promise<SessionPrincipal | undefined> {
  const row = await db
    .selectFrom('sessions')
    .innerJoin('users', 'users.id', 'sessions.user_id')
    .selectAll('sessions')
    .select('users.role as role')
    .where('sessions.access_token_hash', '=', hashToken(accessToken))
    .where('sessions.revoked_at', 'is', null)
    .where('sessions.access_expires_at', '>', iso(now))
    .executeTakeFirst();
  if (!row) return undefined;
  const { role, ...session } = row;
  return { session: toSession(session), role };
}

/** Records use of a session, at most once per {@link SESSION_TOUCH_MS}. */
export async function touchSession(db: Db, session: Session, now: number): Promise<void> {
  if (session.lastUsedAt !== null && Date.parse(session.lastUsedAt) + SESSION_TOUCH_MS > now) return;
  await db.updateTable('sessions').set({ last_used_at: iso(now) }).where('id', '=', session.id).execute();
}

/** Outcome of {@link rotateSession}. */
export type RotateResult =
  | ({ kind: 'rotated' } & IssuedSession)
  /** A refresh token that was already rotated away from: the session is now revoked. */
  | { kind: 'reused'; session: Session }
  | { kind: 'invalid' };

/**
 * Trades a refresh token for a new access + refresh pair on the same session. The old pair stops
 * working at once. The swap is a compare-and-set on the old hash inside a transaction, so of two
 * concurrent refreshes with one token exactly one wins and the other is treated as reuse.
 */
export async function rotateSession(db: Db, refreshToken: string, now: number): Promise<RotateResult> {
  const oldHash = hashToken(refreshToken);
  return inTransaction(db, async (trx) => {
    const row = await trx.selectFrom('sessions').selectAll().where('refresh_token_hash', '=', oldHash).executeTakeFirst();
    if (!row) {
      const retired = await trx
        .selectFrom('session_retired_refresh_tokens')
        .innerJoin('sessions', 'sessions.id', 'session_retired_refresh_tokens.session_id')
        .selectAll('sessions')
        .where('session_retired_refresh_tokens.token_hash', '=', oldHash)
        .executeTakeFirst();
      if (!retired) return { kind: 'invalid' };
      await trx.updateTable('sessions').set({ revoked_at: iso(now) }).where('id', '=', retired.id).where('revoked_at', 'is', null).execute();
      return { kind: 'reused', session: toSession({ ...retired, revoked_at: retired.revoked_at ?? iso(now) }) };
    }
    if (row.revoked_at !== null || row.refresh_expires_at <= iso(now)) return { kind: 'invalid' };
    const accessToken = token('sbt_');
    const newRefresh = token('sbr_');
    const updated = await trx
      .updateTable('sessions')
      .set({
        access_token_hash: hashToken(accessToken),
        refresh_token_hash: hashToken(newRefresh),
        access_expires_at: iso(now + ACCESS_TTL_MS),
        refresh_expires_at: iso(now + REFRESH_TTL_MS),
        last_used_at: iso(now),
      })
      .where('id', '=', row.id)
      .where('refresh_token_hash', '=', oldHash)
      .returningAll()
      .executeTakeFirst();
    if (!updated) return { kind: 'invalid' };
    await trx.insertInto('session_retired_refresh_tokens').values({ token_hash: oldHash, session_id: row.id, retired_at: iso(now) }).execute();
    return { kind: 'rotated', session: toSession(updated), accessToken, refreshToken: newRefresh };
  });
}

/** Ends one session (logout). */
export async function revokeSession(db: Db, sessionId: string, now: number): Promise<void> {
  await db.updateTable('sessions').set({ revoked_at: iso(now) }).where('id', '=', sessionId).where('revoked_at', 'is', null).execute();
}

/** Ends every live session of a user, but `exceptSessionId` (password change keeps the caller's own); returns how many. */
export async function revokeUserSessions(db: Db, userId: string, now: number, exceptSessionId?: string): Promise<number> {
  let query = db.updateTable('sessions').set({ revoked_at: iso(now) }).where('user_id', '=', userId).where('revoked_at', 'is', null);
  if (exceptSessionId !== undefined) query = query.where('id', '!=', exceptSessionId);
  const result = await query.executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/** Reset tokens live an hour and work once. */
export const RESET_TTL_MS = 60 * 60 * 1000;

/**
 * Issues a one-time password-reset token for a user (returned in clear once, stored hashed).
 * Earlier unused tokens of the user are spent, so only the newest one works.
 */
export async function createPasswordResetToken(
  db: Db,
  input: { tenantId: string; userId: string; now: number },
): Promise<{ token: string; expiresAt: string }> {
  const value = token('sbp_');
  const expiresAt = iso(input.now + RESET_TTL_MS);
  await inTransaction(db, async (trx) => {
    await trx.updateTable('password_reset_tokens').set({ used_at: iso(input.now) }).where('user_id', '=', input.userId).where('used_at', 'is', null).execute();
    await trx
      .insertInto('password_reset_tokens')
      .values({ token_hash: hashToken(value), tenant_id: input.tenantId, user_id: input.userId, expires_at: expiresAt, used_at: null, created_at: iso(input.now) })
      .execute();
  });
  return { token: value, expiresAt };
}

/**
 * Spends a reset token: the user it was issued for if it exists, is unused and unexpired at
 * `now`; undefined otherwise. Marking it used is a compare-and-set, so it works exactly once.
 */
export async function consumePasswordResetToken(db: Db, value: string, now: number): Promise<{ tenantId: string; userId: string } | undefined> {
  const row = await db
    .updateTable('password_reset_tokens')
    .set({ used_at: iso(now) })
    .where('token_hash', '=', hashToken(value))
    .where('used_at', 'is', null)
    .where('expires_at', '>', iso(now))
    .returning(['tenant_id', 'user_id'])
    .executeTakeFirst();
  return row ? { tenantId: row.tenant_id, userId: row.user_id } : undefined;
}

/**
 * Deletes sessions past their refresh expiry (revoked ones included: by then their refresh token
 * is dead anyway) and reset tokens past theirs, so the tables do not grow forever. Login calls it,
 * which keeps it off the per-request path without needing a timer.
 */
export async function purgeExpiredSessions(db: Db, now: number): Promise<{ sessions: number; resetTokens: number }> {
  const cutoff = iso(now);
  const sessions = await db.deleteFrom('sessions').where('refresh_expires_at', '<=', cutoff).executeTakeFirst();
  const resetTokens = await db.deleteFrom('password_reset_tokens').where('expires_at', '<=', cutoff).executeTakeFirst();
  return { sessions: Number(sessions.numDeletedRows), resetTokens: Number(resetTokens.numDeletedRows) };
}
