/**
 * Device secrets: generated randomly, stored only as a salted scrypt hash in a self-describing string
 * `scrypt$<N>$<r>$<p>$<salt base64url>$<hash base64url>`, verified in constant time.
 */
import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';

export interface ScryptParams {
  /** CPU/memory cost, a power of two. */
  N: number;
  r: number;
  p: number;
}

/** Production cost: N = 2^15, r = 8, p = 1 (≈ 32 MiB, tens of milliseconds per hash). */
export const DEFAULT_SCRYPT_PARAMS: Readonly<ScryptParams> = { N: 2 ** 15, r: 8, p: 1 };
const KEY_LENGTH = 32;
const SALT_LENGTH = 16;
const PREFIX = 'scrypt';

/**
 * The most a stored hash may ask for, so a corrupted or planted record cannot exhaust the token function
 * (1024 MB, 10 s). Memory is 128·N·r bytes and time grows with N·r·p: at the caps a check takes 64 MiB and
 * four times the production cost (about 0.3 s where the production cost takes 80 ms), an ample margin
 * below both limits. The production cost stays well inside: hashes may be made cheaper or up to 4× dearer.
 */
export const SCRYPT_LIMITS = { maxN: 2 ** 16, maxR: 8, maxP: 2 } as const;

/** scrypt's memory for these parameters (RFC 7914: 128·N·r bytes for V, plus 128·r·p for B). */
export function scryptMemoryBytes({ N, r, p }: ScryptParams): number {
  return 128 * N * r + 128 * r * p;
}

function scrypt(password: string, salt: Buffer, params: ScryptParams): Promise<Buffer> {
  const options: ScryptOptions = { N: params.N, r: params.r, p: params.p, maxmem: scryptMemoryBytes(params) + 1024 * 1024 };
  return new Promise((resolve, reject) => {
    scryptCb(password, salt, KEY_LENGTH, options, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

/** 32 random bytes, base64url (43 characters). */
export function generateDeviceSecret(): string {
  return randomBytes(32).toString('base64url');
}

export async function hashDeviceSecret(secret: string, params: ScryptParams = DEFAULT_SCRYPT_PARAMS): Promise<string> {
  if (typeof secret !== 'string' || secret.length === 0) throw new Error('A device secret must be a non-empty string');
  checkParams(params);
  const salt = randomBytes(SALT_LENGTH);
  const key = await scrypt(secret, salt, params);
  return [PREFIX, params.N, params.r, params.p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

/** True when `secret` matches `hash`; false for a wrong secret or a malformed hash. Constant-time comparison. */
export async function verifyDeviceSecret(secret: string, hash: string): Promise<boolean> {
  const parsed = parseHash(hash);
  if (!parsed || typeof secret !== 'string') return false;
  const key = await scrypt(secret, parsed.salt, parsed.params);
  return key.length === parsed.key.length && timingSafeEqual(key, parsed.key);
}

/** The parameters of a stored hash (e.g. to build a dummy hash of the same cost); undefined when malformed. */
export function hashParams(hash: string): ScryptParams | undefined {
  return parseHash(hash)?.params;
}

function parseHash(hash: string): { params: ScryptParams; salt: Buffer; key: Buffer } | undefined {
  if (typeof hash !== 'string') return undefined;
  const parts = hash.split('$');
  if (parts.length !== 6 || parts[0] !== PREFIX) return undefined;
  const [N, r, p] = parts.slice(1, 4).map((s) => (/^\d{1,8}$/.test(s) ? Number(s) : NaN));
  const params = { N, r, p };
  try {
    checkParams(params);
  } catch {
    return undefined;
  }
  const salt = Buffer.from(parts[4], 'base64url');
  const key = Buffer.from(parts[5], 'base64url');
  if (salt.length < 8 || key.length !== KEY_LENGTH) return undefined;
  return { params, salt, key };
}

function checkParams({ N, r, p }: ScryptParams): void {
  const ok =
    Number.isInteger(N) &&
    N >= 2 &&
    N <= SCRYPT_LIMITS.maxN &&
    (N & (N - 1)) === 0 &&
    Number.isInteger(r) &&
    r >= 1 &&
    r <= SCRYPT_LIMITS.maxR &&
    Number.isInteger(p) &&
    p >= 1 &&
    p <= SCRYPT_LIMITS.maxP;
  if (!ok) throw new Error(`Bad scrypt parameters N=${N} r=${r} p=${p}`);
}
