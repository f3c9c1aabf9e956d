/** Row shape of `sessions`: one login of a user; tokens are kept only as SHA-256 hex. */
export interface SessionTable {
  id: string;
  tenant_id: string;
  user_id: string;
  access_token_hash: string;
  refresh_token_hash: string;
  access_expires_at: string;
  refresh_expires_at: string;
  created_at: string;
  last_used_at: string | null;
  /** Set by logout, password change/reset, or refresh-token reuse; a revoked session never comes back. */
  revoked_at: string | null;
  ip: string | null;
  user_agent: string | null;
}

/** Row shape of `session_retired_refresh_tokens`: refresh tokens already rotated away from. */
export interface RetiredRefreshTokenTable {
  token_hash: string;
  session_id: string;
  retired_at: string;
}

/** Row shape of `password_reset_tokens`: one-time tokens an admin issues; SHA-256 hex only. */
export interface PasswordResetTokenTable {
  token_hash: string;
  tenant_id: string;
  user_id: string;
  expires_at: string;
  used_at: string | null;
  created_at: string;
}
