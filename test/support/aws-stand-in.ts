/**
 * An HTTP stand-in for the AWS services the ops commands call (CloudFormation, Secrets Manager, DynamoDB, SNS,
 * CloudWatch), on ONE port, answering on the wire the way the real services do, so the real AWS SDK v3 clients
 * (and `npm run twilio:setup` / `npm run doctor` in a child process, through `AWS_ENDPOINT_URL`) can be
 * driven against it:
 *
 * - Secrets Manager speaks awsJson1_1 (`POST /`, `X-Amz-Target: secretsmanager.<Op>`); CloudFormation speaks
 *   awsQuery (`POST /`, form-encoded `Action=…&Version=2010-05-15`, XML answers); DynamoDB speaks awsJson1_0
 *   (`X-Amz-Target: DynamoDB_20120810.<Op>`) and is forwarded as-is to an in-memory dynalite.
 * - SNS speaks awsQuery too (`Version=2010-03-31`, which is how its requests are told from CloudFormation's on
 *   the one port; AWS tells them apart by host). CloudWatch speaks awsJson1_0 (`X-Amz-Target:
 *   GraniteServiceVersion20100801.<Op>`) in its "query compatible" form: the SDK (3.1164) sends
 *   `x-amzn-query-mode: true` and reads an error's awsQuery code from the `x-amzn-query-error: <Code>;<Type>`
 *   header (node_modules/@aws-sdk/core, AwsJsonRpcProtocol with `awsQueryCompatible`), so the stand-in answers
 *   errors with that header and the awsQuery code (CloudWatch's documented error codes are awsQuery ones:
 *   https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CommonErrors.html).
 * - Every request must carry a SigV4 `Authorization` header for the stand-in's one access key, scoped to its
 *   region and to the service's signing name (`monitoring` for CloudWatch), and its signature is recomputed
 *   with `@smithy/signature-v4` and compared.
 * - Errors have the real codes, HTTP statuses and (where known) the real messages, so the SDK turns them into
 *   the same exception classes as in production.
 *
 * Sources for the rules are cited next to each one. Where a rule's wording could not be checked against AWS
 * documentation it says so.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRegistryTables as createTables, listenDynalite, type DynaliteServer, type RegistryCredentials } from '../../lib/local/registry-server';
import { signRequest, verifySigV4, type SigV4Failure } from '../../lib/local/sigv4';

export type AwsService = 'cloudformation' | 'secretsmanager' | 'dynamodb' | 'sns' | 'cloudwatch';

/** The name each service's requests are signed for (the credential scope's service). */
const SIGNING_NAME: Record<AwsService, string> = {
  cloudformation: 'cloudformation',
  secretsmanager: 'secretsmanager',
  dynamodb: 'dynamodb',
  sns: 'sns',
  cloudwatch: 'monitoring',
};

/** The awsQuery services (form-encoded requests, XML answers) and their XML namespaces. */
const QUERY_XMLNS = {
  cloudformation: 'http://cloudformation.amazonaws.com/doc/2010-05-15/',
  sns: 'http://sns.amazonaws.com/doc/2010-03-31/',
} as const;
type QueryService = keyof typeof QUERY_XMLNS;

/** SNS's API version: a form post carrying it is an SNS request (https://docs.aws.amazon.com/sns/latest/api/CommonParameters.html). */
const SNS_VERSION = '2010-03-31';
/** CloudWatch's awsJson1_0 target prefix (the service shape's name, as the SDK sends it). */
const CLOUDWATCH_TARGET = 'GraniteServiceVersion20100801';

/** An alarm's state (CloudWatch StateValue). */
export type AlarmState = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';

/** An alarm as `putAlarm` creates it; what is not given gets a plausible value. */
export interface AlarmSpec {
  name: string;
  /** default MetricAlarm */
  type?: 'MetricAlarm' | 'CompositeAlarm';
  alarmActions?: string[];
  okActions?: string[];
  insufficientDataActions?: string[];
  /** default OK */
  state?: AlarmState;
  stateReason?: string;
  description?: string;
  /** MetricAlarm: default `SignatureRejected` in `TwilioSoftphone` */
  metricName?: string;
  namespace?: string;
  /** CompositeAlarm: default `ALARM("<name>-child")` */
  alarmRule?: string;
}

export interface AwsErrorSpec {
  /** the error code, e.g. `ThrottlingException`, `AccessDeniedException` */
  code: string;
  message: string;
  /** HTTP status, e.g. 400 */
  status: number;
}

export interface RecordedAwsRequest {
  service: AwsService;
  /** the operation: `GetSecretValue`, `DescribeStacks`, `PutItem`, … (or what the request named, when unknown) */
  action: string;
  /** the HTTP status of the answer */
  status: number;
}

/** A stack output: its value, or its value with a description / export name. */
export type StackOutputSpec = string | { value: string; description?: string; exportName?: string };

export interface AwsStandInOptions {
  region?: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  /**
   * A DynamoDB-protocol server to forward DynamoDB requests to (e.g. the local app's registry, so the
   * "deployed" tables are the ones its handlers use), re-signed with its own key pair; default: an in-memory
   * dynalite of the stand-in's own.
   */
  dynamoUpstream?: { endpoint: string; credentials: RegistryCredentials; region: string };
}

/** The 12-digit account every ARN of the stand-in is in. */
export const STAND_IN_ACCOUNT = '123456789012';

const CFN_XMLNS = QUERY_XMLNS.cloudformation;
const AWSCURRENT = 'AWSCURRENT';
const AWSPREVIOUS = 'AWSPREVIOUS';

/* ------------------------------------------------------------------------------------------------------------
 * Operations each service answers; anything else is the service's "unknown operation" error.
 * ------------------------------------------------------------------------------------------------------------ */

const SECRETS_MANAGER_OPERATIONS = new Set(['GetSecretValue', 'DescribeSecret', 'PutSecretValue']);
const CLOUDFORMATION_OPERATIONS = new Set(['DescribeStacks']);
const SNS_OPERATIONS = new Set(['ListSubscriptionsByTopic']);
const CLOUDWATCH_OPERATIONS = new Set(['DescribeAlarms']);
/** DynamoDB operations are validated by dynalite itself (it answers UnknownOperationException). */

/** A service error, answered in the protocol of the service that raised it. */
class AwsFault extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
    /** awsJson `__type` when it is not the code (CloudWatch's validation errors are coral's shape) */
    readonly jsonType?: string,
  ) {
    super(message);
  }
}

interface SecretVersion {
  id: string;
  string?: string;
  binary?: string;
  created: Date;
  stages: Set<string>;
}

interface StoredSecret {
  name: string;
  arn: string;
  created: Date;
  lastChanged: Date;
  deleted?: Date;
  versions: SecretVersion[];
}

interface StoredStack {
  name: string;
  id: string;
  status: string;
  created: Date;
  updated?: Date;
  outputs: { key: string; value: string; description?: string; exportName?: string }[];
}

interface StoredSubscription {
  arn: string;
  protocol: string;
  endpoint: string;
  confirmed: boolean;
}

interface StoredTopic {
  arn: string;
  subscriptions: StoredSubscription[];
}

interface StoredAlarm {
  spec: Required<Pick<AlarmSpec, 'name' | 'type' | 'alarmActions' | 'okActions' | 'insufficientDataActions' | 'state'>> & AlarmSpec;
  arn: string;
  configured: Date;
  stateUpdated: Date;
}

interface Route {
  service: AwsService;
  action: string;
  /** parsed awsJson body (Secrets Manager, CloudWatch) */
  json?: Record<string, unknown>;
  /** parsed awsQuery parameters (CloudFormation, SNS) */
  params?: URLSearchParams;
}

/** Each page's position in an opaque token, bound to the request it continues (a token of another request is refused). */
function pageToken(offset: number, request: string): string {
  return Buffer.from(JSON.stringify({ o: offset, r: request }), 'utf8').toString('base64url');
}

/** The offset a token stands for, when it was issued for `request`; undefined for anything else. */
function readPageToken(token: string, request: string): number | undefined {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { o?: unknown; r?: unknown };
    return typeof parsed.o === 'number' && Number.isInteger(parsed.o) && parsed.o > 0 && parsed.r === request ? parsed.o : undefined;
  } catch {
    return undefined;
  }
}

function xml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

/** awsJson timestamps are epoch seconds (fractional) numbers. */
function epochSeconds(date: Date): number {
  return date.getTime() / 1000;
}

const SUFFIX_ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
function randomSuffix(length = 6): string {
  return Array.from(randomBytes(length), (b) => SUFFIX_ALPHABET[b % SUFFIX_ALPHABET.length]).join('');
}

export class AwsStandIn {
  readonly url: string;
  readonly region: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly dynamoEndpoint: string;
  readonly requests: RecordedAwsRequest[] = [];

  private readonly stacks = new Map<string, StoredStack>();
  private readonly secrets = new Map<string, StoredSecret>();
  private readonly topics = new Map<string, StoredTopic>();
  private readonly alarms = new Map<string, StoredAlarm>();
  private readonly failures: { service: AwsService; action: string; error: AwsErrorSpec; remaining: number }[] = [];
  private readonly upstreamAgent = new http.Agent({ keepAlive: true });
  /** the registry's key pair when DynamoDB requests go to a guarded upstream (re-signed for it) */
  private upstreamKey?: { credentials: RegistryCredentials; region: string };
  private stopped?: Promise<void>;

  private constructor(
    private readonly server: http.Server,
    private readonly dynalite: DynaliteServer,
    opts: Required<Omit<AwsStandInOptions, 'dynamoUpstream'>>,
  ) {
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    this.region = opts.region;
    this.accessKeyId = opts.accessKeyId;
    this.secretAccessKey = opts.secretAccessKey;
    this.dynamoEndpoint = dynalite.endpoint;
  }

  /** Starts dynalite and the stand-in, both on 127.0.0.1 (any free port). */
  static async start(opts: AwsStandInOptions = {}): Promise<AwsStandIn> {
    const resolved: Required<Omit<AwsStandInOptions, 'dynamoUpstream'>> = {
      region: opts.region ?? 'ap-northeast-1',
      // Same shape as real access keys (AKIA + 16 upper-case alphanumerics; 40-character secret).
      accessKeyId: opts.accessKeyId ?? `AKIA${randomBytes(8).toString('hex').toUpperCase()}`,
      secretAccessKey: opts.secretAccessKey ?? randomBytes(30).toString('base64'),
    };
    const upstream = opts.dynamoUpstream;
    const dynalite: DynaliteServer = upstream ? { endpoint: upstream.endpoint, close: async () => undefined } : await listenDynalite();
    let standIn: AwsStandIn | undefined;
    const server = http.createServer((req, res) => {
      if (!standIn) {
        res.writeHead(503).end();
        return;
      }
      standIn.handle(req, res).catch((err: unknown) => {
        // Only reached when the stand-in itself is broken; answer as AWS does for its own faults.
        if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain' });
        res.end(`stand-in failure: ${err instanceof Error ? err.stack : String(err)}`);
      });
    });
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      await dynalite.close();
      throw err;
    }
    standIn = new AwsStandIn(server, dynalite, resolved);
    if (upstream) standIn.upstreamKey = { credentials: upstream.credentials, region: upstream.region };
    return standIn;
  }

  /**
   * The environment for a child process: the SDK's standard endpoint variable (every service), the region
   * and the stand-in's key pair. Also switches off the EC2 metadata lookup and points the shared config and
   * credentials files at a path that does not exist, so nothing can be resolved from the real machine setup.
   * Merge it over a base from which the other AWS_* variables were removed: see `childEnv`.
   */
  env(): Record<string, string> {
    return {
      AWS_ENDPOINT_URL: this.url,
      AWS_REGION: this.region,
      AWS_ACCESS_KEY_ID: this.accessKeyId,
      AWS_SECRET_ACCESS_KEY: this.secretAccessKey,
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_CONFIG_FILE: '/nonexistent/aws-stand-in/config',
      AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/aws-stand-in/credentials',
    };
  }

  /**
   * `base` (default `process.env`) without any AWS_* variable (AWS_PROFILE would make the SDK skip the
   * environment credentials; AWS_SESSION_TOKEN or a service-specific AWS_ENDPOINT_URL_* would override ours),
   * plus `env()` and `extra`.
   */
  childEnv(extra: Record<string, string> = {}, base: NodeJS.ProcessEnv = process.env): Record<string, string> {
    const env: Record<string, string> = {};
    for (const [key, value] of Object.entries(base)) {
      if (value !== undefined && !/^AWS_/i.test(key)) env[key] = value;
    }
    return { ...env, ...this.env(), ...extra };
  }

  /* ---------------------------------------------------------------------------------------------------------- */
  /* CloudFormation state                                                                                       */
  /* ---------------------------------------------------------------------------------------------------------- */

  /**
   * Creates or replaces the stack `name` with these outputs and status (default CREATE_COMPLETE). A stack
   * with status DELETE_COMPLETE is found only by its stack ID, as in CloudFormation.
   */
  putStack<T extends { [K in keyof T]: StackOutputSpec }>(name: string, outputs: T, status = 'CREATE_COMPLETE'): string {
    const existing = this.stacks.get(name);
    const keep = existing && existing.status !== 'DELETE_COMPLETE';
    const now = new Date();
    const stack: StoredStack = {
      name,
      id: keep ? existing.id : `arn:aws:cloudformation:${this.region}:${STAND_IN_ACCOUNT}:stack/${name}/${randomUUID()}`,
      status,
      created: keep ? existing.created : now,
      updated: keep ? now : undefined,
      outputs: (Object.entries(outputs) as [string, StackOutputSpec][]).map(([key, spec]) =>
        typeof spec === 'string' ? { key, value: spec } : { key, value: spec.value, description: spec.description, exportName: spec.exportName },
      ),
    };
    this.stacks.set(name, stack);
    return stack.id;
  }

  /* ---------------------------------------------------------------------------------------------------------- */
  /* Secrets Manager state                                                                                      */
  /* ---------------------------------------------------------------------------------------------------------- */

  /**
   * Creates the secret `name` and returns its ARN. With a value, the secret gets a first version labelled
   * AWSCURRENT; without one it has no version at all, which is what CloudFormation leaves after creating an
   * AWS::SecretsManager::Secret with neither SecretString nor GenerateSecretString (the project's first-run
   * state): "If you include SecretString or SecretBinary then Secrets Manager creates an initial secret version
   * and automatically attaches the staging label AWSCURRENT to it."
   * (https://docs.aws.amazon.com/cli/latest/reference/secretsmanager/create-secret.html)
   */
  createSecret(name: string, value?: string): string {
    if (this.secrets.has(name)) throw new Error(`aws-stand-in: secret ${name} already exists`);
    // "The ARN includes the name of the secret followed by six random characters."
    // (https://docs.aws.amazon.com/sdk-for-kotlin/api/latest/secretsmanager/aws.sdk.kotlin.services.secretsmanager.model/-create-secret-response/arn.html)
    const arn = `arn:aws:secretsmanager:${this.region}:${STAND_IN_ACCOUNT}:secret:${name}-${randomSuffix()}`;
    const now = new Date();
    const secret: StoredSecret = { name, arn, created: now, lastChanged: now, versions: [] };
    if (value !== undefined) secret.versions.push({ id: randomUUID(), string: value, created: now, stages: new Set([AWSCURRENT]) });
    this.secrets.set(name, secret);
    return arn;
  }

  /** Schedules the secret for deletion (sets DeletedDate), as DeleteSecret with a recovery window does. */
  deleteSecret(nameOrArn: string): void {
    this.requireSecret(nameOrArn).deleted = new Date();
  }

  /** The AWSCURRENT version's SecretString; undefined when there is no current version. Throws for an unknown secret. */
  secretValue(nameOrArn: string): string | undefined {
    return this.requireSecret(nameOrArn).versions.find((v) => v.stages.has(AWSCURRENT))?.string;
  }

  /** How many versions the secret has (including deprecated ones without a staging label). */
  secretVersions(nameOrArn: string): number {
    return this.requireSecret(nameOrArn).versions.length;
  }

  /* ---------------------------------------------------------------------------------------------------------- */
  /* SNS state                                                                                                  */
  /* ---------------------------------------------------------------------------------------------------------- */

  /** Creates the standard topic `name` and returns its ARN (`arn:aws:sns:<region>:<account>:<name>`). */
  createTopic(name: string): string {
    const arn = `arn:aws:sns:${this.region}:${STAND_IN_ACCOUNT}:${name}`;
    if (this.topics.has(arn)) throw new Error(`aws-stand-in: topic ${name} already exists`);
    this.topics.set(arn, { arn, subscriptions: [] });
    return arn;
  }

  /** Deletes the topic and its subscriptions (DeleteTopic). */
  deleteTopic(topicArn: string): void {
    if (!this.topics.delete(topicArn)) throw new Error(`aws-stand-in: no topic ${topicArn}`);
  }

  /**
   * Subscribes `endpoint` (default protocol `email`). An e-mail subscription stays pending until the recipient
   * follows the link in the confirmation message ("the subscription ARN is not displayed until the subscription is
   * confirmed"; ListSubscriptionsByTopic shows it as `PendingConfirmation`,
   * https://docs.aws.amazon.com/sns/latest/dg/sns-create-subscribe-endpoint-to-topic.html): `confirmed: true`
   * plays a recipient who did. Returns the subscription's ARN (`<topic ARN>:<uuid>`), shown once confirmed.
   */
  subscribe(topicArn: string, endpoint: string, opts: { protocol?: string; confirmed?: boolean } = {}): string {
    const topic = this.topics.get(topicArn);
    if (!topic) throw new Error(`aws-stand-in: no topic ${topicArn}`);
    const arn = `${topicArn}:${randomUUID()}`;
    topic.subscriptions.push({ arn, protocol: opts.protocol ?? 'email', endpoint, confirmed: opts.confirmed ?? false });
    return arn;
  }

  /** The recipient at `endpoint` confirms the subscription. */
  confirmSubscription(topicArn: string, endpoint: string): void {
    const sub = this.topics.get(topicArn)?.subscriptions.find((s) => s.endpoint === endpoint);
    if (!sub) throw new Error(`aws-stand-in: no subscription of ${endpoint} to ${topicArn}`);
    sub.confirmed = true;
  }

  /* ---------------------------------------------------------------------------------------------------------- */
  /* CloudWatch state                                                                                           */
  /* ---------------------------------------------------------------------------------------------------------- */

  /** Creates or replaces an alarm (PutMetricAlarm / PutCompositeAlarm); returns its ARN. */
  putAlarm(spec: AlarmSpec): string {
    const now = new Date();
    const arn = `arn:aws:cloudwatch:${this.region}:${STAND_IN_ACCOUNT}:alarm:${spec.name}`;
    this.alarms.set(spec.name, {
      spec: {
        ...spec,
        type: spec.type ?? 'MetricAlarm',
        alarmActions: spec.alarmActions ?? [],
        okActions: spec.okActions ?? [],
        insufficientDataActions: spec.insufficientDataActions ?? [],
        state: spec.state ?? 'OK',
      },
      arn,
      configured: now,
      stateUpdated: now,
    });
    return arn;
  }

  /** Moves an alarm to `state` (SetAlarmState). */
  setAlarmState(name: string, state: AlarmState, reason?: string): void {
    const alarm = this.alarms.get(name);
    if (!alarm) throw new Error(`aws-stand-in: no alarm ${name}`);
    alarm.spec.state = state;
    alarm.spec.stateReason = reason;
    alarm.stateUpdated = new Date();
  }

  /** Deletes an alarm (DeleteAlarms). */
  deleteAlarm(name: string): void {
    if (!this.alarms.delete(name)) throw new Error(`aws-stand-in: no alarm ${name}`);
  }

  /* ---------------------------------------------------------------------------------------------------------- */
  /* DynamoDB                                                                                                   */
  /* ---------------------------------------------------------------------------------------------------------- */

  /** Creates the registry's two tables (lines, sign-in attempts) in the embedded dynalite (directly, not through the stand-in). */
  async createRegistryTables(registryTable: string, attemptsTable: string): Promise<void> {
    const client = new DynamoDBClient({
      endpoint: this.dynamoEndpoint,
      region: this.region,
      credentials: { accessKeyId: this.accessKeyId, secretAccessKey: this.secretAccessKey },
    });
    try {
      await createTables(client, registryTable, attemptsTable);
    } finally {
      client.destroy();
    }
  }

  /* ---------------------------------------------------------------------------------------------------------- */
  /* Fault injection and lifecycle                                                                              */
  /* ---------------------------------------------------------------------------------------------------------- */

  /**
   * The next `times` (default 1) authenticated requests of `action` on `service` fail with `error`, in that
   * service's error format. (The SDK retries throttling and 5xx errors by itself: count its attempts.)
   */
  fail(service: AwsService, action: string, error: AwsErrorSpec, times = 1): void {
    this.failures.push({ service, action, error, remaining: times });
  }

  /** Closes the stand-in and dynalite (idle keep-alive connections included). */
  stop(): Promise<void> {
    this.stopped ??= (async () => {
      this.server.closeAllConnections();
      await new Promise<void>((resolve) => this.server.close(() => resolve()));
      this.upstreamAgent.destroy();
      await this.dynalite.close();
    })();
    return this.stopped;
  }

  /* ---------------------------------------------------------------------------------------------------------- */
  /* Request handling                                                                                           */
  /* ---------------------------------------------------------------------------------------------------------- */

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);

    const route = this.classify(req, body);
    if (!route) {
      // Not addressed to any of the three services (no X-Amz-Target, not a form post): what dynalite, like
      // DynamoDB's front end, answers to a request it cannot route.
      res.writeHead(404, { 'Content-Type': 'text/xml' }).end('<UnknownOperationException/>\n');
      return;
    }
    try {
      if ((route.service === 'secretsmanager' || route.service === 'cloudwatch') && !route.json) {
        // awsJson services reject a body that is not JSON (dynalite mirrors DynamoDB: SerializationException).
        throw new AwsFault('SerializationException', '');
      }
      this.checkOperation(route);
      await this.authenticate(req, body, route.service);
      const failure = this.failures.find((f) => f.service === route.service && f.action === route.action && f.remaining > 0);
      if (failure) {
        failure.remaining--;
        throw new AwsFault(failure.error.code, failure.error.message, failure.error.status);
      }
      switch (route.service) {
        case 'dynamodb':
          await this.proxyToDynalite(req, body, res, route);
          return;
        case 'secretsmanager':
          this.answerJson(res, route, 200, this.secretsManager(route.action, route.json ?? {}));
          return;
        case 'cloudwatch':
          this.answerJson(res, route, 200, this.cloudWatch(route.action, route.json ?? {}));
          return;
        case 'sns':
          this.answerXml(res, route, 200, this.sns(route.action, route.params ?? new URLSearchParams()));
          return;
        default:
          this.answerXml(res, route, 200, this.cloudFormation(route.action, route.params ?? new URLSearchParams()));
      }
    } catch (err) {
      if (!(err instanceof AwsFault)) throw err;
      this.answerError(res, route, err);
    }
  }

  /** Which service and operation a request is for, from its X-Amz-Target header or its form-encoded Action. */
  private classify(req: http.IncomingMessage, body: Buffer): Route | undefined {
    const target = String(req.headers['x-amz-target'] ?? '');
    const contentType = String(req.headers['content-type'] ?? '')
      .split(';')[0]
      .trim()
      .toLowerCase();
    if (req.method === 'POST' && target) {
      const dot = target.indexOf('.');
      const prefix = dot < 0 ? target : target.slice(0, dot);
      const action = dot < 0 ? '' : target.slice(dot + 1);
      if (prefix.startsWith('DynamoDB_')) return { service: 'dynamodb', action };
      if (prefix === 'secretsmanager' || prefix === CLOUDWATCH_TARGET) {
        let json: Record<string, unknown> | undefined;
        try {
          const parsed: unknown = body.length ? JSON.parse(body.toString('utf8')) : {};
          if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) json = parsed as Record<string, unknown>;
        } catch {
          json = undefined;
        }
        return { service: prefix === CLOUDWATCH_TARGET ? 'cloudwatch' : 'secretsmanager', action, json };
      }
      return undefined;
    }
    if (req.method === 'POST' && contentType === 'application/x-www-form-urlencoded') {
      const params = new URLSearchParams(body.toString('utf8'));
      return { service: params.get('Version') === SNS_VERSION ? 'sns' : 'cloudformation', action: params.get('Action') ?? '', params };
    }
    return undefined;
  }

  private checkOperation(route: Route): void {
    const jsonOperations = { secretsmanager: SECRETS_MANAGER_OPERATIONS, cloudwatch: CLOUDWATCH_OPERATIONS }[route.service as string];
    if (jsonOperations && !jsonOperations.has(route.action)) {
      // awsJson services answer an unknown X-Amz-Target with UnknownOperationException (HTTP 400), before they
      // look at the signature — the order dynalite recorded from DynamoDB (node_modules/dynalite/index.js).
      throw new AwsFault('UnknownOperationException', '');
    }
    const queryOperations = { cloudformation: CLOUDFORMATION_OPERATIONS, sns: SNS_OPERATIONS }[route.service as string];
    if (queryOperations) {
      if (!route.action) {
        // "MissingAction: The request is missing an action or a required parameter. HTTP Status Code: 400"
        // (https://docs.aws.amazon.com/cloudsearch/latest/developerguide/CommonErrors.md, the common errors of awsQuery services)
        throw new AwsFault('MissingAction', 'Missing Action');
      }
      if (!queryOperations.has(route.action)) {
        // "InvalidAction: The action or operation requested is invalid. Verify that the action is typed
        // correctly. HTTP Status Code: 400" (https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/CommonErrors.html)
        // The message is the wording AWS query services use; not checked against CloudFormation itself.
        throw new AwsFault('InvalidAction', `Could not find operation ${route.action} for version ${route.params?.get('Version') ?? ''}`);
      }
    }
  }

  /**
   * SigV4 checks, in the order and with the messages DynamoDB answers (recorded from the real service in
   * dynalite's source, node_modules/dynalite/index.js, github.com/architect/dynalite); the codes per protocol
   * come from the common errors of each service:
   * - awsJson (Secrets Manager, DynamoDB): MissingAuthenticationTokenException / IncompleteSignatureException /
   *   InvalidSignatureException / UnrecognizedClientException, all HTTP 400
   *   (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ErrorHandling.html);
   * - awsQuery (CloudFormation, SNS; and CloudWatch, whose query-compatible JSON answers carry the awsQuery code
   *   in `x-amzn-query-error` — what CloudWatch itself sends there for SigV4 failures was not checked):
   *   MissingAuthenticationToken 403, IncompleteSignature 400, InvalidClientTokenId
   *   403 (https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/CommonErrors.html) and
   *   SignatureDoesNotMatch 403 ("you might receive HTTP 403 SignatureDoesNotMatch from AWS services",
   *   https://docs.aws.amazon.com/general/latest/gr/signature-v4-troubleshooting.html).
   * Header format: `AWS4-HMAC-SHA256 Credential=<AKID>/<yyyymmdd>/<region>/<service>/aws4_request,
   * SignedHeaders=…, Signature=…` (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-authentication-methods.html).
   */
  private async authenticate(req: http.IncomingMessage, body: Buffer, service: AwsService): Promise<void> {
    const failure = await verifySigV4(req, body, {
      accessKeyId: this.accessKeyId,
      secretAccessKey: this.secretAccessKey,
      region: this.region,
      service: SIGNING_NAME[service],
    });
    if (!failure) return;
    const query = service === 'cloudformation' || service === 'sns' || service === 'cloudwatch';
    const codes: Record<SigV4Failure['reason'], [string, number] | [string]> = query
      ? {
          missing: ['MissingAuthenticationToken', 403],
          incomplete: ['IncompleteSignature'],
          expired: ['SignatureDoesNotMatch', 403],
          scope: ['SignatureDoesNotMatch', 403],
          mismatch: ['SignatureDoesNotMatch', 403],
          'unknown-key': ['InvalidClientTokenId', 403],
        }
      : {
          missing: ['MissingAuthenticationTokenException'],
          incomplete: ['IncompleteSignatureException'],
          expired: ['InvalidSignatureException'],
          scope: ['InvalidSignatureException'],
          mismatch: ['InvalidSignatureException'],
          'unknown-key': ['UnrecognizedClientException'],
        };
    const [code, status] = codes[failure.reason];
    throw new AwsFault(code, failure.message, status);
  }

  /* ---------------------------------------------------------------------------------------------------------- */
  /* Answers                                                                                                    */
  /* ---------------------------------------------------------------------------------------------------------- */

  private record(route: Route, status: number): void {
    this.requests.push({ service: route.service, action: route.action, status });
  }

  private answerJson(res: http.ServerResponse, route: Route, status: number, body: unknown, headers: Record<string, string> = {}): void {
    this.record(route, status);
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'Content-Type': route.service === 'secretsmanager' ? 'application/x-amz-json-1.1' : 'application/x-amz-json-1.0',
      'Content-Length': Buffer.byteLength(text),
      'x-amzn-RequestId': randomUUID(),
      Date: new Date().toUTCString(),
      ...headers,
    });
    res.end(text);
  }

  private answerXml(res: http.ServerResponse, route: Route, status: number, body: string): void {
    this.record(route, status);
    res.writeHead(status, {
      'Content-Type': 'text/xml',
      'Content-Length': Buffer.byteLength(body),
      'x-amzn-RequestId': randomUUID(),
      Date: new Date().toUTCString(),
    });
    res.end(body);
  }

  /**
   * An error in the service's protocol:
   * - awsJson: HTTP 4xx/5xx with `{"__type": "<Code>", "message": "…"}`; the SDK takes the part of `__type`
   *   after a `#` as the code (DynamoDB's own example is
   *   `{"__type":"com.amazonaws.dynamodb.v20120810#ResourceNotFoundException","message":"Requested resource not found…"}`,
   *   https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ErrorHandling.html; Secrets Manager
   *   sends the bare shape name, e.g. `ResourceNotFoundException`).
   * - awsQuery: `<ErrorResponse xmlns=…><Error><Type>Sender</Type><Code>…</Code><Message>…</Message></Error>
   *   <RequestId>…</RequestId></ErrorResponse>` — "If a request is unsuccessful, … returns the main response
   *   element ErrorResponse. This element contains an Error element and a RequestId element", Type "specifies
   *   whether the error is a receiver or sender error"
   *   (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-api-responses.html);
   *   CloudFormation's own form, e.g. `<Code>ValidationError</Code><Message>Stack: foobar does not exist</Message>`,
   *   is the recorded response in https://docs.rs/crate/rusoto_cloudformation/0.32.0/source/test_resources/generated/error/cloudformation-cancel-update-stack.xml;
   *   SNS answers in the same envelope with its own namespace.
   * - CloudWatch (awsJson1_0, query compatible): `{"__type": "com.amazonaws.cloudwatch#<Code>", "message": …}` and
   *   the header `x-amzn-query-error: <Code>;Sender|Receiver`, the awsQuery code the SDK names the error by
   *   (`awsQueryError` traits in node_modules/@aws-sdk/client-cloudwatch, e.g. InvalidNextToken, 400).
   */
  private answerError(res: http.ServerResponse, route: Route, fault: AwsFault): void {
    const side = fault.status >= 500 ? 'Receiver' : 'Sender';
    if (route.service === 'cloudformation' || route.service === 'sns') {
      this.answerXml(
        res,
        route,
        fault.status,
        `<ErrorResponse xmlns="${QUERY_XMLNS[route.service satisfies QueryService]}">\n  <Error>\n    <Type>${side}</Type>\n    <Code>${xml(fault.code)}</Code>\n` +
          `    <Message>${xml(fault.message)}</Message>\n  </Error>\n  <RequestId>${randomUUID()}</RequestId>\n</ErrorResponse>\n`,
      );
      return;
    }
    const coral = [
      'UnknownOperationException',
      'SerializationException',
      'MissingAuthenticationTokenException',
      'IncompleteSignatureException',
      'InvalidSignatureException',
      'UnrecognizedClientException',
    ];
    const namespace = { dynamodb: 'com.amazonaws.dynamodb.v20120810', cloudwatch: 'com.amazonaws.cloudwatch' }[route.service as string];
    const type = fault.jsonType ?? (namespace ? `${coral.includes(fault.code) ? 'com.amazon.coral.service' : namespace}#${fault.code}` : fault.code);
    const body = fault.message ? { __type: type, message: fault.message } : { __type: type };
    this.answerJson(res, route, fault.status, body, route.service === 'cloudwatch' ? { 'x-amzn-query-error': `${fault.code};${side}` } : {});
  }

  /**
   * Forwards the request to dynalite and pipes its answer (status, headers, body) back; to a guarded upstream
   * (the local registry) it goes re-signed with the upstream's key pair, as the stand-in has checked it already.
   */
  private async proxyToDynalite(req: http.IncomingMessage, body: Buffer, res: http.ServerResponse, route: Route): Promise<void> {
    const upstreamUrl = new URL(this.dynamoEndpoint);
    let headers: http.OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(req.headers)) {
      const resigned = this.upstreamKey !== undefined && ['authorization', 'x-amz-date', 'host'].includes(name);
      if (!['connection', 'keep-alive', 'transfer-encoding', 'content-length'].includes(name) && !resigned && value !== undefined)
        headers[name] = value;
    }
    if (this.upstreamKey) {
      headers = await signRequest(
        { method: req.method ?? 'POST', host: upstreamUrl.host, path: req.url ?? '/', headers: headers as Record<string, string>, body },
        { ...this.upstreamKey.credentials, region: this.upstreamKey.region, service: 'dynamodb' },
      );
    }
    headers['content-length'] = body.length;
    return new Promise<void>((resolve, reject) => {
      const upstream = http.request(
        { host: upstreamUrl.hostname, port: upstreamUrl.port, method: req.method, path: req.url, headers, agent: this.upstreamAgent },
        (answer) => {
          const status = answer.statusCode ?? 502;
          this.record(route, status);
          const out: http.OutgoingHttpHeaders = {};
          for (const [name, value] of Object.entries(answer.headers)) {
            if (!['connection', 'keep-alive', 'transfer-encoding'].includes(name) && value !== undefined) out[name] = value;
          }
          res.writeHead(status, out);
          answer.pipe(res);
          answer.on('end', resolve);
          answer.on('error', reject);
        },
      );
      upstream.on('error', reject);
      upstream.end(body);
    });
  }

  /* ---------------------------------------------------------------------------------------------------------- */
  /* CloudFormation                                                                                             */
  /* ---------------------------------------------------------------------------------------------------------- */

  /**
   * DescribeStacks (https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_DescribeStacks.html):
   * "If the stack doesn't exist, a ValidationError is returned"; running stacks are found by name or stack ID,
   * deleted ones only by stack ID; without StackName, every stack that is not deleted. The answer is the
   * awsQuery envelope `<DescribeStacksResponse><DescribeStacksResult>…</DescribeStacksResult><ResponseMetadata>
   * <RequestId>…</RequestId></ResponseMetadata></DescribeStacksResponse>` (`<Action>Response` / `<Action>Result`
   * / ResponseMetadata, https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-api-responses.html),
   * lists as `<member>` elements.
   */
  private cloudFormation(action: string, params: URLSearchParams): string {
    // Only DescribeStacks passes checkOperation.
    void action;
    const requested = params.get('StackName');
    let stacks: StoredStack[];
    if (requested) {
      const found = [...this.stacks.values()].find((s) => s.id === requested || (s.name === requested && s.status !== 'DELETE_COMPLETE'));
      // The message CloudFormation sends for DescribeStacks on an unknown stack (as the AWS CLI prints it:
      // "An error occurred (ValidationError) when calling the DescribeStacks operation: Stack with id x does not exist").
      if (!found) throw new AwsFault('ValidationError', `Stack with id ${requested} does not exist`);
      stacks = [found];
    } else {
      stacks = [...this.stacks.values()].filter((s) => s.status !== 'DELETE_COMPLETE');
    }
    const members = stacks.map((s) => {
      const outputs = s.outputs.length
        ? `        <Outputs>\n${s.outputs
            .map(
              (o) =>
                `          <member>\n            <OutputKey>${xml(o.key)}</OutputKey>\n            <OutputValue>${xml(o.value)}</OutputValue>\n` +
                (o.description !== undefined ? `            <Description>${xml(o.description)}</Description>\n` : '') +
                (o.exportName !== undefined ? `            <ExportName>${xml(o.exportName)}</ExportName>\n` : '') +
                '          </member>\n',
            )
            .join('')}        </Outputs>\n`
        : '';
      return (
        '      <member>\n' +
        `        <StackId>${xml(s.id)}</StackId>\n` +
        `        <StackName>${xml(s.name)}</StackName>\n` +
        `        <CreationTime>${s.created.toISOString()}</CreationTime>\n` +
        (s.updated ? `        <LastUpdatedTime>${s.updated.toISOString()}</LastUpdatedTime>\n` : '') +
        `        <StackStatus>${xml(s.status)}</StackStatus>\n` +
        '        <DisableRollback>false</DisableRollback>\n' +
        '        <NotificationARNs/>\n' +
        '        <Capabilities>\n          <member>CAPABILITY_IAM</member>\n        </Capabilities>\n' +
        outputs +
        '        <Tags/>\n' +
        '        <EnableTerminationProtection>false</EnableTerminationProtection>\n' +
        '        <DriftInformation>\n          <StackDriftStatus>NOT_CHECKED</StackDriftStatus>\n        </DriftInformation>\n' +
        '      </member>\n'
      );
    });
    return (
      `<DescribeStacksResponse xmlns="${CFN_XMLNS}">\n  <DescribeStacksResult>\n    <Stacks>\n${members.join('')}    </Stacks>\n` +
      `  </DescribeStacksResult>\n  <ResponseMetadata>\n    <RequestId>${randomUUID()}</RequestId>\n  </ResponseMetadata>\n</DescribeStacksResponse>\n`
    );
  }

  /* ---------------------------------------------------------------------------------------------------------- */
  /* SNS                                                                                                        */
  /* ---------------------------------------------------------------------------------------------------------- */

  /**
   * ListSubscriptionsByTopic (https://docs.aws.amazon.com/sns/latest/api/API_ListSubscriptionsByTopic.html):
   * "Returns a list of the subscriptions to a specific topic. Each call returns a limited list of subscriptions,
   * up to 100. If there are more subscriptions, a NextToken is also returned. Use the NextToken parameter in a
   * new ListSubscriptionsByTopic call to get further results." Request: TopicArn (required), NextToken. Answer:
   * `<ListSubscriptionsByTopicResponse><ListSubscriptionsByTopicResult><Subscriptions><member>` with TopicArn,
   * Protocol, SubscriptionArn, Owner, Endpoint (the API reference's example), a pending subscription's
   * SubscriptionArn being `PendingConfirmation`. Errors (same page): NotFound "Indicates that the requested
   * resource does not exist" (HTTP 404; the SDK's NotFoundException) for an unknown topic, with the message SNS
   * sends, "Topic does not exist"; InvalidParameter (400) "Indicates that a request parameter does not comply
   * with the associated constraints" for a TopicArn that is not a topic ARN ("Invalid parameter: TopicArn") and,
   * here, for a NextToken this stand-in did not issue for this topic (that wording was not checked against SNS).
   * A missing TopicArn is the coral validation error the other services send.
   */
  private sns(action: string, params: URLSearchParams): string {
    void action; // only ListSubscriptionsByTopic passes checkOperation
    const topicArn = params.get('TopicArn');
    if (!topicArn) {
      throw new AwsFault(
        'ValidationError',
        "1 validation error detected: Value null at 'topicArn' failed to satisfy constraint: Member must not be null",
      );
    }
    if (!/^arn:aws[\w-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$/.test(topicArn)) {
      throw new AwsFault('InvalidParameter', 'Invalid parameter: TopicArn');
    }
    const topic = this.topics.get(topicArn);
    if (!topic) throw new AwsFault('NotFound', 'Topic does not exist', 404);
    const nextToken = params.get('NextToken');
    const offset = nextToken ? readPageToken(nextToken, topicArn) : 0;
    if (offset === undefined) throw new AwsFault('InvalidParameter', 'Invalid parameter: NextToken');
    const PAGE = 100;
    const page = topic.subscriptions.slice(offset, offset + PAGE);
    const more = offset + PAGE < topic.subscriptions.length;
    const members = page
      .map(
        (sub) =>
          '      <member>\n' +
          `        <TopicArn>${xml(topic.arn)}</TopicArn>\n` +
          `        <Protocol>${xml(sub.protocol)}</Protocol>\n` +
          `        <SubscriptionArn>${xml(sub.confirmed ? sub.arn : 'PendingConfirmation')}</SubscriptionArn>\n` +
          `        <Owner>${STAND_IN_ACCOUNT}</Owner>\n` +
          `        <Endpoint>${xml(sub.endpoint)}</Endpoint>\n` +
          '      </member>\n',
      )
      .join('');
    return (
      `<ListSubscriptionsByTopicResponse xmlns="${QUERY_XMLNS.sns}">\n  <ListSubscriptionsByTopicResult>\n` +
      `    <Subscriptions>\n${members}    </Subscriptions>\n` +
      (more ? `    <NextToken>${pageToken(offset + PAGE, topicArn)}</NextToken>\n` : '') +
      `  </ListSubscriptionsByTopicResult>\n  <ResponseMetadata>\n    <RequestId>${randomUUID()}</RequestId>\n  </ResponseMetadata>\n` +
      '</ListSubscriptionsByTopicResponse>\n'
    );
  }

  /* ---------------------------------------------------------------------------------------------------------- */
  /* CloudWatch                                                                                                 */
  /* ---------------------------------------------------------------------------------------------------------- */

  /**
   * DescribeAlarms (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DescribeAlarms.html, and
   * the SDK's DescribeAlarmsInput documentation):
   * - AlarmNames, or AlarmNamePrefix ("If this parameter is specified, you cannot specify AlarmNames": both is
   *   InvalidParameterCombination, 400, "Parameters that must not be used together were used together");
   * - AlarmTypes: "If you omit this parameter, only metric alarms are returned, even if composite alarms ... exist";
   * - StateValue; ActionPrefix: "only those alarms that use a certain alarm action. For example, you could specify
   *   the ARN of an SNS topic to find all alarms that send notifications to that topic" — matched here against
   *   AlarmActions (which of an alarm's action lists the service looks at is not documented);
   * - MaxRecords "The maximum number of alarm descriptions to retrieve", 1–100 (default 50; out of range is the
   *   ValidationError of CommonErrors, 400);
   * - NextToken; one it did not issue for this request is InvalidNextToken, "The next token specified is
   *   invalid" (400).
   * ChildrenOfAlarmName / ParentsOfAlarmName are not implemented (InvalidParameterValue, saying so). Answer:
   * MetricAlarms, CompositeAlarms, NextToken, alarms in name order, timestamps as epoch seconds (awsJson).
   */
  private cloudWatch(action: string, input: Record<string, unknown>): unknown {
    void action; // only DescribeAlarms passes checkOperation
    if (input.ChildrenOfAlarmName !== undefined || input.ParentsOfAlarmName !== undefined) {
      throw new AwsFault('InvalidParameterValue', 'ChildrenOfAlarmName and ParentsOfAlarmName are not implemented by the AWS stand-in');
    }
    const names = Array.isArray(input.AlarmNames) ? input.AlarmNames.map(String) : undefined;
    const namePrefix = typeof input.AlarmNamePrefix === 'string' ? input.AlarmNamePrefix : undefined;
    if (names && namePrefix !== undefined) {
      throw new AwsFault('InvalidParameterCombination', 'AlarmNamePrefix and AlarmNames cannot be specified together');
    }
    const maxRecords = input.MaxRecords === undefined ? 50 : Number(input.MaxRecords);
    if (!Number.isInteger(maxRecords) || maxRecords < 1 || maxRecords > 100) {
      throw new AwsFault(
        'ValidationError',
        `1 validation error detected: Value '${String(input.MaxRecords)}' at 'maxRecords' failed to satisfy constraint: Member must have value ${maxRecords < 1 ? 'greater than or equal to 1' : 'less than or equal to 100'}`,
        400,
        'com.amazon.coral.validate#ValidationException',
      );
    }
    const types = Array.isArray(input.AlarmTypes) && input.AlarmTypes.length > 0 ? input.AlarmTypes.map(String) : ['MetricAlarm'];
    const state = typeof input.StateValue === 'string' ? input.StateValue : undefined;
    const actionPrefix = typeof input.ActionPrefix === 'string' ? input.ActionPrefix : undefined;
    const matching = [...this.alarms.values()]
      .filter(
        (a) =>
          types.includes(a.spec.type) &&
          (!names || names.includes(a.spec.name)) &&
          (namePrefix === undefined || a.spec.name.startsWith(namePrefix)) &&
          (state === undefined || a.spec.state === state) &&
          (actionPrefix === undefined || a.spec.alarmActions.some((action) => action.startsWith(actionPrefix))),
      )
      .sort((a, b) => (a.spec.name < b.spec.name ? -1 : a.spec.name > b.spec.name ? 1 : 0));
    // a token continues the request it came from (every filter, not the page size)
    const request = JSON.stringify([names, namePrefix, types, state, actionPrefix]);
    const nextToken = typeof input.NextToken === 'string' ? input.NextToken : undefined;
    const offset = nextToken === undefined ? 0 : readPageToken(nextToken, request);
    if (offset === undefined) throw new AwsFault('InvalidNextToken', 'The next token specified is invalid.');
    const page = matching.slice(offset, offset + maxRecords);
    const common = (a: StoredAlarm) => ({
      AlarmName: a.spec.name,
      AlarmArn: a.arn,
      ...(a.spec.description !== undefined ? { AlarmDescription: a.spec.description } : {}),
      AlarmConfigurationUpdatedTimestamp: epochSeconds(a.configured),
      ActionsEnabled: true,
      OKActions: a.spec.okActions,
      AlarmActions: a.spec.alarmActions,
      InsufficientDataActions: a.spec.insufficientDataActions,
      StateValue: a.spec.state,
      StateReason:
        a.spec.stateReason ??
        (a.spec.state === 'INSUFFICIENT_DATA' ? 'Unchecked: Initial alarm creation' : `Threshold Crossed: state ${a.spec.state}`),
      StateUpdatedTimestamp: epochSeconds(a.stateUpdated),
      StateTransitionedTimestamp: epochSeconds(a.stateUpdated),
    });
    return {
      MetricAlarms: page
        .filter((a) => a.spec.type === 'MetricAlarm')
        .map((a) => ({
          ...common(a),
          MetricName: a.spec.metricName ?? 'SignatureRejected',
          Namespace: a.spec.namespace ?? 'TwilioSoftphone',
          Statistic: 'Sum',
          Dimensions: [],
          Period: 300,
          EvaluationPeriods: 1,
          Threshold: 1,
          ComparisonOperator: 'GreaterThanOrEqualToThreshold',
          TreatMissingData: 'notBreaching',
        })),
      CompositeAlarms: page
        .filter((a) => a.spec.type === 'CompositeAlarm')
        .map((a) => ({ ...common(a), AlarmRule: a.spec.alarmRule ?? `ALARM("${a.spec.name}-child")` })),
      ...(offset + maxRecords < matching.length ? { NextToken: pageToken(offset + maxRecords, request) } : {}),
    };
  }

  /* ---------------------------------------------------------------------------------------------------------- */
  /* Secrets Manager                                                                                            */
  /* ---------------------------------------------------------------------------------------------------------- */

  /**
   * A secret by name, by full ARN, or by partial ARN (the ARN without the random suffix). SecretId is "the ARN
   * or name of the secret"; "If you specify an incomplete ARN without the random suffix, and instead provide the
   * 'friendly name', you must not include the random suffix" (GetSecretValueRequest.SecretId,
   * https://docs.amazonaws.cn/sdkforruby/api/Aws/SecretsManager/Types/GetSecretValueRequest.html).
   */
  private findSecret(secretId: string): StoredSecret | undefined {
    const byName = this.secrets.get(secretId);
    if (byName) return byName;
    for (const secret of this.secrets.values()) {
      if (secret.arn === secretId) return secret;
      const partial = secret.arn.slice(0, secret.arn.length - 7); // without "-XXXXXX"
      if (partial === secretId) return secret;
    }
    return undefined;
  }

  private requireSecret(nameOrArn: string): StoredSecret {
    const secret = this.findSecret(nameOrArn);
    if (!secret) throw new Error(`aws-stand-in: no secret ${nameOrArn}`);
    return secret;
  }

  private secretsManager(action: string, input: Record<string, unknown>): unknown {
    const secretId = input.SecretId;
    if (typeof secretId !== 'string' || secretId === '') {
      // The coral framework's answer to a missing required member (format as in dynalite's recorded
      // ValidationException messages); the SDK does not validate required members itself.
      throw new AwsFault(
        'ValidationException',
        "1 validation error detected: Value null at 'secretId' failed to satisfy constraint: Member must not be null",
      );
    }
    // GetSecretValue / DescribeSecret / PutSecretValue on an unknown secret: ResourceNotFoundException, "Secrets
    // Manager can't find the resource that you asked for."
    // (https://docs.aws.amazon.com/botocore/latest/reference/services/secretsmanager/client/exceptions/ResourceNotFoundException.html);
    // the message the service sends is "Secrets Manager can't find the specified secret."
    const secret = this.findSecret(secretId);
    if (!secret) throw new AwsFault('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
    switch (action) {
      case 'GetSecretValue':
        return this.getSecretValue(secret, input);
      case 'DescribeSecret':
        return this.describeSecret(secret);
      default:
        return this.putSecretValue(secret, input);
    }
  }

  /**
   * InvalidRequestException, "A parameter value is not valid for the current state of the resource. Possible
   * causes: The secret is scheduled for deletion. …"
   * (https://docs.aws.amazon.com/botocore/latest/reference/services/secretsmanager/client/exceptions/InvalidRequestException.html)
   */
  private refuseDeleted(secret: StoredSecret): void {
    if (secret.deleted) {
      throw new AwsFault('InvalidRequestException', "You can't perform this operation on the secret because it was marked for deletion.");
    }
  }

  /**
   * GetSecretValue: the version asked for by VersionId and/or VersionStage, else "Secrets Manager returns the
   * AWSCURRENT version" (https://docs.aws.amazon.com/sdk-for-kotlin/api/latest/secretsmanager/aws.sdk.kotlin.services.secretsmanager.model/-get-secret-value-request/version-stage.html).
   * A secret without that version answers ResourceNotFoundException "Secrets Manager can't find the specified
   * secret value for staging label: AWSCURRENT" (the service's wording; the ops code matches "staging label").
   * Response: ARN, Name, VersionId, SecretString|SecretBinary, VersionStages, CreatedDate
   * (https://rubydoc.info/gems/aws-sdk-secretsmanager/Aws/SecretsManager/Types/GetSecretValueResponse).
   */
  private getSecretValue(secret: StoredSecret, input: Record<string, unknown>): unknown {
    this.refuseDeleted(secret);
    const versionId = typeof input.VersionId === 'string' ? input.VersionId : undefined;
    const stage = typeof input.VersionStage === 'string' ? input.VersionStage : undefined;
    let version: SecretVersion | undefined;
    if (versionId !== undefined) {
      version = secret.versions.find((v) => v.id === versionId && (stage === undefined || v.stages.has(stage)));
      if (!version)
        throw new AwsFault('ResourceNotFoundException', `Secrets Manager can't find the specified secret value for VersionId: ${versionId}`);
    } else {
      const label = stage ?? AWSCURRENT;
      version = secret.versions.find((v) => v.stages.has(label));
      if (!version)
        throw new AwsFault('ResourceNotFoundException', `Secrets Manager can't find the specified secret value for staging label: ${label}`);
    }
    return {
      ARN: secret.arn,
      Name: secret.name,
      VersionId: version.id,
      ...(version.string !== undefined ? { SecretString: version.string } : { SecretBinary: version.binary }),
      VersionStages: [...version.stages],
      CreatedDate: epochSeconds(version.created),
    };
  }

  /**
   * DescribeSecret: metadata only. VersionIdsToStages lists the versions that carry a staging label ("Versions
   * without a staging label are considered deprecated and not included in the list", CreateSecret,
   * https://www.powershellgallery.com/packages/AWS.Tools.SecretsManager/4.1.4.0/Content/AWS.Tools.SecretsManager.dll-Help.xml),
   * so it is absent for a secret with no version; DeletedDate "exists if the secret is scheduled for deletion"
   * (https://docs.rs/rusoto_secretsmanager/0.46.0/rusoto_secretsmanager/struct.DescribeSecretResponse.html).
   * DescribeSecret still answers for a secret scheduled for deletion (that is how DeletedDate is read).
   */
  private describeSecret(secret: StoredSecret): unknown {
    const stages: Record<string, string[]> = {};
    for (const v of secret.versions) if (v.stages.size > 0) stages[v.id] = [...v.stages];
    return {
      ARN: secret.arn,
      Name: secret.name,
      LastChangedDate: epochSeconds(secret.lastChanged),
      ...(secret.deleted ? { DeletedDate: epochSeconds(secret.deleted) } : {}),
      ...(Object.keys(stages).length > 0 ? { VersionIdsToStages: stages } : {}),
      CreatedDate: epochSeconds(secret.created),
    };
  }

  /**
   * PutSecretValue (https://dev.materialize.com/api/rust/aws_sdk_secretsmanager/operation/put_secret_value/builders/struct.PutSecretValueFluentBuilder.html):
   * "If you don't include VersionStages, then Secrets Manager automatically moves the staging label AWSCURRENT
   * to this version. If this operation creates the first version for the secret, then Secrets Manager
   * automatically attaches the staging label AWSCURRENT to it. If this operation moves the staging label
   * AWSCURRENT from another version to this version, then Secrets Manager also automatically moves the staging
   * label AWSPREVIOUS to the version that AWSCURRENT was removed from."
   * ClientRequestToken (the SDK generates one; it "becomes the VersionId of the new version"): "If a version with
   * this value already exists and that version's SecretString or SecretBinary values are the same as those in
   * the request then the request is ignored. The operation is idempotent. If a version with this value already
   * exists and the version of the SecretString and SecretBinary values are different from those in the request,
   * then the request fails because you can't modify a secret version."
   * (https://docs.aws.amazon.com/sdk-for-kotlin/api/latest/secretsmanager/aws.sdk.kotlin.services.secretsmanager.model/-put-secret-value-request/client-request-token.html)
   * — that failure is ResourceExistsException, "A resource with the ID you requested already exists"
   * (https://docs.aws.amazon.com/botocore/latest/reference/services/secretsmanager/client/exceptions/ResourceExistsException.html).
   * Response: ARN, Name, VersionId, VersionStages.
   */
  private putSecretValue(secret: StoredSecret, input: Record<string, unknown>): unknown {
    this.refuseDeleted(secret);
    const value = typeof input.SecretString === 'string' ? input.SecretString : undefined;
    const binary = typeof input.SecretBinary === 'string' ? input.SecretBinary : undefined;
    // "You must include SecretBinary or SecretString, but not both."
    // (https://docs.aws.amazon.com/sdk-for-kotlin/api/latest/secretsmanager/aws.sdk.kotlin.services.secretsmanager.model/-put-secret-value-request/secret-string.html)
    // The code/message of the refusal are not documented; InvalidParameterException is "The parameter name or
    // value is invalid" (https://docs.aws.amazon.com/secretsmanager/latest/apireference/CommonErrors.html).
    if ((value === undefined) === (binary === undefined)) {
      throw new AwsFault('InvalidParameterException', 'You must provide either SecretString or SecretBinary, but not both.');
    }
    const token = typeof input.ClientRequestToken === 'string' ? input.ClientRequestToken : randomUUID();
    // ClientRequestToken: "Length Constraints: Minimum length of 32. Maximum length of 64." (as VersionId,
    // https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_SecretVersionsListEntry.html)
    if (token.length < 32 || token.length > 64) {
      throw new AwsFault(
        'ValidationException',
        `1 validation error detected: Value '${token}' at 'clientRequestToken' failed to satisfy constraint: Member must have length ${token.length < 32 ? 'greater than or equal to 32' : 'less than or equal to 64'}`,
      );
    }
    const existing = secret.versions.find((v) => v.id === token);
    if (existing) {
      if (existing.string === value && existing.binary === binary) {
        return { ARN: secret.arn, Name: secret.name, VersionId: existing.id, VersionStages: [...existing.stages] };
      }
      throw new AwsFault('ResourceExistsException', "You can't modify an existing version, you can only create new versions.");
    }
    const labels = Array.isArray(input.VersionStages) && input.VersionStages.length > 0 ? input.VersionStages.map(String) : [AWSCURRENT];
    const now = new Date();
    const version: SecretVersion = { id: token, string: value, binary, created: now, stages: new Set() };
    for (const label of labels) {
      const holder = secret.versions.find((v) => v.stages.has(label));
      if (holder) {
        holder.stages.delete(label);
        if (label === AWSCURRENT) {
          for (const v of secret.versions) v.stages.delete(AWSPREVIOUS);
          holder.stages.add(AWSPREVIOUS);
        }
      }
      version.stages.add(label);
    }
    secret.versions.push(version);
    secret.lastChanged = now;
    return { ARN: secret.arn, Name: secret.name, VersionId: version.id, VersionStages: [...version.stages] };
  }
}
