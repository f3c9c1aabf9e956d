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
  /** `liveBefore`: how many live bindings the extension had before these changes (extension.status says registered/unregistered from it). */
  created(bindings: readonly Binding[], liveBefore?: LiveBindingCount): Promise<EventEnvelope[]>;
  ended(bindings: readonly Binding[], reason: BindingEndReason, liveBefore?: LiveBindingCount): Promise<EventEnvelope[]>;
  committed(): void;
}

/** An extension's number of live bindings at a given moment, as the registrar's memory knows it. */
export type LiveBindingCount = (extensionId: string) => number;
