/**
 * A Velocity (VTL) renderer with Amazon API Gateway semantics, on top of velocityjs.
 *
 * What it implements, as API Gateway documents it:
 * - `$input.body`, `$input.json(path)`, `$input.path(path)` (JSONPath `$`, `$.a.b`, `$['a']`, `$.a[0]`; an
 *   empty body counts as `{}`; a body that is not JSON is the string value of `$`),
 *   `$input.params()` (`{path, querystring, header}` maps) and `$input.params(name)` (path, then query
 *   string, then header — header names matched without regard to case; `""` when absent).
 * - `$util.escapeJavaScript` (commons-lang), `$util.urlDecode`/`urlEncode` (Java URLDecoder/URLEncoder,
 *   UTF-8), `$util.parseJson`, `$util.base64Encode`/`base64Decode`.
 * - `$context.*` (from the request's context) and `$stageVariables`.
 * - Java semantics where templates call methods: strings behave as `java.lang.String` (`split`,
 *   `replaceAll`, `length()`, `substring`, … see `java-string.ts`), objects as `java.util.Map`
 *   (`get`, `put`, `keySet`, `containsKey`, `size`, `isEmpty`, `entrySet`, `values`, `remove`), arrays as
 *   `java.util.List` (`size`, `get`, `isEmpty`, `contains`, `indexOf`, `add`). An unknown method on these
 *   is an error, not a silent JavaScript fallback.
 * - Velocity 1.7: `#set` with a null right-hand side leaves the variable unchanged; a null/undefined
 *   reference renders as its own text (`$!x` as nothing); `$foreach.hasNext`, `$foreach.index`,
 *   `$foreach.count`, `$velocityCount`.
 *
 * A template that throws (a malformed `%` escape given to `urlDecode`, an out-of-range `substring`, …)
 * makes `render*` throw a `VtlRenderError`; API Gateway answers that with a 500.
 */
import { randomUUID } from 'node:crypto';
import { Compile, parse } from 'velocityjs';
import type { CompileConfig, SetAST, VELOCITY_AST } from 'velocityjs/dist/src/type';
import { evaluateJsonPath } from './jsonpath';
import { JAVA_STRING_METHODS, JavaException } from './java-string';
import { base64Decode, base64Encode, escapeJavaScript, parseJson, urlDecode, urlEncode } from './util';

export { JavaException } from './java-string';
export { javaSplit, javaReplaceAll, javaReplaceFirst, javaMatches, javaTrim, javaSubstring } from './java-string';
export { escapeJavaScript, urlDecode, urlEncode, base64Encode, base64Decode, parseJson } from './util';
export { evaluateJsonPath, parseJsonPath } from './jsonpath';

/** `$context` — the fields the templates use are required; any other `$context.*` may be given. */
export interface GatewayContext {
  /** e.g. `abc123.execute-api.ap-northeast-1.amazonaws.com`, or `127.0.0.1:3000` locally. */
  domainName: string;
  /** The request path including the stage: `/prod/twilio/retrieve_twiml/call_incoming`. */
  path: string;
  /** The resource path: `/twilio/retrieve_twiml/call_incoming`. */
  resourcePath: string;
  stage?: string;
  httpMethod?: string;
  requestId?: string;
  apiId?: string;
  identity?: { sourceIp?: string; userAgent?: string; [key: string]: unknown };
  [key: string]: unknown;
}

export interface GatewayRequest {
  /** The raw method request body. */
  body: string;
  /** Method request headers, names as received. */
  headers: Record<string, string>;
  query?: Record<string, string>;
  pathParams?: Record<string, string>;
  context: GatewayContext;
  stageVariables?: Record<string, string>;
}

/** A template failed to render (API Gateway: 500, "Execution failed due to configuration error"). */
export class VtlRenderError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'VtlRenderError';
  }
}

/**
 * A `$context` with the usual fields filled in (stage from the path's first segment, POST, a fresh request
 * id, local identity), overridden by `fields`.
 */
export function createGatewayContext(fields: Pick<GatewayContext, 'domainName' | 'path' | 'resourcePath'> & Partial<GatewayContext>): GatewayContext {
  const stage = fields.path.split('/').filter((s) => s !== '')[0] ?? '';
  const now = Date.now();
  return {
    stage,
    httpMethod: 'POST',
    requestId: randomUUID(),
    apiId: 'local',
    accountId: '000000000000',
    protocol: 'HTTP/1.1',
    requestTimeEpoch: now,
    requestTime: new Date(now).toISOString(),
    identity: { sourceIp: '127.0.0.1', userAgent: '' },
    ...fields,
  };
}

// ---------------------------------------------------------------------------------------------------------
// Java-like values

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Java null → undefined, so velocityjs renders the reference text as Velocity does. */
function fromJava(value: unknown): unknown {
  return value === null ? undefined : value;
}

function unsupported(type: string, method: string): never {
  throw new JavaException('MethodNotFound', `${type}.${method}() is not supported by the renderer`);
}

function listIndex(list: unknown[], index: unknown): number {
  const i = typeof index === 'number' ? index : Number(index);
  if (!Number.isInteger(i) || i < 0 || i >= list.length) {
    throw new JavaException('IndexOutOfBoundsException', `Index: ${String(index)}, Size: ${list.length}`);
  }
  return i;
}

function javaEquals(a: unknown, b: unknown): boolean {
  return a === b || (a !== null && b !== null && typeof a === 'object' && JSON.stringify(a) === JSON.stringify(b));
}

const hasOwn = (o: object, k: string): boolean => Object.hasOwn(o, k);

function mapMethod(map: Record<string, unknown>, method: string, args: unknown[]): unknown {
  const key = args[0] === undefined || args[0] === null ? String(args[0]) : String(args[0]);
  switch (method) {
    case 'get':
      return fromJava(hasOwn(map, key) ? map[key] : undefined);
    case 'containsKey':
      return hasOwn(map, key);
    case 'containsValue':
      return Object.values(map).some((v) => javaEquals(v, args[0]));
    case 'keySet':
      return Object.keys(map);
    case 'values':
      return Object.values(map);
    case 'entrySet':
      return Object.keys(map).map((k) => ({ key: k, value: map[k] }));
    case 'size':
      return Object.keys(map).length;
    case 'isEmpty':
      return Object.keys(map).length === 0;
    case 'put': {
      const previous = hasOwn(map, key) ? map[key] : undefined;
      Object.defineProperty(map, key, { value: args[1], enumerable: true, writable: true, configurable: true });
      return fromJava(previous);
    }
    case 'remove': {
      const previous = hasOwn(map, key) ? map[key] : undefined;
      delete map[key];
      return fromJava(previous);
    }
    case 'toString':
      return `{${Object.keys(map)
        .map((k) => `${k}=${String(map[k])}`)
        .join(', ')}}`;
    default:
      return unsupported('Map', method);
  }
}

function listMethod(list: unknown[], method: string, args: unknown[]): unknown {
  switch (method) {
    case 'size':
      return list.length;
    case 'isEmpty':
      return list.length === 0;
    case 'get':
      return fromJava(list[listIndex(list, args[0])]);
    case 'contains':
      return list.some((v) => javaEquals(v, args[0]));
    case 'indexOf':
      return list.findIndex((v) => javaEquals(v, args[0]));
    case 'add':
      list.push(args[0]);
      return true;
    case 'toString':
      return `[${list.map((v) => String(v)).join(', ')}]`;
    default:
      return unsupported('List', method);
  }
}

function stringMethod(s: string, method: string, args: unknown[]): unknown {
  const impl = Object.hasOwn(JAVA_STRING_METHODS, method) ? JAVA_STRING_METHODS[method] : undefined;
  if (!impl) return unsupported('String', method);
  return fromJava(impl(s, args));
}

const JAVA_METHOD_HANDLERS: NonNullable<CompileConfig['customMethodHandlers']> = [
  {
    uid: 'java: String',
    match: ({ context }) => typeof context === 'string',
    resolve: ({ context, property, params }) => stringMethod(context as string, property, params),
  },
  {
    uid: 'java: List',
    match: ({ context }) => Array.isArray(context),
    resolve: ({ context, property, params }) => listMethod(context as unknown[], property, params),
  },
  {
    uid: 'java: Map',
    match: ({ context }) => isPlainObject(context),
    resolve: ({ context, property, params }) => mapMethod(context as Record<string, unknown>, property, params),
  },
];

// ---------------------------------------------------------------------------------------------------------
// $input and $util

function toText(value: unknown): string {
  if (value === undefined || value === null) throw new JavaException('NullPointerException', 'null argument');
  return String(value);
}

/** Copies request maps into fresh plain objects (own properties only, any key allowed). */
function plainMap(source: Record<string, string> | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(source ?? {})) {
    Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

function deepPlain(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(deepPlain);
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      Object.defineProperty(out, k, { value: deepPlain(v), enumerable: true, writable: true, configurable: true });
    }
    return out;
  }
  return value;
}

const NOT_JSON = Symbol('not JSON');

class InputVariable {
  private parsed: unknown = NOT_JSON;
  private parsedOnce = false;

  constructor(
    private readonly payload: string,
    private readonly request: GatewayRequest,
  ) {}

  /** The raw payload. */
  get body(): string {
    return this.payload;
  }

  private root(): unknown {
    if (!this.parsedOnce) {
      this.parsedOnce = true;
      if (this.payload.trim() === '') this.parsed = {};
      else {
        try {
          this.parsed = JSON.parse(this.payload);
        } catch {
          this.parsed = NOT_JSON;
        }
      }
    }
    return this.parsed === NOT_JSON ? this.payload : this.parsed;
  }

  /** The value at the JSONPath, as a JSON text (`null` when missing). */
  json(path: unknown): string {
    const value = evaluateJsonPath(this.root(), toText(path));
    return value === undefined ? 'null' : JSON.stringify(value);
  }

  /** The value at the JSONPath (strings, numbers, booleans, maps, lists). */
  path(path: unknown): unknown {
    return fromJava(deepPlain(evaluateJsonPath(this.root(), toText(path))));
  }

  /** `params()` → `{path, querystring, header}`; `params(name)` → path, query string, then header (any case); `""` if absent. */
  params(name?: unknown): unknown {
    const { pathParams, query, headers } = this.request;
    if (name === undefined) {
      return { path: plainMap(pathParams), querystring: plainMap(query), header: plainMap(headers) };
    }
    const key = toText(name);
    if (pathParams && hasOwn(pathParams, key)) return pathParams[key];
    if (query && hasOwn(query, key)) return query[key];
    if (hasOwn(headers, key)) return headers[key];
    const lower = key.toLowerCase();
    const header = Object.keys(headers).find((h) => h.toLowerCase() === lower);
    return header === undefined ? '' : headers[header];
  }

  toString(): string {
    return this.payload;
  }
}

class UtilVariable {
  escapeJavaScript(s: unknown): unknown {
    return s === undefined || s === null ? undefined : escapeJavaScript(String(s));
  }
  urlDecode(s: unknown): string {
    return urlDecode(toText(s));
  }
  urlEncode(s: unknown): string {
    return urlEncode(toText(s));
  }
  base64Encode(s: unknown): string {
    return base64Encode(toText(s));
  }
  base64Decode(s: unknown): string {
    return base64Decode(toText(s));
  }
  parseJson(s: unknown): unknown {
    return fromJava(deepPlain(parseJson(toText(s))));
  }
}

// ---------------------------------------------------------------------------------------------------------
// The renderer

/** velocityjs with Velocity 1.7's `#set`: a null (or undefined) right-hand side leaves the variable as it was. */
class ApiGatewayCompile extends Compile {
  // The right-hand side already evaluated by setValue, handed to velocityjs's assignment when it asks for it.
  // (Fields, not methods patched onto the instance and deleted after each #set: that slowed every lookup on the
  // compiler; the webhooks' template renders 10–15% faster this way.)
  private presetAst: unknown = undefined;
  private presetValue: unknown = undefined;

  // (velocityjs types these as string; they return any value, as the base methods do.)
  protected override getLiteral(ast: VELOCITY_AST): string {
    return ast === this.presetAst ? (this.presetValue as string) : super.getLiteral(ast);
  }

  protected override getExpression(ast: VELOCITY_AST): string {
    return ast === this.presetAst ? (this.presetValue as string) : super.getExpression(ast);
  }

  protected override setValue(ast: SetAST): void {
    const valueAst = ast.equal[1] as VELOCITY_AST;
    const value = valueAst.type === 'math' ? super.getExpression(valueAst) : super.getLiteral(valueAst);
    if (value === undefined || value === null) return;
    const [previousAst, previousValue] = [this.presetAst, this.presetValue];
    // Let velocityjs do the assignment (paths, scopes) without evaluating the right-hand side twice.
    this.presetAst = valueAst;
    this.presetValue = value;
    try {
      super.setValue(ast);
    } finally {
      this.presetAst = previousAst;
      this.presetValue = previousValue;
    }
  }
}

const astCache = new Map<string, VELOCITY_AST[]>();

function parseTemplate(template: string): VELOCITY_AST[] {
  let asts = astCache.get(template);
  if (!asts) {
    try {
      asts = parse(template);
    } catch (e) {
      throw new VtlRenderError(`Invalid mapping template: ${(e as Error).message}`, { cause: e });
    }
    if (astCache.size > 200) astCache.clear();
    astCache.set(template, asts);
  }
  return asts;
}

/**
 * Renders a mapping template with `$input` reading `payload` (the method request body for a request
 * template, the integration's result for a response template).
 */
export function renderTemplate(template: string, payload: string, request: GatewayRequest): string {
  const compiler = new ApiGatewayCompile(parseTemplate(template), { customMethodHandlers: JAVA_METHOD_HANDLERS });
  const context = {
    input: new InputVariable(payload, request),
    util: new UtilVariable(),
    context: deepPlain(request.context),
    stageVariables: plainMap(request.stageVariables),
  };
  try {
    return compiler.render(context);
  } catch (e) {
    throw new VtlRenderError(`Mapping template failed: ${(e as Error).message}`, { cause: e });
  }
}

/** Renders an integration request template against the method request. */
export function renderRequestTemplate(template: string, request: GatewayRequest): string {
  return renderTemplate(template, request.body, request);
}

/**
 * Renders an integration response template: `$input` reads `integrationResult` (the Lambda's result as JSON
 * text — see `lambdaResultPayload`/`lambdaErrorPayload`); `$input.params()`, `$context` are the request's.
 */
export function renderResponseTemplate(template: string, integrationResult: string, request: GatewayRequest): string {
  return renderTemplate(template, integrationResult, request);
}

/** The JSON text API Gateway receives from a Lambda that returned `value`. */
export function lambdaResultPayload(value: unknown): string {
  return JSON.stringify(value === undefined ? null : value);
}

/** The JSON text API Gateway receives from a Lambda that threw (its `errorMessage` is what selection patterns see). */
export function lambdaErrorPayload(error: unknown): string {
  const err = error instanceof Error ? error : new Error(String(error));
  return JSON.stringify({
    errorType: err.name || 'Error',
    errorMessage: err.message,
    trace: (err.stack ?? '').split('\n'),
  });
}
