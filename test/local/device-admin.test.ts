import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { verifyDeviceSecret } from '../../lambda/core/device-secret';
import { addDevice, DeviceAdminError, listDevices, removeDevice, rotateDeviceSecret } from '../../lib/devices/device-admin';
import {
  endpointFilePath,
  openLocalRegistry,
  readEndpointFile,
  RegistryInUseError,
  RegistryNotFoundError,
  startEmbeddedRegistry,
  type LocalRegistry,
} from '../../lib/local/registry-server';

// Every test gets its own directory with its own embedded registry (a few tens of ms): no test sees another's devices.
let dir: string;
let local: LocalRegistry;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'softphone-admin-'));
  local = await startEmbeddedRegistry(path.join(dir, 'registry'), { owner: 'test' });
});
afterEach(async () => {
  await local?.close();
  await rm(dir, { recursive: true, force: true });
});

const code = async (p: Promise<unknown>): Promise<string | undefined> => {
  try {
    await p;
    return undefined;
  } catch (err) {
    expect(err).toBeInstanceOf(DeviceAdminError);
    return (err as DeviceAdminError).code;
  }
};

test('addDevice normalises the number, generates a secret once and stores only its hash', async () => {
  const { record, secret, generated } = await addDevice(local.devices, { number: '+81-50-3123-4567', clientName: 'DeviceId_0001', label: ' desk ' });
  expect(generated).toBe(true);
  expect(secret.length).toBeGreaterThanOrEqual(32);
  expect(record).toMatchObject({ phoneNumber: '+815031234567', clientName: 'DeviceId_0001', label: 'desk' });
  const stored = await local.devices.findForSignIn('+815031234567');
  expect(stored?.secretHash).not.toContain(secret);
  expect(JSON.stringify(stored)).not.toContain(secret);
  expect(await verifyDeviceSecret(secret, stored!.secretHash)).toBe(true);
  // only sign-in reads the hash
  expect(await local.devices.findByNumber('+815031234567')).not.toHaveProperty('secretHash');
});

test('a given secret is used; duplicates, bad numbers, bad names and short secrets are refused', async () => {
  const r = await addDevice(local.devices, { number: '+1 (415) 555-0100', clientName: 'alice.desk', secret: 'correct horse battery' });
  expect(r.generated).toBe(false);
  expect(r.secret).toBe('correct horse battery');
  expect(await code(addDevice(local.devices, { number: '+14155550100', clientName: 'other' }))).toBe('duplicate-number');
  expect(await code(addDevice(local.devices, { number: '+14155550101', clientName: 'alice.desk' }))).toBe('duplicate-client-name');
  expect(await code(addDevice(local.devices, { number: 'not a number', clientName: 'bob' }))).toBe('invalid-number');
  expect(await code(addDevice(local.devices, { number: '+14155550102', clientName: 'bad name!' }))).toBe('invalid-client-name');
  expect(await code(addDevice(local.devices, { number: '+14155550102', clientName: '<Client>' }))).toBe('invalid-client-name');
  expect(await code(addDevice(local.devices, { number: '+14155550102', clientName: 'bob', secret: 'short' }))).toBe('invalid-secret');
  // lengths count UTF-16 code units (as the token handler does): an emoji counts two
  expect(await code(addDevice(local.devices, { number: '+14155550102', clientName: 'bob', secret: '🔑🔑🔑' }))).toBe('invalid-secret'); // 6
  expect(await code(addDevice(local.devices, { number: '+14155550102', clientName: 'bob', secret: '🔑'.repeat(129) }))).toBe('invalid-secret'); // 258
  expect((await addDevice(local.devices, { number: '+14155550102', clientName: 'bob', secret: '🔑🔑🔑🔑' })).generated).toBe(false); // 8
  expect((await addDevice(local.devices, { number: '+14155550103', clientName: 'carol', secret: '🔑'.repeat(128) })).generated).toBe(false); // 256
});

test('rotateDeviceSecret replaces the hash; removeDevice and listDevices', async () => {
  await addDevice(local.devices, { number: '+81-50-3123-4567', clientName: 'DeviceId_0001' });
  await addDevice(local.devices, { number: '+1 (415) 555-0100', clientName: 'alice.desk', secret: 'correct horse battery' });
  const before = await local.devices.findForSignIn('+14155550100');
  const secret = await rotateDeviceSecret(local.devices, '+1-415-555-0100');
  const after = await local.devices.findForSignIn('+14155550100');
  expect(after?.clientName).toBe('alice.desk');
  expect(after?.createdAt).toBe(before?.createdAt);
  expect(await verifyDeviceSecret(secret, after!.secretHash)).toBe(true);
  expect(await verifyDeviceSecret('correct horse battery', after!.secretHash)).toBe(false);
  expect(await code(rotateDeviceSecret(local.devices, '+14155550199'))).toBe('unknown-number');

  const list = await listDevices(local.devices);
  expect(list.map((d) => d.phoneNumber)).toEqual(['+14155550100', '+815031234567']);
  expect(JSON.stringify(list)).not.toContain('scrypt');

  expect((await removeDevice(local.devices, '+14155550100')).clientName).toBe('alice.desk');
  expect(await code(removeDevice(local.devices, '+14155550100'))).toBe('unknown-number');
  expect((await listDevices(local.devices)).length).toBe(1);
});

test('while the registry is embedded here, openLocalRegistry shares it through the endpoint file', async () => {
  await addDevice(local.devices, { number: '+81-50-3123-4567', clientName: 'DeviceId_0001' });
  const info = await readEndpointFile(path.join(dir, 'registry'));
  expect(info).toMatchObject({
    pid: process.pid,
    endpoint: local.endpoint,
    credentials: { accessKeyId: local.credentials.accessKeyId, secretAccessKey: local.credentials.secretAccessKey },
    owner: 'test',
  });
  const shared = await openLocalRegistry(path.join(dir, 'registry'));
  try {
    expect(shared.mode).toBe('shared');
    expect((await listDevices(shared.devices)).map((d) => d.clientName)).toEqual(['DeviceId_0001']);
  } finally {
    await shared.close();
  }
  expect(endpointFilePath(path.join(dir, 'registry'))).toBe(path.join(dir, 'registry', 'endpoint.json'));
});

test('a registry held by another embedded owner is refused clearly after the lock wait', async () => {
  const err = await startEmbeddedRegistry(path.join(dir, 'registry'), { owner: 'second', lockWaitMs: 200 }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(RegistryInUseError);
  expect((err as Error).message).toMatch(/in use by another process \(test, pid \d+\)/);
});

test('a command-line tool never starts a new, empty registry where none exists (a mistyped SOFTPHONE_REGISTRY)', async () => {
  const nowhere = path.join(dir, 'no-such-registry');
  const err = await openLocalRegistry(nowhere).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(RegistryNotFoundError);
  expect((err as Error).message).toContain(`No local registry at ${nowhere}. Start the local app first (\`npm start\`)`);
  await expect(readdir(dir)).resolves.not.toContain('no-such-registry');
});
