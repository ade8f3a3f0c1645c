import * as path from 'node:path';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { CLIENT_NAME_INDEX } from '../../lambda/adapters/registry-schema';
import {
  CALL_TIME_LIMIT_SECONDS,
  FUNCTION_TIMEOUT_SECONDS,
  parseBaseUrl,
  parseCountries,
  parseTokenTtl,
  parseWholeNumber,
} from '../../lambda/core/settings';
import type { RouteId, RouteSpec } from '../api/routes';
import { LAMBDA_ENTRY, routeBundlingOptions } from '../lambda-bundling';

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
}

export interface SoftphoneFunctionsProps {
  /** One function per route (`lib/api/routes.ts`), named after its `functionName`, running its handler. */
  readonly routes: readonly RouteSpec[];
  readonly devicesTable: dynamodb.ITable;
  readonly attemptsTable: dynamodb.ITable;
  /** The Twilio credentials secret; every function may read it and nothing else in Secrets Manager. */
  readonly twilioSecret: secretsmanager.ISecret;
  /** What the functions pass to GetSecretValue (ARN or name). */
  readonly twilioSecretId: string;
  readonly settings?: FunctionSettings;
  /** Retention of each function's log group. @default one month */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * What each route's handler does with the registry (`lambda/handlers/*.ts` → `lambda/core/registry.ts`),
 * hence its IAM permissions — nothing more:
 * - token: `findByNumber` (GetItem on devices) and the sign-in lockout on the attempts table
 *   (GetItem, UpdateItem for failures, DeleteItem when a sign-in succeeds);
 * - callIncoming: `findByNumber` (GetItem on devices);
 * - callOutgoing: `findByClientName` (Query on devices' `clientName-index`, then GetItem on devices to confirm
 *   the eventually consistent index against the table).
 * `test/infra/least-privilege.test.ts` records what each handler really calls and holds these grants to it.
 */
const REGISTRY_ACCESS: Readonly<Record<RouteId, { devices: readonly string[]; clientNameIndex: readonly string[]; attempts: readonly string[] }>> = {
  token: { devices: ['dynamodb:GetItem'], clientNameIndex: [], attempts: ['dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'] },
  callIncoming: { devices: ['dynamodb:GetItem'], clientNameIndex: [], attempts: [] },
  callOutgoing: { devices: ['dynamodb:GetItem'], clientNameIndex: ['dynamodb:Query'], attempts: [] },
};

/**
 * Memory (and with it CPU: Lambda allots CPU in proportion) per route. The token function runs the
 * device-secret scrypt hash (~80 ms of one full core, 32 MiB), so it gets a larger share of a vCPU to keep
 * sign-in quick; the TwiML functions do little work per request.
 */
const MEMORY_MB: Readonly<Record<RouteId, number>> = { token: 1024, callIncoming: 512, callOutgoing: 512 };

/** The clientName index's ARN (`<table ARN>/index/clientName-index`). */
function indexArn(table: dynamodb.ITable, indexName: string): string {
  return `${table.tableArn}/index/${indexName}`;
}

/**
 * The three Lambda functions behind the API, one `NodejsFunction` per route: Node.js 24 on ARM64, bundled by
 * local esbuild (never Docker) with the settings of `lib/lambda-bundling.ts` (minified, source maps), a short
 * timeout, an explicit log group with retention, and a role of its own holding exactly what its handler uses.
 */
export class SoftphoneFunctions extends Construct {
  /** The function of each route. */
  public readonly byRoute: ReadonlyMap<RouteId, nodejs.NodejsFunction>;

  constructor(scope: Construct, id: string, props: SoftphoneFunctionsProps) {
    super(scope, id);
    // Checked here with the functions' own rules (lambda/core/settings.ts): a bad value fails synth, not a cold start.
    const settings = props.settings ?? {};
    const tokenTtlSeconds = parseTokenTtl(settings.tokenTtlSeconds, 'tokenTtlSeconds');
    const publicBaseUrl = parseBaseUrl(settings.publicBaseUrl, 'publicBaseUrl', { allowHttp: false });
    const countries = parseCountries(settings.allowedDestinationCountries, 'allowedDestinationCountries');
    const callTimeLimitSeconds =
      parseWholeNumber(settings.callTimeLimitSeconds, 'callTimeLimitSeconds', CALL_TIME_LIMIT_SECONDS) ?? CALL_TIME_LIMIT_SECONDS.default;
    const environment: Record<string, string> = {
      DEVICES_TABLE: props.devicesTable.tableName,
      ATTEMPTS_TABLE: props.attemptsTable.tableName,
      TWILIO_SECRET_ID: props.twilioSecretId,
      TOKEN_TTL_SECONDS: String(tokenTtlSeconds),
      CALL_TIME_LIMIT_SECONDS: String(callTimeLimitSeconds),
      WEBHOOK_SIGNATURE_VALIDATION: 'on',
      POWERTOOLS_SERVICE_NAME: 'twilio-softphone',
      POWERTOOLS_LOG_LEVEL: 'INFO',
      // No NODE_OPTIONS=--enable-source-maps: registering the source map costs ~9 ms of every cold start
      // (npm run bench). The bundles still ship it; set the variable on a function while debugging.
      ...(publicBaseUrl ? { PUBLIC_BASE_URL: publicBaseUrl } : {}),
      ...(countries ? { ALLOWED_DESTINATION_COUNTRIES: countries.join(',') } : {}),
    };

    const byRoute = new Map<RouteId, nodejs.NodejsFunction>();
    for (const route of props.routes) {
      const logGroup = new logs.LogGroup(this, `${route.functionName}Logs`, {
        retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
        removalPolicy: RemovalPolicy.DESTROY,
      });
      // A role of its own instead of the default one with AWSLambdaBasicExecutionRole (logs:* on every group).
      const role = new iam.Role(this, `${route.functionName}Role`, {
        assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
        description: `${route.functionName}: its log group, its registry access and the Twilio secret`,
      });
      role.addToPolicy(new iam.PolicyStatement({ actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [logGroup.logGroupArn] }));
      const access = REGISTRY_ACCESS[route.id];
      if (access.devices.length) {
        role.addToPolicy(new iam.PolicyStatement({ actions: [...access.devices], resources: [props.devicesTable.tableArn] }));
      }
      if (access.clientNameIndex.length) {
        role.addToPolicy(
          new iam.PolicyStatement({ actions: [...access.clientNameIndex], resources: [indexArn(props.devicesTable, CLIENT_NAME_INDEX)] }),
        );
      }
      if (access.attempts.length) {
        role.addToPolicy(new iam.PolicyStatement({ actions: [...access.attempts], resources: [props.attemptsTable.tableArn] }));
      }
      props.twilioSecret.grantRead(role);

      const fn = new nodejs.NodejsFunction(this, route.functionName, {
        description: `${route.functionName}: POST ${route.path}`,
        entry: path.join(REPO_ROOT, LAMBDA_ENTRY),
        handler: 'handler',
        projectRoot: REPO_ROOT,
        depsLockFilePath: path.join(REPO_ROOT, 'package-lock.json'),
        runtime: lambda.Runtime.NODEJS_24_X,
        architecture: lambda.Architecture.ARM_64,
        memorySize: MEMORY_MB[route.id],
        timeout: Duration.seconds(FUNCTION_TIMEOUT_SECONDS),
        role,
        logGroup,
        environment,
        bundling: { ...routeBundlingOptions(route.id), forceDockerBundling: false },
      });
      byRoute.set(route.id, fn);
    }
    this.byRoute = byRoute;
  }

  /** The function of a route (throws when the construct was built without it). */
  public functionFor(routeId: RouteId): lambda.IFunction {
    const fn = this.byRoute.get(routeId);
    if (!fn) throw new Error(`No function for route ${routeId}`);
    return fn;
  }
}
