import { ArnFormat, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { METRIC, METRICS_NAMESPACE, METRICS_SERVICE, TOLL_FRAUD_REASONS } from '../../lambda/core/metrics';
import { type FunctionId, ROUTE_METHOD, type RouteSpec } from '../api/routes';
import { parseNotifyEmails } from './voicemail-storage';

/**
 * One alarm's rule: it goes to ALARM when the watched value is at or above `threshold` in `datapointsToAlarm` of
 * the last `evaluationPeriods` periods of `periodMinutes`.
 */
export interface AlarmThreshold {
  readonly threshold: number;
  readonly periodMinutes: number;
  readonly evaluationPeriods: number;
  readonly datapointsToAlarm: number;
}

const once = (threshold: number, periodMinutes = 5): AlarmThreshold => ({ threshold, periodMinutes, evaluationPeriods: 1, datapointsToAlarm: 1 });

/**
 * The alarms' rules. A softphone for a team is idle most of the time: "normal" is zero for almost everything
 * watched here, so the thresholds count events, not rates, and no alarm needs traffic to evaluate (missing data
 * is "nothing happened").
 */
export const ALARM_THRESHOLDS = {
  /**
   * Twilio's webhooks answering 5XX: each is a call or callback that failed (the caller heard the fallback TwiML or
   * Twilio's application error). One can be a lone cold start against a slow dependency; three in five minutes
   * is a pattern.
   */
  webhook5xx: once(3),
  /**
   * Webhooks answering 4XX: Twilio's own requests are signed and well formed, so these are unsigned or forged
   * requests (403), wrong content types (415) or throttling (429). A trickle is the internet probing a public URL;
   * twenty in five minutes is a flood, or every Twilio request refused (a stale auth token) on a busy line.
   */
  webhook4xx: once(20),
  /**
   * Webhook functions' Lambda Errors: crashes and time-outs, and the `[403]` refusals of unsigned requests (the
   * non-proxy integration maps a thrown `[status] …` error to its status, so Lambda counts it). Twilio's
   * requests are signed, so a handful in five minutes is already unusual.
   */
  webhookFunctionErrors: once(5),
  /**
   * The other functions' Lambda Errors (the token API, the page's API, its authorizer, the registry upgrade).
   * Their refusals are thrown errors too (a wrong device secret 403, a lockout 429, an expired session 401): a
   * team makes a few every day, so only twenty in five minutes alarms.
   */
  softphoneFunctionErrors: once(20),
  /**
   * Lambda throttles: no function reserves concurrency, so a throttle means the account's concurrency in the
   * region is used up. Every one is a refused request (a failed call on a webhook): the first one alarms.
   */
  functionThrottles: once(1),
  /**
   * The slowest webhook route's p99 latency (API Gateway `Latency`, what Twilio waits for), in milliseconds. Twilio
   * gives up on a webhook after 15 s and the webhook functions time out at 10 s; a normal p99, cold starts
   * included, is well under 2 s. 8 s in two of three five-minute periods is a dependency slowing every call
   * before the time-outs (function errors) begin; one slow request alone does not alarm.
   */
  webhookLatencyP99Ms: { threshold: 8000, periodMinutes: 5, evaluationPeriods: 3, datapointsToAlarm: 2 },
  /**
   * DynamoDB read or write throttle events on a table (its indexes included). On-demand tables throttle only
   * beyond twice their previous peak or on one hot key; each is a request retried or failed: the first alarms.
   */
  tableThrottles: once(1),
  /**
   * Webhook requests with a missing or wrong X-Twilio-Signature. Five in five minutes: either Twilio's own requests
   * are refused (every call fails) or someone is probing the webhook URLs.
   */
  signatureRejected: once(5),
  /**
   * Sign-ins answered "locked out" (during a back-off window or the 15-minute lockout, lambda/core/lockout.ts).
   * Someone who forgot their secret trips one or two while retrying; five in a quarter of an hour is guessing.
   */
  lockouts: once(5, 15),
  /**
   * Outgoing calls refused for a toll-fraud reason (TOLL_FRAUD_REASONS): not a mistyped number, but a costly
   * destination. One can be a colleague trying a service number; three in a quarter of an hour is someone trying
   * the policy, perhaps with a stolen device secret.
   */
  tollFraud: once(3, 15),
  /**
   * Requests that found a dependency failing (DynamoDB, Secrets Manager, Twilio, S3, SNS) and were answered
   * gracefully ("temporarily unavailable", 503). The SDKs have retried already: three in five minutes is an outage,
   * not a blip.
   */
  dependencyFailures: once(3),
  /** Errors Twilio's Debugger reported (webhook fetch failures, bad TwiML): each is a call Twilio saw go wrong. */
  twilioErrors: once(1),
} as const satisfies Record<string, AlarmThreshold>;

/** CloudWatch alarms on metric math reference at most 10 metrics (a hard limit). */
export const MAX_METRICS_PER_ALARM = 10;

/** Every alarm's name starts with this (`<stack>-`): the e-mails' subjects name the stack, and the topic's and key's policies name the alarms by it. */
export function alarmNamePrefix(stackName: string): string {
  return `${stackName}-`;
}

/** A DynamoDB table watched for throttles, with the indexes whose throttles count too. */
export interface WatchedTable {
  /** How the alarm and the dashboard call it ("lines", "calls", …). */
  readonly name: string;
  readonly table: dynamodb.ITable;
  readonly indexes?: readonly string[];
}

export interface OperationsProps {
  /** The REST API; its stage's per-method metrics (ApiName, Stage, Resource, Method) are watched. */
  readonly api: apigw.RestApi;
  /** The routes (`ROUTES`): those with caller `twilio` are Twilio's webhooks. */
  readonly routes: readonly RouteSpec[];
  /** Every function of the stack, by id: a route's, the page authorizer, the registry upgrade. */
  readonly functions: ReadonlyMap<FunctionId, lambda.IFunction>;
  /** The tables watched for throttles. */
  readonly tables: readonly WatchedTable[];
  /** E-mail subscriptions of the alarm topic (context `alarmEmails`; each confirms by e-mail). @default none */
  readonly alarmEmails?: readonly string[];
}

/** `WebhookLatencyP99` → `webhook-latency-p99`, `Webhook5xx` → `webhook-5xx`: alarm names. */
export const kebab = (id: string) =>
  id
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .replace(/([a-z])([0-9])/g, '$1-$2')
    .toLowerCase();

/** Splits a list into pieces of at most `size`. */
function chunks<T>(list: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}

/**
 * Operations: the alarms that tell the team something is wrong, the topic that mails them, and one dashboard that
 * shows the same (calls, sign-ins, refusals, errors, latency, throttles).
 *
 * - The alarm topic is encrypted with a customer managed key of its own (rotated yearly): CloudWatch cannot
 *   publish to a topic under the AWS managed `alias/aws/sns` key, whose policy cannot be changed to let it. The
 *   key's and the topic's policies let `cloudwatch.amazonaws.com` use them for this stack's alarms only
 *   (`aws:SourceAccount`, `aws:SourceArn` = `<stack>-*` alarms). Publishers must use TLS. E-mail subscriptions
 *   come from context `alarmEmails`.
 * - Every alarm sends its ALARM and its OK to the topic, treats missing data as not breaching (no traffic, no
 *   problem) and says in its description what it means and what to do first.
 * - Webhook alarms read API Gateway's per-method metrics (the stage enables them on every route,
 *   softphone-api.ts): the stage-wide metric would mix the page's refusals (wrong secrets, expired sessions)
 *   with Twilio's calls. A sum over routes is one math expression (at most MAX_METRICS_PER_ALARM metrics: longer
 *   lists are split into several alarms).
 * - The app's own metrics (lambda/core/metrics.ts: namespace, names, the `service` dimension and each one's own)
 *   are read exactly as Powertools Metrics writes them.
 */
export class Operations extends Construct {
  public readonly topic: sns.Topic;
  public readonly key: kms.Key;
  public readonly dashboard: cloudwatch.Dashboard;
  /** Every alarm, by its construct id. */
  public readonly alarms: ReadonlyMap<string, cloudwatch.Alarm>;

  constructor(scope: Construct, id: string, props: OperationsProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const emails = parseNotifyEmails(props.alarmEmails ?? [], 'alarmEmails');
    const prefix = alarmNamePrefix(stack.stackName);
    // Only this stack's alarms may use the key and the topic (confused-deputy protection).
    const fromOurAlarms = {
      StringEquals: { 'aws:SourceAccount': stack.account },
      ArnLike: {
        'aws:SourceArn': stack.formatArn({
          service: 'cloudwatch',
          resource: 'alarm',
          resourceName: `${prefix}*`,
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        }),
      },
    };
    const cloudWatch = new iam.ServicePrincipal('cloudwatch.amazonaws.com');

    this.key = new kms.Key(this, 'AlarmTopicKey', {
      description: `${stack.stackName}: encrypts the alarm topic's messages (CloudWatch alarms publish with it)`,
      enableKeyRotation: true,
      // It protects notifications in flight only, nothing at rest: nothing is lost when it goes with the stack.
      removalPolicy: RemovalPolicy.DESTROY,
      pendingWindow: Duration.days(7),
    });
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarmsPublishToTheAlarmTopic',
        principals: [cloudWatch],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: fromOurAlarms,
      }),
    );

    this.topic = new sns.Topic(this, 'AlarmTopic', {
      displayName: `${stack.stackName} alarms`,
      masterKey: this.key,
      enforceSSL: true,
    });
    // The topic policy replaces SNS's default one (enforceSSL writes a policy): allow the alarms explicitly.
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarmsPublish',
        principals: [cloudWatch],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: fromOurAlarms,
      }),
    );
    for (const email of emails) this.topic.addSubscription(new subscriptions.EmailSubscription(email));

    const webhookRoutes = props.routes.filter((r) => r.caller === 'twilio');
    const webhookIds = new Set<FunctionId>(webhookRoutes.map((r) => r.id));
    const fnsOf = (pred: (id: FunctionId) => boolean) => [...props.functions].filter(([fnId]) => pred(fnId));
    const webhookFunctions = fnsOf((fnId) => webhookIds.has(fnId));
    const otherFunctions = fnsOf((fnId) => !webhookIds.has(fnId));

    const minutes = (t: AlarmThreshold) => Duration.minutes(t.periodMinutes);
    /** API Gateway's per-method metric of a route on this API's stage. */
    const apiMetric = (metricName: string, route: RouteSpec, statistic: string, period: Duration) =>
      new cloudwatch.Metric({
        namespace: 'AWS/ApiGateway',
        metricName,
        dimensionsMap: { ApiName: props.api.restApiName, Stage: props.api.deploymentStage.stageName, Resource: route.path, Method: ROUTE_METHOD },
        statistic,
        period,
        label: route.path,
      });
    /** The app's own metric (lambda/core/metrics.ts): the `service` dimension, and its own when given. */
    const appMetric = (spec: { name: string; dimension?: string }, value: string | undefined, statistic: string, period: Duration) =>
      new cloudwatch.Metric({
        namespace: METRICS_NAMESPACE,
        metricName: spec.name,
        dimensionsMap: { service: METRICS_SERVICE, ...(spec.dimension && value !== undefined ? { [spec.dimension]: value } : {}) },
        statistic,
        period,
        label: value ?? spec.name,
      });
    /** The sum of metrics as one series (missing points count 0); `tag` keeps ids apart on a shared graph. */
    const sumOf = (tag: string, metrics: readonly cloudwatch.IMetric[], label: string, period: Duration) =>
      new cloudwatch.MathExpression({
        expression: `SUM([${metrics.map((_, i) => `FILL(${tag}${i}, 0)`).join(', ')}])`,
        usingMetrics: Object.fromEntries(metrics.map((m, i) => [`${tag}${i}`, m])),
        label,
        period,
      });
    const alarms = new Map<string, cloudwatch.Alarm>();
    const alarm = (alarmId: string, metric: cloudwatch.IMetric, rule: AlarmThreshold, description: string): cloudwatch.Alarm => {
      const a = new cloudwatch.Alarm(this, alarmId, {
        alarmName: `${prefix}${kebab(alarmId)}`,
        alarmDescription: description,
        metric,
        threshold: rule.threshold,
        evaluationPeriods: rule.evaluationPeriods,
        datapointsToAlarm: rule.datapointsToAlarm,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      a.addAlarmAction(new actions.SnsAction(this.topic));
      a.addOkAction(new actions.SnsAction(this.topic));
      alarms.set(alarmId, a);
      return a;
    };
    /**
     * One alarm per piece of at most MAX_METRICS_PER_ALARM metrics (`Id`, then `IdPart2`, `IdPart3`, …), each watching the
     * SUM (missing points count 0) or the MAX (the worst at each point) of its piece; returns the expressions (their
     * metric ids are the alarm's own, so the dashboard can show several side by side).
     */
    const combinedAlarms = (
      alarmId: string,
      combine: 'SUM' | 'MAX',
      metrics: readonly cloudwatch.IMetric[],
      rule: AlarmThreshold,
      label: string,
      description: string,
    ): cloudwatch.MathExpression[] =>
      chunks(metrics, MAX_METRICS_PER_ALARM).map((piece, i) => {
        const pieceId = i === 0 ? alarmId : `${alarmId}Part${i + 1}`;
        const tag = `${pieceId.charAt(0).toLowerCase()}${pieceId.slice(1)}_`;
        const expression =
          combine === 'SUM'
            ? sumOf(tag, piece, label, minutes(rule))
            : new cloudwatch.MathExpression({
                expression: `MAX([${piece.map((_, n) => `${tag}${n}`).join(', ')}])`,
                usingMetrics: Object.fromEntries(piece.map((m, n) => [`${tag}${n}`, m])),
                label,
                period: minutes(rule),
              });
        alarm(pieceId, expression, rule, description);
        return expression;
      });
    const summedAlarms = (alarmId: string, metrics: readonly cloudwatch.IMetric[], rule: AlarmThreshold, label: string, description: string) =>
      combinedAlarms(alarmId, 'SUM', metrics, rule, label, description);

    // --- Twilio's webhooks (API Gateway, per method) ------------------------------------------------------
    const T = ALARM_THRESHOLDS;
    const webhook5xx = summedAlarms(
      'Webhook5xx',
      webhookRoutes.map((r) => apiMetric('5XXError', r, 'Sum', minutes(T.webhook5xx))),
      T.webhook5xx,
      'Webhook 5XX',
      `Twilio's webhooks answered 5XX (${T.webhook5xx.threshold}+ in ${T.webhook5xx.periodMinutes} min): calls or callbacks failed, callers heard ` +
        "Twilio's application error or the fallback TwiML. First: the dashboard's function errors and latency (a crash or a time-out), then the " +
        "failing route's function log (level ERROR) and its X-Ray traces. Right after a deployment? Roll it back.",
    );
    const webhook4xx = summedAlarms(
      'Webhook4xx',
      webhookRoutes.map((r) => apiMetric('4XXError', r, 'Sum', minutes(T.webhook4xx))),
      T.webhook4xx,
      'Webhook 4XX',
      `Twilio's webhooks answered 4XX (${T.webhook4xx.threshold}+ in ${T.webhook4xx.periodMinutes} min): 403 bad signature, 415 content type, 429 ` +
        "throttled. First: SignatureRejected on the dashboard. If every Twilio request is refused, the secret's authToken is stale or " +
        'publicBaseUrl differs from the URL Twilio calls: run npm run doctor, put the current auth token with put-secret-value. If the ' +
        "requests are not Twilio's (the API's access log), the stage's throttle holds them.",
    );
    const latencyRule = T.webhookLatencyP99Ms;
    const webhookLatency = webhookRoutes.map((r) => apiMetric('Latency', r, 'p99', minutes(latencyRule)));
    combinedAlarms(
      'WebhookLatencyP99',
      'MAX',
      webhookLatency,
      latencyRule,
      'Slowest webhook p99',
      `The slowest webhook's p99 latency was ${latencyRule.threshold / 1000} s or more in ${latencyRule.datapointsToAlarm} of ` +
        `${latencyRule.evaluationPeriods} ${latencyRule.periodMinutes}-minute periods; Twilio gives up at 15 s, the functions at 10 s, and ` +
        'callers hear silence meanwhile. First: X-Ray traces of the slow requests (which call is slow: DynamoDB, Secrets Manager, ' +
        "Twilio's API), then the dependency-failures alarm and the dashboard's handler latency by function.",
    );

    // --- The functions (Lambda Errors and Throttles, summed per group) ---------------------------------------
    const fnMetric = (fn: lambda.IFunction, fnId: FunctionId, metricName: 'Errors' | 'Throttles', period: Duration) =>
      fn.metric(metricName, { statistic: 'Sum', period, label: fnId });
    const groups = [
      {
        id: 'Webhook',
        title: 'Webhook functions',
        functions: webhookFunctions,
        errors: T.webhookFunctionErrors,
        errorsMean: "crashes and time-outs, and the 403s of unsigned requests (Twilio's are signed, so these are rare)",
      },
      {
        id: 'Softphone',
        title: 'Token, page API, authorizer, upgrade',
        functions: otherFunctions,
        errors: T.softphoneFunctionErrors,
        errorsMean:
          'crashes and time-outs, and the refusals these handlers answer by throwing: wrong device secret 403, lockout 429, expired ' +
          'session 401, not found 404 (a few a day are normal)',
      },
    ] as const;
    for (const g of groups) {
      if (g.functions.length === 0) continue;
      summedAlarms(
        `${g.id}FunctionErrors`,
        g.functions.map(([fnId, fn]) => fnMetric(fn, fnId, 'Errors', minutes(g.errors))),
        g.errors,
        `${g.title}: errors`,
        `${g.title}: ${g.errors.threshold}+ Lambda errors in ${g.errors.periodMinutes} min. Errors are ${g.errorsMean}. First: with API 5XX ` +
          'or latency alarms too it is a crash or time-out: the function log (level ERROR) and X-Ray traces; with sign-in refusals or ' +
          'signature rejections alone it is a flood of refused requests (see those alarms).',
      );
      summedAlarms(
        `${g.id}FunctionThrottles`,
        g.functions.map(([fnId, fn]) => fnMetric(fn, fnId, 'Throttles', minutes(T.functionThrottles))),
        T.functionThrottles,
        `${g.title}: throttles`,
        `${g.title}: Lambda refused to run them (throttled): the account's concurrency in this region is used up (no function here ` +
          "reserves any), and each throttled webhook is a failed call. First: the account's Lambda ConcurrentExecutions (another " +
          'workload, or a flood of requests); then raise the concurrency quota or reserve concurrency for these functions.',
      );
    }

    // --- DynamoDB -----------------------------------------------------------------------------------------
    const tableThrottles = props.tables.map((t) => {
      const rule = T.tableThrottles;
      const events = ['ReadThrottleEvents', 'WriteThrottleEvents'].flatMap((metricName) => [
        new cloudwatch.Metric({
          namespace: 'AWS/DynamoDB',
          metricName,
          dimensionsMap: { TableName: t.table.tableName },
          statistic: 'Sum',
          period: minutes(rule),
        }),
        ...(t.indexes ?? []).map(
          (index) =>
            new cloudwatch.Metric({
              namespace: 'AWS/DynamoDB',
              metricName,
              dimensionsMap: { TableName: t.table.tableName, GlobalSecondaryIndexName: index },
              statistic: 'Sum',
              period: minutes(rule),
            }),
        ),
      ]);
      const alarmId = `${t.name.charAt(0).toUpperCase()}${t.name.slice(1)}TableThrottles`;
      return summedAlarms(
        alarmId,
        events,
        rule,
        `${t.name} table`,
        `DynamoDB throttled requests on the ${t.name} table (reads or writes, its indexes included): an on-demand table throttles beyond ` +
          'twice its previous peak or on one hot key, and each throttled request was retried or failed (a caller may have heard ' +
          '"temporarily unavailable"). First: the table\'s ThrottledRequests by operation in the DynamoDB console and the ' +
          'dependency-failures alarm; a sudden burst (many sign-ins, a scan) passes, a steady one needs a look at the access pattern.',
      );
    });

    // --- The app's own metrics (lambda/core/metrics.ts) ---------------------------------------------------
    alarm(
      'SignatureRejected',
      appMetric(METRIC.signatureRejected, undefined, 'Sum', minutes(T.signatureRejected)),
      T.signatureRejected,
      `${T.signatureRejected.threshold}+ webhook requests in ${T.signatureRejected.periodMinutes} min had a missing or wrong X-Twilio-Signature. ` +
        "If they are Twilio's, every call fails: the secret's authToken is not the account's current one (rotated?) or publicBaseUrl is " +
        'not the URL Twilio calls. First: npm run doctor, then put the current auth token with put-secret-value (warm functions read it ' +
        "within 5 minutes). If they are not Twilio's, someone is probing the webhook URLs: the signature check holds them.",
    );
    alarm(
      'SignInLockouts',
      appMetric(METRIC.signIn, 'locked-out', 'Sum', minutes(T.lockouts)),
      T.lockouts,
      `${T.lockouts.threshold}+ sign-ins answered "locked out" in ${T.lockouts.periodMinutes} min: repeated wrong device secrets for a number. ` +
        'First: the token function log names the numbers. One of your people? Give them a new secret (npm run device). Not yours? ' +
        'Someone is guessing secrets: the lockout holds them; rotate the secrets of that line if one may have leaked.',
    );
    summedAlarms(
      'TollFraudRefusals',
      TOLL_FRAUD_REASONS.map((reason) => appMetric(METRIC.callRefused, reason, 'Sum', minutes(T.tollFraud))),
      T.tollFraud,
      'Toll-fraud refusals',
      `${T.tollFraud.threshold}+ outgoing calls refused in ${T.tollFraud.periodMinutes} min for a toll-fraud reason (${TOLL_FRAUD_REASONS.join(', ')}): ` +
        'someone dials costly destinations, perhaps with a stolen device secret. First: npm run calls -- list for the line (who placed ' +
        "them). Not your people? Remove that device (npm run device) and check Twilio's usage. Legitimate? Adjust allowedDestinationCountries.",
    );
    summedAlarms(
      'DependencyFailures',
      METRIC.dependencyFailure.values.map((dep) => appMetric(METRIC.dependencyFailure, dep, 'Sum', minutes(T.dependencyFailures))),
      T.dependencyFailures,
      'Dependency failures',
      `${T.dependencyFailures.threshold}+ requests in ${T.dependencyFailures.periodMinutes} min found a dependency failing (` +
        `${METRIC.dependencyFailure.values.join(', ')}) and answered "temporarily unavailable" or 503. First: which one, on the ` +
        "dashboard; then the AWS Health Dashboard or Twilio's status page, and the function logs (level ERROR). A secret without a " +
        'value fails the same way: npm run doctor.',
    );
    alarm(
      'TwilioErrors',
      appMetric(METRIC.twilioAlert, 'error', 'Sum', minutes(T.twilioErrors)),
      T.twilioErrors,
      "Twilio's Debugger reported an error (e.g. 11200: a webhook Twilio could not fetch; 12100: TwiML it could not parse): a call " +
        "Twilio saw go wrong. First: the Twilio console's Monitor > Errors for the code and the request, and the TwilioDebuggerEvents " +
        'function log, which has the alert.',
    );
    this.alarms = alarms;

    // --- The dashboard ------------------------------------------------------------------------------------
    const five = Duration.minutes(5);
    const graph = (title: string, left: cloudwatch.IMetric[], extra: Partial<cloudwatch.GraphWidgetProps> = {}) =>
      new cloudwatch.GraphWidget({ title, left, width: 8, height: 6, ...extra });
    const thresholdLine = (rule: AlarmThreshold, label: string): cloudwatch.HorizontalAnnotation => ({ value: rule.threshold, label });

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: stack.stackName,
      defaultInterval: Duration.days(1),
    });
    this.dashboard.addWidgets(
      new cloudwatch.TextWidget({
        markdown:
          `# ${stack.stackName}\n` +
          `Alarms mail the alarm topic (output AlarmTopicArn). The app's metrics: namespace \`${METRICS_NAMESPACE}\`, ` +
          `dimension \`service=${METRICS_SERVICE}\` (lambda/core/metrics.ts). Traces: X-Ray, on every function and the API stage.`,
        width: 24,
        height: 2,
      }),
    );
    this.dashboard.addWidgets(new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: [...alarms.values()], width: 24, height: 4 }));
    this.dashboard.addWidgets(
      graph('Calls', [
        appMetric(METRIC.incomingCall, undefined, 'Sum', five),
        appMetric(METRIC.missedCall, undefined, 'Sum', five),
        appMetric(METRIC.voicemail, undefined, 'Sum', five),
      ]),
      graph(
        'Sign-ins by result',
        METRIC.signIn.values.map((result) => appMetric(METRIC.signIn, result, 'Sum', five)),
        { leftAnnotations: [thresholdLine(T.lockouts, 'locked-out alarm (per 15 min)')] },
      ),
      graph('Refused calls', [
        sumOf(
          'fraud_',
          TOLL_FRAUD_REASONS.map((reason) => appMetric(METRIC.callRefused, reason, 'Sum', five)),
          'toll-fraud reasons',
          five,
        ),
        new cloudwatch.MathExpression({
          // every reason (the policy's, `limit`, `not-a-teammate`, `caller-id`), one line each
          expression: `SEARCH('{${METRICS_NAMESPACE},${METRIC.callRefused.dimension},service} MetricName="${METRIC.callRefused.name}"', 'Sum', 300)`,
          period: five,
        }),
      ]),
    );
    this.dashboard.addWidgets(
      graph('Webhook requests refused and failed', [...webhook4xx, ...webhook5xx], {
        leftAnnotations: [thresholdLine(T.webhook5xx, '5XX alarm'), thresholdLine(T.webhook4xx, '4XX alarm')],
      }),
      graph('Signatures rejected, Twilio alerts', [
        appMetric(METRIC.signatureRejected, undefined, 'Sum', five),
        ...METRIC.twilioAlert.values.map((level) => appMetric(METRIC.twilioAlert, level, 'Sum', five)),
      ]),
      graph(
        'Dependency failures',
        METRIC.dependencyFailure.values.map((dep) => appMetric(METRIC.dependencyFailure, dep, 'Sum', five)),
      ),
    );
    this.dashboard.addWidgets(
      graph(
        'Function errors',
        [...props.functions].map(([fnId, fn]) => fnMetric(fn, fnId, 'Errors', five)),
      ),
      graph(
        'Webhook latency p99 (ms)',
        webhookRoutes.map((r) => apiMetric('Latency', r, 'p99', five)),
        {
          leftAnnotations: [thresholdLine(latencyRule, 'latency alarm'), { value: 15000, label: "Twilio's time-out" }],
        },
      ),
      graph(
        'Handler latency p99 (ms)',
        [...props.functions.keys()].map((fnId) => appMetric(METRIC.handlerLatency, fnId, 'p99', five)),
      ),
    );
    this.dashboard.addWidgets(
      graph(
        'Function throttles',
        [...props.functions].map(([fnId, fn]) => fnMetric(fn, fnId, 'Throttles', five)),
      ),
      graph('DynamoDB throttle events', tableThrottles.flat()),
      graph(
        'API requests by route',
        props.routes.map((r) => apiMetric('Count', r, 'Sum', five)),
      ),
    );
  }
}
