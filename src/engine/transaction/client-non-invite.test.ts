import { describe, expect, it } from 'vitest';
import { getHeaderLines } from '../message/headers.js';
import type { ClientNonInviteTransaction } from './client-non-invite.js';
import { makeRequest, makeResponse, peerFlow, recordingUser, settle, setup, tcpDest, udpDest } from './test-helpers.js';
import type { Destination } from '../transport/types.js';

const sentBy = { protocol: 'udp', host: '10.0.0.1', port: 5060 };
type Env = ReturnType<typeof setup>;

function send(env: Env, dest: Destination = udpDest) {
  const user = recordingUser(env.clock);
  const req = makeRequest('OPTIONS');
  req.headers = req.headers.filter((h) => h.name !== 'via'); // the layer adds ours
  const txn = env.layer.sendRequest(req, dest, user, { sentBy }) as ClientNonInviteTransaction;
  return { user, txn, req };
}

/** Timer E instants in Trying: T1 doubling, capped at T2, until Timer F at 64·T1. */
const timerE = [500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500];

describe('non-INVITE client transaction (RFC 3261 §17.1.2)', () => {
  it('stamps our Via with a fresh z9hG4bK branch and rport, sending synchronously', () => {
    const env = setup();
    const { txn, req } = send(env);
    expect(env.sender.sent).toHaveLength(1);
    const via = getHeaderLines(txn.request, 'via');
    expect(via).toHaveLength(1);
    expect(via[0]).toMatch(/^SIP\/2\.0\/UDP 10\.0\.0\.1:5060;branch=z9hG4bK[0-9a-f]{20};rport$/);
    expect(txn.branch).toBe(/branch=([^;]+)/.exec(via[0] ?? '')?.[1]);
    expect(env.sender.sent[0]?.text).toBe(txn.bytes.toString());
    expect(getHeaderLines(req, 'via')).toHaveLength(0); // the caller's object is untouched
  });

  it('retransmits on Timer E (capped at T2) and times out on Timer F = 64·T1 over UDP', () => {
    const env = setup();
    const { user } = send(env);
    env.clock.advance(31999);
    expect(env.sender.times('OPTIONS')).toEqual([0, ...timerE]);
    expect(user.failures).toEqual([]);
    env.clock.advance(1);
    expect(user.failures).toEqual([{ reason: 'timeout', at: 32000 }]);
    expect(user.terminated).toBe(1);
    expect(env.layer.size().client).toBe(0);
    expect(env.clock.pendingCount()).toBe(0);
  });

  it('keeps retransmitting every T2 in Proceeding, and Timer F still applies', () => {
    const env = setup();
    const { user, txn } = send(env);
    env.clock.advance(700);
    expect(env.layer.receiveResponse(makeResponse(txn.request, 100), peerFlow())).toBe('matched');
    expect(txn.state).toBe('proceeding');
    env.clock.advance(32000 - 700);
    expect(env.sender.times('OPTIONS')).toEqual([0, 500, 1500, 5500, 9500, 13500, 17500, 21500, 25500, 29500]);
    expect(user.responses).toEqual([100]);
    expect(user.failures.map((f) => f.reason)).toEqual(['timeout']);
  });

  it('delivers the final once, absorbs retransmitted finals, and ends at Timer K = T4 over UDP', () => {
    const env = setup();
    const { user, txn } = send(env);
    env.clock.advance(600);
    env.layer.receiveResponse(makeResponse(txn.request, 200, 't'), peerFlow());
    expect(txn.state).toBe('completed');
    env.clock.advance(1000);
    expect(env.layer.receiveResponse(makeResponse(txn.request, 200, 't'), peerFlow())).toBe('matched');
    expect(user.responses).toEqual([200]);
    env.clock.advance(3999);
    expect(env.layer.size().client).toBe(1);
    env.clock.advance(1);
    expect(env.layer.size().client).toBe(0);
    expect(user.terminated).toBe(1);
    expect(env.sender.times('OPTIONS')).toEqual([0, 500]); // nothing after the final
    expect(env.layer.receiveResponse(makeResponse(txn.request, 200, 't'), peerFlow())).toBe('stray');
  });

  it('has no Timer E and a zero Timer K on reliable transports; Timer F still applies', () => {
    const env = setup();
    const a = send(env, tcpDest);
    expect(env.clock.pendingDueTimes()).toEqual([32000]);
    env.layer.receiveResponse(makeResponse(a.txn.request, 200, 't'), peerFlow());
    expect(a.txn.state).toBe('terminated');
    expect(a.user.responses).toEqual([200]);
    expect(env.layer.size().client).toBe(0);

    const b = send(env, tcpDest);
    env.clock.advance(32000);
    expect(env.sender.times('OPTIONS')).toEqual([0, 0]);
    expect(b.user.failures).toEqual([{ reason: 'timeout', at: 32000 }]);
  });

  it('reports transport errors, whether the send rejects or throws', async () => {
    const env = setup();
    env.sender.failWith = new Error('ECONNREFUSED');
    const a = send(env, tcpDest);
    await settle();
    expect(a.user.failures.map((f) => f.reason)).toEqual(['transport-error']);
    expect(a.txn.state).toBe('terminated');

    env.sender.failWith = undefined;
    env.sender.throwWith = new Error('EINVAL');
    const b = send(env);
    expect(b.user.failures).toEqual([]); // reported asynchronously, never inside sendRequest
    await settle();
    expect(b.user.failures.map((f) => f.reason)).toEqual(['transport-error']);
    expect(env.layer.size().client).toBe(0);
    expect(env.clock.pendingCount()).toBe(0);
  });

  it('uses a top Via already present when addVia is false, and rejects ACK', () => {
    const env = setup();
    const req = makeRequest('MESSAGE', { branch: 'z9hG4bK-mine' });
    const txn = env.layer.sendRequest(req, udpDest, recordingUser(), { sentBy, addVia: false });
    expect(txn.branch).toBe('z9hG4bK-mine');
    expect(getHeaderLines(txn.request, 'via')).toHaveLength(1);
    expect(() => env.layer.sendRequest(req, udpDest, recordingUser(), { sentBy, addVia: false })).toThrow(/exists/);
    expect(() => env.layer.sendRequest(makeRequest('ACK'), udpDest, recordingUser(), { sentBy })).toThrow(/ACK/);
  });
});
