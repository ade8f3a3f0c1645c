/**
 * The synthesized TwilioSoftphoneStack, point by point of issue 3: the default stack's template, synthesized
 * once per run with bundling skipped (`defaultSynthesis()`; the bundles are checked by cli-synth.test.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import {
  CORS_ALLOW_HEADERS,
  CORS_ALLOW_METHODS,
  GATEWAY_RESPONSES,
  ROUTES,
  TOKEN_REQUEST_MODEL,
  TOKEN_REQUEST_MODEL_NAME,
  routeById,
} from '../../lib/api/routes';
import { ATTEMPTS_KEY, ATTEMPTS_TTL_ATTRIBUTE, CLIENT_NAME_INDEX, DEVICE_KEY } from '../../lambda/adapters/registry-schema';
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
  it('devices: pk phoneNumber, GSI clientName-index, on-demand, PITR, retained', () => {
    const [, t] = tableWithKey(DEVICE_KEY, true);
    expect(t.Properties).toMatchObject({
      KeySchema: [{ AttributeName: DEVICE_KEY, KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      GlobalSecondaryIndexes: [
        { IndexName: CLIENT_NAME_INDEX, KeySchema: [{ AttributeName: 'clientName', KeyType: 'HASH' }], Projection: { ProjectionType: 'ALL' } },
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
  it('one NodejsFunction per route: Node.js 24, ARM64, short timeout, log group with retention', () => {
    for (const route of ROUTES) {
      const [, fn] = fnByDescription(route.functionName);
      expect(fn.Properties).toMatchObject({ Runtime: 'nodejs24.x', Architectures: ['arm64'], Handler: 'index.handler' });
      expect(fn.Properties!.Timeout).toBeLessThanOrEqual(15);
      // The token function hashes device secrets (scrypt), so it gets more memory and with it more CPU.
      expect(fn.Properties!.MemorySize).toBe(route.id === 'token' ? 1024 : 512);
      const logGroupId = fn.Properties!.LoggingConfig.LogGroup.Ref as string;
      expect(s.json.Resources[logGroupId].Properties!.RetentionInDays).toBeGreaterThan(0);
    }
    const ours = resourcesOf(s.json, 'AWS::Lambda::Function').filter(([id]) => id.startsWith('Functions'));
    expect(ours).toHaveLength(ROUTES.length);
  });

  it('environment per the contract, signature validation on, no source-map registration on the cold path', () => {
    for (const route of ROUTES) {
      const env = fnByDescription(route.functionName)[1].Properties!.Environment.Variables as Record<string, unknown>;
      expect(Object.keys(env).sort()).toEqual(
        [
          'ATTEMPTS_TABLE',
          'CALL_TIME_LIMIT_SECONDS',
          'DEVICES_TABLE',
          'POWERTOOLS_LOG_LEVEL',
          'POWERTOOLS_SERVICE_NAME',
          'TOKEN_TTL_SECONDS',
          'TWILIO_SECRET_ID',
          'WEBHOOK_SIGNATURE_VALIDATION',
        ].sort(),
      );
      // CALL_TIME_LIMIT_SECONDS: the outgoing <Dial timeLimit>, 4 hours by default (Twilio's own ceiling)
      expect(env).toMatchObject({ TOKEN_TTL_SECONDS: '3600', CALL_TIME_LIMIT_SECONDS: '14400', WEBHOOK_SIGNATURE_VALIDATION: 'on' });
      expect(env.NODE_OPTIONS).toBeUndefined(); // +9 ms per cold start (npm run bench); the .map ships for debugging
      expect(env.DEVICES_TABLE).toEqual({ Ref: tableWithKey(DEVICE_KEY, true)[0] });
      expect(env.ATTEMPTS_TABLE).toEqual({ Ref: tableWithKey(ATTEMPTS_KEY, false)[0] });
      expect(env.TWILIO_SECRET_ID).toEqual({ Ref: findOne('AWS::SecretsManager::Secret')[0] });
    }
  });

  it('least privilege: each role holds only its log group, its registry actions and the one secret', () => {
    const devices = tableWithKey(DEVICE_KEY, true)[0];
    const attempts = tableWithKey(ATTEMPTS_KEY, false)[0];
    const secret = findOne('AWS::SecretsManager::Secret')[0];
    const expected: Record<string, Record<string, string[]>> = {
      TwilioRetrieveCapabilityToken: {
        [`<${devices}.Arn>`]: ['dynamodb:GetItem'],
        [`<${attempts}.Arn>`]: ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:UpdateItem'],
      },
      TwilioRetrieveTwimlCallIncoming: { [`<${devices}.Arn>`]: ['dynamodb:GetItem'] },
      TwilioRetrieveTwimlCallOutgoing: {
        [`<${devices}.Arn>`]: ['dynamodb:GetItem'],
        [`<${devices}.Arn>/index/${CLIENT_NAME_INDEX}`]: ['dynamodb:Query'],
      },
    };
    for (const route of ROUTES) {
      const [, fn] = fnByDescription(route.functionName);
      const roleId = fn.Properties!.Role['Fn::GetAtt'][0] as string;
      expect(s.json.Resources[roleId].Properties!.ManagedPolicyArns).toBeUndefined();
      const [, policy] = findOne('AWS::IAM::Policy', (p) => p.Properties!.Roles.some((r: { Ref: string }) => r.Ref === roleId));
      const grants: Record<string, string[]> = {};
      for (const st of policy.Properties!.PolicyDocument.Statement as { Effect: string; Action: string | string[]; Resource: unknown }[]) {
        expect(st.Effect).toBe('Allow');
        const actions = [st.Action].flat();
        for (const a of actions) expect(a).not.toContain('*');
        grants[flatten(st.Resource)] = [...(grants[flatten(st.Resource)] ?? []), ...actions].sort();
      }
      const logGroup = fn.Properties!.LoggingConfig.LogGroup.Ref as string;
      expect(grants).toEqual({
        [`<${logGroup}.Arn>`]: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        [`<${secret}>`]: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'],
        ...expected[route.functionName],
      });
    }
  });

  it('each function may be invoked by its own API method only', () => {
    const perms = resourcesOf(s.json, 'AWS::Lambda::Permission');
    expect(perms).toHaveLength(ROUTES.length);
    for (const [, p] of perms) {
      expect(p.Properties!.Principal).toBe('apigateway.amazonaws.com');
      expect(flatten(p.Properties!.SourceArn)).toMatch(/:<ApiRestApi\w+>\/<ApiRestApiDeploymentStageprod\w+>\/POST\/twilio\//);
    }
    expect(perms.map(([, p]) => flatten(p.Properties!.SourceArn).replace(/^.*\/POST/, '')).sort()).toEqual(ROUTES.map((r) => r.path).sort());
  });
});

describe('API Gateway', () => {
  it("REST API twilio_on_aws (the walkthrough's name), stage prod with throttling per caller, access logs and no data trace", () => {
    expect(findOne('AWS::ApiGateway::RestApi')[1].Properties!.Name).toBe('twilio_on_aws');
    const [, stage] = findOne('AWS::ApiGateway::Stage');
    expect(stage.Properties).toMatchObject({
      StageName: 'prod',
      AccessLogSetting: {
        DestinationArn: { 'Fn::GetAtt': [expect.stringMatching(/^ApiAccessLogs/), 'Arn'] },
        Format: expect.stringContaining('$context.requestId'),
      },
      // The stage default is the browser's limit (the token API and every CORS preflight); then each route gets
      // its caller's: the browser's 10/s burst 20 for the token API, Twilio's 50/s burst 100 for each webhook, so
      // a flood on one cannot starve the other.
      MethodSettings: [
        { HttpMethod: '*', ResourcePath: '/*', ThrottlingRateLimit: 10, ThrottlingBurstLimit: 20, LoggingLevel: 'ERROR', DataTraceEnabled: false },
        {
          HttpMethod: 'POST',
          ResourcePath: '/~1twilio~1retrieve_capability_token',
          ThrottlingRateLimit: 10,
          ThrottlingBurstLimit: 20,
          LoggingLevel: 'ERROR',
          MetricsEnabled: true,
          DataTraceEnabled: false,
        },
        {
          HttpMethod: 'POST',
          ResourcePath: '/~1twilio~1retrieve_twiml~1call_incoming',
          ThrottlingRateLimit: 50,
          ThrottlingBurstLimit: 100,
          LoggingLevel: 'ERROR',
          MetricsEnabled: true,
          DataTraceEnabled: false,
        },
        {
          HttpMethod: 'POST',
          ResourcePath: '/~1twilio~1retrieve_twiml~1call_outgoing',
          ThrottlingRateLimit: 50,
          ThrottlingBurstLimit: 100,
          LoggingLevel: 'ERROR',
          MetricsEnabled: true,
          DataTraceEnabled: false,
        },
      ],
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
    expect(method.Properties!.AuthorizationType).toBe('NONE');
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

  it('TwiML routes answer text/xml; the token route application/json with 400/403/429/503/500 mapped', () => {
    for (const id of ['callIncoming', 'callOutgoing'] as const) {
      const statuses = methodFor(routeById(id).path, 'POST').Properties!.Integration.IntegrationResponses as {
        StatusCode: string;
        ResponseParameters: Record<string, string>;
      }[];
      expect(statuses.map((r) => r.StatusCode)).toEqual(['200', '403', '500']);
      for (const r of statuses) expect(r.ResponseParameters['method.response.header.Content-Type']).toBe("'text/xml'");
    }
    const token = methodFor(routeById('token').path, 'POST').Properties!.Integration.IntegrationResponses as { StatusCode: string }[];
    expect(token.map((r) => r.StatusCode)).toEqual(['200', '400', '403', '429', '503', '500']);
  });

  it('token route: JSON Schema request model + body validator', () => {
    const method = methodFor(routeById('token').path, 'POST');
    const [modelId, model] = findOne('AWS::ApiGateway::Model');
    const [validatorId, validator] = findOne('AWS::ApiGateway::RequestValidator');
    expect(method.Properties!.RequestModels).toEqual({ 'application/json': { Ref: modelId } });
    expect(method.Properties!.RequestValidatorId).toEqual({ Ref: validatorId });
    expect(validator.Properties).toMatchObject({ ValidateRequestBody: true, ValidateRequestParameters: false });
    expect(model.Properties).toMatchObject({ Name: TOKEN_REQUEST_MODEL_NAME, ContentType: 'application/json', Schema: TOKEN_REQUEST_MODEL });
    for (const id of ['callIncoming', 'callOutgoing'] as const) {
      expect(methodFor(routeById(id).path, 'POST').Properties!.RequestValidatorId).toBeUndefined();
    }
  });

  it.each(ROUTES.map((r) => [r.path] as const))('%s: OPTIONS preflight with the allowed origin, methods and headers', (path) => {
    const method = methodFor(path, 'OPTIONS');
    expect(method.Properties!.Integration.Type).toBe('MOCK');
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
    expect(GATEWAY_RESPONSES.map((g) => g.type)).toEqual(expect.arrayContaining(['DEFAULT_4XX', 'DEFAULT_5XX', 'BAD_REQUEST_BODY']));
  });
});

describe('softphone site', () => {
  it('private S3 bucket: public access blocked, encrypted, TLS enforced, access-logged', () => {
    const [bucketId, bucket] = findOne('AWS::S3::Bucket', (b) => Boolean(b.Properties?.LoggingConfiguration));
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

  it('security headers: HSTS, nosniff, DENY framing, referrer policy, CSP allowing the API origin and Twilio voice', () => {
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

describe('outputs', () => {
  it('exactly the contract ids, with the route URLs', () => {
    expect(Object.keys(s.json.Outputs).sort()).toEqual(
      [
        'ApiUrl',
        'TokenUrl',
        'IncomingCallWebhookUrl',
        'OutgoingCallWebhookUrl',
        'SoftphoneUrl',
        'DevicesTableName',
        'AttemptsTableName',
        'TwilioSecretName',
      ].sort(),
    );
    const out = (id: string) => flatten(s.json.Outputs[id].Value);
    const base = out('ApiUrl');
    expect(out('TokenUrl')).toBe(`${base}/twilio/retrieve_capability_token`);
    expect(out('IncomingCallWebhookUrl')).toBe(`${base}/twilio/retrieve_twiml/call_incoming`);
    expect(out('OutgoingCallWebhookUrl')).toBe(`${base}/twilio/retrieve_twiml/call_outgoing`);
    expect(out('SoftphoneUrl')).toBe(`https://${SITE_ORIGIN}`);
    expect(s.json.Outputs.DevicesTableName.Value).toEqual({ Ref: tableWithKey(DEVICE_KEY, true)[0] });
    expect(s.json.Outputs.AttemptsTableName.Value).toEqual({ Ref: tableWithKey(ATTEMPTS_KEY, false)[0] });
    expect(JSON.stringify(s.json.Outputs.TwilioSecretName.Value)).toContain(findOne('AWS::SecretsManager::Secret')[0]);
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
