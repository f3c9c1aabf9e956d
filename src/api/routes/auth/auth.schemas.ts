import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { IssuedSession, User } from '../../../store/index.js';
import type { ApiEnv } from '../../env.js';
import { EmailSchema, PasswordSchema, UserSchema, userJson } from '../users/user.schemas.js';

/** What login, refresh and setup answer: a bearer session for the user. */
export const SessionTokensSchema = z
  .object({
    access_token: z.string().openapi({ example: 'sbt_…' }),
    refresh_token: z.string().openapi({ example: 'sbr_…' }),
    token_type: z.literal('Bearer'),
    expires_in: z.number().int().openapi({ description: 'seconds until the access token expires' }),
    refresh_expires_in: z.number().int().openapi({ description: 'seconds until the refresh token expires' }),
    user: UserSchema,
  })
  .openapi('SessionTokens');

/**
 * The session body, marked `no-store`: no cache may keep tokens, and the idempotency layer does
 * not store them for replay either (they would sit in the database in clear).
 */
export function sessionBody(c: Context<ApiEnv>, issued: IssuedSession, user: User, now: number): { data: z.infer<typeof SessionTokensSchema> } {
  c.header('Cache-Control', 'no-store');
  return {
    data: {
      access_token: issued.accessToken,
      refresh_token: issued.refreshToken,
      token_type: 'Bearer',
      expires_in: Math.round((Date.parse(issued.session.accessExpiresAt) - now) / 1000),
      refresh_expires_in: Math.round((Date.parse(issued.session.refreshExpiresAt) - now) / 1000),
      user: userJson(user),
    },
  };
}

/** Passwords at login are not length-checked: an old short password must still be able to log in and be changed. */
export const LoginSchema = z
  .object({ email: EmailSchema, password: z.string().min(1).max(1024), tenant_id: z.uuid().optional() })
  .openapi('Login');

export const RefreshSchema = z
  .object({ refresh_token: z.string().regex(/^sbr_[0-9a-f]{48}$/, 'must be a refresh token (sbr_…)') })
  .openapi('Refresh');

export const ChangePasswordSchema = z
  .object({ current_password: z.string().min(1).max(1024), new_password: PasswordSchema })
  .openapi('ChangePassword');

export const ResetPasswordSchema = z
  .object({ token: z.string().regex(/^sbp_[0-9a-f]{48}$/, 'must be a password-reset token (sbp_…)'), new_password: PasswordSchema })
  .openapi('ResetPassword');

export const ResetTokenSchema = z
  .object({ token: z.string().openapi({ description: 'one-time token; shown only in this response' }), expires_at: z.string() })
  .openapi('PasswordResetToken');

export const MeSchema = z
  .object({
    type: z.enum(['user', 'api_key']),
    id: z.string().openapi({ description: 'the user id or the API key id' }),
    tenant_id: z.uuid(),
    scopes: z.array(z.string()),
    user: UserSchema.optional(),
    session: z.object({ id: z.uuid() }).optional(),
  })
  .openapi('Me');
