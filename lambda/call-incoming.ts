/** Lambda entry: TwilioRetrieveTwimlCallIncoming (POST /twilio/retrieve_twiml/call_incoming). */
import { lazyHandler } from './handlers/environment';
import { createIncomingCallHandler } from './handlers/incoming-call';

export const handler = lazyHandler(createIncomingCallHandler);
