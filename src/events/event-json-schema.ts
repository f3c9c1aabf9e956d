import { z } from 'zod';
import { AnyEventEnvelope } from './envelope.js';

/**
 * The published JSON Schema (draft 2020-12) of every event envelope, generated from the same zod
 * schemas `makeEvent` checks payloads with, so the document cannot drift from what is sent.
 * Served by the API (`GET /api/v1/events/schema`); computed once, it never changes at run time.
 */
let cached: Record<string, unknown> | undefined;

export function eventJsonSchema(): Record<string, unknown> {
  cached ??= {
    ...z.toJSONSchema(AnyEventEnvelope, { target: 'draft-2020-12', io: 'output' }),
    $id: 'https://switchboard.invalid/schemas/event-envelope.json',
    title: 'Switchboard event envelope',
    description: 'Every event sent to webhooks and the WebSocket stream: {id, type, tenant_id, tenant_external_id, timestamp, data}; `data` depends on `type`.',
  };
  return cached;
}
