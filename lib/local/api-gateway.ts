/**
 * API Gateway as the local app plays it, for one request, without sockets: `handleApiRequest(request)` →
 * response, from the deployed definitions of `lib/api/routes.ts` (and `lib/api/gateway.ts`):
 *
 * - unknown resource or method → 403 through DEFAULT_4XX (API Gateway's "Missing Authentication Token");
 *   OPTIONS → the CORS preflight;
 * - a route behind the page authorizer: the TOKEN authorizer's checks (`authorizeToken`: 401 without a token of
 *   the right form, 401 when the authorizer says `Unauthorized`, 403 when its policy does not allow the method,
 *   500 when it fails otherwise) and its context as `$context.authorizer`;
 * - content type → request template (415, passthrough NEVER), the token model (400 BAD_REQUEST_BODY), the
 *   template rendered by `lib/vtl` with an API Gateway-like `$context`;
 * - the route's handler called like Lambda: the event JSON-parsed, a time-out, the result serialised, an
 *   error as `{errorType, errorMessage}` against the selection patterns; the response template rendered,
 *   headers + CORS, status.
 */
import { describeError } from '../../lambda/core/errors';
import { functionTimeoutSeconds } from '../../lambda/core/settings';
import type { Handler } from '../../lambda/handlers/deps';
import type { Metrics } from '../../lambda/ports';
import { gatewayErrorResponse, gatewayRefusal, integrationResponse, type HttpResponse, type LambdaOutcome } from '../api/gateway';
import { PAGE_AUTHORIZER, preflightHeaders, routeByPath, ROUTE_METHOD, type RouteAuthorizer, type RouteId, STAGE_NAME } from '../api/routes';
import { createGatewayContext, type GatewayRequest } from '../vtl';
import type { KeyedLog } from './log';
import { RendererBusyError, type TemplateRenderer } from './template-renderer';

export interface ApiRequest {
  method: string;
  /** the full path, stage included: `/prod/twilio/…` */
  path: string;
  query: Record<string, string>;
  /** header names as the client sent them (API Gateway keeps their case) */
  headers: Record<string, string>;
  /** the body, read only when the request reaches an integration; rejects with PayloadTooLargeError past the limit */
  readBody: () => Promise<string>;
  sourceIp: string;
  requestId: string;
  /** True once the caller has hung up (a request waiting for its turn is then not invoked). */
  callerGone?: () => boolean;
}

export interface LocalGatewayOptions {
  handlers: Readonly<Record<RouteId, Handler>>;
  /** The authorizer functions' handlers (the page authorizer: `HANDLER_TABLE.pageAuthorizer`). */
  authorizers: Readonly<Record<RouteAuthorizer, Handler>>;
  /** `Access-Control-Allow-Origin` (known once the app listens) */
  allowedOrigin: () => string;
  log: KeyedLog;
  /** what the handlers count (the local app sums them); each invocation also records HandlerLatency, as in Lambda */
  metrics: Metrics;
  /** renders request templates (large bodies off the event loop) */
  renderer: TemplateRenderer;
  /** default: the functions' time-out */
  timeoutMs?: number;
  /** The most invocations of a route's function at once; more wait their turn, in order (default: no limit). */
  maxConcurrency?: Partial<Record<RouteId, number>>;
}

/** Runs at most `max` calls at once; the others wait, first come first served. */
function concurrencyLimit(max: number): <T>(call: () => Promise<T>) => Promise<T> {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async (call) => {
    if (running < max) running++;
    else await new Promise<void>((resolve) => waiting.push(resolve));
    try {
      return await call();
    } finally {
      // the slot passes straight to the next in line
      const next = waiting.shift();
      if (next) next();
      else running--;
    }
  };
}

const STAGE_PREFIX = `/${STAGE_NAME}`;

/** A body past API Gateway's payload limit (10 MB): answered 413. */
export class PayloadTooLargeError extends Error {}

/** True for paths under the stage (`/prod`, `/prod/…`): the API's, not the site's. */
export function isApiPath(path: string): boolean {
  return path === STAGE_PREFIX || path.startsWith(`${STAGE_PREFIX}/`);
}

function header(headers: Record<string, string>, name: string): string {
  const key = Object.keys(headers).find((h) => h.toLowerCase() === name);
  return key === undefined ? '' : headers[key];
}

/** The Lambda runtime's view of a call: the result must serialise to JSON; the function times out. */
async function invokeLikeLambda(handler: () => Promise<unknown>, timeoutMs: number): Promise<LambdaOutcome> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const err = new Error(`Task timed out after ${(timeoutMs / 1000).toFixed(2)} seconds`);
      err.name = 'Sandbox.Timedout';
      reject(err);
    }, timeoutMs);
  });
  try {
    const result = await Promise.race([handler(), timeout]);
    const text = JSON.stringify(result);
    return { result: text === undefined ? null : (JSON.parse(text) as unknown) };
  } catch (error) {
    return { error };
  } finally {
    clearTimeout(timer);
  }
}

/** What API Gateway makes of a TOKEN authorizer's answer: the context for `$context.authorizer`, or a refusal. */
export type AuthorizerVerdict = { allowed: true; context: Record<string, unknown> } | { allowed: false; status: 401 | 403 | 500 };

/** `arn:aws:execute-api:…:api/stage/POST/path` against a policy Resource with `*` wildcards. */
function resourceMatches(pattern: string, arn: string): boolean {
  const regex = new RegExp(
    `^${pattern
      .split('*')
      .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  );
  return regex.test(arn);
}

/**
 * An API Gateway TOKEN authorizer, as API Gateway runs one ("Use API Gateway Lambda authorizers", API Gateway
 * Developer Guide): no identity header, or one that fails the validation expression → 401 without invoking the
 * function; the function throwing `Unauthorized` → 401; any other failure or a malformed answer → 500; a policy
 * that does not allow `execute-api:Invoke` on the method's ARN (or denies it) → 403; else its `context`, with
 * `principalId`, becomes `$context.authorizer`.
 */
export async function authorizeToken(
  invokeAuthorizer: (event: unknown) => Promise<LambdaOutcome>,
  headers: Record<string, string>,
  methodArn: string,
): Promise<AuthorizerVerdict> {
  const token = header(headers, PAGE_AUTHORIZER.identityHeader.toLowerCase());
  if (token === '' || !new RegExp(PAGE_AUTHORIZER.validationRegex).test(token)) return { allowed: false, status: 401 };
  const outcome = await invokeAuthorizer({ type: 'TOKEN', authorizationToken: token, methodArn });
  if ('error' in outcome) return { allowed: false, status: (outcome.error as Error)?.message === 'Unauthorized' ? 401 : 500 };
  const answer = outcome.result as { principalId?: unknown; policyDocument?: { Statement?: unknown }; context?: unknown } | null;
  const statements = answer?.policyDocument?.Statement;
  if (typeof answer?.principalId !== 'string' || !Array.isArray(statements)) return { allowed: false, status: 500 };
  const applies = (s: { Action?: unknown; Resource?: unknown }) =>
    [s.Action].flat().some((a) => a === 'execute-api:Invoke' || a === 'execute-api:*' || a === '*') &&
    [s.Resource].flat().some((r) => typeof r === 'string' && resourceMatches(r, methodArn));
  const matching = (statements as { Effect?: unknown; Action?: unknown; Resource?: unknown }[]).filter(applies);
  if (matching.some((s) => s.Effect === 'Deny') || !matching.some((s) => s.Effect === 'Allow')) return { allowed: false, status: 403 };
  const context = typeof answer.context === 'object' && answer.context !== null ? (answer.context as Record<string, unknown>) : {};
  return { allowed: true, context: { ...context, principalId: answer.principalId } };
}

export function createLocalGateway(opts: LocalGatewayOptions): (request: ApiRequest) => Promise<HttpResponse> {
  const timeoutMs = (id: string) => opts.timeoutMs ?? functionTimeoutSeconds(id) * 1000;
  /** A handler call that records how long it took (HandlerLatency by Function), answered or thrown, as lambda-runtime.ts does. */
  const timed = (id: string, call: () => Promise<unknown>) => async (): Promise<unknown> => {
    const started = performance.now();
    try {
      return await call();
    } finally {
      opts.metrics.milliseconds('handlerLatency', performance.now() - started, id);
    }
  };
  const warm = new Set<RouteId>();
  const limits = new Map(
    Object.entries(opts.maxConcurrency ?? {}).map(([id, max]) => [id as RouteId, concurrencyLimit(Math.max(1, max ?? 1))] as const),
  );
  const unlimited = <T>(call: () => Promise<T>) => call();
  return async (request) => {
    const allowedOrigin = opts.allowedOrigin();
    const route = routeByPath(request.path.slice(STAGE_PREFIX.length) || '/');
    if (!route) return gatewayErrorResponse('DEFAULT_4XX', allowedOrigin, 403);
    if (request.method === 'OPTIONS') {
      return { statusCode: 204, headers: { 'Content-Type': 'application/json', ...preflightHeaders(allowedOrigin) }, body: '' };
    }
    if (request.method !== ROUTE_METHOD) return gatewayErrorResponse('DEFAULT_4XX', allowedOrigin, 403);
    let body: string;
    try {
      body = await request.readBody();
    } catch (err) {
      if (err instanceof PayloadTooLargeError) return gatewayErrorResponse('DEFAULT_4XX', allowedOrigin, 413);
      throw err;
    }

    const host = header(request.headers, 'host');
    const gatewayRequest: GatewayRequest = {
      body,
      headers: request.headers,
      query: request.query,
      pathParams: {},
      context: createGatewayContext({
        domainName: host,
        domainPrefix: host.split('.')[0].split(':')[0],
        path: request.path,
        resourcePath: route.path,
        stage: STAGE_NAME,
        httpMethod: ROUTE_METHOD,
        requestId: request.requestId,
        extendedRequestId: request.requestId,
        identity: { sourceIp: request.sourceIp, userAgent: header(request.headers, 'user-agent') },
      }),
      stageVariables: {},
    };
    const log = opts.log.with({ route: route.id, request_id: request.requestId, cold_start: !warm.has(route.id) });
    warm.add(route.id);

    if (route.authorizer) {
      const methodArn = `arn:aws:execute-api:local:000000000000:local/${STAGE_NAME}/${ROUTE_METHOD}${route.path}`;
      const authorizerLog = opts.log.with({ route: `${route.authorizer}Authorizer`, request_id: request.requestId });
      const authorizer = opts.authorizers[route.authorizer];
      const verdict = await authorizeToken(
        (event) =>
          invokeLikeLambda(
            timed('pageAuthorizer', () => authorizer(event, { log: authorizerLog, metrics: opts.metrics })),
            timeoutMs('pageAuthorizer'),
          ),
        request.headers,
        methodArn,
      );
      if (!verdict.allowed) {
        return verdict.status === 401
          ? gatewayErrorResponse('UNAUTHORIZED', allowedOrigin)
          : gatewayErrorResponse(verdict.status === 403 ? 'DEFAULT_4XX' : 'DEFAULT_5XX', allowedOrigin, verdict.status);
      }
      gatewayRequest.context.authorizer = verdict.context;
    }

    const refusal = gatewayRefusal(route, gatewayRequest, allowedOrigin);
    if (refusal) return refusal;
    let payload: string;
    try {
      payload = await opts.renderer.renderRequest(route.requestTemplate, gatewayRequest);
    } catch (err) {
      if (err instanceof RendererBusyError) {
        log.warn('too many large bodies at once: refused', { error: err.message });
        return gatewayErrorResponse('DEFAULT_4XX', allowedOrigin, 429);
      }
      log.error('request template failed', { error: (err as Error).message });
      return gatewayErrorResponse('DEFAULT_5XX', allowedOrigin, 500);
    }
    let event: unknown;
    try {
      event = JSON.parse(payload);
    } catch {
      // Lambda refuses a payload that is not JSON (InvalidRequestContentException): API Gateway answers 500.
      log.error('the rendered request template is not JSON');
      return gatewayErrorResponse('DEFAULT_5XX', allowedOrigin, 500);
    }
    const outcome = await (limits.get(route.id) ?? unlimited)(async () =>
      request.callerGone?.()
        ? undefined
        : invokeLikeLambda(
            timed(route.id, () => opts.handlers[route.id](event, { log, metrics: opts.metrics })),
            timeoutMs(route.id),
          ),
    );
    if (!outcome) {
      log.warn('the caller hung up while waiting for its turn: not invoked');
      return gatewayErrorResponse('DEFAULT_5XX', allowedOrigin, 504);
    }
    // In Lambda the runtime logs an error the handler did not turn into an answer (`[status] …`): so here.
    if ('error' in outcome && !/^\[\d{3}\] /.test((outcome.error as Error)?.message ?? '')) {
      log.error('handler failed', { error: describeError(outcome.error) });
    }
    try {
      return integrationResponse(route, outcome, gatewayRequest, allowedOrigin);
    } catch (err) {
      log.error('response template failed', { error: (err as Error).message });
      return gatewayErrorResponse('DEFAULT_5XX', allowedOrigin, 500);
    }
  };
}
