/** Roles from product.md §2 item 1. */
export type UserRole = 'owner' | 'admin' | 'user';

/** Row shape of `users`: people who log in to the API and admin UI. */
export interface UserTable {
  id: string;
  tenant_id: string;
  /** Unique per tenant; stored lower-cased by callers so lookups are case-insensitive. */
  email: string;
  name: string;
  role: UserRole;
  /** scrypt/argon2 hash in PHC string form; never the password. */
  password_hash: string;
  created_at: string;
  updated_at: string;
}
