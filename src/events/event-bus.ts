/**
 * A tiny typed in-process publish/subscribe bus. Call logic publishes what happened; consumers
 * (webhooks, the events WebSocket, metrics) subscribe without the publisher knowing them. Delivery
 * is synchronous and in subscription order, so subscribers see one call's events in the order they
 * happened; a throwing subscriber is reported and never breaks the publisher or the other subscribers.
 */
export type Listener<P> = (payload: P) => void;

export class EventBus<M extends object> {
  private readonly listeners = new Map<keyof M, Set<Listener<never>>>();

  /** @param onListenerError where a subscriber's exception goes (a logger in production). */
  constructor(private readonly onListenerError: (err: unknown, type: keyof M) => void = () => {}) {}

  /** Subscribe to one event type; returns the unsubscribe function. */
  on<K extends keyof M>(type: K, listener: Listener<M[K]>): () => void {
    let set = this.listeners.get(type);
    if (!set) {
      set = new Set();
      this.listeners.set(type, set);
    }
    set.add(listener as Listener<never>);
    return () => {
      set.delete(listener as Listener<never>);
    };
  }

  emit<K extends keyof M>(type: K, payload: M[K]): void {
    const set = this.listeners.get(type);
    if (!set) return;
    // A copy: a listener that unsubscribes (or subscribes) while we iterate does not disturb this delivery.
    for (const listener of [...set] as Array<Listener<M[K]>>) {
      try {
        listener(payload);
      } catch (err) {
        this.onListenerError(err, type);
      }
    }
  }
}
