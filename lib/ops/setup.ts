/**
 * `npm run twilio:setup`: configure Twilio for a deployed stack in one command.
 *
 * Each resource kind setup manages (API key, TwiML App, the "Test my setup" TwiML App, phone numbers, the secret,
 * devices) is one `SetupStep` object: it plans its items (reads and decides, changes nothing), describes each item
 * as one plan line, says whether an item is a change, and applies its items. planSetup() prepares what every step
 * reads (stack outputs, the stored secret, Twilio as the account) and plans the steps in order; applySetup()
 * applies them in the same order; runSetup() ties them together with printing and confirmation. A new kind of
 * Twilio resource is a new step in SETUP_STEPS, placed before the secret step. The AWS clients, the Twilio client
 * factory and the device registry are injected, so tests run the same code against the AWS stand-in and a local
 * fake of Twilio's API.
 *
 * Safety rules:
 * - nothing is changed when planning finds a problem (unknown number, wrong credentials, missing secret);
 * - the secret is written last, once, validated (every field well-formed and the API key authenticates),
 *   and only when every Twilio change succeeded: a failed run never leaves a half-written secret;
 * - an API key created by a run that then fails is deleted again (its secret was never stored anywhere);
 * - a second run finds everything in place and changes nothing.
 *
 * One piece of Twilio configuration has no API (the Console Debugger's webhook, see call-status.ts): every run that
 * got as far as a plan prints it once, as the one manual step.
 */
import type { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { StackOutputs } from '../../lambda/core/settings';
import type { TwilioCredentials } from '../../lambda/ports';
import { normalizeDeviceNumber } from '../devices/device-admin';
import { fallbackTwimlUrl } from '../site/fallback';
import { credentialProblems, readSecret, readStackOutputs, writeSecret } from './aws';
import { CALL_STATUS_METHOD, callStatusUrl, debuggerWebhookStep, preflightUrl } from './call-status';
import { checkApiKey, errorMessage, errorStatus, isRefusal, type TwilioClient, type TwilioClientFactory } from './twilio-client';

export const DEFAULT_FRIENDLY_NAME = 'twilio-softphone-aws';

/** The default Twilio Client identity for a number registered by `twilio:setup`: `softphone-<digits>`. */
export function defaultClientName(e164: string): string {
  return `softphone-${e164.replace(/\D/g, '')}`;
}

/** What setup needs of the device registry (built by the caller from `DynamoRegistry` + `addDevice`). */
export interface DevicePort {
  findByNumber(phoneNumber: string): Promise<{ clientName: string } | undefined>;
  add(input: { number: string; clientName: string }): Promise<{ secret: string; generated: boolean }>;
}

export interface SetupOptions {
  accountSid: string;
  authToken: string;
  stackName: string;
  /** `number` in any common notation; `clientName` defaults to `softphone-<digits>` */
  numbers: { number: string; clientName?: string }[];
  friendlyName?: string;
  /** true: register unregistered numbers; 'ask': ask per number (interactive); false: leave the registry alone */
  registerDevices: boolean | 'ask';
  dryRun?: boolean;
  /** skip the confirmation before applying */
  yes?: boolean;
}

export interface SetupDeps {
  cfn: CloudFormationClient;
  secrets: SecretsManagerClient;
  twilio: TwilioClientFactory;
  /** builds the registry port from the stack outputs; required for device registration */
  devices?: (outputs: StackOutputs) => DevicePort;
  /** pause between retries of the new API key's validation (default: real timers) */
  sleep?: (ms: number) => Promise<void>;
}

export interface SetupIO {
  print(line: string): void;
  /** undefined = non-interactive */
  confirm?: (question: string) => Promise<boolean>;
}

// ---------------------------------------------------------------------------------------------------------------
// The step interface, and the contexts steps plan and apply in

/** What a plan is for; every step's lines and changes are about this. */
export interface SetupTarget {
  accountSid: string;
  authToken: string;
  stackName: string;
  outputs: StackOutputs;
  secretId: string;
  friendlyName: string;
  storedSecret: Partial<TwilioCredentials> | undefined;
}

/** The secret's fields each Twilio step owns; undefined until known (while planning: created on apply). */
export type CredentialDraft = Partial<Pick<TwilioCredentials, 'apiKeySid' | 'apiKeySecret' | 'twimlAppSid' | 'preflightTwimlAppSid'>>;

/** A number given with --number: normalized to E.164 with its client name, or why it could not be. */
export type RequestedNumber = { number: string; clientName: string } | { invalid: string };

export interface PlanContext extends SetupTarget {
  options: SetupOptions;
  deps: SetupDeps;
  /** Twilio as the account (auth token) */
  client: TwilioClient;
  /** the stored secret is this account's, so the API key and TwiML App it names may be reused */
  sameAccount: boolean;
  requestedNumbers: RequestedNumber[];
  /** the secret's next content as far as planning knows it; the secret step compares it with the stored one */
  credentials: CredentialDraft;
  /** blocking: applySetup refuses a plan with problems */
  problems: string[];
  notes: string[];
}

export interface ApplyContext {
  target: SetupTarget;
  deps: SetupDeps;
  client: TwilioClient;
  /** filled by the Twilio steps as they succeed; the secret step writes it */
  credentials: CredentialDraft;
  /** Twilio may take a moment to accept a key created moments ago: its validation is retried */
  keyJustCreated: boolean;
  /** undoes what this run created, for when the secret (the only thing that would point to it) is not written */
  undoOnFailure: (() => Promise<void>)[];
  changes: string[];
  failures: string[];
  notes: string[];
  secretWritten: boolean;
  deviceSecrets: SetupResult['deviceSecrets'];
}

/**
 * One kind of resource setup manages. `plan` reads and decides, never changes anything; `describe` gives one plan
 * line per item (`  + …` create, `  ~ …` update, `  = …` unchanged, `  - …` skipped); `apply` performs the items
 * in order, recording changes and failures in the context, and never throws for a failed item.
 */
export interface SetupStep<Item> {
  kind: string;
  plan(ctx: PlanContext): Promise<Item[]>;
  describe(item: Item, target: SetupTarget): string;
  isChange(item: Item): boolean;
  apply(items: Item[], ctx: ApplyContext): Promise<void>;
  /** interactive questions after planning, before the plan is printed; may turn items into skips */
  ask?(items: Item[], io: SetupIO, options: SetupOptions): Promise<void>;
}

/** A step bound to the items it planned, so one list holds the steps of every kind. */
export interface PlannedStep {
  readonly kind: string;
  readonly items: readonly unknown[];
  lines(target: SetupTarget): string[];
  hasChanges(): boolean;
  apply(ctx: ApplyContext): Promise<void>;
  ask(io: SetupIO, options: SetupOptions): Promise<void>;
}

export interface SetupPlan extends SetupTarget {
  /** in the order they are printed and applied */
  steps: PlannedStep[];
  /** blocking: applySetup refuses a plan with problems */
  problems: string[];
  notes: string[];
}

export interface SetupResult {
  ok: boolean;
  /** one line per change actually made */
  changes: string[];
  failures: string[];
  notes: string[];
  secretWritten: boolean;
  deviceSecrets: { number: string; clientName: string; secret: string }[];
}

// ---------------------------------------------------------------------------------------------------------------
// Shared helpers

/**
 * How Twilio reaches a webhook of the stack: the voice URL (POST), the fallback URL (GET) Twilio fetches when the
 * webhook fails or is throttled: the site's static "try again later" TwiML (lib/site/fallback.ts), and the status
 * callback (POST) where Twilio reports how each call ends, for the call log (lib/ops/call-status.ts).
 */
interface VoiceConfig {
  voiceUrl: string;
  voiceMethod: string;
  voiceFallbackUrl?: string | null;
  voiceFallbackMethod?: string | null;
  statusCallback?: string | null;
  statusCallbackMethod?: string | null;
}

const POST = 'POST';
const GET = 'GET';

type DesiredVoice = { [K in keyof VoiceConfig]-?: string };

/** The configuration a resource should have: this webhook, the site's fallback TwiML, and the call-status callback. */
function desiredVoice(url: string, outputs: StackOutputs): DesiredVoice {
  return {
    voiceUrl: url,
    voiceMethod: POST,
    voiceFallbackUrl: fallbackTwimlUrl(outputs.SoftphoneUrl),
    voiceFallbackMethod: GET,
    statusCallback: callStatusUrl(outputs),
    statusCallbackMethod: CALL_STATUS_METHOD,
  };
}

/** The VoiceConfig fields of a fetched TwiML App or number (the helper library's camelCase properties). */
function voiceConfigOf(resource: VoiceConfig): VoiceConfig {
  return {
    voiceUrl: resource.voiceUrl ?? '',
    voiceMethod: resource.voiceMethod ?? '',
    voiceFallbackUrl: resource.voiceFallbackUrl,
    voiceFallbackMethod: resource.voiceFallbackMethod,
    statusCallback: resource.statusCallback,
    statusCallbackMethod: resource.statusCallbackMethod,
  };
}

function sameVoice(current: VoiceConfig, desired: DesiredVoice): boolean {
  const method = (m: string | null | undefined) => (m ?? '').toUpperCase();
  return (
    current.voiceUrl === desired.voiceUrl &&
    method(current.voiceMethod) === desired.voiceMethod &&
    current.voiceFallbackUrl === desired.voiceFallbackUrl &&
    method(current.voiceFallbackMethod) === desired.voiceFallbackMethod &&
    current.statusCallback === desired.statusCallback &&
    method(current.statusCallbackMethod) === desired.statusCallbackMethod
  );
}

/** What a resource has now, for the `(was …)` of plan and change lines. */
function voiceText(v: VoiceConfig & { voiceApplicationSid?: string }): string {
  const parts: string[] = [];
  if (v.voiceApplicationSid) parts.push(`TwiML App ${v.voiceApplicationSid}`);
  else {
    parts.push(v.voiceUrl ? `${(v.voiceMethod || POST).toUpperCase()} ${v.voiceUrl}` : 'no voice URL');
    if (v.voiceFallbackUrl) parts.push(`fallback ${(v.voiceFallbackMethod || POST).toUpperCase()} ${v.voiceFallbackUrl}`);
  }
  parts.push(v.statusCallback ? `status callback ${(v.statusCallbackMethod || POST).toUpperCase()} ${v.statusCallback}` : 'no status callback');
  return parts.join(', ');
}

/** `; fallback GET <url>; status callback POST <url>`: how plan and change lines name what is set next to the voice URL. */
function callbacksText(desired: DesiredVoice): string {
  return `; fallback ${desired.voiceFallbackMethod} ${desired.voiceFallbackUrl}; status callback ${desired.statusCallbackMethod} ${desired.statusCallback}`;
}

/**
 * Does Twilio accept the API key? `checkApiKey` asks with a request a Standard key may make. A key created
 * moments ago is asked up to `attempts` times, a second apart, before it counts as refused.
 */
async function keyAccepted(
  factory: TwilioClientFactory,
  key: { accountSid: string; apiKeySid: string; apiKeySecret: string; twimlAppSid?: string },
  attempts = 1,
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
): Promise<boolean> {
  for (let i = 0; i < attempts; i++) {
    if ((await checkApiKey(factory, key)) === 'accepted') return true;
    if (i + 1 < attempts) await sleep(1000);
  }
  return false;
}

/** The secret's full content once every Twilio step has filled in its fields; undefined while one is missing. */
function completeCredentials(target: SetupTarget, draft: CredentialDraft): TwilioCredentials | undefined {
  const { apiKeySid, apiKeySecret, twimlAppSid, preflightTwimlAppSid } = draft;
  if (!apiKeySid || !apiKeySecret || !twimlAppSid || !preflightTwimlAppSid) return undefined;
  return { accountSid: target.accountSid, apiKeySid, apiKeySecret, authToken: target.authToken, twimlAppSid, preflightTwimlAppSid };
}

function changedFields(stored: Partial<TwilioCredentials> | undefined, desired: TwilioCredentials): (keyof TwilioCredentials)[] {
  return (Object.keys(desired) as (keyof TwilioCredentials)[]).filter((f) => stored?.[f] !== desired[f]);
}

// ---------------------------------------------------------------------------------------------------------------
// API key: reuse the stored one while it exists and authenticates; otherwise create one

export type ApiKeyAction = { action: 'reuse'; sid: string; secret: string } | { action: 'create'; reason: string; staleSids: string[] };

async function apiKeyExists(client: TwilioClient, sid: string): Promise<boolean> {
  try {
    await client.keys(sid).fetch();
    return true;
  } catch (err) {
    if (errorStatus(err) === 404) return false;
    throw err;
  }
}

/** The stored key's fate; undefined when the secret holds no key of this account. */
async function planStoredApiKey(ctx: PlanContext): Promise<ApiKeyAction | undefined> {
  const stored = ctx.storedSecret;
  if (!ctx.sameAccount || !stored?.apiKeySid || !stored.apiKeySecret) return undefined;
  const { apiKeySid, apiKeySecret, twimlAppSid } = stored;
  if (!(await apiKeyExists(ctx.client, apiKeySid))) {
    return { action: 'create', reason: `the stored API key ${apiKeySid} no longer exists`, staleSids: [] };
  }
  if (!(await keyAccepted(ctx.deps.twilio, { accountSid: ctx.accountSid, apiKeySid, apiKeySecret, twimlAppSid }))) {
    return { action: 'create', reason: `Twilio rejects the stored secret of API key ${apiKeySid}`, staleSids: [apiKeySid] };
  }
  return { action: 'reuse', sid: apiKeySid, secret: apiKeySecret };
}

/** A key's secret is only shown when it is created: a key with our name but no stored secret is replaced. */
async function planNewApiKey(ctx: PlanContext): Promise<ApiKeyAction> {
  const { friendlyName } = ctx;
  const named = (await ctx.client.keys.list()).filter((k) => k.friendlyName === friendlyName).map((k) => k.sid);
  if (named.length === 0) return { action: 'create', reason: `no API key named "${friendlyName}"`, staleSids: [] };
  return {
    action: 'create',
    reason: `API key "${friendlyName}" exists (${named.join(', ')}) but its secret is only shown when a key is created and is not in the secret, so a new key is needed`,
    staleSids: named,
  };
}

async function createApiKey(ctx: ApplyContext, staleSids: string[]): Promise<void> {
  const { friendlyName } = ctx.target;
  try {
    const key = await ctx.client.newKeys.create({ friendlyName });
    ctx.credentials.apiKeySid = key.sid;
    ctx.credentials.apiKeySecret = key.secret;
    ctx.keyJustCreated = true;
    ctx.undoOnFailure.push(() => deleteUnusedApiKey(ctx, key.sid));
    ctx.changes.push(`created API key ${key.sid} ("${friendlyName}")`);
    if (staleSids.length > 0) {
      ctx.notes.push(
        `API key(s) ${staleSids.join(', ')} are no longer used by this stack; delete them in the Twilio console once nothing else uses them.`,
      );
    }
  } catch (err) {
    ctx.failures.push(`creating API key "${friendlyName}" failed: ${errorMessage(err)}`);
  }
}

async function deleteUnusedApiKey(ctx: ApplyContext, sid: string): Promise<void> {
  try {
    await ctx.client.keys(sid).remove();
    ctx.changes.push(`deleted API key ${sid} again (created by this run; its secret was never stored)`);
  } catch (err) {
    ctx.failures.push(`deleting the unused new API key ${sid} failed: ${errorMessage(err)}; delete it in the Twilio console`);
  }
}

export const apiKeyStep: SetupStep<ApiKeyAction> = {
  kind: 'API key',
  async plan(ctx) {
    const key = (await planStoredApiKey(ctx)) ?? (await planNewApiKey(ctx));
    if (key.action === 'reuse') Object.assign(ctx.credentials, { apiKeySid: key.sid, apiKeySecret: key.secret });
    return [key];
  },
  describe: (key, { friendlyName }) =>
    key.action === 'reuse' ? `  = API key ${key.sid}: exists, secret stored` : `  + create API key "${friendlyName}" (${key.reason})`,
  isChange: (key) => key.action !== 'reuse',
  async apply(keys, ctx) {
    for (const key of keys) {
      if (key.action === 'reuse') Object.assign(ctx.credentials, { apiKeySid: key.sid, apiKeySecret: key.secret });
      else await createApiKey(ctx, key.staleSids);
    }
  },
};

// ---------------------------------------------------------------------------------------------------------------
// TwiML App: the stored one, else one with our friendly name, else a new one; its voice URL is the outgoing webhook,
// its status callback the call log's

export type TwimlAppAction = { action: 'ok'; sid: string } | { action: 'update'; sid: string; from: VoiceConfig } | { action: 'create' };

type TwimlApp = { sid: string } & VoiceConfig;

async function findTwimlApp(ctx: PlanContext): Promise<TwimlApp | undefined> {
  const storedSid = ctx.sameAccount ? ctx.storedSecret?.twimlAppSid : undefined;
  if (storedSid) {
    try {
      return await ctx.client.applications(storedSid).fetch();
    } catch (err) {
      if (errorStatus(err) !== 404) throw err;
      ctx.notes.push(`The stored TwiML App ${storedSid} no longer exists.`);
    }
  }
  const named = await ctx.client.applications.list({ friendlyName: ctx.friendlyName });
  if (named.length > 1) {
    ctx.notes.push(`${named.length} TwiML Apps are named "${ctx.friendlyName}" (${named.map((a) => a.sid).join(', ')}); using ${named[0].sid}.`);
  }
  return named[0];
}

async function applyTwimlApp(app: TwimlAppAction, ctx: ApplyContext): Promise<void> {
  const { friendlyName, outputs } = ctx.target;
  const voice = desiredVoice(outputs.OutgoingCallWebhookUrl, outputs);
  if (app.action === 'ok') {
    ctx.credentials.twimlAppSid = app.sid;
  } else if (app.action === 'update') {
    try {
      await ctx.client.applications(app.sid).update(voice);
      ctx.credentials.twimlAppSid = app.sid;
      ctx.changes.push(`updated TwiML App ${app.sid} voice URL to POST ${voice.voiceUrl}${callbacksText(voice)} (was ${voiceText(app.from)})`);
    } catch (err) {
      ctx.failures.push(`updating TwiML App ${app.sid} failed: ${errorMessage(err)}`);
    }
  } else {
    try {
      const created = await ctx.client.applications.create({ friendlyName, ...voice });
      ctx.credentials.twimlAppSid = created.sid;
      ctx.changes.push(`created TwiML App ${created.sid} ("${friendlyName}") with voice URL POST ${voice.voiceUrl}${callbacksText(voice)}`);
    } catch (err) {
      ctx.failures.push(`creating TwiML App "${friendlyName}" failed: ${errorMessage(err)}`);
    }
  }
}

export const twimlAppStep: SetupStep<TwimlAppAction> = {
  kind: 'TwiML App',
  async plan(ctx) {
    const app = await findTwimlApp(ctx);
    if (!app) return [{ action: 'create' }];
    ctx.credentials.twimlAppSid = app.sid;
    if (sameVoice(app, desiredVoice(ctx.outputs.OutgoingCallWebhookUrl, ctx.outputs))) return [{ action: 'ok', sid: app.sid }];
    return [{ action: 'update', sid: app.sid, from: voiceConfigOf(app) }];
  },
  describe(app, { friendlyName, outputs }) {
    const voice = desiredVoice(outputs.OutgoingCallWebhookUrl, outputs);
    const url = voice.voiceUrl;
    if (app.action === 'ok') return `  = TwiML App ${app.sid}: voice POST ${url}${callbacksText(voice)}`;
    if (app.action === 'update')
      return `  ~ update TwiML App ${app.sid} voice URL to POST ${url}${callbacksText(voice)} (was ${voiceText(app.from)})`;
    return `  + create TwiML App "${friendlyName}" with voice URL POST ${url}${callbacksText(voice)}`;
  },
  isChange: (app) => app.action !== 'ok',
  async apply(apps, ctx) {
    for (const app of apps) await applyTwimlApp(app, ctx);
  },
};

// ---------------------------------------------------------------------------------------------------------------
// "Test my setup": a second TwiML App, for the Voice SDK's preflight test. Its voice URL is the preflight webhook
// (a few words and a pause, then hang up), the token API issues preflight tokens for it, and the secret names it
// (preflightTwimlAppSid). Found by the stored SID, else by its friendly name; no fallback or status callback: a
// test call is not a call for the call log, and a failing test should say so, not play a fallback.

/** The "Test my setup" TwiML App's friendly name: the main one's, with ` preflight`. */
export function preflightFriendlyName(friendlyName: string): string {
  return `${friendlyName} preflight`;
}

export type PreflightAppAction =
  | { action: 'ok'; sid: string }
  | { action: 'update'; sid: string; from: { voiceUrl: string; voiceMethod: string } }
  | { action: 'create' };

async function findPreflightApp(ctx: PlanContext): Promise<TwimlApp | undefined> {
  const storedSid = ctx.sameAccount ? ctx.storedSecret?.preflightTwimlAppSid : undefined;
  // never the main TwiML App, whatever the secret says
  if (storedSid && storedSid !== ctx.credentials.twimlAppSid) {
    try {
      return await ctx.client.applications(storedSid).fetch();
    } catch (err) {
      if (errorStatus(err) !== 404) throw err;
      ctx.notes.push(`The stored "Test my setup" TwiML App ${storedSid} no longer exists.`);
    }
  }
  const name = preflightFriendlyName(ctx.friendlyName);
  const named = await ctx.client.applications.list({ friendlyName: name });
  if (named.length > 1) {
    ctx.notes.push(`${named.length} TwiML Apps are named "${name}" (${named.map((a) => a.sid).join(', ')}); using ${named[0].sid}.`);
  }
  return named[0];
}

const samePreflightVoice = (app: VoiceConfig, url: string) => app.voiceUrl === url && (app.voiceMethod ?? '').toUpperCase() === POST;

/** What the app's voice URL is now, for the `(was …)` of plan and change lines. */
const preflightVoiceText = (from: { voiceUrl: string; voiceMethod: string }) =>
  from.voiceUrl ? `${(from.voiceMethod || POST).toUpperCase()} ${from.voiceUrl}` : 'no voice URL';

export const preflightAppStep: SetupStep<PreflightAppAction> = {
  kind: '"Test my setup" TwiML App',
  async plan(ctx) {
    const app = await findPreflightApp(ctx);
    if (!app) return [{ action: 'create' }];
    ctx.credentials.preflightTwimlAppSid = app.sid;
    if (samePreflightVoice(app, preflightUrl(ctx.outputs))) return [{ action: 'ok', sid: app.sid }];
    return [{ action: 'update', sid: app.sid, from: { voiceUrl: app.voiceUrl ?? '', voiceMethod: app.voiceMethod ?? '' } }];
  },
  describe(app, { friendlyName, outputs }) {
    const url = preflightUrl(outputs);
    if (app.action === 'ok') return `  = "Test my setup" TwiML App ${app.sid}: voice POST ${url}`;
    if (app.action === 'update')
      return `  ~ update "Test my setup" TwiML App ${app.sid} voice URL to POST ${url} (was ${preflightVoiceText(app.from)})`;
    return `  + create "Test my setup" TwiML App "${preflightFriendlyName(friendlyName)}" with voice URL POST ${url}`;
  },
  isChange: (app) => app.action !== 'ok',
  async apply(apps, ctx) {
    const url = preflightUrl(ctx.target.outputs);
    const voice = { voiceUrl: url, voiceMethod: POST };
    for (const app of apps) {
      if (app.action === 'ok') {
        ctx.credentials.preflightTwimlAppSid = app.sid;
      } else if (app.action === 'update') {
        try {
          await ctx.client.applications(app.sid).update(voice);
          ctx.credentials.preflightTwimlAppSid = app.sid;
          ctx.changes.push(`updated "Test my setup" TwiML App ${app.sid} voice URL to POST ${url} (was ${preflightVoiceText(app.from)})`);
        } catch (err) {
          ctx.failures.push(`updating "Test my setup" TwiML App ${app.sid} failed: ${errorMessage(err)}`);
        }
      } else {
        const name = preflightFriendlyName(ctx.target.friendlyName);
        try {
          const created = await ctx.client.applications.create({ friendlyName: name, ...voice });
          ctx.credentials.preflightTwimlAppSid = created.sid;
          ctx.changes.push(`created "Test my setup" TwiML App ${created.sid} ("${name}") with voice URL POST ${url}`);
        } catch (err) {
          ctx.failures.push(`creating "Test my setup" TwiML App "${name}" failed: ${errorMessage(err)}`);
        }
      }
    }
  },
};

// ---------------------------------------------------------------------------------------------------------------
// Phone numbers: each must belong to the account; its voice URL goes to the incoming-call webhook, its status
// callback to the call log

export interface NumberAction {
  number: string;
  sid: string;
  action: 'ok' | 'update';
  from: VoiceConfig & { voiceApplicationSid: string };
}

/** The numbers as given, normalized, each once (the first client name given for it wins). */
function requestedNumbers(specs: SetupOptions['numbers']): RequestedNumber[] {
  const requested: RequestedNumber[] = [];
  for (const spec of specs) {
    let number: string;
    try {
      number = normalizeDeviceNumber(spec.number);
    } catch (err) {
      requested.push({ invalid: errorMessage(err) });
      continue;
    }
    if (requested.some((r) => 'number' in r && r.number === number)) continue;
    requested.push({ number, clientName: spec.clientName ?? defaultClientName(number) });
  }
  return requested;
}

function validNumbers(requested: RequestedNumber[]): { number: string; clientName: string }[] {
  return requested.filter((r): r is { number: string; clientName: string } => 'number' in r);
}

async function planNumber(number: string, ctx: PlanContext): Promise<NumberAction | undefined> {
  const found = (await ctx.client.incomingPhoneNumbers.list({ phoneNumber: number, limit: 20 })).find((n) => n.phoneNumber === number);
  if (!found) {
    ctx.problems.push(`${number} is not a phone number of account ${ctx.accountSid}: buy or port it in the Twilio console, or fix --number.`);
    return undefined;
  }
  const from = { ...voiceConfigOf(found), voiceApplicationSid: found.voiceApplicationSid ?? '' };
  const ok = sameVoice(from, desiredVoice(ctx.outputs.IncomingCallWebhookUrl, ctx.outputs)) && !from.voiceApplicationSid;
  return { number, sid: found.sid, action: ok ? 'ok' : 'update', from };
}

export const phoneNumberStep: SetupStep<NumberAction> = {
  kind: 'phone number',
  async plan(ctx) {
    const numbers: NumberAction[] = [];
    for (const requested of ctx.requestedNumbers) {
      if ('invalid' in requested) ctx.problems.push(requested.invalid);
      else {
        const planned = await planNumber(requested.number, ctx);
        if (planned) numbers.push(planned);
      }
    }
    return numbers;
  },
  describe(n, { outputs }) {
    const voice = desiredVoice(outputs.IncomingCallWebhookUrl, outputs);
    if (n.action === 'ok') return `  = ${n.number} (${n.sid}): voice POST ${voice.voiceUrl}${callbacksText(voice)}`;
    return `  ~ update ${n.number} (${n.sid}) voice URL to POST ${voice.voiceUrl}${callbacksText(voice)} (was ${voiceText(n.from)})`;
  },
  isChange: (n) => n.action !== 'ok',
  async apply(numbers, ctx) {
    const voice = desiredVoice(ctx.target.outputs.IncomingCallWebhookUrl, ctx.target.outputs);
    for (const n of numbers) {
      if (n.action === 'ok') continue;
      try {
        await ctx.client.incomingPhoneNumbers(n.sid).update({
          ...voice,
          // a voice application overrides the voice URL; clear it
          ...(n.from.voiceApplicationSid ? { voiceApplicationSid: '' } : {}),
        });
        ctx.changes.push(`updated ${n.number} (${n.sid}) voice URL to POST ${voice.voiceUrl}${callbacksText(voice)} (was ${voiceText(n.from)})`);
      } catch (err) {
        ctx.failures.push(`updating ${n.number} (${n.sid}) failed: ${errorMessage(err)}`);
      }
    }
  },
};

// ---------------------------------------------------------------------------------------------------------------
// The secret: read while preparing the plan, written last. It is the commit point: written only when every step
// before it succeeded, and otherwise what those steps created is rolled back.

export interface SecretAction {
  action: 'ok' | 'write';
  reason: string;
}

/** Validates the complete credentials and writes them unless the secret already holds exactly them. */
async function writeValidatedSecret(creds: TwilioCredentials, ctx: ApplyContext): Promise<void> {
  const { secretId, storedSecret } = ctx.target;
  try {
    const problems = credentialProblems(creds);
    if (problems.length > 0) throw new Error(`the new credentials are invalid: ${problems.join('; ')}`);
    if (!(await keyAccepted(ctx.deps.twilio, creds, ctx.keyJustCreated ? 3 : 1, ctx.deps.sleep))) {
      throw new Error(`Twilio refuses API key ${creds.apiKeySid} (HTTP 401/403 when fetching TwiML App ${creds.twimlAppSid} with it)`);
    }
    if (changedFields(storedSecret, creds).length > 0) {
      await writeSecret(ctx.deps.secrets, secretId, creds);
      ctx.secretWritten = true;
      ctx.changes.push(`wrote credentials to secret ${secretId}`);
    }
  } catch (err) {
    ctx.failures.push(`writing secret ${secretId} failed: ${errorMessage(err)}`);
  }
}

/** A step failed, so the secret stays as it was: say so, and undo what only the unwritten secret would point to. */
async function rollBack(ctx: ApplyContext): Promise<void> {
  const failed = ctx.failures.length;
  ctx.notes.push(
    `Secret ${ctx.target.secretId} was not changed because ${failed === 1 ? 'a step' : `${failed} steps`} failed; fix the cause and re-run (re-running is safe).`,
  );
  for (const undo of [...ctx.undoOnFailure].reverse()) await undo();
}

export const secretStep: SetupStep<SecretAction> = {
  kind: 'secret',
  async plan(ctx) {
    const desired = completeCredentials(ctx, ctx.credentials);
    if (!desired) return [{ action: 'write', reason: 'new API key / TwiML Apps' }];
    const changed = changedFields(ctx.storedSecret, desired);
    return [changed.length === 0 ? { action: 'ok', reason: 'up to date' } : { action: 'write', reason: `${changed.join(', ')} changed` }];
  },
  describe: (secret, { secretId }) =>
    secret.action === 'ok'
      ? `  = secret ${secretId}: up to date`
      : `  + write credentials to secret ${secretId} (${secret.reason}), after everything else succeeded`,
  isChange: (secret) => secret.action !== 'ok',
  // The planned action is not consulted: what the Twilio steps actually produced is validated and compared again.
  async apply(_secrets, ctx) {
    const creds = completeCredentials(ctx.target, ctx.credentials);
    if (ctx.failures.length === 0 && creds) await writeValidatedSecret(creds, ctx);
    if (ctx.failures.length > 0) await rollBack(ctx);
  },
};

// ---------------------------------------------------------------------------------------------------------------
// Devices: each number registered once in the app's registry, after the secret; the generated secret printed once

export interface DeviceAction {
  number: string;
  clientName: string;
  action: 'ok' | 'register' | 'skip';
}

export const deviceStep: SetupStep<DeviceAction> = {
  kind: 'device',
  async plan(ctx) {
    const wanted = validNumbers(ctx.requestedNumbers);
    if (ctx.options.registerDevices === false || wanted.length === 0) return [];
    if (!ctx.deps.devices) {
      ctx.notes.push('Device registration is not available here; use `npm run device -- add`.');
      return [];
    }
    const port = ctx.deps.devices(ctx.outputs);
    const devices: DeviceAction[] = [];
    for (const w of wanted) {
      const existing = await port.findByNumber(w.number);
      devices.push(existing ? { number: w.number, clientName: existing.clientName, action: 'ok' } : { ...w, action: 'register' });
    }
    return devices;
  },
  describe(d) {
    if (d.action === 'ok') return `  = device ${d.number}: registered as ${d.clientName}`;
    if (d.action === 'register') return `  + register device ${d.number} as ${d.clientName} (prints its secret once)`;
    return `  - device ${d.number}: not registering`;
  },
  isChange: (d) => d.action === 'register',
  async ask(devices, io, options) {
    if (options.registerDevices !== 'ask') return;
    for (const d of devices) {
      if (d.action !== 'register') continue;
      const yes = io.confirm ? await io.confirm(`Register ${d.number} as device ${d.clientName}? [y/N] `) : false;
      if (!yes) d.action = 'skip';
    }
  },
  async apply(devices, ctx) {
    const toRegister = devices.filter((d) => d.action === 'register');
    if (toRegister.length === 0) return;
    if (ctx.failures.length > 0) {
      ctx.notes.push('Devices were not registered because setup failed.');
      return;
    }
    if (!ctx.deps.devices) return;
    const port = ctx.deps.devices(ctx.target.outputs);
    for (const d of toRegister) {
      try {
        const { secret } = await port.add({ number: d.number, clientName: d.clientName });
        ctx.deviceSecrets.push({ number: d.number, clientName: d.clientName, secret });
        ctx.changes.push(`registered device ${d.number} as ${d.clientName}`);
      } catch (err) {
        ctx.failures.push(`registering device ${d.number} failed: ${errorMessage(err)}`);
      }
    }
  },
};

// ---------------------------------------------------------------------------------------------------------------
// Planning and applying every step

/** Plans one step; binding the step to its items lets one list hold the steps of every kind. */
type StepPlanner = (ctx: PlanContext) => Promise<PlannedStep>;

function planner<Item>(step: SetupStep<Item>): StepPlanner {
  return async (ctx) => {
    const items = await step.plan(ctx);
    return {
      kind: step.kind,
      items,
      lines: (target) => items.map((item) => step.describe(item, target)),
      hasChanges: () => items.some((item) => step.isChange(item)),
      apply: (applyCtx) => step.apply(items, applyCtx),
      ask: async (io, options) => {
        await step.ask?.(items, io, options);
      },
    };
  };
}

/** Planned, printed and applied in this order. Twilio resources go before the secret, which commits them. */
const SETUP_STEPS: readonly StepPlanner[] = [
  planner(apiKeyStep),
  planner(twimlAppStep),
  planner(preflightAppStep),
  planner(phoneNumberStep),
  planner(secretStep),
  planner(deviceStep),
];

/** Throws when Twilio refuses the account's credentials or cannot be reached: nothing can be planned then. */
async function checkAccount(client: TwilioClient, accountSid: string): Promise<void> {
  try {
    await client.api.v2010.accounts(accountSid).fetch();
  } catch (err) {
    if (isRefusal(err) || errorStatus(err) === 404) {
      throw new Error(
        `Twilio rejected account ${accountSid} with this auth token (${errorMessage(err)}). Check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN.`,
      );
    }
    throw new Error(`Could not reach Twilio's REST API: ${errorMessage(err)}`);
  }
}

/** The stored secret's fields, if it has any. A fresh deployment's secret exists with no value yet: setup fills it. */
async function readStoredSecret(
  deps: SetupDeps,
  secretId: string,
  problems: string[],
  notes: string[],
): Promise<Partial<TwilioCredentials> | undefined> {
  const state = await readSecret(deps.secrets, secretId);
  if (state.status === 'missing') {
    problems.push(
      `Secret ${secretId} does not exist. Create it (\`aws secretsmanager create-secret --name ${secretId}\`) or deploy with \`npx cdk deploy\` without -c twilioSecretName, then re-run.`,
    );
  } else if (state.status === 'deleted') {
    problems.push(
      `Secret ${secretId} is scheduled for deletion. Restore it (\`aws secretsmanager restore-secret --secret-id ${secretId}\`), then re-run.`,
    );
  } else if (state.status === 'unreadable') {
    problems.push(`Cannot read secret ${secretId}: ${state.advice}.`);
  } else if (state.status === 'empty') {
    notes.push(`Secret ${secretId} has no value yet (a fresh deployment): setup writes it.`);
  } else {
    return state.parsed;
  }
  return undefined;
}

/** Reads what every step needs: the stack outputs, Twilio as the account, the stored secret. */
async function preparePlan(opts: SetupOptions, deps: SetupDeps): Promise<PlanContext> {
  const problems: string[] = [];
  const notes: string[] = [];
  const outputs = await readStackOutputs(deps.cfn, opts.stackName);
  const secretId = outputs.TwilioSecretName;
  const client = deps.twilio({ username: opts.accountSid, password: opts.authToken, accountSid: opts.accountSid });
  await checkAccount(client, opts.accountSid);
  const storedSecret = await readStoredSecret(deps, secretId, problems, notes);
  const sameAccount = storedSecret?.accountSid === opts.accountSid;
  if (storedSecret?.accountSid && !sameAccount) {
    notes.push(`The secret holds credentials of another account (${storedSecret.accountSid}); they will be replaced.`);
  }
  return {
    accountSid: opts.accountSid,
    authToken: opts.authToken,
    stackName: opts.stackName,
    outputs,
    secretId,
    friendlyName: opts.friendlyName ?? DEFAULT_FRIENDLY_NAME,
    storedSecret,
    options: opts,
    deps,
    client,
    sameAccount,
    requestedNumbers: requestedNumbers(opts.numbers),
    credentials: {},
    problems,
    notes,
  };
}

/** Reads everything and decides; changes nothing. Throws only when it cannot even look (stack, credentials). */
export async function planSetup(opts: SetupOptions, deps: SetupDeps): Promise<SetupPlan> {
  const ctx = await preparePlan(opts, deps);
  const steps: PlannedStep[] = [];
  for (const planStep of SETUP_STEPS) steps.push(await planStep(ctx));
  const { accountSid, authToken, stackName, outputs, secretId, friendlyName, storedSecret, problems, notes } = ctx;
  return { accountSid, authToken, stackName, outputs, secretId, friendlyName, storedSecret, steps, problems, notes };
}

/** True when applying the plan would change nothing. */
export function planIsNoop(plan: SetupPlan): boolean {
  return !plan.steps.some((step) => step.hasChanges());
}

/** The plan, one line per item: `+` create, `~` update, `=` unchanged, `-` skipped, `!` note, `✘` problem. */
export function formatPlan(plan: SetupPlan): string[] {
  return [
    ...plan.steps.flatMap((step) => step.lines(plan)),
    ...plan.notes.map((note) => `  ! ${note}`),
    ...plan.problems.map((problem) => `  ✘ ${problem}`),
  ];
}

/** Applies a plan without problems. Never throws for a failed step: failures are reported in the result. */
export async function applySetup(plan: SetupPlan, deps: SetupDeps): Promise<SetupResult> {
  if (plan.problems.length > 0) throw new Error('refusing to apply a plan with problems');
  const ctx: ApplyContext = {
    target: plan,
    deps,
    client: deps.twilio({ username: plan.accountSid, password: plan.authToken, accountSid: plan.accountSid }),
    credentials: {},
    keyJustCreated: false,
    undoOnFailure: [],
    changes: [],
    failures: [],
    notes: [],
    secretWritten: false,
    deviceSecrets: [],
  };
  for (const step of plan.steps) await step.apply(ctx);
  const { changes, failures, notes, secretWritten, deviceSecrets } = ctx;
  return { ok: failures.length === 0, changes, failures, notes, secretWritten, deviceSecrets };
}

function printResult(result: SetupResult, io: SetupIO): void {
  io.print(result.changes.length > 0 ? 'Changed:' : 'Changed nothing.');
  for (const change of result.changes) io.print(`  ✔ ${change}`);
  for (const failure of result.failures) io.print(`  ✘ ${failure}`);
  for (const note of result.notes) io.print(`  ! ${note}`);
  for (const d of result.deviceSecrets) {
    io.print(`Device secret for ${d.number} (client ${d.clientName}), shown only this once: ${d.secret}`);
  }
  if (result.ok) io.print(`Done: ${result.changes.length} ${result.changes.length === 1 ? 'change' : 'changes'}.`);
  else io.print(`Setup failed: ${result.failures.length} ${result.failures.length === 1 ? 'step' : 'steps'} failed.`);
}

/** The one manual step (no Twilio API sets the Debugger webhook), printed once per run that got as far as a plan. */
function printManualStep(plan: SetupPlan, io: SetupIO): void {
  io.print(`Manual step (Twilio offers no API for it): ${debuggerWebhookStep(plan.outputs)}.`);
}

/** The whole command: plan, print, confirm, apply, print. Returns the process exit code. */
export async function runSetup(opts: SetupOptions, deps: SetupDeps, io: SetupIO): Promise<number> {
  io.print(`twilio:setup for stack ${opts.stackName}, Twilio account ${opts.accountSid}`);
  let plan: SetupPlan;
  try {
    plan = await planSetup(opts, deps);
  } catch (err) {
    io.print(`✘ ${err instanceof Error ? err.message : String(err)}`);
    io.print('Nothing was changed.');
    return 1;
  }
  const code = await confirmAndApply(plan, opts, deps, io);
  printManualStep(plan, io);
  return code;
}

async function confirmAndApply(plan: SetupPlan, opts: SetupOptions, deps: SetupDeps, io: SetupIO): Promise<number> {
  if (!opts.dryRun && plan.problems.length === 0) {
    for (const step of plan.steps) await step.ask(io, opts);
  }
  io.print('Plan:');
  for (const line of formatPlan(plan)) io.print(line);
  if (plan.problems.length > 0) {
    io.print(`Nothing was changed: fix the ${plan.problems.length === 1 ? 'problem' : 'problems'} marked ✘ and re-run.`);
    return 1;
  }
  if (planIsNoop(plan)) {
    io.print('Nothing to change: everything is already set up.');
    return 0;
  }
  if (opts.dryRun) {
    io.print('Dry run: nothing was changed.');
    return 0;
  }
  if (!opts.yes) {
    if (!io.confirm) {
      io.print('Not applying without confirmation: re-run with --yes (or --dry-run to only see the plan).');
      return 1;
    }
    if (!(await io.confirm('Apply these changes? [y/N] '))) {
      io.print('Aborted: nothing was changed.');
      return 1;
    }
  }
  const result = await applySetup(plan, deps);
  printResult(result, io);
  return result.ok ? 0 : 1;
}
