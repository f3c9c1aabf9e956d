import { describe, expect, it, vi } from 'vitest';
import { makeRequest, makeResponse, settle, setup, tcpFlow, udpFlow } from './test-helpers.js';
import type { ServerTransaction } from './transaction-layer.js';

function newTxn(layer: ReturnType<typeof setup>['layer'], flow = udpFlow()): ServerTransaction {
  const r = layer.receiveRequest(makeRequest('OPTIONS'), flow);
  if (r.kind !== 'new') throw new Error(`expected new, got ${r.kind}`);
  return r.txn;
}

describe('non-INVITE server transaction (RFC 3261 §17.2.2)', () => {
  it('absorbs retransmissions silently in Trying, re-sends the provisional in Proceeding', () => {
    const { layer, sender } = setup();
    const txn = newTxn(layer);
    expect(txn.state).toBe('trying');
    expect(layer.receiveRequest(makeRequest('OPTIONS'), udpFlow())).toEqual({ kind: 'retransmission', txn });
    expect(sender.sent).toHaveLength(0);
    txn.respond(makeResponse(txn.request, 100));
    expect(txn.state).toBe('proceeding');
    layer.receiveRequest(makeRequest('OPTIONS'), udpFlow());
    expect(sender.lines()).toEqual(['SIP/2.0 100 Trying', 'SIP/2.0 100 Trying']);
  });

  it('re-sends the final in Completed and ends at Timer J = 64·T1 on UDP', () => {
    const { layer, sender, clock } = setup();
    const txn = newTxn(layer);
    const onTerminated = vi.fn();
    txn.user = { onTerminated };
    clock.advance(100);
    txn.respond(makeResponse(txn.request, 200, 'to1'));
    expect(txn.state).toBe('completed');
    clock.advance(1000);
    expect(layer.receiveRequest(makeRequest('OPTIONS'), udpFlow()).kind).toBe('retransmission');
    expect(sender.times('SIP/2.0 200')).toEqual([100, 1100]);
    clock.advance(32000 - 1000 - 1);
    expect(layer.size().server).toBe(1);
    clock.advance(1);
    expect(layer.size().server).toBe(0);
    expect(txn.state).toBe('terminated');
    expect(onTerminated).toHaveBeenCalledWith('completed');
    // After Timer J the same request is new again.
    expect(layer.receiveRequest(makeRequest('OPTIONS'), udpFlow()).kind).toBe('new');
  });

  it('has no Timer J on a reliable transport: terminated as soon as the final is sent', () => {
    const { layer, clock } = setup();
    const txn = newTxn(layer, tcpFlow());
    txn.respond(makeResponse(txn.request, 200, 'to1'));
    expect(txn.state).toBe('terminated');
    expect(layer.size().server).toBe(0);
    expect(clock.pendingCount()).toBe(0);
  });

  it('answers on the connection of a reliable flow and to source ip:port with rport over UDP', () => {
    const { layer, sender } = setup();
    const tcp = newTxn(layer, tcpFlow('c-42'));
    tcp.respond(makeResponse(tcp.request, 200, 't'));
    expect(sender.sent[0]?.dest).toMatchObject({ protocol: 'tcp', connectionId: 'c-42' });
    const udp = layer.receiveRequest(makeRequest('OPTIONS', { branch: 'z9hG4bK-u' }), udpFlow(6000));
    if (udp.kind !== 'new') throw new Error('expected new');
    udp.txn.respond(makeResponse(udp.txn.request, 200, 't'));
    expect(sender.sent[1]?.dest).toEqual({ protocol: 'udp', address: '192.0.2.10', port: 6000 });
  });

  it('drops responses after the final with a warning', () => {
    const warn = vi.fn();
    const { layer, sender } = setup({ log: { warn } });
    const txn = newTxn(layer);
    txn.respond(makeResponse(txn.request, 404, 't'));
    txn.respond(makeResponse(txn.request, 200, 't'));
    expect(sender.lines()).toHaveLength(1);
    expect(sender.lines()[0]).toMatch(/^SIP\/2\.0 404 /);
    expect(warn).toHaveBeenCalledOnce();
  });

  it('terminates with transport-error when the response cannot be sent (§17.2.4)', async () => {
    const { layer, sender } = setup();
    const txn = newTxn(layer);
    const onTerminated = vi.fn();
    txn.user = { onTerminated };
    sender.failWith = new Error('EHOSTUNREACH');
    txn.respond(makeResponse(txn.request, 200, 't'));
    await settle();
    expect(onTerminated).toHaveBeenCalledWith('transport-error');
    expect(layer.size().server).toBe(0);
  });

  it('terminate() lets the TU abandon a request it will never answer', () => {
    const { layer, clock } = setup();
    const txn = newTxn(layer);
    txn.terminate();
    expect(layer.size().server).toBe(0);
    expect(clock.pendingCount()).toBe(0);
  });
});
