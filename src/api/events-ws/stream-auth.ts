import type { IncomingMessage } from 'node:http';
import { findPrimaryTenant, type Db } from '../../store/index.js';
import { hasScope, verifyApiKey } from '../api-key-auth.js';

/** The scope a key needs to read the stream: the same one that reads webhooks and their events. */
export const STREAM_SCOPE = 'voip:read';

/** Who is reading, decided once at the upgrade. */
export interface StreamPrincipal {
  apiKeyId: string;
  tenantId: string;
  /** An `admin` key of the primary tenant reads every tenant's events (as it manages every tenant in the API). */
  allTenants: boolean;
}

export type StreamAuth = { ok: true; principal: StreamPrincipal } | { ok: false; status: 401 | 403 };

/**
 * The key of an upgrade request: `X-API-Key` (or the CRM bridge's `X-App-Api-Key`) header, else
 * `?api_key=` (browsers cannot set headers on a WebSocket), else `Authorization: Bearer`.
 */
export function presentedStreamKey(req: IncomingMessage, url: URL): string | undefined {
  const header = (n: string): string | undefined => {
    const v = req.headers[n];
    return (Array.isArray(v) ? v[0] : v)?.trim() || undefined;
  };
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(header('authorization') ?? '')?.[1];
  return header('x-api-key') ?? header('x-app-api-key') ?? (url.searchParams.get('api_key') || undefined) ?? bearer;
}

/** Same verification as the REST API (shape, usable key in the store); 401 for any bad key, 403 without the scope. */
export async function authenticateStream(db: Db, key: string | undefined): Promise<StreamAuth> {
  const apiKey = await verifyApiKey(db, key);
  if (!apiKey) return { ok: false, status: 401 };
  if (!hasScope(apiKey.scopes, STREAM_SCOPE)) return { ok: false, status: 403 };
  const allTenants = hasScope(apiKey.scopes, 'admin') && (await findPrimaryTenant(db))?.id === apiKey.tenantId;
  return { ok: true, principal: { apiKeyId: apiKey.id, tenantId: apiKey.tenantId, allTenants } };
}
