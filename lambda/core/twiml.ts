/**
 * TwiML documents, built only with the Twilio helper's VoiceResponse (an XML builder that escapes text and
 * attributes): caller-supplied text can never become markup. Deep import for cold start.
 */
import VoiceResponse from 'twilio/lib/twiml/VoiceResponse';

export const DIAL_TIMEOUT_SECONDS = 60;
export const SAY_LANGUAGE = 'en-US';

/** `<Response><Dial timeout="60" answerOnBridge="true"><Client>identity</Client></Dial></Response>` */
export function dialClientTwiml(clientName: string): string {
  const response = new VoiceResponse();
  const dial = response.dial({ timeout: DIAL_TIMEOUT_SECONDS, answerOnBridge: true });
  dial.client(clientName);
  return response.toString();
}

/** `<Response><Dial timeout="60" callerId="+E164" timeLimit="…"><Number>+E164</Number></Dial></Response>` */
export function dialNumberTwiml(callerId: string, destination: string, timeLimitSeconds: number): string {
  const response = new VoiceResponse();
  const dial = response.dial({ timeout: DIAL_TIMEOUT_SECONDS, callerId, timeLimit: timeLimitSeconds });
  dial.number(destination);
  return response.toString();
}

/** A refusal or error: the message said once, then `<Hangup/>` (never `loop="0"`, which bills forever). */
export function sayAndHangupTwiml(message: string): string {
  const response = new VoiceResponse();
  response.say({ language: SAY_LANGUAGE }, message);
  response.hangup();
  return response.toString();
}

export const TEMPORARILY_UNAVAILABLE_MESSAGE = 'Sorry, this service is temporarily unavailable. Please try again later.';

/** The answer to known faults (DynamoDB or Secrets Manager down). */
export function temporarilyUnavailableTwiml(): string {
  return sayAndHangupTwiml(TEMPORARILY_UNAVAILABLE_MESSAGE);
}
