/** The DynamoDB adapters (line directory, attempt store) against a real dynalite server (DynamoDB protocol on 127.0.0.1). */
import { DescribeTableCommand, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoAttemptStore } from '../../lambda/adapters/dynamo-attempt-store';
import { DynamoLineDirectory } from '../../lambda/adapters/dynamo-line-directory';
import { ATTEMPTS_TTL_ATTRIBUTE, attemptsTableInput, registryTableInput } from '../../lambda/adapters/registry-schema';
import { DEFAULT_LINE_SETTINGS, MAX_LINE_MEMBERS } from '../../lambda/core/line';
import { DuplicateClientNameError, LineFullError, RegistryError, type DeviceRecord } from '../../lambda/ports';
import { useDynalite } from '../support/dynalite';
import { registerDevice } from './helpers';

/** Empty tables for every test. */
const db = useDynalite();

test('schema: the registry keyed by pk/sk (lines, members, claims, voicemails), no index; attempts keyed by phoneNumber', async () => {
  const registry = registryTableInput('r');
  const attempts = attemptsTableInput('a');
  expect(registry.KeySchema).toEqual([
    { AttributeName: 'pk', KeyType: 'HASH' },
    { AttributeName: 'sk', KeyType: 'RANGE' },
  ]);
  expect(registry.GlobalSecondaryIndexes).toBeUndefined();
  expect(attempts.KeySchema).toEqual([{ AttributeName: 'phoneNumber', KeyType: 'HASH' }]);
  const d = await db.client.send(new DescribeTableCommand({ TableName: db.registryTable }));
  expect(d.Table?.KeySchema).toEqual(registry.KeySchema);
  expect(d.Table?.GlobalSecondaryIndexes).toBeUndefined();
});

/** A device as every read but sign-in returns it: without its secret hash. */
const withoutHash = ({ secretHash: _hash, ...device }: DeviceRecord) => device;

/** The raw item under a key of the registry table (undefined when there is none). */
async function rawItem(pk: string, sk: string) {
  return (await db.client.send(new GetItemCommand({ TableName: db.registryTable, Key: { pk: { S: pk }, sk: { S: sk } }, ConsistentRead: true })))
    .Item;
}

test('put, findLine, findByClientName, findForSignIn, listLines, remove', async () => {
  const rec = await registerDevice(db.lines, { label: 'desk' });
  const other = await registerDevice(db.lines, { phoneNumber: '+14155552671', clientName: 'DeviceId_0002' });
  // Every read but sign-in leaves the secret hash in the table; a new line has the default settings.
  await expect(db.lines.findLine('+815031234567')).resolves.toEqual({
    number: '+815031234567',
    settings: DEFAULT_LINE_SETTINGS,
    members: [withoutHash(rec)],
  });
  await expect(db.lines.findLine('+819999999999')).resolves.toBeUndefined();
  await expect(db.lines.findByClientName('DeviceId_0001')).resolves.toEqual(withoutHash(rec));
  await expect(db.lines.findByClientName('DeviceId_0002')).resolves.toEqual(withoutHash(other));
  await expect(db.lines.findByClientName('nobody')).resolves.toBeUndefined();
  // sorted by number; no claim items either
  await expect(db.lines.listLines()).resolves.toEqual([
    { number: '+14155552671', settings: DEFAULT_LINE_SETTINGS, members: [withoutHash(other)] },
    { number: '+815031234567', settings: DEFAULT_LINE_SETTINGS, members: [withoutHash(rec)] },
  ]);
  await expect(db.lines.findForSignIn('+815031234567')).resolves.toEqual([rec]);
  await expect(db.lines.findForSignIn('+819999999999')).resolves.toEqual([]);
  // A claim's key is no line: neither read returns a claim as a device.
  await expect(db.lines.findLine('CLIENT#DeviceId_0001')).resolves.toBeUndefined();
  await expect(db.lines.findForSignIn('CLIENT#DeviceId_0001')).resolves.toEqual([]);
  // Stored: the hash, never a secret; and each client name's claim, naming its line.
  const raw = await rawItem('LINE#+815031234567', 'MEMBER#DeviceId_0001');
  expect(Object.keys(raw ?? {}).sort()).toEqual(['clientName', 'createdAt', 'label', 'pk', 'secretHash', 'sk']);
  expect(raw?.secretHash.S).toMatch(/^scrypt\$/);
  expect((await rawItem('CLIENT#DeviceId_0001', 'CLIENT'))?.line).toEqual({ S: '+815031234567' });
  expect((await rawItem('CLIENT#DeviceId_0002', 'CLIENT'))?.line).toEqual({ S: '+14155552671' });
  await expect(db.lines.remove('DeviceId_0002')).resolves.toEqual(withoutHash(other));
  await expect(db.lines.remove('DeviceId_0002')).resolves.toBeUndefined();
  await expect(db.lines.findByClientName('DeviceId_0002')).resolves.toBeUndefined();
  await expect(rawItem('CLIENT#DeviceId_0002', 'CLIENT')).resolves.toBeUndefined(); // its claim went with it
  await expect(db.lines.findForSignIn('+14155552671')).resolves.toEqual([]);
  // the line itself (and its settings) stays, without members
  await expect(db.lines.findLine('+14155552671')).resolves.toEqual({ number: '+14155552671', settings: DEFAULT_LINE_SETTINGS, members: [] });
});

test('client names are unique across lines; re-putting a device updates it without taking another place', async () => {
  await registerDevice(db.lines, { phoneNumber: '+815011112222', clientName: 'Unique_1' });
  await expect(registerDevice(db.lines, { phoneNumber: '+815011113333', clientName: 'Unique_1' })).rejects.toBeInstanceOf(DuplicateClientNameError);
  await registerDevice(db.lines, { phoneNumber: '+815011112222', clientName: 'Unique_1', label: 'renamed' });
  await expect(db.lines.findLine('+815011112222')).resolves.toMatchObject({ members: [{ clientName: 'Unique_1', label: 'renamed' }] });
  await expect(db.lines.findByClientName('Unique_1')).resolves.toMatchObject({ phoneNumber: '+815011112222' });
  expect((await rawItem('LINE#+815011112222', 'LINE'))?.memberCount).toEqual({ N: '1' });
  // the refused put left nothing behind on the other number
  await expect(db.lines.findLine('+815011113333')).resolves.toBeUndefined();
});

test(`a line has at most ${MAX_LINE_MEMBERS} devices, even when they are added at once; removing one makes room`, async () => {
  const number = '+815011112222';
  const names = Array.from({ length: MAX_LINE_MEMBERS + 1 }, (_, i) => `Member_${String(i).padStart(2, '0')}`);
  const outcomes = await Promise.allSettled(names.map((clientName) => registerDevice(db.lines, { phoneNumber: number, clientName })));
  const refused = outcomes.filter((o) => o.status === 'rejected');
  expect(refused).toHaveLength(1);
  expect((refused[0] as PromiseRejectedResult).reason).toBeInstanceOf(LineFullError);
  const members = (await db.lines.findLine(number))?.members ?? [];
  expect(members).toHaveLength(MAX_LINE_MEMBERS);
  // the refused device holds no claim: its name is free for another line
  const left = names.find((n) => !members.some((m) => m.clientName === n))!;
  await expect(db.lines.findByClientName(left)).resolves.toBeUndefined();
  await registerDevice(db.lines, { phoneNumber: '+815011113333', clientName: left });
  await expect(registerDevice(db.lines, { phoneNumber: number, clientName: 'One_more' })).rejects.toBeInstanceOf(LineFullError);
  await db.lines.remove(members[0].clientName);
  await registerDevice(db.lines, { phoneNumber: number, clientName: 'One_more' });
  await expect(db.lines.findForSignIn(number)).resolves.toHaveLength(MAX_LINE_MEMBERS);
});

test('members ring in the order they were added', async () => {
  await registerDevice(db.lines, { clientName: 'Second', createdAt: '2024-01-02T00:00:00.000Z' });
  await registerDevice(db.lines, { clientName: 'First', createdAt: '2024-01-01T00:00:00.000Z' });
  await registerDevice(db.lines, { clientName: 'Third', createdAt: '2024-01-03T00:00:00.000Z' });
  expect((await db.lines.findLine('+815031234567'))?.members.map((m) => m.clientName)).toEqual(['First', 'Second', 'Third']);
  expect((await db.lines.findForSignIn('+815031234567')).map((m) => m.clientName)).toEqual(['First', 'Second', 'Third']);
});

test('attempts: atomic counting with a TTL attribute, expiry restarts, clear', async () => {
  const key = '+815000000001';
  const t = 1_700_000_000;
  await expect(db.attempts.getAttempts(key, t)).resolves.toBeUndefined();
  const results = await Promise.all([1, 2, 3, 4, 5].map(() => db.attempts.recordFailure(key, t, 100)));
  expect(results.map((r) => r.failures).sort()).toEqual([1, 2, 3, 4, 5]); // atomic, no lost updates
  await expect(db.attempts.getAttempts(key, t + 1)).resolves.toEqual({ failures: 5, lastFailureAt: t, expiresAt: t + 100 });
  const raw = await db.client.send(new GetItemCommand({ TableName: db.attemptsTable, Key: { phoneNumber: { S: key } } }));
  expect(raw.Item?.[ATTEMPTS_TTL_ATTRIBUTE]).toEqual({ N: String(t + 100) });
  // Past expiresAt (TTL deletion is lazy): read as absent, and counting starts again.
  await expect(db.attempts.getAttempts(key, t + 100)).resolves.toBeUndefined();
  await expect(db.attempts.recordFailure(key, t + 200, 100)).resolves.toEqual({ failures: 1, lastFailureAt: t + 200, expiresAt: t + 300 });
  await db.attempts.clearAttempts(key);
  await expect(db.attempts.getAttempts(key, t + 201)).resolves.toBeUndefined();
});

test('a missing table is a RegistryError (mapped to 503 / "temporarily unavailable")', async () => {
  const lines = new DynamoLineDirectory({ client: db.client, table: 'no-such-table' });
  const attempts = new DynamoAttemptStore({ client: db.client, table: 'no-such-table' });
  await expect(lines.findLine('+815031234567')).rejects.toBeInstanceOf(RegistryError);
  await expect(lines.findForSignIn('+815031234567')).rejects.toBeInstanceOf(RegistryError);
  await expect(lines.findByClientName('DeviceId_0001')).rejects.toBeInstanceOf(RegistryError);
  await expect(lines.listLines()).rejects.toBeInstanceOf(RegistryError);
  await expect(registerDevice(lines)).rejects.toBeInstanceOf(RegistryError);
  await expect(attempts.recordFailure('+815031234567', 1, 1)).rejects.toBeInstanceOf(RegistryError);
});
