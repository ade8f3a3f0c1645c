/**
 * AWS Signature Version 4 verification for servers of ours that speak an AWS protocol on 127.0.0.1: the local
 * registry (lib/local/registry-server.ts) and the test stand-ins. The signature is recomputed with
 * `@smithy/signature-v4` (the signer the AWS SDK itself uses) over exactly the headers the client signed, with
 * the one key pair the server accepts, and compared in constant time.
 * Header format: `AWS4-HMAC-SHA256 Credential=<AKID>/<yyyymmdd>/<region>/<service>/aws4_request,
 * SignedHeaders=…, Signature=…` (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-authentication-methods.html).
 */
import { createHash, createHmac, timingSafeEqual, type Hash, type Hmac } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { SignatureV4 } from '@smithy/signature-v4';

export interface SigV4Key {
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
  service: string;
}

/** Why a request is refused, in the order AWS checks (dynalite's recordings of DynamoDB follow it too). */
export type SigV4Failure =
  | { reason: 'missing'; message: string }
  | { reason: 'incomplete'; message: string }
  | { reason: 'expired'; message: string }
  | { reason: 'scope'; message: string }
  | { reason: 'unknown-key'; message: string }
  | { reason: 'mismatch'; message: string };

/**
 * The signature-mismatch message AWS services send ("The request signature we calculated does not match the
 * signature you provided", https://docs.aws.amazon.com/general/latest/gr/signature-v4-troubleshooting.html;
 * the full sentence as dynalite recorded it from DynamoDB, without the canonical-request dump that follows it).
 */
export const SIGNATURE_MISMATCH =
  'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.';

/** A `HashConstructor` for `@smithy/signature-v4` on node:crypto: SHA-256, or HMAC-SHA256 when given a secret. */
class NodeSha256 {
  private readonly hash: Hash | Hmac;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', toBuffer(secret));
  }
  update(data: string | ArrayBuffer | ArrayBufferView, encoding?: 'utf8' | 'ascii' | 'latin1'): void {
    if (typeof data === 'string') this.hash.update(data, encoding ?? 'utf8');
    else this.hash.update(toBuffer(data));
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.hash.digest()));
  }
}

function toBuffer(data: string | ArrayBuffer | ArrayBufferView): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}

/** `20240102T030405Z` (SigV4 "basic format") → Date; undefined when malformed. */
export function parseAmzDate(value: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!m) return undefined;
  const date = new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]));
  return Number.isNaN(date.getTime()) ? undefined : date;
}

export function amzDate(date: Date): string {
  return date
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

/** Checks a request's SigV4 signature against `key`; undefined when it is good, else why not. */
export async function verifySigV4(
  req: { method?: string; url?: string; headers: IncomingHttpHeaders },
  body: Buffer,
  key: SigV4Key,
  now: Date = new Date(),
): Promise<SigV4Failure | undefined> {
  const header = req.headers.authorization?.trim();
  if (!header?.startsWith('AWS4-')) return { reason: 'missing', message: 'Request is missing Authentication Token' };
  const space = header.indexOf(' ');
  const algorithm = space < 0 ? header : header.slice(0, space);
  const fields: Record<string, string> = {};
  for (const part of (space < 0 ? '' : header.slice(space + 1)).split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) fields[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  let msg = '';
  for (const param of ['Credential', 'Signature', 'SignedHeaders']) if (!fields[param]) msg += `Authorization header requires '${param}' parameter. `;
  const dateHeader = req.headers['x-amz-date'];
  if (typeof dateHeader !== 'string') msg += "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. ";
  if (msg) return { reason: 'incomplete', message: `${msg}Authorization=${header}` };
  const requestDate = parseAmzDate(dateHeader as string);
  if (!requestDate)
    return {
      reason: 'incomplete',
      message: `Date must be in ISO-8601 'basic format'. Got '${dateHeader}'. See http://en.wikipedia.org/wiki/ISO_8601`,
    };
  const skew = 15 * 60_000;
  if (requestDate.getTime() < now.getTime() - skew) {
    return {
      reason: 'expired',
      message: `Signature expired: ${dateHeader} is now earlier than ${amzDate(new Date(now.getTime() - skew))} (${amzDate(now)} - 15 min.)`,
    };
  }
  if (requestDate.getTime() > now.getTime() + skew) {
    return {
      reason: 'expired',
      message: `Signature not yet current: ${dateHeader} is still later than ${amzDate(new Date(now.getTime() + skew))} (${amzDate(now)} + 15 min.)`,
    };
  }
  const signedHeaders = fields.SignedHeaders.split(';')
    .map((h) => h.trim().toLowerCase())
    .filter(Boolean);
  if (!signedHeaders.includes('host')) return { reason: 'mismatch', message: "'Host' must be a 'SignedHeader' in the AWS Authorization." };
  if (algorithm !== 'AWS4-HMAC-SHA256')
    return { reason: 'incomplete', message: `Unsupported AWS 'algorithm': '${algorithm}' (only AWS4-HMAC-SHA256 for now). ` };
  const scope = fields.Credential.replace(/\/+$/, '').split('/');
  if (scope.length !== 5) {
    return {
      reason: 'incomplete',
      message: `Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '${fields.Credential}'`,
    };
  }
  const [keyId, scopeDate, scopeRegion, scopeService, terminator] = scope;
  msg = '';
  if (scopeRegion !== key.region) msg += `Credential should be scoped to a valid region, not '${scopeRegion}'. `;
  if (scopeService !== key.service) msg += `Credential should be scoped to correct service: '${key.service}'. `;
  if (terminator !== 'aws4_request') msg += `Credential should be scoped with a valid terminator: 'aws4_request', not '${terminator}'. `;
  const httpDate = (dateHeader as string).slice(0, 8);
  if (scopeDate !== httpDate) {
    msg += `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${scopeDate}' != '${httpDate}', from '${dateHeader}'.`;
  }
  if (msg) return { reason: 'scope', message: msg.trim() };
  if (keyId !== key.accessKeyId) return { reason: 'unknown-key', message: 'The security token included in the request is invalid.' };

  const headers: Record<string, string> = {};
  for (const name of signedHeaders) {
    const value = req.headers[name];
    if (value === undefined) return { reason: 'mismatch', message: SIGNATURE_MISMATCH };
    headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  const url = new URL(req.url ?? '/', 'http://local.invalid');
  const query: Record<string, string | string[]> = {};
  for (const [k, v] of url.searchParams) {
    const prev = query[k];
    query[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  const signer = new SignatureV4({
    service: key.service,
    region: key.region,
    credentials: { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey },
    sha256: NodeSha256,
    applyChecksum: false, // re-sign exactly the headers the client signed, adding none
  });
  const signed = await signer.sign(
    {
      method: req.method ?? 'POST',
      protocol: 'http:',
      hostname: String(req.headers.host ?? '').replace(/:\d+$/, ''),
      path: url.pathname,
      query,
      headers,
      body,
    },
    { signingDate: requestDate, signingRegion: key.region, signingService: key.service, signableHeaders: new Set(signedHeaders) },
  );
  const expected = /Signature=([0-9a-f]+)/.exec(String(signed.headers.authorization ?? signed.headers.Authorization))?.[1] ?? '';
  const given = fields.Signature;
  const ok = expected.length === given.length && timingSafeEqual(Buffer.from(expected), Buffer.from(given));
  return ok ? undefined : { reason: 'mismatch', message: SIGNATURE_MISMATCH };
}

/**
 * Signs a request with `key` (for a proxy that forwards to a server of ours, e.g. a test stand-in in front of
 * the local registry); returns the headers to send, the signature's included.
 */
export async function signRequest(
  req: { method: string; host: string; path: string; headers: Record<string, string>; body: Buffer },
  key: SigV4Key,
): Promise<Record<string, string>> {
  const signer = new SignatureV4({
    service: key.service,
    region: key.region,
    credentials: { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey },
    sha256: NodeSha256,
    applyChecksum: false,
  });
  const signed = await signer.sign({
    method: req.method,
    protocol: 'http:',
    hostname: req.host.replace(/:\d+$/, ''),
    path: req.path,
    headers: { ...req.headers, host: req.host },
    body: req.body,
  });
  return Object.fromEntries(Object.entries(signed.headers).map(([k, v]) => [k, String(v)]));
}
