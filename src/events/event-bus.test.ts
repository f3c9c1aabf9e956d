import { describe, expect, it, vi } from 'vitest';
import { EventBus } from './event-bus.js';

interface TestEvents {
  ping: { n: number };
  pong: string;
}

describe('EventBus', () => {
  it('delivers each event to its own type’s listeners, in subscription order', () => {
    const bus = new EventBus<TestEvents>();
    const seen: string[] = [];
    bus.on('ping', (p) => seen.push(`a${p.n}`));
    bus.on('ping', (p) => seen.push(`b${p.n}`));
    bus.on('pong', (p) => seen.push(`pong:${p}`));
    bus.emit('ping', { n: 1 });
    bus.emit('pong', 'x');
    expect(seen).toEqual(['a1', 'b1', 'pong:x']);
  });

  it('stops delivering after unsubscribe', () => {
    const bus = new EventBus<TestEvents>();
    const listener = vi.fn();
    const off = bus.on('ping', listener);
    bus.emit('ping', { n: 1 });
    off();
    bus.emit('ping', { n: 2 });
    expect(listener).toHaveBeenCalledTimes(1);
  });

  it('reports a throwing listener and still delivers to the others', () => {
    const errors: unknown[] = [];
    const bus = new EventBus<TestEvents>((err, type) => errors.push([type, (err as Error).message]));
    const after = vi.fn();
    bus.on('ping', () => {
      throw new Error('boom');
    });
    bus.on('ping', after);
    expect(() => bus.emit('ping', { n: 1 })).not.toThrow();
    expect(after).toHaveBeenCalledWith({ n: 1 });
    expect(errors).toEqual([['ping', 'boom']]);
  });

  it('emitting a type nobody listens to is a no-op', () => {
    expect(() => new EventBus<TestEvents>().emit('pong', 'x')).not.toThrow();
  });
});
