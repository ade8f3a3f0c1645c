import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { verifyDeviceSecret } from '../../lambda/core/device-secret';
import { MAX_LINE_MEMBERS } from '../../lambda/core/line';
import { addDevice, DeviceAdminError, listDevices, listLines, removeDevice, rotateDeviceSecret } from '../../lib/devices/device-admin';
import {
  endpointFilePath,
  openLocalRegistry,
  readEndpointFile,
  RegistryInUseError,
  RegistryNotFoundError,
  startEmbeddedRegistry,
  type LocalRegistry,
} from '../../lib/local/registry-server';

// Every test gets its own directory with its own embedded registry (a few tens of ms): no test sees another's lines.
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
  const { record, secret, generated, lineMembers } = await addDevice(local.lines, {
    number: '+81-50-3123-4567',
    clientName: 'DeviceId_0001',
    label: ' desk ',
  });
  expect(generated).toBe(true);
  expect(lineMembers).toBe(1); // a new number starts a line
  expect(secret.length).toBeGreaterThanOrEqual(32);
  expect(record).toMatchObject({ phoneNumber: '+815031234567', clientName: 'DeviceId_0001', label: 'desk' });
  const stored = await local.lines.findForSignIn('+815031234567');
  expect(stored).toHaveLength(1);
  expect(stored[0].secretHash).not.toContain(secret);
  expect(JSON.stringify(stored)).not.toContain(secret);
  expect(await verifyDeviceSecret(secret, stored[0].secretHash)).toBe(true);
  // only sign-in reads the hash
  const line = await local.lines.findLine('+815031234567');
  expect(line?.members).toHaveLength(1);
  expect(line?.members[0]).not.toHaveProperty('secretHash');
});

test('a given secret is used; duplicate names, bad numbers, bad names and short secrets are refused', async () => {
  const r = await addDevice(local.lines, { number: '+1 (415) 555-0100', clientName: 'alice.desk', secret: 'correct horse battery' });
  expect(r.generated).toBe(false);
  expect(r.secret).toBe('correct horse battery');
  expect(await code(addDevice(local.lines, { number: '+14155550101', clientName: 'alice.desk' }))).toBe('duplicate-client-name');
  expect(await code(addDevice(local.lines, { number: '+14155550100', clientName: 'alice.desk' }))).toBe('duplicate-client-name'); // its own line too
  expect(await code(addDevice(local.lines, { number: 'not a number', clientName: 'bob' }))).toBe('invalid-number');
  expect(await code(addDevice(local.lines, { number: '+14155550102', clientName: 'bad name!' }))).toBe('invalid-client-name');
  expect(await code(addDevice(local.lines, { number: '+14155550102', clientName: '<Client>' }))).toBe('invalid-client-name');
  expect(await code(addDevice(local.lines, { number: '+14155550102', clientName: 'bob', secret: 'short' }))).toBe('invalid-secret');
  // lengths count UTF-16 code units (as the token handler does): an emoji counts two
  expect(await code(addDevice(local.lines, { number: '+14155550102', clientName: 'bob', secret: '🔑🔑🔑' }))).toBe('invalid-secret'); // 6
  expect(await code(addDevice(local.lines, { number: '+14155550102', clientName: 'bob', secret: '🔑'.repeat(129) }))).toBe('invalid-secret'); // 258
  expect((await addDevice(local.lines, { number: '+14155550102', clientName: 'bob', secret: '🔑🔑🔑🔑' })).generated).toBe(false); // 8
  expect((await addDevice(local.lines, { number: '+14155550103', clientName: 'carol', secret: '🔑'.repeat(128) })).generated).toBe(false); // 256
  // nothing refused was stored
  expect((await listDevices(local.lines)).map((d) => d.clientName)).toEqual(['alice.desk', 'bob', 'carol']);
});

test(`a number is a line of up to ${MAX_LINE_MEMBERS} devices, each with its own secret`, async () => {
  await addDevice(local.lines, { number: '+1 (415) 555-0100', clientName: 'alice.desk', secret: 'correct horse battery' });
  // the same number again (the first release refused it): another device of its line
  const second = await addDevice(local.lines, { number: '+14155550100', clientName: 'alice.phone' });
  expect(second).toMatchObject({ record: { phoneNumber: '+14155550100', clientName: 'alice.phone' }, lineMembers: 2 });
  // a line's devices sign in with the same number: the secret tells them apart, so it must be their own
  expect(await code(addDevice(local.lines, { number: '+1-415-555-0100', clientName: 'bob', secret: 'correct horse battery' }))).toBe(
    'duplicate-secret',
  );
  for (let i = 3; i <= MAX_LINE_MEMBERS; i++) {
    expect((await addDevice(local.lines, { number: '+14155550100', clientName: `member-${i}` })).lineMembers).toBe(i);
  }
  expect(await code(addDevice(local.lines, { number: '+14155550100', clientName: 'one-too-many' }))).toBe('line-full');
  expect(await local.lines.findByClientName('one-too-many')).toBeUndefined();
  // removing one makes room
  await removeDevice(local.lines, { clientName: 'member-3' });
  await expect(addDevice(local.lines, { number: '+14155550100', clientName: 'one-too-many' })).resolves.toMatchObject({
    lineMembers: MAX_LINE_MEMBERS,
  });
  // in the order they were added
  const lines = await listLines(local.lines);
  expect(lines.map((l) => l.number)).toEqual(['+14155550100']);
  expect(lines[0].members.map((m) => m.clientName)).toEqual([
    'alice.desk',
    'alice.phone',
    ...Array.from({ length: MAX_LINE_MEMBERS - 3 }, (_, i) => `member-${i + 4}`),
    'one-too-many',
  ]);
}, 120_000);

test('rotateDeviceSecret replaces the hash; removeDevice, listDevices and listLines', async () => {
  await addDevice(local.lines, { number: '+81-50-3123-4567', clientName: 'DeviceId_0001' });
  await addDevice(local.lines, { number: '+1 (415) 555-0100', clientName: 'alice.desk', secret: 'correct horse battery' });
  const [before] = await local.lines.findForSignIn('+14155550100');
  // --number alone names the device when its line has one
  const { device, secret } = await rotateDeviceSecret(local.lines, { number: '+1-415-555-0100' });
  expect(device).toMatchObject({ phoneNumber: '+14155550100', clientName: 'alice.desk' });
  const [after] = await local.lines.findForSignIn('+14155550100');
  expect(after?.clientName).toBe('alice.desk');
  expect(after?.createdAt).toBe(before?.createdAt);
  expect(await verifyDeviceSecret(secret, after!.secretHash)).toBe(true);
  expect(await verifyDeviceSecret('correct horse battery', after!.secretHash)).toBe(false);
  expect(await code(rotateDeviceSecret(local.lines, { number: '+14155550199' }))).toBe('unknown-device');
  expect(await code(rotateDeviceSecret(local.lines, { clientName: 'nobody' }))).toBe('unknown-device');
  expect(await code(rotateDeviceSecret(local.lines, { clientName: 'alice.desk', number: '+815031234567' }))).toBe('unknown-device');

  // with a second device on the line, --number is ambiguous: --client names one, and only its secret changes
  await addDevice(local.lines, { number: '+14155550100', clientName: 'alice.phone' });
  expect(await code(rotateDeviceSecret(local.lines, { number: '+14155550100' }))).toBe('ambiguous-device');
  expect(await code(removeDevice(local.lines, { number: '+14155550100' }))).toBe('ambiguous-device');
  const phoneBefore = (await local.lines.findForSignIn('+14155550100')).find((d) => d.clientName === 'alice.phone')!;
  const rotated = await rotateDeviceSecret(local.lines, { clientName: 'alice.desk', number: '+1 415 555 0100' });
  const both = await local.lines.findForSignIn('+14155550100');
  expect(await verifyDeviceSecret(rotated.secret, both.find((d) => d.clientName === 'alice.desk')!.secretHash)).toBe(true);
  expect(both.find((d) => d.clientName === 'alice.phone')).toEqual(phoneBefore);

  const list = await listDevices(local.lines);
  expect(list.map((d) => [d.phoneNumber, d.clientName])).toEqual([
    ['+14155550100', 'alice.desk'],
    ['+14155550100', 'alice.phone'],
    ['+815031234567', 'DeviceId_0001'],
  ]);
  expect(JSON.stringify(list)).not.toContain('scrypt');
  const lines = await listLines(local.lines);
  expect(lines.map((l) => [l.number, l.members.length])).toEqual([
    ['+14155550100', 2],
    ['+815031234567', 1],
  ]);
  expect(JSON.stringify(lines)).not.toContain('scrypt');

  expect(await removeDevice(local.lines, { clientName: 'alice.phone' })).toMatchObject({ phoneNumber: '+14155550100', clientName: 'alice.phone' });
  expect((await removeDevice(local.lines, { number: '+14155550100' })).clientName).toBe('alice.desk');
  expect(await code(removeDevice(local.lines, { number: '+14155550100' }))).toBe('unknown-device');
  expect(await code(removeDevice(local.lines, { clientName: 'alice.desk' }))).toBe('unknown-device');
  expect((await listDevices(local.lines)).length).toBe(1);
}, 120_000);

test('while the registry is embedded here, openLocalRegistry shares it through the endpoint file', async () => {
  await addDevice(local.lines, { number: '+81-50-3123-4567', clientName: 'DeviceId_0001' });
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
    expect((await listDevices(shared.lines)).map((d) => d.clientName)).toEqual(['DeviceId_0001']);
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
