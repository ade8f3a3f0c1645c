/**
 * The test Twilio credentials as the TWILIO_* environment that `credentialsFromEnv` (lambda/core/credentials.ts)
 * reads for local use (`npm start`): the five required variables, no preflight TwiML App.
 */
import { TEST_CREDENTIALS } from './fixtures';

export const TEST_CREDENTIALS_ENV = {
  TWILIO_ACCOUNT_SID: TEST_CREDENTIALS.accountSid,
  TWILIO_API_KEY_SID: TEST_CREDENTIALS.apiKeySid,
  TWILIO_API_KEY_SECRET: TEST_CREDENTIALS.apiKeySecret,
  TWILIO_AUTH_TOKEN: TEST_CREDENTIALS.authToken,
  TWILIO_TWIML_APP_SID: TEST_CREDENTIALS.twimlAppSid,
} as const satisfies NodeJS.ProcessEnv;
