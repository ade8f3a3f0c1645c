/**
 * One device-secret length rule, as a user meets it: a secret the device CLI (`npm run device -- add --secret`)
 * accepts is one the token API (over HTTP: the gateway's request model, the template and the handler) accepts,
 * and one the API would refuse is refused by the CLI at once. Both count UTF-16 code units
 * (`deviceSecretLength`): an emoji counts two.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { DEVICE_SECRET_LENGTH } from '../../lambda/core/settings';
import { startLocalApp, type LocalApp } from '../../lib/local/app';
import { runBin, writeSite } from './helpers';

let dir: string;
let registryPath: string;
let app: LocalApp;

/** Runs `tsx bin/device.ts …args` in the temp dir against this file's registry (no TWILIO_/AWS_ settings). */
function device(args: string[]) {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('TWILIO_') && !k.startsWith('AWS_')) env[k] = v;
  return runBin('device.ts', args, { cwd: dir, env: { ...env, SOFTPHONE_REGISTRY: registryPath } });
}

const tokenFor = (twilioPhoneNumber: string, deviceSecret: string) =>
  fetch(app.routeUrls.token, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ twilioPhoneNumber, deviceSecret }),
  });

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'softphone-cli-secrets-'));
  registryPath = path.join(dir, 'registry');
  await writeSite(path.join(dir, 'site'));
  app = await startLocalApp({ port: 0, registryPath, clientDir: path.join(dir, 'site'), env: {}, log: () => undefined });
});

afterAll(async () => {
  await app?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('200 emoji (400 UTF-16 units): the CLI refuses the secret the token API would refuse', async () => {
  const secret = '😀'.repeat(200);
  const added = await device(['add', '--number', '+81 50 3111 0001', '--client', 'Emoji200', '--secret', secret]);
  expect(added.code).toBe(1);
  expect(added.stderr).toContain(`${DEVICE_SECRET_LENGTH.min} to ${DEVICE_SECRET_LENGTH.max} characters`);
  const listed = await device(['list', '--json']);
  expect(JSON.parse(listed.stdout)).toEqual([]);
  // the API refuses that secret before any lookup (400), so a device with it could never have signed in
  expect((await tokenFor('+815031110001', secret)).status).toBe(400);
}, 60_000);

test('128 emoji (256 units): accepted by the CLI, and the token API over HTTP accepts it', async () => {
  const secret = '😀'.repeat(128);
  const added = await device(['add', '--number', '+81 50 3111 0002', '--client', 'Emoji128', '--secret', secret]);
  expect(added.code).toBe(0);
  const token = await tokenFor('+815031110002', secret);
  expect(token.status).toBe(200);
  expect(await token.json()).toMatchObject({ success: true, identity: 'Emoji128' });
}, 60_000);
