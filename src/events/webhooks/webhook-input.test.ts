import { describe, expect, it } from 'vitest';
import { customHeaderProblems } from './custom-headers.js';
import { generateWebhookSecret, standardWebhooksKey, webhookSecretProblem } from './webhook-secret.js';

describe('webhook secrets', () => {
  it('generates whsec_ secrets of 32 random bytes that pass their own check', () => {
    const a = generateWebhookSecret();
    expect(a).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(standardWebhooksKey(a)).toHaveLength(32);
    expect(webhookSecretProblem(a)).toBeUndefined();
    expect(generateWebhookSecret()).not.toBe(a);
  });

  it('accepts plain secrets of 16-256 printable characters and well-formed whsec_ ones only', () => {
    expect(webhookSecretProblem('your-webhook-secret-key-here')).toBeUndefined();
    expect(standardWebhooksKey('your-webhook-secret-key-here').toString('utf8')).toBe('your-webhook-secret-key-here');
    expect(webhookSecretProblem('short')).toMatch(/16-256/);
    expect(webhookSecretProblem('has a space in the middle')).toMatch(/printable/);
    expect(webhookSecretProblem('whsec_not base64!')).toMatch(/base64/);
    expect(webhookSecretProblem(`whsec_${Buffer.alloc(8).toString('base64')}`)).toMatch(/24-64 bytes/);
  });
});

describe('custom headers', () => {
  it('accepts ordinary headers', () => {
    expect(customHeaderProblems({ Authorization: 'Bearer abc', 'X-Source': 'switchboard' })).toEqual([]);
  });

  it('refuses overriding signature, identity and framing headers, whatever the case', () => {
    for (const name of ['X-Webhook-Signature', 'webhook-signature', 'Webhook-Timestamp', 'webhook-id', 'X-Request-ID', 'x-tenant-id', 'X-Webhook-Event', 'X-Webhook-Anything', 'Host', 'Content-Length', 'Content-Type', 'Transfer-Encoding', 'Connection']) {
      expect(customHeaderProblems({ [name]: 'x' }), name).toEqual([`"${name}" is set by Switchboard and cannot be overridden`]);
    }
  });

  it('refuses CR, LF and NUL in values, bad names, duplicates and too many', () => {
    expect(customHeaderProblems({ 'X-A': 'a\r\nX-Injected: 1' })).toEqual(['"X-A": value must not contain CR, LF or NUL']);
    expect(customHeaderProblems({ 'X-A': 'a\nb' })).toHaveLength(1);
    expect(customHeaderProblems({ 'X-A': 'a\u0000' })).toHaveLength(1);
    expect(customHeaderProblems({ 'Bad Name': 'x' })[0]).toMatch(/not a valid header name/);
    expect(customHeaderProblems({ 'X-\r\nA': 'x' })[0]).toMatch(/not a valid header name/);
    expect(customHeaderProblems({ 'X-A': 'x', 'x-a': 'y' })[0]).toMatch(/twice/);
    expect(customHeaderProblems({ 'X-A': 'é' })[0]).toMatch(/printable ASCII/);
    expect(customHeaderProblems(Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`X-H${i}`, 'v'])))[0]).toMatch(/at most 20/);
  });
});
