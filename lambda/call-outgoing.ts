/** Lambda entry: TwilioRetrieveTwimlCallOutgoing (POST /twilio/retrieve_twiml/call_outgoing). */
import { lazyHandler } from './handlers/environment';
import { createOutgoingCallHandler } from './handlers/outgoing-call';

export const handler = lazyHandler(createOutgoingCallHandler);
