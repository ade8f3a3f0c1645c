/**
 * The dynalite fixture: an in-process dynalite server (the real DynamoDB protocol on 127.0.0.1) with the
 * registry's tables made by the local app's own set-up (`createRegistryTables`), reached through the handlers'
 * own DynamoDB adapters.
 *
 * - `useDynalite()` in a test file: one server for the file (beforeAll/afterAll) and FRESH, uniquely named
 *   tables for every test (beforeEach), optionally seeded. No test sees another's writes, so any test runs alone
 *   (`-t`) and in any order. It returns a live view of the current test's tables.
 * - `startDynalite()`: one server with one set of tables, closed by the caller (a single test's own registry).
 * - `freshTables(client)`: new, uniquely named tables on any dynalite (e.g. an embedded local registry).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoAttemptStore } from '../../lambda/adapters/dynamo-attempt-store';
import { DynamoCallLog } from '../../lambda/adapters/dynamo-call-log';
import { DynamoLineDirectory } from '../../lambda/adapters/dynamo-line-directory';
import { DynamoVoicemailStore } from '../../lambda/adapters/dynamo-voicemail-store';
import { createRegistryTables, listenDynalite } from '../../lib/local/registry-server';

/** One set of registry tables and their stores. */
export interface RegistryTables {
  /** the lines and their devices (the registry table) */
  lines: DynamoLineDirectory;
  /** the voicemails of the same registry table */
  voicemails: DynamoVoicemailStore;
  attempts: DynamoAttemptStore;
  /** the call log (the calls table) */
  calls: DynamoCallLog;
  registryTable: string;
  attemptsTable: string;
  callsTable: string;
}

/** A set of tables on a running server, with the server's endpoint and client. */
export interface Dynalite extends RegistryTables {
  endpoint: string;
  client: DynamoDBClient;
}

let tableCounter = 0;

/** Creates a registry, an attempts and a calls table with names no other test in this process uses. */
export async function freshTables(client: DynamoDBClient): Promise<RegistryTables> {
  const n = ++tableCounter;
  const registryTable = `lines-${process.pid}-${n}`;
  const attemptsTable = `attempts-${process.pid}-${n}`;
  const callsTable = `calls-${process.pid}-${n}`;
  await createRegistryTables(client, registryTable, attemptsTable, callsTable);
  return {
    lines: new DynamoLineDirectory({ client, table: registryTable }),
    voicemails: new DynamoVoicemailStore({ client, table: registryTable }),
    attempts: new DynamoAttemptStore({ client, table: attemptsTable }),
    calls: new DynamoCallLog({ client, table: callsTable, retentionDays: 90 }),
    registryTable,
    attemptsTable,
    callsTable,
  };
}

export interface DynaliteServer {
  endpoint: string;
  client: DynamoDBClient;
  close(): Promise<void>;
}

/** An in-memory dynalite on 127.0.0.1 and a client for it. */
export async function startDynaliteServer(): Promise<DynaliteServer> {
  const server = await listenDynalite();
  const client = new DynamoDBClient({
    endpoint: server.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDTESTFAKE', secretAccessKey: 'test-secret-not-real' },
    maxAttempts: 2,
  });
  return {
    endpoint: server.endpoint,
    client,
    close: async () => {
      client.destroy();
      await server.close();
    },
  };
}

/** A dynalite server with one set of fresh tables; `close()` stops it. */
export async function startDynalite(): Promise<Dynalite & { close(): Promise<void> }> {
  const server = await startDynaliteServer();
  return { endpoint: server.endpoint, client: server.client, ...(await freshTables(server.client)), close: server.close };
}

/**
 * One dynalite server for the test file, fresh tables for each test. `seed` runs on each test's new tables
 * (e.g. registering the walkthrough's device). The returned object always shows the current test's tables;
 * its `endpoint` and `client` (the server's) can be used from `beforeAll` on.
 */
export function useDynalite(opts: { seed?: (tables: Dynalite) => Promise<unknown> } = {}): Dynalite {
  let server: DynaliteServer | undefined;
  let tables: RegistryTables | undefined;
  const running = (): DynaliteServer => {
    if (!server) throw new Error('useDynalite: the server starts in beforeAll');
    return server;
  };
  const current = (): RegistryTables => {
    if (!tables) throw new Error('useDynalite: tables are made for each test, in beforeEach');
    return tables;
  };
  const view = {} as Dynalite;
  for (const key of ['endpoint', 'client'] as const) Object.defineProperty(view, key, { get: () => running()[key], enumerable: true });
  for (const key of ['lines', 'voicemails', 'attempts', 'calls', 'registryTable', 'attemptsTable', 'callsTable'] as const) {
    Object.defineProperty(view, key, { get: () => current()[key], enumerable: true });
  }
  beforeAll(async () => {
    server = await startDynaliteServer();
  });
  beforeEach(async () => {
    tables = await freshTables(running().client);
    await opts.seed?.(view);
  });
  afterAll(async () => {
    await server?.close();
    server = undefined;
  });
  return view;
}
