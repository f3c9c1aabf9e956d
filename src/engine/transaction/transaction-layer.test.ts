import { describe, expect, it, vi } from 'vitest';
import { displayName } from '../message/headers.js';
import type { SipRequest } from '../message/types.js';
import { ServerInviteTransaction } from './server-invite.js';
import { makeRequest, makeResponse, peerFlow, recordingUser, setup, tcpFlow, udpDest, udpFlow } from './test-helpers.js';

/** RFC 4475 §3.4.1 inv2543: an RFC 2543 INVITE (no branch in the Via), as the parser returns it. */
function inv2543(method = 'INVITE', toTag?: string): SipRequest {
  const raw: Array<[string, string]> = [
    ['To', `sip:j.user@example.com${toTag ? `;tag=${toTag}` : ''}`],
    ['From', 'sip:caller@example.net;tag=134161461246'],
    ['Max-Forwards', '7'],
    ['Call-ID', '0ha0isndaksdjasdf3234nas'],
    ['CSeq', `8 ${method}`],
    ['Via', 'SIP/2.0/UDP 192.0.2.15;received=192.0.2.15'],
  ];
  const headers = raw.map(([n, value]) => ({ name: n.toLowerCase(), rawName: displayName(n), value }));
  return { type: 'request', method, uri: 'sip:UserB@example.com', headers, body: Buffer.alloc(0) };
}

describe('TransactionLayer matching (RFC 3261 §17.2.3, §9.2, §8.2.2.2)', () => {
  it('matches by branch, sent-by and method: another branch, sent-by or method is a new transaction', () => {
    const { layer } = setup();
    expect(layer.receiveRequest(makeRequest('OPTIONS'), udpFlow()).kind).toBe('new');
    expect(layer.receiveRequest(makeRequest('OPTIONS', { branch: 'z9hG4bK-other', cseq: 2 }), udpFlow()).kind).toBe('new');
    const otherHost = 'SIP/2.0/UDP 192.0.2.99:5070;branch=z9hG4bK-a1';
    expect(layer.receiveRequest(makeRequest('OPTIONS', { via: otherHost, cseq: 3 }), udpFlow()).kind).toBe('new');
    expect(layer.receiveRequest(makeRequest('INFO', { cseq: 4 }), udpFlow()).kind).toBe('new');
    expect(layer.size().server).toBe(4);
  });

  it('reports requests without Via, CSeq or Call-ID as invalid', () => {
    const { layer } = setup();
    const noVia = makeRequest('OPTIONS');
    noVia.headers = noVia.headers.filter((h) => h.name !== 'via');
    expect(layer.receiveRequest(noVia, udpFlow())).toEqual({ kind: 'invalid', reason: 'missing-via' });
    const noCSeq = makeRequest('OPTIONS');
    noCSeq.headers = noCSeq.headers.filter((h) => h.name !== 'cseq');
    expect(layer.receiveRequest(noCSeq, udpFlow())).toEqual({ kind: 'invalid', reason: 'missing-cseq' });
    expect(layer.size().server).toBe(0);
  });

  describe('CANCEL', () => {
    it('gets its own transaction and finds the INVITE with the same branch; the caller answers 200 and 487', () => {
      const { layer, sender } = setup();
      const inv = layer.receiveRequest(makeRequest('INVITE'), udpFlow());
      if (inv.kind !== 'new') throw new Error('expected new');
      const r = layer.receiveRequest(makeRequest('CANCEL'), udpFlow());
      if (r.kind !== 'cancel') throw new Error(`expected cancel, got ${r.kind}`);
      expect(r.invite).toBe(inv.txn);
      expect(r.cancel.method).toBe('CANCEL');
      expect(r.cancel.id).not.toBe(inv.txn.id);
      r.cancel.respond(makeResponse(r.cancel.request, 200, 't1'));
      inv.txn.respond(makeResponse(inv.txn.request, 487, 't1'));
      // A retransmitted CANCEL is answered from its transaction.
      expect(layer.receiveRequest(makeRequest('CANCEL'), udpFlow()).kind).toBe('retransmission');
      expect(sender.lines()).toEqual(['SIP/2.0 100 Trying', 'SIP/2.0 200 OK', 'SIP/2.0 487 Request Terminated', 'SIP/2.0 200 OK']);
    });

    it('without a matching INVITE has no invite (the caller answers 481)', () => {
      const { layer } = setup();
      layer.receiveRequest(makeRequest('INVITE'), udpFlow());
      const r = layer.receiveRequest(makeRequest('CANCEL', { branch: 'z9hG4bK-zzz' }), udpFlow());
      expect(r.kind).toBe('cancel');
      if (r.kind === 'cancel') {
        expect(r.invite).toBeUndefined();
        r.cancel.respond(makeResponse(r.cancel.request, 481, 't'));
      }
    });
  });

  it('reports a merged request (same From tag, Call-ID, CSeq; other branch; no To tag) without 100 Trying', () => {
    const { layer, sender } = setup();
    const first = layer.receiveRequest(makeRequest('INVITE'), udpFlow());
    const second = layer.receiveRequest(makeRequest('INVITE', { branch: 'z9hG4bK-via-other-proxy' }), udpFlow(5090));
    if (first.kind !== 'new' || second.kind !== 'merged') throw new Error('expected new then merged');
    expect(second.original).toBe(first.txn);
    second.txn.respond(makeResponse(second.txn.request, 482, 'x'));
    expect(sender.lines()).toEqual(['SIP/2.0 100 Trying', 'SIP/2.0 482 Loop Detected']);
    // The 2xx ACK (own branch) still finds the original, not the merged copy.
    first.txn.respond(makeResponse(first.txn.request, 200, 'uas'));
    const ack = layer.receiveRequest(makeRequest('ACK', { branch: 'z9hG4bK-ack', toTag: 'uas' }), udpFlow());
    expect(ack).toEqual({ kind: 'ack', invite: first.txn });
    // With a To tag (in-dialog) the same fields are not a merge.
    const inDialog = layer.receiveRequest(makeRequest('INVITE', { branch: 'z9hG4bK-3', toTag: 'b' }), udpFlow());
    expect(inDialog.kind).toBe('new');
    // The merged copy's own retransmission is still matched to its own transaction.
    expect(layer.receiveRequest(makeRequest('INVITE', { branch: 'z9hG4bK-via-other-proxy' }), udpFlow()).kind).toBe(
      'retransmission',
    );
  });

  describe('RFC 2543 fallback (no z9hG4bK branch; RFC 4475 inv2543)', () => {
    it('matches retransmissions, the ACK carrying our To tag, and CANCEL', () => {
      const { layer, sender, clock } = setup();
      const r = layer.receiveRequest(inv2543(), udpFlow());
      if (r.kind !== 'new') throw new Error('expected new');
      expect(layer.receiveRequest(inv2543(), udpFlow())).toEqual({ kind: 'retransmission', txn: r.txn });
      const cancel = layer.receiveRequest(inv2543('CANCEL'), udpFlow());
      if (cancel.kind !== 'cancel') throw new Error('expected cancel');
      expect(cancel.invite).toBe(r.txn);
      cancel.cancel.respond(makeResponse(cancel.cancel.request, 200, 'uas1'));
      r.txn.respond(makeResponse(r.txn.request, 486, 'uas1'));
      // The response goes to received at the sent-by's default port (§18.2.2), no rport.
      expect(sender.sent.at(-1)?.dest).toEqual({ protocol: 'udp', address: '192.0.2.15', port: 5060 });
      expect(layer.receiveRequest(inv2543('ACK', 'other'), udpFlow())).toEqual({ kind: 'ack' });
      expect(layer.receiveRequest(inv2543('ACK', 'uas1'), udpFlow())).toEqual({ kind: 'ack-absorbed', txn: r.txn });
      clock.runAll();
      expect(layer.size()).toEqual({ server: 0, client: 0 });
    });

    it('treats a different Request-URI or CSeq as a new request', () => {
      const { layer } = setup();
      layer.receiveRequest(inv2543(), udpFlow());
      const other = inv2543();
      other.uri = 'sip:someone-else@example.com';
      expect(layer.receiveRequest(other, udpFlow()).kind).not.toBe('retransmission');
    });
  });

  it('classifies responses: matched to a client transaction or stray', () => {
    const { layer } = setup();
    const req = makeRequest('OPTIONS');
    req.headers = req.headers.filter((h) => h.name !== 'via');
    const txn = layer.sendRequest(req, udpDest, recordingUser(), { sentBy: { protocol: 'udp', host: '10.0.0.1', port: 5060 } });
    expect(layer.receiveResponse(makeResponse(txn.request, 200, 't'), peerFlow())).toBe('matched');
    expect(layer.receiveResponse(makeResponse(makeRequest('OPTIONS', { branch: 'z9hG4bK-nope' }), 200), peerFlow())).toBe('stray');
    // Same branch, other CSeq method: a CANCEL's response does not match the INVITE and vice versa.
    const cancelResp = makeResponse(txn.request, 200, 't');
    cancelResp.headers = cancelResp.headers.map((h) => (h.name === 'cseq' ? { ...h, value: '1 CANCEL' } : h));
    expect(layer.receiveResponse(cancelResp, peerFlow())).toBe('stray');
  });

  it('sendStateless stamps a fresh Via and sends without creating a transaction (2xx ACK, §13.2.2.4)', async () => {
    const { layer, sender } = setup();
    const ack = makeRequest('ACK', { toTag: 'b1' });
    ack.headers = ack.headers.filter((h) => h.name !== 'via');
    const out = layer.sendStateless(ack, udpDest, { sentBy: { protocol: 'udp', host: '::1', port: 5062 } });
    expect(out.bytes.toString()).toMatch(/^ACK sip:bob@b\.example SIP\/2\.0\r\nVia: SIP\/2\.0\/UDP \[::1\]:5062;branch=z9hG4bK\w+;rport\r\n/);
    await expect(out.sent).resolves.toMatchObject({ protocol: 'udp' });
    expect(sender.sent).toHaveLength(1);
    expect(layer.size()).toEqual({ server: 0, client: 0 });
  });

  it('uses the responseDestination option and honours timer overrides', () => {
    const responseDestination = vi.fn(() => ({ protocol: 'udp' as const, address: '198.51.100.1', port: 7000 }));
    const { layer, sender, clock } = setup({ responseDestination, timers: { t1: 100, t2: 1600, t1x64: 6400 } });
    const r = layer.receiveRequest(makeRequest('INVITE'), udpFlow());
    expect(responseDestination).toHaveBeenCalledOnce();
    expect(sender.sent[0]?.dest).toEqual({ protocol: 'udp', address: '198.51.100.1', port: 7000 });
    if (r.kind !== 'new') throw new Error('expected new');
    r.txn.respond(makeResponse(r.txn.request, 500, 't'));
    clock.advance(6400);
    expect(sender.times('SIP/2.0 500')).toEqual([0, 100, 300, 700, 1500, 3100, 4700, 6300]);
    expect(layer.size().server).toBe(0);
  });

  it('leaves no transaction and no timer behind once every timer has run (leak check)', () => {
    const { layer, clock } = setup();
    const sentBy = { protocol: 'udp', host: '10.0.0.1', port: 5060 };
    for (let i = 0; i < 20; i++) {
      const flow = i % 2 ? udpFlow() : tcpFlow(`c${i}`);
      const inv = layer.receiveRequest(makeRequest('INVITE', { branch: `z9hG4bK-i${i}`, callId: `c${i}` }), flow);
      if (inv.kind !== 'new') throw new Error('expected new');
      const status = [200, 486, 183][i % 3] ?? 200;
      inv.txn.respond(makeResponse(inv.txn.request, status, `t${i}`));
      if (status === 183) inv.txn.respond(makeResponse(inv.txn.request, 603, `t${i}`));
      if (status === 200 && inv.txn instanceof ServerInviteTransaction) inv.txn.retransmit2xxUntilAck(() => undefined);
      const opt = layer.receiveRequest(makeRequest('OPTIONS', { branch: `z9hG4bK-o${i}`, callId: `o${i}` }), flow);
      if (opt.kind === 'new') opt.txn.respond(makeResponse(opt.txn.request, 200, 'x'));
      const out = makeRequest(i % 2 ? 'INVITE' : 'MESSAGE', { callId: `u${i}` });
      out.headers = out.headers.filter((h) => h.name !== 'via');
      const c = layer.sendRequest(out, udpDest, recordingUser(), { sentBy });
      if (i % 4 === 0) layer.receiveResponse(makeResponse(c.request, 404, 'r'), peerFlow());
      if (i % 4 === 1) layer.receiveResponse(makeResponse(c.request, 200, 'r'), peerFlow());
    }
    expect(layer.size().server).toBeGreaterThan(0);
    expect(layer.size().client).toBeGreaterThan(0);
    clock.runAll();
    expect(layer.size()).toEqual({ server: 0, client: 0 });
    expect(clock.pendingCount()).toBe(0);
  });
});
