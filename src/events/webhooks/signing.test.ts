/**
 * The delivery threads' per-batch signer sends exactly the headers {@link signedHeaders} gives the
 * test event (same names, values and signatures), as a flat name/value list.
 */
import { describe, expect, it } from 'vitest';
import { BatchSigner, signedHeaders } from './signing.js';
import { generateWebhookSecret } from './webhook-secret.js';

const input = { eventId: 'evt_1', eventType: 'call.answered', tenantId: 'ten_1', deliveryId: 'dlv_1', timestamp: 1_700_000_000, body: '{"id":"evt_1","data":{"name":"Zoë"}}' };
const pairs = (flat: string[]) => Array.from({ length: flat.length / 2 }, (_, i) => [flat[2 * i], flat[2 * i + 1]]);

describe('BatchSigner', () => {
  it.each([['a whsec_ secret', generateWebhookSecret()], ['a plain secret', 'your-webhook-secret-key-here']])('gives the same headers as signedHeaders for %s', (_name, secret) => {
    const customHeaders = { Authorization: 'Bearer abc', 'X-Source': 'pbx' };
    const signer = new BatchSigner(secret, customHeaders);
    for (const timestamp of [input.timestamp, input.timestamp + 14]) {
      const flat = signer.headers({ ...input, timestamp, body: Buffer.from(input.body, 'utf8') });
      expect(pairs(flat)).toEqual(Object.entries(signedHeaders({ ...input, timestamp, secret, customHeaders })));
    }
  });

  it('leaves out a custom header with a reserved name (refused at creation), so ours always win', () => {
    const secret = 'your-webhook-secret-key-here';
    const flat = new BatchSigner(secret, { 'X-Webhook-Signature': 'forged', Host: 'evil.example.com', 'X-Ok': 'fine' }).headers({ ...input, body: Buffer.from(input.body) });
    const names = pairs(flat).map(([n]) => n?.toLowerCase());
    expect(names.filter((n) => n === 'x-webhook-signature')).toHaveLength(1);
    expect(names).not.toContain('host');
    expect(Object.fromEntries(pairs(flat))).toMatchObject({ 'X-Ok': 'fine', 'x-webhook-signature': signedHeaders({ ...input, secret })['x-webhook-signature'] });
  });
});
