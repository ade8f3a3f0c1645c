/**
 * API Gateway's request/response pipeline for one route, built from `routes.ts` and the `lib/vtl` renderer:
 * what the local app (and tests) need to play the gateway without re-deciding any of its rules.
 *
 * - content type → request template (no `Content-Type` counts as `application/json`, as on API Gateway;
 *   no template for it → `UNSUPPORTED_MEDIA_TYPE` 415, passthrough NEVER);
 * - the request model (body validator) → `BAD_REQUEST_BODY` 400;
 * - the Lambda's result or thrown error → the integration response its selection pattern picks, rendered.
 */
import { bodyModelErrors } from './model-validation';
import { corsHeaders, gatewayResponse, selectIntegrationResponse } from './routes';
import type { GatewayResponseType, RouteSpec } from './routes';
import { lambdaErrorPayload, lambdaResultPayload, renderRequestTemplate, renderResponseTemplate } from '../vtl';
import type { GatewayRequest } from '../vtl';

export interface HttpResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

/** The media type API Gateway selects templates by: lower-case, without parameters; none → application/json. */
export function requestMediaType(headers: Record<string, string>): string {
  const name = Object.keys(headers).find((h) => h.toLowerCase() === 'content-type');
  const value = name === undefined ? '' : headers[name].split(';')[0].trim().toLowerCase();
  return value === '' ? 'application/json' : value;
}

/**
 * A gateway response (BAD_REQUEST_BODY, …) as an HTTP response, with the CORS header when an origin is given.
 * `status` is what the gateway answered (e.g. 403 or 413 under DEFAULT_4XX); a response that overrides the
 * status (`overrideStatus`) answers its own.
 */
export function gatewayErrorResponse(type: GatewayResponseType, allowedOrigin?: string, status?: number): HttpResponse {
  const spec = gatewayResponse(type);
  return {
    statusCode: spec.overrideStatus || status === undefined ? Number(spec.statusCode) : status,
    headers: { 'Content-Type': spec.contentType, ...(allowedOrigin === undefined ? {} : corsHeaders(allowedOrigin)) },
    body: spec.template,
  };
}

export type IntegrationRequestResult = { ok: true; payload: string } | { ok: false; response: HttpResponse };

/**
 * What API Gateway refuses before the integration: 415 for a content type without a request template, 400
 * for a body the route's model refuses; undefined when the request goes on to the request template.
 */
export function gatewayRefusal(route: RouteSpec, request: GatewayRequest, allowedOrigin?: string): HttpResponse | undefined {
  if (requestMediaType(request.headers) !== route.requestContentType) return gatewayErrorResponse('UNSUPPORTED_MEDIA_TYPE', allowedOrigin);
  if (route.requestModel && bodyModelErrors(route.requestModel, request.body).length > 0)
    return gatewayErrorResponse('BAD_REQUEST_BODY', allowedOrigin);
  return undefined;
}

/**
 * The integration request for a method request: the rendered request template (the Lambda event as JSON
 * text), or the gateway's refusal (`gatewayRefusal`). A template that fails to render throws `VtlRenderError`
 * (API Gateway: 500).
 */
export function integrationRequest(route: RouteSpec, request: GatewayRequest, allowedOrigin?: string): IntegrationRequestResult {
  const refusal = gatewayRefusal(route, request, allowedOrigin);
  return refusal ? { ok: false, response: refusal } : { ok: true, payload: renderRequestTemplate(route.requestTemplate, request) };
}

/** What the Lambda did: returned a value, or threw. */
export type LambdaOutcome = { result: unknown } | { error: unknown };

/** The method response for the Lambda's outcome: selection pattern → status, template → body, static headers. */
export function integrationResponse(route: RouteSpec, outcome: LambdaOutcome, request: GatewayRequest, allowedOrigin?: string): HttpResponse {
  const failed = 'error' in outcome;
  const message = failed ? (outcome.error instanceof Error ? outcome.error.message : String(outcome.error)) : undefined;
  const spec = selectIntegrationResponse(route.integrationResponses, message);
  const payload = failed ? lambdaErrorPayload(outcome.error) : lambdaResultPayload(outcome.result);
  return {
    statusCode: Number(spec.statusCode),
    headers: { ...spec.headers, ...(allowedOrigin === undefined ? {} : corsHeaders(allowedOrigin)) },
    body: renderResponseTemplate(spec.template, payload, request),
  };
}
