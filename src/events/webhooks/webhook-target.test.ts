import { describe, expect, it } from 'vitest';
import { allowListOf, embeddedIpv4, refusedAddressReason } from './ip-ranges.js';
import { SSRF_FORMS, ssrfDns as dns } from './ssrf-forms.fixture.js';
import { resolveWebhookTarget } from './webhook-target.js';

const refused = (url: string, allow = allowListOf([])) => expect(resolveWebhookTarget(url, { resolve: dns, allow })).rejects.toMatchObject({ code: 'WEBHOOK_URL_REFUSED', httpStatus: 422 });

describe('SSRF guard: URLs refused at creation', () => {
  for (const [name, url] of SSRF_FORMS) it(`refuses ${name}: ${url}`, () => refused(url));

  it('names the reason, including the resolved address', async () => {
    await expect(resolveWebhookTarget('https://internal.example.com/x', { resolve: dns })).rejects.toThrow(/internal\.example\.com resolves to 10\.1\.2\.3, which is refused: private/);
    await expect(resolveWebhookTarget('https://[::ffff:127.0.0.1]/', { resolve: dns })).rejects.toThrow(/embeds 127\.0\.0\.1: loopback/);
  });

  it('accepts public https destinations and pins the first address', async () => {
    expect(await resolveWebhookTarget('https://hooks.example.com/x?y=1', { resolve: dns })).toMatchObject({ hostname: 'hooks.example.com', address: '93.184.215.14', family: 4 });
    expect((await resolveWebhookTarget('https://dual.example.com/', { resolve: dns })).address).toBe('93.184.215.14');
    expect((await resolveWebhookTarget('https://93.184.215.14:8443/', { resolve: dns })).address).toBe('93.184.215.14');
    expect((await resolveWebhookTarget('https://[2606:2800:21f:cb07:6820:80da:af6b:8b2c]/', { resolve: dns })).family).toBe(6);
  });

  it('lets the allow-list open exactly the ranges it names, and http only there', async () => {
    const allow = allowListOf([{ address: '10.1.0.0', prefix: 16, family: 'ipv4' }, { address: '127.0.0.0', prefix: 8, family: 'ipv4' }]);
    expect((await resolveWebhookTarget('http://internal.example.com/x', { resolve: dns, allow })).address).toBe('10.1.2.3');
    expect((await resolveWebhookTarget('http://2130706433:8080/x', { resolve: dns, allow })).address).toBe('127.0.0.1');
    expect((await resolveWebhookTarget('https://[::ffff:127.0.0.1]/x', { resolve: dns, allow })).address).toBe('::ffff:7f00:1');
    await refused('https://10.2.0.1/x', allow);
    await refused('https://169.254.169.254/x', allow);
    await refused('http://hooks.example.com/x', allow);
    // localhost is both 127.0.0.1 and ::1; only one of them is allowed here.
    await refused('http://localhost/x', allow);
  });
});

describe('address rules', () => {
  it('finds the IPv4 address inside IPv6 forms', () => {
    expect(embeddedIpv4('::ffff:127.0.0.1')).toBe('127.0.0.1');
    expect(embeddedIpv4('::ffff:7f00:1')).toBe('127.0.0.1');
    expect(embeddedIpv4('64:ff9b::a00:1')).toBe('10.0.0.1');
    expect(embeddedIpv4('2002:c0a8:101::1')).toBe('192.168.1.1');
    expect(embeddedIpv4('::1')).toBeUndefined();
    expect(embeddedIpv4('2606:2800:21f:cb07:6820:80da:af6b:8b2c')).toBeUndefined();
  });

  it('allows public addresses, including public ones embedded in IPv6', () => {
    for (const a of ['8.8.8.8', '1.1.1.1', '2606:4700::1111', '::ffff:8.8.8.8', '64:ff9b::808:808', '172.32.0.1', '100.128.0.1']) expect(refusedAddressReason(a), a).toBeUndefined();
  });
});
