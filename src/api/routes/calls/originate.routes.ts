/**
 * `POST /api/v1/calls` — click-to-call (issue 4 §7): ring the extension's phones, then the
 * destination, as if the extension had dialled it. Answers 202 once the call is recorded and the
 * phones ring; the call then shows in `GET /calls` and ends with its CDR. `Idempotency-Key` (the
 * app's middleware) makes a retry answer the same call instead of placing a second one.
 */
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { OriginateOutcome } from '../../../pbx/calls/live-calls.js';
import { SwitchboardError } from '../../../shared/errors.js';
import { getExtension, listExtensions, type Extension } from '../../../store/index.js';
import type { ApiEnv } from '../../env.js';
import { FieldError } from '../../errors.js';
import type { ResourceDeps } from '../../resources.js';
import { defineRoute, errorResponses, registerRoute } from '../../route-registry.js';
import { dataSchema, jsonBody, jsonResponse } from '../../schemas.js';
import { callerTenantId } from '../caller.js';
import { LiveCallSchema, OriginateBody, liveCallJson } from './call.schemas.js';
import { liveCallsOf, tags } from './live-calls.deps.js';

export const originateCallRoute = defineRoute({
  method: 'post', path: '/api/v1/calls', scope: 'calls:control', tags, summary: 'Originate a call (click-to-call)',
  description: [
    "Rings the extension's phones first; when one answers, `to` is routed as if the extension had dialled it and rung. Answers at once (202) with the call; follow it with `GET /calls/{id}`; it ends with a CDR whose caller is the extension.",
    'Refusals are still recorded as calls with their CDR; the error message names the call id. 409 `EXTENSION_UNAVAILABLE` (no phone registered), `CALL_LIMIT_REACHED`, `DESTINATION_BUSY`, `DESTINATION_UNAVAILABLE`, `CALL_REFUSED`; 422 `DESTINATION_NOT_FOUND` (field `to`).',
    'Send an `Idempotency-Key`: a retry with the same key answers the same call and places none.',
  ].join('\n\n'),
  request: { body: jsonBody(OriginateBody) },
  responses: { 202: jsonResponse(dataSchema(LiveCallSchema), 'the call, ringing the extension'), ...errorResponses([409, 422, 503]) },
});

/** The extension named by `extension_id` or `from`; 422 naming that field when it is not the tenant's or is disabled. */
async function originatingExtension(deps: ResourceDeps, tenantId: string, body: { extension_id?: string | undefined; from?: string | undefined }): Promise<{ ext: Extension; field: string }> {
  const field = body.extension_id !== undefined ? 'extension_id' : 'from';
  const ext = body.extension_id !== undefined
    ? await getExtension(deps.db, tenantId, body.extension_id).catch(() => undefined)
    : (await listExtensions(deps.db, tenantId, { number: body.from ?? '', limit: 1 })).items[0];
  if (!ext) throw new FieldError('EXTENSION_NOT_FOUND', `no extension ${body.extension_id ?? body.from}`, [{ field, issue: 'no such extension in this tenant' }]);
  if (ext.status !== 'active') throw new FieldError('EXTENSION_DISABLED', `extension ${ext.number} is disabled`, [{ field, issue: 'the extension is disabled' }]);
  return { ext, field };
}

/** A refused origination as the API's error: who refused, with which SIP status, and the call id of its record. */
function refusal(outcome: Extract<OriginateOutcome, { ok: false }>, ext: Extension, field: string, to: string): SwitchboardError {
  const recorded = `(call ${outcome.callId}, recorded with its CDR)`;
  const s = outcome.sipStatus;
  if (outcome.refusedBy === 'extension') {
    if (s === 403) return new FieldError('CALL_LIMIT_REACHED', `extension ${ext.number} is at its call limit ${recorded}`, [{ field, issue: 'at its max_concurrent_calls' }], 409);
    return new FieldError('EXTENSION_UNAVAILABLE', `extension ${ext.number} has no phone that can ring (SIP ${s}) ${recorded}`, [{ field, issue: 'no registered phone answered the call' }], 409);
  }
  if (s === 404 || s === 484 || s === 604) return new FieldError('DESTINATION_NOT_FOUND', `${to} is no number this extension can dial ${recorded}`, [{ field: 'to', issue: `not routable (SIP ${s})` }]);
  if (s === 486 || s === 600) return new FieldError('DESTINATION_BUSY', `${to} is busy ${recorded}`, [{ field: 'to', issue: 'busy' }], 409);
  if (s === 480) return new FieldError('DESTINATION_UNAVAILABLE', `${to} cannot ring now ${recorded}`, [{ field: 'to', issue: 'unavailable (not registered)' }], 409);
  return new FieldError('CALL_REFUSED', `${to} was refused (SIP ${s}) ${recorded}`, [{ field: 'to', issue: `refused (SIP ${s})` }], 409);
}

export function registerOriginateRoute(app: OpenAPIHono<ApiEnv>, deps: ResourceDeps): void {
  registerRoute(app, originateCallRoute, async (c) => {
    const tenantId = callerTenantId(c);
    const body = c.req.valid('json');
    const calls = liveCallsOf(deps);
    if (!calls.canOriginate) throw new SwitchboardError('CALLS_UNAVAILABLE', 'origination is not available: SIP calls are not running', { httpStatus: 503 });
    const { ext, field } = await originatingExtension(deps, tenantId, body);
    const outcome = await calls.originate({ tenantId, extensionId: ext.id, to: body.to, callerId: body.caller_id ?? null, ringTimeoutMs: body.timeout_seconds * 1000 });
    if (!outcome.ok) throw refusal(outcome, ext, field, body.to);
    return c.json({ data: liveCallJson(outcome.call) }, 202);
  });
}
