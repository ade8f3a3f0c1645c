import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { ATTEMPTS_KEY, ATTEMPTS_TTL_ATTRIBUTE, CLIENT_NAME_ATTRIBUTE, CLIENT_NAME_INDEX, DEVICE_KEY } from '../../lambda/adapters/registry-schema';

export interface RegistryTablesProps {
  /**
   * What happens to both tables when they leave the stack (or the stack is deleted).
   * @default RemovalPolicy.RETAIN — the registry holds every device's secret hash; losing it locks everyone out.
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The device registry: two DynamoDB tables whose key names come from `lambda/core/registry-schema.ts`, the same
 * module the local dynalite server builds its tables from.
 *
 * - devices: partition key `phoneNumber` (E.164), GSI `clientName-index` on `clientName` (projection ALL);
 * - sign-in attempts: partition key `phoneNumber`, TTL attribute `expiresAt` (epoch seconds), for the lockout.
 *
 * Both are on-demand (a softphone for a team is idle most of the time), have point-in-time recovery, are
 * encrypted with the AWS owned key (the DynamoDB default) and are retained when the stack is deleted.
 */
export class RegistryTables extends Construct {
  /** The devices table (GetItem by number, Query on `clientName-index`). */
  public readonly devicesTable: dynamodb.Table;
  /** The sign-in attempts table (per-number failure counters that expire by TTL). */
  public readonly attemptsTable: dynamodb.Table;

  constructor(scope: Construct, id: string, props: RegistryTablesProps = {}) {
    super(scope, id);
    const common = {
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.DEFAULT,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    } as const;

    this.devicesTable = new dynamodb.Table(this, 'Devices', {
      ...common,
      partitionKey: { name: DEVICE_KEY, type: dynamodb.AttributeType.STRING },
    });
    this.devicesTable.addGlobalSecondaryIndex({
      indexName: CLIENT_NAME_INDEX,
      partitionKey: { name: CLIENT_NAME_ATTRIBUTE, type: dynamodb.AttributeType.STRING },
      projectionType: dynamodb.ProjectionType.ALL,
    });

    this.attemptsTable = new dynamodb.Table(this, 'SignInAttempts', {
      ...common,
      partitionKey: { name: ATTEMPTS_KEY, type: dynamodb.AttributeType.STRING },
      timeToLiveAttribute: ATTEMPTS_TTL_ATTRIBUTE,
    });
  }
}
