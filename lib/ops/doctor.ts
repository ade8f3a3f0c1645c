/**
 * `npm run doctor`: checks a deployment end to end, one line per check, a fix for each failure.
 *
 * One function per concern (stack, secret, Twilio account, API key, TwiML App, the "Test my setup" TwiML App,
 * registry, numbers, webhooks, site, alarm topic, alarms), run in that order by runDoctorChecks(), each adding
 * Check objects and passing on what later checks need (the TwiML App and each number: a check each of their voice
 * URL, fallback URL and call-status callback, as twilio:setup sets them); runDoctor() prints them and returns the
 * exit code (non-zero when any check fails). A warning (an alarm in ALARM) is printed but fails nothing; what no
 * API can show (the Twilio Debugger's webhook) is printed once as not checked, with where to set it. Every command
 * a fix names runs as shown (with this run's --stack and --region). Dependencies are injected like in setup.ts;
 * HTTP checks use `fetch`.
 */
import type { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SNSClient } from '@aws-sdk/client-sns';
import { getExpectedTwilioSignature } from 'twilio/lib/webhooks/webhooks';
import { TEMPORARILY_UNAVAILABLE_MESSAGE } from '../../lambda/core/twiml';
import { CREDENTIAL_FIELDS, CREDENTIALS_FORCED_REFRESH_INTERVAL_SECONDS, CREDENTIALS_MAX_AGE_SECONDS } from '../../lambda/core/credentials';
import { DEFAULT_STACK_NAME, type StackOutputs } from '../../lambda/core/settings';
import type { TwilioCredentials } from '../../lambda/ports';
import { listTopicAlarms, listTopicSubscriptions, type StackAlarm, type TopicSubscription } from './alarms';
import { awsErrorAdvice, credentialProblems, readDeployedStack, readSecret, StackOutputsError, type OptionalStackOutputs } from './aws';
import { CALL_STATUS_METHOD, callStatusUrl, debuggerWebhookStep, preflightUrl } from './call-status';
import { fallbackTwimlUrl } from '../site/fallback';
import { siteFileUrl } from '../site/urls';
import { checkApiKey, errorMessage, errorStatus, isRefusal, type TwilioClient, type TwilioClientFactory } from './twilio-client';

export interface Check {
  ok: boolean;
  name: string;
  detail?: string;
  /** what to do about a failure */
  fix?: string;
  /**
   * 'warning': passed, but worth a look (an alarm in ALARM); 'not-checked': nothing can check it (no API), `detail`
   * says what to do by hand. Neither counts as a check nor fails the run.
   */
  notice?: 'warning' | 'not-checked';
}

/** What doctor needs of the registry of lines (`DynamoLineDirectory` satisfies it). */
export interface RegisteredNumbers {
  listLines(): Promise<{ number: string; members: { clientName: string }[] }[]>;
}

export interface DoctorDeps {
  cfn: CloudFormationClient;
  secrets: SecretsManagerClient;
  /** the alarm topic's subscriptions */
  sns: SNSClient;
  /** the stack's alarms */
  cloudwatch: CloudWatchClient;
  twilio: TwilioClientFactory;
  registry: (outputs: StackOutputs) => RegisteredNumbers;
  fetch?: typeof fetch;
  /** per HTTP request, default 10 s */
  timeoutMs?: number;
}

export interface DoctorOptions {
  stackName: string;
  /** The AWS region checked; the fix commands name it so they run as shown. */
  region?: string;
}

const FAKE_CALL_SID = `CA${'0'.repeat(32)}`;
/** Twilio's magic test numbers: never a real subscriber, so never a registered device. */
const PROBE_NUMBERS = ['+15005550006', '+15005550007', '+15005550008', '+15005550009'];
const PROBE_CLIENT = 'doctor-probe-unregistered';
const DEPLOY = 'deploy again (`npx cdk deploy`)';

/**
 * The fewest alarms a deployment of this version sends to its alarm topic: one per rule of ALARM_THRESHOLDS in
 * lib/constructs/operations.ts, each of which at least one alarm uses (a rule may alarm several things: each
 * table's throttles, or a sum over more routes than one alarm may watch). Not imported from there: that would load
 * the CDK into the CLI; test/ops/doctor.test.ts holds the two equal.
 */
export const MIN_STACK_ALARMS = 12;

/** How a deployment gets its alarm topic subscribed (context alarmEmails, comma-separated; each address confirms). */
const DEPLOY_WITH_ALARM_EMAILS = 'deploy with the addresses to alert: `npx cdk deploy -c alarmEmails=you@example.com` (comma-separated)';
/** SNS's confirmation e-mail (an e-mail subscription stays PendingConfirmation until its link is followed). */
const CONFIRMATION_MAIL = '"AWS Notification - Subscription Confirmation"';

const pass = (name: string, detail?: string): Check => ({ ok: true, name, detail });
const fail = (name: string, detail: string, fix: string): Check => ({ ok: false, name, detail, fix });
const warn = (name: string, detail: string): Check => ({ ok: true, name, detail, notice: 'warning' });
const errorName = (err: unknown): string => (err as { name?: string } | null)?.name ?? '';

/** A TwiML document: optional XML declaration, one `<Response>` root, balanced tags. */
export function isTwimlDocument(body: string): boolean {
  const doc = body.trim().replace(/^<\?xml[^>]*\?>\s*/, '');
  if (!/^<Response(\s[^>]*)?(\/>|>[\s\S]*<\/Response>)$/.test(doc)) return false;
  const stack: string[] = [];
  for (const m of doc.matchAll(/<(\/?)([A-Za-z][\w:.-]*)[^>]*?(\/?)>/g)) {
    const [, closing, tag, selfClosing] = m;
    if (selfClosing) continue;
    if (!closing) stack.push(tag);
    else if (stack.pop() !== tag) return false;
  }
  return stack.length === 0;
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}

/** `config.json` next to the page the softphone URL serves. */
export function configJsonUrl(softphoneUrl: string): string {
  return siteFileUrl(softphoneUrl, 'config.json');
}

/** `--stack`/`--region` as this run was given them, for commands printed as fixes. */
function deploymentFlags(opts: DoctorOptions): string {
  return `${opts.stackName !== DEFAULT_STACK_NAME ? ` --stack ${opts.stackName}` : ''}${opts.region ? ` --region ${opts.region}` : ''}`;
}

/**
 * The `npm run twilio:setup` command line that fixes this deployment (optionally for one number). `--yes`: the
 * user asked for the fix, and it then runs as shown with TWILIO_* set, in a terminal or not; setup still prints
 * its plan first, and asks for the credentials in a terminal when they are not set.
 */
export function setupCommand(opts: DoctorOptions, number?: string): string {
  return `run \`npm run twilio:setup --${number ? ` --number ${number}` : ''}${deploymentFlags(opts)} --yes\``;
}

function voiceCheck(
  name: string,
  current: { voiceUrl?: string | null; voiceMethod?: string | null; voiceApplicationSid?: string | null },
  expected: string,
  fix: string,
): Check {
  if (current.voiceApplicationSid) return fail(name, `calls go to TwiML App ${current.voiceApplicationSid}, not to ${expected}`, fix);
  if (current.voiceUrl !== expected || (current.voiceMethod ?? '').toUpperCase() !== 'POST') {
    return fail(name, `is ${(current.voiceMethod ?? '').toUpperCase()} ${current.voiceUrl || '(none)'}, expected POST ${expected}`, fix);
  }
  return pass(name, `POST ${expected}`);
}

/** The voice fallback URL: the site's static "try again later" TwiML, fetched with GET (lib/site/fallback.ts). */
function fallbackCheck(
  name: string,
  current: { voiceFallbackUrl?: string | null; voiceFallbackMethod?: string | null },
  expected: string,
  fix: string,
): Check {
  if (current.voiceFallbackUrl !== expected || (current.voiceFallbackMethod ?? '').toUpperCase() !== 'GET') {
    return fail(
      name,
      `is ${(current.voiceFallbackMethod ?? '').toUpperCase()} ${current.voiceFallbackUrl || '(none)'}, expected GET ${expected}: a failed or throttled webhook would play Twilio's generic error`,
      fix,
    );
  }
  return pass(name, `GET ${expected}`);
}

/**
 * The status callback: where Twilio posts how a call to the number (or from the TwiML App) ended, for the call log
 * (`POST …/twilio/call_status`, lib/ops/call-status.ts). `calls` names those calls in the failure's detail.
 */
function statusCallbackCheck(
  name: string,
  current: { statusCallback?: string | null; statusCallbackMethod?: string | null },
  expected: string,
  calls: string,
  fix: string,
): Check {
  const method = (current.statusCallbackMethod ?? '').toUpperCase();
  if (current.statusCallback !== expected || method !== CALL_STATUS_METHOD) {
    const is = current.statusCallback ? `is ${method || '(no method)'} ${current.statusCallback}` : 'is not set';
    return fail(name, `${is}, expected ${CALL_STATUS_METHOD} ${expected}: the call log would not learn how ${calls} end`, fix);
  }
  return pass(name, `${CALL_STATUS_METHOD} ${expected}`);
}

const TWILIO_UNREACHABLE_FIX = "check your network (and TWILIO_API_BASE_URL if set) and Twilio's status, then re-run";

/** A failed check for a failed Twilio call: refused credentials (`refusedFix`), or Twilio not reached (no verdict). */
function twilioFail(name: string, err: unknown, refusedFix: string): Check {
  if (isRefusal(err)) return fail(name, errorMessage(err), refusedFix);
  return fail(name, `Twilio could not be reached: ${errorMessage(err)}`, TWILIO_UNREACHABLE_FIX);
}

type Add = (c: Check) => void;

interface Context {
  opts: DoctorOptions;
  deps: DoctorDeps;
  add: Add;
  outputs: StackOutputs;
  /** the outputs a stack of an earlier release may lack (the alarm topic) */
  optional: OptionalStackOutputs;
  creds: Partial<TwilioCredentials>;
  /** the account's client (Auth Token), once Twilio accepted it */
  client?: TwilioClient;
  registered: { phoneNumber: string; clientName: string }[];
}

async function checkStack(
  opts: DoctorOptions,
  deps: DoctorDeps,
  add: Add,
): Promise<{ outputs: StackOutputs; optional: OptionalStackOutputs } | undefined> {
  const name = `stack ${opts.stackName} has every output`;
  try {
    const stack = await readDeployedStack(deps.cfn, opts.stackName);
    add(pass(name));
    return stack;
  } catch (err) {
    if (err instanceof StackOutputsError) add(fail(name, err.problem, err.fix));
    else add(fail(name, errorMessage(err), 'check your network and AWS configuration, then re-run'));
    return undefined;
  }
}

async function checkSecret(ctx: Context): Promise<void> {
  const { outputs, opts, add } = ctx;
  const secretId = outputs.TwilioSecretName;
  const name = `secret ${secretId} exists and has every field`;
  const state = await readSecret(ctx.deps.secrets, secretId);
  switch (state.status) {
    case 'missing':
      add(
        fail(
          name,
          'the secret does not exist',
          `create it (\`aws secretsmanager create-secret --name ${secretId}${opts.region ? ` --region ${opts.region}` : ''}\`), then ${setupCommand(opts)}`,
        ),
      );
      return;
    case 'empty':
      add(fail(name, 'the secret has no value yet (a fresh deployment)', setupCommand(opts)));
      return;
    case 'deleted':
      add(
        fail(
          name,
          'the secret is scheduled for deletion',
          `restore it (\`aws secretsmanager restore-secret --secret-id ${secretId}${opts.region ? ` --region ${opts.region}` : ''}\`)`,
        ),
      );
      return;
    case 'unreadable':
      add(fail(name, state.error, state.advice));
      return;
    default: {
      ctx.creds = state.parsed ?? {};
      const problems = state.parsed ? credentialProblems(state.parsed) : ['not a JSON object'];
      add(problems.length > 0 ? fail(name, problems.join('; '), setupCommand(opts)) : pass(name, CREDENTIAL_FIELDS.join(', ')));
    }
  }
}

async function checkTwilioAccount(ctx: Context): Promise<void> {
  const { creds, opts, add } = ctx;
  if (!creds.accountSid?.startsWith('AC') || !creds.authToken) {
    add(fail('Twilio checks', 'skipped: the secret holds no account SID and auth token', 'fix the secret (above) first'));
    return;
  }
  const name = `Twilio accepts account ${creds.accountSid} with the stored auth token`;
  const client = ctx.deps.twilio({ username: creds.accountSid, password: creds.authToken, accountSid: creds.accountSid });
  try {
    await client.api.v2010.accounts(creds.accountSid).fetch();
    add(pass(name));
    ctx.client = client;
  } catch (err) {
    add(twilioFail(name, err, `the auth token may have been rotated: ${setupCommand(opts)} with the current one`));
  }
}

async function checkApiKeyAccepted(ctx: Context): Promise<void> {
  const { client, creds, opts, add } = ctx;
  if (!client || !creds.accountSid || !creds.apiKeySid) return;
  const name = `API key ${creds.apiKeySid} exists and its secret is accepted`;
  const newKey = `${setupCommand(opts)} (it creates a new key)`;
  try {
    await client.keys(creds.apiKeySid).fetch();
  } catch (err) {
    if (errorStatus(err) === 404) add(fail(name, 'the key does not exist (deleted?)', newKey));
    else add(twilioFail(name, err, newKey));
    return;
  }
  try {
    const verdict = await checkApiKey(ctx.deps.twilio, {
      accountSid: creds.accountSid,
      apiKeySid: creds.apiKeySid,
      apiKeySecret: creds.apiKeySecret ?? '',
      twimlAppSid: creds.twimlAppSid,
    });
    if (verdict === 'accepted') add(pass(name));
    else add(fail(name, 'the key exists but Twilio refuses the stored secret (HTTP 401)', newKey));
  } catch (err) {
    add(fail(name, errorMessage(err), TWILIO_UNREACHABLE_FIX));
  }
}

async function checkTwimlApp(ctx: Context): Promise<void> {
  const { client, creds, opts, outputs, add } = ctx;
  if (!client || !creds.twimlAppSid) return;
  const name = `TwiML App ${creds.twimlAppSid} exists`;
  try {
    const app = await client.applications(creds.twimlAppSid).fetch();
    add(pass(name, app.friendlyName));
    add(voiceCheck('TwiML App voice URL points at this stack', app, outputs.OutgoingCallWebhookUrl, setupCommand(opts)));
    add(fallbackCheck("TwiML App fallback URL is the site's fallback TwiML", app, fallbackTwimlUrl(outputs.SoftphoneUrl), setupCommand(opts)));
    add(
      statusCallbackCheck(
        'TwiML App status callback reports to the call log',
        app,
        callStatusUrl(outputs),
        'calls made from the softphone',
        setupCommand(opts),
      ),
    );
  } catch (err) {
    if (errorStatus(err) === 404) add(fail(name, 'the app does not exist (deleted?)', setupCommand(opts)));
    else add(twilioFail(name, err, setupCommand(opts)));
  }
}

/**
 * The "Test my setup" TwiML App: the secret names it (preflightTwimlAppSid; the token API issues the preflight
 * test's tokens for it), it exists, and its voice URL is the preflight webhook (POST), as twilio:setup makes it.
 */
async function checkPreflightApp(ctx: Context): Promise<void> {
  const { client, creds, opts, outputs, add } = ctx;
  if (!client) return;
  const setup = setupCommand(opts);
  const sid = creds.preflightTwimlAppSid;
  if (!sid) {
    add(
      fail(
        'the secret names the "Test my setup" TwiML App',
        `the secret has no preflightTwimlAppSid: the softphone's "Test my setup" cannot get a token`,
        `${setup} (it creates the app and records it in the secret)`,
      ),
    );
    return;
  }
  const name = `"Test my setup" TwiML App ${sid} exists`;
  try {
    const app = await client.applications(sid).fetch();
    add(pass(name, app.friendlyName));
    add(voiceCheck('"Test my setup" TwiML App voice URL is the preflight webhook', app, preflightUrl(outputs), setup));
  } catch (err) {
    if (errorStatus(err) === 404) add(fail(name, 'the app does not exist (deleted?)', `${setup} (it creates the app again)`));
    else add(twilioFail(name, err, setup));
  }
}

async function checkRegistry(ctx: Context): Promise<void> {
  const { outputs, add } = ctx;
  const name = `device registry ${outputs.DevicesTableName} is readable`;
  try {
    const lines = await ctx.deps.registry(outputs).listLines();
    ctx.registered = lines.flatMap((line) => line.members.map((m) => ({ phoneNumber: line.number, clientName: m.clientName })));
    add(
      pass(
        name,
        ctx.registered.length === 0
          ? 'no devices registered yet (`npm run device -- add …`)'
          : `${lines.length} line(s), ${ctx.registered.length} device(s)`,
      ),
    );
  } catch (err) {
    add(fail(name, errorMessage(err), awsErrorAdvice((err as { cause?: unknown }).cause ?? err, 'dynamodb:Scan on the registry table')));
  }
}

async function checkNumbers(ctx: Context): Promise<void> {
  const { client, creds, opts, outputs, add } = ctx;
  if (!client || !creds.accountSid) return;
  for (const n of new Set(ctx.registered.map((d) => d.phoneNumber))) {
    const name = `${n} belongs to account ${creds.accountSid}`;
    let found: Awaited<ReturnType<TwilioClient['incomingPhoneNumbers']['list']>>[number] | undefined;
    try {
      found = (await client.incomingPhoneNumbers.list({ phoneNumber: n, limit: 20 })).find((x) => x.phoneNumber === n);
    } catch (err) {
      add(twilioFail(name, err, setupCommand(opts)));
      continue;
    }
    if (!found) {
      const where = ` --table ${outputs.DevicesTableName}${opts.region ? ` --region ${opts.region}` : ''}`;
      const removes = ctx.registered.filter((d) => d.phoneNumber === n).map((d) => `npm run device -- remove --client ${d.clientName}${where}`);
      add(
        fail(
          name,
          'not a phone number of this account',
          `buy or port ${n} in the Twilio console, or remove its line's device${removes.length === 1 ? '' : 's'} (${removes.map((r) => `\`${r}\``).join(', ')})`,
        ),
      );
      continue;
    }
    add(pass(name, found.sid));
    add(voiceCheck(`${n} voice URL points at this stack`, found, outputs.IncomingCallWebhookUrl, setupCommand(opts, n)));
    add(fallbackCheck(`${n} fallback URL is the site's fallback TwiML`, found, fallbackTwimlUrl(outputs.SoftphoneUrl), setupCommand(opts, n)));
    add(statusCallbackCheck(`${n} status callback reports to the call log`, found, callStatusUrl(outputs), `calls to ${n}`, setupCommand(opts, n)));
  }
}

interface WebhookProbe {
  label: string;
  url: string;
  what: string;
  params: Record<string, string>;
  /** what the TwiML must contain (registered-device probes) */
  expect?: RegExp;
}

/** The probes: an unregistered number and client, and, with a device registered, its whole path. */
function webhookProbes(ctx: Context): WebhookProbe[] {
  const { creds, outputs } = ctx;
  const registeredNumbers = new Set(ctx.registered.map((d) => d.phoneNumber));
  const probe = PROBE_NUMBERS.find((p) => !registeredNumbers.has(p)) ?? PROBE_NUMBERS[0];
  const common = {
    AccountSid: creds.accountSid ?? `AC${'0'.repeat(32)}`,
    ApiVersion: '2010-04-01',
    CallSid: FAKE_CALL_SID,
    CallStatus: 'ringing',
    Direction: 'inbound',
  };
  const incoming = (to: string) => ({ ...common, From: '+15005550001', Caller: '+15005550001', To: to, Called: to });
  const outgoing = (client: string) => ({ ...common, ApplicationSid: creds.twimlAppSid ?? '', From: `client:${client}`, Caller: `client:${client}` });
  const probes: WebhookProbe[] = [
    { label: 'call_incoming', url: outputs.IncomingCallWebhookUrl, what: `an unregistered number (${probe})`, params: incoming(probe) },
    {
      label: 'call_outgoing',
      url: outputs.OutgoingCallWebhookUrl,
      what: `an unregistered client (${PROBE_CLIENT})`,
      params: { ...outgoing(PROBE_CLIENT), To: probe },
    },
  ];
  // A registered device exercises the whole path (registry lookups with the functions' own IAM grants): its
  // line must ring it (or, outside the line's hours, take a message), and it must dial out with its line's number
  // as caller ID. Doctor only reads the TwiML; no call is placed.
  const device = ctx.registered[0];
  if (device) {
    probes.push(
      {
        label: 'call_incoming',
        url: outputs.IncomingCallWebhookUrl,
        what: `a registered number (${device.phoneNumber})`,
        params: incoming(device.phoneNumber),
        expect: new RegExp(`<Identity>${escapeRegExp(device.clientName)}</Identity>|<Record `),
      },
      {
        label: 'call_outgoing',
        url: outputs.OutgoingCallWebhookUrl,
        what: `a registered client (${device.clientName}) calling its own number`,
        params: { ...outgoing(device.clientName), To: '', callOutgoingPhoneNumber: device.phoneNumber },
        expect: new RegExp(`callerId="${escapeRegExp(device.phoneNumber)}"`),
      },
    );
  }
  return probes;
}

async function checkWebhooks(ctx: Context): Promise<void> {
  const { creds, opts, add } = ctx;
  const doFetch = ctx.deps.fetch ?? fetch;
  const timeoutMs = ctx.deps.timeoutMs ?? 10_000;
  const unreachable = 'check that the API is deployed and reachable';
  for (const hook of webhookProbes(ctx)) {
    const body = new URLSearchParams(hook.params).toString();
    const post = (headers: Record<string, string>) =>
      doFetch(hook.url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...headers },
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
      });
    if (creds.authToken) {
      const name = `${hook.label}: a signed request for ${hook.what} answers with TwiML`;
      const logs = 'check the function logs in CloudWatch (`TwilioRetrieveTwiml…`)';
      try {
        const res = await post({ 'X-Twilio-Signature': getExpectedTwilioSignature(creds.authToken, hook.url, hook.params) });
        const text = await res.text();
        const type = res.headers.get('content-type') ?? '';
        if (res.status === 403) {
          add(
            fail(
              name,
              `403 at ${hook.url}: the stack does not accept the stored auth token`,
              `check the authToken in the secret (${setupCommand(opts)} to rewrite it); warm functions pick up a changed secret within ${CREDENTIALS_MAX_AGE_SECONDS / 60} minutes (their cache period) or immediately on the next signature mismatch (one re-read per ${CREDENTIALS_FORCED_REFRESH_INTERVAL_SECONDS} s), no redeploy needed`,
            ),
          );
        } else if (res.status !== 200) add(fail(name, `HTTP ${res.status} at ${hook.url}`, logs));
        else if (!/xml/i.test(type) || !isTwimlDocument(text))
          add(
            fail(
              name,
              `200 but not TwiML (Content-Type ${type || 'none'}): ${text.slice(0, 80)}`,
              `the API does not run this app's mapping templates: ${DEPLOY}`,
            ),
          );
        else if (text.includes(TEMPORARILY_UNAVAILABLE_MESSAGE))
          add(
            fail(
              name,
              'the function answered "temporarily unavailable": it cannot read the registry or the secret',
              `${logs}: the error names the failing call`,
            ),
          );
        else if (hook.expect && !hook.expect.test(text))
          add(
            fail(
              name,
              `unexpected TwiML: ${text.slice(0, 160)}`,
              `check the device registration (\`npm run device -- list --table ${ctx.outputs.DevicesTableName}${opts.region ? ` --region ${opts.region}` : ''}\`) and the function logs`,
            ),
          );
        else add(pass(name, `200 ${type}`));
      } catch (err) {
        add(fail(name, `${hook.url}: ${errorMessage(err)}`, unreachable));
      }
    }
    if (hook.expect) continue; // each webhook's unsigned check is made once, with the unregistered probe
    const unsigned = `${hook.label}: an unsigned request is refused with 403`;
    try {
      const res = await post({});
      await res.text();
      if (res.status === 403) add(pass(unsigned));
      else
        add(
          fail(
            unsigned,
            `answered HTTP ${res.status}: anyone can call this webhook`,
            `the functions run with WEBHOOK_SIGNATURE_VALIDATION=off: remove it from their environment and ${DEPLOY}`,
          ),
        );
    } catch (err) {
      add(fail(unsigned, `${hook.url}: ${errorMessage(err)}`, unreachable));
    }
  }
}

async function checkSite(ctx: Context): Promise<void> {
  const { outputs, add } = ctx;
  const doFetch = ctx.deps.fetch ?? fetch;
  const signal = () => AbortSignal.timeout(ctx.deps.timeoutMs ?? 10_000);
  const pageName = `softphone ${outputs.SoftphoneUrl} serves the page`;
  try {
    const res = await doFetch(outputs.SoftphoneUrl, { signal: signal() });
    const text = await res.text();
    if (res.status !== 200) add(fail(pageName, `HTTP ${res.status}`, `${DEPLOY}; a new CloudFront distribution can take a few minutes`));
    else if (!/<html/i.test(text)) add(fail(pageName, `200 but not an HTML page (${res.headers.get('content-type') ?? 'no Content-Type'})`, DEPLOY));
    else add(pass(pageName));
  } catch (err) {
    add(fail(pageName, errorMessage(err), 'check the SoftphoneUrl output and that the site is deployed'));
  }
  const fallbackUrl = fallbackTwimlUrl(outputs.SoftphoneUrl);
  const fallbackName = `fallback TwiML ${fallbackUrl} answers TwiML`;
  try {
    const res = await doFetch(fallbackUrl, { signal: signal() });
    const text = await res.text();
    const type = res.headers.get('content-type') ?? '';
    if (res.status !== 200) add(fail(fallbackName, `HTTP ${res.status}`, DEPLOY));
    else if (!/xml/i.test(type) || !isTwimlDocument(text)) add(fail(fallbackName, `200 but not TwiML (Content-Type ${type || 'none'})`, DEPLOY));
    else add(pass(fallbackName));
  } catch (err) {
    add(fail(fallbackName, errorMessage(err), 'check the SoftphoneUrl output and that the site is deployed'));
  }
  const configUrl = configJsonUrl(outputs.SoftphoneUrl);
  const configName = 'softphone config.json points at this API';
  try {
    const res = await doFetch(configUrl, { signal: signal() });
    const text = await res.text();
    let apiBaseUrl: unknown;
    try {
      apiBaseUrl = (JSON.parse(text) as { apiBaseUrl?: unknown }).apiBaseUrl;
    } catch {
      apiBaseUrl = undefined;
    }
    if (res.status !== 200) add(fail(configName, `${configUrl}: HTTP ${res.status}`, DEPLOY));
    else if (typeof apiBaseUrl !== 'string') add(fail(configName, `${configUrl} has no apiBaseUrl`, DEPLOY));
    else if (trimSlash(apiBaseUrl) !== trimSlash(outputs.ApiUrl))
      add(fail(configName, `apiBaseUrl is ${apiBaseUrl}, expected ${outputs.ApiUrl}`, DEPLOY));
    else add(pass(configName, apiBaseUrl));
  } catch (err) {
    add(fail(configName, `${configUrl}: ${errorMessage(err)}`, 'check that the site is deployed'));
  }
}

/**
 * The alarm topic (stack output AlarmTopicArn) exists and someone receives its messages: at least one subscription
 * is confirmed (SNS lists an unconfirmed one with SubscriptionArn `PendingConfirmation`). Returns the topic's ARN
 * when it exists, for the alarms check.
 */
async function checkAlarmTopic(ctx: Context): Promise<string | undefined> {
  const { opts, add } = ctx;
  const topicArn = ctx.optional.AlarmTopicArn;
  if (!topicArn) {
    add(
      fail(
        'alarm topic (stack output AlarmTopicArn) exists',
        `stack ${opts.stackName} has no output AlarmTopicArn: it was deployed from an earlier release of this app, without alarms`,
        `${DEPLOY_WITH_ALARM_EMAILS}, confirm the subscription from the e-mail AWS sends, then re-run`,
      ),
    );
    return undefined;
  }
  const topicName = `alarm topic ${topicArn} exists`;
  let subscriptions: TopicSubscription[];
  try {
    subscriptions = await listTopicSubscriptions(ctx.deps.sns, topicArn);
  } catch (err) {
    if (errorName(err) === 'NotFoundException') {
      add(fail(topicName, 'the topic does not exist (deleted outside CloudFormation?)', `${DEPLOY}; the stack's alarms notify nobody until then`));
    } else {
      add(fail(topicName, `${errorName(err) || 'Error'}: ${errorMessage(err)}`, awsErrorAdvice(err, 'sns:ListSubscriptionsByTopic on it')));
    }
    return undefined;
  }
  add(pass(topicName));
  const name = 'alarm topic has a confirmed subscription';
  // the first few endpoints (an e-mail by its address, other protocols named), then how many more
  const who = (list: TopicSubscription[]) =>
    list
      .slice(0, 5)
      .map((s) => (s.protocol === 'email' ? s.endpoint : `${s.protocol} ${s.endpoint}`))
      .join(', ') + (list.length > 5 ? ` and ${list.length - 5} more` : '');
  const confirmed = subscriptions.filter((s) => s.confirmed);
  const pending = subscriptions.filter((s) => !s.confirmed);
  if (confirmed.length > 0) {
    add(pass(name, `${who(confirmed)}${pending.length > 0 ? `; not confirmed yet: ${who(pending)}` : ''}`));
  } else if (pending.length === 0) {
    add(
      fail(
        name,
        'nobody is subscribed: the alarms notify no one',
        `${DEPLOY_WITH_ALARM_EMAILS}, then confirm the subscription with the link in the e-mail AWS sends (${CONFIRMATION_MAIL})`,
      ),
    );
  } else {
    const first = pending[0];
    const resend =
      first.protocol === 'email'
        ? `; lost, or its link expired (after 3 days)? have it sent again: \`aws sns subscribe --topic-arn ${topicArn} --protocol email --notification-endpoint ${first.endpoint}${opts.region ? ` --region ${opts.region}` : ''}\``
        : '';
    add(
      fail(
        name,
        `only pending ones: ${who(pending)} never confirmed (SNS lists them as PendingConfirmation): the alarms notify no one`,
        `confirm with the link in the e-mail AWS sent to ${first.endpoint} (${CONFIRMATION_MAIL}; look in the spam folder too)${resend}`,
      ),
    );
  }
  return topicArn;
}

/**
 * The stack's alarms: those that send to the alarm topic (DescribeAlarms with ActionPrefix = its ARN), at least
 * MIN_STACK_ALARMS of them. Each alarm in ALARM is a warning line: the deployment is sound, something it watches
 * is not.
 */
async function checkAlarms(ctx: Context, topicArn: string): Promise<void> {
  const { add } = ctx;
  const name = `the stack's alarms notify the alarm topic`;
  let alarms: StackAlarm[];
  try {
    alarms = await listTopicAlarms(ctx.deps.cloudwatch, topicArn);
  } catch (err) {
    add(fail(name, `${errorName(err) || 'Error'}: ${errorMessage(err)}`, awsErrorAdvice(err, 'cloudwatch:DescribeAlarms')));
    return;
  }
  if (alarms.length < MIN_STACK_ALARMS) {
    add(
      fail(
        name,
        `${alarms.length === 0 ? 'no alarm sends' : `only ${alarms.length} alarm${alarms.length === 1 ? ' sends' : 's send'}`} to the topic, expected at least ${MIN_STACK_ALARMS}: failures would go unnoticed`,
        `${DEPLOY}: it creates the alarms (deleted ones too)`,
      ),
    );
    return;
  }
  const count = (state: string) => alarms.filter((a) => a.state === state).length;
  add(pass(name, `${alarms.length} alarms: ${count('OK')} OK, ${count('ALARM')} ALARM, ${count('INSUFFICIENT_DATA')} INSUFFICIENT_DATA`));
  for (const a of alarms.filter((x) => x.state === 'ALARM')) {
    add(warn(`alarm ${a.name} is in ALARM`, `${a.reason || 'no reason given'} (its description says what to do first; see the dashboard)`));
  }
}

async function checkOperations(ctx: Context): Promise<void> {
  const topicArn = await checkAlarmTopic(ctx);
  if (topicArn) await checkAlarms(ctx, topicArn);
}

/** Runs every check in order, calling `onCheck` as each completes. */
export async function runDoctorChecks(opts: DoctorOptions, deps: DoctorDeps, onCheck: (c: Check) => void = () => {}): Promise<Check[]> {
  const checks: Check[] = [];
  const add: Add = (c) => {
    checks.push(c);
    onCheck(c);
  };
  const stack = await checkStack(opts, deps, add);
  if (!stack) return checks;
  const ctx: Context = { opts, deps, add, outputs: stack.outputs, optional: stack.optional, creds: {}, registered: [] };
  for (const check of [
    checkSecret,
    checkTwilioAccount,
    checkApiKeyAccepted,
    checkTwimlApp,
    checkPreflightApp,
    checkRegistry,
    checkNumbers,
    checkWebhooks,
    checkSite,
    checkOperations,
  ]) {
    await check(ctx);
  }
  add({
    ok: true,
    name: "Twilio Debugger webhook (Twilio's API cannot read or set it)",
    detail: debuggerWebhookStep(ctx.outputs),
    notice: 'not-checked',
  });
  return checks;
}

export function formatCheck(c: Check): string[] {
  const mark = c.notice === 'warning' ? '!' : c.notice === 'not-checked' ? '?' : c.ok ? '✔' : '✘';
  const line = `${mark} ${c.name}${c.detail ? ` — ${c.detail}` : ''}`;
  return c.ok || !c.fix ? [line] : [line, `    fix: ${c.fix}`];
}

/**
 * Prints one line per check (plus a fix line under each failure), `!` warnings and `?` what it cannot check;
 * returns the exit code.
 */
export async function runDoctor(opts: DoctorOptions, deps: DoctorDeps, io: { print(line: string): void }): Promise<number> {
  io.print(`doctor for stack ${opts.stackName}${opts.region ? ` in ${opts.region}` : ''}`);
  const all = await runDoctorChecks(opts, deps, (c) => {
    for (const line of formatCheck(c)) io.print(line);
  });
  const checks = all.filter((c) => !c.notice);
  const warnings = all.filter((c) => c.notice === 'warning').length;
  const failed = checks.filter((c) => !c.ok).length;
  const warned = warnings === 0 ? '' : ` (${warnings} warning${warnings === 1 ? '' : 's'})`;
  io.print(failed === 0 ? `All ${checks.length} checks passed${warned}.` : `${failed} of ${checks.length} checks failed${warned}.`);
  return failed === 0 ? 0 : 1;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
