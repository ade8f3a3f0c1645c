/**
 * The command-line tools as a user runs them (spawned with tsx): `npm run device`, `npm run sign` and
 * `npm start`, against a local app using development credentials and a temp registry.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { startLocalApp, type LocalApp } from '../../lib/local/app';
import { CLIENT_NAME, FORM, INCOMING_BODY, INCOMING_TWIML, writeSite } from './helpers';

const ROOT = path.resolve(__dirname, '..', '..');
const TSX = path.join(ROOT, 'node_modules', '.bin', 'tsx');
let dir: string;
let registryPath: string;
let app: LocalApp | undefined;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('TWILIO_') && !k.startsWith('AWS_')) env[k] = v;
  return { ...env, SOFTPHONE_REGISTRY: registryPath, ...extra };
}

/** Runs `tsx bin/<script> …args` in the temp dir (so no developer .env is read) and collects its output. */
function run(script: string, args: string[], extra: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(TSX, [path.join(ROOT, 'bin', script), ...args], { cwd: dir, env: cleanEnv(extra) });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'softphone-cli-'));
  registryPath = path.join(dir, 'registry');
  await writeSite(path.join(dir, 'site'));
});
afterAll(async () => {
  await app?.close();
  await rm(dir, { recursive: true, force: true });
});

test('device CLI adds a device while the app runs; the printed secret gets a token; sign matches the app', async () => {
  app = await startLocalApp({ port: 0, registryPath, clientDir: path.join(dir, 'site'), env: {}, log: () => undefined });
  expect(app.credentialsSource).toBe('development');

  const added = await run('device.ts', ['add', '--number', '+81-50-3123-4567', '--client', CLIENT_NAME, '--label', 'desk']);
  expect(added.stderr).toContain('through the running local app');
  expect(added.code).toBe(0);
  expect(added.stdout).toContain(`Added +815031234567 → client ${CLIENT_NAME} (desk).`);
  const secret = /Device secret \(shown only this once; enter it in the softphone\): (\S+)/.exec(added.stdout)?.[1];
  expect(secret).toBeDefined();

  const token = await fetch(app.routeUrls.token, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ twilioPhoneNumber: '+81-50-3123-4567', deviceSecret: secret }),
  });
  expect(token.status).toBe(200);
  expect(await token.json()).toMatchObject({ success: true, identity: CLIENT_NAME });

  // The signer reads the same development credentials the app generated.
  const sig = await run('sign.ts', [app.routeUrls.callIncoming, INCOMING_BODY]);
  expect(sig.code).toBe(0);
  const dev = JSON.parse(await readFile(path.join(registryPath, 'dev-credentials.json'), 'utf8')) as { authToken: string; note: string };
  expect(dev.note).toMatch(/Twilio refuses them/);
  const hook = await fetch(app.routeUrls.callIncoming, { method: 'POST', headers: { 'Content-Type': FORM, 'X-Twilio-Signature': sig.stdout.trim() }, body: INCOMING_BODY });
  expect(hook.status).toBe(200);
  expect(await hook.text()).toBe(INCOMING_TWIML);

  const listed = await run('device.ts', ['list']);
  expect(listed.code).toBe(0);
  expect(listed.stdout).toMatch(/\+815031234567\s+DeviceId_0001\s+desk/);
  expect(listed.stdout).not.toContain('scrypt');

  const dup = await run('device.ts', ['add', '--number', '+81 50 3123 4567', '--client', 'other']);
  expect(dup.code).toBe(1);
  expect(dup.stderr).toContain('already registered');
});

test('device CLI works on the registry when the app is not running; rotate-secret; remove', async () => {
  await app?.close();
  app = undefined;
  const rotated = await run('device.ts', ['rotate-secret', '--number', '+815031234567']);
  expect(rotated.code).toBe(0);
  expect(rotated.stderr).not.toContain('through the running');
  const secret = /: (\S+)\n$/.exec(rotated.stdout)?.[1];
  expect(secret).toBeDefined();

  // The app, started again, accepts the rotated secret (the CLI released the registry).
  app = await startLocalApp({ port: 0, registryPath, clientDir: path.join(dir, 'site'), env: {}, log: () => undefined });
  const token = await fetch(app.routeUrls.token, { method: 'POST', body: JSON.stringify({ twilioPhoneNumber: '+815031234567', deviceSecret: secret }), headers: { 'Content-Type': 'application/json' } });
  expect(token.status).toBe(200);
  await app.close();
  app = undefined;

  const removed = await run('device.ts', ['remove', '--number', '+815031234567']);
  expect(removed.code).toBe(0);
  expect(removed.stdout).toContain('Removed +815031234567 (client DeviceId_0001).');
  const empty = await run('device.ts', ['list', '--json']);
  expect(JSON.parse(empty.stdout)).toEqual([]);
});

test('sign never makes up credentials: a local URL with no app running there, or another URL without TWILIO_AUTH_TOKEN, stops with what to do', async () => {
  const elsewhere = path.join(dir, 'elsewhere');
  const local = await run('sign.ts', ['http://127.0.0.1:3999/prod/twilio/retrieve_twiml/call_incoming', INCOMING_BODY], { SOFTPHONE_REGISTRY: elsewhere });
  expect(local.code).toBe(1);
  expect(local.stderr).toContain(`No local app is running at http://127.0.0.1:3999 for the registry ${elsewhere}`);
  const deployed = await run('sign.ts', ['https://abc.execute-api.ap-northeast-1.amazonaws.com/prod/twilio/retrieve_twiml/call_incoming', INCOMING_BODY], { SOFTPHONE_REGISTRY: elsewhere });
  expect(deployed.code).toBe(1);
  expect(deployed.stderr).toContain('Set TWILIO_AUTH_TOKEN');
  await expect(readdir(dir)).resolves.not.toContain('elsewhere');
  // with the token given, any URL is signed with it
  const given = await run('sign.ts', ['https://abc.execute-api.ap-northeast-1.amazonaws.com/prod/twilio/retrieve_twiml/call_incoming', INCOMING_BODY], { TWILIO_AUTH_TOKEN: '0123456789abcdef0123456789abcdef' });
  expect(given.code).toBe(0);
  expect(given.stdout.trim()).toMatch(/^[A-Za-z0-9+/]{27}=$/);
});

test('sign and the app agree when the app runs with TWILIO_* credentials; a different or missing token is refused', async () => {
  const envCreds = {
    TWILIO_ACCOUNT_SID: 'AC3e0123456789abcdef0123456789abcd',
    TWILIO_API_KEY_SID: 'SK0123456789abcdef0123456789abcdef',
    TWILIO_API_KEY_SECRET: 'test-api-key-secret-0123456789',
    TWILIO_AUTH_TOKEN: 'fedcba9876543210fedcba9876543210',
    TWILIO_TWIML_APP_SID: 'AP750123456789abcdef0123456789abcd',
  };
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
    const hook = await fetch(url, { method: 'POST', headers: { 'Content-Type': FORM, 'X-Twilio-Signature': right.stdout.trim() }, body: INCOMING_BODY });
    expect(hook.status).toBe(200);
    await expect(readdir(envRegistry)).resolves.not.toContain('dev-credentials.json');
  } finally {
    await envApp.close();
  }
});

test('the device CLI stops with a clear message where no registry exists', async () => {
  const r = await run('device.ts', ['list'], { SOFTPHONE_REGISTRY: path.join(dir, 'typo') });
  expect(r.code).toBe(4);
  expect(r.stderr).toContain(`No local registry at ${path.join(dir, 'typo')}. Start the local app first`);
  await expect(readdir(dir)).resolves.not.toContain('typo');
});

test('npm start with a registry elsewhere writes only inside that registry: no build in client/, no credentials beside it', async () => {
  const work = path.join(dir, 'work');
  await mkdir(work);
  // a relative SOFTPHONE_REGISTRY in the working directory (as at the repository root), and no prebuilt client
  const child = spawn(TSX, [path.join(ROOT, 'bin', 'local.ts')], { cwd: work, env: cleanEnv({ PORT: '0', SOFTPHONE_REGISTRY: 'state' }) });
  let out = '';
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no URL printed: ${out}`)), 60_000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /Softphone:\s+(http:\/\/127\.0\.0\.1:\d+)\//.exec(out);
      if (m && out.includes('Stop with Ctrl-C.')) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
  });
  expect((await fetch(`${url}/`)).status).toBe(200);
  const exit = new Promise<number | null>((resolve) => child.on('close', resolve));
  child.kill('SIGINT');
  expect(await exit).toBe(0);
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
  const signUsage = await run('sign.ts', []);
  expect(signUsage.code).toBe(2);
  expect(signUsage.stderr).toContain('Usage: npm run sign');
});

test('npm start (bin/local.ts): prints the URLs, stops on SIGINT; a port in use exits 3 with a clear message', async () => {
  const blocker: Server = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  const port = (blocker.address() as { port: number }).port;
  const busy = await run('local.ts', [], { PORT: String(port), SOFTPHONE_CLIENT_DIR: path.join(dir, 'site') });
  blocker.close();
  expect(busy.code).toBe(3);
  expect(busy.stderr).toContain(`Port ${port} on 127.0.0.1 is already in use`);

  const child = spawn(TSX, [path.join(ROOT, 'bin', 'local.ts')], { cwd: dir, env: cleanEnv({ PORT: '0', SOFTPHONE_CLIENT_DIR: path.join(dir, 'site') }) });
  let out = '';
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const softphoneUrl = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no URL printed: ${out}`)), 20_000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /Softphone:\s+(http:\/\/127\.0\.0\.1:\d+)\//.exec(out);
      if (m && out.includes('Stop with Ctrl-C.')) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
  });
  expect(out).toContain('DEVELOPMENT credentials');
  expect(out).toMatch(/incoming webhook: POST http:\/\/127\.0\.0\.1:\d+\/prod\/twilio\/retrieve_twiml\/call_incoming/);
  expect(out).toContain('deploy (npx cdk deploy)'); // the README's deploy command
  expect(await (await fetch(`${softphoneUrl}/config.json`)).json()).toEqual({ apiBaseUrl: `${softphoneUrl}/prod` });
  const exit = new Promise<number | null>((resolve) => child.on('close', resolve));
  child.kill('SIGINT');
  expect(await exit).toBe(0);
  expect(out).toContain('Stopped.');
}, 40_000);
