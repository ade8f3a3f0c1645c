/**
 * Upgrading from the first release's schema (issue 14: "Upgrading a deployed stack keeps every registered
 * device … tested from today's schema"). The first release's devices table is made with its own CreateTable
 * input (`legacyDevicesTableInput`) and filled exactly as `DynamoDeviceDirectory` of that release wrote it
 * (`git show HEAD:lambda/adapters/dynamo-device-directory.ts`): a device item per number
 * `{phoneNumber, clientName, secretHash, createdAt, label?}`, and a client-name claim item
 * `{phoneNumber: 'client#<name>', claimOf, claimedAt}` (none for devices registered before claims existed).
 *
 * Then: the upgrade itself (adapters/registry-upgrade.ts), the CloudFormation custom resource that runs it at
 * `cdk deploy` (handlers/registry-upgrade.ts), and the local app opening a registry made by the first release.
 */
import { CreateTableCommand, DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { documentClient } from '../../lambda/adapters/dynamo';
import { attemptsTableInput, legacyDevicesTableInput } from '../../lambda/adapters/registry-schema';
import { upgradeRegistry } from '../../lambda/adapters/registry-upgrade';
import { staticCredentials } from '../../lambda/core/credentials';
import { hashDeviceSecret, verifyDeviceSecret } from '../../lambda/core/device-secret';
import { DEFAULT_LINE_SETTINGS, MAX_LINE_MEMBERS } from '../../lambda/core/line';
import { loadConfig } from '../../lambda/core/settings';
import type { HandlerDeps } from '../../lambda/handlers/deps';
import { type CustomResourceResponse, createRegistryUpgradeHandler, UPGRADE_PHYSICAL_ID } from '../../lambda/handlers/registry-upgrade';
import { createTokenHandler } from '../../lambda/handlers/token';
import { startLocalApp } from '../../lib/local/app';
import { LOCAL_ATTEMPTS_TABLE, LOCAL_LEGACY_DEVICES_TABLE, listenDynalite } from '../../lib/local/registry-server';
import { TEST_CREDENTIALS } from '../support/fixtures';
import { NO_METRICS } from '../../lambda/adapters/recording-metrics';
import { addMembers, CHEAP_SCRYPT, KeptLog, memberRecord, useLineRegistry, writeMinimalSite } from '../support/lines';

const reg = useLineRegistry();
let legacyCounter = 0;

/** The first release's devices table, created exactly as that release created it. */
async function createLegacyTable(client = reg.client, name = `legacy-devices-${process.pid}-${++legacyCounter}`): Promise<string> {
  await client.send(new CreateTableCommand(legacyDevicesTableInput(name)));
  for (let i = 0; i < 50; i++) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: name }));
    if (Table?.TableStatus === 'ACTIVE') break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return name;
}

interface LegacyDevice {
  phoneNumber: string;
  clientName: string;
  secret: string;
  label?: string;
  createdAt: string;
  /** false: registered before claims existed (no claim item) */
  claimed?: boolean;
}

/** Writes devices as the first release's DynamoDeviceDirectory.put did; returns their secret hashes. */
async function putLegacyDevices(
  table: string,
  devices: LegacyDevice[],
  client = reg.client,
  hashCost = CHEAP_SCRYPT,
): Promise<Record<string, string>> {
  const doc = documentClient(client);
  const hashes: Record<string, string> = {};
  for (const d of devices) {
    const secretHash = await hashDeviceSecret(d.secret, hashCost);
    hashes[d.clientName] = secretHash;
    if (d.claimed !== false) {
      await doc.send(
        new PutCommand({
          TableName: table,
          Item: { phoneNumber: `client#${d.clientName}`, claimOf: d.phoneNumber, claimedAt: Math.floor(Date.parse(d.createdAt) / 1000) },
        }),
      );
    }
    await doc.send(
      new PutCommand({
        TableName: table,
        Item: {
          phoneNumber: d.phoneNumber,
          clientName: d.clientName,
          secretHash,
          createdAt: d.createdAt,
          ...(d.label !== undefined ? { label: d.label } : {}),
        },
      }),
    );
  }
  return hashes;
}

const FIRST_RELEASE: LegacyDevice[] = [
  {
    phoneNumber: '+815031234567',
    clientName: 'DeviceId_0001',
    secret: 'test-device-secret-0001',
    label: 'Front desk',
    createdAt: '2024-01-01T00:00:00.000Z',
  },
  { phoneNumber: '+815031234568', clientName: 'DeviceId_0002', secret: 'test-device-secret-0002', createdAt: '2024-02-01T00:00:00.000Z' },
  // registered before client-name claims existed: no claim item
  {
    phoneNumber: '+81312345678',
    clientName: 'tokyo.office',
    secret: 'test-device-secret-0003',
    createdAt: '2023-12-01T00:00:00.000Z',
    claimed: false,
  },
];

function deps(overrides: Partial<HandlerDeps> = {}): HandlerDeps {
  return { lines: reg.lines, attempts: reg.attempts, credentials: staticCredentials(TEST_CREDENTIALS), config: loadConfig({}), ...overrides };
}

async function signIn(twilioPhoneNumber: string, deviceSecret: string) {
  const handler = createTokenHandler(deps(), { dummyScryptParams: CHEAP_SCRYPT });
  return handler({ twilioPhoneNumber, deviceSecret }, { log: new KeptLog(), metrics: NO_METRICS });
}

describe('upgradeRegistry from the first release’s devices table', () => {
  test('every device joins its number’s line with its secret hash intact; claims are not devices; the old secret still signs in', async () => {
    const legacy = await createLegacyTable();
    const hashes = await putLegacyDevices(legacy, FIRST_RELEASE);
    const report = await upgradeRegistry({ client: reg.client, legacyTable: legacy, lines: reg.lines });
    expect(report).toEqual({ copied: 3, alreadyThere: 0, skipped: [] });

    const lines = await reg.lines.listLines();
    expect(lines.map((l) => l.number)).toEqual(['+81312345678', '+815031234567', '+815031234568']);
    for (const d of FIRST_RELEASE) {
      const line = await reg.lines.findLine(d.phoneNumber);
      expect(line).toEqual({
        number: d.phoneNumber,
        settings: DEFAULT_LINE_SETTINGS,
        members: [{ phoneNumber: d.phoneNumber, clientName: d.clientName, createdAt: d.createdAt, ...(d.label ? { label: d.label } : {}) }],
      });
      expect(await reg.lines.findForSignIn(d.phoneNumber)).toEqual([
        expect.objectContaining({ clientName: d.clientName, secretHash: hashes[d.clientName] }),
      ]);
      expect(await reg.lines.findByClientName(d.clientName)).toMatchObject({ phoneNumber: d.phoneNumber });
    }
    // no claim item became a line or a device
    expect(JSON.stringify(lines)).not.toContain('client#');

    const token = await signIn('+81-50-3123-4567', 'test-device-secret-0001');
    expect(token).toMatchObject({ success: true, identity: 'DeviceId_0001', line: '+815031234567' });
    await expect(signIn('+81-3-1234-5678', 'test-device-secret-0003')).resolves.toMatchObject({ identity: 'tokyo.office' });
  });

  test('a hash at the production cost, as the first release made it, is copied byte for byte and verifies', async () => {
    const legacy = await createLegacyTable();
    const hashes = await putLegacyDevices(legacy, [FIRST_RELEASE[0]], reg.client, { N: 32768, r: 8, p: 1 });
    await upgradeRegistry({ client: reg.client, legacyTable: legacy, lines: reg.lines });
    const [member] = await reg.lines.findForSignIn('+815031234567');
    expect(member.secretHash).toBe(hashes.DeviceId_0001);
    expect(member.secretHash).toMatch(/^scrypt\$32768\$8\$1\$/);
    await expect(verifyDeviceSecret('test-device-secret-0001', member.secretHash)).resolves.toBe(true);
  });

  test('a second run copies nothing, and keeps a secret rotated (or a device added) after the first', async () => {
    const legacy = await createLegacyTable();
    await putLegacyDevices(legacy, FIRST_RELEASE);
    await upgradeRegistry({ client: reg.client, legacyTable: legacy, lines: reg.lines });
    // after the upgrade: DeviceId_0001 gets a new secret, a teammate joins its line
    const rotated = await memberRecord('+815031234567', 'DeviceId_0001', {
      secret: 'rotated-after-upgrade',
      createdAt: FIRST_RELEASE[0].createdAt,
      label: 'Front desk',
    });
    await reg.lines.put(rotated);
    await addMembers(reg.lines, '+815031234567', ['teammate'], Date.parse('2024-06-01T00:00:00Z'));

    const again = await upgradeRegistry({ client: reg.client, legacyTable: legacy, lines: reg.lines });
    expect(again).toEqual({ copied: 0, alreadyThere: 3, skipped: [] });
    const members = await reg.lines.findForSignIn('+815031234567');
    expect(members.map((m) => m.clientName)).toEqual(['DeviceId_0001', 'teammate']);
    expect(members[0].secretHash).toBe(rotated.secretHash);
    await expect(signIn('+815031234567', 'test-device-secret-0001')).rejects.toThrow(/^\[403\] /);
    await expect(signIn('+815031234567', 'rotated-after-upgrade')).resolves.toMatchObject({ identity: 'DeviceId_0001' });
  });

  test('an empty devices table (or one with only claims and malformed items) copies nothing', async () => {
    const legacy = await createLegacyTable();
    const doc = documentClient(reg.client);
    await doc.send(new PutCommand({ TableName: legacy, Item: { phoneNumber: 'client#orphan', claimOf: '+815031234567', claimedAt: 1 } }));
    await doc.send(new PutCommand({ TableName: legacy, Item: { phoneNumber: '+815031234569', clientName: 'no-hash' } }));
    expect(await upgradeRegistry({ client: reg.client, legacyTable: legacy, lines: reg.lines })).toEqual({ copied: 0, alreadyThere: 0, skipped: [] });
    expect(await reg.lines.listLines()).toEqual([]);
    expect(await reg.lines.findByClientName('orphan')).toBeUndefined();
  });

  test('a device whose line is already full is reported as skipped, with the reason; the others are copied', async () => {
    const legacy = await createLegacyTable();
    await putLegacyDevices(legacy, FIRST_RELEASE);
    // since the deploy, ten devices were added to DeviceId_0002's number
    await addMembers(
      reg.lines,
      '+815031234568',
      Array.from({ length: MAX_LINE_MEMBERS }, (_, i) => `new_${i}`),
    );
    const report = await upgradeRegistry({ client: reg.client, legacyTable: legacy, lines: reg.lines });
    expect(report.copied).toBe(2);
    expect(report.skipped).toEqual([
      { clientName: 'DeviceId_0002', phoneNumber: '+815031234568', reason: expect.stringMatching(/already has 10 devices/) },
    ]);
    expect(await reg.lines.findByClientName('DeviceId_0002')).toBeUndefined();
  });

  test('a device whose client name is now taken on ANOTHER line is reported as skipped (a conflict), not as already there', async () => {
    const legacy = await createLegacyTable();
    await putLegacyDevices(legacy, FIRST_RELEASE);
    // someone registered the name DeviceId_0002 on another number in the new registry
    await addMembers(reg.lines, '+819012345678', ['DeviceId_0002']);
    const report = await upgradeRegistry({ client: reg.client, legacyTable: legacy, lines: reg.lines });
    // the first release's device was NOT copied: its secret is lost unless someone is told
    expect((await reg.lines.findForSignIn('+815031234568')).map((m) => m.clientName)).toEqual([]);
    expect(report.skipped).toEqual([{ clientName: 'DeviceId_0002', phoneNumber: '+815031234568', reason: expect.stringContaining('+819012345678') }]);
    expect(report).toMatchObject({ copied: 2, alreadyThere: 0 });
  });
});

// ---------------------------------------------------------------------------------------------------------
// The custom resource of `cdk deploy`

const STACK_ID = 'arn:aws:cloudformation:ap-northeast-1:123456789012:stack/TwilioSoftphoneStack/4f4a2f10-0000-11ef-8000-0a1b2c3d4e5f';

function cfnRequest(type: 'Create' | 'Update' | 'Delete', extra: Record<string, unknown> = {}) {
  return {
    RequestType: type,
    ServiceToken: 'arn:aws:lambda:ap-northeast-1:123456789012:function:SoftphoneRegistryUpgrade',
    ResponseURL: 'https://cloudformation-custom-resource-response-apnortheast1.s3.ap-northeast-1.amazonaws.com/arn%3A...?X-Amz-Signature=abc',
    StackId: STACK_ID,
    RequestId: '2f5f6e5c-1111-4a4a-9b9b-0123456789ab',
    ResourceType: 'Custom::RegistryUpgrade',
    LogicalResourceId: 'RegistryUpgrade',
    ResourceProperties: { ServiceToken: 'arn:aws:lambda:…', SchemaVersion: '2' },
    ...extra,
  };
}

describe('the RegistryUpgrade custom resource (CloudFormation’s contract)', () => {
  function upgradeHandler(legacyTable: string) {
    const sent: { url: string; body: string }[] = [];
    let runs = 0;
    const handler = createRegistryUpgradeHandler(
      deps({
        upgradeRegistry: () => {
          runs++;
          return upgradeRegistry({ client: reg.client, legacyTable, lines: reg.lines });
        },
      }),
      {
        respond: async (url, body) => {
          sent.push({ url, body });
        },
      },
    );
    return { handler, sent, runs: () => runs };
  }

  test('Create: the upgrade runs, and the response PUT to the ResponseURL says SUCCESS with the ids and what was copied', async () => {
    const legacy = await createLegacyTable();
    await putLegacyDevices(legacy, FIRST_RELEASE);
    const { handler, sent } = upgradeHandler(legacy);
    const request = cfnRequest('Create');
    const returned = await handler(request, { log: new KeptLog(), metrics: NO_METRICS });
    expect(sent).toHaveLength(1);
    expect(sent[0].url).toBe(request.ResponseURL);
    const body = JSON.parse(sent[0].body) as CustomResourceResponse;
    expect(body).toEqual({
      Status: 'SUCCESS',
      PhysicalResourceId: UPGRADE_PHYSICAL_ID,
      StackId: STACK_ID,
      RequestId: request.RequestId,
      LogicalResourceId: 'RegistryUpgrade',
      Data: { copied: '3', alreadyThere: '0', skipped: '0' },
    });
    expect(returned).toEqual(body);
    // CloudFormation takes at most 4096 bytes of response
    expect(Buffer.byteLength(sent[0].body)).toBeLessThan(4096);
    expect((await reg.lines.listLines()).flatMap((l) => l.members.map((m) => m.clientName)).sort()).toEqual([
      'DeviceId_0001',
      'DeviceId_0002',
      'tokyo.office',
    ]);
  });

  test('Update: runs again (idempotent) and keeps the PhysicalResourceId CloudFormation gave', async () => {
    const legacy = await createLegacyTable();
    await putLegacyDevices(legacy, FIRST_RELEASE);
    const { handler, sent } = upgradeHandler(legacy);
    await handler(cfnRequest('Create'), { log: new KeptLog(), metrics: NO_METRICS });
    await handler(cfnRequest('Update', { PhysicalResourceId: 'registry-upgrade-v2', OldResourceProperties: { SchemaVersion: '2' } }), {
      log: new KeptLog(),
      metrics: NO_METRICS,
    });
    const second = JSON.parse(sent[1].body) as CustomResourceResponse;
    expect(second).toMatchObject({
      Status: 'SUCCESS',
      PhysicalResourceId: 'registry-upgrade-v2',
      Data: { copied: '0', alreadyThere: '3', skipped: '0' },
    });
  });

  test('Delete: SUCCESS without upgrading anything (the tables are retained)', async () => {
    const legacy = await createLegacyTable();
    await putLegacyDevices(legacy, FIRST_RELEASE);
    const { handler, sent, runs } = upgradeHandler(legacy);
    await handler(cfnRequest('Delete', { PhysicalResourceId: UPGRADE_PHYSICAL_ID }), { log: new KeptLog(), metrics: NO_METRICS });
    expect(runs()).toBe(0);
    expect(JSON.parse(sent[0].body)).toEqual({
      Status: 'SUCCESS',
      PhysicalResourceId: UPGRADE_PHYSICAL_ID,
      StackId: STACK_ID,
      RequestId: '2f5f6e5c-1111-4a4a-9b9b-0123456789ab',
      LogicalResourceId: 'RegistryUpgrade',
    });
    expect(await reg.lines.listLines()).toEqual([]);
  });

  test('a failing upgrade answers FAILED with a Reason (so the deploy rolls back), still at the ResponseURL', async () => {
    const { handler, sent } = upgradeHandler('no-such-legacy-table');
    const log = new KeptLog();
    const returned = await handler(cfnRequest('Create'), { log, metrics: NO_METRICS });
    const body = JSON.parse(sent[0].body) as CustomResourceResponse;
    expect(body).toMatchObject({
      Status: 'FAILED',
      PhysicalResourceId: UPGRADE_PHYSICAL_ID,
      StackId: STACK_ID,
      LogicalResourceId: 'RegistryUpgrade',
    });
    expect(body.Reason).toMatch(/^Registry upgrade failed: RegistryError: DynamoDB upgrade scan failed: ResourceNotFoundException/);
    expect(body.Reason!.length).toBeLessThanOrEqual(1000);
    expect(body.Data).toBeUndefined();
    expect(returned.Status).toBe('FAILED');
    expect(log.lines.some((l) => l.level === 'ERROR' && l.message === 'registry upgrade failed')).toBe(true);
  });

  test('skipped devices are logged by name and number (the operator must act), and counted in Data', async () => {
    const legacy = await createLegacyTable();
    await putLegacyDevices(legacy, FIRST_RELEASE);
    await addMembers(
      reg.lines,
      '+815031234568',
      Array.from({ length: MAX_LINE_MEMBERS }, (_, i) => `new_${i}`),
    );
    const { handler, sent } = upgradeHandler(legacy);
    const log = new KeptLog();
    await handler(cfnRequest('Create'), { log, metrics: NO_METRICS });
    expect(JSON.parse(sent[0].body)).toMatchObject({ Status: 'SUCCESS', Data: { copied: '2', skipped: '1' } });
    expect(log.lines).toContainEqual(
      expect.objectContaining({
        level: 'WARN',
        message: 'device not copied',
        fields: expect.objectContaining({ clientName: 'DeviceId_0002', phoneNumber: '+815031234568' }),
      }),
    );
  });

  test('what is not a CloudFormation request is refused without answering anywhere', async () => {
    const { handler, sent } = upgradeHandler('whatever');
    await expect(
      handler({ RequestType: 'Create', ResponseURL: 'http://insecure.example/' }, { log: new KeptLog(), metrics: NO_METRICS }),
    ).rejects.toThrow(/not a CloudFormation custom resource request/);
    await expect(
      handler({ RequestType: 'Replace', ResponseURL: 'https://x.example/' }, { log: new KeptLog(), metrics: NO_METRICS }),
    ).rejects.toThrow();
    await expect(handler('Create', { log: new KeptLog(), metrics: NO_METRICS })).rejects.toThrow();
    expect(sent).toEqual([]);
  });

  test('the handler cannot be built without the upgrade bound to its tables (a misconfigured function fails fast)', () => {
    expect(() => createRegistryUpgradeHandler(deps())).toThrow('The registry upgrade handler needs upgradeRegistry');
  });
});

// ---------------------------------------------------------------------------------------------------------
// The local app on a registry made by the first release

describe('the local app opening a registry made by the first release', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'softphone-upgrade-'));
    await writeMinimalSite(path.join(dir, 'site'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('upgrades its devices at start, says so, and they sign in over HTTP with their old secrets; a restart copies nothing more', async () => {
    const registryPath = path.join(dir, 'registry');
    // The first release's registry: its devices and attempts tables in the LevelDB directory.
    const old = await listenDynalite({ path: registryPath });
    const { DynamoDBClient } = await import('@aws-sdk/client-dynamodb');
    const client = new DynamoDBClient({
      endpoint: old.endpoint,
      region: 'local',
      credentials: { accessKeyId: 'AKIDFIRSTRELEASE', secretAccessKey: 'not-checked-by-plain-dynalite' },
    });
    try {
      await createLegacyTable(client, LOCAL_LEGACY_DEVICES_TABLE);
      await client.send(new CreateTableCommand(attemptsTableInput(LOCAL_ATTEMPTS_TABLE)));
      await putLegacyDevices(LOCAL_LEGACY_DEVICES_TABLE, FIRST_RELEASE.slice(0, 2), client);
    } finally {
      client.destroy();
      await old.close();
    }

    const logged: string[] = [];
    const start = () =>
      startLocalApp({
        port: 0,
        registryPath,
        credentials: TEST_CREDENTIALS,
        clientDir: path.join(dir, 'site'),
        env: {},
        log: (line) => logged.push(line),
      });
    let app = await start();
    try {
      expect(logged).toContain('Registry upgraded to lines: 2 device(s) copied, 0 already there, 0 skipped.');
      expect((await app.lines.listLines()).map((l) => [l.number, l.members.map((m) => m.clientName)])).toEqual([
        ['+815031234567', ['DeviceId_0001']],
        ['+815031234568', ['DeviceId_0002']],
      ]);
      const res = await fetch(app.routeUrls.token, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ twilioPhoneNumber: '+81-50-3123-4568', deviceSecret: 'test-device-secret-0002' }),
      });
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ success: true, identity: 'DeviceId_0002', line: '+815031234568' });
    } finally {
      await app.close();
    }
    logged.length = 0;
    app = await start();
    try {
      expect(logged).toContain('Registry upgraded to lines: 0 device(s) copied, 2 already there, 0 skipped.');
      expect((await app.lines.findLine('+815031234567'))?.members).toHaveLength(1);
    } finally {
      await app.close();
    }
  }, 120_000);
});
