import { z, type OpenAPIHono } from '@hono/zod-openapi';
import { simulateDecision } from '../../../pbx/dialplan/simulate.js';
import { SwitchboardError } from '../../../shared/errors.js';
import { extensionNumbers, listExtensions } from '../../../store/index.js';
import type { ApiEnv } from '../../env.js';
import type { ResourceDeps } from '../../resources.js';
import { defineRoute, errorResponses } from '../../route-registry.js';
import { dataSchema, jsonBody, jsonResponse } from '../../schemas.js';
import { callerTenantId } from '../caller.js';
import { FieldError, registerWithFieldErrors } from '../extensions/extension.view.js';

const tags = ['Routing'];

const SimulateBody = z.strictObject({
  from: z.string().regex(/^[0-9A-Za-z*#+._-]{1,64}$/, 'the calling extension’s number').openapi({ example: '1001' }),
  to: z.string().regex(/^[0-9A-Za-z*#+._%-]{1,64}$/, 'a number as dialled (digits, letters, * # + . _ -)').openapi({ example: '1002' }),
  at: z.iso.datetime({ offset: true }).optional().openapi({ description: 'When the call happens (time conditions); default now', example: '2026-11-23T09:30:00Z' }),
});

const PartySchema = z.object({ number: z.string(), name: z.string().nullable(), extension_id: z.string().nullable() });
const StepSchema = z.object({
  extension_ids: z.array(z.string()),
  extension_numbers: z.array(z.string()),
  timeout_ms: z.number().int().nullable().openapi({ description: 'the step ends as no answer after this long; null: the call’s ring timeout' }),
  reason: z.string(),
});
export const SimulationSchema = z
  .object({
    decision: z.enum(['reject', 'feature', 'ring']),
    sip_status: z.number().int().nullable().openapi({ description: 'reject: the answer to the caller; ring: the answer if nobody answers any step; feature: 200' }),
    reason: z.string().nullable(),
    callee: PartySchema,
    feature_code: z.string().nullable(),
    ring_timeout_ms: z.number().int().nullable(),
    steps: z.array(StepSchema).openapi({ description: 'ring: the steps in order, each assumed unanswered (bounded to 50)' }),
    trace: z.array(z.object({ step: z.string(), detail: z.string() })).openapi({ description: 'every dialplan rule considered and every decision taken' }),
  })
  .openapi('RoutingSimulation');

export const simulateRoute = defineRoute({
  method: 'post',
  path: '/api/v1/routing/simulate',
  scope: 'voip:read',
  tags,
  summary: 'Where a call would go',
  description:
    'Routes `to` dialled by extension `from` at `at` through the dialplan and the extensions’ forwarding, DND and call limits, ' +
    'exactly as a call would be — without placing a call or applying a feature code. For a ring decision, the plan is walked ' +
    'assuming no step is answered.',
  request: { body: jsonBody(SimulateBody) },
  responses: { 200: jsonResponse(dataSchema(SimulationSchema), 'the decision and its trace'), ...errorResponses([422, 503]) },
});

/** `POST /api/v1/routing/simulate` (`voip:read`): the routing decision as a trace, nothing applied. */
export function registerRoutingRoutes(app: OpenAPIHono<ApiEnv>, deps: ResourceDeps): void {
  registerWithFieldErrors(app, simulateRoute, async (c) => {
    const body = c.req.valid('json');
    const tenantId = callerTenantId(c);
    // Read at request time: main.ts (and tests) set the router once the call service exists.
    const router = deps.router;
    if (!router) throw new SwitchboardError('ROUTING_UNAVAILABLE', 'call routing is not running in this process', { httpStatus: 503 });
    const caller = (await listExtensions(deps.db, tenantId, { number: body.from, limit: 1 })).items[0];
    if (!caller) throw new FieldError('EXTENSION_NOT_FOUND', 422, 'from', `no extension ${body.from} in this tenant`);
    const at = body.at === undefined ? deps.clock.now() : Date.parse(body.at);
    const sim = await simulateDecision(await router.route({ tenantId, callerExtensionId: caller.id, dialed: body.to, at }));
    const numbers = await extensionNumbers(deps.db, tenantId, sim.steps.flatMap((s) => s.extensionIds));
    return c.json(
      {
        data: {
          decision: sim.decision,
          sip_status: sim.sipStatus,
          reason: sim.reason,
          callee: { number: sim.callee.number, name: sim.callee.name, extension_id: sim.callee.extensionId },
          feature_code: sim.feature,
          ring_timeout_ms: sim.ringTimeoutMs,
          steps: sim.steps.map((s) => ({ extension_ids: s.extensionIds, extension_numbers: s.extensionIds.map((id) => numbers.get(id) ?? id), timeout_ms: s.timeoutMs, reason: s.reason })),
          trace: sim.trace,
        },
      },
      200,
    );
  });
}
