import type { EventEnvelope } from '../../events/envelope.js';
import type { Binding } from './location.js';

/** Why a binding ended, as `registration.expired` says it. */
export type BindingEndReason = 'expired' | 'unregistered' | 'removed';

/**
 * The registrar's port to the event outbox (implemented in pbx/events, wired by main.ts): it makes
 * the envelopes of new and ended bindings, which the binding writer commits in the same
 * transaction as the bindings themselves, then {@link committed} wakes the dispatcher.
 */
export interface RegistrationEventSink {
  created(bindings: readonly Binding[]): Promise<EventEnvelope[]>;
  ended(bindings: readonly Binding[], reason: BindingEndReason): Promise<EventEnvelope[]>;
  committed(): void;
}
