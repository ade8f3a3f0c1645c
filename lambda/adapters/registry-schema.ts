/**
 * Key names and CreateTable inputs of the two registry tables. The CDK construct and the embedded dynalite
 * server (local app, tests) both build their tables from here, so the code always meets the same schema.
 */
import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';

/** Partition key of the devices table: the E.164 Twilio number. */
export const DEVICE_KEY = 'phoneNumber';
/** Attribute holding the Twilio Client identity; unique across devices. */
export const CLIENT_NAME_ATTRIBUTE = 'clientName';
/** Key prefix of the client-name claims in the devices table (`client#<clientName>`): no E.164 number starts so. */
export const CLIENT_CLAIM_PREFIX = 'client#';
/** Global secondary index on `clientName` (projection ALL): finds devices registered before claims existed. */
export const CLIENT_NAME_INDEX = 'clientName-index';
/** Partition key of the sign-in attempts table (E.164, or a marker for unparsable numbers). */
export const ATTEMPTS_KEY = 'phoneNumber';
/** TTL attribute of the attempts table, epoch seconds. */
export const ATTEMPTS_TTL_ATTRIBUTE = 'expiresAt';

/** CreateTable inputs (on-demand billing) for the devices table and the attempts table, in that order. */
export function createTableInputs(devicesTable: string, attemptsTable: string): CreateTableCommandInput[] {
  return [
    {
      TableName: devicesTable,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: DEVICE_KEY, AttributeType: 'S' },
        { AttributeName: CLIENT_NAME_ATTRIBUTE, AttributeType: 'S' },
      ],
      KeySchema: [{ AttributeName: DEVICE_KEY, KeyType: 'HASH' }],
      GlobalSecondaryIndexes: [
        {
          IndexName: CLIENT_NAME_INDEX,
          KeySchema: [{ AttributeName: CLIENT_NAME_ATTRIBUTE, KeyType: 'HASH' }],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
    },
    {
      TableName: attemptsTable,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: ATTEMPTS_KEY, AttributeType: 'S' }],
      KeySchema: [{ AttributeName: ATTEMPTS_KEY, KeyType: 'HASH' }],
    },
  ];
}
