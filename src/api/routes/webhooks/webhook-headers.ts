import { getWebhookHeaders, type Db } from '../../../store/index.js';
import { FieldError } from '../../errors.js';
import { REDACTED_HEADER_VALUE } from './webhook.schemas.js';

const markerProblem = (names: string[], issue: string): FieldError =>
  new FieldError('WEBHOOK_HEADER_REDACTED', `headers: ${issue}`, names.map((name) => ({ field: `headers.${name}`, issue })));

/**
 * A new endpoint's headers: the redaction marker is no value to store (it would be sent to the
 * receiver as a literal token), so it is refused with 422 naming each such header.
 */
export function headersForCreate(given: Record<string, string> | undefined): Record<string, string> | undefined {
  const marked = Object.keys(given ?? {}).filter((name) => given?.[name] === REDACTED_HEADER_VALUE);
  if (marked.length > 0) throw markerProblem(marked, `"${REDACTED_HEADER_VALUE}" is the redaction marker: send the header's value`);
  return given;
}

/**
 * The header set a PATCH stores: the given object replaces the whole set, and a value equal to
 * the redaction marker keeps the stored value of that header (names compare case-insensitively,
 * as in HTTP), so a GET's headers can be sent back with one changed. A marker for a header that
 * has no stored value is refused with 422 naming it. Decrypts only when a marker is present.
 */
export async function headersForUpdate(
  db: Db,
  secretKey: Buffer,
  tenantId: string,
  id: string,
  given: Record<string, string> | undefined,
): Promise<Record<string, string> | undefined> {
  if (given === undefined || !Object.values(given).includes(REDACTED_HEADER_VALUE)) return given;
  const stored = new Map(Object.entries(await getWebhookHeaders(db, secretKey, tenantId, id)).map(([name, value]) => [name.toLowerCase(), value]));
  const missing: string[] = [];
  const merged: Record<string, string> = {};
  for (const [name, value] of Object.entries(given)) {
    const kept = value === REDACTED_HEADER_VALUE ? stored.get(name.toLowerCase()) : value;
    if (kept === undefined) missing.push(name);
    else merged[name] = kept;
  }
  if (missing.length > 0) throw markerProblem(missing, `"${REDACTED_HEADER_VALUE}" keeps a stored value, and this header has none: send its value`);
  return merged;
}
