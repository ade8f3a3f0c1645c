import { verifyDeviceSecret } from '../../lambda/core/device-secret';
import { credentialProblems } from '../../lib/ops/aws';
import { registryDevicePort } from '../../lib/ops/devices';
import { planSetup, runSetup, type DevicePort, type SetupDeps, type SetupOptions } from '../../lib/ops/setup';
import { twilioClientFactory } from '../../lib/ops/twilio-client';
import { FakeTwilio } from '../support/fake-twilio';
import { awsFixture, outputsFor, RecordingIO, SECRET_NAME, STACK, type AwsFixture } from './helpers';
import { startDynalite } from '../support/dynalite';

const API = 'https://abc123.execute-api.ap-northeast-1.amazonaws.com/prod';
const outputs = outputsFor(API);
const NUMBER = '+815031234567';
/** The voice fallback setup sets everywhere: the site's static TwiML (lib/site/fallback.ts), fetched with GET. */
const FALLBACK = 'https://d111111abcdef8.cloudfront.net/fallback.xml';
/** Where the parent calls report how they end, for the call log: the call-status webhook at ApiUrl, with POST. */
const CALL_STATUS = `${API}/twilio/call_status`;
const STATUS_CALLBACK = { status_callback: CALL_STATUS, status_callback_method: 'POST' };
/** A number wired before the call log: the incoming webhook and the fallback, no status callback. */
const VOICE_ONLY = { voice_url: outputs.IncomingCallWebhookUrl, voice_method: 'POST', voice_fallback_url: FALLBACK, voice_fallback_method: 'GET' };
/** A number as a previous setup (or this one) wired it: the incoming webhook, the fallback and the status callback. */
const WIRED = { ...VOICE_ONLY, ...STATUS_CALLBACK };
/** How plan and change lines name what is set next to the voice URL. */
const CALLBACKS = `; fallback GET ${FALLBACK}; status callback POST ${CALL_STATUS}`;
/** The "Test my setup" TwiML App's voice URL: the preflight webhook at ApiUrl (API_PATHS.preflight). */
const PREFLIGHT = `${API}/twilio/retrieve_twiml/preflight`;
const PREFLIGHT_NAME = 'twilio-softphone-aws preflight';
/** The one manual step, as every run that planned prints it (once). */
const MANUAL_STEP = `Manual step (Twilio offers no API for it): in the Twilio Console, open Monitor → Logs → Errors → Webhook (the Debugger's webhook) and set the Webhook URL to ${API}/twilio/debugger_events, then Save: Twilio then posts every error and warning of the account there (signed with the Auth Token), and the stack counts them as the TwilioAlerts metric.`;

let fake: FakeTwilio;
let aws: AwsFixture;

beforeEach(async () => {
  fake = await new FakeTwilio().start();
  aws = await awsFixture(outputs);
});
afterEach(async () => {
  // every request setup sent was one Twilio's OpenAPI description allows
  expect(fake.contractViolations).toEqual([]);
  await fake.stop();
  await aws.close();
});

function deps(extra: Partial<SetupDeps> = {}): SetupDeps {
  return { cfn: aws.cfn, secrets: aws.secrets, twilio: twilioClientFactory({ apiBaseUrl: fake.url }), sleep: async () => {}, ...extra };
}

function options(extra: Partial<SetupOptions> = {}): SetupOptions {
  return {
    accountSid: fake.accountSid,
    authToken: fake.authToken,
    stackName: STACK,
    numbers: [{ number: '+81-50-3123-4567' }],
    registerDevices: false,
    yes: true,
    ...extra,
  };
}

async function run(extra: Partial<SetupOptions> = {}, depsExtra: Partial<SetupDeps> = {}, io = new RecordingIO()) {
  const code = await runSetup(options(extra), deps(depsExtra), io);
  return { code, io, text: io.text };
}

function storedSecret(): Record<string, string> {
  return JSON.parse(aws.secretValue() ?? 'null') as Record<string, string>;
}

class MemoryDevices implements DevicePort {
  records = new Map<string, { clientName: string }>();
  added: string[] = [];
  async findByNumber(n: string) {
    return this.records.get(n);
  }
  async add(input: { number: string; clientName: string }) {
    this.records.set(input.number, { clientName: input.clientName });
    this.added.push(input.number);
    return { secret: `device-secret-for-${input.number}`, generated: true };
  }
}

describe('twilio:setup against a fake Twilio REST API', () => {
  test('first run, on the secret a fresh deployment leaves (no value yet): creates the API key and TwiML App, wires the number and writes the secret once', async () => {
    const pn = fake.seedNumber(NUMBER);
    expect(aws.secretValue()).toBeUndefined();
    const { code, text } = await run();
    expect(code).toBe(0);
    expect(text).toContain(`! Secret ${SECRET_NAME} has no value yet (a fresh deployment): setup writes it.`);

    // Twilio: one key, two apps, the number's voice URL; app and number fall back to the site's static TwiML
    expect([...fake.keys.values()].map((k) => k.friendly_name)).toEqual(['twilio-softphone-aws']);
    const [app, preflightApp] = [...fake.applications.values()];
    // the "Test my setup" app: its own name, the preflight webhook with POST, nothing else (no call-log callback)
    expect(preflightApp).toMatchObject({
      friendly_name: PREFLIGHT_NAME,
      voice_url: PREFLIGHT,
      voice_method: 'POST',
      voice_fallback_url: null,
      status_callback: null,
    });
    const preflightCreate = fake.writes().filter((r) => r.path.endsWith('/Applications.json'))[1];
    expect(preflightCreate.form).toEqual({ FriendlyName: PREFLIGHT_NAME, VoiceUrl: PREFLIGHT, VoiceMethod: 'POST' });
    expect(app).toMatchObject({
      friendly_name: 'twilio-softphone-aws',
      voice_url: outputs.OutgoingCallWebhookUrl,
      voice_method: 'POST',
      voice_fallback_url: FALLBACK,
      voice_fallback_method: 'GET',
      ...STATUS_CALLBACK,
    });
    expect(fake.numberBySid(pn)).toMatchObject(WIRED);

    // the requests were form-encoded as the real API expects
    const appCreate = fake.writes().find((r) => r.path.endsWith('/Applications.json'))!;
    expect(appCreate.form).toEqual({
      FriendlyName: 'twilio-softphone-aws',
      VoiceUrl: outputs.OutgoingCallWebhookUrl,
      VoiceMethod: 'POST',
      VoiceFallbackUrl: FALLBACK,
      VoiceFallbackMethod: 'GET',
      StatusCallback: CALL_STATUS,
      StatusCallbackMethod: 'POST',
    });
    const numberUpdate = fake.writes().find((r) => r.path.endsWith(`/IncomingPhoneNumbers/${pn}.json`))!;
    expect(numberUpdate.form).toEqual({
      VoiceUrl: outputs.IncomingCallWebhookUrl,
      VoiceMethod: 'POST',
      VoiceFallbackUrl: FALLBACK,
      VoiceFallbackMethod: 'GET',
      StatusCallback: CALL_STATUS,
      StatusCallbackMethod: 'POST',
    });
    expect(fake.requests.every((r) => r.user !== '')).toBe(true);

    // the secret: written exactly once, complete, with the new key's secret
    expect(aws.puts()).toBe(1);
    const secret = storedSecret();
    expect(credentialProblems(secret)).toEqual([]);
    const [keySid] = [...fake.keys.keys()];
    expect(secret).toEqual({
      accountSid: fake.accountSid,
      apiKeySid: keySid,
      apiKeySecret: fake.keys.get(keySid)!.secret,
      authToken: fake.authToken,
      twimlAppSid: app.sid,
      preflightTwimlAppSid: preflightApp.sid,
    });

    // the output lists exactly what changed
    expect(text).toContain(`✔ created API key ${keySid}`);
    expect(text).toContain(
      `✔ created TwiML App ${String(app.sid)} ("twilio-softphone-aws") with voice URL POST ${outputs.OutgoingCallWebhookUrl}${CALLBACKS}\n`,
    );
    expect(text).toContain(
      `✔ updated ${NUMBER} (${pn}) voice URL to POST ${outputs.IncomingCallWebhookUrl}${CALLBACKS} (was POST https://demo.twilio.com/welcome/voice/, no status callback)`,
    );
    expect(text).toContain(
      `✔ created "Test my setup" TwiML App ${String(preflightApp.sid)} ("${PREFLIGHT_NAME}") with voice URL POST ${PREFLIGHT}\n`,
    );
    expect(text).toContain('✔ wrote credentials to secret');
    expect(text).toContain('Done: 5 changes.');
    // the step no API can do, once, last
    expect(text.split('Manual step')).toHaveLength(2);
    expect(text.endsWith(MANUAL_STEP)).toBe(true);
  });

  test('a second run changes nothing and says so', async () => {
    fake.seedNumber(NUMBER);
    expect((await run()).code).toBe(0);
    const writesBefore = fake.writes().length;
    const secretBefore = aws.secretValue();

    const second = await run();
    expect(second.code).toBe(0);
    expect(fake.writes()).toHaveLength(writesBefore);
    expect(aws.puts()).toBe(1);
    expect(aws.secretValue()).toBe(secretBefore);
    expect(second.text).toContain('Nothing to change: everything is already set up.');
    expect(second.text).toMatch(/= API key SK[0-9a-f]{32}: exists, secret stored/);
    expect(second.text).toMatch(
      new RegExp(`= \\${NUMBER} \\(PN[0-9a-f]{32}\\): voice POST ${escapeRegExp(outputs.IncomingCallWebhookUrl + CALLBACKS)}$`, 'm'),
    );
    expect(second.text).toMatch(
      new RegExp(`= TwiML App AP[0-9a-f]{32}: voice POST ${escapeRegExp(outputs.OutgoingCallWebhookUrl + CALLBACKS)}$`, 'm'),
    );
    expect(second.text).toContain(`= "Test my setup" TwiML App ${storedSecret().preflightTwimlAppSid}: voice POST ${PREFLIGHT}\n`);
    expect(second.text).not.toContain('✔');
    expect(second.text.split('Manual step')).toHaveLength(2);
  });

  test('--dry-run prints the plan and changes nothing', async () => {
    fake.seedNumber(NUMBER);
    const { code, text } = await run({ dryRun: true, yes: false });
    expect(code).toBe(0);
    expect(fake.writes()).toEqual([]);
    expect(aws.puts()).toBe(0);
    expect(aws.secretValue()).toBeUndefined();
    expect(text).toContain('+ create API key "twilio-softphone-aws"');
    expect(text).toContain(`+ create TwiML App "twilio-softphone-aws" with voice URL POST ${outputs.OutgoingCallWebhookUrl}${CALLBACKS}\n`);
    expect(text).toContain(`+ create "Test my setup" TwiML App "${PREFLIGHT_NAME}" with voice URL POST ${PREFLIGHT}\n`);
    expect(text).toMatch(
      new RegExp(
        `~ update \\${NUMBER} \\(PN[0-9a-f]{32}\\) voice URL to POST ${escapeRegExp(outputs.IncomingCallWebhookUrl + CALLBACKS)} \\(was POST https://demo\\.twilio\\.com/welcome/voice/, no status callback\\)`,
      ),
    );
    expect(text).toContain('Dry run: nothing was changed.');
    expect(text.split('Manual step')).toHaveLength(2);
  });

  test('reuses a TwiML App by friendly name and fixes its voice URL; a known-name key without a secret is replaced, and it says so', async () => {
    const staleKey = fake.seedKey('twilio-softphone-aws');
    const appSid = fake.seedApplication('twilio-softphone-aws', 'https://old.example.com/voice', 'GET');
    fake.seedNumber(NUMBER, WIRED);

    const { code, text } = await run();
    expect(code).toBe(0);
    expect(fake.applications.size).toBe(2); // this one, and the new "Test my setup"
    expect(fake.applications.get(appSid)).toMatchObject({
      voice_url: outputs.OutgoingCallWebhookUrl,
      voice_method: 'POST',
      voice_fallback_url: FALLBACK,
      voice_fallback_method: 'GET',
      ...STATUS_CALLBACK,
    });
    expect(fake.keys.size).toBe(2);
    expect(text).toContain(`API key "twilio-softphone-aws" exists (${staleKey}) but its secret is only shown when a key is created`);
    expect(text).toContain(`${staleKey} are no longer used by this stack`);
    expect(text).toContain(
      `✔ updated TwiML App ${appSid} voice URL to POST ${outputs.OutgoingCallWebhookUrl}${CALLBACKS} (was GET https://old.example.com/voice, no status callback)`,
    );
    expect(text).toContain(`= ${NUMBER}`);
    expect(fake.writes().filter((r) => r.path.includes('/IncomingPhoneNumbers/'))).toEqual([]); // already wired
    expect(storedSecret().twimlAppSid).toBe(appSid);
    expect(fake.keys.has(storedSecret().apiKeySid)).toBe(true);
    expect(storedSecret().apiKeySid).not.toBe(staleKey);
  });

  test('a number and an app with the right voice URL but not the fallback (wired before fallbacks) are updated: only both make "ok"', async () => {
    const appSid = fake.seedApplication('twilio-softphone-aws', outputs.OutgoingCallWebhookUrl, 'POST');
    // the right fallback URL with the wrong method is not the fallback either
    const pn = fake.seedNumber(NUMBER, { ...WIRED, voice_fallback_method: 'POST' });
    const { code, text } = await run();
    expect(code).toBe(0);
    expect(fake.applications.get(appSid)).toMatchObject({ voice_fallback_url: FALLBACK, voice_fallback_method: 'GET' });
    expect(fake.numberBySid(pn)).toMatchObject(WIRED);
    expect(text).toContain(`✔ updated TwiML App ${appSid} voice URL to POST ${outputs.OutgoingCallWebhookUrl}${CALLBACKS}`);
    expect(text).toContain(
      `✔ updated ${NUMBER} (${pn}) voice URL to POST ${outputs.IncomingCallWebhookUrl}${CALLBACKS} (was POST ${outputs.IncomingCallWebhookUrl}, fallback POST ${FALLBACK}, status callback POST ${CALL_STATUS})`,
    );
  });

  test('a number whose calls go to a TwiML App gets the voice URL and the app cleared', async () => {
    const otherApp = fake.seedApplication('something else', 'https://other.example.com');
    const pn = fake.seedNumber(NUMBER, { voice_application_sid: otherApp, voice_url: '' });
    const { code, text } = await run();
    expect(code).toBe(0);
    expect(fake.numberBySid(pn)).toMatchObject({ voice_application_sid: null, voice_url: outputs.IncomingCallWebhookUrl });
    expect(text).toContain(`(was TwiML App ${otherApp}, no status callback)`);
  });

  test('a number and an app wired before the call log (voice URL and fallback in place) get the status callback; a second run changes nothing', async () => {
    const OUT = outputs.OutgoingCallWebhookUrl;
    const IN = outputs.IncomingCallWebhookUrl;
    const appSid = fake.seedApplication('twilio-softphone-aws', OUT, 'POST', { voice_fallback_url: FALLBACK, voice_fallback_method: 'GET' });
    const pn = fake.seedNumber(NUMBER, VOICE_ONLY);

    // the plan names the callback being set, and what is there now
    const dry = await run({ dryRun: true, yes: false });
    expect(dry.text).toContain(
      `~ update TwiML App ${appSid} voice URL to POST ${OUT}${CALLBACKS} (was POST ${OUT}, fallback GET ${FALLBACK}, no status callback)`,
    );
    expect(dry.text).toContain(
      `~ update ${NUMBER} (${pn}) voice URL to POST ${IN}${CALLBACKS} (was POST ${IN}, fallback GET ${FALLBACK}, no status callback)`,
    );
    expect(fake.writes()).toEqual([]);

    const first = await run();
    expect(first.code).toBe(0);
    expect(fake.applications.get(appSid)).toMatchObject({ voice_url: OUT, voice_fallback_url: FALLBACK, ...STATUS_CALLBACK });
    expect(fake.numberBySid(pn)).toMatchObject(WIRED);
    // one update each, with Twilio's form field names, the callback next to the voice URL and fallback
    const updates = fake
      .writes()
      .filter((r) => r.path.endsWith(`/Applications/${appSid}.json`) || r.path.endsWith(`/IncomingPhoneNumbers/${pn}.json`));
    expect(updates.map((r) => [r.method, r.status, r.form])).toEqual([
      [
        'POST',
        200,
        {
          VoiceUrl: OUT,
          VoiceMethod: 'POST',
          VoiceFallbackUrl: FALLBACK,
          VoiceFallbackMethod: 'GET',
          StatusCallback: CALL_STATUS,
          StatusCallbackMethod: 'POST',
        },
      ],
      [
        'POST',
        200,
        {
          VoiceUrl: IN,
          VoiceMethod: 'POST',
          VoiceFallbackUrl: FALLBACK,
          VoiceFallbackMethod: 'GET',
          StatusCallback: CALL_STATUS,
          StatusCallbackMethod: 'POST',
        },
      ],
    ]);
    expect(first.text).toContain(
      `✔ updated TwiML App ${appSid} voice URL to POST ${OUT}${CALLBACKS} (was POST ${OUT}, fallback GET ${FALLBACK}, no status callback)`,
    );
    expect(first.text).toContain(
      `✔ updated ${NUMBER} (${pn}) voice URL to POST ${IN}${CALLBACKS} (was POST ${IN}, fallback GET ${FALLBACK}, no status callback)`,
    );

    const writes = fake.writes().length;
    const second = await run();
    expect(second.code).toBe(0);
    expect(second.text).toContain('Nothing to change: everything is already set up.');
    expect(second.text).toContain(`= TwiML App ${appSid}: voice POST ${OUT}${CALLBACKS}`);
    expect(second.text).toContain(`= ${NUMBER} (${pn}): voice POST ${IN}${CALLBACKS}`);
    expect(fake.writes()).toHaveLength(writes);
  });

  test('a status callback elsewhere, or at the right URL with GET, is planned as an update and replaced', async () => {
    const OUT = outputs.OutgoingCallWebhookUrl;
    const IN = outputs.IncomingCallWebhookUrl;
    const appSid = fake.seedApplication('twilio-softphone-aws', OUT, 'POST', {
      voice_fallback_url: FALLBACK,
      voice_fallback_method: 'GET',
      status_callback: CALL_STATUS,
      status_callback_method: 'GET',
    });
    const pn = fake.seedNumber(NUMBER, { ...VOICE_ONLY, status_callback: 'https://old.example.com/status', status_callback_method: 'GET' });

    const plan = await planSetup(options(), deps());
    const items = (kind: string) => plan.steps.find((step) => step.kind === kind)?.items;
    expect(items('TwiML App')).toEqual([
      {
        action: 'update',
        sid: appSid,
        from: expect.objectContaining({ voiceUrl: OUT, statusCallback: CALL_STATUS, statusCallbackMethod: 'GET' }),
      },
    ]);
    expect(items('phone number')).toEqual([
      {
        number: NUMBER,
        sid: pn,
        action: 'update',
        from: expect.objectContaining({ voiceUrl: IN, statusCallback: 'https://old.example.com/status', statusCallbackMethod: 'GET' }),
      },
    ]);
    expect(fake.writes()).toEqual([]);

    const { code, text } = await run();
    expect(code).toBe(0);
    expect(fake.applications.get(appSid)).toMatchObject(STATUS_CALLBACK);
    expect(fake.numberBySid(pn)).toMatchObject(STATUS_CALLBACK);
    expect(text).toContain(`(was POST ${OUT}, fallback GET ${FALLBACK}, status callback GET ${CALL_STATUS})`);
    expect(text).toContain(`(was POST ${IN}, fallback GET ${FALLBACK}, status callback GET https://old.example.com/status)`);
    expect((await run()).text).toContain('Nothing to change');
  });

  test('with a custom domain (the webhook outputs on publicBaseUrl), the status callback is on that domain too: where the functions check signatures', async () => {
    aws.standIn.putStack(STACK, {
      ...outputs,
      IncomingCallWebhookUrl: 'https://phone.example.com/twilio/retrieve_twiml/call_incoming',
      OutgoingCallWebhookUrl: 'https://phone.example.com/twilio/retrieve_twiml/call_outgoing',
    });
    const pn = fake.seedNumber(NUMBER);
    const { code, text } = await run();
    expect(code).toBe(0);
    const onDomain = { status_callback: 'https://phone.example.com/twilio/call_status', status_callback_method: 'POST' };
    expect(fake.numberBySid(pn)).toMatchObject({ voice_url: 'https://phone.example.com/twilio/retrieve_twiml/call_incoming', ...onDomain });
    expect([...fake.applications.values()]).toEqual([
      expect.objectContaining(onDomain),
      expect.objectContaining({ voice_url: 'https://phone.example.com/twilio/retrieve_twiml/preflight' }),
    ]);
    expect(text).toContain('; status callback POST https://phone.example.com/twilio/call_status');
    // the manual step names the Debugger webhook on the domain too (Twilio signs for the URL it calls)
    expect(text).toContain('set the Webhook URL to https://phone.example.com/twilio/debugger_events, then Save');
    expect(text).not.toContain(API);
  });

  test('a stack deployed before the call log (no CallsTableName output) stops before any change and says to deploy this version', async () => {
    const { CallsTableName: _omit, ...beforeCallLog } = outputs;
    aws.standIn.putStack(STACK, beforeCallLog);
    fake.seedNumber(NUMBER);
    const { code, text } = await run();
    expect(code).toBe(1);
    expect(text).toContain(
      `✘ Stack ${STACK} has no output CallsTableName: it was deployed from another (e.g. an earlier) version of this app; deploy this one with \`npx cdk deploy\`, then re-run.`,
    );
    expect(text).toContain('Nothing was changed.');
    expect(fake.requests).toEqual([]);
    expect(aws.puts()).toBe(0);
  });

  test('a failed step is reported, the secret is not touched and the new API key is deleted again; a re-run completes', async () => {
    const pn = fake.seedNumber(NUMBER);
    fake.fail('POST', new RegExp(`/IncomingPhoneNumbers/${pn}\\.json$`), 500, 1);
    const first = await run();
    expect(first.code).toBe(1);
    expect(aws.puts()).toBe(0);
    expect(aws.secretValue()).toBeUndefined();
    expect(fake.keys.size).toBe(0);
    expect(first.text).toMatch(new RegExp(`✘ updating \\${NUMBER} \\(${pn}\\) failed: HTTP 500`));
    expect(first.text).toContain('was not changed because a step failed');
    expect(first.text).toMatch(/✔ deleted API key SK[0-9a-f]{32} again/);
    expect(first.text).toContain('Setup failed: 1 step failed.');

    const second = await run();
    expect(second.code).toBe(0);
    expect(fake.applications.size).toBe(2); // the apps created by the failed run are reused
    expect(second.text).toContain(`= TwiML App`);
    expect(aws.puts()).toBe(1);
    expect(credentialProblems(storedSecret())).toEqual([]);
  });

  test('a failing secret write is reported and leaves the old secret and no orphan key', async () => {
    fake.seedNumber(NUMBER);
    aws.standIn.fail('secretsmanager', 'PutSecretValue', {
      code: 'AccessDeniedException',
      message: 'User: arn:aws:iam::123456789012:user/dev is not authorized to perform: secretsmanager:PutSecretValue',
      status: 400,
    });
    const { code, text } = await run();
    expect(code).toBe(1);
    expect(aws.secretValue()).toBeUndefined();
    expect(fake.keys.size).toBe(0);
    expect(text).toContain('✘ writing secret');
    expect(text).toContain('PutSecretValue');
  });

  test('a number that is not in the account stops everything before any change', async () => {
    const { code, text } = await run({ numbers: [{ number: '+14155550100' }] });
    expect(code).toBe(1);
    expect(fake.writes()).toEqual([]);
    expect(aws.puts()).toBe(0);
    expect(text).toContain(`✘ +14155550100 is not a phone number of account ${fake.accountSid}`);
    expect(text).toContain('Nothing was changed');
  });

  test('a wrong auth token or a missing stack output is reported and nothing changes', async () => {
    const badToken = await run({ authToken: 'f'.repeat(32) });
    expect(badToken.code).toBe(1);
    expect(badToken.text).toContain(`Twilio rejected account ${fake.accountSid}`);
    expect(fake.writes()).toEqual([]);

    const { TwilioSecretName: _omit, ...partial } = outputs;
    aws.standIn.putStack(STACK, partial);
    const noOutput = await run();
    expect(noOutput.code).toBe(1);
    expect(noOutput.text).toContain('has no output TwilioSecretName');
    expect(fake.writes()).toEqual([]);
  });

  test('a stack still deploying, or one that does not exist, stops before any change with what to do', async () => {
    aws.standIn.putStack(STACK, outputs, 'UPDATE_IN_PROGRESS');
    const deploying = await run();
    expect(deploying.code).toBe(1);
    expect(deploying.text).toContain(`✘ Stack ${STACK} is UPDATE_IN_PROGRESS: wait for the deployment to finish, then re-run.`);
    const missing = await run({ stackName: 'NoSuchStack' });
    expect(missing.code).toBe(1);
    expect(missing.text).toContain(
      '✘ Stack NoSuchStack not found in this account/region: deploy it with `npx cdk deploy`, or pass the right --stack/--region.',
    );
    expect(fake.requests).toEqual([]);
  });

  test('a missing secret (a twilioSecretName that does not exist) is a problem with the command that creates it; a deleted one, with the one that restores it', async () => {
    await aws.close();
    aws = await awsFixture(outputs, 'missing');
    fake.seedNumber(NUMBER);
    const missing = await run();
    expect(missing.code).toBe(1);
    expect(missing.text).toContain(`✘ Secret ${SECRET_NAME} does not exist. Create it (\`aws secretsmanager create-secret --name ${SECRET_NAME}\`)`);
    expect(fake.writes()).toEqual([]);

    aws.standIn.createSecret(SECRET_NAME);
    aws.standIn.deleteSecret(SECRET_NAME);
    const deleted = await run();
    expect(deleted.code).toBe(1);
    expect(deleted.text).toContain(
      `✘ Secret ${SECRET_NAME} is scheduled for deletion. Restore it (\`aws secretsmanager restore-secret --secret-id ${SECRET_NAME}\`)`,
    );
    expect(fake.writes()).toEqual([]);
  });

  test('AWS refusing the credentials is not answered with "redeploy"', async () => {
    aws.cfn.destroy();
    const { CloudFormationClient } = await import('@aws-sdk/client-cloudformation');
    const wrong = new CloudFormationClient({
      endpoint: aws.standIn.url,
      region: aws.standIn.region,
      credentials: { accessKeyId: 'AKIAWRONGWRONGWRONG1', secretAccessKey: 'x'.repeat(40) },
    });
    const { code, text } = await run({}, { cfn: wrong });
    wrong.destroy();
    expect(code).toBe(1);
    expect(text).toContain(`✘ Could not read stack ${STACK}: AWS refused your credentials (InvalidClientTokenId)`);
    expect(text).not.toMatch(/redeploy|cdk deploy/);
  });

  test('a Standard API key is checked with a request Standard keys may make (Twilio refuses them the Account resource)', async () => {
    fake.seedNumber(NUMBER);
    expect((await run()).code).toBe(0);
    const { apiKeySid, apiKeySecret } = storedSecret();
    const keyRequests = fake.requests.filter((r) => r.user === apiKeySid);
    expect(keyRequests.length).toBeGreaterThan(0);
    expect(keyRequests.every((r) => r.status === 200)).toBe(true);
    expect(keyRequests.every((r) => /\/Applications(\/AP[0-9a-f]{32})?\.json$/.test(r.path))).toBe(true);
    // the fake holds Twilio's rule: the same key may not read the Account
    const account = await twilioClientFactory({ apiBaseUrl: fake.url })({ username: apiKeySid, password: apiKeySecret, accountSid: fake.accountSid })
      .api.v2010.accounts(fake.accountSid)
      .fetch()
      .catch((e: { status?: number; code?: number }) => e);
    expect(account).toMatchObject({ status: 401, code: 20003 });
  });

  test('Twilio unreachable while checking the stored key: nothing changes, and it is not called a refused key', async () => {
    fake.seedNumber(NUMBER);
    expect((await run()).code).toBe(0);
    const before = aws.secretValue();
    fake.fail('GET', /\/Applications\/AP[0-9a-f]{32}\.json$/, 503);
    const second = await run();
    expect(second.code).toBe(1);
    expect(second.text).toMatch(/✘ could not ask Twilio about API key SK[0-9a-f]{32}: HTTP 503/);
    expect(second.text).not.toContain('refuses');
    expect(aws.secretValue()).toBe(before);
  });

  test('interactive: the plan is confirmed before anything changes', async () => {
    fake.seedNumber(NUMBER);
    const io = new RecordingIO();
    io.answers = [false];
    const { code } = await run({ yes: false }, {}, io);
    expect(code).toBe(1);
    expect(io.questions).toEqual(['Apply these changes? [y/N] ']);
    expect(io.text).toContain('Aborted: nothing was changed.');
    expect(fake.writes()).toEqual([]);
  });

  test('registers each number as a device once and prints the generated secret once', async () => {
    fake.seedNumber(NUMBER);
    const devices = new MemoryDevices();
    const first = await run({ registerDevices: true, numbers: [{ number: NUMBER, clientName: 'alice' }] }, { devices: () => devices });
    expect(first.code).toBe(0);
    expect(devices.added).toEqual([NUMBER]);
    expect(first.text).toContain(`✔ registered device ${NUMBER} as alice`);
    expect(first.text.split(`device-secret-for-${NUMBER}`)).toHaveLength(2);

    const second = await run({ registerDevices: true, numbers: [{ number: NUMBER, clientName: 'alice' }] }, { devices: () => devices });
    expect(second.code).toBe(0);
    expect(devices.added).toEqual([NUMBER]);
    expect(second.text).toContain(`= device ${NUMBER}: registered as alice`);
    expect(second.text).not.toContain('device-secret-for');
  });

  test('interactive device offer: declining registers nothing', async () => {
    fake.seedNumber(NUMBER);
    const devices = new MemoryDevices();
    const io = new RecordingIO();
    io.answers = [false, true];
    const { code } = await run({ registerDevices: 'ask', yes: false }, { devices: () => devices }, io);
    expect(code).toBe(0);
    expect(io.questions[0]).toBe(`Register ${NUMBER} as device softphone-815031234567? [y/N] `);
    expect(devices.added).toEqual([]);
    expect(io.text).toContain(`- device ${NUMBER}: not registering`);
  });

  test('registration through the real registry (dynalite) and addDevice: the printed secret verifies', async () => {
    const db = await startDynalite();
    try {
      const registry = db.lines;
      fake.seedNumber(NUMBER);
      const first = await run({ registerDevices: true }, { devices: () => registryDevicePort(registry) });
      expect(first.code).toBe(0);
      const secretLine = first.io.lines.find((l) => l.startsWith(`Device secret for ${NUMBER}`))!;
      const printed = secretLine.split(': ').pop()!;
      const [record, ...others] = await registry.findForSignIn(NUMBER);
      expect(others).toEqual([]); // the number's line, with its one device
      expect(record?.clientName).toBe('softphone-815031234567');
      expect(await verifyDeviceSecret(printed, record!.secretHash)).toBe(true);

      const second = await run({ registerDevices: true }, { devices: () => registryDevicePort(registry) });
      expect(second.text).toContain('Nothing to change');
      expect(second.text).not.toContain('Device secret for');
    } finally {
      await db.close();
    }
  });

  test('plan reuses the stored key only while it exists and authenticates', async () => {
    fake.seedNumber(NUMBER);
    await run();
    const { apiKeySid } = storedSecret();
    fake.keys.delete(apiKeySid);
    const plan = await planSetup(options(), deps());
    const items = (kind: string) => plan.steps.find((step) => step.kind === kind)?.items;
    expect(plan.steps.map((step) => step.kind)).toEqual(['API key', 'TwiML App', '"Test my setup" TwiML App', 'phone number', 'secret', 'device']);
    expect(items('API key')).toEqual([{ action: 'create', reason: `the stored API key ${apiKeySid} no longer exists`, staleSids: [] }]);
    expect(items('TwiML App')).toEqual([{ action: 'ok', sid: storedSecret().twimlAppSid }]);
    expect(items('"Test my setup" TwiML App')).toEqual([{ action: 'ok', sid: storedSecret().preflightTwimlAppSid }]);
    expect(items('secret')).toEqual([{ action: 'write', reason: 'new API key / TwiML Apps' }]);
  });

  test('"Test my setup": a secret from before it gets the app and the field, in one write; a second run changes nothing', async () => {
    fake.seedNumber(NUMBER);
    expect((await run()).code).toBe(0);
    // as an earlier release left things: no preflight app, a secret without preflightTwimlAppSid
    const { preflightTwimlAppSid: old, ...before } = storedSecret();
    fake.applications.delete(old);
    await aws.putSecret(JSON.stringify(before));
    const writes = fake.writes().length;

    const dry = await run({ dryRun: true, yes: false });
    expect(dry.text).toContain(`+ create "Test my setup" TwiML App "${PREFLIGHT_NAME}" with voice URL POST ${PREFLIGHT}\n`);
    expect(dry.text).toContain(`+ write credentials to secret ${SECRET_NAME} (new API key / TwiML Apps), after everything else succeeded`);
    expect(fake.writes()).toHaveLength(writes);
    expect(aws.puts()).toBe(1);

    const { code, text } = await run();
    expect(code).toBe(0);
    const created = [...fake.applications.values()].find((a) => a.friendly_name === PREFLIGHT_NAME)!;
    expect(storedSecret()).toEqual({ ...before, preflightTwimlAppSid: created.sid });
    expect(aws.puts()).toBe(2);
    expect(text).toContain('Done: 2 changes.');
    // the Twilio writes were the app's creation only
    expect(
      fake
        .writes()
        .slice(writes)
        .map((r) => `${r.method} ${r.path.replace(/^.*\/Accounts\/AC[0-9a-f]{32}/, '')}`),
    ).toEqual(['POST /Applications.json']);

    const again = await run();
    expect(again.text).toContain('Nothing to change: everything is already set up.');
    expect(aws.puts()).toBe(2);
  });

  test('"Test my setup": found by friendly name when the secret does not name it, and pointed back at the preflight webhook', async () => {
    fake.seedNumber(NUMBER);
    const existing = fake.seedApplication(PREFLIGHT_NAME, 'https://old.example.com/echo', 'GET');
    const { code, text } = await run();
    expect(code).toBe(0);
    expect(fake.applications.size).toBe(2);
    expect(fake.applications.get(existing)).toMatchObject({ voice_url: PREFLIGHT, voice_method: 'POST' });
    expect(text).toContain(`✔ updated "Test my setup" TwiML App ${existing} voice URL to POST ${PREFLIGHT} (was GET https://old.example.com/echo)`);
    expect(storedSecret().preflightTwimlAppSid).toBe(existing);
    const update = fake.writes().find((r) => r.path.endsWith(`/Applications/${existing}.json`))!;
    expect(update.form).toEqual({ VoiceUrl: PREFLIGHT, VoiceMethod: 'POST' });
  });

  test('"Test my setup": the stored app is kept under any name and fixed when it points elsewhere; a deleted one is made again', async () => {
    fake.seedNumber(NUMBER);
    expect((await run()).code).toBe(0);
    const sid = storedSecret().preflightTwimlAppSid;
    Object.assign(fake.applications.get(sid)!, { friendly_name: 'renamed in the console', voice_url: 'https://old.example.com/echo' });
    const fixed = await run();
    expect(fixed.text).toContain(`~ update "Test my setup" TwiML App ${sid} voice URL to POST ${PREFLIGHT} (was POST https://old.example.com/echo)`);
    expect(fake.applications.get(sid)).toMatchObject({ voice_url: PREFLIGHT });
    expect(storedSecret().preflightTwimlAppSid).toBe(sid);
    expect(aws.puts()).toBe(1); // the secret already named it

    fake.applications.delete(sid);
    const remade = await run();
    expect(remade.code).toBe(0);
    expect(remade.text).toContain(`! The stored "Test my setup" TwiML App ${sid} no longer exists.`);
    const newSid = storedSecret().preflightTwimlAppSid;
    expect(newSid).not.toBe(sid);
    expect(fake.applications.get(newSid)).toMatchObject({ friendly_name: PREFLIGHT_NAME, voice_url: PREFLIGHT });
    expect(aws.puts()).toBe(2);
  });

  test('"Test my setup": a failed creation leaves the secret unwritten and no orphan key; the re-run completes', async () => {
    fake.seedNumber(NUMBER, WIRED);
    fake.seedApplication('twilio-softphone-aws', outputs.OutgoingCallWebhookUrl, 'POST', {
      voice_fallback_url: FALLBACK,
      voice_fallback_method: 'GET',
      ...STATUS_CALLBACK,
    });
    // the main app exists, so the one POST to the list is the "Test my setup" app's creation
    fake.fail('POST', /\/Applications\.json$/, 500, 1);
    const first = await run();
    expect(first.code).toBe(1);
    expect(first.text).toContain(`✘ creating "Test my setup" TwiML App "${PREFLIGHT_NAME}" failed: HTTP 500`);
    expect(aws.puts()).toBe(0);
    expect(fake.keys.size).toBe(0);
    expect(first.text.split('Manual step')).toHaveLength(2);

    expect((await run()).code).toBe(0);
    expect(credentialProblems(storedSecret())).toEqual([]);
    expect(storedSecret().preflightTwimlAppSid).toMatch(/^AP[0-9a-f]{32}$/);
  });

  test('the manual step is printed when planning finds a problem, and not when setup cannot even plan', async () => {
    const problem = await run({ numbers: [{ number: '+14155550100' }] });
    expect(problem.code).toBe(1);
    expect(problem.text.split('Manual step')).toHaveLength(2);
    const noStack = await run({ stackName: 'NoSuchStack' });
    expect(noStack.code).toBe(1);
    expect(noStack.text).not.toContain('Manual step');
  });

  test('lists are paged like the real API', async () => {
    for (let i = 0; i < 120; i++) fake.seedKey(`other-${i}`);
    fake.seedNumber(NUMBER);
    const { code } = await run();
    expect(code).toBe(0);
    const keyListPages = fake.requests.filter((r) => r.method === 'GET' && r.path.endsWith('/Keys.json'));
    expect(keyListPages.length).toBeGreaterThan(1);
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
