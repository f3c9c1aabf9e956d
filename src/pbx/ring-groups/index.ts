/**
 * Ring groups (issue 4 §4): main.ts builds the resolver with `createRingGroupResolver({ db, clock,
 * log, calls })` and gives it to the dialplan router (`ringGroups`). See ring-group-resolver.ts.
 */
export { createRingGroupResolver, type RingGroupResolverDeps, type RingGroupResolverService } from './ring-group-resolver.js';
