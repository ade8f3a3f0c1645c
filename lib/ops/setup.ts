/**
 * `npm run twilio:setup`: configure Twilio for a deployed stack in one command.
 *
 * planSetup() only reads (stack outputs, the secret, Twilio resources) and decides what to do;
 * applySetup() performs exactly that plan; runSetup() ties them together with printing and confirmation.
 * The AWS clients, the Twilio client factory and the device registry are injected, so tests run the same
 * code against aws-sdk-client-mock and a local fake of Twilio's REST API.
 *
 * Safety rules:
 * - nothing is changed when planning finds a problem (unknown number, wrong credentials, missing secret);
 * - the secret is written last, once, validated (every field well-formed and the API key authenticates),
 *   and only when every Twilio change succeeded: a failed run never leaves a half-written secret;
 * - an API key created by a run that then fails is deleted again (its secret was never stored anywhere);
 * - a second run finds everything in place and changes nothing.
 */
import type { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { TwilioCredentials } from '../../lambda/core/credentials';
import { normalizeDeviceNumber } from '../devices/device-admin';
import { credentialProblems, readSecret, readStackOutputs, writeSecret, type StackOutputs } from './aws';
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

interface VoiceConfig {
  voiceUrl: string;
  voiceMethod: string;
}

export type ApiKeyStep =
  | { action: 'reuse'; sid: string; secret: string }
  | { action: 'create'; reason: string; staleSids: string[] };

export type TwimlAppStep =
  | { action: 'ok'; sid: string }
  | { action: 'update'; sid: string; from: VoiceConfig }
  | { action: 'create' };

export interface NumberStep {
  number: string;
  sid: string;
  action: 'ok' | 'update';
  from: VoiceConfig & { voiceApplicationSid: string };
}

export interface DeviceStep {
  number: string;
  clientName: string;
  action: 'ok' | 'register' | 'skip';
}

export interface SetupPlan {
  accountSid: string;
  authToken: string;
  stackName: string;
  outputs: StackOutputs;
  secretId: string;
  friendlyName: string;
  storedSecret: Partial<TwilioCredentials> | undefined;
  apiKey: ApiKeyStep;
  twimlApp: TwimlAppStep;
  numbers: NumberStep[];
  secret: { action: 'ok' | 'write'; reason: string };
  devices: DeviceStep[];
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

const POST = 'POST';

function sameVoice(current: VoiceConfig, url: string): boolean {
  return current.voiceUrl === url && (current.voiceMethod ?? '').toUpperCase() === POST;
}

async function findApiKey(client: TwilioClient, sid: string): Promise<boolean> {
  try {
    await client.keys(sid).fetch();
    return true;
  } catch (err) {
    if (errorStatus(err) === 404) return false;
    throw err;
  }
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

/** Reads everything and decides; changes nothing. Throws only when it cannot even look (stack, credentials). */
export async function planSetup(opts: SetupOptions, deps: SetupDeps): Promise<SetupPlan> {
  const friendlyName = opts.friendlyName ?? DEFAULT_FRIENDLY_NAME;
  const problems: string[] = [];
  const notes: string[] = [];
  const outputs = await readStackOutputs(deps.cfn, opts.stackName);
  const secretId = outputs.TwilioSecretName;

  const client = deps.twilio({ username: opts.accountSid, password: opts.authToken, accountSid: opts.accountSid });
  try {
    await client.api.v2010.accounts(opts.accountSid).fetch();
  } catch (err) {
    if (isRefusal(err) || errorStatus(err) === 404) {
      throw new Error(`Twilio rejected account ${opts.accountSid} with this auth token (${errorMessage(err)}). Check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN.`);
    }
    throw new Error(`Could not reach Twilio's REST API: ${errorMessage(err)}`);
  }

  // The secret: read now, written last. A fresh deployment's secret exists with no value yet: setup fills it.
  const secretState = await readSecret(deps.secrets, secretId);
  let stored: Partial<TwilioCredentials> | undefined;
  if (secretState.status === 'missing') {
    problems.push(`Secret ${secretId} does not exist. Create it (\`aws secretsmanager create-secret --name ${secretId}\`) or deploy with \`npx cdk deploy\` without -c twilioSecretName, then re-run.`);
  } else if (secretState.status === 'deleted') {
    problems.push(`Secret ${secretId} is scheduled for deletion. Restore it (\`aws secretsmanager restore-secret --secret-id ${secretId}\`), then re-run.`);
  } else if (secretState.status === 'unreadable') {
    problems.push(`Cannot read secret ${secretId}: ${secretState.advice}.`);
  } else if (secretState.status === 'empty') {
    notes.push(`Secret ${secretId} has no value yet (a fresh deployment): setup writes it.`);
  } else {
    stored = secretState.parsed;
  }
  const sameAccount = stored?.accountSid === opts.accountSid;
  if (stored?.accountSid && !sameAccount) {
    notes.push(`The secret holds credentials of another account (${stored.accountSid}); they will be replaced.`);
  }

  // API key: reuse the stored one when it still exists and authenticates; otherwise create one.
  let apiKey: ApiKeyStep | undefined;
  if (sameAccount && stored?.apiKeySid && stored.apiKeySecret) {
    if (!(await findApiKey(client, stored.apiKeySid))) {
      apiKey = { action: 'create', reason: `the stored API key ${stored.apiKeySid} no longer exists`, staleSids: [] };
    } else if (!(await keyAccepted(deps.twilio, { accountSid: opts.accountSid, apiKeySid: stored.apiKeySid, apiKeySecret: stored.apiKeySecret, twimlAppSid: stored.twimlAppSid }))) {
      apiKey = { action: 'create', reason: `Twilio rejects the stored secret of API key ${stored.apiKeySid}`, staleSids: [stored.apiKeySid] };
    } else {
      apiKey = { action: 'reuse', sid: stored.apiKeySid, secret: stored.apiKeySecret };
    }
  }
  if (!apiKey) {
    const named = (await client.keys.list()).filter((k) => k.friendlyName === friendlyName).map((k) => k.sid);
    apiKey =
      named.length > 0
        ? {
            action: 'create',
            reason: `API key "${friendlyName}" exists (${named.join(', ')}) but its secret is only shown when a key is created and is not in the secret, so a new key is needed`,
            staleSids: named,
          }
        : { action: 'create', reason: `no API key named "${friendlyName}"`, staleSids: [] };
  }

  // TwiML App: the stored one, else one with our friendly name, else a new one.
  const outgoingUrl = outputs.OutgoingCallWebhookUrl;
  let app: { sid: string; voiceUrl: string; voiceMethod: string } | undefined;
  if (sameAccount && stored?.twimlAppSid) {
    try {
      app = await client.applications(stored.twimlAppSid).fetch();
    } catch (err) {
      if (errorStatus(err) !== 404) throw err;
      notes.push(`The stored TwiML App ${stored.twimlAppSid} no longer exists.`);
    }
  }
  if (!app) {
    const named = await client.applications.list({ friendlyName });
    if (named.length > 1) {
      notes.push(`${named.length} TwiML Apps are named "${friendlyName}" (${named.map((a) => a.sid).join(', ')}); using ${named[0].sid}.`);
    }
    app = named[0];
  }
  const twimlApp: TwimlAppStep = !app
    ? { action: 'create' }
    : sameVoice(app, outgoingUrl)
      ? { action: 'ok', sid: app.sid }
      : { action: 'update', sid: app.sid, from: { voiceUrl: app.voiceUrl, voiceMethod: app.voiceMethod } };

  // Phone numbers: each must belong to the account; its voice URL goes to the incoming-call webhook.
  const numbers: NumberStep[] = [];
  const wanted: { number: string; clientName: string }[] = [];
  for (const spec of opts.numbers) {
    let number: string;
    try {
      number = normalizeDeviceNumber(spec.number);
    } catch (err) {
      problems.push(errorMessage(err));
      continue;
    }
    if (wanted.some((w) => w.number === number)) continue;
    wanted.push({ number, clientName: spec.clientName ?? defaultClientName(number) });
    const found = (await client.incomingPhoneNumbers.list({ phoneNumber: number, limit: 20 })).find(
      (n) => n.phoneNumber === number,
    );
    if (!found) {
      problems.push(
        `${number} is not a phone number of account ${opts.accountSid}: buy or port it in the Twilio console, or fix --number.`,
      );
      continue;
    }
    const from = { voiceUrl: found.voiceUrl ?? '', voiceMethod: found.voiceMethod ?? '', voiceApplicationSid: found.voiceApplicationSid ?? '' };
    const ok = sameVoice(from, outputs.IncomingCallWebhookUrl) && !from.voiceApplicationSid;
    numbers.push({ number, sid: found.sid, action: ok ? 'ok' : 'update', from });
  }

  // The secret's new content, as far as it is known before applying.
  let secret: SetupPlan['secret'];
  if (apiKey.action === 'create' || twimlApp.action === 'create') {
    secret = { action: 'write', reason: 'new API key / TwiML App' };
  } else {
    const desired: TwilioCredentials = {
      accountSid: opts.accountSid,
      apiKeySid: apiKey.sid,
      apiKeySecret: apiKey.secret,
      authToken: opts.authToken,
      twimlAppSid: twimlApp.sid,
    };
    const changed = (Object.keys(desired) as (keyof TwilioCredentials)[]).filter((f) => stored?.[f] !== desired[f]);
    secret = changed.length === 0 ? { action: 'ok', reason: 'up to date' } : { action: 'write', reason: `${changed.join(', ')} changed` };
  }

  // Devices.
  const devices: DeviceStep[] = [];
  if (opts.registerDevices !== false && wanted.length > 0) {
    if (!deps.devices) {
      notes.push('Device registration is not available here; use `npm run device -- add`.');
    } else {
      const port = deps.devices(outputs);
      for (const w of wanted) {
        const existing = await port.findByNumber(w.number);
        devices.push(existing ? { number: w.number, clientName: existing.clientName, action: 'ok' } : { ...w, action: 'register' });
      }
    }
  }

  return {
    accountSid: opts.accountSid,
    authToken: opts.authToken,
    stackName: opts.stackName,
    outputs,
    secretId,
    friendlyName,
    storedSecret: stored,
    apiKey,
    twimlApp,
    numbers,
    secret,
    devices,
    problems,
    notes,
  };
}

/** True when applying the plan would change nothing. */
export function planIsNoop(plan: SetupPlan): boolean {
  return (
    plan.apiKey.action === 'reuse' &&
    plan.twimlApp.action === 'ok' &&
    plan.numbers.every((n) => n.action === 'ok') &&
    plan.secret.action === 'ok' &&
    plan.devices.every((d) => d.action !== 'register')
  );
}

function voiceText(v: VoiceConfig & { voiceApplicationSid?: string }): string {
  if (v.voiceApplicationSid) return `TwiML App ${v.voiceApplicationSid}`;
  return v.voiceUrl ? `${(v.voiceMethod || POST).toUpperCase()} ${v.voiceUrl}` : 'no voice URL';
}

/** The plan, one line per item: `+` create, `~` update, `=` unchanged, `✘` problem. */
export function formatPlan(plan: SetupPlan): string[] {
  const lines: string[] = [];
  const { outputs, friendlyName } = plan;
  if (plan.apiKey.action === 'reuse') lines.push(`  = API key ${plan.apiKey.sid}: exists, secret stored`);
  else lines.push(`  + create API key "${friendlyName}" (${plan.apiKey.reason})`);
  if (plan.twimlApp.action === 'ok') lines.push(`  = TwiML App ${plan.twimlApp.sid}: voice POST ${outputs.OutgoingCallWebhookUrl}`);
  else if (plan.twimlApp.action === 'update')
    lines.push(`  ~ update TwiML App ${plan.twimlApp.sid} voice URL to POST ${outputs.OutgoingCallWebhookUrl} (was ${voiceText(plan.twimlApp.from)})`);
  else lines.push(`  + create TwiML App "${friendlyName}" with voice URL POST ${outputs.OutgoingCallWebhookUrl}`);
  for (const n of plan.numbers) {
    if (n.action === 'ok') lines.push(`  = ${n.number} (${n.sid}): voice POST ${outputs.IncomingCallWebhookUrl}`);
    else lines.push(`  ~ update ${n.number} (${n.sid}) voice URL to POST ${outputs.IncomingCallWebhookUrl} (was ${voiceText(n.from)})`);
  }
  if (plan.secret.action === 'ok') lines.push(`  = secret ${plan.secretId}: up to date`);
  else lines.push(`  + write credentials to secret ${plan.secretId} (${plan.secret.reason}), after everything else succeeded`);
  for (const d of plan.devices) {
    if (d.action === 'ok') lines.push(`  = device ${d.number}: registered as ${d.clientName}`);
    else if (d.action === 'register') lines.push(`  + register device ${d.number} as ${d.clientName} (prints its secret once)`);
    else lines.push(`  - device ${d.number}: not registering`);
  }
  for (const note of plan.notes) lines.push(`  ! ${note}`);
  for (const problem of plan.problems) lines.push(`  ✘ ${problem}`);
  return lines;
}

/** Applies a plan without problems. Never throws for a failed step: failures are reported in the result. */
export async function applySetup(plan: SetupPlan, deps: SetupDeps): Promise<SetupResult> {
  if (plan.problems.length > 0) throw new Error('refusing to apply a plan with problems');
  const changes: string[] = [];
  const failures: string[] = [];
  const notes: string[] = [];
  const deviceSecrets: SetupResult['deviceSecrets'] = [];
  const { outputs, friendlyName, accountSid } = plan;
  const client = deps.twilio({ username: accountSid, password: plan.authToken, accountSid });

  let apiKeySid: string | undefined;
  let apiKeySecret: string | undefined;
  let createdKey = false;
  if (plan.apiKey.action === 'reuse') {
    apiKeySid = plan.apiKey.sid;
    apiKeySecret = plan.apiKey.secret;
  } else {
    try {
      const key = await client.newKeys.create({ friendlyName });
      apiKeySid = key.sid;
      apiKeySecret = key.secret;
      createdKey = true;
      changes.push(`created API key ${key.sid} ("${friendlyName}")`);
      if (plan.apiKey.staleSids.length > 0) {
        notes.push(
          `API key(s) ${plan.apiKey.staleSids.join(', ')} are no longer used by this stack; delete them in the Twilio console once nothing else uses them.`,
        );
      }
    } catch (err) {
      failures.push(`creating API key "${friendlyName}" failed: ${errorMessage(err)}`);
    }
  }

  let twimlAppSid: string | undefined;
  const voice = { voiceUrl: outputs.OutgoingCallWebhookUrl, voiceMethod: POST } as const;
  if (plan.twimlApp.action === 'ok') {
    twimlAppSid = plan.twimlApp.sid;
  } else if (plan.twimlApp.action === 'update') {
    try {
      await client.applications(plan.twimlApp.sid).update(voice);
      twimlAppSid = plan.twimlApp.sid;
      changes.push(`updated TwiML App ${plan.twimlApp.sid} voice URL to POST ${voice.voiceUrl}`);
    } catch (err) {
      failures.push(`updating TwiML App ${plan.twimlApp.sid} failed: ${errorMessage(err)}`);
    }
  } else {
    try {
      const app = await client.applications.create({ friendlyName, ...voice });
      twimlAppSid = app.sid;
      changes.push(`created TwiML App ${app.sid} ("${friendlyName}") with voice URL POST ${voice.voiceUrl}`);
    } catch (err) {
      failures.push(`creating TwiML App "${friendlyName}" failed: ${errorMessage(err)}`);
    }
  }

  for (const n of plan.numbers) {
    if (n.action === 'ok') continue;
    try {
      await client.incomingPhoneNumbers(n.sid).update({
        voiceUrl: outputs.IncomingCallWebhookUrl,
        voiceMethod: POST,
        // a voice application overrides the voice URL; clear it
        ...(n.from.voiceApplicationSid ? { voiceApplicationSid: '' } : {}),
      });
      changes.push(`updated ${n.number} (${n.sid}) voice URL to POST ${outputs.IncomingCallWebhookUrl} (was ${voiceText(n.from)})`);
    } catch (err) {
      failures.push(`updating ${n.number} (${n.sid}) failed: ${errorMessage(err)}`);
    }
  }

  // The secret: only when everything above succeeded, validated, written once.
  let secretWritten = false;
  if (failures.length === 0 && apiKeySid && apiKeySecret && twimlAppSid) {
    const creds: TwilioCredentials = { accountSid, apiKeySid, apiKeySecret, authToken: plan.authToken, twimlAppSid };
    const problems = credentialProblems(creds);
    try {
      if (problems.length > 0) throw new Error(`the new credentials are invalid: ${problems.join('; ')}`);
      if (!(await keyAccepted(deps.twilio, creds, createdKey ? 3 : 1, deps.sleep))) {
        throw new Error(`Twilio refuses API key ${apiKeySid} (HTTP 401/403 when fetching TwiML App ${twimlAppSid} with it)`);
      }
      const current = plan.storedSecret;
      const unchanged = current && (Object.keys(creds) as (keyof TwilioCredentials)[]).every((f) => current[f] === creds[f]);
      if (!unchanged) {
        await writeSecret(deps.secrets, plan.secretId, creds);
        secretWritten = true;
        changes.push(`wrote credentials to secret ${plan.secretId}`);
      }
    } catch (err) {
      failures.push(`writing secret ${plan.secretId} failed: ${errorMessage(err)}`);
    }
  }

  if (failures.length > 0) {
    notes.push(`Secret ${plan.secretId} was not changed because ${failures.length === 1 ? 'a step' : `${failures.length} steps`} failed; fix the cause and re-run (re-running is safe).`);
    if (createdKey && apiKeySid) {
      try {
        await client.keys(apiKeySid).remove();
        changes.push(`deleted API key ${apiKeySid} again (created by this run; its secret was never stored)`);
      } catch (err) {
        failures.push(`deleting the unused new API key ${apiKeySid} failed: ${errorMessage(err)}; delete it in the Twilio console`);
      }
    }
  }

  const toRegister = plan.devices.filter((d) => d.action === 'register');
  if (toRegister.length > 0) {
    if (failures.length > 0) {
      notes.push('Devices were not registered because setup failed.');
    } else if (deps.devices) {
      const port = deps.devices(outputs);
      for (const d of toRegister) {
        try {
          const { secret } = await port.add({ number: d.number, clientName: d.clientName });
          deviceSecrets.push({ number: d.number, clientName: d.clientName, secret });
          changes.push(`registered device ${d.number} as ${d.clientName}`);
        } catch (err) {
          failures.push(`registering device ${d.number} failed: ${errorMessage(err)}`);
        }
      }
    }
  }

  return { ok: failures.length === 0, changes, failures, notes, secretWritten, deviceSecrets };
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
  if (opts.registerDevices === 'ask' && !opts.dryRun && plan.problems.length === 0) {
    for (const d of plan.devices) {
      if (d.action !== 'register') continue;
      const yes = io.confirm ? await io.confirm(`Register ${d.number} as device ${d.clientName}? [y/N] `) : false;
      if (!yes) d.action = 'skip';
    }
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
  io.print(result.changes.length > 0 ? 'Changed:' : 'Changed nothing.');
  for (const change of result.changes) io.print(`  ✔ ${change}`);
  for (const failure of result.failures) io.print(`  ✘ ${failure}`);
  for (const note of result.notes) io.print(`  ! ${note}`);
  for (const d of result.deviceSecrets) {
    io.print(`Device secret for ${d.number} (client ${d.clientName}), shown only this once: ${d.secret}`);
  }
  if (result.ok) io.print(`Done: ${result.changes.length} ${result.changes.length === 1 ? 'change' : 'changes'}.`);
  else io.print(`Setup failed: ${result.failures.length} ${result.failures.length === 1 ? 'step' : 'steps'} failed.`);
  return result.ok ? 0 : 1;
}
