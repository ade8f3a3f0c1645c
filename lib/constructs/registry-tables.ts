import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import {
  ATTEMPTS_KEY,
  ATTEMPTS_TTL_ATTRIBUTE,
  CALLS_BY_LINE_INDEX,
  CALLS_INDEX_PK,
  CALLS_INDEX_SK,
  LEGACY_CLIENT_NAME_INDEX,
  LEGACY_DEVICE_KEY,
  PK,
  SK,
  TTL_ATTRIBUTE,
} from '../../lambda/adapters/registry-schema';

export interface RegistryTablesProps {
  /**
   * What happens to the tables when they leave the stack (or the stack is deleted).
   * @default RemovalPolicy.RETAIN — the registry holds every device's secret hash; losing it locks everyone out
   * (and the call log is the team's record of its calls).
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The registry: DynamoDB tables whose key names come from `lambda/adapters/registry-schema.ts`, the same module
 * the local dynalite server builds its tables from.
 *
 * - lines: the registry of lines, members, client-name claims and voicemails (`pk`/`sk`), TTL attribute
 *   `expiresAt` (voicemails are forgotten with their recordings);
 * - devices: the first release's table (partition key `phoneNumber`, GSI `clientName-index`), kept exactly as it
 *   was (same construct path, so the same logical id: CloudFormation neither replaces nor deletes it) and read
 *   only by the registry upgrade that copies its devices into lines;
 * - sign-in attempts: partition key `phoneNumber`, TTL attribute `expiresAt` (epoch seconds), for the lockout;
 * - calls: the call log (`callsTableInput`: generic keys `pk`/`sk`; calls, the places of the outgoing calls in
 *   progress, each device's "seen" mark) with the GSI `line-startedAt` (partition `line`, sort `startedAt`, all
 *   attributes) that lists a line's calls newest first, and TTL attribute `expiresAt`: a call is forgotten after
 *   CALL_LOG_RETENTION_DAYS, a place whose completion callback never came frees itself.
 *
 * All are on-demand (a softphone for a team is idle most of the time), have point-in-time recovery, are
 * encrypted with the AWS owned key (the DynamoDB default) and are retained when the stack is deleted.
 */
export class RegistryTables extends Construct {
  /** The registry of lines (`REGISTRY_TABLE`). */
  public readonly linesTable: dynamodb.Table;
  /** The first release's devices table (`LEGACY_DEVICES_TABLE`), read only by the registry upgrade. */
  public readonly legacyDevicesTable: dynamodb.Table;
  /** The sign-in attempts table (per-number failure counters that expire by TTL). */
  public readonly attemptsTable: dynamodb.Table;
  /** The call log (`CALLS_TABLE`): calls, outgoing calls' places, seen marks; index `line-startedAt`. */
  public readonly callsTable: dynamodb.Table;

  constructor(scope: Construct, id: string, props: RegistryTablesProps = {}) {
    super(scope, id);
    const common = {
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.DEFAULT,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    } as const;

    // Unchanged since the first release: construct id, key, index (registry-schema.ts legacyDevicesTableInput).
    this.legacyDevicesTable = new dynamodb.Table(this, 'Devices', {
      ...common,
      partitionKey: { name: LEGACY_DEVICE_KEY, type: dynamodb.AttributeType.STRING },
    });
    this.legacyDevicesTable.addGlobalSecondaryIndex({
      indexName: LEGACY_CLIENT_NAME_INDEX,
      partitionKey: { name: 'clientName', type: dynamodb.AttributeType.STRING },
      projectionType: dynamodb.ProjectionType.ALL,
    });

    this.attemptsTable = new dynamodb.Table(this, 'SignInAttempts', {
      ...common,
      partitionKey: { name: ATTEMPTS_KEY, type: dynamodb.AttributeType.STRING },
      timeToLiveAttribute: ATTEMPTS_TTL_ATTRIBUTE,
    });

    this.linesTable = new dynamodb.Table(this, 'Lines', {
      ...common,
      partitionKey: { name: PK, type: dynamodb.AttributeType.STRING },
      sortKey: { name: SK, type: dynamodb.AttributeType.STRING },
      timeToLiveAttribute: TTL_ATTRIBUTE,
    });

    // registry-schema.ts callsTableInput: the same keys and index as the local dynalite's calls table.
    this.callsTable = new dynamodb.Table(this, 'Calls', {
      ...common,
      partitionKey: { name: PK, type: dynamodb.AttributeType.STRING },
      sortKey: { name: SK, type: dynamodb.AttributeType.STRING },
      timeToLiveAttribute: TTL_ATTRIBUTE,
    });
    this.callsTable.addGlobalSecondaryIndex({
      indexName: CALLS_BY_LINE_INDEX,
      partitionKey: { name: CALLS_INDEX_PK, type: dynamodb.AttributeType.STRING },
      sortKey: { name: CALLS_INDEX_SK, type: dynamodb.AttributeType.STRING },
      projectionType: dynamodb.ProjectionType.ALL,
    });
  }
}
