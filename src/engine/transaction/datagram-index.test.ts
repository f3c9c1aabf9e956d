import { describe, expect, it } from 'vitest';
import { buildResponse } from '../message/response.js';
import { serializeMessage } from '../message/serialize.js';
import { datagramHash } from './datagram-index.js';
import { makeRequest, setup, udpFlow } from './test-helpers.js';

describe('byte-identical UDP retransmissions (DatagramIndex)', () => {
  it('absorbs the very same datagram as a retransmission of the transaction it created, and nothing else', () => {
    const { layer, sender, clock } = setup();
    const req = makeRequest('OPTIONS');
    const data = serializeMessage(req);
    const datagram = { data, hash: datagramHash(data) };
    expect(layer.absorbDatagram(data, datagram.hash)).toBe(false); // unknown yet
    const r = layer.receiveRequest(req, udpFlow(), datagram);
    expect(r.kind).toBe('new');
    if (r.kind !== 'new') return;

    // Trying: absorbed without an answer (RFC 3261 §17.2.2), as the full path does.
    const copy = Buffer.from(data);
    expect(layer.absorbDatagram(copy, datagramHash(copy))).toBe(true);
    expect(sender.sent).toHaveLength(0);

    // Completed: the final is re-sent.
    r.txn.respond(buildResponse(req, 200, 'OK', { toTag: 't1' }));
    expect(sender.sent).toHaveLength(1);
    expect(layer.absorbDatagram(copy, datagramHash(copy))).toBe(true);
    expect(sender.sent).toHaveLength(2);

    // One byte different: not this path (the parser and the matcher decide).
    const other = Buffer.from(data);
    other[other.length - 5] = 0x39;
    expect(layer.absorbDatagram(other, datagramHash(other))).toBe(false);
    // Same hash, other bytes: equality is checked, not just the hash.
    expect(layer.absorbDatagram(other, datagram.hash)).toBe(false);

    // Timer J ends the transaction (64·T1): the entry goes with it.
    clock.advance(32_001);
    expect(layer.size().server).toBe(0);
    expect(layer.absorbDatagram(copy, datagramHash(copy))).toBe(false);
  });

  it('keeps nothing for requests that came without their datagram (stream transports)', () => {
    const { layer } = setup();
    const req = makeRequest('OPTIONS');
    const data = serializeMessage(req);
    expect(layer.receiveRequest(req, udpFlow()).kind).toBe('new');
    expect(layer.absorbDatagram(data, datagramHash(data))).toBe(false);
  });
});
