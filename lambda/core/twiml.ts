/**
 * TwiML documents, built only through twiml-builder.ts (xmlbuilder with the options of Twilio's helper, which
 * escapes every text and attribute): caller-supplied text can never become markup.
 */
import type VoiceResponse from 'twilio/lib/twiml/VoiceResponse';

/** A `<Say>` language: the line's setting, checked by lambda/core/line.ts as a language tag. */
type SayLanguage = NonNullable<VoiceResponse.SayAttributes['language']>;
import type { CallStage, FlowStep } from './call-flow';
import { VOICEMAIL_MAX_SECONDS } from './line';
import { phrasesFor } from './phrases';
import { TwimlResponse } from './twiml-builder';

export const DIAL_TIMEOUT_SECONDS = 60;
export const SAY_LANGUAGE = 'en-US';

/** Every progress event of a dialled leg, reported to the call log (lambda/handlers/call-status.ts). */
export const LEG_STATUS_EVENTS: VoiceResponse.NumberAttributes['statusCallbackEvent'] = ['initiated', 'ringing', 'answered', 'completed'];

/** The attributes that make a `<Number>` or `<Client>` report its progress to `url`. */
export function legStatusCallback(url: string) {
  return { statusCallback: url, statusCallbackMethod: 'POST', statusCallbackEvent: LEG_STATUS_EVENTS } as const;
}

/**
 * `<Response><Dial timeout="60" callerId="+E164" timeLimit="…"><Number statusCallback…>+E164</Number></Dial></Response>`
 * (`statusUrl`: where the dialled leg reports its progress).
 */
export function dialNumberTwiml(callerId: string, destination: string, timeLimitSeconds: number, statusUrl: string): string {
  const response = new TwimlResponse();
  const dial = response.dial({ timeout: DIAL_TIMEOUT_SECONDS, callerId, timeLimit: timeLimitSeconds });
  dial.number(legStatusCallback(statusUrl), destination);
  return response.toString();
}

/** A refusal or error: the message said once, then `<Hangup/>` (never `loop="0"`, which bills forever). */
export function sayAndHangupTwiml(message: string): string {
  const response = new TwimlResponse();
  response.say({ language: SAY_LANGUAGE }, message);
  response.hangup();
  return response.toString();
}

export const TEMPORARILY_UNAVAILABLE_MESSAGE = 'Sorry, this service is temporarily unavailable. Please try again later.';

/** The answer to known faults (DynamoDB or Secrets Manager down). */
export function temporarilyUnavailableTwiml(): string {
  return sayAndHangupTwiml(TEMPORARILY_UNAVAILABLE_MESSAGE);
}

/** The custom parameters each ringing softphone gets with an incoming call (`call.customParameters`). */
export const INCOMING_CALL_PARAMETERS = { caller: 'callerNumber', line: 'lineNumber' } as const;

/** Where the URLs of a line's call flow point (built by the handlers from API_PATHS and the called base URL). */
export interface FlowUrls {
  /** the `<Dial>`/`<Record>` action webhook for the stage reached */
  action(stage: CallStage): string;
  /** the forwarded person's "press 1" prompt */
  screen: string;
  /** the recording status callback of a voicemail */
  recordingStatus: string;
  /** where a ringing member's leg, and the forwarded leg, report their progress (the call log) */
  memberStatus: string;
  forwardStatus: string;
}

export interface FlowContext {
  /** the caller's number (Twilio's From) */
  caller: string;
  /** the line's number (Twilio's To) */
  line: string;
  urls: FlowUrls;
  /** the longest a forwarded call may last */
  callTimeLimitSeconds: number;
}

/** The TwiML of one step of a line's call flow (lambda/core/call-flow.ts). */
export function flowStepTwiml(step: FlowStep, ctx: FlowContext): string {
  const response = new TwimlResponse();
  switch (step.kind) {
    case 'ring': {
      const dial = response.dial({ timeout: step.timeout, answerOnBridge: true, action: ctx.urls.action(step.after), method: 'POST' });
      for (const clientName of step.clients) {
        const client = dial.client(legStatusCallback(ctx.urls.memberStatus));
        client.identity(clientName);
        client.parameter({ name: INCOMING_CALL_PARAMETERS.caller, value: ctx.caller });
        client.parameter({ name: INCOMING_CALL_PARAMETERS.line, value: ctx.line });
      }
      break;
    }
    case 'forward': {
      const dial = response.dial({
        timeout: step.timeout,
        answerOnBridge: true,
        callerId: ctx.line,
        timeLimit: ctx.callTimeLimitSeconds,
        action: ctx.urls.action(step.after),
        method: 'POST',
      });
      dial.number({ url: ctx.urls.screen, method: 'POST', ...legStatusCallback(ctx.urls.forwardStatus) }, step.number);
      break;
    }
    case 'voicemail':
      if (step.greeting !== undefined) response.say({ language: step.language as SayLanguage }, step.greeting);
      else response.say({ language: phrasesFor(step.language).language as SayLanguage }, phrasesFor(step.language).greeting);
      response.record({
        maxLength: VOICEMAIL_MAX_SECONDS,
        playBeep: true,
        timeout: 5,
        trim: 'trim-silence',
        action: ctx.urls.action(step.after),
        method: 'POST',
        recordingStatusCallback: ctx.urls.recordingStatus,
        recordingStatusCallbackMethod: 'POST',
        recordingStatusCallbackEvent: ['completed'],
      });
      break;
    case 'apology': {
      const phrases = phrasesFor(step.language);
      response.say({ language: phrases.language as SayLanguage }, phrases.apology);
      response.hangup();
      break;
    }
    case 'goodbye': {
      const phrases = phrasesFor(step.language);
      response.say({ language: phrases.language as SayLanguage }, phrases.goodbye);
      response.hangup();
      break;
    }
    case 'continue':
      response.redirect({ method: 'POST' }, ctx.urls.action(step.after));
      break;
    case 'hangup':
      response.hangup();
      break;
  }
  return response.toString();
}

/** The forwarded person's prompt: press 1 within 8 seconds to take the call, else it is not connected. */
export function screenPromptTwiml(lineNumber: string, callerNumber: string, language: string, acceptUrl: string): string {
  const phrases = phrasesFor(language);
  const response = new TwimlResponse();
  const gather = response.gather({ numDigits: 1, timeout: 8, action: acceptUrl, method: 'POST', actionOnEmptyResult: false });
  gather.say({ language: phrases.language as SayLanguage }, phrases.screen(lineNumber, callerNumber));
  response.hangup();
  return response.toString();
}

/** The answer to the prompt: `1` connects (the whisper TwiML ends, Twilio bridges); anything else hangs up. */
export function screenResultTwiml(digits: string, language: string): string {
  const response = new TwimlResponse();
  if (digits === '1') response.say({ language: phrasesFor(language).language as SayLanguage }, phrasesFor(language).screenAccepted);
  else response.hangup();
  return response.toString();
}

/** An empty document: the answer to callbacks whose response Twilio ignores (a recording's status). */
export function emptyTwiml(): string {
  return new TwimlResponse().toString();
}

/** An internal call: another member's softphone rings, with the caller's identity shown. */
export function dialTeammateTwiml(callerIdentity: string, lineNumber: string, teammate: string, timeLimitSeconds: number, statusUrl: string): string {
  const response = new TwimlResponse();
  const dial = response.dial({ timeout: DIAL_TIMEOUT_SECONDS, answerOnBridge: true, timeLimit: timeLimitSeconds });
  const client = dial.client(legStatusCallback(statusUrl));
  client.identity(teammate);
  client.parameter({ name: INCOMING_CALL_PARAMETERS.caller, value: `client:${callerIdentity}` });
  client.parameter({ name: INCOMING_CALL_PARAMETERS.line, value: lineNumber });
  return response.toString();
}

/**
 * The preflight call ("Test my setup": the Voice SDK's `Device.runPreflight`) lasts this long after its words: the
 * SDK's own echo test runs 20 seconds (its ECHO_TEST_DURATION), and its report needs a sample a second.
 */
export const PREFLIGHT_PAUSE_SECONDS = 20;
export const PREFLIGHT_MESSAGE = 'Testing your connection. This takes about twenty seconds.';

/**
 * The answer to the preflight TwiML App's call: `<Say>` a few words, `<Pause>` PREFLIGHT_PAUSE_SECONDS, `<Hangup/>`.
 *
 * Twilio's guide to PreflightTest ("TwiML Apps for PreflightTest", Voice JavaScript SDK) suggests TwiML Bins that
 * `<Record>` the caller and `<Play>` the recording back, or an `<Echo/>` with the SDK's fake microphone input.
 * Recording keeps the person's voice at Twilio (personal data, and a recording to delete): not done here.
 * `<Echo>` has no length of its own (only the SDK's fake-input timer ends it) and the SDK may test the real
 * microphone. What the test measures (connection set-up, ICE/TURN, jitter, packet loss, round trip, MOS) needs
 * only a connected call with media in both directions for the test's duration: the browser sends its microphone
 * (or the SDK's test sound) all along, and Twilio's side streams the spoken words and then the pause, so the
 * samples come every second; the `<Hangup/>` ends the call, which completes the test (the SDK reports when the
 * call disconnects) and bounds what the test costs. Nothing is recorded.
 */
export function preflightTwiml(): string {
  const response = new TwimlResponse();
  response.say({ language: SAY_LANGUAGE }, PREFLIGHT_MESSAGE);
  response.pause({ length: PREFLIGHT_PAUSE_SECONDS });
  response.hangup();
  return response.toString();
}
