import { describe, expect, it, vi } from 'vitest';
import type { ServerInviteTransaction } from './server-invite.js';
import { makeRequest, makeResponse, setup, tcpFlow, udpFlow } from './test-helpers.js';
import type { Flow } from '../transport/types.js';

type Env = ReturnType<typeof setup>;

function invite(env: Env, flow: Flow = udpFlow()): ServerInviteTransaction {
  const r = env.layer.receiveRequest(makeRequest('INVITE'), flow);
  if (r.kind !== 'new' || r.txn.method !== 'INVITE') throw new Error(`expected new INVITE, got ${r.kind}`);
  return r.txn as ServerInviteTransaction;
}

/** G retransmission instants after a final sent at 0: T1 doubling, capped at T2, before 64·T1. */
const timerG = [500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500];

describe('INVITE server transaction (RFC 3261 §17.2.1, RFC 6026 §7.1)', () => {
  it('sends 100 Trying at once (no To tag), or leaves it to the caller when autoTrying is off', () => {
    const env = setup();
    const txn = invite(env);
    expect(env.sender.lines()).toEqual(['SIP/2.0 100 Trying']);
    expect(env.sender.sent[0]?.text).toContain('To: <sip:bob@b.example>\r\n');
    expect(txn.state).toBe('proceeding');

    const quiet = setup({ autoTrying: false });
    const t2 = invite(quiet);
    expect(quiet.sender.sent).toHaveLength(0);
    t2.respond(makeResponse(t2.request, 100));
    expect(quiet.sender.lines()).toEqual(['SIP/2.0 100 Trying']);
  });

  it('answers a retransmitted INVITE with the last provisional', () => {
    const env = setup();
    const txn = invite(env);
    txn.respond(makeResponse(txn.request, 180, 'to1'));
    expect(env.layer.receiveRequest(makeRequest('INVITE'), udpFlow())).toEqual({ kind: 'retransmission', txn });
    expect(env.sender.lines()).toEqual(['SIP/2.0 100 Trying', 'SIP/2.0 180 Ringing', 'SIP/2.0 180 Ringing']);
  });

  it('retransmits a non-2xx final on Timer G until Timer H = 64·T1 ends it with timeout (UDP)', () => {
    const env = setup();
    const txn = invite(env);
    const onTerminated = vi.fn();
    txn.user = { onTerminated };
    txn.respond(makeResponse(txn.request, 486, 'to1'));
    expect(txn.state).toBe('completed');
    env.clock.advance(31999);
    expect(env.sender.times('SIP/2.0 486')).toEqual([0, ...timerG]);
    expect(onTerminated).not.toHaveBeenCalled();
    env.clock.advance(1);
    expect(onTerminated).toHaveBeenCalledWith('timeout');
    expect(env.layer.size().server).toBe(0);
    expect(env.clock.pendingCount()).toBe(0);
  });

  it('absorbs the ACK (Confirmed), stops Timer G and ends at Timer I = T4 (UDP)', () => {
    const env = setup();
    const txn = invite(env);
    const onTerminated = vi.fn();
    txn.user = { onTerminated };
    txn.respond(makeResponse(txn.request, 486, 'to1'));
    env.clock.advance(1000);
    expect(env.layer.receiveRequest(makeRequest('INVITE'), udpFlow()).kind).toBe('retransmission');
    expect(env.sender.times('SIP/2.0 486')).toEqual([0, 500, 1000]);
    const ack = env.layer.receiveRequest(makeRequest('ACK', { toTag: 'to1' }), udpFlow());
    expect(ack).toEqual({ kind: 'ack-absorbed', txn });
    expect(txn.state).toBe('confirmed');
    env.clock.advance(4999);
    expect(env.sender.times('SIP/2.0 486')).toEqual([0, 500, 1000]);
    expect(env.layer.receiveRequest(makeRequest('ACK', { toTag: 'to1' }), udpFlow()).kind).toBe('ack-absorbed');
    expect(env.layer.receiveRequest(makeRequest('INVITE'), udpFlow()).kind).toBe('retransmission');
    expect(env.sender.sent).toHaveLength(4); // nothing re-sent in Confirmed
    env.clock.advance(1);
    expect(onTerminated).toHaveBeenCalledWith('completed');
    expect(env.layer.size().server).toBe(0);
  });

  it('has no Timer G and a zero Timer I on reliable transports; Timer H still applies', () => {
    const env = setup();
    const acked = invite(env, tcpFlow());
    acked.respond(makeResponse(acked.request, 603, 'x'));
    expect(env.clock.pendingDueTimes()).toEqual([32000]); // H only
    expect(env.layer.receiveRequest(makeRequest('ACK', { toTag: 'x' }), tcpFlow()).kind).toBe('ack-absorbed');
    expect(acked.state).toBe('terminated');
    expect(env.clock.pendingCount()).toBe(0);

    const lost = env.layer.receiveRequest(makeRequest('INVITE', { branch: 'z9hG4bK-2' }), tcpFlow());
    if (lost.kind !== 'new') throw new Error('expected new');
    lost.txn.respond(makeResponse(lost.txn.request, 486, 'y'));
    env.clock.advance(32000);
    expect(lost.txn.state).toBe('terminated');
    expect(env.sender.times('SIP/2.0 486')).toEqual([0]);
  });

  it('Accepted (RFC 6026): absorbs INVITE retransmissions for Timer L = 64·T1, passes TU 2xx retransmissions', () => {
    const env = setup();
    const txn = invite(env);
    txn.respond(makeResponse(txn.request, 200, 'to1'));
    expect(txn.state).toBe('accepted');
    env.clock.advance(2000);
    expect(env.layer.receiveRequest(makeRequest('INVITE'), udpFlow())).toEqual({ kind: 'retransmission', txn });
    txn.respond(makeResponse(txn.request, 200, 'to1'));
    txn.respond(makeResponse(txn.request, 486, 'to1')); // dropped
    expect(env.sender.lines().filter((l) => l.startsWith('SIP/2.0 486'))).toEqual([]);
    expect(env.sender.times('SIP/2.0 200')).toEqual([0, 2000, 2000]);
    env.clock.advance(29999);
    expect(env.layer.size().server).toBe(1);
    env.clock.advance(1);
    expect(env.layer.size().server).toBe(0);
  });

  it('retransmits the 2xx on UDP until the ACK arrives (ACK with its own branch stops it)', () => {
    const env = setup();
    const txn = invite(env);
    const onAckTimeout = vi.fn();
    txn.respond(makeResponse(txn.request, 200, 'to1'));
    txn.retransmit2xxUntilAck(onAckTimeout);
    expect(txn.awaitingAck).toBe(true);
    env.clock.advance(4000);
    const ack = env.layer.receiveRequest(makeRequest('ACK', { branch: 'z9hG4bK-ack', toTag: 'to1' }), udpFlow());
    expect(ack).toEqual({ kind: 'ack', invite: txn });
    expect(txn.awaitingAck).toBe(false);
    env.clock.advance(40000);
    expect(env.sender.times('SIP/2.0 200')).toEqual([0, 500, 1500, 3500]);
    expect(onAckTimeout).not.toHaveBeenCalled();
    expect(env.layer.size().server).toBe(0);
  });

  it('calls the ACK-timeout callback at 64·T1 without ACK (drachtio "ACK timeout" BYE)', () => {
    const env = setup();
    const txn = invite(env);
    const onAckTimeout = vi.fn(() => expect(env.clock.now()).toBe(32000));
    const onTerminated = vi.fn();
    txn.user = { onTerminated };
    txn.respond(makeResponse(txn.request, 200, 'to1'));
    txn.retransmit2xxUntilAck(onAckTimeout);
    env.clock.advance(32000);
    expect(onAckTimeout).toHaveBeenCalledOnce();
    expect(onTerminated).toHaveBeenCalledWith('completed');
    expect(env.sender.times('SIP/2.0 200')).toEqual([0, ...timerG]);
    expect(env.clock.pendingCount()).toBe(0);
  });

  it('on reliable transports does not retransmit the 2xx but still times out the ACK', () => {
    const env = setup();
    const txn = invite(env, tcpFlow());
    const onAckTimeout = vi.fn();
    txn.respond(makeResponse(txn.request, 200, 'to1'));
    txn.retransmit2xxUntilAck(onAckTimeout);
    env.clock.advance(32000);
    expect(env.sender.times('SIP/2.0 200')).toEqual([0]);
    expect(onAckTimeout).toHaveBeenCalledOnce();
  });

  it('an ACK that reuses the INVITE branch in Accepted goes to the dialog layer and stops retransmission', () => {
    const env = setup();
    const txn = invite(env);
    txn.respond(makeResponse(txn.request, 200, 'to1'));
    txn.retransmit2xxUntilAck(() => undefined);
    expect(env.layer.receiveRequest(makeRequest('ACK', { toTag: 'to1' }), udpFlow())).toEqual({ kind: 'ack', invite: txn });
    expect(txn.awaitingAck).toBe(false);
  });

  it('reports an ACK for an unknown 2xx as a plain dialog ACK', () => {
    const env = setup();
    expect(env.layer.receiveRequest(makeRequest('ACK', { toTag: 'zz' }), udpFlow())).toEqual({ kind: 'ack' });
  });
});
