/**
 * `npm run doctor`: checks a deployment end to end, one line per check, a fix for each failure.
 *
 * runDoctorChecks() yields Check objects (testable); runDoctor() prints them and returns the exit code
 * (non-zero when any check fails). Dependencies are injected like in setup.ts; HTTP checks use `fetch`.
 */
import type { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { getExpectedTwilioSignature } from 'twilio/lib/webhooks/webhooks';
import { TEMPORARILY_UNAVAILABLE_MESSAGE } from '../../lambda/core/twiml';
import {
  CREDENTIAL_FIELDS, CREDENTIALS_FORCED_REFRESH_INTERVAL_SECONDS, CREDENTIALS_MAX_AGE_SECONDS, type TwilioCredentials,
} from '../../lambda/core/credentials';
import { credentialProblems, readSecret, readStackOutputs, type StackOutputs } from './aws';
import { errorMessage, errorStatus, type TwilioClient, type TwilioClientFactory } from './twilio-client';

export interface Check {
  ok: boolean;
  name: string;
  detail?: string;
  /** what to do about a failure */
  fix?: string;
}

/** What doctor needs of the device registry (`DynamoRegistry` satisfies it). */
export interface RegisteredNumbers {
  list(): Promise<{ phoneNumber: string; clientName: string }[]>;
}

export interface DoctorDeps {
  cfn: CloudFormationClient;
  secrets: SecretsManagerClient;
  twilio: TwilioClientFactory;
  registry: (outputs: StackOutputs) => RegisteredNumbers;
  fetch?: typeof fetch;
  /** per HTTP request, default 10 s */
  timeoutMs?: number;
}

export interface DoctorOptions {
  stackName: string;
}

const SETUP = 'run `npm run twilio:setup`';
const FAKE_CALL_SID = 'CA' + '0'.repeat(32);
/** Twilio's magic test numbers: never a real subscriber, so never a registered device. */
const PROBE_NUMBERS = ['+15005550006', '+15005550007', '+15005550008', '+15005550009'];
const PROBE_CLIENT = 'doctor-probe-unregistered';

const pass = (name: string, detail?: string): Check => ({ ok: true, name, detail });
const fail = (name: string, detail: string, fix: string): Check => ({ ok: false, name, detail, fix });

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
  const base = /\.html?$/i.test(new URL(softphoneUrl).pathname) || softphoneUrl.endsWith('/') ? softphoneUrl : `${softphoneUrl}/`;
  return new URL('config.json', base).href;
}

function voiceCheck(name: string, current: { voiceUrl?: string | null; voiceMethod?: string | null; voiceApplicationSid?: string | null }, expected: string, fix: string): Check {
  if (current.voiceApplicationSid) return fail(name, `calls go to TwiML App ${current.voiceApplicationSid}, not to ${expected}`, fix);
  if (current.voiceUrl !== expected || (current.voiceMethod ?? '').toUpperCase() !== 'POST') {
    return fail(name, `is ${(current.voiceMethod ?? '').toUpperCase()} ${current.voiceUrl || '(none)'}, expected POST ${expected}`, fix);
  }
  return pass(name, `POST ${expected}`);
}

/** Runs every check in order, calling `onCheck` as each completes. */
export async function runDoctorChecks(opts: DoctorOptions, deps: DoctorDeps, onCheck: (c: Check) => void = () => {}): Promise<Check[]> {
  const checks: Check[] = [];
  const add = (c: Check): Check => {
    checks.push(c);
    onCheck(c);
    return c;
  };
  const doFetch = deps.fetch ?? fetch;
  const timeoutMs = deps.timeoutMs ?? 10_000;

  // 1. The stack.
  let outputs: StackOutputs;
  try {
    outputs = await readStackOutputs(deps.cfn, opts.stackName);
    add(pass(`stack ${opts.stackName} has every output`));
  } catch (err) {
    add(fail(`stack ${opts.stackName} has every output`, errorMessage(err), 'deploy with `npx cdk deploy`, or pass the right --stack/--region'));
    return checks;
  }

  // 2. The secret.
  const secretName = `secret ${outputs.TwilioSecretName} exists and has every field`;
  const state = await readSecret(deps.secrets, outputs.TwilioSecretName);
  let creds: Partial<TwilioCredentials> = {};
  if (state.status === 'missing') add(fail(secretName, 'the secret does not exist', `redeploy the stack (\`npx cdk deploy\`), then ${SETUP}`));
  else if (state.status === 'unreadable') add(fail(secretName, state.error, 'use AWS credentials allowed secretsmanager:GetSecretValue on it'));
  else {
    creds = state.parsed ?? {};
    const problems = state.parsed ? credentialProblems(state.parsed) : ['not a JSON object'];
    if (problems.length > 0) add(fail(secretName, problems.join('; '), SETUP));
    else add(pass(secretName, CREDENTIAL_FIELDS.join(', ')));
  }

  // 3. Twilio resources.
  let client: TwilioClient | undefined;
  if (creds.accountSid?.startsWith('AC') && creds.authToken) {
    client = deps.twilio({ username: creds.accountSid, password: creds.authToken, accountSid: creds.accountSid });
    try {
      await client.api.v2010.accounts(creds.accountSid).fetch();
      add(pass(`Twilio accepts account ${creds.accountSid} with the stored auth token`));
    } catch (err) {
      add(fail(`Twilio accepts account ${creds.accountSid} with the stored auth token`, errorMessage(err), `the auth token may have been rotated: ${SETUP} with the current one`));
      client = undefined;
    }
  } else {
    add(fail('Twilio checks', 'skipped: the secret holds no account SID and auth token', SETUP));
  }

  if (client && creds.accountSid) {
    const accountSid = creds.accountSid;
    if (creds.apiKeySid) {
      const name = `API key ${creds.apiKeySid} exists and its secret is accepted`;
      try {
        await client.keys(creds.apiKeySid).fetch();
        try {
          await deps.twilio({ username: creds.apiKeySid, password: creds.apiKeySecret ?? '', accountSid }).api.v2010.accounts(accountSid).fetch();
          add(pass(name));
        } catch (err) {
          add(fail(name, `the key exists but Twilio rejects the stored secret (${errorMessage(err)})`, `${SETUP} (it creates a new key)`));
        }
      } catch (err) {
        add(fail(name, errorStatus(err) === 404 ? 'the key does not exist (deleted?)' : errorMessage(err), `${SETUP} (it creates a new key)`));
      }
    }
    if (creds.twimlAppSid) {
      try {
        const app = await client.applications(creds.twimlAppSid).fetch();
        add(pass(`TwiML App ${creds.twimlAppSid} exists`, app.friendlyName));
        add(voiceCheck(`TwiML App voice URL points at this stack`, app, outputs.OutgoingCallWebhookUrl, SETUP));
      } catch (err) {
        add(fail(`TwiML App ${creds.twimlAppSid} exists`, errorStatus(err) === 404 ? 'the app does not exist (deleted?)' : errorMessage(err), SETUP));
      }
    }
  }

  // 4. Registered numbers.
  let registered: { phoneNumber: string; clientName: string }[] = [];
  try {
    registered = await deps.registry(outputs).list();
    add(pass(`device registry ${outputs.DevicesTableName} is readable`, registered.length === 0 ? 'no devices registered yet (`npm run device -- add …`)' : `${registered.length} device(s)`));
  } catch (err) {
    add(fail(`device registry ${outputs.DevicesTableName} is readable`, errorMessage(err), 'use AWS credentials allowed dynamodb:Scan on the devices table'));
  }
  if (client && creds.accountSid) {
    for (const device of registered) {
      const n = device.phoneNumber;
      let found: Awaited<ReturnType<TwilioClient['incomingPhoneNumbers']['list']>>[number] | undefined;
      try {
        found = (await client.incomingPhoneNumbers.list({ phoneNumber: n, limit: 20 })).find((x) => x.phoneNumber === n);
      } catch (err) {
        add(fail(`${n} belongs to account ${creds.accountSid}`, errorMessage(err), 'check Twilio status and retry'));
        continue;
      }
      if (!found) {
        add(fail(`${n} belongs to account ${creds.accountSid}`, 'not a phone number of this account', `buy or port ${n} in the Twilio console, or remove the device (\`npm run device -- remove ${n}\`)`));
        continue;
      }
      add(pass(`${n} belongs to account ${creds.accountSid}`, found.sid));
      add(voiceCheck(`${n} voice URL points at this stack`, found, outputs.IncomingCallWebhookUrl, `run \`npm run twilio:setup -- --number ${n}\``));
    }
  }

  // 5. Webhooks: a signed request gets TwiML, an unsigned one 403.
  const registeredNumbers = new Set(registered.map((d) => d.phoneNumber));
  const probe = PROBE_NUMBERS.find((p) => !registeredNumbers.has(p)) ?? PROBE_NUMBERS[0];
  const accountSid = creds.accountSid ?? 'AC' + '0'.repeat(32);
  const webhooks: { label: string; url: string; what: string; params: Record<string, string>; expect?: RegExp }[] = [
    {
      label: 'call_incoming',
      url: outputs.IncomingCallWebhookUrl,
      what: `an unregistered number (${probe})`,
      params: { AccountSid: accountSid, ApiVersion: '2010-04-01', CallSid: FAKE_CALL_SID, CallStatus: 'ringing', Direction: 'inbound', From: '+15005550001', Caller: '+15005550001', To: probe, Called: probe },
    },
    {
      label: 'call_outgoing',
      url: outputs.OutgoingCallWebhookUrl,
      what: `an unregistered client (${PROBE_CLIENT})`,
      params: { AccountSid: accountSid, ApiVersion: '2010-04-01', ApplicationSid: creds.twimlAppSid ?? '', CallSid: FAKE_CALL_SID, CallStatus: 'ringing', Direction: 'inbound', From: `client:${PROBE_CLIENT}`, Caller: `client:${PROBE_CLIENT}`, To: probe },
    },
  ];
  // A registered device exercises the whole path (registry lookups with the functions' own IAM grants):
  // its number must ring its client, and its client must dial out with its own number as caller ID. Doctor
  // only reads the TwiML; no call is placed.
  const device = registered[0];
  if (device) {
    webhooks.push(
      {
        label: 'call_incoming',
        url: outputs.IncomingCallWebhookUrl,
        what: `a registered number (${device.phoneNumber})`,
        params: { AccountSid: accountSid, ApiVersion: '2010-04-01', CallSid: FAKE_CALL_SID, CallStatus: 'ringing', Direction: 'inbound', From: '+15005550001', Caller: '+15005550001', To: device.phoneNumber, Called: device.phoneNumber },
        expect: new RegExp(`<Client>${escapeRegExp(device.clientName)}</Client>`),
      },
      {
        label: 'call_outgoing',
        url: outputs.OutgoingCallWebhookUrl,
        what: `a registered client (${device.clientName}) calling its own number`,
        params: { AccountSid: accountSid, ApiVersion: '2010-04-01', ApplicationSid: creds.twimlAppSid ?? '', CallSid: FAKE_CALL_SID, CallStatus: 'ringing', Direction: 'inbound', From: `client:${device.clientName}`, Caller: `client:${device.clientName}`, To: '', callOutgoingPhoneNumber: device.phoneNumber },
        expect: new RegExp(`callerId="${escapeRegExp(device.phoneNumber)}"`),
      },
    );
  }
  for (const hook of webhooks) {
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
      try {
        const res = await post({ 'X-Twilio-Signature': getExpectedTwilioSignature(creds.authToken, hook.url, hook.params) });
        const text = await res.text();
        const type = res.headers.get('content-type') ?? '';
        if (res.status === 403) add(fail(name, `403 at ${hook.url}: the stack does not accept the stored auth token`, `check the authToken in the secret (${SETUP} to rewrite it); warm functions pick up a changed secret within ${CREDENTIALS_MAX_AGE_SECONDS / 60} minutes (their cache period) or immediately on the next signature mismatch (one re-read per ${CREDENTIALS_FORCED_REFRESH_INTERVAL_SECONDS} s), no redeploy needed`));
        else if (res.status !== 200) add(fail(name, `HTTP ${res.status} at ${hook.url}`, 'check the function logs in CloudWatch (`TwilioRetrieveTwiml…`)'));
        else if (!/xml/i.test(type) || !isTwimlDocument(text)) add(fail(name, `200 but not TwiML (Content-Type ${type || 'none'}): ${text.slice(0, 80)}`, 'redeploy the stack (`npx cdk deploy`)'));
        else if (text.includes(TEMPORARILY_UNAVAILABLE_MESSAGE)) add(fail(name, 'the function answered "temporarily unavailable": it cannot read the registry or the secret', 'check the function logs in CloudWatch (`TwilioRetrieveTwiml…`): the error names the failing call'));
        else if (hook.expect && !hook.expect.test(text)) add(fail(name, `unexpected TwiML: ${text.slice(0, 160)}`, 'check the device registration (`npm run device -- list --table …`) and the function logs'));
        else add(pass(name, `200 ${type}`));
      } catch (err) {
        add(fail(name, `${hook.url}: ${errorMessage(err)}`, 'check that the API is deployed and reachable'));
      }
    }
    if (hook.expect) continue; // each webhook's unsigned check is made once, with the unregistered probe
    const unsigned = `${hook.label}: an unsigned request is refused with 403`;
    try {
      const res = await post({});
      await res.text();
      if (res.status === 403) add(pass(unsigned));
      else add(fail(unsigned, `answered HTTP ${res.status}: anyone can call this webhook`, 'unset WEBHOOK_SIGNATURE_VALIDATION=off and redeploy (`npx cdk deploy`)'));
    } catch (err) {
      add(fail(unsigned, `${hook.url}: ${errorMessage(err)}`, 'check that the API is deployed and reachable'));
    }
  }

  // 6. The softphone site.
  const pageName = `softphone ${outputs.SoftphoneUrl} serves the page`;
  try {
    const res = await doFetch(outputs.SoftphoneUrl, { signal: AbortSignal.timeout(timeoutMs) });
    const text = await res.text();
    if (res.status !== 200) add(fail(pageName, `HTTP ${res.status}`, 'redeploy the stack (`npx cdk deploy`); a new CloudFront distribution can take a few minutes'));
    else if (!/<html/i.test(text)) add(fail(pageName, `200 but not an HTML page (${res.headers.get('content-type') ?? 'no Content-Type'})`, 'redeploy the stack (`npx cdk deploy`)'));
    else add(pass(pageName));
  } catch (err) {
    add(fail(pageName, errorMessage(err), 'check the SoftphoneUrl output and that the site is deployed'));
  }
  const configUrl = configJsonUrl(outputs.SoftphoneUrl);
  const configName = `softphone config.json points at this API`;
  try {
    const res = await doFetch(configUrl, { signal: AbortSignal.timeout(timeoutMs) });
    const text = await res.text();
    let apiBaseUrl: unknown;
    try {
      apiBaseUrl = (JSON.parse(text) as { apiBaseUrl?: unknown }).apiBaseUrl;
    } catch {
      apiBaseUrl = undefined;
    }
    if (res.status !== 200) add(fail(configName, `${configUrl}: HTTP ${res.status}`, 'redeploy the stack (`npx cdk deploy`)'));
    else if (typeof apiBaseUrl !== 'string') add(fail(configName, `${configUrl} has no apiBaseUrl`, 'redeploy the stack (`npx cdk deploy`)'));
    else if (trimSlash(apiBaseUrl) !== trimSlash(outputs.ApiUrl)) {
      add(fail(configName, `apiBaseUrl is ${apiBaseUrl}, expected ${outputs.ApiUrl}`, 'redeploy the stack (`npx cdk deploy`), then invalidate the CloudFront cache for /config.json'));
    } else add(pass(configName, apiBaseUrl));
  } catch (err) {
    add(fail(configName, `${configUrl}: ${errorMessage(err)}`, 'check that the site is deployed'));
  }
  return checks;
}

export function formatCheck(c: Check): string[] {
  const line = `${c.ok ? '✔' : '✘'} ${c.name}${c.detail ? ` — ${c.detail}` : ''}`;
  return c.ok || !c.fix ? [line] : [line, `    fix: ${c.fix}`];
}

/** Prints one line per check (plus a fix line under each failure); returns the exit code. */
export async function runDoctor(opts: DoctorOptions, deps: DoctorDeps, io: { print(line: string): void }): Promise<number> {
  io.print(`doctor for stack ${opts.stackName}`);
  const checks = await runDoctorChecks(opts, deps, (c) => formatCheck(c).forEach((l) => io.print(l)));
  const failed = checks.filter((c) => !c.ok).length;
  io.print(failed === 0 ? `All ${checks.length} checks passed.` : `${failed} of ${checks.length} checks failed.`);
  return failed === 0 ? 0 : 1;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
