/** The DynamoDB adapters (device directory, attempt store) against a real dynalite server (DynamoDB protocol on 127.0.0.1). */
import { DescribeTableCommand, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoAttemptStore } from '../../lambda/adapters/dynamo-attempt-store';
import { DynamoDeviceDirectory } from '../../lambda/adapters/dynamo-device-directory';
import { DuplicateClientNameError, RegistryError, type DeviceRecord } from '../../lambda/ports';
import { ATTEMPTS_TTL_ATTRIBUTE, CLIENT_NAME_INDEX, createTableInputs } from '../../lambda/adapters/registry-schema';
import { useDynalite } from '../support/dynalite';
import { registerDevice } from './helpers';

/** Empty tables for every test. */
const db = useDynalite();

test('schema: devices keyed by phoneNumber with the clientName GSI; attempts keyed by phoneNumber', async () => {
  const [devices, attempts] = createTableInputs('d', 'a');
  expect(devices.KeySchema).toEqual([{ AttributeName: 'phoneNumber', KeyType: 'HASH' }]);
  expect(devices.GlobalSecondaryIndexes?.[0].IndexName).toBe(CLIENT_NAME_INDEX);
  expect(attempts.KeySchema).toEqual([{ AttributeName: 'phoneNumber', KeyType: 'HASH' }]);
  const d = await db.client.send(new DescribeTableCommand({ TableName: db.devicesTable }));
  expect(d.Table?.GlobalSecondaryIndexes?.map((i) => i.IndexName)).toEqual(['clientName-index']);
});

/** A device as every read but sign-in returns it: without its secret hash. */
const withoutHash = ({ secretHash: _hash, ...device }: DeviceRecord) => device;

/** The raw item under a key of the devices table (undefined when there is none). */
async function rawItem(key: string) {
  return (await db.client.send(new GetItemCommand({ TableName: db.devicesTable, Key: { phoneNumber: { S: key } }, ConsistentRead: true }))).Item;
}

test('put, findByNumber, findByClientName, findForSignIn, list, remove', async () => {
  const rec = await registerDevice(db.devices, { label: 'desk' });
  const other = await registerDevice(db.devices, { phoneNumber: '+14155552671', clientName: 'DeviceId_0002' });
  // Every read but sign-in leaves the secret hash in the table.
  await expect(db.devices.findByNumber('+815031234567')).resolves.toEqual(withoutHash(rec));
  await expect(db.devices.findByNumber('+819999999999')).resolves.toBeUndefined();
  await expect(db.devices.findByClientName('DeviceId_0001')).resolves.toEqual(withoutHash(rec));
  await expect(db.devices.findByClientName('DeviceId_0002')).resolves.toEqual(withoutHash(other));
  await expect(db.devices.findByClientName('nobody')).resolves.toBeUndefined();
  await expect(db.devices.list()).resolves.toEqual([withoutHash(other), withoutHash(rec)]); // no claim items either
  await expect(db.devices.findForSignIn('+815031234567')).resolves.toEqual(rec);
  await expect(db.devices.findForSignIn('+819999999999')).resolves.toBeUndefined();
  // A claim's key is no number: neither read returns a claim as a device.
  await expect(db.devices.findByNumber('client#DeviceId_0001')).resolves.toBeUndefined();
  await expect(db.devices.findForSignIn('client#DeviceId_0001')).resolves.toBeUndefined();
  // Stored: the hash, never a secret; and each client name's claim, naming its number.
  const raw = await rawItem('+815031234567');
  expect(Object.keys(raw ?? {}).sort()).toEqual(['clientName', 'createdAt', 'label', 'phoneNumber', 'secretHash']);
  expect(raw?.secretHash.S).toMatch(/^scrypt\$/);
  expect((await rawItem('client#DeviceId_0001'))?.claimOf).toEqual({ S: '+815031234567' });
  expect((await rawItem('client#DeviceId_0002'))?.claimOf).toEqual({ S: '+14155552671' });
  await expect(db.devices.remove('+14155552671')).resolves.toBe(true);
  await expect(db.devices.remove('+14155552671')).resolves.toBe(false);
  await expect(db.devices.findByClientName('DeviceId_0002')).resolves.toBeUndefined();
  await expect(rawItem('client#DeviceId_0002')).resolves.toBeUndefined(); // its claim went with it
});

test('client names are unique across numbers; re-putting the same number updates it', async () => {
  await registerDevice(db.devices, { phoneNumber: '+815011112222', clientName: 'Unique_1' });
  await expect(registerDevice(db.devices, { phoneNumber: '+815011113333', clientName: 'Unique_1' })).rejects.toBeInstanceOf(DuplicateClientNameError);
  await registerDevice(db.devices, { phoneNumber: '+815011112222', clientName: 'Unique_1', label: 'renamed' });
  await expect(db.devices.findByNumber('+815011112222')).resolves.toMatchObject({ label: 'renamed' });
  await expect(db.devices.findByClientName('Unique_1')).resolves.toMatchObject({ phoneNumber: '+815011112222' });
});

test('a device registered before client-name claims (no claim item) is found by its name, which stays unique; its next write claims it', async () => {
  // written directly, as the registry held devices before claims existed
  await db.client.send(
    new PutItemCommand({
      TableName: db.devicesTable,
      Item: {
        phoneNumber: { S: '+815011112222' },
        clientName: { S: 'Legacy_1' },
        secretHash: { S: 'scrypt$16$1$1$AAAAAAAAAAAAAAAAAAAAAA$AAAA' },
        createdAt: { S: '2023-01-01T00:00:00.000Z' },
      },
    }),
  );
  await expect(db.devices.findByClientName('Legacy_1')).resolves.toEqual({
    phoneNumber: '+815011112222',
    clientName: 'Legacy_1',
    createdAt: '2023-01-01T00:00:00.000Z',
  });
  await expect(registerDevice(db.devices, { phoneNumber: '+815011113333', clientName: 'Legacy_1' })).rejects.toBeInstanceOf(DuplicateClientNameError);
  await expect(rawItem('client#Legacy_1')).resolves.toBeUndefined();
  await registerDevice(db.devices, { phoneNumber: '+815011112222', clientName: 'Legacy_1', label: 'rewritten' });
  expect((await rawItem('client#Legacy_1'))?.claimOf).toEqual({ S: '+815011112222' });
  await expect(db.devices.findByClientName('Legacy_1')).resolves.toMatchObject({ phoneNumber: '+815011112222', label: 'rewritten' });
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
  const devices = new DynamoDeviceDirectory({ client: db.client, table: 'no-such-table' });
  const attempts = new DynamoAttemptStore({ client: db.client, table: 'no-such-table' });
  await expect(devices.findByNumber('+815031234567')).rejects.toBeInstanceOf(RegistryError);
  await expect(devices.findForSignIn('+815031234567')).rejects.toBeInstanceOf(RegistryError);
  await expect(devices.findByClientName('DeviceId_0001')).rejects.toBeInstanceOf(RegistryError);
  await expect(attempts.recordFailure('+815031234567', 1, 1)).rejects.toBeInstanceOf(RegistryError);
});
