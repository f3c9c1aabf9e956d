/**
 * `/api/v1/calls` (issue 4 §7): the tenant's live calls, read with `calls:read`, steered with
 * `calls:control`. Reads have a scope of their own, as CDRs do (`cdrs:read`), and not `voip:read`:
 * who is talking to whom right now is the same personal data as a call record, and a wallboard that
 * shows calls should not be able to hang them up.
 */
import { z, type OpenAPIHono } from '@hono/zod-openapi';
import type { ControlResult, LiveCalls } from '../../../pbx/calls/live-calls.js';
import { SwitchboardError } from '../../../shared/errors.js';
import type { ApiEnv } from '../../env.js';
import { FieldError } from '../../errors.js';
import type { ResourceDeps } from '../../resources.js';
import { defineRoute, errorResponses, registerRoute } from '../../route-registry.js';
import { IdParams, dataSchema, jsonBody, jsonResponse, noContent } from '../../schemas.js';
import { callerTenantId } from '../caller.js';
import { LiveCallSchema, TransferBody, liveCallJson } from './call.schemas.js';
import { liveCallsOf, tags } from './live-calls.deps.js';

const one = jsonResponse(dataSchema(LiveCallSchema), 'the call as it is now');

export const listCallsRoute = defineRoute({
  method: 'get', path: '/api/v1/calls', scope: 'calls:read', tags, summary: 'The tenant’s live calls, oldest first',
  responses: { 200: jsonResponse(z.object({ data: z.array(LiveCallSchema) }), 'every live call (not paged: live calls are few and held in memory)'), ...errorResponses([503]) },
});
export const getCallRoute = defineRoute({
  method: 'get', path: '/api/v1/calls/{id}', scope: 'calls:read', tags, summary: 'One live call',
  description: 'An ended call is 404 here; its record is at `/cdrs?…` (CDR `call_id`).',
  request: { params: IdParams },
  responses: { 200: one, ...errorResponses([404, 503]) },
});
export const hangUpCallRoute = defineRoute({
  method: 'post', path: '/api/v1/calls/{id}/hangup', scope: 'calls:control', tags, summary: 'Hang up a live call',
  description: 'An answered call: both legs get BYE (COMPLETED). A call still ringing ends as if the caller had cancelled (CANCELLED, 487).',
  request: { params: IdParams },
  responses: { 204: noContent, ...errorResponses([404, 409, 503]) },
});

const action = (verb: 'hold' | 'unhold', summary: string) =>
  defineRoute({
    method: 'post', path: `/api/v1/calls/{id}/${verb}`, scope: 'calls:control', tags, summary,
    description: 'Needs an answered call (409 `CALL_NOT_ANSWERED` before).',
    request: { params: IdParams },
    responses: { 200: one, ...errorResponses([404, 409, 503]) },
  });
export const holdCallRoute = action('hold', 'Put both parties of an answered call on hold');
export const unholdCallRoute = action('unhold', 'Take an answered call off hold');
export const transferCallRoute = defineRoute({
  method: 'post', path: '/api/v1/calls/{id}/transfer', scope: 'calls:control', tags, summary: 'Blind-transfer the caller to a number',
  description: 'The caller’s side is routed to `to` as the dialplan would; the other leg is released once the target answers. Needs an answered call.',
  request: { params: IdParams, body: jsonBody(TransferBody) },
  responses: { 200: one, ...errorResponses([404, 409, 422, 503]) },
});
export const cancelTransferRoute = defineRoute({
  method: 'delete', path: '/api/v1/calls/{id}/transfer', scope: 'calls:control', tags, summary: 'Cancel a transfer still ringing its target',
  description: '409 `NO_PENDING_TRANSFER` when none is ringing.',
  request: { params: IdParams },
  responses: { 200: one, ...errorResponses([404, 409, 503]) },
});

/** A refusal of the call service as the API's error. */
function refusalError(id: string, result: Exclude<ControlResult, { ok: true }>, what: string): SwitchboardError {
  switch (result.reason) {
    case 'not_found':
      return new SwitchboardError('CALL_NOT_FOUND', `no live call ${id}`, { httpStatus: 404 });
    case 'not_answered':
      return new SwitchboardError('CALL_NOT_ANSWERED', `${what} needs an answered call; call ${id} is not answered (yet)`, { httpStatus: 409 });
    case 'no_pending_transfer':
      return new SwitchboardError('NO_PENDING_TRANSFER', `call ${id} has no transfer ringing`, { httpStatus: 409 });
    case 'busy':
      return new SwitchboardError('CALL_BUSY', `call ${id} is being renegotiated or transferred; try ${what} again shortly`, { httpStatus: 409 });
    case 'transfer_failed': {
      const s = result.sipStatus ?? 500;
      return s === 404 || s === 484 || s === 604
        ? new FieldError('TRANSFER_TARGET_NOT_FOUND', `the transfer target is no number this call can reach (SIP ${s})`, [{ field: 'to', issue: `not routable (SIP ${s})` }])
        : new FieldError('TRANSFER_FAILED', `the transfer target could not be rung (SIP ${s})`, [{ field: 'to', issue: `refused (SIP ${s})` }], 409);
    }
  }
}

export function registerCallRoutes(app: OpenAPIHono<ApiEnv>, deps: ResourceDeps): void {
  registerRoute(app, listCallsRoute, async (c) => c.json({ data: liveCallsOf(deps).list(callerTenantId(c)).map(liveCallJson) }, 200));
  registerRoute(app, getCallRoute, async (c) => {
    const { id } = c.req.valid('param');
    const call = liveCallsOf(deps).get(callerTenantId(c), id);
    if (!call) throw refusalError(id, { ok: false, reason: 'not_found' }, 'reading');
    return c.json({ data: liveCallJson(call) }, 200);
  });
  registerRoute(app, hangUpCallRoute, async (c) => {
    const { id } = c.req.valid('param');
    const result = await liveCallsOf(deps).hangUp(callerTenantId(c), id);
    if (!result.ok) throw refusalError(id, result, 'hanging up');
    return c.body(null, 204);
  });

  /** Run one control action and answer with the call as it is afterwards (as it was, when it ended meanwhile). */
  const control = async (tenantId: string, id: string, what: string, act: (calls: LiveCalls) => Promise<ControlResult>) => {
    const calls = liveCallsOf(deps);
    const before = calls.get(tenantId, id);
    const result = await act(calls);
    if (!result.ok) throw refusalError(id, result, what);
    const after = calls.get(tenantId, id) ?? before;
    if (!after) throw refusalError(id, { ok: false, reason: 'not_found' }, what);
    return { data: liveCallJson(after) };
  };
  registerRoute(app, holdCallRoute, async (c) => {
    const { id } = c.req.valid('param');
    return c.json(await control(callerTenantId(c), id, 'hold', (calls) => calls.hold(callerTenantId(c), id)), 200);
  });
  registerRoute(app, unholdCallRoute, async (c) => {
    const { id } = c.req.valid('param');
    return c.json(await control(callerTenantId(c), id, 'unhold', (calls) => calls.unhold(callerTenantId(c), id)), 200);
  });
  registerRoute(app, transferCallRoute, async (c) => {
    const { id } = c.req.valid('param');
    const { to } = c.req.valid('json');
    return c.json(await control(callerTenantId(c), id, 'transfer', (calls) => calls.transfer(callerTenantId(c), id, to)), 200);
  });
  registerRoute(app, cancelTransferRoute, async (c) => {
    const { id } = c.req.valid('param');
    return c.json(await control(callerTenantId(c), id, 'cancelling a transfer', (calls) => calls.cancelTransfer(callerTenantId(c), id)), 200);
  });
}
