/**
 * The local device registry: an embedded dynalite server (the real DynamoDB protocol on LevelDB) persisted at
 * `SOFTPHONE_REGISTRY` (default `.local/registry`), reached with the handlers' own DynamoDB adapters.
 *
 * LevelDB is single-process: whoever opens the directory holds an OS lock on `<registry>/LOCK` until it closes
 * or dies. So exactly one process embeds dynalite at a time, and the others talk to it over HTTP:
 *
 * - the owner (the local app, or the device CLI when the app is not running) writes an endpoint file
 *   `<registry>/endpoint.json` = `{pid, endpoint, owner, startedAt}` once its dynalite listens (the local app
 *   adds its own URL and where its Twilio credentials come from, for `npm run sign`), and removes it when it
 *   closes;
 * - `openLocalRegistry` (the device CLI) first reads that file; when the pid is alive AND the endpoint answers
 *   a DynamoDB `ListTables` it uses that server; otherwise it embeds dynalite itself.
 *
 * Only processes holding the registry's credentials may reach it: the owner's dynalite accepts nothing but
 * requests signed (AWS SigV4) with a key pair made at start and kept only in the endpoint file (mode 0600,
 * inside the registry), and refuses every request a browser makes (one with an `Origin` or `Sec-Fetch-*`
 * header) before reading it, so a web page on any origin can neither read nor write devices. It listens on
 * 127.0.0.1 only.
 *
 * The file is only a discovery hint, validated by a live request; the LevelDB lock is the real mutual
 * exclusion and the OS releases it when a process dies, so a stale file (kill -9) costs nothing. Opening a
 * registry that another process holds is retried for a few seconds (a CLI command holds it for well under a
 * second) and then refused with a clear `RegistryInUseError`.
 *
 * Everything the local app generates lives inside the registry's own directory, beside LevelDB's files (which
 * LevelDB leaves alone): `endpoint.json`, `dev-credentials.json` and the softphone build `softphone/`. Nothing
 * is written next to it, so a registry anywhere never writes into the source tree.
 */
import { CreateTableCommand, DescribeTableCommand, ListTablesCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { createDynamoClient } from '../../lambda/adapters/dynamo';
import { DynamoAttemptStore } from '../../lambda/adapters/dynamo-attempt-store';
import { DynamoCallLog } from '../../lambda/adapters/dynamo-call-log';
import { DynamoLineDirectory } from '../../lambda/adapters/dynamo-line-directory';
import { DynamoVoicemailStore } from '../../lambda/adapters/dynamo-voicemail-store';
import { attemptsTableInput, callsTableInput, registryTableInput } from '../../lambda/adapters/registry-schema';
import { upgradeRegistry } from '../../lambda/adapters/registry-upgrade';
import { CALL_LOG_RETENTION_DAYS } from '../../lambda/core/settings';
import type { UpgradeReport } from '../../lambda/ports';
import { listenDynalite, LOCAL_REGION, type RegistryCredentials } from './dynalite-server';

export { listenDynalite, LOCAL_REGION, type DynaliteServer, type RegistryCredentials } from './dynalite-server';

/** Table names inside the local registry. */
export const LOCAL_REGISTRY_TABLE = 'softphone-lines';
/** The first release's devices table: read once by the upgrade when a registry made by that release is opened. */
export const LOCAL_LEGACY_DEVICES_TABLE = 'softphone-devices';
export const LOCAL_ATTEMPTS_TABLE = 'softphone-sign-in-attempts';
export const LOCAL_CALLS_TABLE = 'softphone-calls';
export const DEFAULT_REGISTRY_PATH = path.join('.local', 'registry');

/** `SOFTPHONE_REGISTRY` (absolute, resolved against the working directory), default `.local/registry`. */
export function registryPathFromEnv(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): string {
  const value = env.SOFTPHONE_REGISTRY?.trim();
  return path.resolve(cwd, value ? value : DEFAULT_REGISTRY_PATH);
}

/** `<registry>/endpoint.json`: where a running owner's dynalite listens. */
export function endpointFilePath(registryPath: string): string {
  return path.join(path.resolve(registryPath), 'endpoint.json');
}

/** Where the running local app (when it is the owner) serves, and whose Twilio credentials it uses. */
export interface AppAnnouncement {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** PUBLIC_BASE_URL when set: the URL Twilio calls (a tunnel), signed like `url` */
  publicBaseUrl?: string;
  /** 'development': `dev-credentials.json` in the registry; otherwise TWILIO_* of the app's environment */
  credentials: 'development' | 'environment' | 'options';
  /** first 16 hex digits of SHA-256 of its Auth Token: lets `npm run sign` tell a different token apart */
  authTokenFingerprint: string;
}

export interface EndpointInfo {
  pid: number;
  endpoint: string;
  credentials: RegistryCredentials;
  owner: string;
  startedAt: string;
  app?: AppAnnouncement;
}

/** True when a registry (LevelDB's CURRENT file) exists at the path: some owner created it before. */
export async function registryExists(registryPath: string): Promise<boolean> {
  return stat(path.join(path.resolve(registryPath), 'CURRENT')).then(
    (st) => st.isFile(),
    () => false,
  );
}

/** The registry directory cannot be created, read or opened (permissions, a file in the way, corruption). */
export class RegistryUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RegistryUnavailableError';
  }
}

/** Another process holds the registry's LevelDB lock. */
export class RegistryInUseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RegistryInUseError';
  }
}

export interface LocalRegistry {
  lines: DynamoLineDirectory;
  attempts: DynamoAttemptStore;
  voicemails: DynamoVoicemailStore;
  /** The call log, keeping calls for the default retention (the local app builds its own with its settings). */
  calls: DynamoCallLog;
  /** When this open upgraded a registry of the first release: what it copied. */
  upgraded?: UpgradeReport;
  client: DynamoDBClient;
  /** `http://127.0.0.1:<port>` of the dynalite server in use. */
  endpoint: string;
  /** the key pair it accepts */
  credentials: RegistryCredentials;
  /** 'embedded': this process owns dynalite; 'shared': another process (e.g. the running local app) does. */
  mode: 'embedded' | 'shared';
  /** For 'shared': who owns it. */
  owner?: EndpointInfo;
  /** For 'embedded': adds the local app's URL and credentials source to the endpoint file. */
  announce?(app: AppAnnouncement): Promise<void>;
  close(): Promise<void>;
}

/** A DynamoDB client for the local registry (its key pair; the handlers' timeouts, a little more room). */
export function localDynamoClient(endpoint: string, credentials: RegistryCredentials): DynamoDBClient {
  return createDynamoClient({
    endpoint,
    region: LOCAL_REGION,
    credentials,
    requestHandler: { connectionTimeout: 2000, requestTimeout: 10_000, throwOnRequestTimeout: true },
  });
}

/** The local registry's stores, over one client. */
function storesFor(client: DynamoDBClient): Pick<LocalRegistry, 'lines' | 'attempts' | 'voicemails' | 'calls'> {
  return {
    lines: new DynamoLineDirectory({ client, table: LOCAL_REGISTRY_TABLE }),
    attempts: new DynamoAttemptStore({ client, table: LOCAL_ATTEMPTS_TABLE }),
    voicemails: new DynamoVoicemailStore({ client, table: LOCAL_REGISTRY_TABLE }),
    calls: new DynamoCallLog({ client, table: LOCAL_CALLS_TABLE, retentionDays: CALL_LOG_RETENTION_DAYS.default }),
  };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function readEndpointFile(registryPath: string): Promise<EndpointInfo | undefined> {
  try {
    const info = JSON.parse(await readFile(endpointFilePath(registryPath), 'utf8')) as Partial<EndpointInfo>;
    if (typeof info.pid !== 'number' || typeof info.endpoint !== 'string' || !/^http:\/\/127\.0\.0\.1:\d+$/.test(info.endpoint)) return undefined;
    const credentials = info.credentials;
    if (typeof credentials?.accessKeyId !== 'string' || typeof credentials.secretAccessKey !== 'string') return undefined;
    const app = info.app && typeof info.app.url === 'string' && typeof info.app.authTokenFingerprint === 'string' ? info.app : undefined;
    return {
      pid: info.pid,
      endpoint: info.endpoint,
      credentials: { accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey },
      owner: String(info.owner ?? 'unknown'),
      startedAt: String(info.startedAt ?? ''),
      ...(app ? { app } : {}),
    };
  } catch {
    return undefined;
  }
}

/** The running owner's endpoint when its pid is alive and it answers ListTables; undefined otherwise. */
export async function findRunningRegistry(registryPath: string): Promise<EndpointInfo | undefined> {
  const info = await readEndpointFile(registryPath);
  if (!info || !pidAlive(info.pid)) return undefined;
  const client = localDynamoClient(info.endpoint, info.credentials);
  try {
    await client.send(new ListTablesCommand({}), { abortSignal: AbortSignal.timeout(2000) });
    return info;
  } catch {
    return undefined;
  } finally {
    client.destroy();
  }
}

async function ensureDirectory(registryPath: string): Promise<void> {
  try {
    await mkdir(registryPath, { recursive: true });
    const st = await stat(registryPath);
    if (!st.isDirectory()) throw new Error('not a directory');
  } catch (err) {
    throw new RegistryUnavailableError(
      `The registry at ${registryPath} cannot be created or read (${(err as Error).message}). ` +
        'Check SOFTPHONE_REGISTRY and the directory permissions.',
      { cause: err },
    );
  }
}

/**
 * Opens the LevelDB store once by itself to turn lock and corruption errors into clear errors (dynalite
 * would otherwise fail later with an uncaught "Database is not open"). Retries a held lock for `waitMs`.
 */
async function probeLevel(registryPath: string, waitMs: number): Promise<void> {
  const { Level } = require('level') as { Level: new (p: string, o: object) => { open(): Promise<void>; close(): Promise<void> } };
  const deadline = Date.now() + waitMs;
  for (;;) {
    const db = new Level(registryPath, { valueEncoding: 'json' });
    try {
      await db.open();
      await db.close();
      return;
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      if (cause?.code === 'LEVEL_LOCKED') {
        if (Date.now() < deadline) {
          await sleep(150);
          continue;
        }
        const holder = await readEndpointFile(registryPath);
        throw new RegistryInUseError(
          `The registry at ${registryPath} is in use by another process` +
            (holder && pidAlive(holder.pid) ? ` (${holder.owner}, pid ${holder.pid})` : '') +
            '. Stop it, or point SOFTPHONE_REGISTRY at another directory.',
        );
      }
      throw new RegistryUnavailableError(
        `The registry at ${registryPath} cannot be opened: ${cause?.message ?? (err as Error).message}. ` +
          'Check the directory permissions, or move it away to start with an empty registry.',
        { cause: err },
      );
    }
  }
}

/**
 * Creates the registry, attempts and (when named) calls tables (CreateTable inputs from registry-schema) that do not exist yet, and
 * waits until each is ACTIVE. The one table set-up for dynalite: the local app, the device CLI and the tests.
 * (Here, not in `lambda/`, so the Lambda bundles do not carry it.) Returns the tables that were there before.
 */
export async function createRegistryTables(
  client: DynamoDBClient,
  registryTable: string,
  attemptsTable: string,
  callsTable?: string,
): Promise<Set<string>> {
  const existing = new Set((await client.send(new ListTablesCommand({}))).TableNames ?? []);
  const inputs = [registryTableInput(registryTable), attemptsTableInput(attemptsTable), ...(callsTable ? [callsTableInput(callsTable)] : [])];
  for (const input of inputs) {
    const name = input.TableName!;
    if (!existing.has(name)) await client.send(new CreateTableCommand(input));
    for (let attempt = 0; ; attempt++) {
      const { Table } = await client.send(new DescribeTableCommand({ TableName: name }));
      if (Table?.TableStatus === 'ACTIVE') break;
      if (attempt >= 50) throw new Error(`Table ${name} is still ${Table?.TableStatus ?? 'missing'} after creation`);
      await sleep(20);
    }
  }
  return existing;
}

export interface EmbeddedRegistryOptions {
  /** Written to the endpoint file, e.g. 'local app' or 'device CLI'. */
  owner: string;
  /** How long to wait for a lock held by another process; default 3 s. */
  lockWaitMs?: number;
  /** Run dynalite on a worker thread of its own (the local app: its API and the registry then each get a core). */
  thread?: boolean;
  /** With `thread`: the registry's thread failed after start. */
  onThreadError?: (err: Error) => void;
}

/** Embeds dynalite on `registryPath` (this process becomes the owner) and writes the endpoint file. */
export async function startEmbeddedRegistry(registryPath: string, opts: EmbeddedRegistryOptions): Promise<LocalRegistry> {
  const dir = path.resolve(registryPath);
  await ensureDirectory(dir);
  await probeLevel(dir, opts.lockWaitMs ?? 3000);
  // A key pair for this run only: whoever can read the endpoint file (mode 0600) may use the registry.
  const credentials: RegistryCredentials = {
    accessKeyId: `LOCAL${randomBytes(8).toString('hex').toUpperCase()}`,
    secretAccessKey: randomBytes(30).toString('base64'),
  };
  const server = await listenDynalite({ path: dir, key: credentials, cacheReads: true, thread: opts.thread, onThreadError: opts.onThreadError });
  const endpoint = server.endpoint;
  const client = localDynamoClient(endpoint, credentials);
  const stores = storesFor(client);
  let upgraded: UpgradeReport | undefined;
  try {
    const existing = await createRegistryTables(client, LOCAL_REGISTRY_TABLE, LOCAL_ATTEMPTS_TABLE, LOCAL_CALLS_TABLE);
    // A registry made by the first release: its devices join their numbers' lines (idempotent).
    if (existing.has(LOCAL_LEGACY_DEVICES_TABLE)) {
      upgraded = await upgradeRegistry({ client, legacyTable: LOCAL_LEGACY_DEVICES_TABLE, lines: stores.lines });
    }
  } catch (err) {
    client.destroy();
    await server.close();
    throw new RegistryUnavailableError(`The registry at ${dir} could not be prepared: ${(err as Error).message}`, { cause: err });
  }
  const info: EndpointInfo = { pid: process.pid, endpoint, credentials, owner: opts.owner, startedAt: new Date().toISOString() };
  const endpointFile = endpointFilePath(dir);
  await writeFile(endpointFile, `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 }).catch(() => undefined);
  let closed: Promise<void> | undefined;
  return {
    ...stores,
    ...(upgraded ? { upgraded } : {}),
    client,
    endpoint,
    credentials,
    mode: 'embedded',
    announce: (app) => writeFile(endpointFile, `${JSON.stringify({ ...info, app }, null, 2)}\n`, { mode: 0o600 }),
    close: () =>
      (closed ??= (async () => {
        const current = await readEndpointFile(dir);
        if (current && current.pid === process.pid && current.endpoint === endpoint) await rm(endpointFile, { force: true });
        client.destroy();
        await server.close();
      })()),
  };
}

/** No registry exists at the path: nothing to open (a command-line tool does not start a new, empty one). */
export class RegistryNotFoundError extends Error {
  constructor(registryPath: string) {
    super(
      `No local registry at ${registryPath}. Start the local app first (\`npm start\`), or set SOFTPHONE_REGISTRY to the ` +
        'registry of the app you run; for the deployed registry pass --table <DevicesTableName>.',
    );
    this.name = 'RegistryNotFoundError';
  }
}

/**
 * The registry for a command-line tool: the running owner's dynalite when there is one (e.g. `npm start` is
 * running), else an embedded one for the duration of the command. Throws RegistryNotFoundError when no registry
 * exists there yet (a mistyped SOFTPHONE_REGISTRY must not silently start an empty one).
 */
export async function openLocalRegistry(registryPath: string, owner = 'device CLI'): Promise<LocalRegistry> {
  const running = await findRunningRegistry(registryPath);
  if (running) {
    const client = localDynamoClient(running.endpoint, running.credentials);
    return {
      ...storesFor(client),
      client,
      endpoint: running.endpoint,
      credentials: running.credentials,
      mode: 'shared',
      owner: running,
      close: async () => client.destroy(),
    };
  }
  if (!(await registryExists(registryPath))) throw new RegistryNotFoundError(path.resolve(registryPath));
  return startEmbeddedRegistry(registryPath, { owner });
}
