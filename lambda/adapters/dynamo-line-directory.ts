/**
 * The LineDirectory on DynamoDB (the registry table, registry-schema.ts): in AWS, and locally and in tests on an
 * embedded dynalite (the same protocol, the same code).
 *
 * Writes are single-item conditional writes in an order that is safe to interrupt (dynalite, the local
 * registry, has no TransactWriteItems):
 * - a client name is claimed first (`CLIENT#<name>`, one conditional put: free, or already this line's), so of
 *   two concurrent puts of one name exactly one succeeds; a claim whose line has no device of that name (a put
 *   or remove cut short) is stale after CLAIM_STALE_SECONDS and may be taken over, again conditionally;
 * - a new device then reserves a place on its line (`memberCount`, a conditional increment below
 *   MAX_LINE_MEMBERS, stamping `reservedAt`), so two concurrent adds cannot make eleven; a count left too high
 *   by an interrupted add is repaired from the members themselves when it would refuse one, but only once no
 *   place was reserved for CLAIM_STALE_SECONDS (an add still writing its device is not counted yet);
 * - only then is the device written.
 *
 * Reads name the attributes they need (ProjectionExpression): only `findForSignIn` reads secret hashes.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, type DynamoDBDocumentClient, GetCommand, PutCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { DEFAULT_LINE_SETTINGS, type LineSettings, MAX_LINE_MEMBERS, storedLineSettings } from '../core/line';
import { type Device, type DeviceRecord, DuplicateClientNameError, type Line, type LineDirectory, LineFullError, UnknownLineError } from '../ports';
import { conditionally, documentClient, dynamoCall, queryAll } from './dynamo';
import { claimKey, LINE_AND_MEMBERS_BELOW, LINE_PREFIX, LINE_SK, lineKey, MEMBER_PREFIX, memberKey, PK, SK } from './registry-schema';

/** How old a claim whose line has no device of that name must be before another line may take the name. */
export const CLAIM_STALE_SECONDS = 60;

/** What every read but sign-in fetches: never a secret hash. */
const PUBLIC_ATTRIBUTES = {
  ProjectionExpression: '#pk, #sk, #number, #settings, #clientName, #label, #createdAt',
  ExpressionAttributeNames: {
    '#pk': PK,
    '#sk': SK,
    '#number': 'number',
    '#settings': 'settings',
    '#clientName': 'clientName',
    '#label': 'label',
    '#createdAt': 'createdAt',
  },
};

type Item = Record<string, unknown>;

export class DynamoLineDirectory implements LineDirectory {
  private readonly doc: DynamoDBDocumentClient;
  private readonly table: string;
  private readonly now: () => number;

  constructor(opts: { client: DynamoDBClient; table: string; now?: () => number }) {
    this.doc = documentClient(opts.client);
    this.table = opts.table;
    this.now = opts.now ?? Date.now;
  }

  async findLine(phoneNumber: string): Promise<Line | undefined> {
    const items = await queryAll(this.doc, 'findLine', {
      TableName: this.table,
      KeyConditionExpression: '#pk = :pk AND #sk < :below',
      ExpressionAttributeValues: { ':pk': `${LINE_PREFIX}${phoneNumber}`, ':below': LINE_AND_MEMBERS_BELOW },
      ...PUBLIC_ATTRIBUTES,
    });
    if (items.length === 0) return undefined;
    return toLine(phoneNumber, items);
  }

  async findByClientName(clientName: string): Promise<Device | undefined> {
    const line = await this.claimOf(clientName);
    if (!line) return undefined;
    const out = await dynamoCall('findByClientName', () =>
      this.doc.send(new GetCommand({ TableName: this.table, Key: memberKey(line, clientName), ConsistentRead: true, ...PUBLIC_ATTRIBUTES })),
    );
    return toDevice(out.Item, line);
  }

  async findForSignIn(phoneNumber: string): Promise<DeviceRecord[]> {
    const items = await queryAll(this.doc, 'findForSignIn', {
      TableName: this.table,
      KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :member)',
      ExpressionAttributeNames: { '#pk': PK, '#sk': SK },
      ExpressionAttributeValues: { ':pk': `${LINE_PREFIX}${phoneNumber}`, ':member': MEMBER_PREFIX },
    });
    const records: DeviceRecord[] = [];
    for (const item of items) {
      const device = toDevice(item, phoneNumber);
      if (device && typeof item.secretHash === 'string') records.push({ ...device, secretHash: item.secretHash });
    }
    return ringOrder(records);
  }

  async put(record: DeviceRecord): Promise<void> {
    const { phoneNumber, clientName } = record;
    await this.claim(clientName, phoneNumber);
    const existing = await dynamoCall('put', () =>
      this.doc.send(
        new GetCommand({
          TableName: this.table,
          Key: memberKey(phoneNumber, clientName),
          ConsistentRead: true,
          ProjectionExpression: '#sk',
          ExpressionAttributeNames: { '#sk': SK },
        }),
      ),
    );
    if (!existing.Item) {
      try {
        await this.reservePlace(phoneNumber);
      } catch (err) {
        await this.release(clientName, phoneNumber);
        throw err;
      }
    }
    const item: Item = {
      ...memberKey(phoneNumber, clientName),
      clientName,
      secretHash: record.secretHash,
      createdAt: record.createdAt,
      ...(record.label !== undefined ? { label: record.label } : {}),
    };
    if (existing.Item) {
      await dynamoCall('put', () => this.doc.send(new PutCommand({ TableName: this.table, Item: item })));
      return;
    }
    // A new device: of two concurrent adds of one name to one line, one writes it; the other gives its place back.
    const written = await conditionally('put', () =>
      this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: item,
          ConditionExpression: 'attribute_not_exists(#pk)',
          ExpressionAttributeNames: { '#pk': PK },
        }),
      ),
    );
    if (!written) {
      await this.releasePlace(phoneNumber);
      throw new DuplicateClientNameError(clientName, phoneNumber);
    }
  }

  async remove(clientName: string): Promise<Device | undefined> {
    const line = await this.claimOf(clientName);
    if (!line) return undefined;
    const out = await dynamoCall('remove', () =>
      this.doc.send(new DeleteCommand({ TableName: this.table, Key: memberKey(line, clientName), ReturnValues: 'ALL_OLD' })),
    );
    const removed: Item | undefined = out.Attributes;
    if (removed) await this.releasePlace(line);
    await this.release(clientName, line);
    return toDevice(removed, line);
  }

  async putSettings(phoneNumber: string, settings: LineSettings): Promise<void> {
    const updated = await conditionally('putSettings', () =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: lineKey(phoneNumber),
          UpdateExpression: 'SET #settings = :s, updatedAt = :now',
          ConditionExpression: 'attribute_exists(#pk)',
          ExpressionAttributeNames: { '#settings': 'settings', '#pk': PK },
          ExpressionAttributeValues: { ':s': storedLineSettings(settings), ':now': new Date(this.now()).toISOString() },
        }),
      ),
    );
    if (!updated) throw new UnknownLineError(phoneNumber);
  }

  async listLines(): Promise<Line[]> {
    const byLine = new Map<string, Item[]>();
    let start: Record<string, unknown> | undefined;
    do {
      const out = await dynamoCall('listLines', () =>
        this.doc.send(
          new ScanCommand({
            TableName: this.table,
            ExclusiveStartKey: start,
            ConsistentRead: true,
            FilterExpression: '#sk = :line OR begins_with(#sk, :member)',
            ...PUBLIC_ATTRIBUTES,
            ExpressionAttributeValues: { ':line': LINE_SK, ':member': MEMBER_PREFIX },
          }),
        ),
      );
      for (const item of out.Items ?? []) {
        const pk = String(item[PK]);
        if (!pk.startsWith(LINE_PREFIX)) continue;
        const number = pk.slice(LINE_PREFIX.length);
        byLine.set(number, [...(byLine.get(number) ?? []), item]);
      }
      start = out.LastEvaluatedKey;
    } while (start);
    return [...byLine.entries()].map(([number, items]) => toLine(number, items)).sort((a, b) => a.number.localeCompare(b.number));
  }

  /**
   * Claims a client name for a line with one conditional write: free, or already this line's. When another line
   * holds it, the claim is taken over only if it is stale (that line has no device of the name, and the claim is
   * older than CLAIM_STALE_SECONDS, so a concurrent put between its claim and its device write keeps it).
   */
  private async claim(clientName: string, line: string): Promise<void> {
    const claimedAt = Math.floor(this.now() / 1000);
    const item = { ...claimKey(clientName), line, claimedAt };
    const claimWhere = (condition: string, values: Record<string, unknown>) =>
      conditionally('put', () =>
        this.doc.send(
          new PutCommand({
            TableName: this.table,
            Item: item,
            ConditionExpression: condition,
            ExpressionAttributeNames: { '#pk': PK, '#line': 'line' },
            ExpressionAttributeValues: values,
          }),
        ),
      );
    if (await claimWhere('attribute_not_exists(#pk) OR #line = :line', { ':line': line })) return;
    const holder = await this.claimOf(clientName);
    if (holder && (await this.hasMember(holder, clientName))) throw new DuplicateClientNameError(clientName, holder);
    const takenOver = await claimWhere('attribute_not_exists(#pk) OR (#line = :holder AND claimedAt < :stale)', {
      ':holder': holder ?? '',
      ':stale': claimedAt - CLAIM_STALE_SECONDS,
    });
    if (!takenOver) throw new DuplicateClientNameError(clientName, holder);
  }

  /** Drops a line's claim on a name (only its own). */
  private async release(clientName: string, line: string): Promise<void> {
    await conditionally('remove', () =>
      this.doc.send(
        new DeleteCommand({
          TableName: this.table,
          Key: claimKey(clientName),
          ConditionExpression: '#line = :line',
          ExpressionAttributeNames: { '#line': 'line' },
          ExpressionAttributeValues: { ':line': line },
        }),
      ),
    );
  }

  /** Counts one more device on the line (creating the line item), refusing the (MAX_LINE_MEMBERS + 1)th. */
  private async reservePlace(line: string, repaired = false): Promise<void> {
    const now = new Date(this.now()).toISOString();
    const reserved = await conditionally('put', () =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: lineKey(line),
          UpdateExpression:
            'SET memberCount = if_not_exists(memberCount, :zero) + :one, #number = :line, createdAt = if_not_exists(createdAt, :now), updatedAt = :now, reservedAt = :now',
          ConditionExpression: 'attribute_not_exists(memberCount) OR memberCount < :max',
          ExpressionAttributeNames: { '#number': 'number' },
          ExpressionAttributeValues: { ':zero': 0, ':one': 1, ':line': line, ':now': now, ':max': MAX_LINE_MEMBERS },
        }),
      ),
    );
    if (reserved) return;
    // Full, or a count left too high by an interrupted add: count the members themselves, once, and only when
    // no place was reserved lately (a reserved place whose device is still being written is not a member yet).
    if (repaired) throw new LineFullError(line, MAX_LINE_MEMBERS);
    const lineItem = await dynamoCall('put', () =>
      this.doc.send(new GetCommand({ TableName: this.table, Key: lineKey(line), ConsistentRead: true, ProjectionExpression: 'reservedAt' })),
    );
    const reservedAt = typeof lineItem.Item?.reservedAt === 'string' ? lineItem.Item.reservedAt : '';
    if (reservedAt !== '' && this.now() - Date.parse(reservedAt) < CLAIM_STALE_SECONDS * 1000) throw new LineFullError(line, MAX_LINE_MEMBERS);
    const actual = (await this.findForSignIn(line)).length;
    if (actual >= MAX_LINE_MEMBERS) throw new LineFullError(line, MAX_LINE_MEMBERS);
    // (when the condition fails, someone reserved a place meanwhile: the retry below decides)
    await conditionally('put', () =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: lineKey(line),
          UpdateExpression: 'SET memberCount = :actual',
          // nobody reserved a place since it was read
          ConditionExpression: 'memberCount >= :max AND (attribute_not_exists(reservedAt) OR reservedAt = :seen)',
          ExpressionAttributeValues: { ':actual': actual, ':max': MAX_LINE_MEMBERS, ':seen': reservedAt },
        }),
      ),
    );
    await this.reservePlace(line, true);
  }

  private async releasePlace(line: string): Promise<void> {
    await conditionally('remove', () =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: lineKey(line),
          UpdateExpression: 'SET memberCount = memberCount - :one',
          ConditionExpression: 'memberCount > :zero',
          ExpressionAttributeValues: { ':one': 1, ':zero': 0 },
        }),
      ),
    );
  }

  private async hasMember(line: string, clientName: string): Promise<boolean> {
    const out = await dynamoCall('put', () =>
      this.doc.send(
        new GetCommand({
          TableName: this.table,
          Key: memberKey(line, clientName),
          ConsistentRead: true,
          ProjectionExpression: '#sk',
          ExpressionAttributeNames: { '#sk': SK },
        }),
      ),
    );
    return out.Item !== undefined;
  }

  /** The line a client-name claim names, if any (consistent read). */
  private async claimOf(clientName: string): Promise<string | undefined> {
    const out = await dynamoCall('findByClientName', () =>
      this.doc.send(
        new GetCommand({
          TableName: this.table,
          Key: claimKey(clientName),
          ConsistentRead: true,
          ProjectionExpression: '#line',
          ExpressionAttributeNames: { '#line': 'line' },
        }),
      ),
    );
    return typeof out.Item?.line === 'string' ? out.Item.line : undefined;
  }
}

function toDevice(item: Item | undefined, line: string): Device | undefined {
  if (!item || typeof item.clientName !== 'string') return undefined;
  const device: Device = { phoneNumber: line, clientName: item.clientName, createdAt: typeof item.createdAt === 'string' ? item.createdAt : '' };
  if (typeof item.label === 'string') device.label = item.label;
  return device;
}

function toLine(number: string, items: Item[]): Line {
  const lineItem = items.find((i) => i[SK] === LINE_SK);
  const members = items
    .filter((i) => String(i[SK]).startsWith(MEMBER_PREFIX))
    .map((i) => toDevice(i, number))
    .filter((d): d is Device => d !== undefined);
  return { number, settings: { ...DEFAULT_LINE_SETTINGS, ...storedLineSettings(lineItem?.settings) }, members: ringOrder(members) };
}

/** Members ring in the order they were added (then by name, for a stable order). */
function ringOrder<T extends Device>(devices: T[]): T[] {
  return devices.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.clientName.localeCompare(b.clientName));
}
