/**
 * The shared test data and builders of every test area (lambda, local, ops, api, infra, e2e): one set of fake
 * Twilio credentials, the walkthrough's device, its webhook bodies (section 2-8) and the TwiML they get, the
 * Twilio webhook parameter builders and the signed Lambda event, a child-process runner, and the Chromium the
 * browser tests drive.
 *
 * Kept light to import: nothing here loads an AWS SDK or a browser until it is used. The other shared fixtures
 * are servers with their own modules: `./dynalite` (an in-process DynamoDB protocol with fresh tables per
 * test), `./aws-stand-in` (CloudFormation, Secrets Manager and DynamoDB over HTTP) and `./fake-twilio` (Twilio's
 * REST API). Area helpers (`test/lambda/helpers.ts`, `test/local/helpers.ts`, `test/ops/helpers.ts`,
 * `test/e2e/harness.ts`) hold only what is specific to their area.
 *
 * The Voice SDK test double: the e2e build (`buildClient({ e2e: true })`, see `client/build.ts`) swaps the
 * real Device adapter for `client/src/voice/fake-device.ts`, which stays with the client sources (it runs in
 * the browser). Tests drive it through `window.__softphoneTest`, typed here as `SoftphoneTestControl`.
 */
import { spawn, type SpawnOptions } from 'node:child_process';
import type { Browser } from 'playwright-core';
import { getExpectedTwilioSignature } from 'twilio/lib/webhooks/webhooks';
import type { TwilioCredentials } from '../../lambda/ports';

export type { SoftphoneTestControl } from '../../client/src/voice/fake-device';

// ---------------------------------------------------------------------------------------------------------
// Twilio credentials and the walkthrough's device

/**
 * The one set of obviously fake Twilio credentials: well-formed SIDs (they pass the ops checks), and a key
 * secret and Auth Token that are unique strings, so the secrets scans can look for them.
 */
export const TEST_CREDENTIALS: TwilioCredentials = {
  accountSid: 'AC3e0123456789abcdef0123456789abcd',
  apiKeySid: 'SK0123456789abcdef0123456789abcdef',
  apiKeySecret: 'test-api-key-secret-not-real',
  authToken: 'test-auth-token-not-real',
  twimlAppSid: 'AP750123456789abcdef0123456789abcd',
};

/** The walkthrough's Twilio number (E.164) as the registry stores it, and as a person types it. */
export const DEVICE_NUMBER = '+815031234567';
export const DEVICE_NUMBER_TYPED = '+81-50-3123-4567';
/** Its Twilio Client identity and its device secret. */
export const DEVICE_CLIENT = 'DeviceId_0001';
export const DEVICE_SECRET = 'test-device-secret-0001';

// ---------------------------------------------------------------------------------------------------------
// The walkthrough's requests (section 2-8) and their answers

/** The walkthrough's token request body, verbatim (no device secret: the API refuses it). */
export const TOKEN_BODY = '{"twilioPhoneNumber": "+81-50-3123-4567"}';
/** The walkthrough's incoming-call webhook body, verbatim. */
export const INCOMING_BODY =
  'ApplicationSid=AP75zzzzzzzzzzzzzzzzzzzzzzzzzzzzzz&ApiVersion=2010-04-01&Called=&Caller=%2B819059876543&CallStatus=ringing&CallSid=CCA86nnnnnnnnnnnnnnnnnnnnnnnnnnnnnn&To=%2B815031234567&From=%2B819059876543&Direction=inbound&AccountSid=AC3exxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx';
/** The walkthrough's outgoing-call webhook body, verbatim. */
export const OUTGOING_BODY =
  'AccountSid=AC3exxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx&ApiVersion=2010-04-01&ApplicationSid=AP75zzzzzzzzzzzzzzzzzzzzzzzzzzzzzz&Called=&Caller=client%3ADeviceId_0001&CallSid=CA06nnnnnnnnnnnnnnnnnnnnnnnnnnnnnn&CallStatus=ringing&Direction=inbound&From=client%3ADeviceId_0001&To=&callerPhoneNumber=%2B81-50-3123-4567&callOutgoingPhoneNumber=%2B81-90-5987-6543';

/**
 * The answers to those bodies, adapted per issue 2 (answerOnBridge; E.164 caller ID and destination) and issue 14
 * (team lines): an incoming call rings every member of the called number's line for the line's ring time (20
 * seconds by default), each `<Client>` carrying the caller's and the line's number, and the `<Dial>`'s action
 * webhook (the same API, stage `ring`, `next` = the number of members rung) takes an unanswered call on. An
 * outgoing call is capped at the default call time limit (CALL_TIME_LIMIT_SECONDS, 4 hours).
 *
 * `incomingTwiml(apiBaseUrl)`: the answer when Twilio called the API at `apiBaseUrl` (`<scheme>://<host>/prod`,
 * or PUBLIC_BASE_URL), ringing `clients` (default: the walkthrough's device). INCOMING_TWIML: at the deployed
 * API (API_DOMAIN).
 */
export function incomingTwiml(
  apiBaseUrl = `https://${API_DOMAIN}/prod`,
  opts: { clients?: readonly string[]; caller?: string; line?: string; ringSeconds?: number } = {},
): string {
  const clients = opts.clients ?? [DEVICE_CLIENT];
  const caller = opts.caller ?? '+819059876543';
  const line = opts.line ?? DEVICE_NUMBER;
  const action = `${apiBaseUrl}/twilio/retrieve_twiml/call_action?stage=ring&amp;next=${clients.length}`;
  const status = legStatusAttributes(apiBaseUrl, `leg=member&amp;line=${encodeURIComponent(line)}&amp;caller=${encodeURIComponent(caller)}`);
  const ring = clients
    .map(
      (c) =>
        `<Client ${status}><Identity>${c}</Identity><Parameter name="callerNumber" value="${caller}"/><Parameter name="lineNumber" value="${line}"/></Client>`,
    )
    .join('');
  return `<?xml version="1.0" encoding="UTF-8"?><Response><Dial timeout="${opts.ringSeconds ?? 20}" answerOnBridge="true" action="${action}" method="POST">${ring}</Dial></Response>`;
}
/** The attributes that make a dialled leg report its progress to the call log (issue 15), as rendered. */
export function legStatusAttributes(apiBaseUrl: string, query: string): string {
  return `statusCallback="${apiBaseUrl}/twilio/call_status?${query}" statusCallbackMethod="POST" statusCallbackEvent="initiated ringing answered completed"`;
}
/** The walkthrough's outgoing answer: the number dialled with the line's caller ID, its leg reporting to the call log. */
export function outgoingTwiml(apiBaseUrl = `https://${API_DOMAIN}/prod`, opts: { client?: string; line?: string } = {}): string {
  const line = opts.line ?? DEVICE_NUMBER;
  const status = legStatusAttributes(apiBaseUrl, `leg=callee&amp;line=${encodeURIComponent(line)}&amp;client=${opts.client ?? DEVICE_CLIENT}`);
  return `<?xml version="1.0" encoding="UTF-8"?><Response><Dial timeout="60" callerId="${line}" timeLimit="14400"><Number ${status}>+819059876543</Number></Dial></Response>`;
}

/** The Content-Type Twilio posts its webhooks with. */
export const FORM = 'application/x-www-form-urlencoded; charset=UTF-8';

/**
 * A form body's parameters by WHATWG form decoding (`+` is a space, the last repeat wins): the oracle the request
 * templates are held to. A leading `?` is data (the URLSearchParams constructor would strip one).
 */
export const formParams = (body: string): Record<string, string> => Object.fromEntries(new URLSearchParams(body.startsWith('?') ? `?${body}` : body));

// ---------------------------------------------------------------------------------------------------------
// Twilio webhook parameters and the Lambda event the request template makes of them

/** The parameters of Twilio's incoming-call webhook (the walkthrough's), with overrides. */
export function incomingCallParams(overrides: Record<string, string> = {}): Record<string, string> {
  return { ...formParams(INCOMING_BODY), ...overrides };
}

/** The parameters of the TwiML App's outgoing-call webhook (the walkthrough's), with overrides. */
export function outgoingCallParams(overrides: Record<string, string> = {}): Record<string, string> {
  return { ...formParams(OUTGOING_BODY), ...overrides };
}

/** Where the deployed API would be, and the two webhook resources. */
export const API_DOMAIN = 'abc123.execute-api.ap-northeast-1.amazonaws.com';
export const INCOMING_RESOURCE = '/twilio/retrieve_twiml/call_incoming';
export const OUTGOING_RESOURCE = '/twilio/retrieve_twiml/call_outgoing';

/** The answer to the walkthrough's incoming call at the deployed API (see `incomingTwiml`). */
export const INCOMING_TWIML = incomingTwiml();
export const OUTGOING_TWIML = outgoingTwiml();

export interface WebhookEvent {
  params: Record<string, string>;
  /** the query string's parameters (`{}` without one), as the request template passes them */
  query: Record<string, string>;
  signature: string;
  domainName: string;
  path: string;
  resourcePath: string;
}

/**
 * A webhook event as the request template renders it, signed like Twilio does (with TEST_CREDENTIALS' Auth
 * Token, for the deployed URL with the query string, if any, unless told otherwise).
 */
export function signedEvent(
  resourcePath: string,
  params: Record<string, string>,
  opts: { authToken?: string; url?: string; signature?: string; query?: Record<string, string> } = {},
): WebhookEvent {
  const path = `/prod${resourcePath}`;
  const query = opts.query ?? {};
  const search = Object.keys(query).length > 0 ? `?${new URLSearchParams(query).toString()}` : '';
  const url = opts.url ?? `https://${API_DOMAIN}${path}${search}`;
  const signature = opts.signature ?? getExpectedTwilioSignature(opts.authToken ?? TEST_CREDENTIALS.authToken, url, params);
  return { params, query, signature, domainName: API_DOMAIN, path, resourcePath };
}

// ---------------------------------------------------------------------------------------------------------
// Child processes

export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end and collects its exit code and output (stdin closed). */
export function runCommand(command: string, args: readonly string[], opts: Pick<SpawnOptions, 'cwd' | 'env'> = {}): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...opts, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

// ---------------------------------------------------------------------------------------------------------
// Chromium

/**
 * Launches Debian's Chromium (`/usr/bin/chromium`, driven through playwright-core, which never downloads a
 * browser) headless, with fake media devices (the softphone asks for the microphone).
 */
export async function launchChromium(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--headless',
      '--use-fake-ui-for-media-stream',
      '--use-fake-device-for-media-stream',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}
