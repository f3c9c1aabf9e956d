/** Row shape of `api_keys`. The key itself is never stored: only its SHA-256 and last 4 characters. */
export interface ApiKeyTable {
  id: string;
  tenant_id: string;
  name: string;
  /** SHA-256 hex of the full key; unique, the lookup path for every authenticated request. */
  key_hash: string;
  /** Last 4 characters, so admins can tell keys apart. */
  key_hint: string;
  /** JSON array of scope strings. */
  scopes: string;
  expires_at: string | null;
  last_used_at: string | null;
  revoked_at: string | null;
  created_at: string;
}
