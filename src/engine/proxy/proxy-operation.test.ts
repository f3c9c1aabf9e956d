import { describe, expect, it } from 'vitest';
import { getHeader, getHeaderValues } from '../message/headers.js';
import { FakeServerTxn, invite, ProxyHarness, sip } from './test-helpers.js';

const A = 'sip:10.0.0.2:5060';
const B = 'sip:10.0.0.3:5060';
const C = 'sip:10.0.0.4:5060';

describe('proxy command (drachtio-protocol §4.9)', () => {
  it('answers NOK for a transaction id that is not pending', () => {
    const h = new ProxyHarness();
    h.proxyCmd('nope', [A]);
    expect(h.conn.frames()).toEqual([['NOK', 'Unknown transaction id: nope']]);
    expect(h.transactions.branches).toHaveLength(0);
  });

  it('rejects Max-Forwards 0 with 483 upstream and NOK', () => {
    const h = new ProxyHarness();
    const req = invite('sip:svc@10.0.0.1:5060');
    req.headers.find((x) => x.name === 'max-forwards')!.value = '0';
    const txn = h.addPending('t1', req);
    h.proxyCmd('t1', [A]);
    expect(txn.statuses()).toEqual([483]);
    expect(h.conn.summary()).toEqual(['NOK']);
    expect(h.transactions.branches).toHaveLength(0);
  });

  it('forwards with our Via, Record-Route, Max-Forwards − 1, the target as R-URI and the app headers', () => {
    const h = new ProxyHarness();
    h.addPending('t1', invite('sip:svc@10.0.0.1:5060', 'Route: <sip:10.0.0.1:5060;lr>\n'));
    h.proxyCmd('t1', [A], { remainInDialog: true }, 'Subject: changed\r\nX-Extra: 1\r\nVia: SIP/2.0/UDP evil\r\nFrom: <sip:evil@x>\r\n');
    const [b] = h.transactions.branches;
    expect(b?.req.uri).toBe(A);
    expect(b?.dest).toMatchObject({ address: '10.0.0.2', port: 5060 });
    expect(b?.opts.sentBy).toEqual({ protocol: 'udp', host: '10.0.0.1', port: 5060 });
    expect(getHeaderValues(b!.req, 'record-route')).toEqual(['<sip:10.0.0.1:5060;lr>']);
    expect(getHeaderValues(b!.req, 'route')).toEqual([]); // the preloaded Route naming us is gone
    expect(getHeader(b!.req, 'max-forwards')).toBe('69');
    expect(getHeaderValues(b!.req, 'subject')).toEqual(['changed']);
    expect(getHeader(b!.req, 'x-extra')).toBe('1');
    expect(getHeader(b!.req, 'from')).toBe('<sip:alice@192.0.2.10>;tag=fa');
    expect(getHeaderValues(b!.req, 'via')).toHaveLength(2);
    // Vias stay together at the top, our Record-Route right below them
    expect(b!.req.headers.slice(0, 3).map((x) => x.name)).toEqual(['via', 'via', 'record-route']);
  });

  it('keeps a Request-URI that does not point at us and only sends to the target', () => {
    const h = new ProxyHarness();
    h.addPending('t1', invite('sip:bob@example.com'));
    h.proxyCmd('t1', [A]);
    const [b] = h.transactions.branches;
    expect(b?.req.uri).toBe('sip:bob@example.com');
    expect(b?.dest.address).toBe('10.0.0.2');
    expect(getHeaderValues(b!.req, 'record-route')).toEqual([]);
  });

  it('absorbs 100, forwards other 1xx at once without our Via, then the 2xx, continue and done', () => {
    const h = new ProxyHarness();
    const txn = h.addPending('t1');
    h.proxyCmd('t1', [A]);
    h.transactions.respond(0, 100);
    h.transactions.respond(0, 180);
    expect(txn.statuses()).toEqual([180]);
    expect(getHeaderValues(txn.responses[0]!, 'via')).toEqual(['SIP/2.0/UDP 192.0.2.10:5070;branch=z9hG4bKuac1;rport=5070']);
    h.transactions.respond(0, 200);
    expect(txn.statuses()).toEqual([180, 200]);
    expect(h.conn.summary()).toEqual([200, 'done']);
    const meta = h.conn.sent[0]!.split('\r\n')[0]!.split('|');
    expect(meta.slice(3, 9)).toEqual(['OK', 'network', meta[5], 'udp', '10.0.0.2', '5060']);
    expect(meta.slice(10)).toEqual(['', '', 'continue']);
    expect(h.cdrs.map((c) => `${c.kind}:${c.source}:${c.extra ?? ''}`)).toEqual(['attempt:application:', 'start:network:proxy-uac', 'start:application:proxy-uas']);
  });

  it('forks serially: a failure launches the next target; the 2xx ends it', () => {
    const h = new ProxyHarness();
    const txn = h.addPending('t1');
    h.proxyCmd('t1', [A, B, C]);
    expect(h.transactions.branches).toHaveLength(1);
    h.transactions.respond(0, 486);
    expect(h.transactions.branches.map((b) => b.dest.address)).toEqual(['10.0.0.2', '10.0.0.3']);
    expect(txn.statuses()).toEqual([]);
    h.transactions.respond(1, 200);
    expect(h.transactions.branches).toHaveLength(2); // C never tried
    expect(txn.statuses()).toEqual([200]);
    expect(h.conn.summary()).toEqual([486, 200, 'done']);
  });

  it('forks simultaneously: the first 2xx wins and every other branch is CANCELled', () => {
    const h = new ProxyHarness();
    const txn = h.addPending('t1');
    h.proxyCmd('t1', [A, B, C], { simultaneous: true });
    expect(h.transactions.branches).toHaveLength(3);
    h.transactions.respond(0, 180);
    h.transactions.respond(1, 183);
    h.transactions.respond(2, 200);
    expect(txn.statuses()).toEqual([180, 183, 200]);
    expect(h.transactions.branches.map((b) => b.cancels.length)).toEqual([1, 1, 0]);
    expect(h.conn.summary()).toEqual([200, 'done']);
    // a second 2xx (another fork answered before our CANCEL) still goes upstream (RFC 3261 §16.7 step 10)
    h.transactions.respond(0, 200);
    expect(txn.statuses()).toEqual([180, 183, 200, 200]);
    expect(h.conn.summary()).toEqual([200, 'done']);
  });

  it('sends the best final when every branch failed (RFC 3261 §16.7 step 6)', () => {
    const cases: Array<[number[], number]> = [
      [[503, 486, 404], 486],
      [[500, 603, 404], 603],
      [[404, 415, 480], 415],
      [[500, 503], 500],
      [[302, 404], 302],
    ];
    for (const [statuses, best] of cases) {
      const h = new ProxyHarness();
      const txn = h.addPending('t1');
      h.proxyCmd('t1', statuses.map((_s, i) => `sip:10.0.0.${i + 2}:5060`), { simultaneous: true });
      statuses.forEach((s, i) => h.transactions.respond(i, s));
      expect(txn.statuses(), String(statuses)).toEqual([best]);
      expect(h.conn.summary()).toEqual([...statuses, 'done']);
    }
  });

  it('answers 408 upstream when no branch produced a response', () => {
    const h = new ProxyHarness();
    const txn = h.addPending('t1');
    h.proxyCmd('t1', [A, B]);
    h.transactions.branches[0]!.user.onFailure('timeout');
    h.transactions.branches[1]!.user.onFailure('transport-error');
    expect(txn.statuses()).toEqual([408]);
    expect(h.conn.summary()).toEqual(['done']);
  });

  it('answers NOK and 500 when no branch could start (targets that are ourselves are refused)', () => {
    const h = new ProxyHarness();
    const txn = h.addPending('t1');
    h.proxyCmd('t1', ['sip:10.0.0.1:5060', 'tel:+123']);
    expect(h.transactions.branches).toHaveLength(0);
    expect(txn.statuses()).toEqual([500]);
    expect(h.conn.summary()).toEqual(['NOK']);
  });

  it('gives up on a branch without a provisional within provisionalTimeout and tries the next', () => {
    const h = new ProxyHarness();
    const txn = h.addPending('t1');
    h.proxyCmd('t1', [A, B], { provisionalTimeout: '2s' });
    h.clock.advance(1999);
    expect(h.transactions.branches).toHaveLength(1);
    h.clock.advance(1);
    expect(h.transactions.branches[0]!.cancels).toHaveLength(1);
    expect(h.transactions.branches).toHaveLength(2);
    // B answers in time: a provisional stops its timer
    h.transactions.respond(1, 180);
    h.clock.advance(5000);
    expect(h.transactions.branches[1]!.cancels).toHaveLength(0);
    h.transactions.respond(1, 200);
    expect(txn.statuses()).toEqual([180, 200]);
    expect(h.conn.summary()).toEqual([200, 'done']);
  });

  it('Timer C (185 s) cancels a branch that rings forever', () => {
    const h = new ProxyHarness();
    const txn = h.addPending('t1');
    h.proxyCmd('t1', [A]);
    h.transactions.respond(0, 180);
    h.clock.advance(184_999);
    expect(h.transactions.branches[0]!.cancels).toHaveLength(0);
    h.clock.advance(1);
    expect(h.transactions.branches[0]!.cancels).toHaveLength(1);
    expect(txn.statuses()).toEqual([180, 408]);
    expect(h.conn.summary()).toEqual(['done']);
  });

  it('follows redirects: 3xx Contacts become the next targets', () => {
    const h = new ProxyHarness();
    const txn = h.addPending('t1');
    h.proxyCmd('t1', [A, B], { followRedirects: true });
    h.transactions.respond(0, 302, { headers: [['Contact', `<${C}>;q=0.5, <${A}>`]] });
    expect(h.transactions.branches.map((b) => b.req.uri)).toEqual([A, C]);
    h.transactions.respond(1, 404);
    expect(h.transactions.branches.map((b) => b.req.uri)).toEqual([A, C, B]);
    h.transactions.respond(2, 480);
    // the redirect was acted on, so the 4xx are preferred over it
    expect(txn.statuses()).toEqual([404]);
    expect(h.conn.summary()).toEqual([302, 404, 480, 'done']);
  });

  it('stops at a 401/407 challenge and pins the credentialled retry to the challenger', () => {
    const h = new ProxyHarness();
    const txn = h.addPending('t1');
    h.proxyCmd('t1', [A, B], { simultaneous: true });
    h.transactions.respond(0, 180);
    h.transactions.respond(1, 407, { headers: [['Proxy-Authenticate', 'Digest realm="r", nonce="n1", qop="auth"']] });
    expect(txn.statuses()).toEqual([180, 407]);
    expect(h.transactions.branches[0]!.cancels).toHaveLength(1);
    expect(h.conn.summary()).toEqual([407, 'done']);

    const retry = invite('sip:svc@10.0.0.1:5060', 'Proxy-Authorization: Digest username="u", realm="r", nonce="n1", uri="sip:svc@10.0.0.1", response="x"\n');
    h.addPending('t2', retry);
    h.conn.sent.length = 0;
    h.proxyCmd('t2', [A, B], { simultaneous: true });
    expect(h.transactions.branches.slice(2).map((b) => b.dest.address)).toEqual(['10.0.0.3']);
  });

  it('CANCEL from upstream: 200 to the CANCEL, 487 upstream, CANCEL to every branch, done after their finals', () => {
    const h = new ProxyHarness();
    const txn = h.addPending('t1');
    h.proxyCmd('t1', [A, B], { simultaneous: true });
    h.transactions.respond(0, 180);
    h.transactions.respond(1, 180);
    const cancelReq = sip(`CANCEL sip:svc@10.0.0.1:5060 SIP/2.0
Via: SIP/2.0/UDP 192.0.2.10:5070;branch=z9hG4bKuac1;rport=5070
Max-Forwards: 70
From: <sip:alice@192.0.2.10>;tag=fa
To: <sip:svc@10.0.0.1>
Call-ID: call-1
CSeq: 1 CANCEL
Reason: SIP;cause=200;text="Call completed elsewhere"
Content-Length: 0
`);
    const cancelTxn = new FakeServerTxn('c1', cancelReq);
    expect(h.proxy.cancel(cancelTxn, new FakeServerTxn('other', txn.request))).toBe(false);
    expect(h.proxy.cancel(cancelTxn, txn)).toBe(true);
    expect(cancelTxn.statuses()).toEqual([200]);
    expect(txn.statuses()).toEqual([180, 180, 487]);
    expect(h.transactions.branches.map((b) => b.cancels)).toEqual([
      [[['Reason', 'SIP;cause=200;text="Call completed elsewhere"']]],
      [[['Reason', 'SIP;cause=200;text="Call completed elsewhere"']]],
    ]);
    h.transactions.respond(0, 487);
    expect(h.conn.summary()).toEqual([487]);
    h.transactions.respond(1, 487);
    expect(h.conn.summary()).toEqual([487, 487, 'done']);
    expect(txn.statuses()).toEqual([180, 180, 487]);
    expect(h.proxy.size().operations).toBe(1);
    h.clock.advance(32_000);
    expect(h.proxy.size().operations).toBe(0);
  });

  it('without fullResponse sends done as soon as a branch is out, and nothing after it', () => {
    const h = new ProxyHarness();
    const txn = h.addPending('t1');
    h.proxyCmd('t1', [A, B], { fullResponse: false });
    expect(h.conn.summary()).toEqual(['done']);
    h.transactions.respond(0, 486);
    h.transactions.respond(1, 200);
    expect(txn.statuses()).toEqual([200]);
    expect(h.conn.summary()).toEqual(['done']);
  });

  it('resolves names asynchronously; a CANCEL while resolving sends nothing downstream', async () => {
    const h = new ProxyHarness();
    const sync = h.deps.resolve;
    h.deps.resolve = (uri) => Promise.resolve(sync(uri.replace('uas.example', '10.0.0.2')));
    const txn = h.addPending('t1');
    h.proxyCmd('t1', ['sip:uas.example:5060']);
    expect(h.transactions.branches).toHaveLength(0);
    await Promise.resolve();
    expect(h.transactions.branches.map((b) => b.dest.address)).toEqual(['10.0.0.2']);
    h.transactions.respond(0, 200);
    expect(txn.statuses()).toEqual([200]);

    const txn2 = h.addPending('t2');
    h.proxyCmd('t2', ['sip:uas.example:5060']);
    expect(h.proxy.cancel(new FakeServerTxn('c2', txn2.request), txn2)).toBe(true);
    await Promise.resolve();
    expect(h.transactions.branches).toHaveLength(1);
    expect(txn2.statuses()).toEqual([487]);
    expect(h.conn.summary()).toEqual([200, 'done', 'done']);
  });

  it('takes the pending request away from the core (it is not found a second time)', () => {
    const h = new ProxyHarness();
    h.addPending('t1');
    h.proxyCmd('t1', [A]);
    h.proxyCmd('t1', [A]);
    expect(h.conn.frames().at(-1)).toEqual(['NOK', 'Unknown transaction id: t1']);
  });

  it('proxies non-INVITE requests too, without Timer C or CANCEL', () => {
    const h = new ProxyHarness();
    const reg = sip(`REGISTER sip:10.0.0.1:5060 SIP/2.0
Via: SIP/2.0/UDP 192.0.2.10:5070;branch=z9hG4bKreg1
Max-Forwards: 70
From: <sip:alice@example.com>;tag=fa
To: <sip:alice@example.com>
Call-ID: reg-1
CSeq: 1 REGISTER
Contact: <sip:alice@192.0.2.10:5070>
Supported: path
Content-Length: 0
`);
    const txn = h.addPending('t1', reg);
    h.proxyCmd('t1', [A], { remainInDialog: true });
    const b = h.transactions.branches[0]!;
    expect(getHeaderValues(b.req, 'path')).toEqual(['<sip:10.0.0.1:5060;lr>']);
    expect(getHeader(b.req, 'require')).toBe('path');
    expect(getHeaderValues(b.req, 'record-route')).toEqual([]);
    h.transactions.respond(0, 200);
    expect(txn.statuses()).toEqual([200]);
    expect(h.cdrs).toEqual([]);
    expect(h.clock.pendingDueTimes()).toEqual([32_000]); // only the linger of the finished operation
  });
});
