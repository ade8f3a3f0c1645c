/**
 * Which handler serves which function: the ONE table. Each export is named by its `FunctionId`
 * (lib/api/routes.ts: a `RouteId`, or a support function's id). The Lambda entry (`lambda/entry.ts`), the local
 * app, the bench and the tests all read it; a function's bundle keeps only its own handler (the entry picks its
 * export by a constant esbuild defines per function).
 */
export { createTokenHandler as token } from './token';
export { createIncomingCallHandler as callIncoming } from './incoming-call';
export { createOutgoingCallHandler as callOutgoing } from './outgoing-call';
export { createCallActionHandler as callAction } from './call-action';
export { createForwardScreenHandler as forwardScreen } from './forward-screen';
export { createRecordingStatusHandler as recordingStatus } from './recording-status';
export { createCallStatusHandler as callStatus } from './call-status';
export { createVoicemailsHandler as voicemails } from './voicemails';
export { createDirectoryHandler as directory } from './directory';
export { createCallsHandler as calls } from './calls';
export { createPageAuthorizerHandler as pageAuthorizer } from './page-authorizer';
export { createRegistryUpgradeHandler as registryUpgrade } from './registry-upgrade';
export { createTwilioDebuggerHandler as twilioDebugger } from './twilio-debugger';
export { createPreflightHandler as preflight } from './preflight';
