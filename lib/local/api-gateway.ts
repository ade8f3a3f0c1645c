/**
 * API Gateway as the local app plays it, for one request, without sockets: `handleApiRequest(request)` →
 * response, from the deployed definitions of `lib/api/routes.ts` (and `lib/api/gateway.ts`):
 *
 * - unknown resource or method → 403 through DEFAULT_4XX (API Gateway's "Missing Authentication Token");
 *   OPTIONS → the CORS preflight;
 * - content type → request template (415, passthrough NEVER), the token model (400 BAD_REQUEST_BODY), the
 *   template rendered by `lib/vtl` with an API Gateway-like `$context`;
 * - the route's handler called like Lambda: the event JSON-parsed, a time-out, the result serialised, an
 *   error as `{errorType, errorMessage}` against the selection patterns; the response template rendered,
 *   headers + CORS, status.
 */
import { describeError } from '../../lambda/core/errors';
import { FUNCTION_TIMEOUT_SECONDS } from '../../lambda/core/settings';
import type { Handler } from '../../lambda/handlers/deps';
import { gatewayErrorResponse, gatewayRefusal, integrationResponse, type HttpResponse, type LambdaOutcome } from '../api/gateway';
import { preflightHeaders, routeByPath, ROUTE_METHOD, STAGE_NAME, type RouteId } from '../api/routes';
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
}

export interface LocalGatewayOptions {
  handlers: Readonly<Record<RouteId, Handler>>;
  /** `Access-Control-Allow-Origin` (known once the app listens) */
  allowedOrigin: () => string;
  log: KeyedLog;
  /** renders request templates (large bodies off the event loop) */
  renderer: TemplateRenderer;
  /** default: the functions' time-out */
  timeoutMs?: number;
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

export function createLocalGateway(opts: LocalGatewayOptions): (request: ApiRequest) => Promise<HttpResponse> {
  const timeoutMs = opts.timeoutMs ?? FUNCTION_TIMEOUT_SECONDS * 1000;
  const warm = new Set<RouteId>();
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
    const outcome = await invokeLikeLambda(() => opts.handlers[route.id](event, { log }), timeoutMs);
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
