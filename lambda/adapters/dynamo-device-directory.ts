/**
 * The DeviceDirectory on DynamoDB (the devices table): in AWS, and locally and in tests on an embedded dynalite
 * (the same protocol, the same code).
 *
 * Items of the table, keyed by `phoneNumber`:
 * - a device: key = its E.164 number; `clientName`, `secretHash`, `label`, `createdAt`;
 * - a client-name claim: key = `client#<clientName>`, `claimOf` = the number that holds the name, `claimedAt`.
 *   A put first claims the name with ONE conditional write (the name is free, or already this number's), and
 *   only then writes the device: of two concurrent puts of one name for two numbers, exactly one claim
 *   succeeds. (A conditional write per item rather than a transaction: dynalite, the local registry, has no
 *   TransactWriteItems; the order below keeps every step safe to interrupt.) A claim whose holder has no
 *   device with that name (a put or remove cut short) is stale after CLAIM_STALE_SECONDS and may be taken
 *   over, again by a conditional write. The claim also finds a device by client name with a consistent read.
 *   Devices registered before claims existed have none: for them the `clientName-index` GSI still finds the
 *   device, and their next write creates the claim.
 *
 * Reads name the attributes they need (ProjectionExpression): only `findForSignIn` reads a secret hash.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, GetCommand, PutCommand, QueryCommand, ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DuplicateClientNameError, RegistryError, type Device, type DeviceDirectory, type DeviceRecord } from '../ports';
import { documentClient, dynamoCall, isConditionalCheckFailure } from './dynamo';
import { CLIENT_CLAIM_PREFIX, CLIENT_NAME_ATTRIBUTE, CLIENT_NAME_INDEX, DEVICE_KEY } from './registry-schema';

/** What every read but sign-in fetches: the device without its secret hash. */
const DEVICE_ATTRIBUTES = {
  ProjectionExpression: '#k, #c, #l, #t',
  ExpressionAttributeNames: { '#k': DEVICE_KEY, '#c': CLIENT_NAME_ATTRIBUTE, '#l': 'label', '#t': 'createdAt' },
};

const claimKey = (clientName: string) => ({ [DEVICE_KEY]: `${CLIENT_CLAIM_PREFIX}${clientName}` });

/** How old a claim whose holder has no device with the name must be before another number may take it. */
export const CLAIM_STALE_SECONDS = 60;

export class DynamoDeviceDirectory implements DeviceDirectory {
  private readonly doc: DynamoDBDocumentClient;
  private readonly table: string;

  constructor(opts: { client: DynamoDBClient; table: string }) {
    this.doc = documentClient(opts.client);
    this.table = opts.table;
  }

  async findByNumber(phoneNumber: string): Promise<Device | undefined> {
    if (phoneNumber.startsWith(CLIENT_CLAIM_PREFIX)) return undefined;
    const out = await dynamoCall('findByNumber', () =>
      this.doc.send(new GetCommand({ TableName: this.table, Key: { [DEVICE_KEY]: phoneNumber }, ConsistentRead: true, ...DEVICE_ATTRIBUTES })),
    );
    return toDevice(out.Item);
  }

  async findForSignIn(phoneNumber: string): Promise<DeviceRecord | undefined> {
    if (phoneNumber.startsWith(CLIENT_CLAIM_PREFIX)) return undefined;
    const out = await dynamoCall('findForSignIn', () =>
      this.doc.send(new GetCommand({ TableName: this.table, Key: { [DEVICE_KEY]: phoneNumber }, ConsistentRead: true })),
    );
    const device = toDevice(out.Item);
    const secretHash = out.Item?.secretHash;
    return device && typeof secretHash === 'string' ? { ...device, secretHash } : undefined;
  }

  async findByClientName(clientName: string): Promise<Device | undefined> {
    const number = (await this.claimOf(clientName)) ?? (await this.legacyNumberOf(clientName));
    if (!number) return undefined;
    // The device is the source of truth: it must still hold the name.
    const device = await this.findByNumber(number);
    return device?.clientName === clientName ? device : undefined;
  }

  async put(record: DeviceRecord): Promise<void> {
    // A device registered before claims existed holds its name without one: keep such names unique too.
    const legacyOwner = await this.legacyNumberOf(record.clientName);
    if (legacyOwner && legacyOwner !== record.phoneNumber && (await this.claimOf(record.clientName)) === undefined) {
      const owner = await this.findByNumber(legacyOwner);
      if (owner?.clientName === record.clientName) throw new DuplicateClientNameError(record.clientName);
    }
    const previous = await this.findByNumber(record.phoneNumber);
    await this.claim(record.clientName, record.phoneNumber);
    const item: Record<string, string> = {
      [DEVICE_KEY]: record.phoneNumber,
      [CLIENT_NAME_ATTRIBUTE]: record.clientName,
      secretHash: record.secretHash,
      createdAt: record.createdAt,
      ...(record.label !== undefined ? { label: record.label } : {}),
    };
    await dynamoCall('put', () => this.doc.send(new PutCommand({ TableName: this.table, Item: item })));
    if (previous && previous.clientName !== record.clientName) await this.release(previous.clientName, record.phoneNumber);
  }

  async remove(phoneNumber: string): Promise<boolean> {
    const device = await this.findByNumber(phoneNumber);
    if (!device) return false;
    await dynamoCall('remove', () => this.doc.send(new DeleteCommand({ TableName: this.table, Key: { [DEVICE_KEY]: phoneNumber } })));
    await this.release(device.clientName, phoneNumber);
    return true;
  }

  /**
   * Claims a client name for a number with one conditional write: free, or already this number's. When another
   * number holds it, the claim is taken over only if it is stale (its holder has no device with that name, and
   * it is older than CLAIM_STALE_SECONDS, so a concurrent put between its claim and its device write keeps it).
   */
  private async claim(clientName: string, phoneNumber: string, now = Date.now()): Promise<void> {
    const claimedAt = Math.floor(now / 1000);
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...claimKey(clientName), claimOf: phoneNumber, claimedAt },
          ConditionExpression: 'attribute_not_exists(#k) OR claimOf = :n',
          ExpressionAttributeNames: { '#k': DEVICE_KEY },
          ExpressionAttributeValues: { ':n': phoneNumber },
        }),
      );
      return;
    } catch (err) {
      if (!isConditionalCheckFailure(err)) throw new RegistryError(`DynamoDB put failed: ${(err as Error)?.name ?? 'Error'}`, { cause: err });
    }
    const holder = await this.claimOf(clientName);
    const holderDevice = holder ? await this.findByNumber(holder) : undefined;
    if (holder && holderDevice?.clientName === clientName) throw new DuplicateClientNameError(clientName);
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...claimKey(clientName), claimOf: phoneNumber, claimedAt },
          ConditionExpression: 'attribute_not_exists(#k) OR (claimOf = :holder AND claimedAt < :stale)',
          ExpressionAttributeNames: { '#k': DEVICE_KEY },
          ExpressionAttributeValues: { ':holder': holder ?? '', ':stale': claimedAt - CLAIM_STALE_SECONDS },
        }),
      );
    } catch (err) {
      if (isConditionalCheckFailure(err)) throw new DuplicateClientNameError(clientName);
      throw new RegistryError(`DynamoDB put failed: ${(err as Error)?.name ?? 'Error'}`, { cause: err });
    }
  }

  /** Drops a number's claim on a name (only its own). */
  private async release(clientName: string, phoneNumber: string): Promise<void> {
    try {
      await this.doc.send(
        new DeleteCommand({
          TableName: this.table,
          Key: claimKey(clientName),
          ConditionExpression: 'claimOf = :n',
          ExpressionAttributeValues: { ':n': phoneNumber },
        }),
      );
    } catch (err) {
      if (!isConditionalCheckFailure(err)) throw new RegistryError(`DynamoDB remove failed: ${(err as Error)?.name ?? 'Error'}`, { cause: err });
    }
  }

  async list(): Promise<Device[]> {
    const records: Device[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out = await dynamoCall('list', () =>
        this.doc.send(
          new ScanCommand({
            TableName: this.table,
            ExclusiveStartKey: start,
            ConsistentRead: true,
            FilterExpression: 'NOT begins_with(#k, :claim)',
            ExpressionAttributeValues: { ':claim': CLIENT_CLAIM_PREFIX },
            ...DEVICE_ATTRIBUTES,
          }),
        ),
      );
      for (const item of out.Items ?? []) {
        const d = toDevice(item);
        if (d) records.push(d);
      }
      start = out.LastEvaluatedKey;
    } while (start);
    return records.sort((a, b) => a.phoneNumber.localeCompare(b.phoneNumber));
  }

  /** The number a client-name claim names, if any (consistent read). */
  private async claimOf(clientName: string): Promise<string | undefined> {
    const out = await dynamoCall('findByClientName', () =>
      this.doc.send(new GetCommand({ TableName: this.table, Key: claimKey(clientName), ConsistentRead: true, ProjectionExpression: 'claimOf' })),
    );
    return typeof out.Item?.claimOf === 'string' ? out.Item.claimOf : undefined;
  }

  /** A device registered before claims existed, found through the (eventually consistent) client-name index. */
  private async legacyNumberOf(clientName: string): Promise<string | undefined> {
    const out = await dynamoCall('findByClientName', () =>
      this.doc.send(
        new QueryCommand({
          TableName: this.table,
          IndexName: CLIENT_NAME_INDEX,
          KeyConditionExpression: '#c = :c',
          ExpressionAttributeNames: { '#c': CLIENT_NAME_ATTRIBUTE, '#k': DEVICE_KEY },
          ExpressionAttributeValues: { ':c': clientName },
          ProjectionExpression: '#k',
          Limit: 2,
        }),
      ),
    );
    const number = out.Items?.[0]?.[DEVICE_KEY];
    return typeof number === 'string' ? number : undefined;
  }
}

function toDevice(item: Record<string, unknown> | undefined): Device | undefined {
  if (!item) return undefined;
  const { phoneNumber, clientName, label, createdAt } = item;
  if (typeof phoneNumber !== 'string' || typeof clientName !== 'string' || phoneNumber.startsWith(CLIENT_CLAIM_PREFIX)) return undefined;
  const device: Device = { phoneNumber, clientName, createdAt: typeof createdAt === 'string' ? createdAt : '' };
  if (typeof label === 'string') device.label = label;
  return device;
}
