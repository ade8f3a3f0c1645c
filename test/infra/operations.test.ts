/**
 * Issue 16 on the synthesized template: the alarm topic (its own rotated KMS key that CloudWatch may use, TLS
 * only), every alarm (metrics, namespace, dimensions, statistic, period, threshold, comparison, actions), the
 * dashboard, and X-Ray on the functions and the stage. The app's own metrics are asserted with the names and
 * dimensions of lambda/core/metrics.ts, the contract the handlers emit by.
 */
import { ATTEMPTS_KEY, CALLS_BY_LINE_INDEX, LEGACY_DEVICE_KEY, PK } from '../../lambda/adapters/registry-schema';
import { METRIC, METRICS_NAMESPACE, METRICS_SERVICE, TOLL_FRAUD_REASONS } from '../../lambda/core/metrics';
import { DEFAULT_STACK_NAME } from '../../lambda/core/settings';
import { API_NAME, type FunctionId, ROUTE_METHOD, ROUTES, type RouteId, SUPPORT_FUNCTIONS } from '../../lib/api/routes';
import { ALARM_THRESHOLDS, type AlarmThreshold, kebab, MAX_METRICS_PER_ALARM } from '../../lib/constructs/operations';
import { defaultSynthesis, flatten, resourcesOf, type CfnResource, type CfnTemplate, type NagFacts } from './synth';

let s: { json: CfnTemplate; nag: NagFacts };
beforeAll(() => {
  const { template, nag } = defaultSynthesis();
  s = { json: template, nag };
});

const findOne = (type: string, pred: (r: CfnResource) => boolean = () => true): [string, CfnResource] => {
  const found = resourcesOf(s.json, type).filter(([, r]) => pred(r));
  expect(found).toHaveLength(1);
  return found[0];
};
const alarmTopic = () => findOne('AWS::SNS::Topic', (t) => flatten(t.Properties?.KmsMasterKeyId).startsWith('<Operations'));
const stageId = () => findOne('AWS::ApiGateway::Stage')[0];
const fnIdOf = (functionName: string): string =>
  findOne('AWS::Lambda::Function', (r) => String(r.Properties?.Description ?? '').startsWith(`${functionName}:`))[0];
const tableWithKey = (attr: string, withGsi: boolean) =>
  findOne(
    'AWS::DynamoDB::Table',
    (r) => r.Properties?.KeySchema?.[0]?.AttributeName === attr && Boolean(r.Properties?.GlobalSecondaryIndexes) === withGsi,
  )[0];

const TWILIO_ROUTES = ROUTES.filter((r) => r.caller === 'twilio');
const ALL_FUNCTIONS: { id: FunctionId; functionName: string }[] = [...ROUTES, ...SUPPORT_FUNCTIONS];
const WEBHOOK_FUNCTIONS = ALL_FUNCTIONS.filter((f) => TWILIO_ROUTES.some((r) => r.id === f.id));
const OTHER_FUNCTIONS = ALL_FUNCTIONS.filter((f) => !TWILIO_ROUTES.some((r) => r.id === f.id));

interface MetricQuery {
  Id: string;
  Expression?: string;
  ReturnData?: boolean;
  MetricStat?: { Metric: { Namespace: string; MetricName: string; Dimensions: { Name: string; Value: unknown }[] }; Period: number; Stat: string };
}
/** A metric as the tests compare it: namespace, name, dimensions (a Ref as `<Id>`), statistic, period. */
interface Watched {
  namespace: string;
  name: string;
  dimensions: Record<string, string>;
  stat: string;
  period: number;
}
const watched = (q: MetricQuery): Watched => ({
  namespace: q.MetricStat!.Metric.Namespace,
  name: q.MetricStat!.Metric.MetricName,
  dimensions: Object.fromEntries(q.MetricStat!.Metric.Dimensions.map((d) => [d.Name, flatten(d.Value)])),
  stat: q.MetricStat!.Stat,
  period: q.MetricStat!.Period,
});

/** The alarm named `<stack>-<kebab(id)>`. */
function alarmNamed(id: string): CfnResource {
  return findOne('AWS::CloudWatch::Alarm', (a) => a.Properties!.AlarmName === `${DEFAULT_STACK_NAME}-${kebab(id)}`)[1];
}
/** The alarm's watched metrics and, for a math alarm, its expression (which names every one of them). */
function alarmMetrics(alarm: CfnResource): { expression?: string; metrics: Watched[] } {
  const queries = alarm.Properties!.Metrics as MetricQuery[] | undefined;
  expect(queries).toBeDefined();
  const returned = queries!.filter((q) => q.ReturnData !== false);
  expect(returned).toHaveLength(1);
  const stats = queries!.filter((q) => q.MetricStat);
  expect(stats.length).toBeLessThanOrEqual(MAX_METRICS_PER_ALARM);
  const expression = returned[0].Expression;
  if (expression) for (const q of stats) expect(expression).toMatch(new RegExp(`\\b${q.Id}\\b`));
  return { expression, metrics: stats.map(watched) };
}
/** The rule, the comparison, missing data and both actions (ALARM and OK to the alarm topic). */
function expectRule(alarm: CfnResource, rule: AlarmThreshold): void {
  const topic = { Ref: alarmTopic()[0] };
  expect(alarm.Properties).toMatchObject({
    Threshold: rule.threshold,
    EvaluationPeriods: rule.evaluationPeriods,
    DatapointsToAlarm: rule.datapointsToAlarm,
    ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    TreatMissingData: 'notBreaching',
    AlarmActions: [topic],
    OKActions: [topic],
  });
  expect(alarm.Properties!.InsufficientDataActions).toBeUndefined();
  // actionable: what it means, then what to do first; CloudWatch's limit is 1024 characters
  const description = alarm.Properties!.AlarmDescription as string;
  expect(description).toContain('First:');
  expect(description.length).toBeGreaterThan(120);
  expect(description.length).toBeLessThanOrEqual(1024);
}
const apiDims = (path: string) => ({ ApiName: API_NAME, Stage: `<${stageId()}>`, Resource: path, Method: ROUTE_METHOD });
const app = (dimension?: [string, string]) => ({ service: METRICS_SERVICE, ...(dimension ? { [dimension[0]]: dimension[1] } : {}) });
const minutes = (rule: AlarmThreshold) => rule.periodMinutes * 60;
const sortBy = (list: Watched[]) => [...list].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));

describe('the alarm topic', () => {
  it('is encrypted with a key of its own: rotated, deleted with the stack after 7 days', () => {
    const [topicId, topic] = alarmTopic();
    const keyId = (topic.Properties!.KmsMasterKeyId as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    const key = s.json.Resources[keyId];
    expect(key.Type).toBe('AWS::KMS::Key');
    expect(key.Properties).toMatchObject({ EnableKeyRotation: true, PendingWindowInDays: 7 });
    expect(key.DeletionPolicy).toBe('Delete');
    expect(topicId).toMatch(/^OperationsAlarmTopic/);
    // the only customer managed key of the stack (the voicemail topic uses alias/aws/sns)
    expect(resourcesOf(s.json, 'AWS::KMS::Key').map(([id]) => id)).toEqual([keyId]);
  });

  it("the key's policy lets CloudWatch use it for this stack's alarms only (alias/aws/sns would refuse CloudWatch)", () => {
    const keyId = (alarmTopic()[1].Properties!.KmsMasterKeyId as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    const statements = s.json.Resources[keyId].Properties!.KeyPolicy.Statement as Record<string, unknown>[];
    const forCloudWatch = statements.filter((st) => JSON.stringify(st.Principal).includes('cloudwatch.amazonaws.com'));
    expect(forCloudWatch).toHaveLength(1);
    expect(forCloudWatch[0]).toMatchObject({
      Effect: 'Allow',
      Principal: { Service: 'cloudwatch.amazonaws.com' },
      Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
      Resource: '*',
    });
    const condition = forCloudWatch[0].Condition as Record<string, Record<string, unknown>>;
    expect(flatten(condition.StringEquals['aws:SourceAccount'])).toBe('<AWS::AccountId>');
    expect(flatten(condition.ArnLike['aws:SourceArn'])).toBe(
      `arn:<AWS::Partition>:cloudwatch:<AWS::Region>:<AWS::AccountId>:alarm:${DEFAULT_STACK_NAME}-*`,
    );
  });

  it('TLS only for publishers; CloudWatch may publish for these alarms; no subscription without context alarmEmails', () => {
    const [topicId] = alarmTopic();
    const [, policy] = findOne('AWS::SNS::TopicPolicy', (p) => JSON.stringify(p.Properties!.Topics) === JSON.stringify([{ Ref: topicId }]));
    const statements = policy.Properties!.PolicyDocument.Statement as Record<string, unknown>[];
    expect(statements).toContainEqual(
      expect.objectContaining({ Effect: 'Deny', Action: 'sns:Publish', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
    );
    const allow = statements.filter((st) => st.Effect === 'Allow');
    expect(allow).toHaveLength(1);
    expect(allow[0]).toMatchObject({ Principal: { Service: 'cloudwatch.amazonaws.com' }, Action: 'sns:Publish', Resource: { Ref: topicId } });
    expect(flatten((allow[0].Condition as Record<string, Record<string, unknown>>).ArnLike['aws:SourceArn'])).toMatch(
      new RegExp(`:alarm:${DEFAULT_STACK_NAME}-\\*$`),
    );
    expect(resourcesOf(s.json, 'AWS::SNS::Subscription')).toEqual([]);
  });

  it('every alarm of the stack is named after it (the policies above match by that prefix)', () => {
    for (const [, a] of resourcesOf(s.json, 'AWS::CloudWatch::Alarm'))
      expect(a.Properties!.AlarmName).toMatch(new RegExp(`^${DEFAULT_STACK_NAME}-[a-z0-9-]+$`));
  });
});

describe('alarms', () => {
  const T = ALARM_THRESHOLDS;

  it('exactly these, each once', () => {
    const names = resourcesOf(s.json, 'AWS::CloudWatch::Alarm').map(([, a]) => a.Properties!.AlarmName as string);
    expect(names.sort()).toEqual(
      [
        'Webhook5xx',
        'Webhook4xx',
        'WebhookLatencyP99',
        'WebhookFunctionErrors',
        'WebhookFunctionThrottles',
        'SoftphoneFunctionErrors',
        'SoftphoneFunctionThrottles',
        'LinesTableThrottles',
        'AttemptsTableThrottles',
        'CallsTableThrottles',
        'SignatureRejected',
        'SignInLockouts',
        'TollFraudRefusals',
        'DependencyFailures',
        'TwilioErrors',
      ]
        .map((id) => `${DEFAULT_STACK_NAME}-${kebab(id)}`)
        .sort(),
    );
    expect(kebab('Webhook5xx')).toBe('webhook-5xx');
    expect(kebab('WebhookLatencyP99')).toBe('webhook-latency-p99');
  });

  it.each([
    ['Webhook5xx', '5XXError', T.webhook5xx],
    ['Webhook4xx', '4XXError', T.webhook4xx],
  ] as const)("%s: API Gateway %s summed over Twilio's webhook routes (per-method metrics)", (id, metricName, rule) => {
    const alarm = alarmNamed(id);
    expectRule(alarm, rule);
    const { expression, metrics } = alarmMetrics(alarm);
    expect(expression).toMatch(/^SUM\(\[FILL\(\w+, 0\)(, FILL\(\w+, 0\))*\]\)$/);
    expect(sortBy(metrics)).toEqual(
      sortBy(
        TWILIO_ROUTES.map((r) => ({
          namespace: 'AWS/ApiGateway',
          name: metricName,
          dimensions: apiDims(r.path),
          stat: 'Sum',
          period: minutes(rule),
        })),
      ),
    );
    // the webhooks: the two new ones too, no page route
    expect(metrics.map((m) => m.dimensions.Resource)).toEqual(
      expect.arrayContaining(['/twilio/debugger_events', '/twilio/retrieve_twiml/preflight']),
    );
    expect(metrics.some((m) => m.dimensions.Resource.startsWith('/softphone/'))).toBe(false);
  });

  it("WebhookLatencyP99: the slowest webhook route's p99 Latency, 8 s (Twilio's time-out is 15 s) in 2 of 3 periods", () => {
    const rule = T.webhookLatencyP99Ms;
    expect(rule.threshold).toBeLessThan(15_000);
    const alarm = alarmNamed('WebhookLatencyP99');
    expectRule(alarm, rule);
    expect(alarm.Properties).toMatchObject({ Threshold: 8000, EvaluationPeriods: 3, DatapointsToAlarm: 2 });
    const { expression, metrics } = alarmMetrics(alarm);
    expect(expression).toMatch(/^MAX\(\[\w+(, \w+)*\]\)$/);
    expect(sortBy(metrics)).toEqual(
      sortBy(TWILIO_ROUTES.map((r) => ({ namespace: 'AWS/ApiGateway', name: 'Latency', dimensions: apiDims(r.path), stat: 'p99', period: 300 }))),
    );
  });

  it.each([
    ['WebhookFunctionErrors', 'Errors', T.webhookFunctionErrors, WEBHOOK_FUNCTIONS],
    ['WebhookFunctionThrottles', 'Throttles', T.functionThrottles, WEBHOOK_FUNCTIONS],
    ['SoftphoneFunctionErrors', 'Errors', T.softphoneFunctionErrors, OTHER_FUNCTIONS],
    ['SoftphoneFunctionThrottles', 'Throttles', T.functionThrottles, OTHER_FUNCTIONS],
  ] as const)('%s: Lambda %s summed over its functions', (id, metricName, rule, functions) => {
    const alarm = alarmNamed(id);
    expectRule(alarm, rule);
    const { expression, metrics } = alarmMetrics(alarm);
    expect(expression).toMatch(/^SUM\(/);
    expect(sortBy(metrics)).toEqual(
      sortBy(
        functions.map((f) => ({
          namespace: 'AWS/Lambda',
          name: metricName,
          dimensions: { FunctionName: `<${fnIdOf(f.functionName)}>` },
          stat: 'Sum',
          period: 300,
        })),
      ),
    );
  });

  it('between them, the function alarms watch every function of the stack once', () => {
    const watchedFunctions = (id: string) => alarmMetrics(alarmNamed(id)).metrics.map((m) => m.dimensions.FunctionName);
    const errors = [...watchedFunctions('WebhookFunctionErrors'), ...watchedFunctions('SoftphoneFunctionErrors')];
    const throttles = [...watchedFunctions('WebhookFunctionThrottles'), ...watchedFunctions('SoftphoneFunctionThrottles')];
    const all = ALL_FUNCTIONS.map((f) => `<${fnIdOf(f.functionName)}>`).sort();
    expect(errors.sort()).toEqual(all);
    expect(throttles.sort()).toEqual(all);
  });

  it.each([
    ['LinesTableThrottles', () => tableWithKey(PK, false), []],
    ['AttemptsTableThrottles', () => tableWithKey(ATTEMPTS_KEY, false), []],
    ['CallsTableThrottles', () => tableWithKey(PK, true), [CALLS_BY_LINE_INDEX]],
  ] as const)('%s: DynamoDB read and write throttle events of the table and its index', (id, table, indexes) => {
    const alarm = alarmNamed(id);
    expectRule(alarm, T.tableThrottles);
    const { metrics } = alarmMetrics(alarm);
    const tableName = `<${table()}>`;
    const expected = ['ReadThrottleEvents', 'WriteThrottleEvents'].flatMap((name) => [
      { namespace: 'AWS/DynamoDB', name, dimensions: { TableName: tableName }, stat: 'Sum', period: 300 },
      ...indexes.map((index) => ({
        namespace: 'AWS/DynamoDB',
        name,
        dimensions: { TableName: tableName, GlobalSecondaryIndexName: index },
        stat: 'Sum',
        period: 300,
      })),
    ]);
    expect(sortBy(metrics)).toEqual(sortBy(expected));
  });

  it("the first release's devices table (read once, by the deploy-time upgrade) is not watched", () => {
    const legacy = tableWithKey(LEGACY_DEVICE_KEY, true);
    expect(JSON.stringify(resourcesOf(s.json, 'AWS::CloudWatch::Alarm'))).not.toContain(legacy);
  });

  const own = (metric: { name: string }, dimension?: [string, string], rule: AlarmThreshold = T.signatureRejected): Watched => ({
    namespace: METRICS_NAMESPACE,
    name: metric.name,
    dimensions: app(dimension),
    stat: 'Sum',
    period: minutes(rule),
  });

  it('SignatureRejected: the app metric with the service dimension only, 5 in 5 minutes', () => {
    const alarm = alarmNamed('SignatureRejected');
    expectRule(alarm, T.signatureRejected);
    expect(alarmMetrics(alarm).metrics).toEqual([own(METRIC.signatureRejected, undefined, T.signatureRejected)]);
  });

  it('SignInLockouts: SignIn with Result=locked-out, 5 in 15 minutes', () => {
    expect(METRIC.signIn.values).toContain('locked-out');
    const alarm = alarmNamed('SignInLockouts');
    expectRule(alarm, T.lockouts);
    expect(alarm.Properties!.Metrics[0].MetricStat.Period).toBe(900);
    expect(alarmMetrics(alarm).metrics).toEqual([own(METRIC.signIn, [METRIC.signIn.dimension, 'locked-out'], T.lockouts)]);
  });

  it('TollFraudRefusals: CallsRefused summed over exactly the TOLL_FRAUD_REASONS', () => {
    const alarm = alarmNamed('TollFraudRefusals');
    expectRule(alarm, T.tollFraud);
    const { expression, metrics } = alarmMetrics(alarm);
    expect(expression).toMatch(/^SUM\(/);
    expect(expression).not.toContain('SEARCH');
    expect(sortBy(metrics)).toEqual(
      sortBy(TOLL_FRAUD_REASONS.map((reason) => own(METRIC.callRefused, [METRIC.callRefused.dimension, reason], T.tollFraud))),
    );
  });

  it('DependencyFailures: summed over every Dependency', () => {
    const alarm = alarmNamed('DependencyFailures');
    expectRule(alarm, T.dependencyFailures);
    const { metrics } = alarmMetrics(alarm);
    expect(sortBy(metrics)).toEqual(
      sortBy(
        METRIC.dependencyFailure.values.map((dep) => own(METRIC.dependencyFailure, [METRIC.dependencyFailure.dimension, dep], T.dependencyFailures)),
      ),
    );
  });

  it("TwilioErrors: TwilioAlerts with Level=error, the first one alarms (warnings don't)", () => {
    const alarm = alarmNamed('TwilioErrors');
    expectRule(alarm, T.twilioErrors);
    expect(alarm.Properties!.Threshold).toBe(1);
    expect(alarmMetrics(alarm).metrics).toEqual([own(METRIC.twilioAlert, [METRIC.twilioAlert.dimension, 'error'], T.twilioErrors)]);
  });

  it('every custom-metric alarm reads a name and dimension set of the metrics contract, nothing else', () => {
    const contract = Object.values(METRIC);
    for (const [, alarm] of resourcesOf(s.json, 'AWS::CloudWatch::Alarm')) {
      for (const m of alarmMetrics(alarm).metrics.filter((x) => x.namespace === METRICS_NAMESPACE)) {
        const spec = contract.find((c) => c.name === m.name);
        expect(spec).toBeDefined();
        const { service, ...rest } = m.dimensions;
        expect(service).toBe(METRICS_SERVICE);
        const ownDimension = 'dimension' in spec! ? spec.dimension : undefined;
        expect(Object.keys(rest)).toEqual(ownDimension ? [ownDimension] : []);
        const values = 'values' in spec! ? (spec.values as readonly string[]) : undefined;
        if (values && ownDimension) expect(values).toContain(rest[ownDimension]);
      }
    }
  });
});

describe('the dashboard', () => {
  const body = () => flatten(findOne('AWS::CloudWatch::Dashboard')[1].Properties!.DashboardBody);

  it('is named after the stack, and the DashboardName output names it', () => {
    const [id, dashboard] = findOne('AWS::CloudWatch::Dashboard');
    expect(dashboard.Properties!.DashboardName).toBe(DEFAULT_STACK_NAME);
    expect(s.json.Outputs.DashboardName.Value).toEqual({ Ref: id });
    expect(s.json.Outputs.AlarmTopicArn.Value).toEqual({ Ref: alarmTopic()[0] });
  });

  it('shows every app metric of the contract, with its namespace and service dimension', () => {
    const text = body();
    expect(text).toContain(`"${METRICS_NAMESPACE}"`);
    expect(text).toContain(`"service","${METRICS_SERVICE}"`);
    for (const spec of Object.values(METRIC))
      expect({ metric: spec.name, shown: text.includes(`"${spec.name}"`) }).toEqual({ metric: spec.name, shown: true });
    // each sign-in result, each dependency, each Twilio alert level
    for (const result of METRIC.signIn.values) expect(text).toContain(`"Result","${result}"`);
    for (const dep of METRIC.dependencyFailure.values) expect(text).toContain(`"Dependency","${dep}"`);
    for (const level of METRIC.twilioAlert.values) expect(text).toContain(`"Level","${level}"`);
    for (const reason of TOLL_FRAUD_REASONS) expect(text).toContain(`"Reason","${reason}"`);
    // handler latency per function
    for (const f of ALL_FUNCTIONS) expect(text).toContain(`"Function","${f.id}"`);
  });

  it("shows what the alarms watch: the API's errors and latency, the functions', the tables' throttles, every alarm's state", () => {
    const text = body();
    for (const name of ['5XXError', '4XXError', 'Latency', 'Count', 'Errors', 'Throttles', 'ReadThrottleEvents', 'WriteThrottleEvents'])
      expect(text).toContain(`"${name}"`);
    for (const r of TWILIO_ROUTES) expect(text).toContain(`"${r.path}"`);
    for (const [id] of resourcesOf(s.json, 'AWS::CloudWatch::Alarm')) expect(text).toContain(`<${id}.Arn>`);
  });
});

describe('X-Ray', () => {
  it('every function traces actively; traces keep no responses; metrics in the contract namespace', () => {
    for (const f of ALL_FUNCTIONS) {
      const fn = s.json.Resources[fnIdOf(f.functionName)];
      expect(fn.Properties!.TracingConfig).toEqual({ Mode: 'Active' });
      expect(fn.Properties!.Environment.Variables).toMatchObject({
        POWERTOOLS_SERVICE_NAME: METRICS_SERVICE,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        POWERTOOLS_TRACER_CAPTURE_RESPONSE: 'false',
      });
    }
  });

  it('the API stage traces', () => {
    expect(findOne('AWS::ApiGateway::Stage')[1].Properties!.TracingEnabled).toBe(true);
  });

  it("each function's role may write traces (the only grant on *), acknowledged to cdk-nag with its reason", () => {
    for (const f of ALL_FUNCTIONS) {
      const roleId = s.json.Resources[fnIdOf(f.functionName)].Properties!.Role['Fn::GetAtt'][0] as string;
      const [, policy] = findOne('AWS::IAM::Policy', (p) => p.Properties!.Roles.some((r: { Ref: string }) => r.Ref === roleId));
      const onStar = (policy.Properties!.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[]).filter((st) =>
        [st.Resource].flat().includes('*'),
      );
      expect(onStar.map((st) => [st.Action].flat().sort())).toEqual([['xray:PutTelemetryRecords', 'xray:PutTraceSegments']]);
    }
    // acknowledgements are kept as `Annotation::<rule id>` → reason
    const reasons = s.nag.acknowledgements.flatMap((ack) =>
      Object.entries(ack)
        .filter(([id]) => id.replace(/^\w+::/, '') === 'AwsSolutions-IAM5[Resource::*]')
        .map(([, reason]) => String(reason)),
    );
    // one per function role (the site's deployment role has an acknowledgement of its own)
    expect(reasons.filter((reason) => /xray:PutTraceSegments/.test(reason) && /X-Ray/.test(reason))).toHaveLength(ALL_FUNCTIONS.length);
  });
});

describe('the construct on its own', () => {
  /** A small stack with `n` webhook routes, their functions and one table. */
  function build(n: number, alarmEmails?: readonly string[]) {
    const { App, Stack } = require('aws-cdk-lib') as typeof import('aws-cdk-lib');
    const apigw = require('aws-cdk-lib/aws-apigateway') as typeof import('aws-cdk-lib/aws-apigateway');
    const dynamodb = require('aws-cdk-lib/aws-dynamodb') as typeof import('aws-cdk-lib/aws-dynamodb');
    const lambda = require('aws-cdk-lib/aws-lambda') as typeof import('aws-cdk-lib/aws-lambda');
    const { Template } = require('aws-cdk-lib/assertions') as typeof import('aws-cdk-lib/assertions');
    const { Operations } = require('../../lib/constructs/operations') as typeof import('../../lib/constructs/operations');
    const stack = new Stack(new App(), 'Small');
    const api = new apigw.RestApi(stack, 'Api', { restApiName: 'small' });
    const routes = Array.from({ length: n }, (_, i) => ({ ...TWILIO_ROUTES[0], path: `/twilio/hook_${i}`, id: `hook${i}` as RouteId }));
    const functions = new Map<FunctionId, import('aws-cdk-lib/aws-lambda').IFunction>();
    for (const r of routes) {
      const fn = new lambda.Function(stack, `Fn${r.id}`, {
        runtime: lambda.Runtime.NODEJS_24_X,
        handler: 'index.handler',
        code: lambda.Code.fromInline('exports.handler = async () => "";'),
      });
      api.root.resourceForPath(r.path).addMethod('POST', new apigw.LambdaIntegration(fn));
      functions.set(r.id, fn);
    }
    const table = new dynamodb.Table(stack, 'T', { partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING } });
    new Operations(stack, 'Ops', { api, routes, functions, tables: [{ name: 'only', table }], alarmEmails });
    return Template.fromStack(stack).toJSON() as CfnTemplate;
  }

  it(`sums over more than ${MAX_METRICS_PER_ALARM} routes are split into alarms of at most ${MAX_METRICS_PER_ALARM} metrics`, () => {
    const json = build(12, ['ops@example.com']);
    const byName = (name: string): MetricQuery[] => {
      const found = resourcesOf(json, 'AWS::CloudWatch::Alarm').find(([, a]) => a.Properties!.AlarmName === `Small-${name}`);
      expect(found).toBeDefined();
      return found![1].Properties!.Metrics as MetricQuery[];
    };
    expect(byName('webhook-5xx').filter((q) => q.MetricStat)).toHaveLength(10);
    expect(byName('webhook-5xx-part-2').filter((q) => q.MetricStat)).toHaveLength(2);
    expect(byName('webhook-function-errors-part-2').filter((q) => q.MetricStat)).toHaveLength(2);
    expect(byName('webhook-latency-p99-part-2').filter((q) => q.MetricStat)).toHaveLength(2);
    expect(byName('webhook-latency-p99-part-2').find((q) => q.ReturnData !== false)!.Expression).toMatch(/^MAX\(/);
    for (const [, a] of resourcesOf(json, 'AWS::CloudWatch::Alarm'))
      expect((a.Properties!.Metrics as MetricQuery[]).filter((q) => q.MetricStat).length).toBeLessThanOrEqual(MAX_METRICS_PER_ALARM);
    // the addresses given subscribe by e-mail
    expect(resourcesOf(json, 'AWS::SNS::Subscription').map(([, r]) => r.Properties)).toEqual([
      { Protocol: 'email', Endpoint: 'ops@example.com', TopicArn: { Ref: expect.stringMatching(/^OpsAlarmTopic/) } },
    ]);
  });

  it('refuses addresses that are not e-mail addresses, naming alarmEmails', () => {
    expect(() => build(1, ['ops@example.com', 'nobody'])).toThrow(/alarmEmails must be e-mail addresses.*"nobody"/);
  });
});
