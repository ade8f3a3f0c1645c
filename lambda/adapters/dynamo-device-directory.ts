/**
 * The DeviceDirectory on DynamoDB (the devices table): in AWS, and locally and in tests on an embedded dynalite
 * (the same protocol, the same code).
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, GetCommand, PutCommand, QueryCommand, ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DuplicateClientNameError, type DeviceDirectory, type DeviceRecord } from '../ports';
import { documentClient, dynamoCall } from './dynamo';
import { CLIENT_NAME_ATTRIBUTE, CLIENT_NAME_INDEX, DEVICE_KEY } from './registry-schema';

export class DynamoDeviceDirectory implements DeviceDirectory {
  private readonly doc: DynamoDBDocumentClient;
  private readonly table: string;

  constructor(opts: { client: DynamoDBClient; table: string }) {
    this.doc = documentClient(opts.client);
    this.table = opts.table;
  }

  async findByNumber(phoneNumber: string): Promise<DeviceRecord | undefined> {
    const out = await dynamoCall('findByNumber', () =>
      this.doc.send(new GetCommand({ TableName: this.table, Key: { [DEVICE_KEY]: phoneNumber }, ConsistentRead: true })),
    );
    return toDevice(out.Item);
  }

  async findByClientName(clientName: string): Promise<DeviceRecord | undefined> {
    const out = await dynamoCall('findByClientName', () =>
      this.doc.send(
        new QueryCommand({
          TableName: this.table,
          IndexName: CLIENT_NAME_INDEX,
          KeyConditionExpression: '#c = :c',
          ExpressionAttributeNames: { '#c': CLIENT_NAME_ATTRIBUTE },
          ExpressionAttributeValues: { ':c': clientName },
          Limit: 2,
        }),
      ),
    );
    // The index is eventually consistent: confirm against the table, which is the source of truth.
    for (const item of out.Items ?? []) {
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
    await dynamoCall('put', () => this.doc.send(new PutCommand({ TableName: this.table, Item: item })));
  }

  async remove(phoneNumber: string): Promise<boolean> {
    const out = await dynamoCall('remove', () =>
      this.doc.send(new DeleteCommand({ TableName: this.table, Key: { [DEVICE_KEY]: phoneNumber }, ReturnValues: 'ALL_OLD' })),
    );
    return out.Attributes !== undefined;
  }

  async list(): Promise<DeviceRecord[]> {
    const records: DeviceRecord[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out = await dynamoCall('list', () =>
        this.doc.send(new ScanCommand({ TableName: this.table, ExclusiveStartKey: start, ConsistentRead: true })),
      );
      for (const item of out.Items ?? []) {
        const d = toDevice(item);
        if (d) records.push(d);
      }
      start = out.LastEvaluatedKey;
    } while (start);
    return records.sort((a, b) => a.phoneNumber.localeCompare(b.phoneNumber));
  }
}

function toDevice(item: Record<string, unknown> | undefined): DeviceRecord | undefined {
  if (!item) return undefined;
  const { phoneNumber, clientName, secretHash, label, createdAt } = item;
  if (typeof phoneNumber !== 'string' || typeof clientName !== 'string' || typeof secretHash !== 'string') return undefined;
  const record: DeviceRecord = { phoneNumber, clientName, secretHash, createdAt: typeof createdAt === 'string' ? createdAt : '' };
  if (typeof label === 'string') record.label = label;
  return record;
}
