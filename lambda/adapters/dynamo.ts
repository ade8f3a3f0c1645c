/**
 * What the DynamoDB adapters share: a document client with the handlers' timeouts and retries, and one rule
 * for failures (anything the store throws becomes a RegistryError naming the operation, never the data).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { RegistryError } from '../ports';
import { awsClientConfig } from './aws-clients';

/** A DynamoDB client with explicit timeouts and bounded retries (see aws-clients.ts). */
export function createDynamoClient(overrides: ConstructorParameters<typeof DynamoDBClient>[0] = {}): DynamoDBClient {
  return new DynamoDBClient({ ...awsClientConfig(), ...overrides });
}

export function documentClient(client: DynamoDBClient): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}

/** True for DynamoDB's ConditionalCheckFailedException (by name: the class may come from another SDK copy). */
export function isConditionalCheckFailure(err: unknown): boolean {
  return (err as { name?: string } | null)?.name === 'ConditionalCheckFailedException';
}

/**
 * Runs one conditional DynamoDB write: true when it was made, false when its condition did not hold; any other
 * failure becomes a RegistryError (`DynamoDB <operation> failed: <error name>`).
 */
export async function conditionally(operation: string, write: () => Promise<unknown>): Promise<boolean> {
  try {
    await write();
    return true;
  } catch (err) {
    if (isConditionalCheckFailure(err)) return false;
    throw new RegistryError(`DynamoDB ${operation} failed: ${(err as Error)?.name ?? 'Error'}`, { cause: err });
  }
}

/** Runs one DynamoDB call; its failure becomes a RegistryError (`DynamoDB <operation> failed: <error name>`). */
export async function dynamoCall<T>(operation: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw new RegistryError(`DynamoDB ${operation} failed: ${(err as Error)?.name ?? 'Error'}`, { cause: err });
  }
}

/** Every item of a Query (consistent read), page after page. */
export async function queryAll(
  doc: DynamoDBDocumentClient,
  operation: string,
  input: Omit<QueryCommandInput, 'ExclusiveStartKey' | 'ConsistentRead'>,
): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await dynamoCall(operation, () => doc.send(new QueryCommand({ ...input, ConsistentRead: true, ExclusiveStartKey: start })));
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  return items;
}
