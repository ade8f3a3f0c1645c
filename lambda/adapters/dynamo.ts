/**
 * What the DynamoDB adapters share: a document client with the handlers' timeouts and retries, and one rule
 * for failures (anything the store throws becomes a RegistryError naming the operation, never the data).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
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

/** Runs one DynamoDB call; its failure becomes a RegistryError (`DynamoDB <operation> failed: <error name>`). */
export async function dynamoCall<T>(operation: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw new RegistryError(`DynamoDB ${operation} failed: ${(err as Error)?.name ?? 'Error'}`, { cause: err });
  }
}
