import http from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { validateRequest } from 'twilio/lib/webhooks/webhooks';
import { buildClient } from '../../client/build';
import type { TwilioCredentials } from '../../lambda/ports';
import { addDevice } from '../../lib/devices/device-admin';
import { temporarilyUnavailableTwiml } from '../../lambda/core/twiml';
import { fallbackTwiml } from '../../lib/site/fallback';
import { startLocalApp, type LocalApp } from '../../lib/local/app';
import { configJsonUrl, isTwimlDocument, MIN_STACK_ALARMS, runDoctor, type DoctorDeps } from '../../lib/ops/doctor';
import { runSetup } from '../../lib/ops/setup';
import { twilioClientFactory } from '../../lib/ops/twilio-client';
import { FakeTwilio } from '../support/fake-twilio';
import { ALARM_EMAIL, ALARM_IDS, awsFixture, deployOperations, outputsFor, RecordingIO, SECRET_NAME, STACK, type AwsFixture } from './helpers';
import { startDynalite } from '../support/dynalite';

const NUMBER = '+815031234567';

/**
 * A stand-in for a deployment broken in ways the real local app cannot be, used only by the tests that need
 * exactly that: a site whose config.json points at another API (the local app derives config.json from the
 * address it is reached at), a fallback TwiML that is not TwiML, and webhooks answering 502 (API Gateway's bad
 * gateway; the local app answers a crash with 500 and TwiML). Everything else runs against the real local app
 * (`startLocalApp`).
 */
class StandInDeployment {
  url = '';
  authToken = () => '';
  webhookStatus = 200;
  webhookTwiml =
    '<?xml version="1.0" encoding="UTF-8"?><Response><Say language="en-US">Sorry, this number cannot take calls.</Say><Hangup/></Response>';
  configApiBaseUrl: string | undefined;
  /** `/fallback.xml`: the site's real fallback TwiML unless a test breaks it */
  fallback = { contentType: 'application/xml', body: fallbackTwiml() };
  private server?: http.Server;

  get apiBase(): string {
    return `${this.url}/prod`;
  }

  async start(): Promise<this> {
    this.server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
        if (req.method === 'POST' && /^\/prod\/twilio\/retrieve_twiml\/call_(incoming|outgoing)$/.test(path)) {
          const form = Object.fromEntries(new URLSearchParams(body));
          const signature = String(req.headers['x-twilio-signature'] ?? '');
          if (!validateRequest(this.authToken(), signature, `${this.url}${path}`, form)) {
            res.writeHead(403, { 'Content-Type': 'application/json' });
            res.end();
            return;
          }
          res.writeHead(this.webhookStatus, { 'Content-Type': 'text/xml' });
          res.end(this.webhookTwiml);
          return;
        }
        if (req.method === 'GET' && (path === '/' || path === '/index.html')) {
          res.writeHead(200, { 'Content-Type': 'text/html' });
          res.end('<!doctype html><html><head><title>Softphone</title></head><body></body></html>');
          return;
        }
        if (req.method === 'GET' && path === '/fallback.xml') {
          res.writeHead(200, { 'Content-Type': this.fallback.contentType });
          res.end(this.fallback.body);
          return;
        }
        if (req.method === 'GET' && path === '/config.json') {
          res.writeHead(200, { 'Content-Type': 'application/json' });
          res.end(JSON.stringify({ apiBaseUrl: this.configApiBaseUrl ?? this.apiBase }));
          return;
        }
        res.writeHead(404);
        res.end();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }
}

/** The real softphone, built once for every app of this file. */
let siteDir: string;
beforeAll(async () => {
  siteDir = await mkdtemp(path.join(tmpdir(), 'doctor-site-'));
  await buildClient({ outdir: siteDir });
});
afterAll(async () => {
  await rm(siteDir, { recursive: true, force: true });
});

let fake: FakeTwilio;
let app: LocalApp;
let standIn: StandInDeployment | undefined;
let aws: AwsFixture | undefined;
let workDir: string;
/** The doctor's POSTs, observed on their way out (the real app answers them). */
let posts: { path: string; signature: string; form: Record<string, string> }[];

beforeEach(async () => {
  fake = await new FakeTwilio().start();
  workDir = await mkdtemp(path.join(tmpdir(), 'doctor-'));
  posts = [];
});
afterEach(async () => {
  expect(fake.contractViolations).toEqual([]);
  await fake.stop();
  await app?.close();
  await standIn?.stop();
  standIn = undefined;
  await aws?.close();
  aws = undefined;
  await rm(workDir, { recursive: true, force: true });
});

/** The account's credentials as the deployed functions get them: the webhooks check signatures with `authToken`. */
function appCredentials(authToken: string): TwilioCredentials {
  return {
    accountSid: fake.accountSid,
    apiKeySid: `SK${'1'.repeat(32)}`,
    apiKeySecret: 'doctor-test-api-key-secret',
    authToken,
    twimlAppSid: `AP${'2'.repeat(32)}`,
  };
}

/**
 * Deploys the real local app (port 0, its own registry, the real softphone) and stack outputs pointing at it:
 * the API at `app.apiBaseUrl`, the site at `app.url`, unless a test points either at a stand-in.
 */
async function deploy(opts: { authToken?: string; env?: NodeJS.ProcessEnv; apiBase?: string; siteUrl?: string } = {}): Promise<void> {
  app = await startLocalApp({
    port: 0,
    registryPath: path.join(workDir, 'registry'),
    clientDir: siteDir,
    credentials: appCredentials(opts.authToken ?? fake.authToken),
    env: opts.env ?? {},
    log: () => {},
  });
  aws = await awsFixture(outputsFor(opts.apiBase ?? app.apiBaseUrl, opts.siteUrl ?? `${app.url}/`));
}

const recordingFetch: typeof fetch = async (input, init) => {
  if (init?.method === 'POST') {
    posts.push({
      path: new URL(String(input)).pathname,
      signature: new Headers(init.headers).get('x-twilio-signature') ?? '',
      form: Object.fromEntries(new URLSearchParams(String(init.body))),
    });
  }
  return fetch(input, init);
};

function deps(): DoctorDeps {
  return {
    cfn: aws!.cfn,
    secrets: aws!.secrets,
    sns: aws!.sns,
    cloudwatch: aws!.cloudwatch,
    twilio: twilioClientFactory({ apiBaseUrl: fake.url }),
    registry: () => app.lines,
    fetch: recordingFetch,
    timeoutMs: 5000,
  };
}

/** `twilio:setup` for NUMBER, and NUMBER registered as a device in the app's registry. */
async function setUp(): Promise<void> {
  fake.seedNumber(NUMBER);
  const code = await runSetup(
    { accountSid: fake.accountSid, authToken: fake.authToken, stackName: STACK, numbers: [{ number: NUMBER }], registerDevices: false, yes: true },
    { cfn: aws!.cfn, secrets: aws!.secrets, twilio: twilioClientFactory({ apiBaseUrl: fake.url }), sleep: async () => {} },
    new RecordingIO(),
  );
  expect(code).toBe(0);
  await addDevice(app.lines, { number: NUMBER, clientName: 'alice' });
}

async function doctor(opts: { stackName?: string } = {}) {
  const io = new RecordingIO();
  const code = await runDoctor({ stackName: opts.stackName ?? STACK, region: aws!.standIn.region }, deps(), io);
  return { code, lines: io.lines, text: io.text };
}

describe('doctor against the real local app', () => {
  test('a healthy deployment: every check passes, one line each, exit 0', async () => {
    await deploy();
    await setUp();
    const { code, lines, text } = await doctor();
    expect(code).toBe(0);
    const checkLines = lines.filter((l) => /^[✔✘] /.test(l));
    expect(checkLines.every((l) => l.startsWith('✔ '))).toBe(true);
    expect(checkLines.map((l) => l.replace(/ — .*/, ''))).toEqual([
      `✔ stack ${STACK} has every output`,
      `✔ secret ${SECRET_NAME} exists and has every field`,
      `✔ Twilio accepts account ${fake.accountSid} with the stored auth token`,
      expect.stringMatching(/^✔ API key SK[0-9a-f]{32} exists and its secret is accepted$/),
      expect.stringMatching(/^✔ TwiML App AP[0-9a-f]{32} exists$/),
      '✔ TwiML App voice URL points at this stack',
      "✔ TwiML App fallback URL is the site's fallback TwiML",
      '✔ TwiML App status callback reports to the call log',
      expect.stringMatching(/^✔ "Test my setup" TwiML App AP[0-9a-f]{32} exists$/),
      '✔ "Test my setup" TwiML App voice URL is the preflight webhook',
      '✔ device registry TwilioSoftphoneStack-Devices is readable',
      `✔ ${NUMBER} belongs to account ${fake.accountSid}`,
      `✔ ${NUMBER} voice URL points at this stack`,
      `✔ ${NUMBER} fallback URL is the site's fallback TwiML`,
      `✔ ${NUMBER} status callback reports to the call log`,
      '✔ call_incoming: a signed request for an unregistered number (+15005550006) answers with TwiML',
      '✔ call_incoming: an unsigned request is refused with 403',
      '✔ call_outgoing: a signed request for an unregistered client (doctor-probe-unregistered) answers with TwiML',
      '✔ call_outgoing: an unsigned request is refused with 403',
      `✔ call_incoming: a signed request for a registered number (${NUMBER}) answers with TwiML`,
      '✔ call_outgoing: a signed request for a registered client (alice) calling its own number answers with TwiML',
      `✔ softphone ${app.url}/ serves the page`,
      `✔ fallback TwiML ${app.url}/fallback.xml answers TwiML`,
      '✔ softphone config.json points at this API',
      `✔ alarm topic ${aws!.alarmTopicArn} exists`,
      '✔ alarm topic has a confirmed subscription',
      "✔ the stack's alarms notify the alarm topic",
    ]);
    // the "Test my setup" app calls the app's own preflight route; the topic mails someone; the alarms are the stack's
    expect(text).toContain(`✔ "Test my setup" TwiML App voice URL is the preflight webhook — POST ${app.apiBaseUrl}/twilio/retrieve_twiml/preflight`);
    expect(text).toContain(`✔ alarm topic has a confirmed subscription — ${ALARM_EMAIL}`);
    expect(text).toContain(
      `✔ the stack's alarms notify the alarm topic — ${ALARM_IDS.length} alarms: ${ALARM_IDS.length} OK, 0 ALARM, 0 INSUFFICIENT_DATA`,
    );
    // what no API can check is said once, with where to set it and the exact URL
    expect(lines.filter((l) => l.startsWith('? '))).toEqual([
      `? Twilio Debugger webhook (Twilio's API cannot read or set it) — in the Twilio Console, open Monitor → Logs → Errors → Webhook (the Debugger's webhook) and set the Webhook URL to ${app.apiBaseUrl}/twilio/debugger_events, then Save: Twilio then posts every error and warning of the account there (signed with the Auth Token), and the stack counts them as the TwilioAlerts metric`,
    ]);
    // the fallback set by setup is the file the site serves (client/build.ts writes it), fetched with GET
    expect(text).toContain(`✔ TwiML App fallback URL is the site's fallback TwiML — GET ${app.url}/fallback.xml`);
    expect(text).toContain(`✔ ${NUMBER} fallback URL is the site's fallback TwiML — GET ${app.url}/fallback.xml`);
    // the status callbacks setup set are the app's own call-status route, posted to
    expect(text).toContain(`✔ TwiML App status callback reports to the call log — POST ${app.routeUrls.callStatus}`);
    expect(text).toContain(`✔ ${NUMBER} status callback reports to the call log — POST ${app.apiBaseUrl}/twilio/call_status`);
    expect(text).toContain('All 27 checks passed.');
    expect(text).not.toContain('fix:');

    // the probes were signed for exactly the stack's webhook URLs (the app accepted them), and doctor changed nothing at Twilio
    const signed = posts.filter((r) => r.signature !== '');
    expect(signed.map((r) => r.path)).toEqual([
      '/prod/twilio/retrieve_twiml/call_incoming',
      '/prod/twilio/retrieve_twiml/call_outgoing',
      '/prod/twilio/retrieve_twiml/call_incoming',
      '/prod/twilio/retrieve_twiml/call_outgoing',
    ]);
    expect(signed[0].form).toMatchObject({ AccountSid: fake.accountSid, To: '+15005550006', Called: '+15005550006' });
    // the registered device's probes ring its client and dial out with its own caller ID (no call is placed)
    expect(signed[2].form).toMatchObject({ To: NUMBER, Called: NUMBER });
    expect(signed[3].form).toMatchObject({ From: 'client:alice', callOutgoingPhoneNumber: NUMBER });
  });

  test('a broken deployment: each failure is a ✘ line with a fix, exit 1', async () => {
    // the site is the stand-in: its config.json points at another API, its fallback TwiML is an HTML page
    standIn = await new StandInDeployment().start();
    standIn.configApiBaseUrl = 'https://other.execute-api.us-east-1.amazonaws.com/prod';
    standIn.fallback = { contentType: 'text/html', body: '<!doctype html><html><body>Not found</body></html>' };
    // the API is the real app, deployed with signature validation off
    await deploy({ env: { WEBHOOK_SIGNATURE_VALIDATION: 'off' }, siteUrl: `${standIn.url}/` });
    await setUp();
    const secret = JSON.parse(aws!.secretValue()!) as Record<string, string>;
    // break things at Twilio
    const twimlApp = fake.applications.get(secret.twimlAppSid)!;
    twimlApp.voice_url = 'https://old.example.com/voice';
    twimlApp.voice_fallback_url = 'https://old.example.com/fallback.xml';
    const pn = [...fake.numbers.values()][0];
    pn.voice_url = 'https://demo.twilio.com/welcome/voice/';
    pn.voice_fallback_method = 'POST'; // the right URL, fetched the wrong way
    await addDevice(app.lines, { number: '+14155550100', clientName: 'bob' });

    const { code, text, lines } = await doctor();
    expect(code).toBe(1);
    expect(text).toContain(
      `✘ TwiML App voice URL points at this stack — is POST https://old.example.com/voice, expected POST ${app.apiBaseUrl}/twilio/retrieve_twiml/call_outgoing`,
    );
    expect(text).toContain(`✘ ${NUMBER} voice URL points at this stack — is POST https://demo.twilio.com/welcome/voice/`);
    expect(text).toContain(
      `✘ TwiML App fallback URL is the site's fallback TwiML — is GET https://old.example.com/fallback.xml, expected GET ${standIn.url}/fallback.xml: a failed or throttled webhook would play Twilio's generic error`,
    );
    expect(text).toContain(
      `✘ ${NUMBER} fallback URL is the site's fallback TwiML — is POST ${standIn.url}/fallback.xml, expected GET ${standIn.url}/fallback.xml`,
    );
    expect(text).toContain(`✘ fallback TwiML ${standIn.url}/fallback.xml answers TwiML — 200 but not TwiML (Content-Type text/html)`);
    expect(text).toContain(`    fix: run \`npm run twilio:setup -- --number ${NUMBER} --region ap-northeast-1 --yes\``);
    expect(text).toContain(`✘ +14155550100 belongs to account ${fake.accountSid} — not a phone number of this account`);
    expect(text).toContain('✘ call_incoming: an unsigned request is refused with 403 — answered HTTP 200: anyone can call this webhook');
    expect(text).toContain(
      `✘ softphone config.json points at this API — apiBaseUrl is https://other.execute-api.us-east-1.amazonaws.com/prod, expected ${app.apiBaseUrl}`,
    );
    // every ✘ line is followed by its fix
    lines.forEach((l, i) => {
      if (l.startsWith('✘ ')) expect(lines[i + 1]).toMatch(/^ {4}fix: /);
    });
    expect(text).toMatch(/9 of 28 checks failed\./);
  });

  test('status callbacks missing or wrong on the app or a number: each fails with what it is, what it should be and the setup command; after that command, doctor passes', async () => {
    await deploy();
    await setUp();
    const secret = JSON.parse(aws!.secretValue()!) as Record<string, string>;
    const expected = `${app.apiBaseUrl}/twilio/call_status`;
    // as a setup from before the call log left them: the app without a status callback
    Object.assign(fake.applications.get(secret.twimlAppSid)!, { status_callback: null, status_callback_method: 'POST' });
    const pn = [...fake.numbers.values()][0];
    // the number's callback somewhere else
    Object.assign(pn, { status_callback: 'https://old.example.com/status', status_callback_method: 'POST' });

    let r = await doctor();
    expect(r.code).toBe(1);
    const fixAfter = (line: string) => r.lines[r.lines.indexOf(line) + 1];
    const appLine = `✘ TwiML App status callback reports to the call log — is not set, expected POST ${expected}: the call log would not learn how calls made from the softphone end`;
    const numberLine = `✘ ${NUMBER} status callback reports to the call log — is POST https://old.example.com/status, expected POST ${expected}: the call log would not learn how calls to ${NUMBER} end`;
    expect(r.lines).toContain(appLine);
    expect(fixAfter(appLine)).toBe('    fix: run `npm run twilio:setup -- --region ap-northeast-1 --yes`');
    expect(r.lines).toContain(numberLine);
    expect(fixAfter(numberLine)).toBe(`    fix: run \`npm run twilio:setup -- --number ${NUMBER} --region ap-northeast-1 --yes\``);
    // nothing else is wrong: the voice URL and fallback checks of both still pass
    expect(r.lines.filter((l) => l.startsWith('✘ '))).toEqual([appLine, numberLine]);
    expect(r.text).toContain('2 of 27 checks failed.');

    // the right URL with GET is wrong too: the call-status route takes POST
    Object.assign(pn, { status_callback: expected, status_callback_method: 'GET' });
    r = await doctor();
    expect(r.text).toContain(`✘ ${NUMBER} status callback reports to the call log — is GET ${expected}, expected POST ${expected}`);

    // what the fix runs: setup puts both back, and doctor passes
    const setup = await runSetup(
      { accountSid: fake.accountSid, authToken: fake.authToken, stackName: STACK, numbers: [{ number: NUMBER }], registerDevices: false, yes: true },
      { cfn: aws!.cfn, secrets: aws!.secrets, twilio: twilioClientFactory({ apiBaseUrl: fake.url }), sleep: async () => {} },
      new RecordingIO(),
    );
    expect(setup).toBe(0);
    expect(fake.applications.get(secret.twimlAppSid)).toMatchObject({ status_callback: expected, status_callback_method: 'POST' });
    expect(pn).toMatchObject({ status_callback: expected, status_callback_method: 'POST' });
    r = await doctor();
    expect([r.code, r.text]).toEqual([0, expect.stringContaining('All 27 checks passed.')]);
  });

  test('a stack deployed before the call log (no CallsTableName output): doctor says to deploy this version, and checks nothing else', async () => {
    await deploy();
    const { CallsTableName: _omit, ...beforeCallLog } = outputsFor(app.apiBaseUrl, `${app.url}/`);
    aws!.standIn.putStack(STACK, beforeCallLog);
    const r = await doctor();
    expect(r.code).toBe(1);
    expect(r.lines.filter((l) => /^[✔✘]/.test(l))).toEqual([`✘ stack ${STACK} has every output — Stack ${STACK} has no output CallsTableName`]);
    expect(r.text).toContain(
      '    fix: it was deployed from another (e.g. an earlier) version of this app; deploy this one with `npx cdk deploy`, then re-run',
    );
    expect(fake.requests).toEqual([]);
  });

  test('a deleted API key and a rejected signature are reported', async () => {
    // the app checks signatures with another auth token than the one in the secret
    await deploy({ authToken: 'another-token-0000000000000000000' });
    await setUp();
    const secret = JSON.parse(aws!.secretValue()!) as Record<string, string>;
    fake.keys.delete(secret.apiKeySid);
    const r = await doctor();
    expect(r.code).toBe(1);
    expect(r.text).toContain(`✘ API key ${secret.apiKeySid} exists and its secret is accepted — the key does not exist (deleted?)`);
    expect(r.text).toContain('✘ call_incoming: a signed request for an unregistered number (+15005550006) answers with TwiML — 403');
  });

  test('a secret missing a field and a failing webhook are reported', async () => {
    // the API and site are the stand-in, whose webhooks answer 502; the device registry is the app's
    standIn = await new StandInDeployment().start();
    standIn.authToken = () => fake.authToken;
    standIn.webhookStatus = 502;
    await deploy({ apiBase: standIn.apiBase, siteUrl: `${standIn.url}/` });
    await setUp();
    const secret = JSON.parse(aws!.secretValue()!) as Record<string, string>;
    const { twimlAppSid: _drop, ...partial } = secret;
    await aws!.putSecret(JSON.stringify(partial));
    const r = await doctor();
    expect(r.code).toBe(1);
    expect(r.text).toContain('✘ secret TwilioSoftphoneStack-TwilioSecret-abc123 exists and has every field — twimlAppSid is missing');
    expect(r.text).toContain('    fix: run `npm run twilio:setup -- --region ap-northeast-1 --yes`');
    expect(r.text).toContain(
      '✘ call_outgoing: a signed request for an unregistered client (doctor-probe-unregistered) answers with TwiML — HTTP 502',
    );
  });

  test('webhooks answering "temporarily unavailable" fail (e.g. functions that may not read the registry)', async () => {
    // the stand-in plays a deployment whose functions lack a registry grant: the real app cannot (no IAM locally)
    standIn = await new StandInDeployment().start();
    standIn.authToken = () => fake.authToken;
    standIn.webhookTwiml = temporarilyUnavailableTwiml();
    await deploy({ apiBase: standIn.apiBase, siteUrl: `${standIn.url}/` });
    await setUp();
    const r = await doctor();
    expect(r.code).toBe(1);
    expect(r.text).toContain(
      '✘ call_outgoing: a signed request for a registered client (alice) calling its own number answers with TwiML — the function answered "temporarily unavailable": it cannot read the registry or the secret',
    );
    expect(r.text).toContain('    fix: check the function logs in CloudWatch');
  });

  test('a fresh deployment (secret with no value yet): doctor says to run setup, with the stack and region to run it for', async () => {
    await deploy();
    const r = await doctor();
    expect(r.code).toBe(1);
    expect(r.text).toContain(`✘ secret ${SECRET_NAME} exists and has every field — the secret has no value yet (a fresh deployment)`);
    expect(r.text).toContain('    fix: run `npm run twilio:setup -- --region ap-northeast-1 --yes`');
    expect(r.text).toContain('✘ Twilio checks — skipped');
    expect(r.text).not.toMatch(/redeploy|cdk deploy/);
  });

  test('no stack: deploy or point at the right one; AWS refusing the credentials is not answered with "deploy"', async () => {
    await deploy();
    let r = await doctor({ stackName: 'NoSuchStack' });
    expect(r.code).toBe(1);
    expect(r.lines.filter((l) => /^[✔✘]/.test(l))).toEqual([
      '✘ stack NoSuchStack has every output — Stack NoSuchStack not found in this account/region',
    ]);
    expect(r.text).toContain('    fix: deploy it with `npx cdk deploy`, or pass the right --stack/--region');

    aws!.standIn.fail('cloudformation', 'DescribeStacks', {
      code: 'ExpiredToken',
      message: 'The security token included in the request is expired',
      status: 403,
    });
    r = await doctor();
    expect(r.text).toContain(`✘ stack ${STACK} has every output — Could not read stack ${STACK}`);
    expect(r.text).toContain('    fix: AWS refused your credentials (ExpiredToken)');
    expect(r.text).not.toContain('cdk deploy');
  });

  test('a Standard API key is checked with a request Standard keys may make, and a refused key is told apart from Twilio being unreachable', async () => {
    await deploy();
    await setUp();
    const secret = JSON.parse(aws!.secretValue()!) as Record<string, string>;
    let r = await doctor();
    expect(r.code).toBe(0);
    // the key itself only ever fetched the TwiML App (Twilio refuses Standard keys the Account and Keys resources)
    expect(fake.requests.filter((q) => q.user === secret.apiKeySid).map((q) => `${q.method} ${q.path} ${q.status}`)).toEqual(
      expect.arrayContaining([`GET /2010-04-01/Accounts/${fake.accountSid}/Applications/${secret.twimlAppSid}.json 200`]),
    );

    fake.fail('GET', /\/Applications\/AP[0-9a-f]{32}\.json$/, 503, 1);
    r = await doctor();
    expect(r.text).toContain(
      `✘ API key ${secret.apiKeySid} exists and its secret is accepted — could not ask Twilio about API key ${secret.apiKeySid}: HTTP 503`,
    );
    expect(r.text).toContain("    fix: check your network (and TWILIO_API_BASE_URL if set) and Twilio's status, then re-run");

    await aws!.putSecret(JSON.stringify({ ...secret, apiKeySecret: 'not-the-secret-of-this-key' }));
    r = await doctor();
    expect(r.text).toContain(
      `✘ API key ${secret.apiKeySid} exists and its secret is accepted — the key exists but Twilio refuses the stored secret (HTTP 401)`,
    );
    expect(r.text).toContain('    fix: run `npm run twilio:setup -- --region ap-northeast-1 --yes` (it creates a new key)');
  });

  test('an unreachable site is a failure, not a crash', async () => {
    await deploy();
    await setUp();
    await app.close();
    const r = await doctor();
    expect(r.code).toBe(1);
    expect(r.text).toMatch(/✘ softphone http:\/\/127\.0\.0\.1:\d+\/ serves the page — /);
    expect(r.text).toMatch(/✘ fallback TwiML http:\/\/127\.0\.0\.1:\d+\/fallback\.xml answers TwiML — /);
  });
});

describe('doctor: the "Test my setup" TwiML App', () => {
  const SETUP_FIX = '    fix: run `npm run twilio:setup -- --region ap-northeast-1 --yes`';

  test('missing from the secret, deleted, or pointing elsewhere: each fails with the setup command; after it, doctor passes', async () => {
    await deploy();
    await setUp();
    const secret = JSON.parse(aws!.secretValue()!) as Record<string, string>;
    const preflight = `${app.apiBaseUrl}/twilio/retrieve_twiml/preflight`;
    expect(fake.applications.get(secret.preflightTwimlAppSid)).toMatchObject({ voice_url: preflight, voice_method: 'POST' });
    const failures = (r: { lines: string[] }) => r.lines.filter((l) => l.startsWith('✘ '));
    const fixOf = (r: { lines: string[] }, line: string) => r.lines[r.lines.indexOf(line) + 1];

    // pointing elsewhere (edited in the console)
    Object.assign(fake.applications.get(secret.preflightTwimlAppSid)!, { voice_url: 'https://old.example.com/echo', voice_method: 'POST' });
    let r = await doctor();
    const elsewhere = `✘ "Test my setup" TwiML App voice URL is the preflight webhook — is POST https://old.example.com/echo, expected POST ${preflight}`;
    expect([r.code, failures(r)]).toEqual([1, [elsewhere]]);
    expect(fixOf(r, elsewhere)).toBe(`${SETUP_FIX}`);
    expect(r.text).toContain('1 of 27 checks failed.');

    // deleted
    fake.applications.delete(secret.preflightTwimlAppSid);
    r = await doctor();
    const deleted = `✘ "Test my setup" TwiML App ${secret.preflightTwimlAppSid} exists — the app does not exist (deleted?)`;
    expect(failures(r)).toEqual([deleted]);
    expect(fixOf(r, deleted)).toBe(`${SETUP_FIX} (it creates the app again)`);

    // a secret written before the preflight test (no preflightTwimlAppSid): the secret itself is still complete
    const { preflightTwimlAppSid: _gone, ...before } = secret;
    await aws!.putSecret(JSON.stringify(before));
    r = await doctor();
    const unnamed = `✘ the secret names the "Test my setup" TwiML App — the secret has no preflightTwimlAppSid: the softphone's "Test my setup" cannot get a token`;
    expect(failures(r)).toEqual([unnamed]);
    expect(fixOf(r, unnamed)).toBe(`${SETUP_FIX} (it creates the app and records it in the secret)`);
    expect(r.text).toContain(`✔ secret ${SECRET_NAME} exists and has every field`);
    expect(r.text).toContain('1 of 26 checks failed.');

    // the fix, as printed
    const code = await runSetup(
      { accountSid: fake.accountSid, authToken: fake.authToken, stackName: STACK, numbers: [], registerDevices: false, yes: true },
      { cfn: aws!.cfn, secrets: aws!.secrets, twilio: twilioClientFactory({ apiBaseUrl: fake.url }), sleep: async () => {} },
      new RecordingIO(),
    );
    expect(code).toBe(0);
    r = await doctor();
    expect([r.code, r.text]).toEqual([0, expect.stringContaining('All 27 checks passed.')]);
  });
});

describe("doctor: operations (the alarm topic, its subscription, the stack's alarms)", () => {
  /** Points the stack's AlarmTopicArn output at another topic (or drops it), as a deployment of that shape would. */
  function repoint(operations: { AlarmTopicArn?: string; DashboardName?: string }) {
    aws!.standIn.putStack(STACK, { ...outputsFor(app.apiBaseUrl, `${app.url}/`), ...operations });
  }
  const opsLines = (r: { lines: string[] }) =>
    r.lines.filter((l) => /^[✔✘!] (alarm|the stack's alarms)/.test(l) || /^ {4}fix: .*(alarm|sns|cdk)/.test(l));

  test('an alarm in ALARM is a warning line, not a failure', async () => {
    await deploy();
    await setUp();
    aws!.standIn.setAlarmState(`${STACK}-toll-fraud-refusals`, 'ALARM', 'Threshold Crossed: 1 out of the last 1 datapoints [4.0] was >= 3.0');
    aws!.standIn.setAlarmState(`${STACK}-twilio-errors`, 'INSUFFICIENT_DATA');
    const r = await doctor();
    expect(r.code).toBe(0);
    expect(opsLines(r)).toEqual([
      `✔ alarm topic ${aws!.alarmTopicArn} exists`,
      `✔ alarm topic has a confirmed subscription — ${ALARM_EMAIL}`,
      `✔ the stack's alarms notify the alarm topic — ${ALARM_IDS.length} alarms: ${ALARM_IDS.length - 2} OK, 1 ALARM, 1 INSUFFICIENT_DATA`,
      `! alarm ${STACK}-toll-fraud-refusals is in ALARM — Threshold Crossed: 1 out of the last 1 datapoints [4.0] was >= 3.0 (its description says what to do first; see the dashboard)`,
    ]);
    expect(r.text).toContain('All 27 checks passed (1 warning).');
  });

  test('no subscription, pending ones only, no alarms, too few, a deleted topic, an old stack: each fails with its fix', async () => {
    await deploy();
    await setUp();
    const region = aws!.standIn.region;

    // nobody subscribed (deployed without -c alarmEmails)
    repoint(deployOperations(aws!.standIn, { name: 'NoSubscribers', subscribers: [] }));
    let r = await doctor();
    expect(r.code).toBe(1);
    expect(opsLines(r)).toEqual([
      expect.stringMatching(/^✔ alarm topic arn:aws:sns:ap-northeast-1:\d{12}:NoSubscribers exists$/),
      '✘ alarm topic has a confirmed subscription — nobody is subscribed: the alarms notify no one',
      '    fix: deploy with the addresses to alert: `npx cdk deploy -c alarmEmails=you@example.com` (comma-separated), then confirm the subscription with the link in the e-mail AWS sends ("AWS Notification - Subscription Confirmation")',
      `✔ the stack's alarms notify the alarm topic — ${ALARM_IDS.length} alarms: ${ALARM_IDS.length} OK, 0 ALARM, 0 INSUFFICIENT_DATA`,
    ]);
    expect(r.text).toContain('1 of 27 checks failed.');

    // subscribed, never confirmed
    const pendingTopic = deployOperations(aws!.standIn, {
      name: 'Pending',
      subscribers: [
        { email: 'late@example.com', confirmed: false },
        { email: 'boss@example.com', confirmed: false },
      ],
    });
    repoint(pendingTopic);
    r = await doctor();
    expect(opsLines(r).slice(1, 3)).toEqual([
      '✘ alarm topic has a confirmed subscription — only pending ones: late@example.com, boss@example.com never confirmed (SNS lists them as PendingConfirmation): the alarms notify no one',
      `    fix: confirm with the link in the e-mail AWS sent to late@example.com ("AWS Notification - Subscription Confirmation"; look in the spam folder too); lost, or its link expired (after 3 days)? have it sent again: \`aws sns subscribe --topic-arn ${pendingTopic.AlarmTopicArn} --protocol email --notification-endpoint late@example.com --region ${region}\``,
    ]);
    // one confirmation is enough; the other is named as still pending
    aws!.standIn.confirmSubscription(pendingTopic.AlarmTopicArn, 'boss@example.com');
    r = await doctor();
    expect(r.code).toBe(0);
    expect(r.text).toContain('✔ alarm topic has a confirmed subscription — boss@example.com; not confirmed yet: late@example.com');

    // no alarm sends to the topic (deleted by hand), then fewer than a deployment makes
    repoint(deployOperations(aws!.standIn, { name: 'NoAlarms', alarms: 0 }));
    r = await doctor();
    expect(opsLines(r).slice(2)).toEqual([
      "✘ the stack's alarms notify the alarm topic — no alarm sends to the topic, expected at least 12: failures would go unnoticed",
      '    fix: deploy again (`npx cdk deploy`): it creates the alarms (deleted ones too)',
    ]);
    repoint(deployOperations(aws!.standIn, { name: 'FewAlarms', alarms: 3 }));
    r = await doctor();
    expect(r.text).toContain("✘ the stack's alarms notify the alarm topic — only 3 alarms send to the topic, expected at least 12");

    // the topic itself is gone
    const gone = deployOperations(aws!.standIn, { name: 'Gone' });
    aws!.standIn.deleteTopic(gone.AlarmTopicArn);
    repoint(gone);
    r = await doctor();
    expect(opsLines(r)).toEqual([
      `✘ alarm topic ${gone.AlarmTopicArn} exists — the topic does not exist (deleted outside CloudFormation?)`,
      "    fix: deploy again (`npx cdk deploy`); the stack's alarms notify nobody until then",
    ]);
    expect(r.text).toContain('1 of 25 checks failed.');

    // a stack of an earlier release: no AlarmTopicArn output; everything else is still checked
    repoint({});
    r = await doctor();
    expect(r.code).toBe(1);
    expect(r.lines.filter((l) => l.startsWith('✘ '))).toEqual([
      `✘ alarm topic (stack output AlarmTopicArn) exists — stack ${STACK} has no output AlarmTopicArn: it was deployed from an earlier release of this app, without alarms`,
    ]);
    expect(r.text).toContain(
      '    fix: deploy with the addresses to alert: `npx cdk deploy -c alarmEmails=you@example.com` (comma-separated), confirm the subscription from the e-mail AWS sends, then re-run',
    );
    expect(r.text).toContain(`✔ stack ${STACK} has every output`);
    expect(r.text).toContain('✔ softphone config.json points at this API');
    expect(r.text).toContain('1 of 25 checks failed.');
  });

  test('long lists are read to the end: 101 subscriptions (the confirmed one last) and 120 alarms (two DescribeAlarms pages)', async () => {
    await deploy();
    await setUp();
    const big = deployOperations(aws!.standIn, {
      name: 'Big',
      subscribers: [
        ...Array.from({ length: 100 }, (_, i) => ({ email: `p${i}@example.com`, confirmed: false })),
        { email: 'last@example.com', confirmed: true },
      ],
      alarms: 120,
    });
    repoint(big);
    const before = aws!.standIn.requests.length;
    const r = await doctor();
    expect(r.code).toBe(0);
    expect(r.text).toContain(
      '✔ alarm topic has a confirmed subscription — last@example.com; not confirmed yet: p0@example.com, p1@example.com, p2@example.com, p3@example.com, p4@example.com and 95 more\n',
    );
    expect(r.text).toContain("✔ the stack's alarms notify the alarm topic — 120 alarms: 120 OK, 0 ALARM, 0 INSUFFICIENT_DATA");
    const ops = aws!.standIn.requests.slice(before).filter((q) => q.service === 'sns' || q.service === 'cloudwatch');
    expect(ops).toEqual([
      { service: 'sns', action: 'ListSubscriptionsByTopic', status: 200 },
      { service: 'sns', action: 'ListSubscriptionsByTopic', status: 200 },
      { service: 'cloudwatch', action: 'DescribeAlarms', status: 200 },
      { service: 'cloudwatch', action: 'DescribeAlarms', status: 200 },
    ]);
  });

  test('AWS refusing SNS or CloudWatch is told as a permission to add, not as something to deploy', async () => {
    await deploy();
    await setUp();
    aws!.standIn.fail('sns', 'ListSubscriptionsByTopic', {
      code: 'AuthorizationError',
      message: `User: arn:aws:iam::123456789012:user/ops is not authorized to perform: SNS:ListSubscriptionsByTopic on resource: ${aws!.alarmTopicArn}`,
      status: 403,
    });
    let r = await doctor();
    expect(opsLines(r)).toEqual([
      expect.stringMatching(
        new RegExp(
          `^✘ alarm topic ${aws!.alarmTopicArn} exists — AuthorizationErrorException: .*is not authorized to perform: SNS:ListSubscriptionsByTopic`,
        ),
      ),
      '    fix: your AWS credentials are not allowed sns:ListSubscriptionsByTopic on it: use credentials that are',
    ]);
    aws!.standIn.fail('cloudwatch', 'DescribeAlarms', {
      code: 'AccessDenied',
      message: 'User: arn:aws:iam::123456789012:user/ops is not authorized to perform: cloudwatch:DescribeAlarms',
      status: 403,
    });
    r = await doctor();
    expect(r.text).toContain("✘ the stack's alarms notify the alarm topic — AccessDenied: ");
    expect(r.text).toContain('    fix: your AWS credentials are not allowed cloudwatch:DescribeAlarms: use credentials that are');
    expect(r.text).not.toContain('cdk deploy');
  });

  test('MIN_STACK_ALARMS is one per rule of the operations construct (each rule alarms at least once)', async () => {
    const { ALARM_THRESHOLDS } = await import('../../lib/constructs/operations');
    expect(MIN_STACK_ALARMS).toBe(Object.keys(ALARM_THRESHOLDS).length);
    expect(ALARM_IDS.length).toBeGreaterThanOrEqual(MIN_STACK_ALARMS);
  });
});

describe('doctor with the real registry (the DynamoDB line directory over dynalite)', () => {
  test('registered numbers are read from the registry of lines and each line is checked at Twilio once', async () => {
    const db = await startDynalite();
    try {
      const registry = db.lines;
      await deploy();
      await setUp();
      await registry.put({ phoneNumber: NUMBER, clientName: 'alice', secretHash: 'not-a-real-hash', createdAt: new Date().toISOString() });
      await registry.put({ phoneNumber: NUMBER, clientName: 'carol', secretHash: 'not-a-real-hash', createdAt: new Date().toISOString() });
      await registry.put({ phoneNumber: '+14155550100', clientName: 'bob', secretHash: 'not-a-real-hash', createdAt: new Date().toISOString() });
      const io = new RecordingIO();
      const code = await runDoctor({ stackName: STACK, region: aws!.standIn.region }, { ...deps(), registry: () => registry }, io);
      expect(code).toBe(1);
      expect(io.text).toContain('✔ device registry TwilioSoftphoneStack-Devices is readable — 2 line(s), 3 device(s)');
      // a line of two devices is one number at Twilio: checked once
      expect(io.lines.filter((l) => l.startsWith(`✔ ${NUMBER} belongs to account ${fake.accountSid}`))).toHaveLength(1);
      expect(io.lines.filter((l) => l.startsWith(`✔ ${NUMBER} voice URL points at this stack`))).toHaveLength(1);
      expect(io.text).toContain(`✔ ${NUMBER} voice URL points at this stack`);
      expect(io.text).toContain(`✔ ${NUMBER} fallback URL is the site's fallback TwiML`);
      expect(io.text).toContain(`✘ +14155550100 belongs to account ${fake.accountSid} — not a phone number of this account`);
      expect(io.text).toContain(
        "fix: buy or port +14155550100 in the Twilio console, or remove its line's device (`npm run device -- remove --client bob --table TwilioSoftphoneStack-Devices --region ap-northeast-1`)",
      );
    } finally {
      await db.close();
    }
  });
});

describe('doctor helpers', () => {
  test('isTwimlDocument', () => {
    expect(isTwimlDocument('<?xml version="1.0" encoding="UTF-8"?><Response><Dial><Client>alice</Client></Dial></Response>')).toBe(true);
    expect(isTwimlDocument('<Response/>')).toBe(true);
    expect(isTwimlDocument('<Response><Say>hi</Say><Hangup/></Response>\n')).toBe(true);
    expect(isTwimlDocument('<Response><Say>hi</Response>')).toBe(false);
    expect(isTwimlDocument('{"message":"Internal server error"}')).toBe(false);
    expect(isTwimlDocument('')).toBe(false);
  });

  test('configJsonUrl', () => {
    expect(configJsonUrl('https://d1.cloudfront.net')).toBe('https://d1.cloudfront.net/config.json');
    expect(configJsonUrl('https://d1.cloudfront.net/')).toBe('https://d1.cloudfront.net/config.json');
    expect(configJsonUrl('https://d1.cloudfront.net/index.html')).toBe('https://d1.cloudfront.net/config.json');
    expect(configJsonUrl('https://example.com/phone')).toBe('https://example.com/phone/config.json');
  });
});
