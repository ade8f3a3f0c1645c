/**
 * Which handler serves which route: the ONE table. Each export is named by its `RouteId` (lib/api/routes.ts).
 * The Lambda entry (`lambda/entry.ts`), the local app, the bench and the tests all read it; a route's bundle
 * keeps only its own handler (the entry picks its export by a constant esbuild defines per function).
 */
export { createTokenHandler as token } from './token';
export { createIncomingCallHandler as callIncoming } from './incoming-call';
export { createOutgoingCallHandler as callOutgoing } from './outgoing-call';
