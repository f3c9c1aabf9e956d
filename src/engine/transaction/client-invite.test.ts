import { describe, expect, it } from 'vitest';
import type { SipRequest } from '../message/types.js';
import type { Destination } from '../transport/types.js';
import type { ClientInviteTransaction } from './client-invite.js';
import { makeRequest, makeResponse, peerFlow, recordingUser, settle, setup, tcpDest, udpDest } from './test-helpers.js';

const sentBy = { protocol: 'udp', host: '10.0.0.1', port: 5060 };
type Env = ReturnType<typeof setup>;

function newInvite(): SipRequest {
  const req = makeRequest('INVITE', { extra: [['Route', '<sip:p1.example;lr>'], ['Route', '<sip:p2.example;lr>']] });
  req.headers = req.headers.filter((h) => h.name !== 'via');
  req.body = Buffer.from('v=0\r\n');
  return req;
}

function send(env: Env, dest: Destination = udpDest) {
  const user = recordingUser(env.clock);
  const txn = env.layer.sendRequest(newInvite(), dest, user, { sentBy }) as ClientInviteTransaction;
  return { user, txn };
}

const respond = (env: Env, txn: ClientInviteTransaction, status: number, toTag?: string) =>
  env.layer.receiveResponse(makeResponse(txn.request, status, toTag), peerFlow());

/** Lines of the last message whose start line begins with `prefix`. */
function lastSent(env: Env, prefix: string): string[] {
  const rec = env.sender.sent.filter((s) => s.line.startsWith(prefix)).at(-1);
  if (!rec) throw new Error(`nothing sent starting with ${prefix}`);
  return rec.text.split('\r\n');
}

describe('INVITE client transaction (RFC 3261 §17.1.1, RFC 6026 §7.2)', () => {
  it('retransmits on Timer A (doubling, no cap) and times out on Timer B = 64·T1 over UDP', () => {
    const env = setup();
    const { user } = send(env);
    env.clock.advance(31999);
    expect(env.sender.times('INVITE')).toEqual([0, 500, 1500, 3500, 7500, 15500, 31500]);
    env.clock.advance(1);
    expect(user.failures).toEqual([{ reason: 'timeout', at: 32000 }]);
    expect(env.layer.size().client).toBe(0);
    expect(env.clock.pendingCount()).toBe(0);
  });

  it('has no Timer A on reliable transports; Timer B still applies', () => {
    const env = setup();
    const { user } = send(env, tcpDest);
    env.clock.advance(32000);
    expect(env.sender.times('INVITE')).toEqual([0]);
    expect(user.failures.map((f) => f.reason)).toEqual(['timeout']);
  });

  it('stops Timers A and B on a provisional (Proceeding waits for the final)', () => {
    const env = setup();
    const { user, txn } = send(env);
    env.clock.advance(600);
    respond(env, txn, 180, 'b1');
    expect(txn.state).toBe('proceeding');
    env.clock.advance(100_000);
    expect(env.sender.times('INVITE')).toEqual([0, 500]);
    expect(user.failures).toEqual([]);
    expect(env.layer.size().client).toBe(1);
  });

  it('ACKs a non-2xx final itself (§17.1.1.3) and re-sends that ACK for retransmitted finals until Timer D', () => {
    const env = setup();
    const { user, txn } = send(env);
    respond(env, txn, 180, 'b1');
    env.clock.advance(1000);
    respond(env, txn, 486, 'b1');
    expect(txn.state).toBe('completed');
    const ack = lastSent(env, 'ACK');
    expect(ack[0]).toBe('ACK sip:bob@b.example SIP/2.0');
    expect(ack).toContain(`Via: SIP/2.0/UDP 10.0.0.1:5060;branch=${txn.branch};rport`);
    expect(ack).toContain('To: <sip:bob@b.example>;tag=b1');
    expect(ack).toContain('From: "Alice" <sip:alice@a.example>;tag=f1');
    expect(ack).toContain('Call-ID: call-1@a.example');
    expect(ack).toContain('CSeq: 1 ACK');
    expect(ack.filter((l) => l.startsWith('Route:'))).toEqual(['Route: <sip:p1.example;lr>', 'Route: <sip:p2.example;lr>']);
    expect(ack).toContain('Content-Length: 0');
    expect(env.sender.sent.find((s) => s.line.startsWith('ACK'))?.dest).toEqual(udpDest);

    env.clock.advance(2000);
    expect(respond(env, txn, 486, 'b1')).toBe('matched');
    expect(user.responses).toEqual([180, 486]);
    expect(env.sender.times('ACK')).toEqual([1000, 3000]);
    env.clock.advance(32000 - 2000 - 1);
    expect(env.layer.size().client).toBe(1);
    env.clock.advance(1);
    expect(env.layer.size().client).toBe(0);
    expect(user.terminated).toBe(1);
  });

  it('has a zero Timer D on reliable transports, sending the ACK on the same connection', async () => {
    const env = setup();
    const { user, txn } = send(env, tcpDest);
    await settle(); // the transport reported the connection it used
    respond(env, txn, 404, 'b1');
    expect(txn.state).toBe('terminated');
    expect(user.responses).toEqual([404]);
    expect(env.sender.sent.find((s) => s.line.startsWith('ACK'))?.dest).toEqual({ ...tcpDest, connectionId: 'conn-1' });
    expect(env.clock.pendingCount()).toBe(0);
  });

  it('Accepted (RFC 6026): passes every 2xx up (retransmissions, other forks) until Timer M = 64·T1', () => {
    const env = setup();
    const { user, txn } = send(env);
    env.clock.advance(200);
    respond(env, txn, 200, 'b1');
    expect(txn.state).toBe('accepted');
    respond(env, txn, 200, 'b1');
    respond(env, txn, 200, 'b2');
    respond(env, txn, 486, 'b3'); // not a 2xx: ignored in Accepted
    expect(user.responses).toEqual([200, 200, 200]);
    expect(env.sender.times('ACK')).toEqual([]); // 2xx ACK is the dialog layer's
    env.clock.advance(31999);
    expect(env.layer.size().client).toBe(1);
    env.clock.advance(1);
    expect(env.layer.size().client).toBe(0);
    expect(env.sender.times('INVITE')).toEqual([0]);
  });

  describe('CANCEL (§9.1)', () => {
    it('is sent at once after a provisional, with its own transaction whose responses stay in the layer', () => {
      const env = setup();
      const { user, txn } = send(env);
      respond(env, txn, 180, 'b1');
      env.clock.advance(100);
      const sent = txn.cancel([['Reason', 'SIP;cause=480;text="Timeout"']]);
      expect(sent?.request.method).toBe('CANCEL');
      expect(txn.cancelState).toBe('sent');
      const lines = lastSent(env, 'CANCEL');
      expect(lines[0]).toBe('CANCEL sip:bob@b.example SIP/2.0');
      expect(lines).toContain(`Via: SIP/2.0/UDP 10.0.0.1:5060;branch=${txn.branch};rport`);
      expect(lines).toContain('To: <sip:bob@b.example>');
      expect(lines).toContain('CSeq: 1 CANCEL');
      expect(lines).toContain('Reason: SIP;cause=480;text="Timeout"');
      expect(lines.filter((l) => l.startsWith('Route:'))).toHaveLength(2);
      expect(sent?.bytes.toString()).toBe(env.sender.sent.at(-1)?.text);
      expect(txn.cancel()).toBeUndefined(); // once only
      expect(env.layer.size().client).toBe(2);

      // 200 to the CANCEL matches the CANCEL transaction (CSeq method) and does not reach the INVITE user.
      const cancelTxn = txn.cancelTransaction;
      if (!cancelTxn) throw new Error('no cancel transaction');
      expect(env.layer.receiveResponse(makeResponse(cancelTxn.request, 200, 'b1'), peerFlow())).toBe('matched');
      respond(env, txn, 487, 'b1');
      expect(user.responses).toEqual([180, 487]);
      expect(lastSent(env, 'ACK')).toContain('CSeq: 1 ACK');
      env.clock.runAll();
      expect(env.layer.size()).toEqual({ server: 0, client: 0 });
    });

    it('is queued before any provisional and sent when the first one arrives', () => {
      const env = setup();
      const { txn } = send(env);
      expect(txn.cancel()).toBeUndefined();
      expect(txn.cancelState).toBe('queued');
      expect(env.sender.times('CANCEL')).toEqual([]);
      env.clock.advance(700);
      respond(env, txn, 100);
      expect(env.sender.times('CANCEL')).toEqual([700]);
      expect(txn.cancelState).toBe('sent');
    });

    it('is never sent when a final arrives before any provisional', () => {
      const env = setup();
      const { txn } = send(env);
      txn.cancel();
      respond(env, txn, 200, 'b1');
      expect(txn.cancelState).toBe('not-sent');
      respond(env, txn, 180, 'b1');
      env.clock.runAll();
      expect(env.sender.times('CANCEL')).toEqual([]);
      expect(txn.cancel()).toBeUndefined();
    });

    it('ends the INVITE with a timeout when no final follows the CANCEL within 64·T1', () => {
      const env = setup();
      const { user, txn } = send(env);
      respond(env, txn, 180, 'b1');
      env.clock.advance(10_000);
      txn.cancel();
      env.clock.advance(32000);
      expect(user.failures).toEqual([{ reason: 'timeout', at: 42000 }]);
      expect(env.layer.size().client).toBe(0);
    });
  });

  it('reports a transport error on the INVITE', async () => {
    const env = setup();
    env.sender.failWith = new Error('ECONNREFUSED');
    const { user } = send(env, tcpDest);
    await settle();
    expect(user.failures.map((f) => f.reason)).toEqual(['transport-error']);
    expect(env.layer.size().client).toBe(0);
    expect(env.clock.pendingCount()).toBe(0);
  });
});
