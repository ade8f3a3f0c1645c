import * as path from 'node:path';
import { Duration, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { CALLS_BY_LINE_INDEX } from '../../lambda/adapters/registry-schema';
import { METRICS_NAMESPACE, METRICS_SERVICE } from '../../lambda/core/metrics';
import {
  CALL_LOG_RETENTION_DAYS,
  CALL_TIME_LIMIT_SECONDS,
  functionTimeoutSeconds,
  MAX_CALLS_PER_DEVICE,
  MAX_CALLS_PER_LINE,
  parseBaseUrl,
  parseCountries,
  parseTokenTtl,
  parseWholeNumber,
  VOICEMAIL_RETENTION_DAYS,
} from '../../lambda/core/settings';
import { type FunctionId, type RouteSpec, SUPPORT_FUNCTIONS } from '../api/routes';
import { DETAILED_TRACING_DEFAULT, functionBundlingOptions, LAMBDA_ENTRY } from '../lambda-bundling';
import type { TwilioSecret } from './twilio-secret';
import { RECORDINGS_PREFIX } from './voicemail-storage';

/** The repository root: LAMBDA_ENTRY is relative to it. */
const REPO_ROOT = path.resolve(__dirname, '..', '..');

/** Settings the functions read from their environment (`lambda/core/settings.ts`). */
export interface FunctionSettings {
  /** TOKEN_TTL_SECONDS: lifetime of the Twilio access token (60..86400). @default 3600 */
  readonly tokenTtlSeconds?: number;
  /** PUBLIC_BASE_URL: the base URL Twilio calls when a custom domain fronts the API (e.g. https://voice.example.com/prod). */
  readonly publicBaseUrl?: string;
  /** ALLOWED_DESTINATION_COUNTRIES: ISO codes outgoing calls may reach. @default the caller's own country */
  readonly allowedDestinationCountries?: readonly string[];
  /** CALL_TIME_LIMIT_SECONDS: the longest an outgoing call may last (60..14400). @default 14400 (4 hours) */
  readonly callTimeLimitSeconds?: number;
  /** VOICEMAIL_RETENTION_DAYS: how long voicemails are kept (1..3650), as the recordings bucket's lifecycle. @default 30 */
  readonly voicemailRetentionDays?: number;
  /** CALL_LOG_RETENTION_DAYS: how long the call log keeps a call (1..3650), as the calls table's TTL. @default 90 */
  readonly callLogRetentionDays?: number;
  /** MAX_CALLS_PER_DEVICE: simultaneous outgoing calls of one device (1..10). @default 2 */
  readonly maxCallsPerDevice?: number;
  /** MAX_CALLS_PER_LINE: simultaneous outgoing calls of all of a line's devices (1..100). @default 10 */
  readonly maxCallsPerLine?: number;
  /**
   * Powertools Tracer in every function: a subsegment per invocation and per AWS or Twilio call
   * (POWERTOOLS_TRACE_ENABLED). Lambda's and the API stage's X-Ray segments are there either way.
   * @default false (it costs every cold start ~25%: lib/lambda-bundling.ts DETAILED_TRACING_DEFAULT)
   */
  readonly detailedTracing?: boolean;
}

export interface SoftphoneFunctionsProps {
  /** One function per route (`lib/api/routes.ts`), named after its `functionName`, running its handler. */
  readonly routes: readonly RouteSpec[];
  /** The registry of lines (REGISTRY_TABLE). */
  readonly registryTable: dynamodb.ITable;
  /** The sign-in attempts (ATTEMPTS_TABLE). */
  readonly attemptsTable: dynamodb.ITable;
  /** The first release's devices table (LEGACY_DEVICES_TABLE), read by the registry upgrade only. */
  readonly legacyDevicesTable: dynamodb.ITable;
  /** The call log (CALLS_TABLE), with its index `line-startedAt`; named only to the functions that use it. */
  readonly callsTable: dynamodb.ITable;
  /** The Twilio credentials secret (TWILIO_SECRET_ID); read by the functions that call Twilio or check its signatures. */
  readonly twilioSecret: TwilioSecret;
  /** The voicemail recordings (RECORDINGS_BUCKET). */
  readonly recordingsBucket: s3.Bucket;
  /** The new-voicemail topic (VOICEMAIL_TOPIC_ARN). */
  readonly voicemailTopic: sns.ITopic;
  /** SOFTPHONE_URL: the softphone's address, named in voicemail notifications (may be a lazy token). */
  readonly softphoneUrl?: string;
  readonly settings?: FunctionSettings;
  /** Retention of each function's log group. @default one month */
  readonly logRetention?: logs.RetentionDays;
}

type DynamoAction = 'GetItem' | 'Query' | 'PutItem' | 'UpdateItem' | 'DeleteItem' | 'Scan';
type RecordingAction = 'PutObject' | 'GetObject' | 'DeleteObject';

/** What one function's handler touches, hence its IAM permissions (and the environment naming those resources). */
export interface FunctionAccess {
  /** On the registry of lines. */
  readonly registry: readonly DynamoAction[];
  /** On the sign-in attempts table. */
  readonly attempts?: readonly DynamoAction[];
  /** On the first release's devices table (LEGACY_DEVICES_TABLE). */
  readonly legacyDevices?: readonly DynamoAction[];
  /** On the call log's items (CALLS_TABLE): calls, outgoing calls' places, seen marks. */
  readonly calls?: readonly DynamoAction[];
  /** On the call log's index `line-startedAt` (a line's calls newest first); sets CALLS_TABLE too. */
  readonly callsByLine?: readonly DynamoAction[];
  /** GetSecretValue on the Twilio secret: webhook signatures, Access Tokens, the recordings API. */
  readonly twilioSecret?: true;
  /** On the recordings bucket's `voicemail/` objects (RECORDINGS_BUCKET). */
  readonly recordings?: readonly RecordingAction[];
  /** sns:Publish on the new-voicemail topic (VOICEMAIL_TOPIC_ARN, SOFTPHONE_URL). */
  readonly publishVoicemail?: true;
}

/**
 * What each function's handler does (`lambda/handlers/*.ts` through `lambda/adapters/dynamo-line-directory.ts`,
 * `dynamo-voicemail-store.ts`, `dynamo-call-log.ts`, `registry-upgrade.ts`), hence its grants — nothing more:
 * - token: the line's members for sign-in (Query), the lockout (attempts GetItem, UpdateItem; DeleteItem on
 *   success), then signs the Access Token with the API key;
 * - the Twilio webhooks: the line (Query) or the caller's device (its name claim and member item, GetItem),
 *   after checking the signature with the auth token; the recording callback also keeps the voicemail (GetItem,
 *   PutItem), stores the audio (PutObject), announces it (Publish) and notes it on the call's record in the call
 *   log (GetItem, PutItem: a record is read, merged and written back on a condition);
 * - the outgoing call also holds places in the call log (the line's places: Query; one claimed per conditional
 *   PutItem; a device place given back by DeleteItem when the line is full) and logs a refusal on the call's
 *   record (GetItem, PutItem);
 * - the call status callback: the parent call's device (GetItem) or line (Query), the call's record (GetItem,
 *   PutItem), and when an outgoing call ends the places it held (Query, DeleteItem);
 * - twilioDebugger: Twilio's Debugger events, signed like any webhook: the secret only (the signature), nothing in
 *   DynamoDB;
 * - preflight: the calling device (its member item, GetItem) after the signature;
 * - the page routes: the caller's device (GetItem) and its line (Query); voicemails also marks (UpdateItem) and
 *   deletes (DeleteItem) items, presigns playback (GetObject) and deletes recordings (DeleteObject); calls reads
 *   the line's calls on the index `line-startedAt` (Query there only) and the device's seen mark (GetItem,
 *   PutItem). The identity comes verified from the authorizer, so they never read the secret;
 * - pageAuthorizer: verifies the Access Token with the API key secret, nothing in DynamoDB;
 * - registryUpgrade: scans the first release's table and writes lines the way `device add` does (claims and
 *   members: GetItem, PutItem, UpdateItem; Query and DeleteItem when a line is full).
 * `test/infra/least-privilege.test.ts` records what each handler really calls and holds these grants to it.
 */
export const ACCESS: Readonly<Record<FunctionId, FunctionAccess>> = {
  token: { registry: ['Query'], attempts: ['GetItem', 'UpdateItem', 'DeleteItem'], twilioSecret: true },
  callIncoming: { registry: ['Query'], twilioSecret: true },
  callOutgoing: { registry: ['GetItem'], calls: ['Query', 'PutItem', 'DeleteItem', 'GetItem'], twilioSecret: true },
  callAction: { registry: ['Query'], calls: ['GetItem', 'PutItem'], twilioSecret: true },
  forwardScreen: { registry: ['Query'], twilioSecret: true },
  recordingStatus: {
    registry: ['Query', 'GetItem', 'PutItem'],
    calls: ['GetItem', 'PutItem'],
    twilioSecret: true,
    recordings: ['PutObject'],
    publishVoicemail: true,
  },
  callStatus: { registry: ['GetItem', 'Query'], calls: ['GetItem', 'PutItem', 'Query', 'DeleteItem'], twilioSecret: true },
  twilioDebugger: { registry: [], twilioSecret: true },
  preflight: { registry: ['GetItem'], twilioSecret: true },
  voicemails: { registry: ['GetItem', 'Query', 'UpdateItem', 'DeleteItem'], recordings: ['GetObject', 'DeleteObject'] },
  directory: { registry: ['GetItem', 'Query'] },
  calls: { registry: ['GetItem'], calls: ['GetItem', 'PutItem'], callsByLine: ['Query'] },
  pageAuthorizer: { registry: [], twilioSecret: true },
  registryUpgrade: { registry: ['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem', 'Query'], legacyDevices: ['Scan'] },
};

/**
 * Memory (and with it CPU: Lambda allots CPU in proportion) per function. The token function runs the
 * device-secret scrypt hash (~80 ms of one full core, 32 MiB), so it gets a larger share of a vCPU to keep
 * sign-in quick. The others do little work per request, but not less than 512 MB: a cold start (loading the
 * bundle) is CPU-bound and slows with a smaller share, and every one of them sits on a caller's path (the
 * authorizer before each page request, the recording callback holding a ~1 MB recording in memory).
 */
const MEMORY_MB: Readonly<Record<FunctionId, number>> = {
  token: 1024,
  callIncoming: 512,
  callOutgoing: 512,
  callAction: 512,
  forwardScreen: 512,
  recordingStatus: 512,
  callStatus: 512,
  twilioDebugger: 512,
  preflight: 512,
  voicemails: 512,
  directory: 512,
  calls: 512,
  pageAuthorizer: 512,
  registryUpgrade: 512,
};

/**
 * The Lambda functions of the stack, one `NodejsFunction` per route and per support function (the page
 * authorizer, the registry upgrade): Node.js 24 on ARM64, bundled by local esbuild (never Docker) with the
 * settings of `lib/lambda-bundling.ts` (minified, source maps), a short timeout, an explicit log group with
 * retention, X-Ray active tracing (responses are not captured), and a role of its own holding exactly what its
 * handler uses (ACCESS) besides its log group and the X-Ray writes.
 */
export class SoftphoneFunctions extends Construct {
  /** The function of each route and support function. */
  public readonly byId: ReadonlyMap<FunctionId, nodejs.NodejsFunction>;

  constructor(scope: Construct, id: string, props: SoftphoneFunctionsProps) {
    super(scope, id);
    // Checked here with the functions' own rules (lambda/core/settings.ts): a bad value fails synth, not a cold start.
    const settings = props.settings ?? {};
    const tokenTtlSeconds = parseTokenTtl(settings.tokenTtlSeconds, 'tokenTtlSeconds');
    const publicBaseUrl = parseBaseUrl(settings.publicBaseUrl, 'publicBaseUrl', { allowHttp: false });
    const countries = parseCountries(settings.allowedDestinationCountries, 'allowedDestinationCountries');
    const callTimeLimitSeconds =
      parseWholeNumber(settings.callTimeLimitSeconds, 'callTimeLimitSeconds', CALL_TIME_LIMIT_SECONDS) ?? CALL_TIME_LIMIT_SECONDS.default;
    const retentionDays =
      parseWholeNumber(settings.voicemailRetentionDays, 'voicemailRetentionDays', VOICEMAIL_RETENTION_DAYS) ?? VOICEMAIL_RETENTION_DAYS.default;
    const callLogRetentionDays =
      parseWholeNumber(settings.callLogRetentionDays, 'callLogRetentionDays', CALL_LOG_RETENTION_DAYS) ?? CALL_LOG_RETENTION_DAYS.default;
    const maxCallsPerDevice = parseWholeNumber(settings.maxCallsPerDevice, 'maxCallsPerDevice', MAX_CALLS_PER_DEVICE) ?? MAX_CALLS_PER_DEVICE.default;
    const maxCallsPerLine = parseWholeNumber(settings.maxCallsPerLine, 'maxCallsPerLine', MAX_CALLS_PER_LINE) ?? MAX_CALLS_PER_LINE.default;
    const detailedTracing = settings.detailedTracing ?? DETAILED_TRACING_DEFAULT;
    if (props.softphoneUrl !== undefined && !Token.isUnresolved(props.softphoneUrl))
      parseBaseUrl(props.softphoneUrl, 'softphoneUrl', { allowHttp: false });
    // What every function's deps builder reads (lambda/adapters/function-deps.ts: the registry, the attempts
    // table and the secret's id are required of all; the secret itself is read only where granted). The settings
    // are read by loadConfig in every function (a bad value would fail each cold start), so all carry them.
    const common: Record<string, string> = {
      REGISTRY_TABLE: props.registryTable.tableName,
      ATTEMPTS_TABLE: props.attemptsTable.tableName,
      TWILIO_SECRET_ID: props.twilioSecret.secretId,
      TOKEN_TTL_SECONDS: String(tokenTtlSeconds),
      CALL_TIME_LIMIT_SECONDS: String(callTimeLimitSeconds),
      VOICEMAIL_RETENTION_DAYS: String(retentionDays),
      CALL_LOG_RETENTION_DAYS: String(callLogRetentionDays),
      MAX_CALLS_PER_DEVICE: String(maxCallsPerDevice),
      MAX_CALLS_PER_LINE: String(maxCallsPerLine),
      WEBHOOK_SIGNATURE_VALIDATION: 'on',
      // Powertools: the `service` of logs, metrics and traces, and the metrics' namespace (lambda/core/metrics.ts,
      // which the alarms of lib/constructs/operations.ts read).
      POWERTOOLS_SERVICE_NAME: METRICS_SERVICE,
      POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
      POWERTOOLS_LOG_LEVEL: 'INFO',
      // The tracer runs only where it was bundled (functionBundlingOptions below); said here too, for Powertools.
      POWERTOOLS_TRACE_ENABLED: String(detailedTracing),
      // Traces keep timings, not what was said: a response is TwiML naming phone numbers, or an Access Token.
      POWERTOOLS_TRACER_CAPTURE_RESPONSE: 'false',
      // No NODE_OPTIONS=--enable-source-maps: registering the source map costs ~9 ms of every cold start
      // (npm run bench). The bundles still ship it; set the variable on a function while debugging.
      ...(publicBaseUrl ? { PUBLIC_BASE_URL: publicBaseUrl } : {}),
      ...(countries ? { ALLOWED_DESTINATION_COUNTRIES: countries.join(',') } : {}),
    };

    const functions = [
      ...props.routes.map((r) => ({ id: r.id as FunctionId, functionName: r.functionName, description: `POST ${r.path}` })),
      ...SUPPORT_FUNCTIONS.map((f) => ({ id: f.id as FunctionId, functionName: f.functionName, description: f.description })),
    ];
    const recordingsBucketId = Stack.of(this).getLogicalId(props.recordingsBucket.node.defaultChild as s3.CfnBucket);
    const byId = new Map<FunctionId, nodejs.NodejsFunction>();
    for (const { id: fnId, functionName, description } of functions) {
      const access = ACCESS[fnId];
      const logGroup = new logs.LogGroup(this, `${functionName}Logs`, {
        retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
        removalPolicy: RemovalPolicy.DESTROY,
      });
      // A role of its own instead of the default one with AWSLambdaBasicExecutionRole (logs:* on every group).
      const role = new iam.Role(this, `${functionName}Role`, {
        assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
        description: `${functionName}: its log group and exactly what its handler uses`,
      });
      role.addToPolicy(new iam.PolicyStatement({ actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [logGroup.logGroupArn] }));
      const environment = { ...common };
      const allow = (actions: readonly string[], resource: string): void => {
        if (actions.length) role.addToPolicy(new iam.PolicyStatement({ actions: [...actions], resources: [resource] }));
      };
      const dynamo = (actions: readonly DynamoAction[] = []) => actions.map((a) => `dynamodb:${a}`);
      allow(dynamo(access.registry), props.registryTable.tableArn);
      allow(dynamo(access.attempts), props.attemptsTable.tableArn);
      if (access.legacyDevices) {
        allow(dynamo(access.legacyDevices), props.legacyDevicesTable.tableArn);
        environment.LEGACY_DEVICES_TABLE = props.legacyDevicesTable.tableName;
      }
      if (access.calls || access.callsByLine) {
        allow(dynamo(access.calls), props.callsTable.tableArn);
        allow(dynamo(access.callsByLine), `${props.callsTable.tableArn}/index/${CALLS_BY_LINE_INDEX}`);
        environment.CALLS_TABLE = props.callsTable.tableName;
      }
      if (access.twilioSecret) props.twilioSecret.grantGetSecretValue(role);
      if (access.recordings) {
        const recordings = props.recordingsBucket.arnForObjects(`${RECORDINGS_PREFIX}*`);
        allow(
          access.recordings.map((a) => `s3:${a}`),
          recordings,
        );
        environment.RECORDINGS_BUCKET = props.recordingsBucket.bucketName;
        Validations.of(role).acknowledge({
          id: `AwsSolutions-IAM5[Resource::<${recordingsBucketId}.Arn>/${RECORDINGS_PREFIX}*]`,
          reason:
            'Recording keys are made per voicemail at run time (voicemail/<line>/<RecordingSid>.mp3); the grant is ' +
            'limited to those objects of this one bucket and to the object actions this handler makes.',
        });
      }
      if (access.publishVoicemail) {
        allow(['sns:Publish'], props.voicemailTopic.topicArn);
        environment.VOICEMAIL_TOPIC_ARN = props.voicemailTopic.topicArn;
        if (props.softphoneUrl) environment.SOFTPHONE_URL = props.softphoneUrl;
      }

      const fn = new nodejs.NodejsFunction(this, functionName, {
        description: `${functionName}: ${description}`,
        entry: path.join(REPO_ROOT, LAMBDA_ENTRY),
        handler: 'handler',
        projectRoot: REPO_ROOT,
        depsLockFilePath: path.join(REPO_ROOT, 'package-lock.json'),
        runtime: lambda.Runtime.NODEJS_24_X,
        architecture: lambda.Architecture.ARM_64,
        memorySize: MEMORY_MB[fnId],
        timeout: Duration.seconds(functionTimeoutSeconds(fnId)),
        role,
        logGroup,
        environment,
        // X-Ray: Lambda's own segments always, Powertools Tracer's subsegments with detailedTracing. The CDK grants
        // xray:PutTraceSegments and PutTelemetryRecords.
        tracing: lambda.Tracing.ACTIVE,
        bundling: { ...functionBundlingOptions(fnId, { detailedTracing }), forceDockerBundling: false },
      });
      Validations.of(role).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'Active tracing: xray:PutTraceSegments and xray:PutTelemetryRecords, which the CDK grants for Tracing.ACTIVE. ' +
          'X-Ray supports no resource-level permissions for them, so their resource is *; nothing else here is granted on *.',
      });
      byId.set(fnId, fn);
    }
    this.byId = byId;
  }

  /** The function of a route or support function (throws when the construct was built without it). */
  public functionFor(id: FunctionId): nodejs.NodejsFunction {
    const fn = this.byId.get(id);
    if (!fn) throw new Error(`No function for ${id}`);
    return fn;
  }
}
