/**
 * The delivery threads' per-batch signer sends exactly the headers {@link signedHeaders} gives the
 * test event (same names, values, signatures and order), as the request head's lines; a line break
 * in a custom header, the event type or an id stops the attempt.
 */
import { describe, expect, it } from 'vitest';
import { BatchSigner, signedHeaders } from './signing.js';
import { generateWebhookSecret } from './webhook-secret.js';

const input = { eventId: 'evt_1', eventType: 'call.answered', tenantId: 'ten_1', deliveryId: 'dlv_1', timestamp: 1_700_000_000, body: '{"id":"evt_1","data":{"name":"Zoë"}}' };
/** Head lines back to [name, value] pairs (a value may hold ': '). */
const pairs = (lines: string) => {
  expect(lines.endsWith('\r\n')).toBe(true);
  return lines.slice(0, -2).split('\r\n').map((line) => [line.slice(0, line.indexOf(': ')), line.slice(line.indexOf(': ') + 2)]);
};

describe('BatchSigner', () => {
  it.each([['a whsec_ secret', generateWebhookSecret()], ['a plain secret', 'your-webhook-secret-key-here']])('gives the same headers as signedHeaders for %s', (_name, secret) => {
    const customHeaders = { Authorization: 'Bearer abc', 'X-Source': 'pbx' };
    const signer = new BatchSigner(secret, customHeaders);
    for (const timestamp of [input.timestamp, input.timestamp + 14]) {
      const lines = signer.lines({ ...input, timestamp, body: Buffer.from(input.body, 'utf8') });
      expect(pairs(lines)).toEqual(Object.entries(signedHeaders({ ...input, timestamp, secret, customHeaders })));
    }
  });

  it('leaves out a custom header with a reserved name (refused at creation), so ours always win', () => {
    const secret = 'your-webhook-secret-key-here';
    const flat = new BatchSigner(secret, { 'X-Webhook-Signature': 'forged', Host: 'evil.example.com', 'X-Ok': 'fine' }).lines({ ...input, body: Buffer.from(input.body) });
    const names = pairs(flat).map(([n]) => n?.toLowerCase());
    expect(names.filter((n) => n === 'x-webhook-signature')).toHaveLength(1);
    expect(names).not.toContain('host');
    expect(Object.fromEntries(pairs(flat))).toMatchObject({ 'X-Ok': 'fine', 'x-webhook-signature': signedHeaders({ ...input, secret })['x-webhook-signature'] });
  });

  it('refuses to make lines that a CR, LF or NUL would split: in a custom header, the event type or an id', () => {
    const secret = 'your-webhook-secret-key-here';
    const body = Buffer.from(input.body);
    const bad = new BatchSigner(secret, { 'X-Ok': 'fine', 'X-Custom': 'a\r\nhost: evil' });
    // Every attempt of the batch, not only the first.
    for (const timestamp of [input.timestamp, input.timestamp + 1]) expect(() => bad.lines({ ...input, timestamp, body })).toThrow('header "X-Custom" holds a line break');
    const signer = new BatchSigner(secret, { 'X-Ok': 'fine' });
    expect(() => signer.lines({ ...input, eventType: 'call.answered\nx-evil: 1', body })).toThrow('header "x-webhook-event" holds a line break');
    expect(() => signer.lines({ ...input, deliveryId: 'dlv\r', body })).toThrow('header "x-request-id" holds a line break');
    expect(() => signer.lines({ ...input, tenantId: 'ten\0', body })).toThrow('header "x-tenant-id" holds a line break');
    expect(() => signer.lines({ ...input, eventId: 'evt\n', body })).toThrow('header "webhook-id" holds a line break');
    expect(pairs(signer.lines({ ...input, body }))[0]).toEqual(['X-Ok', 'fine']);
  });
});
