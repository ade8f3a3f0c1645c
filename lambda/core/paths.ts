/**
 * The API's resource paths (below the stage). lib/api/routes.ts builds the routes on them; the handlers build
 * the URLs they hand Twilio (a `<Dial action>`, a `<Number url>`, a recording callback) from the same names,
 * under the base URL Twilio called them at, so a webhook always points at a route that exists.
 */
export const API_PATHS = {
  token: '/twilio/retrieve_capability_token',
  callIncoming: '/twilio/retrieve_twiml/call_incoming',
  callOutgoing: '/twilio/retrieve_twiml/call_outgoing',
  callAction: '/twilio/retrieve_twiml/call_action',
  forwardScreen: '/twilio/retrieve_twiml/forward_screen',
  recordingStatus: '/twilio/recording_status',
  callStatus: '/twilio/call_status',
  twilioDebugger: '/twilio/debugger_events',
  preflight: '/twilio/retrieve_twiml/preflight',
  voicemails: '/softphone/voicemails',
  directory: '/softphone/directory',
  calls: '/softphone/calls',
} as const;

export type ApiPathId = keyof typeof API_PATHS;
