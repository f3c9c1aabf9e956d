import { afterEach, describe, expect, it } from 'vitest';
import { startTestEngine, type TestEngine } from '../../test/support/test-engine.js';

let te: TestEngine | undefined;
afterEach(async () => {
  await te?.stop();
  te = undefined;
});

const CRLF = '\r\n';

describe('inbound pipeline: what gets a stateless answer', () => {
  it('drops bytes that carry no Via at all, so the engine cannot be used as a reflector', async () => {
    te = await startTestEngine({ sendMode: 'record' });
    const flow = te.udpFlow(40000);
    te.inject({ data: Buffer.from(`hello world${CRLF}${CRLF}`), flow });
    te.inject({ data: Buffer.from(`INVITE sip:a@b SIP/2.0${CRLF}From: <sip:x@y>;tag=1${CRLF}${CRLF}`), flow });
    await new Promise((r) => setTimeout(r, 50));
    expect(te.sent).toHaveLength(0);
  });

  it('still answers 400 to the source when a Via is there but broken (RFC 4475 badinv01)', async () => {
    te = await startTestEngine({ sendMode: 'record' });
    const flow = te.udpFlow(40001);
    const msg = [
      'OPTIONS sip:user@example.com SIP/2.0',
      'Via: SIP/2.0/UDP 192.0.2.15;;,;,,',
      'From: <sip:caller@example.net>;tag=1',
      'To: <sip:user@example.com>',
      'Call-ID: broken-via',
      'CSeq: 1 OPTIONS',
      'Max-Forwards: 70',
      'Content-Length: 0',
      '',
      '',
    ].join(CRLF);
    te.inject({ data: Buffer.from(msg), flow });
    await new Promise((r) => setTimeout(r, 50));
    expect(te.sent).toHaveLength(1);
    expect(te.sent[0]!.data.toString()).toMatch(/^SIP\/2\.0 400 /);
    expect(te.sent[0]!.dest).toMatchObject({ address: '127.0.0.1', port: 40001 });
  });
});
