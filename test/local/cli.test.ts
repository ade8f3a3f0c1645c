/**
 * The command-line tools as a user runs them (spawned with tsx): `npm run device`, `npm run sign` and
 * `npm start`, against a local app using development credentials and a temp registry.
 */
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { CREDENTIAL_ENV_VARS, CREDENTIAL_FIELDS } from '../../lambda/core/credentials';
import { addDevice } from '../../lib/devices/device-admin';
import { startLocalApp, type LocalApp } from '../../lib/local/app';
import { DEVICE_CLIENT, DEVICE_NUMBER, DEVICE_NUMBER_TYPED, FORM, INCOMING_BODY, incomingTwiml, TEST_CREDENTIALS } from '../support/fixtures';
import { runBin, startLocalCli, writeSite } from './helpers';

let dir: string;
/** Each test's own registry (not created yet): no test sees another's devices. */
let registryPath: string;
let registries = 0;
let app: LocalApp | undefined;

function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('TWILIO_') && !k.startsWith('AWS_')) env[k] = v;
  return { ...env, SOFTPHONE_REGISTRY: registryPath, ...extra };
}

/** Runs `tsx bin/<script> …args` in the temp dir (so no developer .env is read) and collects its output. */
const run = (script: string, args: string[], extra: Record<string, string> = {}) => runBin(script, args, { cwd: dir, env: cleanEnv(extra) });

/** The local app on this test's registry, with development credentials. */
const startApp = () => startLocalApp({ port: 0, registryPath, clientDir: path.join(dir, 'site'), env: {}, log: () => undefined });

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'softphone-cli-'));
  await writeSite(path.join(dir, 'site'));
});
beforeEach(() => {
  registryPath = path.join(dir, `registry-${++registries}`);
});
afterEach(async () => {
  await app?.close();
  app = undefined;
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('device CLI adds a device while the app runs; the printed secret gets a token; sign matches the app', async () => {
  app = await startApp();
  expect(app.credentialsSource).toBe('development');

  const added = await run('device.ts', ['add', '--number', DEVICE_NUMBER_TYPED, '--client', DEVICE_CLIENT, '--label', 'desk']);
  expect(added.stderr).toContain('through the running local app');
  expect(added.code).toBe(0);
  expect(added.stdout).toContain(`Added ${DEVICE_CLIENT} (desk) to the line +815031234567 (1 device now).`);
  const secret = /Device secret \(shown only this once; enter it in the softphone with \+815031234567\): (\S+)/.exec(added.stdout)?.[1];
  expect(secret).toBeDefined();

  const token = await fetch(app.routeUrls.token, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ twilioPhoneNumber: DEVICE_NUMBER_TYPED, deviceSecret: secret }),
  });
  expect(token.status).toBe(200);
  expect(await token.json()).toMatchObject({ success: true, identity: DEVICE_CLIENT, line: DEVICE_NUMBER });

  // The signer reads the same development credentials the app generated.
  const sig = await run('sign.ts', [app.routeUrls.callIncoming, INCOMING_BODY]);
  expect(sig.code).toBe(0);
  const dev = JSON.parse(await readFile(path.join(registryPath, 'dev-credentials.json'), 'utf8')) as { authToken: string; note: string };
  expect(dev.note).toMatch(/Twilio refuses them/);
  const hook = await fetch(app.routeUrls.callIncoming, {
    method: 'POST',
    headers: { 'Content-Type': FORM, 'X-Twilio-Signature': sig.stdout.trim() },
    body: INCOMING_BODY,
  });
  expect(hook.status).toBe(200);
  expect(await hook.text()).toBe(incomingTwiml(app.apiBaseUrl));

  // The same number again: a second device of the line (with its own secret); a client name in use is refused.
  const second = await run('device.ts', ['add', '--number', '+81 50 3123 4567', '--client', 'other']);
  expect(second.code).toBe(0);
  expect(second.stdout).toContain('Added other to the line +815031234567 (2 devices now).');
  const dup = await run('device.ts', ['add', '--number', '+1 415 555 0100', '--client', DEVICE_CLIENT]);
  expect(dup.code).toBe(1);
  expect(dup.stderr).toContain(`The client name "${DEVICE_CLIENT}" is already used on +815031234567`);

  const listed = await run('device.ts', ['list']);
  expect(listed.code).toBe(0);
  expect(listed.stdout).toMatch(/^LINE\s+CLIENT\s+LABEL\s+CREATED\n/);
  expect(listed.stdout).toMatch(/\+815031234567\s+DeviceId_0001\s+desk/);
  expect(listed.stdout).toMatch(/\+815031234567\s+other\s+\d{4}-/);
  expect(listed.stdout).not.toContain('scrypt');
  // both devices ring
  const hook2 = await fetch(app.routeUrls.callIncoming, {
    method: 'POST',
    headers: { 'Content-Type': FORM, 'X-Twilio-Signature': sig.stdout.trim() },
    body: INCOMING_BODY,
  });
  expect(await hook2.text()).toBe(incomingTwiml(app.apiBaseUrl, { clients: [DEVICE_CLIENT, 'other'] }));
}, 120_000);

test('device CLI works on the registry when the app is not running; rotate-secret; remove', async () => {
  // a registry holding the walkthrough's device, its app stopped
  app = await startApp();
  const { secret: first } = await addDevice(app.lines, { number: DEVICE_NUMBER, clientName: DEVICE_CLIENT });
  await app.close();
  app = undefined;

  const rotated = await run('device.ts', ['rotate-secret', '--number', '+815031234567']);
  expect(rotated.code).toBe(0);
  expect(rotated.stderr).not.toContain('through the running');
  const secret = /: (\S+)\n$/.exec(rotated.stdout)?.[1];
  expect(secret).toBeDefined();

  // The app, started again, accepts the rotated secret, and no longer the first one (the CLI released the registry).
  app = await startApp();
  const tokenFor = (deviceSecret: string | undefined) =>
    fetch(app!.routeUrls.token, {
      method: 'POST',
      body: JSON.stringify({ twilioPhoneNumber: DEVICE_NUMBER, deviceSecret }),
      headers: { 'Content-Type': 'application/json' },
    });
  expect((await tokenFor(secret)).status).toBe(200);
  expect((await tokenFor(first)).status).toBe(403);
  await app.close();
  app = undefined;

  // with a second device on the line, --number no longer says which one: --client does
  const added = await run('device.ts', ['add', '--number', DEVICE_NUMBER, '--client', 'DeviceId_0002']);
  expect(added.code).toBe(0);
  const ambiguous = await run('device.ts', ['rotate-secret', '--number', '+815031234567']);
  expect(ambiguous.code).toBe(1);
  expect(ambiguous.stderr).toContain('+815031234567 has 2 devices (DeviceId_0001, DeviceId_0002): name one with --client.');
  const rotatedSecond = await run('device.ts', ['rotate-secret', '--client', 'DeviceId_0002']);
  expect(rotatedSecond.code).toBe(0);
  expect(rotatedSecond.stdout).toContain('New device secret for DeviceId_0002 on +815031234567');
  const removedSecond = await run('device.ts', ['remove', '--client', 'DeviceId_0002']);
  expect(removedSecond.code).toBe(0);
  expect(removedSecond.stdout).toContain('Removed DeviceId_0002 from the line +815031234567.');

  const removed = await run('device.ts', ['remove', '--number', '+815031234567']);
  expect(removed.code).toBe(0);
  expect(removed.stdout).toContain('Removed DeviceId_0001 from the line +815031234567.');
  const again = await run('device.ts', ['remove', '--client', DEVICE_CLIENT]);
  expect(again.code).toBe(1);
  expect(again.stderr).toContain(`No device has the client name "${DEVICE_CLIENT}".`);
  // the line stays (with its settings), without devices
  const empty = await run('device.ts', ['list', '--json']);
  expect(JSON.parse(empty.stdout)).toEqual([{ number: DEVICE_NUMBER, settings: expect.any(Object), members: [] }]);
  const table = await run('device.ts', ['list']);
  expect(table.stdout).toMatch(/\+815031234567\s+\(no devices\)/);
}, 120_000);

test('sign never makes up credentials: a local URL with no app running there, or another URL without TWILIO_AUTH_TOKEN, stops with what to do', async () => {
  const elsewhere = path.join(dir, 'elsewhere');
  const local = await run('sign.ts', ['http://127.0.0.1:3999/prod/twilio/retrieve_twiml/call_incoming', INCOMING_BODY], {
    SOFTPHONE_REGISTRY: elsewhere,
  });
  expect(local.code).toBe(1);
  expect(local.stderr).toContain(`No local app is running at http://127.0.0.1:3999 for the registry ${elsewhere}`);
  const deployed = await run(
    'sign.ts',
    ['https://abc.execute-api.ap-northeast-1.amazonaws.com/prod/twilio/retrieve_twiml/call_incoming', INCOMING_BODY],
    { SOFTPHONE_REGISTRY: elsewhere },
  );
  expect(deployed.code).toBe(1);
  expect(deployed.stderr).toContain('Set TWILIO_AUTH_TOKEN');
  await expect(readdir(dir)).resolves.not.toContain('elsewhere');
  // with the token given, any URL is signed with it
  const given = await run(
    'sign.ts',
    ['https://abc.execute-api.ap-northeast-1.amazonaws.com/prod/twilio/retrieve_twiml/call_incoming', INCOMING_BODY],
    { TWILIO_AUTH_TOKEN: TEST_CREDENTIALS.authToken },
  );
  expect(given.code).toBe(0);
  expect(given.stdout.trim()).toMatch(/^[A-Za-z0-9+/]{27}=$/);
}, 120_000);

test('sign and the app agree when the app runs with TWILIO_* credentials; a different or missing token is refused', async () => {
  const envCreds: Record<string, string> = Object.fromEntries(CREDENTIAL_FIELDS.map((f) => [CREDENTIAL_ENV_VARS[f], TEST_CREDENTIALS[f]]));
  const envRegistry = path.join(dir, 'env-registry');
  const envApp = await startLocalApp({ port: 0, registryPath: envRegistry, clientDir: path.join(dir, 'site'), env: envCreds, log: () => undefined });
  try {
    const url = envApp.routeUrls.callIncoming;
    const missing = await run('sign.ts', [url, INCOMING_BODY], { SOFTPHONE_REGISTRY: envRegistry });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('checks signatures with the TWILIO_AUTH_TOKEN of its own environment');
    const wrong = await run('sign.ts', [url, INCOMING_BODY], { SOFTPHONE_REGISTRY: envRegistry, TWILIO_AUTH_TOKEN: '0'.repeat(32) });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('is not the Auth Token the local app');
    const right = await run('sign.ts', [url, INCOMING_BODY], { SOFTPHONE_REGISTRY: envRegistry, TWILIO_AUTH_TOKEN: envCreds.TWILIO_AUTH_TOKEN });
    expect(right.code).toBe(0);
    const hook = await fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': FORM, 'X-Twilio-Signature': right.stdout.trim() },
      body: INCOMING_BODY,
    });
    expect(hook.status).toBe(200);
    await expect(readdir(envRegistry)).resolves.not.toContain('dev-credentials.json');
  } finally {
    await envApp.close();
  }
}, 120_000);

test('the device CLI stops with a clear message where no registry exists', async () => {
  const r = await run('device.ts', ['list'], { SOFTPHONE_REGISTRY: path.join(dir, 'typo') });
  expect(r.code).toBe(4);
  expect(r.stderr).toContain(`No local registry at ${path.join(dir, 'typo')}. Start the local app first`);
  await expect(readdir(dir)).resolves.not.toContain('typo');
}, 120_000);

test('npm start with a registry elsewhere writes only inside that registry: no build in client/, no credentials beside it', async () => {
  const work = path.join(dir, 'work');
  await mkdir(work);
  // a relative SOFTPHONE_REGISTRY in the working directory (as at the repository root), and no prebuilt client
  const cli = await startLocalCli({ cwd: work, env: cleanEnv({ PORT: '0', SOFTPHONE_REGISTRY: 'state' }), timeoutMs: 60_000 });
  expect((await fetch(`${cli.url}/`)).status).toBe(200);
  expect(await cli.stop()).toBe(0);
  expect(await readdir(work)).toEqual(['state']);
  expect(await readdir(path.join(work, 'state'))).toEqual(expect.arrayContaining(['CURRENT', 'dev-credentials.json', 'softphone']));
}, 90_000);

test('usage errors and --help', async () => {
  const help = await run('device.ts', ['add', '--help']);
  expect(help.code).toBe(0);
  expect(help.stdout).toContain('--client <name>');
  const bad = await run('device.ts', ['frobnicate']);
  expect(bad.code).toBe(2);
  expect(bad.stderr).toContain('Unknown command');
  const missing = await run('device.ts', ['add', '--number', '+815031234567']);
  expect(missing.code).toBe(2);
  expect(missing.stderr).toContain('--client is required');
  const unselected = await run('device.ts', ['remove']);
  expect(unselected.code).toBe(2);
  expect(unselected.stderr).toContain('--client (or --number) is required');
  const signUsage = await run('sign.ts', []);
  expect(signUsage.code).toBe(2);
  expect(signUsage.stderr).toContain('Usage: npm run sign');
}, 120_000);

test('npm start (bin/local.ts): prints the URLs, stops on SIGINT; a port in use exits 3 with a clear message', async () => {
  const blocker: Server = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  const port = (blocker.address() as { port: number }).port;
  const busy = await run('local.ts', [], { PORT: String(port), SOFTPHONE_CLIENT_DIR: path.join(dir, 'site') });
  blocker.close();
  expect(busy.code).toBe(3);
  expect(busy.stderr).toContain(`Port ${port} on 127.0.0.1 is already in use`);

  const cli = await startLocalCli({ cwd: dir, env: cleanEnv({ PORT: '0', SOFTPHONE_CLIENT_DIR: path.join(dir, 'site') }), timeoutMs: 60_000 });
  expect(cli.output()).toContain('DEVELOPMENT credentials');
  expect(cli.output()).toMatch(/incoming webhook: POST http:\/\/127\.0\.0\.1:\d+\/prod\/twilio\/retrieve_twiml\/call_incoming/);
  expect(cli.output()).toContain('deploy (npx cdk deploy)'); // the README's deploy command
  expect(await (await fetch(`${cli.url}/config.json`)).json()).toEqual({ apiBaseUrl: `${cli.url}/prod` });
  expect(await cli.stop()).toBe(0);
  expect(cli.output()).toContain('Stopped.');
}, 90_000);
