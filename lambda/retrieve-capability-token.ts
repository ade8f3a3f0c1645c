/** Lambda entry: TwilioRetrieveCapabilityToken (POST /twilio/retrieve_capability_token). */
import { lazyHandler } from './handlers/environment';
import { createTokenHandler } from './handlers/token';

export const handler = lazyHandler((deps) => createTokenHandler(deps));
