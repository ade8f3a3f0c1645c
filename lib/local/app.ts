/**
 * The local app (`npm start`): one node:http server on 127.0.0.1 that
 *
 * - serves the softphone at `/` (static files, path traversal refused) and `/config.json` → `{"apiBaseUrl": "…/prod"}`;
 * - plays API Gateway under `/prod/twilio/…` with the deployed definitions of `lib/api/routes.ts`: method check
 *   (POST, OPTIONS preflight), content type → request template (415, passthrough NEVER), the token model
 *   (400 BAD_REQUEST_BODY), the request template rendered by `lib/vtl` with an API Gateway-like `$context`,
 *   the Lambda event JSON-parsed, the SAME handler factory called like Lambda (10 s timeout), the result
 *   serialised like Lambda, errors as `{errorType, errorMessage}` against the selection patterns, the
 *   response template rendered, headers + CORS, status; unknown resources and methods → 403 through the
 *   DEFAULT_4XX gateway response (API Gateway's "Missing Authentication Token" case);
 * - keeps devices in an embedded dynalite (`registry-server.ts`) through the handlers' own `DynamoRegistry`.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { loadConfig, type AppConfig } from '../../lambda/core/config';
import { staticCredentials, type TwilioCredentials } from '../../lambda/core/credentials';
import type { Registry } from '../../lambda/core/registry';
import type { HandlerDeps } from '../../lambda/handlers/deps';
import { createIncomingCallHandler } from '../../lambda/handlers/incoming-call';
import { createOutgoingCallHandler } from '../../lambda/handlers/outgoing-call';
import { createTokenHandler } from '../../lambda/handlers/token';
import { gatewayErrorResponse, integrationRequest, integrationResponse, type HttpResponse, type LambdaOutcome } from '../api/gateway';
import { preflightHeaders, ROUTE_METHOD, ROUTES, STAGE_NAME, type RouteId, type RouteSpec } from '../api/routes';
import { cacheControlFor } from '../site/cache-control';
import { createGatewayContext, type GatewayRequest } from '../vtl';
import { authTokenFingerprint, resolveLocalCredentials, type CredentialsSource } from './credentials';
import { RegistryInUseError, RegistryUnavailableError, startEmbeddedRegistry, type LocalRegistry } from './registry-server';

export interface LocalAppOptions {
  /** 0 = any free port; default 3000. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** The registry directory (LevelDB of the embedded dynalite). */
  registryPath: string;
  /** Default: `TWILIO_*` from `env`, else development credentials kept next to the registry. */
  credentials?: TwilioCredentials;
  /** `Access-Control-Allow-Origin`; default `SOFTPHONE_ALLOWED_ORIGIN` from `env`, else the app's own origin (`url`). */
  allowedOrigin?: string;
  /** Static files of the softphone; default: `buildClient` into `<registry>/softphone` at start. */
  clientDir?: string;
  /** Default `process.env` (TOKEN_TTL_SECONDS, PUBLIC_BASE_URL, ALLOWED_DESTINATION_COUNTRIES, …). */
  env?: NodeJS.ProcessEnv;
  /** One line per request and start-up notices; default console.log. When given, handler logs go here too. */
  log?: (line: string) => void;
}

export interface LocalApp {
  /** http://127.0.0.1:<port> */
  url: string;
  /** url + '/prod' */
  apiBaseUrl: string;
  registry: Registry;
  /** The embedded registry's DynamoDB endpoint (`http://127.0.0.1:<port>`, dynalite). */
  registryEndpoint: string;
  /** Where the credentials came from ('development' = throwaway, Twilio refuses them). */
  credentialsSource: CredentialsSource;
  /** The full URL of each API route. */
  routeUrls: Record<RouteId, string>;
  close(): Promise<void>;
}

export type LocalAppErrorKind = 'port-in-use' | 'registry' | 'config' | 'client';

/** A start-up failure with a message for the user; `kind` selects the exit code in `bin/local.ts`. */
export class LocalAppError extends Error {
  constructor(
    readonly kind: LocalAppErrorKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'LocalAppError';
  }
}

/** The functions' timeout in the stack (lib/constructs/softphone-functions.ts). */
export const LAMBDA_TIMEOUT_MS = 10_000;
/** API Gateway's payload limit. */
export const MAX_BODY_BYTES = 10 * 1024 * 1024;

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.webp': 'image/webp',
  '.woff2': 'font/woff2',
  '.mp3': 'audio/mpeg',
  '.wav': 'audio/wav',
  '.wasm': 'application/wasm',
};

export function contentTypeFor(file: string): string {
  return CONTENT_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
}

type Handler = (event: unknown) => Promise<unknown>;

/** The Lambda runtime's view of a call: the result must serialise to JSON; the function times out. */
async function invokeLikeLambda(handler: Handler, event: unknown): Promise<LambdaOutcome> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const err = new Error(`Task timed out after ${(LAMBDA_TIMEOUT_MS / 1000).toFixed(2)} seconds`);
      err.name = 'Sandbox.Timedout';
      reject(err);
    }, LAMBDA_TIMEOUT_MS);
  });
  try {
    const result = await Promise.race([handler(event), timeout]);
    const text = JSON.stringify(result);
    return { result: text === undefined ? null : (JSON.parse(text) as unknown) };
  } catch (error) {
    return { error };
  } finally {
    clearTimeout(timer);
  }
}

class BodyTooLargeError extends Error {}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new BodyTooLargeError());
        req.resume();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** Header names as the client sent them (API Gateway keeps their case); a repeated header keeps its last value. */
function rawHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) out[req.rawHeaders[i]] = req.rawHeaders[i + 1];
  return out;
}

const HOST_HEADER = /^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/;

function send(res: ServerResponse, response: HttpResponse, head = false): void {
  const body = Buffer.from(response.body, 'utf8');
  res.writeHead(response.statusCode, { ...response.headers, 'Content-Length': String(body.length) });
  res.end(head ? undefined : body);
}

async function prepareClientDir(opts: LocalAppOptions, registryPath: string, log: (line: string) => void): Promise<string> {
  if (opts.clientDir) return path.resolve(opts.clientDir);
  // Inside the registry's own directory: the app never writes next to it (that may be the source tree).
  const outdir = path.join(registryPath, 'softphone');
  try {
    // Imported lazily: esbuild is only needed when the app builds the client itself.
    const { buildClient } = await import('../../client/build');
    const started = Date.now();
    await buildClient({ outdir });
    log(`Built the softphone into ${outdir} in ${Date.now() - started} ms`);
  } catch (err) {
    throw new LocalAppError('client', `The softphone could not be built into ${outdir}: ${(err as Error).message}`, { cause: err });
  }
  return outdir;
}

export async function startLocalApp(opts: LocalAppOptions): Promise<LocalApp> {
  const env = opts.env ?? process.env;
  const log = opts.log ?? ((line: string) => console.log(line));
  const host = opts.host ?? '127.0.0.1';
  const port = opts.port ?? 3000;
  const registryPath = path.resolve(opts.registryPath);
  // CORS: the app's own origin unless told otherwise (known once listening), like the stack's CloudFront default.
  let allowedOrigin = opts.allowedOrigin ?? (env.SOFTPHONE_ALLOWED_ORIGIN?.trim() || '');

  let config: AppConfig;
  try {
    config = { ...loadConfig(env), webhookScheme: 'http' };
  } catch (err) {
    throw new LocalAppError('config', `Bad configuration: ${(err as Error).message}`, { cause: err });
  }
  let resolved;
  try {
    resolved = await resolveLocalCredentials(env, registryPath, opts.credentials);
  } catch (err) {
    throw new LocalAppError('config', `Bad Twilio credentials: ${(err as Error).message}`, { cause: err });
  }
  if (resolved.source === 'development') {
    log(
      `No TWILIO_* credentials set: using throwaway DEVELOPMENT credentials (kept in ${resolved.file}). ` +
        'Tokens are well formed but Twilio will refuse them; webhooks are signed with their Auth Token (npm run sign uses it too). ' +
        'Set TWILIO_ACCOUNT_SID, TWILIO_API_KEY_SID, TWILIO_API_KEY_SECRET, TWILIO_AUTH_TOKEN and TWILIO_TWIML_APP_SID (or .env) to use your account.',
    );
  }

  const clientDir = await prepareClientDir(opts, registryPath, log);
  const clientRoot = await realpath(clientDir).catch(() => path.resolve(clientDir));

  let local: LocalRegistry;
  try {
    local = await startEmbeddedRegistry(registryPath, { owner: 'local app (npm start)' });
  } catch (err) {
    if (err instanceof RegistryInUseError || err instanceof RegistryUnavailableError) {
      throw new LocalAppError('registry', err.message, { cause: err });
    }
    throw new LocalAppError('registry', `The registry at ${registryPath} could not be started: ${(err as Error).message}`, { cause: err });
  }

  const logger = new Logger({
    serviceName: env.POWERTOOLS_SERVICE_NAME ?? 'twilio-softphone-local',
    logLevel: (env.POWERTOOLS_LOG_LEVEL ?? 'WARN') as 'WARN',
  });
  if (opts.log) {
    // Handler logs (structured JSON lines) go to the caller's sink too, not straight to stdout.
    const sink = opts.log;
    const write = (line: unknown) => sink(String(line));
    (logger as unknown as { console: Record<string, (line: unknown) => void> }).console = {
      log: write, info: write, warn: write, error: write, debug: write, trace: write,
    };
  }
  const deps: HandlerDeps = { registry: local.registry, credentials: staticCredentials(resolved.credentials), config, logger };
  const handlers: Record<RouteId, Handler> = {
    token: createTokenHandler(deps),
    callIncoming: createIncomingCallHandler(deps),
    callOutgoing: createOutgoingCallHandler(deps),
  };

  const stagePrefix = `/${STAGE_NAME}`;
  let baseUrl = '';

  async function api(req: IncomingMessage, pathname: string, search: URLSearchParams, requestId: string): Promise<HttpResponse> {
    const resourcePath = pathname.slice(stagePrefix.length) || '/';
    const route: RouteSpec | undefined = ROUTES.find((r) => r.path === resourcePath);
    // API Gateway answers an unknown resource or method with 403 "Missing Authentication Token" (DEFAULT_4XX here).
    if (!route) return gatewayErrorResponse('DEFAULT_4XX', allowedOrigin, 403);
    if (req.method === 'OPTIONS') {
      return { statusCode: 204, headers: { 'Content-Type': 'application/json', ...preflightHeaders(allowedOrigin) }, body: '' };
    }
    if (req.method !== ROUTE_METHOD) return gatewayErrorResponse('DEFAULT_4XX', allowedOrigin, 403);

    let body: string;
    try {
      body = await readBody(req);
    } catch (err) {
      if (err instanceof BodyTooLargeError) return gatewayErrorResponse('DEFAULT_4XX', allowedOrigin, 413);
      throw err;
    }
    const headers = rawHeaders(req);
    const hostHeader = req.headers.host ?? '';
    const sourceIp = (req.socket.remoteAddress ?? '').replace(/^::ffff:/, '');
    const request: GatewayRequest = {
      body,
      headers,
      query: Object.fromEntries(search),
      pathParams: {},
      context: createGatewayContext({
        domainName: hostHeader,
        domainPrefix: hostHeader.split('.')[0].split(':')[0],
        path: pathname,
        resourcePath: route.path,
        stage: STAGE_NAME,
        httpMethod: ROUTE_METHOD,
        requestId,
        extendedRequestId: requestId,
        identity: { sourceIp, userAgent: req.headers['user-agent'] ?? '' },
      }),
      stageVariables: {},
    };

    let payload: string;
    try {
      const integration = integrationRequest(route, request, allowedOrigin);
      if (!integration.ok) return integration.response;
      payload = integration.payload;
    } catch (err) {
      log(`${requestId} request template failed: ${(err as Error).message}`);
      return gatewayErrorResponse('DEFAULT_5XX', allowedOrigin, 500);
    }
    let event: unknown;
    try {
      event = JSON.parse(payload);
    } catch {
      // Lambda refuses a payload that is not JSON (InvalidRequestContentException): API Gateway answers 500.
      log(`${requestId} the rendered request template is not JSON`);
      return gatewayErrorResponse('DEFAULT_5XX', allowedOrigin, 500);
    }
    const outcome = await invokeLikeLambda(handlers[route.id], event);
    try {
      return integrationResponse(route, outcome, request, allowedOrigin);
    } catch (err) {
      log(`${requestId} response template failed: ${(err as Error).message}`);
      return gatewayErrorResponse('DEFAULT_5XX', allowedOrigin, 500);
    }
  }

  async function staticFile(req: IncomingMessage, res: ServerResponse, pathname: string): Promise<number> {
    const head = req.method === 'HEAD';
    const plain = (status: number, text: string, extra: Record<string, string> = {}): number => {
      send(res, { statusCode: status, headers: { 'Content-Type': 'text/plain; charset=utf-8', ...extra }, body: `${text}\n` }, head);
      return status;
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return plain(405, 'Method Not Allowed', { Allow: 'GET, HEAD' });
    if (pathname === '/config.json') {
      const hostHeader = req.headers.host;
      const origin = hostHeader && HOST_HEADER.test(hostHeader) ? `http://${hostHeader}` : baseUrl;
      send(res, { statusCode: 200, headers: { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': cacheControlFor(pathname) }, body: JSON.stringify({ apiBaseUrl: `${origin}${stagePrefix}` }) }, head);
      return 200;
    }
    let decoded: string;
    try {
      decoded = decodeURIComponent(pathname);
    } catch {
      return plain(400, 'Bad Request');
    }
    if (decoded.includes('\0') || decoded.includes('\\') || decoded.split('/').some((s) => s === '..')) return plain(403, 'Forbidden');
    let file = path.resolve(clientRoot, `.${decoded}`);
    if (file !== clientRoot && !file.startsWith(clientRoot + path.sep)) return plain(403, 'Forbidden');
    try {
      let st = await stat(file);
      if (st.isDirectory()) {
        file = path.join(file, 'index.html');
        st = await stat(file);
      }
      const real = await realpath(file);
      if (!real.startsWith(clientRoot + path.sep) || !st.isFile()) return plain(404, 'Not Found');
      res.writeHead(200, {
        'Content-Type': contentTypeFor(file),
        'Content-Length': String(st.size),
        'Cache-Control': cacheControlFor(decoded),
        'X-Content-Type-Options': 'nosniff',
      });
      if (head) {
        res.end();
      } else {
        await new Promise<void>((resolve, reject) => {
          createReadStream(real).on('error', reject).on('end', resolve).pipe(res);
        });
      }
      return 200;
    } catch {
      if (res.headersSent) {
        res.destroy();
        return 500;
      }
      return plain(404, 'Not Found');
    }
  }

  const server: Server = createServer((req, res) => {
    const started = process.hrtime.bigint();
    const requestId = randomUUID();
    let pathname = '/';
    let search = new URLSearchParams();
    try {
      const url = new URL(req.url ?? '/', 'http://local.invalid');
      pathname = url.pathname;
      search = url.searchParams;
    } catch {
      // keep '/'
    }
    const isApi = pathname === stagePrefix || pathname.startsWith(`${stagePrefix}/`);
    const finish = (status: number) => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      log(`${new Date().toISOString()} ${req.method} ${pathname} ${status} ${ms.toFixed(1)}ms${isApi ? ` ${requestId}` : ''}`);
    };
    const work = isApi
      ? api(req, pathname, search, requestId).then((response) => {
          response.headers['x-amzn-RequestId'] = requestId;
          send(res, response);
          return response.statusCode;
        })
      : staticFile(req, res, pathname);
    work.then(finish, (err: unknown) => {
      log(`${requestId} internal error: ${(err as Error)?.stack ?? String(err)}`);
      if (!res.headersSent) send(res, isApi ? gatewayErrorResponse('DEFAULT_5XX', allowedOrigin, 500) : { statusCode: 500, headers: { 'Content-Type': 'text/plain' }, body: 'Internal Server Error\n' });
      else res.destroy();
      finish(500);
    });
  });
  server.keepAliveTimeout = 5000;

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    await local.close();
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') {
      throw new LocalAppError('port-in-use', `Port ${port} on ${host} is already in use (is another npm start running?). Stop it or choose another port, e.g. PORT=${port + 1} npm start`, { cause: err });
    }
    if (code === 'EACCES') {
      throw new LocalAppError('port-in-use', `Not allowed to listen on ${host}:${port}. Choose a port above 1023, e.g. PORT=3000 npm start`, { cause: err });
    }
    throw new LocalAppError('config', `Cannot listen on ${host}:${port}: ${(err as Error).message}`, { cause: err });
  }
  const address = server.address() as AddressInfo;
  const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  baseUrl = `http://${urlHost}:${address.port}`;
  allowedOrigin ||= baseUrl;
  const apiBaseUrl = `${baseUrl}${stagePrefix}`;
  const routeUrls = Object.fromEntries(ROUTES.map((r) => [r.id, `${apiBaseUrl}${r.path}`])) as Record<RouteId, string>;
  // Tells `npm run sign` which URLs this app checks signatures for, and with whose Auth Token.
  await local.announce?.({
    url: baseUrl,
    ...(config.publicBaseUrl ? { publicBaseUrl: config.publicBaseUrl } : {}),
    credentials: resolved.source,
    authTokenFingerprint: authTokenFingerprint(resolved.credentials.authToken),
  }).catch(() => undefined);

  let closing: Promise<void> | undefined;
  return {
    url: baseUrl,
    apiBaseUrl,
    registry: local.registry,
    registryEndpoint: local.endpoint,
    credentialsSource: resolved.source,
    routeUrls,
    close: () =>
      (closing ??= (async () => {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeIdleConnections();
          // Requests still running get a moment to finish, then their connections are cut.
          setTimeout(() => server.closeAllConnections(), 3000).unref();
        });
        await local.close();
      })()),
  };
}
