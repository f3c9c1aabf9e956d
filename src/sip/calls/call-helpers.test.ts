import { describe, expect, it } from 'vitest';
import { bestFailure } from './fork.js';
import { digestTarget } from './invite-auth.js';
import { fromHeader } from './party-header.js';

describe('bestFailure (RFC 3261 §16.7 step 6, simplified)', () => {
  it.each([
    [[486], 486],
    [[480, 486], 486],
    [[486, 603], 603],
    [[487, 404], 404],
    [[408, 480], 480],
    [[408, 487], 408],
    [[487, 487], 487],
  ])('%o → %i', (statuses, best) => {
    expect(bestFailure(statuses)).toBe(best);
  });
});

describe('digestTarget', () => {
  const auth = (uri: string): string => `Digest username="1001",realm="r",nonce="n",uri="${uri}",response="x"`;

  it('is the Request-URI when the credentials name it', () => {
    expect(digestTarget(auth('sip:1002@pbx:5060'), 'sip:1002@pbx:5060')).toBe('sip:1002@pbx:5060');
  });

  it('accepts credentials for this server itself (the Request-URI without its user)', () => {
    expect(digestTarget(auth('sip:pbx:5060'), 'sip:1002@pbx:5060')).toBe('sip:pbx:5060');
  });

  it('keeps the Request-URI (so verification fails) for any other URI', () => {
    expect(digestTarget(auth('sip:other:5060'), 'sip:1002@pbx:5060')).toBe('sip:1002@pbx:5060');
    expect(digestTarget(auth('sip:1003@pbx:5060'), 'sip:1002@pbx:5060')).toBe('sip:1002@pbx:5060');
    expect(digestTarget(undefined, 'sip:1002@pbx:5060')).toBe('sip:1002@pbx:5060');
  });
});

describe('fromHeader', () => {
  it('shows the caller’s name and number, quotes escaped', () => {
    expect(fromHeader({ number: '1001', name: 'Ann "A" Lee', extensionId: 'e' }, 'acme.test')).toBe('"Ann \\"A\\" Lee" <sip:1001@acme.test>');
    expect(fromHeader({ number: '1001', name: null, extensionId: 'e' }, 'acme.test')).toBe('<sip:1001@acme.test>');
  });
});
