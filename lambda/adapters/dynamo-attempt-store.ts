/** The AttemptStore of the sign-in lockout on DynamoDB (the attempts table, with a TTL attribute). */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { RegistryError, type AttemptRecord, type AttemptStore } from '../ports';
import { conditionally, documentClient, dynamoCall, isConditionalCheckFailure } from './dynamo';
import { ATTEMPTS_KEY, ATTEMPTS_TTL_ATTRIBUTE } from './registry-schema';

export class DynamoAttemptStore implements AttemptStore {
  private readonly doc: DynamoDBDocumentClient;
  private readonly table: string;

  constructor(opts: { client: DynamoDBClient; table: string }) {
    this.doc = documentClient(opts.client);
    this.table = opts.table;
  }

  async getAttempts(key: string, nowSeconds: number): Promise<AttemptRecord | undefined> {
    const out = await dynamoCall('getAttempts', () =>
      this.doc.send(new GetCommand({ TableName: this.table, Key: { [ATTEMPTS_KEY]: key }, ConsistentRead: true })),
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
          TableName: this.table,
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
      if (!isConditionalCheckFailure(err))
        throw new RegistryError(`DynamoDB recordFailure failed: ${(err as Error)?.name ?? 'Error'}`, { cause: err });
    }
    // The record had expired: start again at one failure.
    const out = await dynamoCall('recordFailure', () =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.table,
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

  async forgiveFailure(key: string): Promise<void> {
    await conditionally('forgiveFailure', () =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { [ATTEMPTS_KEY]: key },
          UpdateExpression: 'ADD #f :minusOne',
          ConditionExpression: '#f > :zero',
          ExpressionAttributeNames: { '#f': 'failures' },
          ExpressionAttributeValues: { ':minusOne': -1, ':zero': 0 },
        }),
      ),
    );
  }

  async clearAttempts(key: string): Promise<void> {
    await dynamoCall('clearAttempts', () => this.doc.send(new DeleteCommand({ TableName: this.table, Key: { [ATTEMPTS_KEY]: key } })));
  }
}

function toAttempt(item: Record<string, unknown> | undefined): AttemptRecord | undefined {
  if (!item) return undefined;
  const failures = Number(item.failures);
  const lastFailureAt = Number(item.lastFailureAt);
  const expiresAt = Number(item[ATTEMPTS_TTL_ATTRIBUTE]);
  if (!Number.isFinite(failures) || !Number.isFinite(lastFailureAt) || !Number.isFinite(expiresAt)) return undefined;
  return { failures, lastFailureAt, expiresAt };
}
