/**
 * The one registry implementation: DynamoDB through the AWS SDK v3 document client. In AWS it talks to
 * DynamoDB, locally and in tests to an embedded dynalite server (same protocol).
 */
import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { awsClientConfig } from './aws-clients';
import { ATTEMPTS_KEY, ATTEMPTS_TTL_ATTRIBUTE, CLIENT_NAME_ATTRIBUTE, CLIENT_NAME_INDEX, DEVICE_KEY } from './registry-schema';

export interface DeviceRecord {
  phoneNumber: string; // E.164, partition key of the devices table
  clientName: string; // the Twilio Client identity; unique (GSI `clientName-index`)
  secretHash: string; // from hashDeviceSecret(); never the secret itself
  label?: string;
  createdAt: string; // ISO-8601
}

export interface Registry {
  findByNumber(phoneNumber: string): Promise<DeviceRecord | undefined>;
  findByClientName(clientName: string): Promise<DeviceRecord | undefined>;
  put(record: DeviceRecord): Promise<void>;
  remove(phoneNumber: string): Promise<boolean>;
  list(): Promise<DeviceRecord[]>;
}

/** Failed sign-in attempts for one number (state of the brute-force lockout). */
export interface AttemptRecord {
  failures: number;
  /** Epoch seconds of the last failure. */
  lastFailureAt: number;
  /** Epoch seconds after which the record is forgotten (DynamoDB TTL; also checked on read). */
  expiresAt: number;
}

export interface AttemptStore {
  getAttempts(key: string, nowSeconds: number): Promise<AttemptRecord | undefined>;
  /** Atomically counts one failure; a record past its expiry starts again at 1. */
  recordFailure(key: string, nowSeconds: number, rememberSeconds: number): Promise<AttemptRecord>;
  clearAttempts(key: string): Promise<void>;
}

export function isAttemptStore(v: unknown): v is AttemptStore {
  const o = v as Partial<AttemptStore> | null;
  return !!o && typeof o.getAttempts === 'function' && typeof o.recordFailure === 'function' && typeof o.clearAttempts === 'function';
}

/** Thrown for DynamoDB failures (throttling, timeouts, service errors). Handlers map it to 503 / TwiML. */
export class RegistryError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RegistryError';
  }
}

/** Thrown by put() when another number already uses the client name. */
export class DuplicateClientNameError extends Error {
  constructor(clientName: string) {
    super(`The client name "${clientName}" is already registered to another number`);
    this.name = 'DuplicateClientNameError';
  }
}

/** A DynamoDB client with explicit timeouts and bounded retries (see aws-clients.ts). */
export function createDynamoClient(overrides: ConstructorParameters<typeof DynamoDBClient>[0] = {}): DynamoDBClient {
  return new DynamoDBClient({ ...awsClientConfig(), ...overrides });
}

export class DynamoRegistry implements Registry, AttemptStore {
  private readonly doc: DynamoDBDocumentClient;
  private readonly devicesTable: string;
  private readonly attemptsTable: string;

  constructor(opts: { client: DynamoDBClient; devicesTable: string; attemptsTable: string }) {
    this.doc = DynamoDBDocumentClient.from(opts.client, { marshallOptions: { removeUndefinedValues: true } });
    this.devicesTable = opts.devicesTable;
    this.attemptsTable = opts.attemptsTable;
  }

  async findByNumber(phoneNumber: string): Promise<DeviceRecord | undefined> {
    const out = await this.call('findByNumber', () =>
      this.doc.send(new GetCommand({ TableName: this.devicesTable, Key: { [DEVICE_KEY]: phoneNumber }, ConsistentRead: true })),
    );
    return toDevice(out.Item);
  }

  async findByClientName(clientName: string): Promise<DeviceRecord | undefined> {
    const out = await this.call('findByClientName', () =>
      this.doc.send(
        new QueryCommand({
          TableName: this.devicesTable,
          IndexName: CLIENT_NAME_INDEX,
          KeyConditionExpression: '#c = :c',
          ExpressionAttributeNames: { '#c': CLIENT_NAME_ATTRIBUTE },
          ExpressionAttributeValues: { ':c': clientName },
          Limit: 2,
        }),
      ),
    );
    const items = out.Items ?? [];
    // The index is eventually consistent: confirm against the table, which is the source of truth.
    for (const item of items) {
      const device = toDevice(item);
      if (!device) continue;
      const fresh = await this.findByNumber(device.phoneNumber);
      if (fresh && fresh.clientName === clientName) return fresh;
    }
    return undefined;
  }

  async put(record: DeviceRecord): Promise<void> {
    const existing = await this.findByClientName(record.clientName);
    if (existing && existing.phoneNumber !== record.phoneNumber) throw new DuplicateClientNameError(record.clientName);
    const item: Record<string, string> = {
      [DEVICE_KEY]: record.phoneNumber,
      clientName: record.clientName,
      secretHash: record.secretHash,
      createdAt: record.createdAt,
    };
    if (record.label !== undefined) item.label = record.label;
    await this.call('put', () => this.doc.send(new PutCommand({ TableName: this.devicesTable, Item: item })));
  }

  async remove(phoneNumber: string): Promise<boolean> {
    const out = await this.call('remove', () =>
      this.doc.send(new DeleteCommand({ TableName: this.devicesTable, Key: { [DEVICE_KEY]: phoneNumber }, ReturnValues: 'ALL_OLD' })),
    );
    return out.Attributes !== undefined;
  }

  async list(): Promise<DeviceRecord[]> {
    const records: DeviceRecord[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out = await this.call('list', () =>
        this.doc.send(new ScanCommand({ TableName: this.devicesTable, ExclusiveStartKey: start, ConsistentRead: true })),
      );
      for (const item of out.Items ?? []) {
        const d = toDevice(item);
        if (d) records.push(d);
      }
      start = out.LastEvaluatedKey;
    } while (start);
    return records.sort((a, b) => a.phoneNumber.localeCompare(b.phoneNumber));
  }

  async getAttempts(key: string, nowSeconds: number): Promise<AttemptRecord | undefined> {
    const out = await this.call('getAttempts', () =>
      this.doc.send(new GetCommand({ TableName: this.attemptsTable, Key: { [ATTEMPTS_KEY]: key }, ConsistentRead: true })),
    );
    const rec = toAttempt(out.Item);
    return rec && rec.expiresAt > nowSeconds ? rec : undefined;
  }

  async recordFailure(key: string, nowSeconds: number, rememberSeconds: number): Promise<AttemptRecord> {
    const expiresAt = nowSeconds + rememberSeconds;
    const names = { '#f': 'failures', '#l': 'lastFailureAt', '#e': ATTEMPTS_TTL_ATTRIBUTE };
    try {
      // Count on a live record (TTL deletion is lazy, so an expired record may still be there).
      const out = await this.doc.send(
        new UpdateCommand({
          TableName: this.attemptsTable,
          Key: { [ATTEMPTS_KEY]: key },
          UpdateExpression: 'ADD #f :one SET #l = :now, #e = :exp',
          ConditionExpression: 'attribute_not_exists(#e) OR #e > :now',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: { ':one': 1, ':now': nowSeconds, ':exp': expiresAt },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return toAttempt(out.Attributes) ?? { failures: 1, lastFailureAt: nowSeconds, expiresAt };
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException) && (err as Error)?.name !== 'ConditionalCheckFailedException') {
        throw new RegistryError(`DynamoDB recordFailure failed: ${(err as Error)?.name ?? 'Error'}`, { cause: err });
      }
    }
    // The record had expired: start again at one failure.
    const out = await this.call('recordFailure', () =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.attemptsTable,
          Key: { [ATTEMPTS_KEY]: key },
          UpdateExpression: 'SET #f = :one, #l = :now, #e = :exp',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: { ':one': 1, ':now': nowSeconds, ':exp': expiresAt },
          ReturnValues: 'ALL_NEW',
        }),
      ),
    );
    return toAttempt(out.Attributes) ?? { failures: 1, lastFailureAt: nowSeconds, expiresAt };
  }

  async clearAttempts(key: string): Promise<void> {
    await this.call('clearAttempts', () => this.doc.send(new DeleteCommand({ TableName: this.attemptsTable, Key: { [ATTEMPTS_KEY]: key } })));
  }

  private async call<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof DuplicateClientNameError) throw err;
      throw new RegistryError(`DynamoDB ${operation} failed: ${(err as Error)?.name ?? 'Error'}`, { cause: err });
    }
  }
}

function toDevice(item: Record<string, unknown> | undefined): DeviceRecord | undefined {
  if (!item) return undefined;
  const { phoneNumber, clientName, secretHash, label, createdAt } = item;
  if (typeof phoneNumber !== 'string' || typeof clientName !== 'string' || typeof secretHash !== 'string') return undefined;
  const record: DeviceRecord = {
    phoneNumber,
    clientName,
    secretHash,
    createdAt: typeof createdAt === 'string' ? createdAt : '',
  };
  if (typeof label === 'string') record.label = label;
  return record;
}

function toAttempt(item: Record<string, unknown> | undefined): AttemptRecord | undefined {
  if (!item) return undefined;
  const failures = Number(item.failures);
  const lastFailureAt = Number(item.lastFailureAt);
  const expiresAt = Number(item[ATTEMPTS_TTL_ATTRIBUTE]);
  if (!Number.isFinite(failures) || !Number.isFinite(lastFailureAt) || !Number.isFinite(expiresAt)) return undefined;
  return { failures, lastFailureAt, expiresAt };
}
