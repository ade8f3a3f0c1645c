import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { validateRequest } from 'twilio/lib/webhooks/webhooks';
import { configJsonUrl, isTwimlDocument, runDoctor, type DoctorDeps } from '../../lib/ops/doctor';
import { runSetup } from '../../lib/ops/setup';
import { twilioClientFactory } from '../../lib/ops/twilio-client';
import { FakeTwilio } from './fake-twilio';
import { DynamoRegistry } from '../../lambda/core/registry';
import { awsFixture, outputsFor, RecordingIO, SECRET_NAME, STACK, startDynalite, type AwsFixture } from './helpers';

const NUMBER = '+815031234567';

/** A minimal stand-in for the deployed API and site on 127.0.0.1, with switches to misbehave. */
class FakeDeployment {
  url = '';
  authToken = () => '';
  acceptUnsigned = false;
  webhookStatus = 200;
  configApiBaseUrl: string | undefined;
  requests: { path: string; signature: string; form: Record<string, string> }[] = [];
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
          this.requests.push({ path, signature, form });
          const valid = validateRequest(this.authToken(), signature, `${this.url}${path}`, form);
          if (!valid && !this.acceptUnsigned) {
            res.writeHead(403, { 'Content-Type': 'application/json' });
            res.end();
            return;
          }
          res.writeHead(this.webhookStatus, { 'Content-Type': 'text/xml' });
          res.end('<?xml version="1.0" encoding="UTF-8"?><Response><Say language="en-US">Sorry, this number cannot take calls.</Say><Hangup/></Response>');
          return;
        }
        if (req.method === 'GET' && (path === '/' || path === '/index.html')) {
          res.writeHead(200, { 'Content-Type': 'text/html' });
          res.end('<!doctype html><html><head><title>Softphone</title></head><body></body></html>');
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

let fake: FakeTwilio;
let site: FakeDeployment;
let aws: AwsFixture;
let devices: { phoneNumber: string; clientName: string }[];

beforeEach(async () => {
  fake = await new FakeTwilio().start();
  site = await new FakeDeployment().start();
  site.authToken = () => fake.authToken;
  aws = awsFixture(outputsFor(site.apiBase, `${site.url}/`));
  devices = [];
});
afterEach(async () => {
  await fake.stop();
  await site.stop();
  aws.cfnMock.restore();
  aws.smMock.restore();
});

function deps(): DoctorDeps {
  return {
    cfn: aws.cfn,
    secrets: aws.secrets,
    twilio: twilioClientFactory({ apiBaseUrl: fake.url }),
    registry: () => ({ list: async () => devices }),
    timeoutMs: 5000,
  };
}

async function setUp(): Promise<void> {
  fake.seedNumber(NUMBER);
  const code = await runSetup(
    { accountSid: fake.accountSid, authToken: fake.authToken, stackName: STACK, numbers: [{ number: NUMBER }], registerDevices: false, yes: true },
    { cfn: aws.cfn, secrets: aws.secrets, twilio: twilioClientFactory({ apiBaseUrl: fake.url }), sleep: async () => {} },
    new RecordingIO(),
  );
  expect(code).toBe(0);
  devices.push({ phoneNumber: NUMBER, clientName: 'alice' });
}

async function doctor() {
  const io = new RecordingIO();
  const code = await runDoctor({ stackName: STACK }, deps(), io);
  return { code, lines: io.lines, text: io.text };
}

describe('doctor', () => {
  test('a healthy deployment: every check passes, one line each, exit 0', async () => {
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
      '✔ device registry TwilioSoftphoneStack-Devices is readable',
      `✔ ${NUMBER} belongs to account ${fake.accountSid}`,
      `✔ ${NUMBER} voice URL points at this stack`,
      '✔ call_incoming: a signed request for an unregistered number (+15005550006) answers with TwiML',
      '✔ call_incoming: an unsigned request is refused with 403',
      '✔ call_outgoing: a signed request for an unregistered client (doctor-probe-unregistered) answers with TwiML',
      '✔ call_outgoing: an unsigned request is refused with 403',
      `✔ softphone ${site.url}/ serves the page`,
      '✔ softphone config.json points at this API',
    ]);
    expect(text).toContain('All 15 checks passed.');
    expect(text).not.toContain('fix:');

    // the probes were signed for exactly the stack's webhook URLs, and doctor changed nothing at Twilio
    const signed = site.requests.filter((r) => r.signature !== '');
    expect(signed.map((r) => r.path)).toEqual(['/prod/twilio/retrieve_twiml/call_incoming', '/prod/twilio/retrieve_twiml/call_outgoing']);
    expect(signed[0].form).toMatchObject({ AccountSid: fake.accountSid, To: '+15005550006', Called: '+15005550006' });
  });

  test('a broken deployment: each failure is a ✘ line with a fix, exit 1', async () => {
    await setUp();
    const secret = JSON.parse(aws.secret.value!) as Record<string, string>;
    // break things at Twilio
    fake.applications.get(secret.twimlAppSid)!.voice_url = 'https://old.example.com/voice';
    const pn = [...fake.numbers.values()][0];
    pn.voice_url = 'https://demo.twilio.com/welcome/voice/';
    devices.push({ phoneNumber: '+14155550100', clientName: 'bob' });
    // and at the deployment
    site.acceptUnsigned = true;
    site.configApiBaseUrl = 'https://other.execute-api.us-east-1.amazonaws.com/prod';

    const { code, text, lines } = await doctor();
    expect(code).toBe(1);
    expect(text).toContain(
      `✘ TwiML App voice URL points at this stack — is POST https://old.example.com/voice, expected POST ${site.apiBase}/twilio/retrieve_twiml/call_outgoing`,
    );
    expect(text).toContain(`✘ ${NUMBER} voice URL points at this stack — is POST https://demo.twilio.com/welcome/voice/`);
    expect(text).toContain(`    fix: run \`npm run twilio:setup -- --number ${NUMBER}\``);
    expect(text).toContain(`✘ +14155550100 belongs to account ${fake.accountSid} — not a phone number of this account`);
    expect(text).toContain('✘ call_incoming: an unsigned request is refused with 403 — answered HTTP 200: anyone can call this webhook');
    expect(text).toContain(`✘ softphone config.json points at this API — apiBaseUrl is https://other.execute-api.us-east-1.amazonaws.com/prod, expected ${site.apiBase}`);
    // every ✘ line is followed by its fix
    lines.forEach((l, i) => {
      if (l.startsWith('✘ ')) expect(lines[i + 1]).toMatch(/^ {4}fix: /);
    });
    expect(text).toMatch(/6 of 16 checks failed\./);
  });

  test('a deleted API key, a secret missing a field, a rejected signature and a failing webhook are reported', async () => {
    await setUp();
    const secret = JSON.parse(aws.secret.value!) as Record<string, string>;
    fake.keys.delete(secret.apiKeySid);
    site.authToken = () => 'another-token-0000000000000000000';
    let r = await doctor();
    expect(r.code).toBe(1);
    expect(r.text).toContain(`✘ API key ${secret.apiKeySid} exists and its secret is accepted — the key does not exist (deleted?)`);
    expect(r.text).toContain('✘ call_incoming: a signed request for an unregistered number (+15005550006) answers with TwiML — 403');

    site.authToken = () => fake.authToken;
    site.webhookStatus = 502;
    const { twimlAppSid: _drop, ...partial } = secret;
    aws.secret.value = JSON.stringify(partial);
    r = await doctor();
    expect(r.code).toBe(1);
    expect(r.text).toContain('✘ secret TwilioSoftphoneStack-TwilioSecret-abc123 exists and has every field — twimlAppSid is missing');
    expect(r.text).toContain('    fix: run `npm run twilio:setup`');
    expect(r.text).toContain('✘ call_outgoing: a signed request for an unregistered client (doctor-probe-unregistered) answers with TwiML — HTTP 502');
  });

  test('no secret, no stack', async () => {
    aws.secret.value = undefined;
    let r = await doctor();
    expect(r.code).toBe(1);
    expect(r.text).toContain('exists and has every field — the secret does not exist');
    expect(r.text).toContain('✘ Twilio checks — skipped');

    aws.cfnMock.reset();
    aws.cfnMock.rejects(new Error('Stack with id TwilioSoftphoneStack does not exist'));
    r = await doctor();
    expect(r.code).toBe(1);
    expect(r.lines.filter((l) => /^[✔✘]/.test(l))).toEqual([
      `✘ stack ${STACK} has every output — Stack ${STACK} not found in this account/region. Deploy it with \`npx cdk deploy\` or pass --stack/--region.`,
    ]);
  });

  test('an unreachable site is a failure, not a crash', async () => {
    await setUp();
    await site.stop();
    const r = await doctor();
    expect(r.code).toBe(1);
    expect(r.text).toMatch(/✘ softphone http:\/\/127\.0\.0\.1:\d+\/ serves the page — /);
  });
});

describe('doctor with the real registry (DynamoRegistry over dynalite)', () => {
  test('registered numbers are read from the devices table and checked at Twilio', async () => {
    const db = await startDynalite();
    try {
      const registry = new DynamoRegistry({ client: db.client, devicesTable: db.devicesTable, attemptsTable: db.attemptsTable });
      await setUp();
      await registry.put({ phoneNumber: NUMBER, clientName: 'alice', secretHash: 'not-a-real-hash', createdAt: new Date().toISOString() });
      await registry.put({ phoneNumber: '+14155550100', clientName: 'bob', secretHash: 'not-a-real-hash', createdAt: new Date().toISOString() });
      const io = new RecordingIO();
      const code = await runDoctor({ stackName: STACK }, { ...deps(), registry: () => registry }, io);
      expect(code).toBe(1);
      expect(io.text).toContain('✔ device registry TwilioSoftphoneStack-Devices is readable — 2 device(s)');
      expect(io.text).toContain(`✔ ${NUMBER} voice URL points at this stack`);
      expect(io.text).toContain(`✘ +14155550100 belongs to account ${fake.accountSid} — not a phone number of this account`);
      expect(io.text).toContain('fix: buy or port +14155550100 in the Twilio console, or remove the device');
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
