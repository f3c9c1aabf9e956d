import type { OpenAPIHono, RouteConfig, RouteHandler } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { SwitchboardError } from '../../../shared/errors.js';
import {
  countLiveRegistrations,
  getSite,
  getTenant,
  type Db,
  type Extension,
  type ExtensionFields,
  type ForwardSettings,
  type Tenant,
} from '../../../store/index.js';
import type { ApiEnv } from '../../env.js';
import { errorResponse } from '../../errors.js';
import type { ResourceDeps } from '../../resources.js';
import { registerRoute, type Scope } from '../../route-registry.js';
import type { CreateExtensionInput, ExtensionView, UpdateExtensionInput } from './extension.schemas.js';

/**
 * Mapping between the API's snake_case shapes and the store's camelCase ones, plus the small
 * checks every extension route shares (tenant of the caller, site ownership, number conflicts).
 */

/** The tenant the authenticated caller belongs to; auth guarantees it on every non-public route. */
export function tenantIdOf(c: Context<ApiEnv>): string {
  const tenantId = c.get('tenantId');
  if (tenantId === undefined) throw new SwitchboardError('UNAUTHORIZED', 'no tenant for this request', { httpStatus: 401 });
  return tenantId;
}

/** Stored instants are compared as ISO text; `deps.clock` is the wall clock. */
export function nowIsoOf(deps: ResourceDeps): string {
  return new Date(deps.clock.now()).toISOString();
}

/** The SIP identity a phone needs, from the tenant row (its domain and digest realm). */
export function sipIdentity(tenant: Pick<Tenant, 'sip_domain' | 'realm'>, number: string) {
  return { sip_username: number, sip_domain: tenant.sip_domain, realm: tenant.realm };
}

function forwardView(f: ForwardSettings): ExtensionView['forward'] {
  return {
    always: f.always ?? null,
    busy: f.busy ?? null,
    no_answer: f.noAnswer ?? null,
    no_answer_seconds: f.noAnswerSeconds ?? null,
  };
}

/** An extension as the API shows it; `contacts` is its live binding count. */
export function extensionView(ext: Extension, tenant: Tenant, contacts: number): ExtensionView {
  return {
    id: ext.id,
    number: ext.number,
    display_name: ext.displayName,
    caller_id_name: ext.callerIdName,
    caller_id_number: ext.callerIdNumber,
    codecs: ext.codecs,
    voicemail_enabled: ext.voicemailEnabled,
    recording_enabled: ext.recordingEnabled,
    forward: forwardView(ext.forward),
    dnd: ext.dnd,
    max_concurrent_calls: ext.maxConcurrentCalls,
    site_id: ext.siteId,
    status: ext.status,
    ...sipIdentity(tenant, ext.number),
    registration_status: { registered: contacts > 0, contacts },
    created_at: ext.createdAt,
    updated_at: ext.updatedAt,
  };
}

/** Views of several extensions of one tenant: one tenant read and one grouped count query in all. */
export async function extensionViews(db: Db, tenantId: string, exts: Extension[], now: string): Promise<ExtensionView[]> {
  const [tenant, counts] = await Promise.all([
    getTenant(db, tenantId),
    countLiveRegistrations(
      db,
      tenantId,
      exts.map((e) => e.id),
      now,
    ),
  ]);
  return exts.map((e) => extensionView(e, tenant, counts.get(e.id) ?? 0));
}

/** The view of one extension (same queries as a list of one). */
export async function extensionViewOf(db: Db, tenantId: string, ext: Extension, now: string): Promise<ExtensionView> {
  const [tenant, counts] = await Promise.all([getTenant(db, tenantId), countLiveRegistrations(db, tenantId, [ext.id], now)]);
  return extensionView(ext, tenant, counts.get(ext.id) ?? 0);
}

/**
 * API forward object → stored one. On update, fields absent from the request keep their current
 * value (PATCH merges), `null` clears a target.
 */
export function forwardSettings(input: NonNullable<CreateExtensionInput['forward']>, current: ForwardSettings = {}): ForwardSettings {
  const merged: ForwardSettings = { ...current };
  if (input.always !== undefined) merged.always = input.always;
  if (input.busy !== undefined) merged.busy = input.busy;
  if (input.no_answer !== undefined) merged.noAnswer = input.no_answer;
  if (input.no_answer_seconds !== undefined) merged.noAnswerSeconds = input.no_answer_seconds;
  return merged;
}

/** Settings of a create/update body in the store's terms (password and number handled by the caller). */
export function extensionFields(body: UpdateExtensionInput, currentForward?: ForwardSettings): ExtensionFields {
  return {
    ...(body.display_name !== undefined && { displayName: body.display_name }),
    ...(body.caller_id_name !== undefined && { callerIdName: body.caller_id_name }),
    ...(body.caller_id_number !== undefined && { callerIdNumber: body.caller_id_number }),
    ...(body.codecs !== undefined && { codecs: body.codecs }),
    ...(body.voicemail_enabled !== undefined && { voicemailEnabled: body.voicemail_enabled }),
    ...(body.recording_enabled !== undefined && { recordingEnabled: body.recording_enabled }),
    ...(body.forward !== undefined && { forward: forwardSettings(body.forward, currentForward) }),
    ...(body.dnd !== undefined && { dnd: body.dnd }),
    ...(body.max_concurrent_calls !== undefined && { maxConcurrentCalls: body.max_concurrent_calls }),
    ...(body.site_id !== undefined && { siteId: body.site_id }),
    ...(body.status !== undefined && { status: body.status }),
  };
}

/** Names of the fields a request changed, for audit details (never values: some are secrets). */
export function changedFields(body: UpdateExtensionInput): string[] {
  return Object.keys(body).sort();
}

/**
 * An expected failure that names the request field at fault; {@link fieldErrorResponse} turns it
 * into the envelope with `details[].field` (the shared error handler has no details for
 * SwitchboardError).
 */
export class FieldError extends SwitchboardError {
  constructor(
    code: string,
    httpStatus: 404 | 409 | 422,
    readonly field: string,
    message: string,
  ) {
    super(code, message, { httpStatus });
  }
}

/** The envelope for a {@link FieldError}, or undefined for anything else (rethrow it). */
export function fieldErrorResponse(c: Context<ApiEnv>, err: unknown): Response | undefined {
  if (!(err instanceof FieldError)) return undefined;
  return errorResponse(c, err.httpStatus as 404 | 409 | 422, err.code, err.message, {
    details: [{ field: err.field, issue: err.message }],
  });
}

/**
 * {@link registerRoute} whose handler may throw {@link FieldError}: answered with the field in
 * `details` instead of going to the app's generic error handler.
 */
export function registerWithFieldErrors<R extends RouteConfig>(
  app: OpenAPIHono<ApiEnv>,
  def: { route: R; scope: Scope },
  handler: RouteHandler<R, ApiEnv>,
): void {
  const guarded = async (...args: Parameters<RouteHandler<R, ApiEnv>>) => {
    try {
      return await handler(...args);
    } catch (err) {
      const response = fieldErrorResponse(args[0], err);
      if (response) return response;
      throw err;
    }
  };
  registerRoute(app, def, guarded as RouteHandler<R, ApiEnv>);
}

/** A `site_id` must name a site of the caller's tenant (the foreign key alone would accept any tenant's). */
export async function checkSite(db: Db, tenantId: string, siteId: string | null | undefined): Promise<void> {
  if (siteId === undefined || siteId === null) return;
  try {
    await getSite(db, tenantId, siteId);
  } catch (err) {
    if (err instanceof SwitchboardError && err.code === 'SITE_NOT_FOUND') {
      throw new FieldError('SITE_NOT_FOUND', 422, 'site_id', `site ${siteId} does not exist in this tenant`);
    }
    throw err;
  }
}

/** Runs a write; the only unique constraint on extensions besides the id is (tenant, number). */
export async function withNumberConflict<T>(number: string | undefined, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (err) {
    if (err instanceof SwitchboardError && err.code === 'CONFLICT') {
      throw new FieldError('EXTENSION_NUMBER_TAKEN', 409, 'number', `extension number ${number ?? ''} is already in use`);
    }
    throw err;
  }
}
