/**
 * The README's verifier snippets are the documented algorithm: this test runs their exact code
 * (cut out of README.md) against deliveries signed by `signedHeaders`, so the documentation and the
 * signer cannot disagree. Valid passes; a tampered body, a wrong secret and a timestamp older than
 * 5 minutes fail.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { edgvoipSignature, signedHeaders } from './signing.js';
import { generateWebhookSecret } from './webhook-secret.js';

const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
function snippet(marker: string, lang: string): string {
  const match = new RegExp(`<!-- verifier:${marker} -->\\n\`\`\`${lang}\\n([\\s\\S]*?)\\n\`\`\``).exec(readme);
  if (!match?.[1]) throw new Error(`README.md has no ${marker} verifier snippet`);
  return match[1];
}

const now = 1_790_000_000;
const eventId = '5f0c2a9e-3b1d-4c55-9d0e-8a7b6c5d4e3f';
const body = JSON.stringify({ id: eventId, type: 'call.ended', tenant_id: 't', tenant_external_id: null, timestamp: '2026-09-21T10:00:00.000Z', data: { note: 'ünïcode €' } });
const sign = (secret: string, timestamp = now) =>
  signedHeaders({ secret, eventId, eventType: 'call.ended', tenantId: 't', deliveryId: 'd1', timestamp, body });

/** Cases every snippet must decide the same way: [name, body, headers, secret, expected]. */
function cases(): Array<[string, string, Record<string, string>, string, boolean]> {
  const whsec = generateWebhookSecret();
  const plain = 'a-plain-secret-of-some-length';
  return [
    ['valid, whsec_ secret', body, sign(whsec), whsec, true],
    ['valid, plain secret', body, sign(plain), plain, true],
    ['valid, 4 minutes old', body, sign(whsec, now - 240), whsec, true],
    ['tampered body', body.replace('call.ended', 'call.start'), sign(whsec), whsec, false],
    ['wrong secret', body, sign(whsec), generateWebhookSecret(), false],
    ['timestamp 6 minutes old', body, sign(whsec, now - 360), whsec, false],
    ['timestamp 6 minutes ahead', body, sign(whsec, now + 360), whsec, false],
    ['timestamp header changed after signing', body, { ...sign(whsec, now - 360), 'webhook-timestamp': String(now) }, whsec, false],
    ['signature missing', body, { ...sign(whsec), 'webhook-signature': '' }, whsec, false],
    ['one of several signatures valid', body, { ...sign(whsec), 'webhook-signature': `v1,AAAA ${sign(whsec)['webhook-signature']}` }, whsec, true],
  ];
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'switchboard-verifier-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('signatures', () => {
  it('signs with the documented algorithms (independent recomputation)', () => {
    const h = sign('whsec_' + Buffer.alloc(32, 7).toString('base64'));
    expect(h['webhook-id']).toBe(eventId);
    expect(h['webhook-timestamp']).toBe(String(now));
    expect(h['x-request-id']).toBe('d1');
    expect(h['x-webhook-event']).toBe('call.ended');
    expect(h['x-tenant-id']).toBe('t');
    expect(h['webhook-signature']).toBe(`v1,${createHmac('sha256', Buffer.alloc(32, 7)).update(`${eventId}.${now}.${body}`).digest('base64')}`);
    expect(edgvoipSignature('s3cret', body)).toBe(createHmac('sha256', 's3cret').update(body).digest('hex'));
  });

  it('matches the Standard Webhooks reference vector', () => {
    // From the Standard Webhooks spec's test vector (and the svix/standardwebhooks libraries' tests).
    const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    const payload = '{"test": 2432232314}';
    const h = signedHeaders({ secret, eventId: 'msg_p5jXN8AQM9LWM0D4loKWxJek', eventType: 'x', tenantId: 't', deliveryId: 'd', timestamp: 1614265330, body: payload });
    expect(h['webhook-signature']).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  it('lets custom headers through but never over the signature headers', () => {
    const h = signedHeaders({ secret: 'x'.repeat(20), eventId, eventType: 'call.ended', tenantId: 't', deliveryId: 'd', timestamp: now, body, customHeaders: { 'X-Api-Token': 'abc', 'webhook-signature': 'forged' } });
    expect(h['X-Api-Token']).toBe('abc');
    expect(h['webhook-signature']).toMatch(/^v1,/);
  });
});

describe('README verifier snippets', () => {
  it('Node: the exact README code accepts valid deliveries and refuses the rest', async () => {
    const file = join(dir, 'verify.mjs');
    writeFileSync(file, snippet('node', 'js'));
    const { verifyWebhook } = (await import(pathToFileURL(file).href)) as { verifyWebhook: (b: Buffer | string, h: Record<string, string>, s: string, n?: number) => boolean };
    for (const [name, b, headers, secret, expected] of cases()) {
      expect(verifyWebhook(Buffer.from(b, 'utf8'), headers, secret, now), name).toBe(expected);
      expect(verifyWebhook(b, headers, secret, now), `${name} (string body)`).toBe(expected);
    }
  });

  const hasPython = spawnSync('python3', ['--version']).status === 0;
  it.skipIf(!hasPython)('Python: the exact README code decides every case the same way', () => {
    const file = join(dir, 'verify.py');
    writeFileSync(
      file,
      `${snippet('python', 'python')}\n\nimport json, sys\nresults = []\nfor c in json.load(sys.stdin):\n    results.append(verify_webhook(c["body"].encode("utf-8"), c["headers"], c["secret"], c["now"]))\nprint(json.dumps(results))\n`,
    );
    const all = cases();
    const out = execFileSync('python3', [file], { input: JSON.stringify(all.map(([, b, headers, secret]) => ({ body: b, headers, secret, now }))), encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual(all.map(([, , , , expected]) => expected));
  });
});
