/**
 * `npm run twilio:setup` and `npm run doctor` as a user runs them, spawned through npm, against stand-ins that
 * hold the real services' contracts on 127.0.0.1: Twilio's REST API (test/support/fake-twilio.ts: Standard
 * keys refused the Account and Keys resources, every request checked against Twilio's OpenAPI description) and
 * AWS (test/support/aws-stand-in.ts: a stack as deployed, its secret with no value yet, SigV4 checked), reached
 * only through TWILIO_API_BASE_URL and AWS_ENDPOINT_URL. The webhooks and the site are the real local app.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as secretsManager from '@aws-sdk/client-secrets-manager';
import { buildClient } from '../../client/build';
import { CONTEXT_KEYS } from '../../lib/config/context';
import { startLocalApp, type LocalApp } from '../../lib/local/app';
import { LOCAL_ATTEMPTS_TABLE, LOCAL_CALLS_TABLE, LOCAL_REGISTRY_TABLE } from '../../lib/local/registry-server';
import { credentialProblems } from '../../lib/ops/aws';
import { AwsStandIn } from '../support/aws-stand-in';
import { FakeTwilio } from '../support/fake-twilio';
import { runCommand, type CommandResult } from '../support/fixtures';
import * as sns from '@aws-sdk/client-sns';
import { deployOperations, outputsFor, SECRET_NAME, STACK } from './helpers';

const ROOT = path.resolve(__dirname, '..', '..');
const NUMBER = '+815031234567';

let dir: string;
let fake: FakeTwilio;
let aws: AwsStandIn;
let app: LocalApp;

/** The user's environment: Twilio credentials, both stand-ins, nothing inherited that names Twilio or AWS. */
function userEnv(): Record<string, string> {
  const base: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(TWILIO_|SOFTPHONE_|npm_)/.test(k)) base[k] = v;
  return aws.childEnv({ TWILIO_ACCOUNT_SID: fake.accountSid, TWILIO_AUTH_TOKEN: fake.authToken, TWILIO_API_BASE_URL: fake.url }, base);
}

/** Runs a command line exactly as printed (`npm run doctor -- …`), from the repository, as the user. */
function runCommandLine(commandLine: string): Promise<CommandResult> {
  const [command, ...args] = commandLine.split(' ');
  return runCommand(command, args, { cwd: ROOT, env: userEnv() });
}

const SETUP = 'npm run twilio:setup -- --number +81-50-3123-4567 --yes';
const DOCTOR = 'npm run doctor';

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'ops-commands-'));
  await buildClient({ outdir: path.join(dir, 'site') });
}, 60_000);
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

beforeEach(async () => {
  fake = await new FakeTwilio().start();
  fake.seedNumber(NUMBER);
  // the deployment's webhooks and site: the real local app, checking signatures with the account's Auth Token
  app = await startLocalApp({
    port: 0,
    registryPath: await mkdtemp(path.join(dir, 'registry-')),
    clientDir: path.join(dir, 'site'),
    credentials: {
      accountSid: fake.accountSid,
      apiKeySid: `SK${'1'.repeat(32)}`,
      apiKeySecret: 'not-used-by-webhooks',
      authToken: fake.authToken,
      twimlAppSid: `AP${'2'.repeat(32)}`,
    },
    env: {},
    log: () => {},
  });
  // AWS: a stack as `cdk deploy` leaves it (outputs, and a secret with no value yet); its registry tables are
  // the app's own, so what the device CLI writes through AWS_ENDPOINT_URL is what the webhooks read
  aws = await AwsStandIn.start({ dynamoUpstream: app.registry });
  // the operations construct too: an alarm topic with a confirmed e-mail subscription, and the stack's alarms
  operations = deployOperations(aws);
  aws.putStack(STACK, deployedOutputs());
  aws.createSecret(SECRET_NAME);
});

let operations: { AlarmTopicArn: string; DashboardName: string };

function deployedOutputs() {
  return {
    ...outputsFor(app.apiBaseUrl, `${app.url}/`),
    DevicesTableName: LOCAL_REGISTRY_TABLE,
    AttemptsTableName: LOCAL_ATTEMPTS_TABLE,
    CallsTableName: LOCAL_CALLS_TABLE,
    ...operations,
  };
}
afterEach(async () => {
  expect(fake.contractViolations).toEqual([]);
  await app.close();
  await fake.stop();
  await aws.stop();
});

test('setup on a fresh deployment exits 0 and wires everything; a second run changes nothing; doctor then exits 0', async () => {
  const first = await runCommandLine(SETUP);
  expect([first.code, first.stderr]).toEqual([0, expect.stringContaining(`Twilio REST API: ${fake.url} (TWILIO_API_BASE_URL)`)]);
  // all six secret fields, well formed, with the key and apps that now exist at Twilio
  const secret = JSON.parse(aws.secretValue(SECRET_NAME)!) as Record<string, string>;
  expect(credentialProblems(secret)).toEqual([]);
  expect(Object.keys(secret).sort()).toEqual(['accountSid', 'apiKeySecret', 'apiKeySid', 'authToken', 'preflightTwimlAppSid', 'twimlAppSid']);
  // the "Test my setup" app calls the app's own preflight route
  expect(fake.applications.get(secret.preflightTwimlAppSid)).toMatchObject({
    friendly_name: 'twilio-softphone-aws preflight',
    voice_url: `${app.apiBaseUrl}/twilio/retrieve_twiml/preflight`,
    voice_method: 'POST',
  });
  // the one manual step, once, with the app's own debugger route
  expect(first.stdout.split('Manual step')).toHaveLength(2);
  expect(first.stdout).toContain(`set the Webhook URL to ${app.apiBaseUrl}/twilio/debugger_events, then Save`);
  expect(secret).toMatchObject({ accountSid: fake.accountSid, authToken: fake.authToken });
  expect(fake.keys.get(secret.apiKeySid)?.secret).toBe(secret.apiKeySecret);
  // the number and the TwiML App point at the stack's webhook outputs, and fall back to the site's static TwiML
  const fallback = { voice_fallback_url: `${app.url}/fallback.xml`, voice_fallback_method: 'GET' };
  expect(fake.applications.get(secret.twimlAppSid)).toMatchObject({ voice_url: app.routeUrls.callOutgoing, voice_method: 'POST', ...fallback });
  expect([...fake.numbers.values()][0]).toMatchObject({
    phone_number: NUMBER,
    voice_url: app.routeUrls.callIncoming,
    voice_method: 'POST',
    ...fallback,
  });
  // the parent calls report how they end to the app's own call-status route (the call log)
  const statusCallback = { status_callback: app.routeUrls.callStatus, status_callback_method: 'POST' };
  expect(app.routeUrls.callStatus).toBe(`${app.apiBaseUrl}/twilio/call_status`);
  expect(fake.applications.get(secret.twimlAppSid)).toMatchObject(statusCallback);
  expect([...fake.numbers.values()][0]).toMatchObject(statusCallback);
  // the new Standard key was checked the way Twilio lets Standard keys be used
  expect(fake.requests.filter((r) => r.user === secret.apiKeySid).every((r) => r.status === 200 && r.path.includes('/Applications'))).toBe(true);

  const writes = fake.writes().length;
  const versions = aws.secretVersions(SECRET_NAME);
  const second = await runCommandLine(SETUP);
  expect(second.code).toBe(0);
  expect(second.stdout).toContain('Nothing to change: everything is already set up.');
  expect(fake.writes()).toHaveLength(writes);
  expect(aws.secretVersions(SECRET_NAME)).toBe(versions);

  const doctor = await runCommandLine(DOCTOR);
  expect([doctor.code, doctor.stdout]).toEqual([0, expect.stringMatching(/All \d+ checks passed\./)]);
}, 180_000);

/** The commands in a doctor output's `fix:` lines, as printed between backticks, each once. */
function fixCommands(stdout: string): string[] {
  const commands = stdout
    .split('\n')
    .filter((l) => l.startsWith('    fix: '))
    .flatMap((l) => [...l.matchAll(/`([^`]+)`/g)].map((m) => m[1]))
    .filter((c) => /^(npm|npx|aws) /.test(c));
  return [...new Set(commands)];
}

/**
 * The AWS CLI's flags that are not the kebab-case of their request member: `aws sns subscribe` takes the
 * subscription's Endpoint as `--notification-endpoint` (the CLI's own --endpoint-url is global).
 */
const CLI_RENAMED_FLAGS: Record<string, Record<string, string>> = { sns: { '--notification-endpoint': 'Endpoint' } };

/**
 * An `aws <service> <operation> --flag value …` line is checked against the AWS SDK's own model of the operation
 * (the CLI is not installed here): the operation exists, every flag is a member of its request (or `--region`),
 * and the request's required members are given.
 */
function checkAwsCliCommand(commandLine: string): void {
  const [, service, operation, ...rest] = commandLine.split(' ');
  const models: Record<string, [unknown, string]> = { secretsmanager: [secretsManager, 'Request$'], sns: [sns, 'Input$'] };
  expect(Object.keys(models)).toContain(service);
  const [model, suffix] = models[service];
  const pascal = (kebab: string) => kebab.replace(/(^|-)([a-z])/g, (_, __, c: string) => c.toUpperCase());
  const schema = (model as Record<string, unknown>)[`${pascal(operation)}${suffix}`] as
    | [number, string, string, number, string[], unknown, number]
    | undefined;
  expect(schema).toBeDefined();
  const members = schema![4];
  const required = members.slice(0, schema![6]);
  const renamed = CLI_RENAMED_FLAGS[service] ?? {};
  const memberOf = (flag: string) => renamed[flag] ?? pascal(flag.slice(2));
  const flags: string[] = [];
  for (let i = 0; i < rest.length; i += 2) {
    expect(rest[i]).toMatch(/^--[a-z-]+$/);
    expect(rest[i + 1]).toBeDefined();
    flags.push(rest[i]);
  }
  for (const flag of flags) if (flag !== '--region') expect(members).toContain(memberOf(flag));
  for (const member of required) expect(flags.map(memberOf)).toContain(member);
}

test('every command doctor prints as a fix runs as shown, and after them doctor exits 0', async () => {
  const seen = new Set<string>();
  const doctorFixes = async () => {
    const r = await runCommandLine(DOCTOR);
    const commands = fixCommands(r.stdout);
    for (const c of commands) seen.add(c);
    return { ...r, commands };
  };

  // a fresh deployment: the fix is setup (for this region)
  let d = await doctorFixes();
  expect(d.code).toBe(1);
  expect(d.commands).toEqual([`npm run twilio:setup -- --region ${aws.region} --yes`]);
  for (const c of d.commands) expect((await runCommandLine(c)).code).toBe(0);

  // devices registered in the deployed table: the account's number, and one whose number is not the account's;
  // and the number's voice URL and status callback changed in the Twilio console
  const table = `--table ${LOCAL_REGISTRY_TABLE} --region ${aws.region}`;
  for (const add of [`--number ${NUMBER} --client alice`, '--number +14155550100 --client bob']) {
    expect((await runCommandLine(`npm run device -- add ${add} ${table}`)).code).toBe(0);
  }
  Object.assign([...fake.numbers.values()][0], { voice_url: 'https://demo.twilio.com/welcome/voice/', status_callback: '' });
  d = await doctorFixes();
  expect(d.code).toBe(1);
  expect(d.commands.sort()).toEqual(
    [`npm run device -- remove --client bob ${table}`, `npm run twilio:setup -- --number ${NUMBER} --region ${aws.region} --yes`].sort(),
  );
  for (const c of d.commands) expect([c, (await runCommandLine(c)).code]).toEqual([c, 0]);

  d = await doctorFixes();
  expect([d.code, d.stdout]).toEqual([0, expect.stringMatching(/All \d+ checks passed\./)]);

  // the remaining fixes, where running them needs what is not here (an AWS account, the AWS CLI); each run also
  // breaks the operations side, so that no extra run is needed for its fixes:
  // - the secret scheduled for deletion, and the alarm topic's one subscriber never confirmed (its fix sends the
  //   confirmation again)
  aws.deleteSecret(SECRET_NAME);
  const pending = deployOperations(aws, { name: 'PendingOnly', subscribers: [{ email: 'late@example.com', confirmed: false }] });
  aws.putStack(STACK, { ...deployedOutputs(), ...pending });
  d = await doctorFixes();
  expect(d.commands).toEqual([
    `aws secretsmanager restore-secret --secret-id ${SECRET_NAME} --region ${aws.region}`,
    `aws sns subscribe --topic-arn ${pending.AlarmTopicArn} --protocol email --notification-endpoint late@example.com --region ${aws.region}`,
  ]);
  const other = await runCommandLine(`${DOCTOR} -- --stack OtherStack`);
  for (const c of fixCommands(other.stdout)) seen.add(c);
  expect(fixCommands(other.stdout)).toEqual(['npx cdk deploy']);
  // - a secret name that does not exist, on a stack of an earlier release (no alarm topic: deploy this version
  //   with the addresses to alert)
  const { AlarmTopicArn: _topic, DashboardName: _dashboard, ...withoutOperations } = deployedOutputs();
  aws.putStack('NamedSecretStack', { ...withoutOperations, TwilioSecretName: 'team-phone/twilio' });
  const named = await runCommandLine(`${DOCTOR} -- --stack NamedSecretStack`);
  for (const c of fixCommands(named.stdout)) seen.add(c);
  const namedSetup = `npm run twilio:setup -- --stack NamedSecretStack --region ${aws.region} --yes`;
  expect(fixCommands(named.stdout)).toEqual([
    `aws secretsmanager create-secret --name team-phone/twilio --region ${aws.region}`,
    namedSetup,
    'npx cdk deploy -c alarmEmails=you@example.com',
  ]);
  aws.createSecret('team-phone/twilio'); // what that create-secret does
  expect((await runCommandLine(namedSetup)).code).toBe(0);

  for (const c of seen) {
    if (c.startsWith('aws ')) checkAwsCliCommand(c);
    // the README's deploy command, with the context key lib/config/context.ts reads (comma-separated addresses)
    else if (c.startsWith('npx cdk ')) expect(c).toMatch(/^npx cdk deploy( -c alarmEmails=[^\s,@]+@[^\s,@]+\.[a-z]+(,[^\s,@]+@[^\s,@]+\.[a-z]+)*)?$/);
  }
  expect(CONTEXT_KEYS).toContain('alarmEmails');
  expect([...seen].filter((c) => c.startsWith('aws ')).length).toBe(3);
  expect([...seen].filter((c) => c.startsWith('npm run ')).length).toBe(4);
}, 360_000);
