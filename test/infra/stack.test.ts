/**
 * The synthesized TwilioSoftphoneStack, point by point of issues 3 and 14: the default stack's template, synthesized
 * once per run with bundling skipped (`defaultSynthesis()`; the bundles are checked by cli-synth.test.ts).
 */
import { functionTimeoutSeconds } from '../../lambda/core/settings';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import {
  CORS_ALLOW_HEADERS,
  CORS_ALLOW_METHODS,
  GATEWAY_RESPONSES,
  ROUTES,
  SUPPORT_FUNCTIONS,
  TOKEN_REQUEST_MODEL,
  TOKEN_REQUEST_MODEL_NAME,
  routeById,
  type FunctionId,
} from '../../lib/api/routes';
import { STACK_OUTPUT_IDS } from '../../lambda/core/settings';
import {
  ATTEMPTS_KEY,
  ATTEMPTS_TTL_ATTRIBUTE,
  CALLS_BY_LINE_INDEX,
  CALLS_INDEX_PK,
  CALLS_INDEX_SK,
  callsTableInput,
  LEGACY_CLIENT_NAME_INDEX,
  LEGACY_DEVICE_KEY,
  PK,
  SK,
  TTL_ATTRIBUTE,
} from '../../lambda/adapters/registry-schema';
import { PAGE_AUTHORIZATION_PATTERN } from '../../lib/constructs/softphone-api';
import { defaultSynthesis, flatten, resourcesOf, type CfnResource, type CfnTemplate, type NagFacts } from './synth';

let s: { json: CfnTemplate; nag: NagFacts };
beforeAll(() => {
  const { template, nag } = defaultSynthesis();
  s = { json: template, nag };
});

const SITE_ORIGIN = '<SiteDistribution390DED28.DomainName>';
const findOne = (type: string, pred: (r: CfnResource) => boolean = () => true): [string, CfnResource] => {
  const found = resourcesOf(s.json, type).filter(([, r]) => pred(r));
  expect(found).toHaveLength(1);
  return found[0];
};
const tableWithKey = (attr: string, withGsi: boolean) =>
  findOne(
    'AWS::DynamoDB::Table',
    (r) => r.Properties?.KeySchema?.[0]?.AttributeName === attr && Boolean(r.Properties?.GlobalSecondaryIndexes) === withGsi,
  );
/** The logical ids of the tables, the bucket, the topic and the secret. */
const linesTable = () => tableWithKey(PK, false)[0];
const callsTable = () => tableWithKey(PK, true)[0];
const legacyTable = () => tableWithKey(LEGACY_DEVICE_KEY, true)[0];
const attemptsTable = () => tableWithKey(ATTEMPTS_KEY, false)[0];
const recordingsBucket = () =>
  findOne('AWS::S3::Bucket', (b) => JSON.stringify(b.Properties?.LifecycleConfiguration ?? {}).includes('ExpireRecordings'))[0];
/** The new-voicemail topic (the other one is the alarm topic, test/infra/operations.test.ts). */
const voicemailTopic = () => findOne('AWS::SNS::Topic', (t) => flatten(t.Properties?.KmsMasterKeyId).endsWith(':alias/aws/sns'))[0];
const twilioSecret = () => findOne('AWS::SecretsManager::Secret')[0];
/** Every function of the stack: one per route, and the support functions. */
const FUNCTIONS: { id: FunctionId; functionName: string }[] = [...ROUTES, ...SUPPORT_FUNCTIONS];
const PAGE_ROUTES = ROUTES.filter((r) => r.authorizer === 'page');
const TWILIO_ROUTES = ROUTES.filter((r) => r.caller === 'twilio');
const fnByDescription = (functionName: string): [string, CfnResource] =>
  findOne('AWS::Lambda::Function', (r) => String(r.Properties?.Description ?? '').startsWith(`${functionName}:`));
const methodFor = (path: string, httpMethod: string): CfnResource => {
  const resourceId = resourceIdFor(path);
  return findOne('AWS::ApiGateway::Method', (r) => r.Properties?.HttpMethod === httpMethod && r.Properties?.ResourceId?.Ref === resourceId)[1];
};
/** The logical id of the API Gateway resource at a path, walking PathPart/ParentId. */
function resourceIdFor(path: string): string {
  const resources = resourcesOf(s.json, 'AWS::ApiGateway::Resource');
  const pathOf = (id: string): string => {
    const r = s.json.Resources[id];
    if (r?.Type !== 'AWS::ApiGateway::Resource') return '';
    const parent = r.Properties!.ParentId;
    return `${parent.Ref ? pathOf(parent.Ref) : ''}/${r.Properties!.PathPart}`;
  };
  const hit = resources.find(([id]) => pathOf(id) === path);
  if (!hit) throw new Error(`no resource at ${path}`);
  return hit[0];
}

describe('registry tables', () => {
  it('lines: pk/sk strings, TTL expiresAt, on-demand, PITR, AWS owned key, retained', () => {
    const [, t] = tableWithKey(PK, false);
    expect(t.Properties).toEqual({
      KeySchema: [
        { AttributeName: PK, KeyType: 'HASH' },
        { AttributeName: SK, KeyType: 'RANGE' },
      ],
      AttributeDefinitions: [
        { AttributeName: PK, AttributeType: 'S' },
        { AttributeName: SK, AttributeType: 'S' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: false },
      TimeToLiveSpecification: { AttributeName: TTL_ATTRIBUTE, Enabled: true },
    });
    expect(t.DeletionPolicy).toBe('Retain');
    expect(t.UpdateReplacePolicy).toBe('Retain');
  });

  it("the first release's devices table is unchanged: same logical id, key, GSI, retained", () => {
    const [id, t] = tableWithKey(LEGACY_DEVICE_KEY, true);
    // A new logical id would make CloudFormation create an empty table and drop the old one from the stack.
    expect(id).toBe('RegistryDevices10AD2EBC');
    expect(t.Properties).toEqual({
      KeySchema: [{ AttributeName: LEGACY_DEVICE_KEY, KeyType: 'HASH' }],
      AttributeDefinitions: [
        { AttributeName: LEGACY_DEVICE_KEY, AttributeType: 'S' },
        { AttributeName: 'clientName', AttributeType: 'S' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: false },
      GlobalSecondaryIndexes: [
        { IndexName: LEGACY_CLIENT_NAME_INDEX, KeySchema: [{ AttributeName: 'clientName', KeyType: 'HASH' }], Projection: { ProjectionType: 'ALL' } },
      ],
    });
    expect(t.DeletionPolicy).toBe('Retain');
    expect(t.UpdateReplacePolicy).toBe('Retain');
  });

  it('sign-in attempts: pk phoneNumber, TTL expiresAt, on-demand, PITR, retained', () => {
    const [, t] = tableWithKey(ATTEMPTS_KEY, false);
    expect(t.Properties).toMatchObject({
      KeySchema: [{ AttributeName: ATTEMPTS_KEY, KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      TimeToLiveSpecification: { AttributeName: ATTEMPTS_TTL_ATTRIBUTE, Enabled: true },
    });
    expect(t.DeletionPolicy).toBe('Retain');
  });

  it('calls: the keys and index of callsTableInput (the local registry makes the same table), TTL expiresAt, on-demand, PITR, retained', () => {
    const [id, t] = tableWithKey(PK, true);
    expect(id).toMatch(/^RegistryCalls[0-9A-F]{8}$/);
    expect(t.Properties).toEqual({
      KeySchema: [
        { AttributeName: PK, KeyType: 'HASH' },
        { AttributeName: SK, KeyType: 'RANGE' },
      ],
      AttributeDefinitions: [
        { AttributeName: PK, AttributeType: 'S' },
        { AttributeName: SK, AttributeType: 'S' },
        { AttributeName: CALLS_INDEX_PK, AttributeType: 'S' },
        { AttributeName: CALLS_INDEX_SK, AttributeType: 'S' },
      ],
      GlobalSecondaryIndexes: [
        {
          IndexName: CALLS_BY_LINE_INDEX,
          KeySchema: [
            { AttributeName: CALLS_INDEX_PK, KeyType: 'HASH' },
            { AttributeName: CALLS_INDEX_SK, KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: false },
      TimeToLiveSpecification: { AttributeName: TTL_ATTRIBUTE, Enabled: true },
    });
    expect([CALLS_BY_LINE_INDEX, CALLS_INDEX_PK, CALLS_INDEX_SK, TTL_ATTRIBUTE]).toEqual(['line-startedAt', 'line', 'startedAt', 'expiresAt']);
    // the very table the local app and the tests make on dynalite (registry-schema.ts), field for field
    const local = callsTableInput('calls');
    expect(t.Properties!.KeySchema).toEqual(local.KeySchema);
    expect(t.Properties!.AttributeDefinitions).toEqual(local.AttributeDefinitions);
    expect(t.Properties!.GlobalSecondaryIndexes).toEqual(local.GlobalSecondaryIndexes);
    expect(t.Properties!.BillingMode).toBe(local.BillingMode);
    expect(t.DeletionPolicy).toBe('Retain');
    expect(t.UpdateReplacePolicy).toBe('Retain');
  });

  it('exactly these four tables', () => {
    expect(resourcesOf(s.json, 'AWS::DynamoDB::Table')).toHaveLength(4);
  });
});

describe('registry upgrade (custom resource)', () => {
  it('CloudFormation invokes the upgrade function directly, with the schema version, after both tables', () => {
    const [id, cr] = findOne('Custom::RegistryUpgrade');
    const [fnId] = fnByDescription('SoftphoneRegistryUpgrade');
    expect(cr.Properties).toEqual({ ServiceToken: { 'Fn::GetAtt': [fnId, 'Arn'] }, ServiceTimeout: '1200', schemaVersion: 2 });
    expect(cr.DependsOn).toEqual(expect.arrayContaining([linesTable(), legacyTable()]));
    // no provider framework (cr.Provider's framework-onEvent function): the function answers the ResponseURL itself
    expect(resourcesOf(s.json, 'AWS::Lambda::Function').filter(([fid]) => /framework/i.test(fid))).toEqual([]);
    // the handlers that read lines are updated only after the copy
    for (const route of ROUTES) expect(fnByDescription(route.functionName)[1].DependsOn).toContain(id);
  });

  it('the upgrade function has 5 minutes and reads the first release table with Scan only', () => {
    const [, fn] = fnByDescription('SoftphoneRegistryUpgrade');
    expect(fn.Properties!.Timeout).toBe(300);
    expect(fn.Properties!.Environment.Variables.LEGACY_DEVICES_TABLE).toEqual({ Ref: legacyTable() });
  });
});

describe('Twilio credentials secret', () => {
  it('is created empty: no SecretString, no GenerateSecretString, retained', () => {
    const [, secret] = findOne('AWS::SecretsManager::Secret');
    expect(secret.Properties).not.toHaveProperty('SecretString');
    expect(secret.Properties).not.toHaveProperty('GenerateSecretString');
    expect(secret.DeletionPolicy).toBe('Retain');
  });
});

describe('functions', () => {
  it('one NodejsFunction per route and support function: Node.js 24, ARM64, short timeout, log group with retention', () => {
    for (const f of FUNCTIONS) {
      const [, fn] = fnByDescription(f.functionName);
      expect(fn.Properties).toMatchObject({ Runtime: 'nodejs24.x', Architectures: ['arm64'], Handler: 'index.handler' });
      // the upgrade runs once at deploy time, the recording callback makes three calls in Twilio's 15 s;
      // every other function answers a caller within 10 s (the one rule: functionTimeoutSeconds)
      expect(fn.Properties!.Timeout).toBe({ registryUpgrade: 300, recordingStatus: 15 }[f.id as string] ?? 10);
      expect(fn.Properties!.Timeout).toBe(functionTimeoutSeconds(f.id));
      // The token function hashes device secrets (scrypt), so it gets more memory and with it more CPU.
      expect(fn.Properties!.MemorySize).toBe(f.id === 'token' ? 1024 : 512);
      const logGroupId = fn.Properties!.LoggingConfig.LogGroup.Ref as string;
      expect(s.json.Resources[logGroupId].Properties!.RetentionInDays).toBeGreaterThan(0);
    }
    const ours = resourcesOf(s.json, 'AWS::Lambda::Function').filter(([id]) => id.startsWith('Functions'));
    expect(ours).toHaveLength(ROUTES.length + SUPPORT_FUNCTIONS.length);
  });

  it('environment per the contract (function-deps.ts), signature validation on, no source-map registration on the cold path', () => {
    const common = [
      'ATTEMPTS_TABLE',
      'CALL_LOG_RETENTION_DAYS',
      'CALL_TIME_LIMIT_SECONDS',
      'MAX_CALLS_PER_DEVICE',
      'MAX_CALLS_PER_LINE',
      'POWERTOOLS_LOG_LEVEL',
      'POWERTOOLS_METRICS_NAMESPACE',
      'POWERTOOLS_SERVICE_NAME',
      'POWERTOOLS_TRACE_ENABLED',
      'POWERTOOLS_TRACER_CAPTURE_RESPONSE',
      'REGISTRY_TABLE',
      'TOKEN_TTL_SECONDS',
      'TWILIO_SECRET_ID',
      'VOICEMAIL_RETENTION_DAYS',
      'WEBHOOK_SIGNATURE_VALIDATION',
    ];
    // the call log only where a handler reads or writes it (function-deps.ts callLog, recordingStatus)
    const own: Partial<Record<FunctionId, string[]>> = {
      callOutgoing: ['CALLS_TABLE'],
      callAction: ['CALLS_TABLE'],
      callStatus: ['CALLS_TABLE'],
      calls: ['CALLS_TABLE'],
      recordingStatus: ['CALLS_TABLE', 'RECORDINGS_BUCKET', 'SOFTPHONE_URL', 'VOICEMAIL_TOPIC_ARN'],
      voicemails: ['RECORDINGS_BUCKET'],
      registryUpgrade: ['LEGACY_DEVICES_TABLE'],
    };
    for (const f of FUNCTIONS) {
      const env = fnByDescription(f.functionName)[1].Properties!.Environment.Variables as Record<string, unknown>;
      expect(Object.keys(env).sort()).toEqual([...common, ...(own[f.id] ?? [])].sort());
      // CALL_TIME_LIMIT_SECONDS: the outgoing <Dial timeLimit>, 4 hours by default (Twilio's own ceiling)
      expect(env).toMatchObject({
        TOKEN_TTL_SECONDS: '3600',
        CALL_TIME_LIMIT_SECONDS: '14400',
        VOICEMAIL_RETENTION_DAYS: '30',
        // the call log's settings, their defaults (lambda/core/settings.ts)
        CALL_LOG_RETENTION_DAYS: '90',
        MAX_CALLS_PER_DEVICE: '2',
        MAX_CALLS_PER_LINE: '10',
        WEBHOOK_SIGNATURE_VALIDATION: 'on',
        // Powertools Tracer is neither bundled nor on unless detailedTracing (context.test.ts)
        POWERTOOLS_TRACE_ENABLED: 'false',
      });
      expect(env.NODE_OPTIONS).toBeUndefined(); // +9 ms per cold start (npm run bench); the .map ships for debugging
      expect(env.REGISTRY_TABLE).toEqual({ Ref: linesTable() });
      expect(env.ATTEMPTS_TABLE).toEqual({ Ref: attemptsTable() });
      expect(env.TWILIO_SECRET_ID).toEqual({ Ref: twilioSecret() });
      if (env.CALLS_TABLE) expect(env.CALLS_TABLE).toEqual({ Ref: callsTable() });
      if (env.RECORDINGS_BUCKET) expect(env.RECORDINGS_BUCKET).toEqual({ Ref: recordingsBucket() });
      if (env.VOICEMAIL_TOPIC_ARN) expect(env.VOICEMAIL_TOPIC_ARN).toEqual({ Ref: voicemailTopic() });
      // the notification's link: the site, read lazily (the site is declared after the functions)
      if (env.SOFTPHONE_URL) expect(flatten(env.SOFTPHONE_URL)).toBe(`https://${SITE_ORIGIN}`);
    }
  });

  it('least privilege: each role holds only its log group and what its handler uses', () => {
    const lines = `<${linesTable()}.Arn>`;
    const attempts = `<${attemptsTable()}.Arn>`;
    const legacy = `<${legacyTable()}.Arn>`;
    const calls = `<${callsTable()}.Arn>`;
    // the one index a handler queries, by name: never the table's every index (`/index/*`)
    const callsByLine = `<${callsTable()}.Arn>/index/${CALLS_BY_LINE_INDEX}`;
    const recordings = `<${recordingsBucket()}.Arn>/voicemail/*`;
    const secret = { [`<${twilioSecret()}>`]: ['secretsmanager:GetSecretValue'] };
    // active tracing (X-Ray takes no resource-level permissions): every function, nothing else on *
    const xray = { '*': ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'] };
    const dynamo = (...actions: string[]) => actions.map((a) => `dynamodb:${a}`).sort();
    const expected: Record<FunctionId, Record<string, string[]>> = {
      token: { [lines]: dynamo('Query'), [attempts]: dynamo('DeleteItem', 'GetItem', 'UpdateItem'), ...secret },
      callIncoming: { [lines]: dynamo('Query'), ...secret },
      callOutgoing: { [lines]: dynamo('GetItem'), [calls]: dynamo('DeleteItem', 'GetItem', 'PutItem', 'Query'), ...secret },
      callAction: { [lines]: dynamo('Query'), [calls]: dynamo('GetItem', 'PutItem'), ...secret },
      forwardScreen: { [lines]: dynamo('Query'), ...secret },
      recordingStatus: {
        [lines]: dynamo('GetItem', 'PutItem', 'Query'),
        [calls]: dynamo('GetItem', 'PutItem'),
        [recordings]: ['s3:PutObject'],
        [`<${voicemailTopic()}>`]: ['sns:Publish'],
        ...secret,
      },
      callStatus: { [lines]: dynamo('GetItem', 'Query'), [calls]: dynamo('DeleteItem', 'GetItem', 'PutItem', 'Query'), ...secret },
      // Twilio's Debugger events: the signature only
      twilioDebugger: { ...secret },
      // the preflight call: the calling device, after the signature
      preflight: { [lines]: dynamo('GetItem'), ...secret },
      voicemails: { [lines]: dynamo('DeleteItem', 'GetItem', 'Query', 'UpdateItem'), [recordings]: ['s3:DeleteObject', 's3:GetObject'] },
      directory: { [lines]: dynamo('GetItem', 'Query') },
      calls: { [lines]: dynamo('GetItem'), [calls]: dynamo('GetItem', 'PutItem'), [callsByLine]: dynamo('Query') },
      pageAuthorizer: { ...secret },
      registryUpgrade: { [lines]: dynamo('DeleteItem', 'GetItem', 'PutItem', 'Query', 'UpdateItem'), [legacy]: dynamo('Scan') },
    };
    for (const f of FUNCTIONS) {
      const [, fn] = fnByDescription(f.functionName);
      const roleId = fn.Properties!.Role['Fn::GetAtt'][0] as string;
      expect(s.json.Resources[roleId].Properties!.ManagedPolicyArns).toBeUndefined();
      const [, policy] = findOne('AWS::IAM::Policy', (p) => p.Properties!.Roles.some((r: { Ref: string }) => r.Ref === roleId));
      const grants: Record<string, string[]> = {};
      for (const st of policy.Properties!.PolicyDocument.Statement as { Effect: string; Action: string | string[]; Resource: unknown }[]) {
        expect(st.Effect).toBe('Allow');
        const actions = [st.Action].flat();
        for (const a of actions) expect(a).not.toContain('*');
        for (const resource of [st.Resource].flat().map(flatten)) grants[resource] = [...(grants[resource] ?? []), ...actions].sort();
      }
      const logGroup = fn.Properties!.LoggingConfig.LogGroup.Ref as string;
      expect(grants).toEqual({ [`<${logGroup}.Arn>`]: ['logs:CreateLogStream', 'logs:PutLogEvents'], ...xray, ...expected[f.id] });
    }
  });

  it('each route function may be invoked by its own API method only; the authorizer by this API only', () => {
    const perms = resourcesOf(s.json, 'AWS::Lambda::Permission');
    expect(perms).toHaveLength(ROUTES.length + 1);
    for (const [, p] of perms) expect(p.Properties!.Principal).toBe('apigateway.amazonaws.com');
    const methods = perms.filter(([, p]) => flatten(p.Properties!.SourceArn).includes('/POST/'));
    for (const [, p] of methods) {
      expect(flatten(p.Properties!.SourceArn)).toMatch(/:<ApiRestApi\w+>\/<ApiRestApiDeploymentStageprod\w+>\/POST\/(twilio|softphone)\//);
    }
    expect(methods.map(([, p]) => flatten(p.Properties!.SourceArn).replace(/^.*\/POST/, '')).sort()).toEqual(ROUTES.map((r) => r.path).sort());
    const [, authorizer] = perms.find(([, p]) => !flatten(p.Properties!.SourceArn).includes('/POST/'))!;
    expect(authorizer.Properties!.FunctionName).toEqual({ 'Fn::GetAtt': [fnByDescription('SoftphonePageAuthorizer')[0], 'Arn'] });
    expect(flatten(authorizer.Properties!.SourceArn)).toBe(
      `arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:<${findOne('AWS::ApiGateway::RestApi')[0]}>/authorizers/<${findOne('AWS::ApiGateway::Authorizer')[0]}>`,
    );
  });
});

describe('API Gateway', () => {
  it("REST API twilio_on_aws (the walkthrough's name), stage prod with throttling per caller, access logs, X-Ray and no data trace", () => {
    expect(findOne('AWS::ApiGateway::RestApi')[1].Properties!.Name).toBe('twilio_on_aws');
    const [, stage] = findOne('AWS::ApiGateway::Stage');
    expect(stage.Properties).toMatchObject({
      StageName: 'prod',
      TracingEnabled: true,
      AccessLogSetting: {
        DestinationArn: { 'Fn::GetAtt': [expect.stringMatching(/^ApiAccessLogs/), 'Arn'] },
        Format: expect.stringContaining('$context.requestId'),
      },
    });
    // The stage default is the browser's limit (the token API, the page routes and every CORS preflight); then
    // each route gets its caller's: the browser's 10/s burst 20, Twilio's 50/s burst 100 for each webhook, so a
    // flood on one cannot starve the other.
    expect(stage.Properties!.MethodSettings[0]).toEqual({
      HttpMethod: '*',
      ResourcePath: '/*',
      ThrottlingRateLimit: 10,
      ThrottlingBurstLimit: 20,
      LoggingLevel: 'ERROR',
      MetricsEnabled: true,
      DataTraceEnabled: false,
    });
    // every route has exactly one setting, with its caller's limits (ROUTES[].caller)
    const limits = { browser: [10, 20], twilio: [50, 100] };
    // biome-ignore lint/suspicious/noExplicitAny: CloudFormation JSON, read field by field
    const settings = stage.Properties!.MethodSettings as Record<string, any>[];
    for (const route of ROUTES) {
      const own = settings.filter((m) => m.ResourcePath === `/${route.path.replace(/\//g, '~1')}` && m.HttpMethod === 'POST');
      expect(own.map((m) => [m.ThrottlingRateLimit, m.ThrottlingBurstLimit])).toEqual([limits[route.caller]]);
      // a method's settings replace the stage's (they do not inherit): logging and metrics are repeated
      expect(own[0]).toMatchObject({ LoggingLevel: 'ERROR', MetricsEnabled: true, DataTraceEnabled: false });
    }
    expect(settings).toHaveLength(ROUTES.length + 1);
  });

  it.each(ROUTES.map((r) => [r.path, r] as const))('%s: POST, non-proxy Lambda, request template from ROUTES, passthrough NEVER', (_p, route) => {
    const method = methodFor(route.path, 'POST');
    const [fnId] = fnByDescription(route.functionName);
    // the page's routes behind the page authorizer; Twilio's webhooks and the token route check their own callers
    if (route.authorizer === 'page') {
      expect(method.Properties).toMatchObject({ AuthorizationType: 'CUSTOM', AuthorizerId: { Ref: findOne('AWS::ApiGateway::Authorizer')[0] } });
    } else {
      expect(method.Properties!.AuthorizationType).toBe('NONE');
      expect(method.Properties!.AuthorizerId).toBeUndefined();
    }
    expect(method.Properties!.Integration).toMatchObject({
      Type: 'AWS',
      IntegrationHttpMethod: 'POST',
      PassthroughBehavior: 'NEVER',
      RequestTemplates: { [route.requestContentType]: route.requestTemplate },
    });
    expect(Object.keys(method.Properties!.Integration.RequestTemplates)).toEqual([route.requestContentType]);
    expect(flatten(method.Properties!.Integration.Uri)).toContain(`<${fnId}.Arn>/invocations`);
  });

  it.each(ROUTES.map((r) => [r.path, r] as const))('%s: integration + method responses from ROUTES, each with the CORS origin', (_p, route) => {
    const method = methodFor(route.path, 'POST');
    // biome-ignore lint/suspicious/noExplicitAny: CloudFormation JSON, read field by field
    const responses = method.Properties!.Integration.IntegrationResponses as Record<string, any>[];
    expect(responses).toHaveLength(route.integrationResponses.length);
    route.integrationResponses.forEach((spec, i) => {
      const r = responses[i];
      expect(r.StatusCode).toBe(spec.statusCode);
      expect(r.SelectionPattern).toBe(spec.selectionPattern);
      expect(r.ResponseTemplates).toEqual({ [spec.contentType]: spec.template });
      const params = Object.fromEntries(Object.entries(r.ResponseParameters as Record<string, unknown>).map(([k, v]) => [k, flatten(v)]));
      expect(params).toEqual({
        ...Object.fromEntries(Object.entries(spec.headers).map(([k, v]) => [`method.response.header.${k}`, `'${v}'`])),
        'method.response.header.Access-Control-Allow-Origin': `'https://${SITE_ORIGIN}'`,
      });
    });
    const methodResponses = method.Properties!.MethodResponses as { StatusCode: string; ResponseParameters: Record<string, boolean> }[];
    expect(methodResponses.map((m) => m.StatusCode)).toEqual(route.integrationResponses.map((r) => r.statusCode));
    for (const m of methodResponses) expect(m.ResponseParameters['method.response.header.Access-Control-Allow-Origin']).toBe(true);
  });

  it('TwiML routes answer text/xml; the token and page routes application/json with their statuses mapped', () => {
    expect(TWILIO_ROUTES.map((r) => r.id).sort()).toEqual([
      'callAction',
      'callIncoming',
      'callOutgoing',
      'callStatus',
      'forwardScreen',
      'preflight',
      'recordingStatus',
      'twilioDebugger',
    ]);
    for (const { id } of TWILIO_ROUTES) {
      const statuses = methodFor(routeById(id).path, 'POST').Properties!.Integration.IntegrationResponses as {
        StatusCode: string;
        ResponseParameters: Record<string, string>;
      }[];
      expect(statuses.map((r) => r.StatusCode)).toEqual(['200', '403', '500']);
      for (const r of statuses) expect(r.ResponseParameters['method.response.header.Content-Type']).toBe("'text/xml'");
    }
    const token = methodFor(routeById('token').path, 'POST').Properties!.Integration.IntegrationResponses as { StatusCode: string }[];
    expect(token.map((r) => r.StatusCode)).toEqual(['200', '400', '403', '429', '503', '500']);
    expect(PAGE_ROUTES.map((r) => r.id).sort()).toEqual(['calls', 'directory', 'voicemails']);
    for (const { path } of PAGE_ROUTES) {
      const responses = methodFor(path, 'POST').Properties!.Integration.IntegrationResponses as {
        StatusCode: string;
        ResponseParameters: Record<string, string>;
      }[];
      expect(responses.map((r) => r.StatusCode)).toEqual(['200', '400', '403', '404', '503', '500']);
      for (const r of responses) expect(r.ResponseParameters['method.response.header.Content-Type']).toBe("'application/json'");
    }
  });

  it("the call log's routes: Twilio's status callback (signed, no authorizer, Twilio's limits), the page's calls behind the authorizer", () => {
    const status = methodFor('/twilio/call_status', 'POST');
    expect(status.Properties!.AuthorizationType).toBe('NONE');
    expect(status.Properties!.Integration.RequestTemplates).toEqual({ 'application/x-www-form-urlencoded': routeById('callStatus').requestTemplate });
    expect(flatten(status.Properties!.Integration.Uri)).toContain(`<${fnByDescription('TwilioCallStatus')[0]}.Arn>/invocations`);
    const calls = methodFor('/softphone/calls', 'POST');
    expect(calls.Properties).toMatchObject({ AuthorizationType: 'CUSTOM', AuthorizerId: { Ref: findOne('AWS::ApiGateway::Authorizer')[0] } });
    expect(calls.Properties!.Integration.RequestTemplates).toEqual({ 'application/json': routeById('calls').requestTemplate });
    expect(flatten(calls.Properties!.Integration.Uri)).toContain(`<${fnByDescription('SoftphoneCalls')[0]}.Arn>/invocations`);
    const [, stage] = findOne('AWS::ApiGateway::Stage');
    // biome-ignore lint/suspicious/noExplicitAny: CloudFormation JSON, read field by field
    const limitsOf = (path: string) => (stage.Properties!.MethodSettings as Record<string, any>[]).find((m) => m.ResourcePath === path);
    expect(limitsOf('/~1twilio~1call_status')).toMatchObject({ HttpMethod: 'POST', ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 });
    expect(limitsOf('/~1softphone~1calls')).toMatchObject({ HttpMethod: 'POST', ThrottlingRateLimit: 10, ThrottlingBurstLimit: 20 });
  });

  it('page authorizer: TOKEN, the Authorization header, Bearer <JWT> only, answers cached 60 s, the pageAuthorizer function', () => {
    const [, authorizer] = findOne('AWS::ApiGateway::Authorizer');
    expect(authorizer.Properties).toMatchObject({
      Type: 'TOKEN',
      Name: 'softphone-page',
      RestApiId: { Ref: findOne('AWS::ApiGateway::RestApi')[0] },
      IdentitySource: 'method.request.header.Authorization',
      IdentityValidationExpression: '^Bearer [A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$',
      AuthorizerResultTtlInSeconds: 60,
    });
    expect(authorizer.Properties!.IdentityValidationExpression).toBe(PAGE_AUTHORIZATION_PATTERN);
    expect(authorizer.Properties!.AuthorizerCredentials).toBeUndefined(); // invoked under its resource policy (the permission)
    expect(flatten(authorizer.Properties!.AuthorizerUri)).toContain(`<${fnByDescription('SoftphonePageAuthorizer')[0]}.Arn>/invocations`);
    // what the pattern lets through to the function: a JWT's three base64url parts, nothing else
    const pattern = new RegExp(PAGE_AUTHORIZATION_PATTERN);
    expect(pattern.test('Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln-_')).toBe(true);
    for (const bad of ['eyJ.a.b', 'Bearer a.b', 'Bearer a.b.c.d', 'Bearer a.b.c ', 'Basic a.b.c', 'Bearer a.b.c\nx'])
      expect(pattern.test(bad)).toBe(false);
  });

  it('token route: JSON Schema request model + body validator', () => {
    const method = methodFor(routeById('token').path, 'POST');
    const [modelId, model] = findOne('AWS::ApiGateway::Model');
    const [validatorId, validator] = findOne('AWS::ApiGateway::RequestValidator');
    expect(method.Properties!.RequestModels).toEqual({ 'application/json': { Ref: modelId } });
    expect(method.Properties!.RequestValidatorId).toEqual({ Ref: validatorId });
    expect(validator.Properties).toMatchObject({ ValidateRequestBody: true, ValidateRequestParameters: false });
    expect(model.Properties).toMatchObject({ Name: TOKEN_REQUEST_MODEL_NAME, ContentType: 'application/json', Schema: TOKEN_REQUEST_MODEL });
    for (const route of ROUTES.filter((r) => r.id !== 'token')) {
      expect(methodFor(route.path, 'POST').Properties!.RequestValidatorId).toBeUndefined();
    }
  });

  it.each(ROUTES.map((r) => [r.path] as const))('%s: OPTIONS preflight with the allowed origin, methods and headers', (path) => {
    const method = methodFor(path, 'OPTIONS');
    expect(method.Properties!.Integration.Type).toBe('MOCK');
    // a preflight carries no credentials: never behind the authorizer
    expect(method.Properties!.AuthorizationType).toBe('NONE');
    const [response] = method.Properties!.Integration.IntegrationResponses as { StatusCode: string; ResponseParameters: Record<string, unknown> }[];
    expect(response.StatusCode).toBe('204');
    const params = Object.fromEntries(Object.entries(response.ResponseParameters).map(([k, v]) => [k, flatten(v)]));
    expect(params).toEqual({
      'method.response.header.Access-Control-Allow-Origin': `'https://${SITE_ORIGIN}'`,
      'method.response.header.Access-Control-Allow-Methods': `'${CORS_ALLOW_METHODS.join(', ')}'`,
      'method.response.header.Access-Control-Allow-Headers': `'${CORS_ALLOW_HEADERS.join(', ')}'`,
    });
    expect(method.Properties!.MethodResponses[0].StatusCode).toBe('204');
  });

  it('gateway responses from GATEWAY_RESPONSES, each with the CORS origin', () => {
    const found = resourcesOf(s.json, 'AWS::ApiGateway::GatewayResponse');
    expect(found).toHaveLength(GATEWAY_RESPONSES.length);
    for (const spec of GATEWAY_RESPONSES) {
      const [, r] = findOne('AWS::ApiGateway::GatewayResponse', (g) => g.Properties!.ResponseType === spec.type);
      expect(r.Properties!.StatusCode).toBe(spec.overrideStatus ? spec.statusCode : undefined);
      expect(r.Properties!.ResponseTemplates).toEqual({ [spec.contentType]: spec.template });
      expect(flatten(r.Properties!.ResponseParameters['gatewayresponse.header.Access-Control-Allow-Origin'])).toBe(`'https://${SITE_ORIGIN}'`);
    }
    expect(GATEWAY_RESPONSES.map((g) => g.type)).toEqual(expect.arrayContaining(['DEFAULT_4XX', 'DEFAULT_5XX', 'BAD_REQUEST_BODY', 'UNAUTHORIZED']));
    // the authorizer's refusal: 401 in the page API's JSON shape
    const [, unauthorized] = findOne('AWS::ApiGateway::GatewayResponse', (g) => g.Properties!.ResponseType === 'UNAUTHORIZED');
    expect(unauthorized.Properties!.StatusCode).toBe('401');
  });
});

describe('softphone site', () => {
  it('private S3 bucket: public access blocked, encrypted, TLS enforced, access-logged', () => {
    const [bucketId, bucket] = findOne('AWS::S3::Bucket', (b) => b.Properties?.LoggingConfiguration?.LogFilePrefix === 'site-bucket/');
    expect(bucket.Properties).toMatchObject({
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
    });
    expect(bucket.Properties!.WebsiteConfiguration).toBeUndefined();
    const [, policy] = findOne('AWS::S3::BucketPolicy', (p) => p.Properties!.Bucket.Ref === bucketId);
    const statements = policy.Properties!.PolicyDocument.Statement as { Effect: string; Condition?: unknown; Principal: unknown }[];
    expect(statements).toContainEqual(expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }));
    // The only reader: CloudFront, for this distribution (origin access control).
    const allows = statements.filter((st) => st.Effect === 'Allow');
    expect(allows.length).toBeGreaterThan(0);
    for (const st of allows) expect(JSON.stringify(st.Principal)).toMatch(/cloudfront\.amazonaws\.com|CustomResourceProvider/);
  });

  it('CloudFront: origin access control, HTTPS only (HTTP redirects), index.html, security headers policy', () => {
    const [, oac] = findOne('AWS::CloudFront::OriginAccessControl');
    expect(oac.Properties!.OriginAccessControlConfig).toMatchObject({
      OriginAccessControlOriginType: 's3',
      SigningBehavior: 'always',
      SigningProtocol: 'sigv4',
    });
    const [, dist] = findOne('AWS::CloudFront::Distribution');
    const config = dist.Properties!.DistributionConfig;
    expect(config.DefaultRootObject).toBe('index.html');
    expect(config.DefaultCacheBehavior.ViewerProtocolPolicy).toBe('redirect-to-https');
    expect(config.Origins[0].OriginAccessControlId).toBeDefined();
    expect(config.Origins[0].S3OriginConfig.OriginAccessIdentity).toBe('');
    const [rhpId] = findOne('AWS::CloudFront::ResponseHeadersPolicy');
    expect(config.DefaultCacheBehavior.ResponseHeadersPolicyId).toEqual({ Ref: rhpId });
  });

  it('security headers: HSTS, nosniff, DENY framing, referrer policy, CSP allowing the API origin, Twilio voice and the recordings', () => {
    const [, rhp] = findOne('AWS::CloudFront::ResponseHeadersPolicy');
    const sec = rhp.Properties!.ResponseHeadersPolicyConfig.SecurityHeadersConfig;
    expect(sec.StrictTransportSecurity).toMatchObject({ AccessControlMaxAgeSec: 63072000, IncludeSubdomains: true, Override: true });
    expect(sec.ContentTypeOptions).toEqual({ Override: true });
    expect(sec.FrameOptions).toEqual({ FrameOption: 'DENY', Override: true });
    expect(sec.ReferrerPolicy.ReferrerPolicy).toBe('strict-origin-when-cross-origin');
    const csp = flatten(sec.ContentSecurityPolicy.ContentSecurityPolicy);
    const directives = Object.fromEntries(
      csp
        .split(';')
        .map((d) => d.trim().split(/\s+/))
        .map(([name, ...values]) => [name, values]),
    );
    expect(directives['default-src']).toEqual(["'none'"]);
    expect(directives['script-src']).toEqual(["'self'"]);
    expect(directives['connect-src']).toEqual([
      "'self'",
      expect.stringMatching(/^https:\/\/<ApiRestApi\w+>\.execute-api\.<AWS::Region>\.<AWS::URLSuffix>$/),
      'https://*.twilio.com',
      'wss://*.twilio.com',
    ]);
    // presigned recording URLs: virtual-hosted, regional (the SDK's form), this one bucket only
    expect(directives['media-src']).toEqual([
      "'self'",
      'blob:',
      'data:',
      'https://*.twilio.com',
      `https://<${recordingsBucket()}>.s3.<AWS::Region>.<AWS::URLSuffix>`,
    ]);
    expect(directives['frame-ancestors']).toEqual(["'none'"]);
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
    const custom = rhp.Properties!.ResponseHeadersPolicyConfig.CustomHeadersConfig.Items as { Header: string; Value: string }[];
    expect(custom).toContainEqual(expect.objectContaining({ Header: 'Permissions-Policy', Value: expect.stringContaining('microphone=(self)') }));
  });

  it('hashed assets deploy immutable (old ones kept); then index.html and config.json {apiBaseUrl} deploy no-cache and are invalidated', () => {
    const deployments = resourcesOf(s.json, 'Custom::CDKBucketDeployment');
    expect(deployments).toHaveLength(2);
    const [assetsId, assets] = deployments.find(([, r]) => r.Properties!.Include)!;
    const [, pages] = deployments.find(([, r]) => !r.Properties!.Include)!;
    expect(assets.Properties).toMatchObject({
      Exclude: ['*'],
      Include: ['assets/*'],
      Prune: false,
      SystemMetadata: { 'cache-control': 'public, max-age=31536000, immutable' },
    });
    expect(assets.Properties!.DistributionPaths).toBeUndefined();
    const p = pages.Properties!;
    expect(p).toMatchObject({ Exclude: ['assets/*'], SystemMetadata: { 'cache-control': 'no-cache' } });
    expect(p.Prune).not.toBe(false); // old root files go; excluded assets/ is left alone
    expect(p.DistributionPaths).toEqual(['/', '/index.html', '/config.json']);
    // the page names assets that must already be there
    expect(pages.DependsOn).toEqual(expect.arrayContaining([assetsId]));
    expect(p.SourceBucketNames).toHaveLength(2);
    // Source.jsonData with tokens: the values are filled in at deploy time from SourceMarkers.
    const markers = JSON.stringify(p.SourceMarkers);
    expect(p.SourceMarkers[1]).toEqual({
      '<<marker:0xbaba:0>>': { Ref: findOne('AWS::ApiGateway::RestApi')[0] },
      '<<marker:0xbaba:1>>': { Ref: 'AWS::Region' },
      '<<marker:0xbaba:2>>': { Ref: 'AWS::URLSuffix' },
    });
    expect(markers).not.toContain('Stage');
    const apiBase = flatten(s.json.Outputs.ApiUrl.Value);
    expect(apiBase).toMatch(/^https:\/\/<ApiRestApi\w+>\.execute-api\.<AWS::Region>\.<AWS::URLSuffix>\/prod$/);
  });
});

describe('voicemail storage', () => {
  it('recordings bucket: private, TLS only, S3-managed encryption, unversioned, expired after the retention, access-logged, retained', () => {
    const id = recordingsBucket();
    const bucket = s.json.Resources[id];
    expect(bucket.Properties).toEqual({
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
      LifecycleConfiguration: {
        Rules: [{ Id: 'ExpireRecordings', Status: 'Enabled', ExpirationInDays: 30, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } }],
      },
      LoggingConfiguration: { DestinationBucketName: { Ref: expect.stringMatching(/^VoicemailAccessLogs/) }, LogFilePrefix: 'recordings/' },
    });
    // no versioning (a deleted voicemail is gone), no CORS (an <audio> GET needs none; see voicemail-storage.ts)
    expect(bucket.Properties!.VersioningConfiguration).toBeUndefined();
    expect(bucket.Properties!.CorsConfiguration).toBeUndefined();
    expect(bucket.DeletionPolicy).toBe('Retain');
    expect(bucket.UpdateReplacePolicy).toBe('Retain');
    const [, policy] = findOne('AWS::S3::BucketPolicy', (p) => p.Properties!.Bucket.Ref === id);
    expect(policy.Properties!.PolicyDocument.Statement).toEqual([
      expect.objectContaining({ Effect: 'Deny', Action: 's3:*', Principal: { AWS: '*' }, Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
    ]);
    // no auto-delete custom resource on it
    expect(bucket.Properties!.Tags).toBeUndefined();
  });

  it('its access logs: private, TLS only, kept 90 days, written by S3 logging for this bucket only', () => {
    const logsId = s.json.Resources[recordingsBucket()].Properties!.LoggingConfiguration.DestinationBucketName.Ref as string;
    const logs = s.json.Resources[logsId];
    expect(logs.Properties).toMatchObject({
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      LifecycleConfiguration: { Rules: [expect.objectContaining({ ExpirationInDays: 90 })] },
    });
    const [, policy] = findOne('AWS::S3::BucketPolicy', (p) => p.Properties!.Bucket.Ref === logsId);
    const statements = policy.Properties!.PolicyDocument.Statement as { Effect: string; Principal: unknown; Condition?: unknown }[];
    expect(statements).toContainEqual(expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }));
    expect(statements).toContainEqual(
      expect.objectContaining({
        Effect: 'Allow',
        Principal: { Service: 'logging.s3.amazonaws.com' },
        Condition: expect.objectContaining({ ArnLike: { 'aws:SourceArn': { 'Fn::GetAtt': [recordingsBucket(), 'Arn'] } } }),
      }),
    );
  });

  it('new-voicemail topic: the AWS managed key alias/aws/sns, publishers must use TLS, no subscription by default', () => {
    const id = voicemailTopic();
    const topic = s.json.Resources[id];
    expect(flatten(topic.Properties!.KmsMasterKeyId)).toBe('arn:<AWS::Partition>:kms:<AWS::Region>:<AWS::AccountId>:alias/aws/sns');
    const [, policy] = findOne('AWS::SNS::TopicPolicy', (p) => JSON.stringify(p.Properties!.Topics) === JSON.stringify([{ Ref: id }]));
    expect(policy.Properties!.PolicyDocument.Statement).toEqual([
      expect.objectContaining({ Effect: 'Deny', Action: 'sns:Publish', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
    ]);
    expect(resourcesOf(s.json, 'AWS::SNS::Subscription')).toEqual([]);
    // no customer managed key to pay for or grant (the stack's one key is the alarm topic's, which CloudWatch needs)
    expect(resourcesOf(s.json, 'AWS::KMS::Key').map(([keyId]) => keyId)).toEqual([expect.stringMatching(/^OperationsAlarmTopicKey/)]);
  });
});

describe('outputs', () => {
  it('the contract ids (STACK_OUTPUT_IDS), with the route URLs, then the voicemail resources and the operations', () => {
    expect(Object.keys(s.json.Outputs).sort()).toEqual(
      [...STACK_OUTPUT_IDS, 'RecordingsBucketName', 'VoicemailTopicArn', 'AlarmTopicArn', 'DashboardName'].sort(),
    );
    expect([...STACK_OUTPUT_IDS].sort()).toEqual(
      [
        'ApiUrl',
        'TokenUrl',
        'IncomingCallWebhookUrl',
        'OutgoingCallWebhookUrl',
        'SoftphoneUrl',
        'DevicesTableName',
        'AttemptsTableName',
        'TwilioSecretName',
        'CallsTableName',
      ].sort(),
    );
    const out = (id: string) => flatten(s.json.Outputs[id].Value);
    const base = out('ApiUrl');
    expect(out('TokenUrl')).toBe(`${base}/twilio/retrieve_capability_token`);
    expect(out('IncomingCallWebhookUrl')).toBe(`${base}/twilio/retrieve_twiml/call_incoming`);
    expect(out('OutgoingCallWebhookUrl')).toBe(`${base}/twilio/retrieve_twiml/call_outgoing`);
    expect(out('SoftphoneUrl')).toBe(`https://${SITE_ORIGIN}`);
    // the registry the device and line CLIs (--table), twilio:setup and doctor work on: the lines table
    expect(s.json.Outputs.DevicesTableName.Value).toEqual({ Ref: linesTable() });
    expect(s.json.Outputs.AttemptsTableName.Value).toEqual({ Ref: attemptsTable() });
    // the call log the CLI, twilio:setup and doctor read
    expect(s.json.Outputs.CallsTableName.Value).toEqual({ Ref: callsTable() });
    expect(s.json.Outputs.CallsTableName.Description).toMatch(/^Call log/);
    for (const id of Object.keys(s.json.Outputs)) expect(s.json.Outputs[id].Description).toEqual(expect.any(String));
    expect(JSON.stringify(s.json.Outputs.TwilioSecretName.Value)).toContain(twilioSecret());
    expect(s.json.Outputs.RecordingsBucketName.Value).toEqual({ Ref: recordingsBucket() });
    expect(s.json.Outputs.VoicemailTopicArn.Value).toEqual({ Ref: voicemailTopic() });
  });
});

describe('the template as CloudFormation orders it', () => {
  /** The resources a resource's properties and DependsOn name. */
  function dependencies(resource: CfnResource): Set<string> {
    const found = new Set<string>([resource.DependsOn ?? []].flat() as string[]);
    const walk = (v: unknown): void => {
      if (Array.isArray(v)) v.forEach(walk);
      else if (v && typeof v === 'object') {
        for (const [k, x] of Object.entries(v)) {
          if (k === 'Ref' && typeof x === 'string' && x in s.json.Resources) found.add(x);
          else if (k === 'Fn::GetAtt') found.add([x].flat()[0] as string);
          else walk(x);
        }
      }
    };
    walk(resource.Properties);
    return found;
  }

  it('has no dependency cycle (the site, the API, the functions and the recordings bucket refer to each other)', () => {
    const graph = new Map(Object.entries(s.json.Resources).map(([id, r]) => [id, dependencies(r)]));
    const state = new Map<string, 'visiting' | 'done'>();
    const cycleFrom = (id: string, path: string[]): string[] | undefined => {
      if (state.get(id) === 'done') return undefined;
      if (state.get(id) === 'visiting') return [...path.slice(path.indexOf(id)), id];
      state.set(id, 'visiting');
      for (const next of graph.get(id) ?? []) {
        const cycle = cycleFrom(next, [...path, id]);
        if (cycle) return cycle;
      }
      state.set(id, 'done');
      return undefined;
    };
    for (const id of graph.keys()) expect(cycleFrom(id, [])).toBeUndefined();
    // the links that would close one if the bucket named the site (CORS)
    expect(dependencies(s.json.Resources[findOne('AWS::CloudFront::ResponseHeadersPolicy')[0]])).toContain(recordingsBucket());
    expect(dependencies(fnByDescription('TwilioRecordingStatus')[1])).toContain(findOne('AWS::CloudFront::Distribution')[0]);
  });
});

describe('cdk-nag AwsSolutions', () => {
  it('reports no unacknowledged finding (error or warning), and no CDK error annotation', () => {
    // The synthesis itself ran with the plugin registered: any finding would have failed it (and the run).
    expect(s.nag.violations.map((v) => `${v.ruleName} (${v.severity}): ${v.resources.join(', ')}`)).toEqual([]);
    expect(s.nag.errorAnnotations).toEqual([]);
  });

  it('every acknowledgement in the stack carries a reason', () => {
    expect(s.nag.acknowledgements.length).toBeGreaterThan(0);
    for (const ack of s.nag.acknowledgements) {
      for (const [id, reason] of Object.entries(ack)) {
        expect(id.replace(/^\w+::/, '')).toMatch(/^AwsSolutions-[A-Z]+\d+/);
        expect(typeof reason === 'string' && reason.length >= 40).toBe(true);
      }
    }
  });

  it('a new finding fails synthesis (the plugin is wired as in bin/)', () => {
    const { App, Stack, Validations } = require('aws-cdk-lib') as typeof import('aws-cdk-lib');
    const s3 = require('aws-cdk-lib/aws-s3') as typeof import('aws-cdk-lib/aws-s3');
    const { AwsSolutionsChecks } = require('cdk-nag') as typeof import('cdk-nag');
    const outdir = mkdtempSync(path.join(tmpdir(), 'softphone-nag-negative-'));
    try {
      const app = new App({ outdir });
      const stack = new Stack(app, 'Negative');
      new s3.Bucket(stack, 'Careless', { enforceSSL: false });
      Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
      expect(() => app.synth()).toThrow(/AwsSolutions-S1|AwsSolutions-S10/);
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });
});
