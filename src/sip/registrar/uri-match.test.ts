import { describe, expect, it } from 'vitest';
import { digestUriMatches } from './uri-match.js';

describe('digestUriMatches', () => {
  it.each([
    ['sip:pbx.example.com', 'sip:pbx.example.com'],
    ['SIP:PBX.Example.COM', 'sip:pbx.example.com'],
    ['sip:pbx.example.com;transport=TCP;lr', 'sip:pbx.example.com;lr;transport=tcp'],
    ['sip:1001@pbx.example.com:5070', 'sip:1001@PBX.example.com:5070'],
    ['sips:[2001:DB8::1]:5061', 'sips:[2001:db8::1]:5061'],
    [' sip:pbx.example.com ', 'sip:pbx.example.com'],
    ['/dir/index.html', '/dir/index.html'],
    ['TEL:+15551234', 'tel:+15551234'],
  ])('%s matches %s', (a, b) => {
    expect(digestUriMatches(a, b)).toBe(true);
  });

  it.each([
    ['sip:pbx.example.com', 'sip:other.example.com'],
    ['sip:pbx.example.com', 'sips:pbx.example.com'],
    ['sip:pbx.example.com', 'sip:pbx.example.com:5060'],
    ['sip:Alice@pbx.example.com', 'sip:alice@pbx.example.com'],
    ['sip:pbx.example.com;transport=tcp', 'sip:pbx.example.com'],
    ['sip:pbx.example.com', 'tel:+1555'],
    ['', 'sip:pbx.example.com'],
  ])('%s does not match %s', (a, b) => {
    expect(digestUriMatches(a, b)).toBe(false);
  });
});
