import type { OpenAPIHono } from '@hono/zod-openapi';
import { z } from '@hono/zod-openapi';
import { eventJsonSchema } from '../../../events/event-json-schema.js';
import { EVENT_TYPES } from '../../../events/event-types.js';
import type { ApiEnv } from '../../env.js';
import { defineRoute, registerRoute } from '../../route-registry.js';
import { jsonResponse } from '../../schemas.js';

export const eventSchemaRoute = defineRoute({
  method: 'get', path: '/api/v1/events/schema', scope: 'public', tags: ['Events'], summary: 'JSON Schema of every event envelope',
  description:
    `The envelope \`{id, type, tenant_id, tenant_external_id, timestamp, data}\` sent to webhooks and the WebSocket stream, as one ` +
    `JSON Schema (draft 2020-12) with a \`oneOf\` per type; \`data\` depends on \`type\`. Types: ${EVENT_TYPES.map((t) => `\`${t}\``).join(', ')}. ` +
    'Public, like the OpenAPI document: it describes the format, not any tenant\'s data.',
  responses: { 200: jsonResponse(z.record(z.string(), z.unknown()).openapi('EventEnvelopeJsonSchema'), 'the JSON Schema') },
});

/** `GET /api/v1/events/schema`: the published event schema (issue 5 §1), generated from the zod schemas. */
export function registerEventSchemaRoute(app: OpenAPIHono<ApiEnv>): void {
  registerRoute(app, eventSchemaRoute, (c) => c.json(eventJsonSchema(), 200));
}
