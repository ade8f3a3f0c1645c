/**
 * The VTL (Apache Velocity 1.7) texts of the API Gateway mapping templates.
 *
 * `lib/api/routes.ts` wires these into routes; the CDK stack deploys them and the local app renders them with
 * `lib/vtl/`. Keep every template to syntax that API Gateway's Velocity 1.7 and the local renderer share
 * (see the doc comment of `lib/vtl/index.ts` for what the renderer implements).
 */

/**
 * `application/x-www-form-urlencoded` → the JSON event of the TwiML Lambdas (docs/architecture.md):
 *
 * ```json
 * {"params": {...}, "query": {...}, "signature": "...", "domainName": "...", "path": "...", "resourcePath": "..."}
 * ```
 *
 * Why it is written this way (the walkthrough's template is wrong on every point below):
 * - pairs are split on `&`; a pair is split at its FIRST `=` (`indexOf`/`substring`), so encoded or raw `=`
 *   in a value survives; a pair without `=` is a name with the value `""`; empty pairs (`a=1&&b=2`, a
 *   trailing `&`) are skipped; empty values (`Called=&To=`) are kept as `""` because Twilio signs them.
 * - names and values are decoded with `$util.urlDecode` (Java `URLDecoder`, UTF-8: `+` → space, `%XX`).
 * - JSON string escaping is `$util.escapeJavaScript(...)`, which also turns `'` into `\'` (not valid JSON),
 *   hence `.replaceAll("\\'","'")` as AWS documents. Everything else it emits (`\"`, `\\`, `\/`, `\n`,
 *   `\uXXXX` per UTF-16 unit) is valid JSON.
 * - a repeated name is emitted twice; JSON.parse (the Node.js Lambda runtime) keeps the last value.
 * - the signature is read from the request HEADERS only (never a query-string or path parameter of the same
 *   name, which `$input.params('X-Twilio-Signature')` would prefer), matching the header name without
 *   regard to case; `""` when absent.
 * - Velocity 1.7 takes no arithmetic inside method arguments (hence `$valueAt`), and `$eq`, `$ne`, `$lt`,
 *   … are operators, not variable names.
 * - separators are placed with a `$first` flag, not `$foreach.hasNext`, because skipped pairs would
 *   otherwise leave a dangling comma.
 * - the query string's parameters go along (`query`, in the order API Gateway gives them): Twilio signs the
 *   whole URL it calls, query included, so a webhook URL configured with one is checked with it.
 */
export const FORM_TO_JSON_REQUEST_TEMPLATE = `#set($signature = "")
#set($headers = $input.params().header)
#foreach($headerName in $headers.keySet())
#if($headerName.toLowerCase() == "x-twilio-signature")
#set($signature = $headers.get($headerName))
#end
#end
#set($first = true)
{
  "params": {
#foreach($pair in $input.body.split("&"))
#if($pair.length() > 0)
#set($equalsAt = $pair.indexOf("="))
#if($equalsAt < 0)
#set($name = $util.urlDecode($pair))
#set($value = "")
#else
#set($name = $util.urlDecode($pair.substring(0, $equalsAt)))
#set($valueAt = $equalsAt + 1)
#set($value = $util.urlDecode($pair.substring($valueAt)))
#end
    #if(!$first),#end"$util.escapeJavaScript($name).replaceAll("\\\\'","'")": "$util.escapeJavaScript($value).replaceAll("\\\\'","'")"
#set($first = false)
#end
#end
  },
  "query": {
#set($firstQuery = true)
#set($query = $input.params().querystring)
#foreach($queryName in $query.keySet())
    #if(!$firstQuery),#end"$util.escapeJavaScript($queryName).replaceAll("\\\\'","'")": "$util.escapeJavaScript($query.get($queryName)).replaceAll("\\\\'","'")"
#set($firstQuery = false)
#end
  },
  "signature": "$util.escapeJavaScript($signature).replaceAll("\\\\'","'")",
  "domainName": "$util.escapeJavaScript($context.domainName).replaceAll("\\\\'","'")",
  "path": "$util.escapeJavaScript($context.path).replaceAll("\\\\'","'")",
  "resourcePath": "$util.escapeJavaScript($context.resourcePath).replaceAll("\\\\'","'")"
}
`;

/** `application/json` → the token Lambda receives the request body object itself. */
export const JSON_PASSTHROUGH_REQUEST_TEMPLATE = `$input.json('$')`;

/**
 * `application/json` behind the page authorizer → `{"identity": "<the verified Client identity>", "request": <body>}`:
 * the identity comes from the authorizer's context (the Access Token it verified), never from the body.
 */
export const PAGE_REQUEST_TEMPLATE = `{
  "identity": "$util.escapeJavaScript($context.authorizer.identity).replaceAll("\\\\'","'")",
  "request": $input.json('$')
}`;

/** The token Lambda's success object, passed through as JSON. */
export const JSON_SUCCESS_RESPONSE_TEMPLATE = `$input.json('$')`;

/**
 * A handler error `"[<status>] <json body>"`: answer the JSON body, i.e. the message without its 6-character
 * `"[403] "` prefix.
 */
export const JSON_ERROR_RESPONSE_TEMPLATE = `$input.path('$.errorMessage').substring(6)`;

/** The fixed JSON body of the token route's catch-all 500 (a crash or a Lambda timeout). */
export const JSON_INTERNAL_ERROR_BODY = '{"success":false,"capabilityToken":null,"error":"Internal server error. Please try again later."}';

/** The TwiML handler's string result, returned raw (not as a JSON string literal). */
export const TWIML_SUCCESS_RESPONSE_TEMPLATE = `$input.path('$')`;

/**
 * The 403 answer to a missing or wrong webhook signature: an empty body. A template that renders to nothing
 * (rather than no template, which would pass the Lambda's error object through).
 */
export const EMPTY_RESPONSE_TEMPLATE = `#set($emptyBody = "")`;

/** The fixed, valid TwiML of the TwiML routes' catch-all 500. Contains no `$` or `#` (it is a template). */
export const TWIML_INTERNAL_ERROR_BODY =
  '<?xml version="1.0" encoding="UTF-8"?><Response><Say>We are sorry, an application error has occurred. Please try again later.</Say><Hangup/></Response>';

/** The fixed JSON body of the page routes' catch-all 500. */
export const PAGE_INTERNAL_ERROR_BODY = '{"success":false,"error":"Internal server error. Please try again later."}';

/** A JSON error body of the page API. */
export function pageErrorBody(message: string): string {
  return JSON.stringify({ success: false, error: message });
}

/** A JSON error body in the token route's shape. */
export function jsonErrorBody(message: string): string {
  return JSON.stringify({ success: false, capabilityToken: null, error: message });
}
