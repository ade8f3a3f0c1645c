import { Duration, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { parseAllowedOrigin, parseWholeNumber, THROTTLE } from '../../lambda/core/settings';
import {
  API_NAME,
  ROUTE_METHOD,
  STAGE_NAME,
  TOKEN_REQUEST_MODEL_NAME,
  corsHeaders,
  preflightHeaders,
  toGatewayResponseHeaders,
  toResponseParameters,
  type GatewayResponseSpec,
  type RouteCaller,
  type RouteId,
  type RouteSpec,
} from '../api/routes';

export interface ApiThrottle {
  /** Steady-state requests per second for the stage. */
  readonly rateLimit: number;
  /** Burst capacity for the stage. */
  readonly burstLimit: number;
}

export interface SoftphoneApiProps {
  /** The routes to expose, with their templates and responses (`ROUTES` of `lib/api/routes.ts`). */
  readonly routes: readonly RouteSpec[];
  /** Gateway responses (`GATEWAY_RESPONSES`): gateway-made errors in the same JSON shape, with CORS. */
  readonly gatewayResponses: readonly GatewayResponseSpec[];
  /** The Lambda function behind each route. */
  readonly functionFor: (routeId: RouteId) => lambda.IFunction;
  /** The page authorizer's function (`authorizer: 'page'` routes): verifies the page's Twilio Access Token. */
  readonly pageAuthorizer?: lambda.IFunction;
  /** `Access-Control-Allow-Origin` on every response: the softphone site's origin (`*` only when asked). */
  readonly allowedOrigin: string;
  /** Throttling of each caller's routes. @default browser 10 requests/s, burst 20; Twilio 50/s, burst 100 */
  readonly throttle?: Partial<Record<RouteCaller, ApiThrottle>>;
  /** Retention of the access log group. @default three months */
  readonly accessLogRetention?: logs.RetentionDays;
}

/**
 * What the page authorizer accepts before invoking its function: `Bearer <JWT>` (three base64url parts); any
 * other `Authorization` header is answered 401 by API Gateway itself, at no Lambda cost.
 */
export const PAGE_AUTHORIZATION_PATTERN = '^Bearer [A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$';

/**
 * How long API Gateway keeps the authorizer's answer for one token. The policy covers every page route of the
 * stage, so the page's polling (voicemails, directory) costs one verification a minute instead of one per
 * request; a minute also bounds how long a token is accepted past its expiry. A device removed meanwhile is
 * still refused: the page handlers look the caller up in the registry on every request.
 */
export const PAGE_AUTHORIZER_CACHE_TTL = Duration.seconds(60);

/** Error-level execution logs (never request bodies: they hold phone numbers) and per-method metrics. */
const STAGE_OBSERVABILITY = {
  loggingLevel: apigw.MethodLoggingLevel.ERROR,
  dataTraceEnabled: false,
  metricsEnabled: true,
} as const;

/**
 * The REST API `twilio_on_aws`, stage `prod`, exactly as `lib/api/routes.ts` describes it — the console steps
 * of the walkthrough's section 2, as code:
 * - a resource per route path, POST with a NON-proxy Lambda integration (`passthroughBehavior: NEVER`: a
 *   body whose content type has no request template gets 415), the route's request template, and one
 *   integration response per `IntegrationResponseSpec` (selection pattern, template, static headers);
 * - the token route: a JSON Schema request model and a body validator;
 * - CORS: the allow-origin header on every method/integration response and gateway response, and an
 *   OPTIONS preflight (mock integration) on every route resource;
 * - stage `prod` with throttling, JSON access logs in CloudWatch Logs, ERROR execution logs (no bodies:
 *   they carry device secrets), per-method metrics (the operations construct's webhook alarms read them) and
 *   X-Ray tracing.
 */
export class SoftphoneApi extends Construct {
  public readonly restApi: apigw.RestApi;
  /** `https://<id>.execute-api.<region>.<suffix>/prod` — no trailing slash (`config.json`'s `apiBaseUrl`). */
  public readonly baseUrl: string;
  /** `https://<id>.execute-api.<region>.<suffix>`, for the site's Content-Security-Policy. */
  public readonly origin: string;
  /** The TOKEN authorizer of the `authorizer: 'page'` routes (when there are any). */
  public readonly pageAuthorizer?: apigw.TokenAuthorizer;

  constructor(scope: Construct, id: string, props: SoftphoneApiProps) {
    super(scope, id);
    // Checked here with the one rule (lambda/core/settings.ts): a bad value fails synth, not the deployment.
    const limits = (caller: RouteCaller, fallback: ApiThrottle): ApiThrottle => ({
      rateLimit: parseWholeNumber(props.throttle?.[caller]?.rateLimit, `throttle.${caller}.rateLimit`, THROTTLE.rateLimit) ?? fallback.rateLimit,
      burstLimit: parseWholeNumber(props.throttle?.[caller]?.burstLimit, `throttle.${caller}.burstLimit`, THROTTLE.burstLimit) ?? fallback.burstLimit,
    });
    const throttle: Record<RouteCaller, ApiThrottle> = {
      browser: limits('browser', THROTTLE.default),
      twilio: limits('twilio', THROTTLE.webhookDefault),
    };
    if (!Token.isUnresolved(props.allowedOrigin)) parseAllowedOrigin(props.allowedOrigin, 'allowedOrigin');
    const accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      retention: props.accessLogRetention ?? logs.RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    this.restApi = new apigw.RestApi(this, 'RestApi', {
      restApiName: API_NAME,
      description: 'Twilio softphone: capability tokens for the browser, TwiML for Twilio voice webhooks',
      endpointTypes: [apigw.EndpointType.REGIONAL],
      // Stage logging needs the account-level CloudWatch role; it is shared by every API in the region, so
      // it stays when this stack goes.
      cloudWatchRole: true,
      cloudWatchRoleRemovalPolicy: RemovalPolicy.RETAIN,
      deployOptions: {
        stageName: STAGE_NAME,
        // The stage default (the browser's: the token API and every CORS preflight), then each route its caller's.
        throttlingRateLimit: throttle.browser.rateLimit,
        throttlingBurstLimit: throttle.browser.burstLimit,
        methodOptions: Object.fromEntries(
          props.routes.map((route) => [
            `${route.path}/${ROUTE_METHOD}`,
            {
              throttlingRateLimit: throttle[route.caller].rateLimit,
              throttlingBurstLimit: throttle[route.caller].burstLimit,
              // A method's settings replace the stage's rather than inherit them: repeat logging and metrics.
              ...STAGE_OBSERVABILITY,
            },
          ]),
        ),
        // X-Ray: a request's trace runs from the stage through its function (which traces actively).
        tracingEnabled: true,
        accessLogDestination: new apigw.LogGroupLogDestination(accessLogs),
        accessLogFormat: apigw.AccessLogFormat.jsonWithStandardFields(),
        ...STAGE_OBSERVABILITY,
      },
    });

    // The stack declares its own outputs (docs/architecture.md); drop the L2's default `Endpoint` output.
    this.restApi.node.tryRemoveChild('Endpoint');

    if (props.routes.some((r) => r.authorizer === 'page')) {
      if (!props.pageAuthorizer) throw new Error("Routes with authorizer 'page' need the pageAuthorizer function");
      // Its invoke permission names this authorizer of this API only (the L2 adds it with that SourceArn).
      this.pageAuthorizer = new apigw.TokenAuthorizer(this, 'PageAuthorizer', {
        authorizerName: 'softphone-page',
        handler: props.pageAuthorizer,
        identitySource: apigw.IdentitySource.header('Authorization'),
        validationRegex: PAGE_AUTHORIZATION_PATTERN,
        resultsCacheTtl: PAGE_AUTHORIZER_CACHE_TTL,
      });
    }
    const cors = corsHeaders(props.allowedOrigin);
    for (const route of props.routes) this.addRoute(route, props.functionFor(route.id), props.allowedOrigin, cors);
    for (const spec of props.gatewayResponses) {
      this.restApi.addGatewayResponse(spec.type, {
        type: apigw.ResponseType.of(spec.type),
        statusCode: spec.overrideStatus ? spec.statusCode : undefined,
        responseHeaders: toGatewayResponseHeaders(cors),
        templates: { [spec.contentType]: spec.template },
      });
    }

    const stack = Stack.of(this);
    this.origin = `https://${this.restApi.restApiId}.execute-api.${stack.region}.${stack.urlSuffix}`;
    this.baseUrl = `${this.origin}/${STAGE_NAME}`;
    this.acknowledgeFindings();
  }

  /** The public URL of a route on this API's stage, e.g. `…/prod/twilio/retrieve_capability_token`. */
  public urlFor(route: RouteSpec): string {
    return `${this.baseUrl}${route.path}`;
  }

  private addRoute(route: RouteSpec, handler: lambda.IFunction, allowedOrigin: string, cors: Record<string, string>): void {
    const resource = this.restApi.root.resourceForPath(route.path);

    const integration = new apigw.LambdaIntegration(handler, {
      proxy: false,
      passthroughBehavior: apigw.PassthroughBehavior.NEVER,
      requestTemplates: { [route.requestContentType]: route.requestTemplate },
      integrationResponses: route.integrationResponses.map((r) => ({
        statusCode: r.statusCode,
        selectionPattern: r.selectionPattern,
        responseTemplates: { [r.contentType]: r.template },
        responseParameters: toResponseParameters({ ...r.headers, ...cors }),
      })),
      // Only this stage's method may invoke the function (no console test-invoke permission).
      allowTestInvoke: false,
    });

    const methodResponses: apigw.MethodResponse[] = route.integrationResponses.map((r) => ({
      statusCode: r.statusCode,
      responseParameters: Object.fromEntries(Object.keys(toResponseParameters({ ...r.headers, ...cors })).map((k) => [k, true])),
    }));

    let requestModels: Record<string, apigw.IModel> | undefined;
    let requestValidator: apigw.IRequestValidator | undefined;
    if (route.requestModel) {
      const model = this.restApi.addModel(`${TOKEN_REQUEST_MODEL_NAME}Model`, {
        modelName: TOKEN_REQUEST_MODEL_NAME,
        contentType: route.requestContentType,
        // A draft-4 JSON Schema with `$schema`, as API Gateway wants it (the L2 keeps unknown keys as given).
        schema: route.requestModel as apigw.JsonSchema,
      });
      requestModels = { [route.requestContentType]: model };
      requestValidator = this.restApi.addRequestValidator(`${route.functionName}BodyValidator`, {
        requestValidatorName: `${route.functionName}-body`,
        validateRequestBody: true,
        validateRequestParameters: false,
      });
    }

    const authorizer = route.authorizer === 'page' ? this.pageAuthorizer : undefined;
    resource.addMethod(ROUTE_METHOD, integration, { methodResponses, requestModels, requestValidator, authorizer });

    // CORS preflight: a mock integration answering 204 with the headers of `preflightHeaders`.
    const preflight = toResponseParameters(preflightHeaders(allowedOrigin));
    resource.addMethod(
      'OPTIONS',
      new apigw.MockIntegration({
        requestTemplates: { 'application/json': '{"statusCode": 204}' },
        integrationResponses: [{ statusCode: '204', responseParameters: preflight }],
      }),
      {
        methodResponses: [{ statusCode: '204', responseParameters: Object.fromEntries(Object.keys(preflight).map((k) => [k, true])) }],
      },
    );
  }

  /** cdk-nag findings this API answers by design, each with its reason. */
  private acknowledgeFindings(): void {
    const api = Validations.of(this.restApi);
    api.acknowledge({
      id: 'AwsSolutions-APIG4',
      reason:
        "The page's routes (/softphone/*) have a Lambda TOKEN authorizer (the Twilio Access Token, HS256 with the " +
        'API key secret). No authorizer can express the other callers: Twilio webhooks are authenticated by their ' +
        'X-Twilio-Signature (HMAC with the auth token, checked in the handler) and the token route by the device ' +
        'secret in the body (scrypt hash, lockout). OPTIONS preflights are unauthenticated by definition.',
    });
    api.acknowledge({
      id: 'AwsSolutions-COG4',
      reason:
        'No Cognito users: devices sign in with a per-device secret, the page then presents the Twilio Access Token ' +
        'to its Lambda authorizer, and Twilio signs its requests (see APIG4).',
    });
    api.acknowledge({
      id: 'AwsSolutions-APIG2',
      reason:
        'The token route validates its body against a JSON Schema model; the TwiML routes take Twilio form posts, ' +
        'which a JSON model cannot describe: their request template and the signature check validate them. The ' +
        'page routes take a small action object behind the authorizer, checked field by field by their handlers.',
    });
    api.acknowledge({
      id: 'AwsSolutions-APIG3',
      reason:
        'No WAF web ACL (a fixed monthly cost larger than this app): the stage is throttled, webhooks are signed, ' +
        'sign-in is rate limited and locked out per number.',
    });
    const cloudWatchRole = this.restApi.node.tryFindChild('CloudWatchRole');
    if (cloudWatchRole) {
      Validations.of(cloudWatchRole).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
        reason:
          'AmazonAPIGatewayPushToCloudWatchLogs is the AWS managed policy API Gateway documents for its account-level ' +
          'logging role; its scope is exactly the log groups API Gateway writes.',
      });
    }
  }
}
