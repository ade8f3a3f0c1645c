/**
 * The registry's server: dynalite (the DynamoDB protocol on LevelDB, or in memory) on 127.0.0.1, optionally
 * behind a guard that admits only requests signed with one key pair (`registry-server.ts` explains why).
 *
 * `listenDynalite({ thread: true })` runs it on a worker thread of its own (`registry-worker.cjs`): the local app's
 * API and the registry then each have an event loop, so under load they use both cores instead of taking turns on
 * one (docs/performance.md, "Local app"). Clients see the same HTTP endpoint either way.
 */
import { EventEmitter } from 'node:events';
import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { ReadCache } from './read-cache';
import { verifySigV4, type SigV4Failure, type SigV4Key } from './sigv4';

/** The region local registry requests are signed for. */
export const LOCAL_REGION = 'local';

/** The key pair the running registry accepts (made at each start). */
export interface RegistryCredentials {
  accessKeyId: string;
  secretAccessKey: string;
}

/** A dynalite server listening on 127.0.0.1 (any free port), in memory or persisted at `path`. */
export interface DynaliteServer {
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  close(): Promise<void>;
}

export interface DynaliteOptions {
  /** LevelDB directory; in memory without it. */
  path?: string;
  /** Admit only requests signed with this key pair (`guardRequests`). */
  key?: RegistryCredentials;
  /** With `key`: answer repeated reads from a cache that every write drops (`read-cache.ts`). */
  cacheReads?: boolean;
  /** Run on a worker thread of its own. */
  thread?: boolean;
  /** With `thread`: the thread failed after start (its endpoint then refuses connections). */
  onThreadError?: (err: Error) => void;
}

/** Largest request dynalite takes (as DynamoDB); the guard reads no more before refusing. */
const MAX_REQUEST_BYTES = 16 * 1024 * 1024;

/** An error in DynamoDB's JSON protocol (`__type` names the exception the SDK raises). */
function dynamoError(res: ServerResponse, status: number, type: string, message: string): void {
  const body = JSON.stringify({ __type: `com.amazon.coral.service#${type}`, message });
  res.writeHead(status, { 'Content-Type': 'application/x-amz-json-1.0', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

const SIGV4_ERRORS: Record<SigV4Failure['reason'], string> = {
  missing: 'MissingAuthenticationTokenException',
  incomplete: 'IncompleteSignatureException',
  expired: 'InvalidSignatureException',
  scope: 'InvalidSignatureException',
  'unknown-key': 'UnrecognizedClientException',
  mismatch: 'InvalidSignatureException',
};

/**
 * Puts a check in front of dynalite's request handler: a browser's request is refused at once, unread (403, no
 * CORS headers, so no page may read the answer or even its status); any other request must carry a valid
 * SigV4 signature made with `key`. The body read for the check is replayed to dynalite.
 */
function guardRequests(server: Server, key: RegistryCredentials, cache?: ReadCache): void {
  const [dynaliteHandler] = server.listeners('request') as RequestListener[];
  server.removeAllListeners('request');
  const signingKey: SigV4Key = { ...key, region: LOCAL_REGION, service: 'dynamodb' };
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const fromBrowser = req.headers.origin !== undefined || Object.keys(req.headers).some((h) => h.startsWith('sec-fetch-'));
    if (fromBrowser || req.method !== 'POST') {
      req.resume();
      res.writeHead(403, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': '10' });
      res.end('Forbidden\n');
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_REQUEST_BYTES) chunks.push(chunk);
    });
    req.on('end', () => {
      if (size > MAX_REQUEST_BYTES) return dynamoError(res, 413, 'SerializationException', 'Request too large');
      const body = Buffer.concat(chunks);
      verifySigV4(req, body, signingKey).then(
        (failure) => {
          if (failure) return dynamoError(res, 400, SIGV4_ERRORS[failure.reason], failure.message);
          const forward = () => dynaliteHandler(replay(req, body), res);
          if (cache) cache.handle(req.headers, body, res, forward);
          else forward();
        },
        () => dynamoError(res, 500, 'InternalServerError', 'The request could not be checked'),
      );
    });
  });
}

/** The request again, for a handler that reads its body through 'data' and 'end' events. */
function replay(req: IncomingMessage, body: Buffer): IncomingMessage {
  const copy = Object.assign(new EventEmitter(), {
    headers: req.headers,
    rawHeaders: req.rawHeaders,
    method: req.method,
    url: req.url,
    socket: req.socket,
  });
  process.nextTick(() => {
    if (body.length > 0) copy.emit('data', body);
    copy.emit('end');
  });
  return copy as unknown as IncomingMessage;
}

/**
 * Starts dynalite on 127.0.0.1:0 with instant table creation; rejects when it cannot listen. With `key`, only
 * requests signed with it reach dynalite (`guardRequests`); with `thread`, on a worker thread.
 */
export async function listenDynalite(opts: DynaliteOptions = {}): Promise<DynaliteServer> {
  if (opts.thread) return listenDynaliteThread(opts);
  const dynalite = require('dynalite') as (o: object) => Server;
  const server = dynalite({ ...(opts.path ? { path: opts.path } : {}), createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  if (opts.key) guardRequests(server, opts.key, opts.cacheReads ? new ReadCache() : undefined);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => {
      // Idle keep-alive sockets would hold server.close() open; dynalite then closes LevelDB (releasing the lock).
      (server as Server & { closeAllConnections?: () => void }).closeAllConnections?.();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Messages of registry-worker.cjs. */
type ThreadMessage = { endpoint: string } | { error: string } | 'closed';

function listenDynaliteThread(opts: DynaliteOptions): Promise<DynaliteServer> {
  const worker = new Worker(path.join(__dirname, 'registry-worker.cjs'), {
    workerData: { path: opts.path, key: opts.key, cacheReads: opts.cacheReads },
    // Not the process's flags (tsx's loader hooks would start again in the thread, for seconds): it registers tsx itself.
    execArgv: [],
  });
  let exited = false;
  worker.once('exit', () => {
    exited = true;
  });
  return new Promise((resolve, reject) => {
    const failedToStart = (err: Error) => reject(err);
    const exitedEarly = (code: number) => reject(new Error(`the registry thread exited (${code}) before listening`));
    worker.once('error', failedToStart);
    worker.once('exit', exitedEarly);
    worker.once('message', (m: ThreadMessage) => {
      worker.off('error', failedToStart);
      worker.off('exit', exitedEarly);
      if (typeof m !== 'object' || !('endpoint' in m)) {
        void worker.terminate();
        return reject(new Error(typeof m === 'object' && 'error' in m ? m.error : 'the registry thread did not start'));
      }
      worker.on('error', (err) => opts.onThreadError?.(err));
      let closed: Promise<void> | undefined;
      resolve({
        endpoint: m.endpoint,
        close: () =>
          (closed ??= exited
            ? Promise.resolve()
            : new Promise<void>((done) => {
                // The thread closes dynalite (and LevelDB, releasing its lock), says so, and is ended.
                worker.once('exit', () => done());
                worker.on('message', (reply: ThreadMessage) => reply === 'closed' && void worker.terminate());
                worker.postMessage('close');
              })),
      });
    });
  });
}
