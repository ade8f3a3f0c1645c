/**
 * The local app (`npm start`): one node:http server on 127.0.0.1 that serves the softphone at `/`
 * (`static-site.ts`, with a `config.json` pointing at this API) and plays API Gateway under `/prod/twilio/…`
 * (`api-gateway.ts`: the deployed routes, templates, selection patterns and the page authorizer) in front of
 * the SAME handlers (the table `lambda/handlers`), with lines, devices and voicemails in an embedded dynalite
 * (`registry-server.ts`) reached through the handlers' own DynamoDB adapters, and voicemail recordings as files
 * served through signed, expiring URLs (`recordings.ts`). This module only wires them and runs the server.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { voicemailNotice } from '../../lambda/adapters/sns-notifier';
import { HttpTwilioRecordings } from '../../lambda/adapters/twilio-recordings';
import { staticCredentials } from '../../lambda/core/credentials';
import { loadConfig, parseEdges, type AppConfig } from '../../lambda/core/settings';
import type { HandlerDeps } from '../../lambda/handlers/deps';
import { buildHandlers, HANDLER_TABLE } from '../../lambda/handlers/table';
import type { CallLog, LineDirectory, Notifier, TwilioCredentials, VoicemailStore } from '../../lambda/ports';
import { DynamoCallLog } from '../../lambda/adapters/dynamo-call-log';
import { type MetricRecord, RecordingMetrics } from '../../lambda/adapters/recording-metrics';
import { twilioApiBaseUrl } from '../config/twilio-api';
import { gatewayErrorResponse, type HttpResponse } from '../api/gateway';
import { ROUTES, STAGE_NAME, type RouteId } from '../api/routes';
import { createLocalGateway, isApiPath, PayloadTooLargeError } from './api-gateway';
import { LocalRecordingStore, RECORDINGS_PATH } from './recordings';
import { createTemplateRenderer } from './template-renderer';
import { threadPoolSize } from './thread-pool';
import { authTokenFingerprint, resolveLocalCredentials, type CredentialsSource } from './credentials';
import { jsonLineLog, logLevelFrom } from './log';
import {
  LOCAL_CALLS_TABLE,
  LOCAL_REGION,
  RegistryInUseError,
  RegistryUnavailableError,
  startEmbeddedRegistry,
  type LocalRegistry,
  type RegistryCredentials,
} from './registry-server';
import { securityHeaders } from '../site/security-headers';
import { siteEdge } from '../site/config-json';
import { TWILIO_EDGES } from '../../client/src/config';
import { send, staticSite } from './static-site';

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
  /** One line per request, start-up notices and the handlers' JSON log lines; default console.log. */
  log?: (line: string) => void;
}

export interface LocalApp {
  /** http://127.0.0.1:<port> */
  url: string;
  /** url + '/prod' */
  apiBaseUrl: string;
  lines: LineDirectory;
  voicemails: VoicemailStore;
  /** The call log the handlers write. */
  calls: CallLog;
  /** How to reach the embedded registry (dynalite on 127.0.0.1, requests signed with its key pair): for tools and tests. */
  registry: { endpoint: string; credentials: RegistryCredentials; region: string };
  /** Where the credentials came from ('development' = throwaway, Twilio refuses them). */
  credentialsSource: CredentialsSource;
  /** The full URL of each API route. */
  routeUrls: Record<RouteId, string>;
  /**
   * What the handlers counted (lambda/core/metrics.ts), summed per metric and dimension value since start
   * (`metrics.totals()`); each datum is also a DEBUG log line `metric` (POWERTOOLS_LOG_LEVEL=DEBUG).
   */
  metrics: RecordingMetrics;
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

/** API Gateway's payload limit. */
export const MAX_BODY_BYTES = 10 * 1024 * 1024;

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new PayloadTooLargeError());
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

/**
 * The Host header values this app answers to: its loopback names and the address it is bound to on its port
 * (every interface's address when bound to all of them, e.g. HOST=0.0.0.0 for a phone on the LAN), and the host
 * of PUBLIC_BASE_URL (a tunnel) when set. Anything else is refused, so a DNS-rebinding page cannot reach it
 * under its own name.
 */
export function appHostNames(port: number, publicBaseUrl?: string, boundAddress?: string): Set<string> {
  const hosts = new Set([`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]);
  const withPort = (address: string) => (address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`).toLowerCase();
  if (boundAddress === '0.0.0.0' || boundAddress === '::') {
    for (const addresses of Object.values(os.networkInterfaces())) {
      for (const { address } of addresses ?? []) hosts.add(withPort(address.replace(/%.*$/, '')));
    }
    hosts.add(`${os.hostname().toLowerCase()}:${port}`);
  } else if (boundAddress) {
    hosts.add(withPort(boundAddress));
  }
  if (publicBaseUrl) hosts.add(new URL(publicBaseUrl).host.toLowerCase());
  return hosts;
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
  // config.json's edge (TWILIO_EDGE), as the stack's twilioEdge context writes it
  let edge: string[] | undefined;
  try {
    config = { ...loadConfig(env), webhookScheme: 'http' };
    edge = parseEdges(env.TWILIO_EDGE, 'TWILIO_EDGE', TWILIO_EDGES);
  } catch (err) {
    throw new LocalAppError('config', `Bad configuration: ${(err as Error).message}`, { cause: err });
  }
  let resolved: Awaited<ReturnType<typeof resolveLocalCredentials>>;
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

  let local: LocalRegistry;
  try {
    local = await startEmbeddedRegistry(registryPath, {
      owner: 'local app (npm start)',
      thread: true,
      onThreadError: (err) => log(`The registry stopped: ${err.stack ?? err.message}`),
    });
  } catch (err) {
    if (err instanceof RegistryInUseError || err instanceof RegistryUnavailableError) {
      throw new LocalAppError('registry', err.message, { cause: err });
    }
    throw new LocalAppError('registry', `The registry at ${registryPath} could not be started: ${(err as Error).message}`, { cause: err });
  }

  if (local.upgraded) {
    const { copied, alreadyThere, skipped } = local.upgraded;
    log(`Registry upgraded to lines: ${copied} device(s) copied, ${alreadyThere} already there, ${skipped.length} skipped.`);
    for (const s of skipped) log(`  not copied: ${s.clientName} (${s.phoneNumber}): ${s.reason}`);
  }

  let baseUrl = '';
  let twilioBase: string | undefined;
  try {
    twilioBase = twilioApiBaseUrl(env);
  } catch (err) {
    await local.close();
    throw new LocalAppError('config', (err as Error).message, { cause: err });
  }
  const credentials = staticCredentials(resolved.credentials);
  // Playback URLs name the app where a browser reaches it: through PUBLIC_BASE_URL (a tunnel) when set.
  const recordingsBase = () => (config.publicBaseUrl ? new URL(config.publicBaseUrl).origin : baseUrl);
  const recordings = new LocalRecordingStore(path.join(registryPath, 'recordings'), recordingsBase);
  // New voicemails are announced in the log (the deployed stack e-mails them through SNS); the page polls.
  const notifier: Notifier = {
    newVoicemail: async (voicemail) => {
      log(voicemailNotice(voicemail, baseUrl).message.replace(/\n/g, ' '));
      return true;
    },
  };
  const deps: HandlerDeps = {
    lines: local.lines,
    attempts: local.attempts,
    voicemails: local.voicemails,
    calls: new DynamoCallLog({ client: local.client, table: LOCAL_CALLS_TABLE, retentionDays: config.callLogRetentionDays }),
    recordings,
    twilioRecordings: new HttpTwilioRecordings(credentials, twilioBase ? { baseUrl: twilioBase } : {}),
    notifier,
    credentials,
    config,
  };
  const handlers = buildHandlers(
    deps,
    ROUTES.map((r) => r.id),
  );
  const logLevel = logLevelFrom(env.POWERTOOLS_LOG_LEVEL, 'WARN');
  const handlerLog = jsonLineLog(log, {
    level: logLevel,
    service: env.POWERTOOLS_SERVICE_NAME ?? 'twilio-softphone-local',
  });
  // The metrics are summed (no CloudWatch here); at DEBUG each datum is a log line, as EMF would carry it.
  const metricsLog = handlerLog.with({ route: 'metrics' });
  const metrics = new RecordingMetrics({
    keep: false,
    ...(logLevel === 'DEBUG'
      ? { onRecord: (r: MetricRecord) => metricsLog.debug('metric', { metric: r.name, unit: r.unit, value: r.value, dimensions: r.dimensions }) }
      : {}),
  });
  const renderer = createTemplateRenderer();
  const handleApiRequest = createLocalGateway({
    handlers,
    authorizers: { page: HANDLER_TABLE.pageAuthorizer(deps) },
    allowedOrigin: () => allowedOrigin,
    log: handlerLog,
    metrics,
    renderer,
    // A sign-in's scrypt runs in libuv's thread pool, which the registry's LevelDB needs too: fewer sign-ins at
    // once than its threads keep one free for the registry (else every registry call, a webhook's too, waits
    // behind the queued hashes), and still keep both cores hashing.
    maxConcurrency: { token: Math.max(1, threadPoolSize() - 1) },
  });
  // Completed once listening: the page may be reached at any of the app's names and play recordings from another.
  const siteHeaders: Record<string, string> = {};
  const stagePrefix = `/${STAGE_NAME}`;
  const site = await staticSite({
    root: clientDir,
    // The deployed site's headers (CSP, no framing, …); the API and the recordings are this origin: 'self'.
    headers: siteHeaders,
    // config.json names the API at the address the page was reached at (127.0.0.1 or localhost alike).
    config: (req) => {
      const hostHeader = req.headers.host;
      if (config.publicBaseUrl && hostHeader?.toLowerCase() === new URL(config.publicBaseUrl).host.toLowerCase())
        return { apiBaseUrl: config.publicBaseUrl, ...siteEdge(edge) };
      return { apiBaseUrl: `${hostHeader ? `http://${hostHeader}` : baseUrl}${stagePrefix}`, ...siteEdge(edge) };
    },
  });

  function api(req: IncomingMessage, pathname: string, search: URLSearchParams, requestId: string): Promise<HttpResponse> {
    return handleApiRequest({
      method: req.method ?? 'GET',
      path: pathname,
      query: Object.fromEntries(search),
      headers: rawHeaders(req),
      readBody: () => readBody(req),
      sourceIp: (req.socket.remoteAddress ?? '').replace(/^::ffff:/, ''),
      requestId,
      callerGone: () => req.socket.destroyed,
    });
  }

  // Only this app's own host names are served (DNS rebinding: a hostile name pointed at 127.0.0.1 must not
  // reach the API or get a config.json naming itself); known once listening.
  let allowedHosts = new Set<string>();
  // Requests being answered: close() lets them finish before the registry closes (a client that hung up
  // leaves its request running here).
  const inFlight = new Set<Promise<void>>();
  const server: Server = createServer((req, res) => {
    const started = process.hrtime.bigint();
    const requestId = randomUUID();
    if (!allowedHosts.has((req.headers.host ?? '').toLowerCase())) {
      send(res, {
        statusCode: 421,
        headers: { 'Content-Type': 'text/plain; charset=utf-8' },
        body: 'Misdirected Request: this server answers only to its own host names.\n',
      });
      log(`${new Date().toISOString()} ${req.method} ${req.url} 421 Host ${JSON.stringify(req.headers.host ?? '')} refused`);
      return;
    }
    let pathname = '/';
    let search = new URLSearchParams();
    try {
      const url = new URL(req.url ?? '/', 'http://local.invalid');
      pathname = url.pathname;
      search = url.searchParams;
    } catch {
      // keep '/'
    }
    const isApi = isApiPath(pathname);
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
      : pathname.startsWith(RECORDINGS_PATH) && (req.method === 'GET' || req.method === 'HEAD')
        ? recordings.serve(res, pathname, search, siteHeaders, req.method === 'HEAD')
        : site(req, res, pathname);
    const settled = work.then(finish, (err: unknown) => {
      log(`${requestId} internal error: ${(err as Error)?.stack ?? String(err)}`);
      if (!res.headersSent)
        send(
          res,
          isApi
            ? gatewayErrorResponse('DEFAULT_5XX', allowedOrigin, 500)
            : { statusCode: 500, headers: { 'Content-Type': 'text/plain' }, body: 'Internal Server Error\n' },
        );
      else res.destroy();
      finish(500);
    });
    inFlight.add(settled);
    void settled.finally(() => inFlight.delete(settled));
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
    await renderer.close();
    await local.close();
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') {
      throw new LocalAppError(
        'port-in-use',
        `Port ${port} on ${host} is already in use (is another npm start running?). Stop it or choose another port, e.g. PORT=${port + 1} npm start`,
        { cause: err },
      );
    }
    if (code === 'EACCES') {
      throw new LocalAppError('port-in-use', `Not allowed to listen on ${host}:${port}. Choose a port above 1023, e.g. PORT=3000 npm start`, {
        cause: err,
      });
    }
    throw new LocalAppError('config', `Cannot listen on ${host}:${port}: ${(err as Error).message}`, { cause: err });
  }
  const address = server.address() as AddressInfo;
  const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  baseUrl = `http://${urlHost}:${address.port}`;
  allowedOrigin ||= baseUrl;
  allowedHosts = appHostNames(address.port, config.publicBaseUrl, address.address);
  Object.assign(
    siteHeaders,
    // (CSP host sources cannot name an IPv6 literal: [::1] is left out, and plays only through the others.)
    securityHeaders([], {
      https: false,
      mediaOrigins: [...new Set([recordingsBase(), ...[...allowedHosts].filter((h) => !h.startsWith('[')).map((h) => `http://${h}`)])],
    }),
  );
  const apiBaseUrl = `${baseUrl}${stagePrefix}`;
  const routeUrls = Object.fromEntries(ROUTES.map((r) => [r.id, `${apiBaseUrl}${r.path}`])) as Record<RouteId, string>;
  // Tells `npm run sign` which URLs this app checks signatures for, and with whose Auth Token.
  await local
    .announce?.({
      url: baseUrl,
      ...(config.publicBaseUrl ? { publicBaseUrl: config.publicBaseUrl } : {}),
      credentials: resolved.source,
      authTokenFingerprint: authTokenFingerprint(resolved.credentials.authToken),
    })
    .catch(() => undefined);

  let closing: Promise<void> | undefined;
  return {
    url: baseUrl,
    apiBaseUrl,
    lines: local.lines,
    voicemails: local.voicemails,
    calls: deps.calls as CallLog,
    registry: { endpoint: local.endpoint, credentials: local.credentials, region: LOCAL_REGION },
    credentialsSource: resolved.source,
    routeUrls,
    metrics,
    close: () =>
      (closing ??= (async () => {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeIdleConnections();
          // Requests still running get a moment to finish, then their connections are cut.
          setTimeout(() => server.closeAllConnections(), 3000).unref();
        });
        await Promise.race([Promise.allSettled(inFlight), new Promise((resolve) => setTimeout(resolve, 3000).unref())]);
        await renderer.close();
        await local.close();
      })()),
  };
}
