/**
 * The VoicemailStore on DynamoDB: voicemail items of the registry table (`LINE#<number>` / `VOICEMAIL#<RE sid>`),
 * forgotten by the table's TTL (`expiresAt`) when their recording's lifecycle deletes it. Keyed by Twilio's
 * RecordingSid, so a repeated recording callback finds its voicemail already there.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Voicemail, VoicemailStore } from '../ports';
import { conditionally, documentClient, dynamoCall, queryAll } from './dynamo';
import { LINE_PREFIX, PK, TTL_ATTRIBUTE, VOICEMAIL_PREFIX, voicemailKey } from './registry-schema';

type Item = Record<string, unknown>;

export class DynamoVoicemailStore implements VoicemailStore {
  private readonly doc: DynamoDBDocumentClient;
  private readonly table: string;

  constructor(opts: { client: DynamoDBClient; table: string }) {
    this.doc = documentClient(opts.client);
    this.table = opts.table;
  }

  add(v: Voicemail): Promise<boolean> {
    const item: Item = {
      ...voicemailKey(v.line, v.id),
      from: v.from,
      callSid: v.callSid,
      durationSeconds: v.durationSeconds,
      recordingKey: v.recordingKey,
      heard: v.heard,
      receivedAt: v.receivedAt,
      [TTL_ATTRIBUTE]: v.expiresAt,
    };
    return conditionally('addVoicemail', () =>
      this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: item,
          ConditionExpression: 'attribute_not_exists(#pk)',
          ExpressionAttributeNames: { '#pk': PK },
        }),
      ),
    );
  }

  async list(line: string, nowSeconds: number): Promise<Voicemail[]> {
    const items = await queryAll(this.doc, 'listVoicemails', {
      TableName: this.table,
      KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :vm)',
      ExpressionAttributeNames: { '#pk': PK, '#sk': 'sk' },
      ExpressionAttributeValues: { ':pk': `${LINE_PREFIX}${line}`, ':vm': VOICEMAIL_PREFIX },
    });
    // TTL deletion is lazy (within days): an expired item may still be there.
    const out = items.map(toVoicemail).filter((v): v is Voicemail => v !== undefined && v.expiresAt > nowSeconds);
    return out.sort((a, b) => b.receivedAt.localeCompare(a.receivedAt) || a.id.localeCompare(b.id));
  }

  async get(line: string, id: string): Promise<Voicemail | undefined> {
    const out = await dynamoCall('getVoicemail', () =>
      this.doc.send(new GetCommand({ TableName: this.table, Key: voicemailKey(line, id), ConsistentRead: true })),
    );
    return toVoicemail(out.Item);
  }

  markHeard(line: string, id: string): Promise<boolean> {
    return conditionally('markHeard', () =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: voicemailKey(line, id),
          UpdateExpression: 'SET heard = :t',
          ConditionExpression: 'attribute_exists(#pk)',
          ExpressionAttributeNames: { '#pk': PK },
          ExpressionAttributeValues: { ':t': true },
        }),
      ),
    );
  }

  async remove(line: string, id: string): Promise<Voicemail | undefined> {
    const out = await dynamoCall('removeVoicemail', () =>
      this.doc.send(new DeleteCommand({ TableName: this.table, Key: voicemailKey(line, id), ReturnValues: 'ALL_OLD' })),
    );
    return toVoicemail(out.Attributes);
  }
}

function toVoicemail(item: Item | undefined): Voicemail | undefined {
  if (!item) return undefined;
  const pk = String(item[PK] ?? '');
  const sk = String(item.sk ?? '');
  if (!pk.startsWith(LINE_PREFIX) || !sk.startsWith(VOICEMAIL_PREFIX)) return undefined;
  const str = (v: unknown) => (typeof v === 'string' ? v : '');
  const num = (v: unknown) => (typeof v === 'number' ? v : Number(v) || 0);
  return {
    line: pk.slice(LINE_PREFIX.length),
    id: sk.slice(VOICEMAIL_PREFIX.length),
    from: str(item.from),
    callSid: str(item.callSid),
    durationSeconds: num(item.durationSeconds),
    recordingKey: str(item.recordingKey),
    heard: item.heard === true,
    receivedAt: str(item.receivedAt),
    expiresAt: num(item[TTL_ATTRIBUTE]),
  };
}
