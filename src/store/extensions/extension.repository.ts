import { createHash, randomBytes } from 'node:crypto';
import { uuid } from '../../shared/ids.js';
import { fromDbBool, inTransaction, nowIso, pageBounds, toDbBool, type Db, type Page, type PageRequest } from '../database.js';
import { notFound, withDbErrors } from '../db-errors.js';
import { decryptSecret, encryptSecret } from '../secrets.js';
import { bumpStoreVersion, noteBindingsRemoved } from '../change-version.js';
import { assertDialNumberFree } from '../dial-numbers.js';
import type { ExtensionTable } from './extension.table.js';

/** Forwarding rules; kept as one JSON value because the API reads and writes them together. */
export interface ForwardSettings {
  always?: string | null;
  busy?: string | null;
  noAnswer?: string | null;
  noAnswerSeconds?: number;
}

/** An extension as the app sees it: booleans and JSON decoded, secrets left out. */
export interface Extension {
  id: string;
  tenantId: string;
  number: string;
  displayName: string;
  callerIdName: string | null;
  callerIdNumber: string | null;
  codecs: string[];
  voicemailEnabled: boolean;
  recordingEnabled: boolean;
  forward: ForwardSettings;
  dnd: boolean;
  maxConcurrentCalls: number;
  siteId: string | null;
  status: 'active' | 'disabled';
  createdAt: string;
  updatedAt: string;
}

/** What digest authentication needs (RFC 2617 / RFC 8760): both HA1 values, never the password. */
export interface DigestCredentials {
  extensionId: string;
  tenantId: string;
  number: string;
  ha1Md5: string;
  ha1Sha256: string;
  status: 'active' | 'disabled';
}

/** Settable fields; every one optional on update. */
export interface ExtensionFields {
  displayName?: string;
  callerIdName?: string | null;
  callerIdNumber?: string | null;
  codecs?: string[];
  voicemailEnabled?: boolean;
  recordingEnabled?: boolean;
  forward?: ForwardSettings;
  dnd?: boolean;
  maxConcurrentCalls?: number;
  siteId?: string | null;
  status?: 'active' | 'disabled';
}

/** Input for {@link createExtension}; without `sipPassword` a strong one is generated. */
export interface NewExtension extends ExtensionFields {
  tenantId: string;
  number: string;
  sipPassword?: string;
}

const DEFAULT_CODECS = ['opus', 'PCMU', 'PCMA', 'G722'];

/** A strong SIP password: 24 characters from 144 random bits, safe in any phone's config UI. */
export function generateSipPassword(): string {
  return randomBytes(18).toString('base64url');
}

/** HA1 = H(user:realm:password), for MD5 and SHA-256, as RFC 7616 §3.4.2 defines it. */
export function computeHa1(number: string, realm: string, password: string): { md5: string; sha256: string } {
  const input = `${number}:${realm}:${password}`;
  return {
    md5: createHash('md5').update(input).digest('hex'),
    sha256: createHash('sha256').update(input).digest('hex'),
  };
}

/**
 * The columns an {@link Extension} is built from: every column but the secrets (`ha1_md5`,
 * `ha1_sha256`, `sip_password_enc`), which reads that return extensions never select, so a list
 * neither reads nor copies ~200 bytes of secret text per row it does not return.
 */
const EXTENSION_COLUMNS = [
  'id',
  'tenant_id',
  'number',
  'display_name',
  'caller_id_name',
  'caller_id_number',
  'codecs',
  'voicemail_enabled',
  'recording_enabled',
  'forward',
  'dnd',
  'max_concurrent_calls',
  'site_id',
  'status',
  'created_at',
  'updated_at',
] as const satisfies readonly (keyof ExtensionTable)[];

/** A row as {@link EXTENSION_COLUMNS} selects it. */
type ExtensionRow = Pick<ExtensionTable, (typeof EXTENSION_COLUMNS)[number]>;

function toExtension(row: ExtensionRow): Extension {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    number: row.number,
    displayName: row.display_name,
    callerIdName: row.caller_id_name,
    callerIdNumber: row.caller_id_number,
    codecs: JSON.parse(row.codecs) as string[],
    voicemailEnabled: fromDbBool(row.voicemail_enabled),
    recordingEnabled: fromDbBool(row.recording_enabled),
    forward: JSON.parse(row.forward) as ForwardSettings,
    dnd: fromDbBool(row.dnd),
    maxConcurrentCalls: row.max_concurrent_calls,
    siteId: row.site_id,
    status: row.status,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function fieldColumns(f: ExtensionFields): Partial<ExtensionTable> {
  return {
    ...(f.displayName !== undefined && { display_name: f.displayName }),
    ...(f.callerIdName !== undefined && { caller_id_name: f.callerIdName }),
    ...(f.callerIdNumber !== undefined && { caller_id_number: f.callerIdNumber }),
    ...(f.codecs !== undefined && { codecs: JSON.stringify(f.codecs) }),
    ...(f.voicemailEnabled !== undefined && { voicemail_enabled: toDbBool(f.voicemailEnabled) }),
    ...(f.recordingEnabled !== undefined && { recording_enabled: toDbBool(f.recordingEnabled) }),
    ...(f.forward !== undefined && { forward: JSON.stringify(f.forward) }),
    ...(f.dnd !== undefined && { dnd: toDbBool(f.dnd) }),
    ...(f.maxConcurrentCalls !== undefined && { max_concurrent_calls: f.maxConcurrentCalls }),
    ...(f.siteId !== undefined && { site_id: f.siteId }),
    ...(f.status !== undefined && { status: f.status }),
  };
}

async function realmOf(db: Db, tenantId: string): Promise<string> {
  const tenant = await db.selectFrom('tenants').select('realm').where('id', '=', tenantId).executeTakeFirst();
  if (!tenant) throw notFound('tenant', tenantId);
  return tenant.realm;
}

function passwordColumns(key: Buffer, id: string, number: string, realm: string, password: string) {
  const ha1 = computeHa1(number, realm, password);
  return { ha1_md5: ha1.md5, ha1_sha256: ha1.sha256, sip_password_enc: encryptSecret(key, password, id) };
}

/**
 * Creates an extension. The SIP password is kept only as the two HA1 values (for digest) and as
 * AES-256-GCM ciphertext under `secretKey` with the row id as AAD (for the credentials endpoint).
 * Returns the password once so the API can show a generated one. Number taken → `CONFLICT`.
 */
export async function createExtension(
  db: Db,
  secretKey: Buffer,
  input: NewExtension,
): Promise<{ extension: Extension; sipPassword: string }> {
  return inTransaction(db, async (trx) => {
    const realm = await realmOf(trx, input.tenantId);
    // Extensions and ring groups share the dial space; the unique constraint covers extensions only.
    await assertDialNumberFree(trx, input.tenantId, input.number);
    const id = uuid();
    const now = nowIso();
    const sipPassword = input.sipPassword ?? generateSipPassword();
    const row: ExtensionTable = {
      id,
      tenant_id: input.tenantId,
      number: input.number,
      display_name: input.displayName ?? input.number,
      caller_id_name: null,
      caller_id_number: null,
      codecs: JSON.stringify(DEFAULT_CODECS),
      voicemail_enabled: 1,
      recording_enabled: 0,
      forward: '{}',
      dnd: 0,
      max_concurrent_calls: 2,
      site_id: null,
      status: 'active',
      created_at: now,
      updated_at: now,
      ...passwordColumns(secretKey, id, input.number, realm, sipPassword),
      ...fieldColumns(input),
    };
    await withDbErrors('extension', () => trx.insertInto('extensions').values(row).execute());
    bumpStoreVersion('extensions');
    return { extension: toExtension(row), sipPassword };
  });
}

/** The extension within its tenant, or `EXTENSION_NOT_FOUND` (also for another tenant's id). */
export async function getExtension(db: Db, tenantId: string, id: string): Promise<Extension> {
  const row = await db
    .selectFrom('extensions')
    .select(EXTENSION_COLUMNS)
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .executeTakeFirst();
  if (!row) throw notFound('extension', id);
  return toExtension(row);
}

/** Columns a list of extensions may be sorted on (all cheap: number is indexed per tenant). */
export type ExtensionSortField = 'number' | 'display_name' | 'created_at';

/** Filters for {@link listExtensions}. */
export interface ExtensionFilter extends PageRequest {
  status?: 'active' | 'disabled';
  siteId?: string;
  /** Numbers starting with these digits (`LIKE` is safe: callers pass digits only). */
  numberPrefix?: string;
  /** Exactly this number. */
  number?: string;
  /** Default: by number, ascending. */
  sort?: { field: ExtensionSortField; direction: 'asc' | 'desc' };
}

/** A page of a tenant's extensions (by number unless `sort` says otherwise), with the total matching the filters. */
export async function listExtensions(db: Db, tenantId: string, filter: ExtensionFilter = {}): Promise<Page<Extension>> {
  const { limit, offset } = pageBounds(filter);
  let query = db.selectFrom('extensions').where('tenant_id', '=', tenantId);
  if (filter.status !== undefined) query = query.where('status', '=', filter.status);
  if (filter.siteId !== undefined) query = query.where('site_id', '=', filter.siteId);
  if (filter.numberPrefix !== undefined) query = query.where('number', 'like', `${filter.numberPrefix}%`);
  if (filter.number !== undefined) query = query.where('number', '=', filter.number);
  const sort = filter.sort ?? { field: 'number', direction: 'asc' };
  const [rows, count] = await Promise.all([
    // `id` breaks ties so pages never overlap or skip rows when the sort column repeats.
    query.select(EXTENSION_COLUMNS).orderBy(sort.field, sort.direction).orderBy('id').limit(limit).offset(offset).execute(),
    query.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
  ]);
  return { items: rows.map(toExtension), total: Number(count.n) };
}

/**
 * Updates settings and, with `sipPassword`, the password (HA1 values and ciphertext together, in
 * one statement, so digest and the credentials endpoint never disagree). A new `number` changes the
 * SIP user the HA1 values are computed over, so they are recomputed from the given password or,
 * without one, from the stored (decrypted) one. Number taken → `CONFLICT`.
 */
export async function updateExtension(
  db: Db,
  secretKey: Buffer,
  tenantId: string,
  id: string,
  patch: ExtensionFields & { number?: string; sipPassword?: string },
): Promise<Extension> {
  return inTransaction(db, async (trx) => {
    const current = await getExtension(trx, tenantId, id);
    const number = patch.number ?? current.number;
    if (number !== current.number) await assertDialNumberFree(trx, tenantId, number, { kind: 'extension', id });
    const rehash = patch.sipPassword !== undefined || number !== current.number;
    const password = rehash ? (patch.sipPassword ?? (await getExtensionSipPassword(trx, secretKey, tenantId, id))) : undefined;
    const secret =
      password === undefined ? {} : passwordColumns(secretKey, id, number, await realmOf(trx, tenantId), password);
    const row = await withDbErrors('extension', () =>
      trx
        .updateTable('extensions')
        .set({ ...fieldColumns(patch), ...(number !== current.number && { number }), ...secret, updated_at: nowIso() })
        .where('tenant_id', '=', tenantId)
        .where('id', '=', id)
        .returning(EXTENSION_COLUMNS)
        .executeTakeFirstOrThrow(),
    );
    // Credentials and status are cached by the registrar: a change must reach SIP at once.
    bumpStoreVersion('extensions');
    return toExtension(row);
  });
}

/** Deletes an extension; its registrations and ring-group memberships go with it (foreign-key cascade). */
export async function deleteExtension(db: Db, tenantId: string, id: string): Promise<void> {
  const result = await db.deleteFrom('extensions').where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
  bumpStoreVersion('extensions');
  // The cascade removed its bindings.
  noteBindingsRemoved(id);
  if (result.numDeletedRows === 0n) throw notFound('extension', id);
}

/** The SIP password in clear, for the scope-guarded credentials endpoint only. */
export async function getExtensionSipPassword(db: Db, secretKey: Buffer, tenantId: string, id: string): Promise<string> {
  const row = await db
    .selectFrom('extensions')
    .select('sip_password_enc')
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .executeTakeFirst();
  if (!row) throw notFound('extension', id);
  return decryptSecret(secretKey, row.sip_password_enc, id);
}

/** Numbers of the given extensions of a tenant (one query), for lists that show a number next to an id. */
export async function extensionNumbers(db: Db, tenantId: string, ids: readonly string[]): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const rows = await db
    .selectFrom('extensions')
    .select(['id', 'number'])
    .where('tenant_id', '=', tenantId)
    .where('id', 'in', [...new Set(ids)])
    .execute();
  return new Map(rows.map((r) => [r.id, r.number]));
}

/** What the registrar needs to check a digest response for `number` in a tenant. */
export async function findDigestCredentials(db: Db, tenantId: string, number: string): Promise<DigestCredentials | undefined> {
  const row = await db
    .selectFrom('extensions')
    .select(['id', 'tenant_id', 'number', 'ha1_md5', 'ha1_sha256', 'status'])
    .where('tenant_id', '=', tenantId)
    .where('number', '=', number)
    .executeTakeFirst();
  if (!row) return undefined;
  return {
    extensionId: row.id,
    tenantId: row.tenant_id,
    number: row.number,
    ha1Md5: row.ha1_md5,
    ha1Sha256: row.ha1_sha256,
    status: row.status,
  };
}

/**
 * Every extension's digest credentials, for the registrar to warm its cache at start: after a
 * restart every phone re-registers at once, and one query beats thousands.
 */
export async function listAllDigestCredentials(db: Db): Promise<DigestCredentials[]> {
  const rows = await db.selectFrom('extensions').select(['id', 'tenant_id', 'number', 'ha1_md5', 'ha1_sha256', 'status']).execute();
  return rows.map((row) => ({
    extensionId: row.id,
    tenantId: row.tenant_id,
    number: row.number,
    ha1Md5: row.ha1_md5,
    ha1Sha256: row.ha1_sha256,
    status: row.status,
  }));
}

/** The tenant's extensions with these ids (one query; unknown or foreign ids are left out), e.g. a ring group's members. */
export async function getExtensionsByIds(db: Db, tenantId: string, ids: readonly string[]): Promise<Extension[]> {
  if (ids.length === 0) return [];
  const rows = await db
    .selectFrom('extensions')
    .select(EXTENSION_COLUMNS)
    .where('tenant_id', '=', tenantId)
    .where('id', 'in', [...new Set(ids)])
    .execute();
  return rows.map(toExtension);
}

/** The settings a phone changes on itself with feature codes (`*78` DND, `*72` forward): never a secret. */
export type ExtensionCallSettings = Pick<ExtensionFields, 'dnd' | 'forward'>;

/**
 * {@link updateExtension} for {@link ExtensionCallSettings}, for callers that hold no secret key
 * (the dialplan's feature codes): the key is only read to re-hash a new password or number, and
 * these fields are neither, so an empty one is passed and never used.
 */
export async function updateExtensionCallSettings(db: Db, tenantId: string, id: string, fields: ExtensionCallSettings): Promise<Extension> {
  const settings: ExtensionCallSettings = {
    ...(fields.dnd !== undefined && { dnd: fields.dnd }),
    ...(fields.forward !== undefined && { forward: fields.forward }),
  };
  return updateExtension(db, Buffer.alloc(0), tenantId, id, settings);
}
