/**
 * POST /twilio/retrieve_capability_token — `{twilioPhoneNumber, deviceSecret[, clientName][, purpose]}` in, an
 * Access Token out. The number is the device's line; the secret says which of the line's devices signs in (each
 * has its own). `clientName`, the identity the page last signed in as, is only a hint of which hash to check
 * first: the right secret of another device of the line still signs that device in.
 * `purpose: "preflight"` ("Test my setup"), after the same checks, asks for a token of PREFLIGHT_TOKEN_TTL_SECONDS
 * that reaches only the preflight TwiML App and takes no calls; the answer then says `"purpose":"preflight"`
 * (503 when no preflight app is configured). Each sign-in is counted (SignIn by Result).
 * Failures are thrown as `[status] {"success":false,"capabilityToken":null,"error":"…"}` (core/http-error).
 */
import { createVoiceAccessToken, PREFLIGHT_TOKEN_TTL_SECONDS, preflightGrant } from '../core/access-token';
import { generateDeviceSecret, hashDeviceSecret, verifyDeviceSecret, type ScryptParams } from '../core/device-secret';
import { describeError } from '../core/errors';
import { tokenError } from '../core/http-error';
import { blockedUntil, DEFAULT_LOCKOUT_POLICY, lineWidePolicy, type LockoutPolicy } from '../core/lockout';
import { isValidClientName } from '../core/phone-rules';
import { normalizePhoneNumber } from '../core/phone';
import { DEVICE_SECRET_LENGTH, deviceSecretLength } from '../core/settings';
import { isDependencyFault, type AttemptRecord, type Log } from '../ports';
import { countDependencyFailure } from './dependency-failure';
import { type Handler, type HandlerDeps, requireDeps, type TokenSuccess } from './deps';

/**
 * What an unknown number's secret is verified against, so the 403 path costs one scrypt verify like a known
 * number's: the hash of a random secret nobody kept, at the production cost. Precomputed, so that the first
 * unknown number in a container is not slower (a hash *and* a verify) and thereby recognisable.
 */
export const DUMMY_SECRET_HASH = 'scrypt$32768$8$1$myhdnwEXU7i6ugiDapPlUg$yL3mB4dXYCEdmKty1aAtj2wtIMgVpR1rew4fqK-mO5E';
export const FORBIDDEN_MESSAGE = 'Unknown phone number or wrong device secret.';
export const UNAVAILABLE_MESSAGE = 'The service is temporarily unavailable. Please try again in a moment.';
export const PREFLIGHT_NOT_CONFIGURED_MESSAGE = 'Test my setup is not configured: run npm run twilio:setup.';

/** What a token is for: the softphone's calls (the default), or the Voice SDK's preflight test ("Test my setup"). */
export const TOKEN_PURPOSES = ['call', 'preflight'] as const;
export type TokenPurpose = (typeof TOKEN_PURPOSES)[number];

export interface TokenHandlerOptions {
  lockout?: LockoutPolicy;
  /** Cost of the dummy hash verified for unknown numbers (equalises timing); default: the production cost. */
  dummyScryptParams?: ScryptParams;
}

interface TokenRequest {
  twilioPhoneNumber: string;
  deviceSecret: string;
  clientName?: string;
  purpose: TokenPurpose;
}

export function createTokenHandler(deps: HandlerDeps, opts: TokenHandlerOptions = {}): Handler<TokenSuccess> {
  const { config } = deps;
  const { lines, attempts, credentials } = requireDeps(deps, 'token', ['lines', 'attempts', 'credentials']);
  const now = deps.clock ?? (() => new Date());
  const policy = opts.lockout ?? DEFAULT_LOCKOUT_POLICY;
  // Tests choose a cheap cost; then the dummy hash is made at that cost.
  const dummyHash: Promise<string> = opts.dummyScryptParams
    ? hashDeviceSecret(generateDeviceSecret(), opts.dummyScryptParams)
    : Promise.resolve(DUMMY_SECRET_HASH);
  const dummyVerify = async (secret: string): Promise<void> => {
    await verifyDeviceSecret(secret, await dummyHash);
  };

  const linePolicy = lineWidePolicy(policy);

  /** Throws 429 while the failures keep the number in a back-off or lockout window. */
  const refuseWhileBlocked = (
    log: Log,
    phoneNumber: string,
    record: AttemptRecord | undefined,
    nowSeconds: number,
    bucketPolicy: LockoutPolicy,
  ): void => {
    const until = blockedUntil(record, nowSeconds, bucketPolicy);
    if (until === undefined) return;
    const retryAfterSeconds = until - nowSeconds;
    log.warn('token refused: too many failed attempts', { phoneNumber, failures: record?.failures, retryAfterSeconds });
    throw tokenError(
      429,
      `Too many failed attempts for this number. Try again after ${new Date(until * 1000).toISOString()} (in ${retryAfterSeconds} seconds).`,
      { retryAfterSeconds },
    );
  };

  return async (event, { log, metrics }) => {
    let request: TokenRequest;
    let phoneNumber: string;
    try {
      request = parseRequest(event);
      try {
        phoneNumber = normalizePhoneNumber(request.twilioPhoneNumber);
      } catch {
        throw tokenError(400, 'twilioPhoneNumber is not a phone number; use international format, e.g. +81-50-3123-4567.');
      }
    } catch (err) {
      metrics.count('signIn', 'invalid');
      throw err;
    }

    try {
      const nowSeconds = Math.floor(now().getTime() / 1000);
      // Failures count twice: per device named by the page's hint (any well-formed name, whether or not the line
      // has it, so the answers tell nothing about the line), with the usual policy, so one person's typos do not
      // lock the team out; and per number with a policy (MAX_LINE_MEMBERS + 1) times as patient, which bounds
      // what made-up names can buy an attacker.
      const hint = request.clientName !== undefined && isValidClientName(request.clientName) ? request.clientName : '';
      const deviceKey = `${phoneNumber}#${hint}`;
      // Each failure is counted *before* the secret is checked, atomically, so parallel guesses cannot all slip
      // past the check: an attempt whose count jumped past what it read raced with others and is judged as if
      // those had failed first.
      // Both counts are checked before either is counted, so an attempt refused (429) counts nowhere.
      const buckets = [
        { key: phoneNumber, policy: linePolicy },
        { key: deviceKey, policy },
      ];
      const previous = await Promise.all(buckets.map((b) => attempts.getAttempts(b.key, nowSeconds)));
      try {
        for (const [i, b] of buckets.entries()) refuseWhileBlocked(log, phoneNumber, previous[i], nowSeconds, b.policy);
        const reserved = await Promise.all(buckets.map((b) => attempts.recordFailure(b.key, nowSeconds, b.policy.rememberSeconds)));
        for (const [i, b] of buckets.entries()) {
          if (reserved[i].failures > (previous[i]?.failures ?? 0) + 1) {
            refuseWhileBlocked(
              log,
              phoneNumber,
              { ...reserved[i], failures: reserved[i].failures - 1, lastFailureAt: nowSeconds },
              nowSeconds,
              b.policy,
            );
          }
        }
      } catch (err) {
        if (!isDependencyFault(err)) metrics.count('signIn', 'locked-out');
        throw err;
      }

      // The hinted device first; then the others in ring order. A wrong secret costs one check per device.
      const candidates = await lines.findForSignIn(phoneNumber);
      candidates.sort((a, b) => Number(b.clientName === hint) - Number(a.clientName === hint));
      let device: (typeof candidates)[number] | undefined;
      for (const candidate of candidates) {
        if (await verifyDeviceSecret(request.deviceSecret, candidate.secretHash)) {
          device = candidate;
          break;
        }
      }
      if (candidates.length === 0) await dummyVerify(request.deviceSecret);

      if (!device) {
        log.warn('token refused: unknown number or wrong secret', { phoneNumber });
        metrics.count('signIn', 'refused');
        throw tokenError(403, FORBIDDEN_MESSAGE);
      }
      // The device's own failures are forgiven; of the line's, only this attempt's (an attacker's progress is not
      // reset by a teammate signing in).
      await Promise.all([attempts.clearAttempts(deviceKey), attempts.forgiveFailure(phoneNumber)]);

      const creds = await credentials();
      metrics.count('signIn', 'ok');
      if (request.purpose === 'preflight') {
        const grant = preflightGrant(creds);
        if (!grant) {
          log.warn('preflight token refused: no preflight TwiML App in the credentials (preflightTwimlAppSid)', { identity: device.clientName });
          throw tokenError(503, PREFLIGHT_NOT_CONFIGURED_MESSAGE);
        }
        const { token, expiresAt } = createVoiceAccessToken(creds, device.clientName, PREFLIGHT_TOKEN_TTL_SECONDS, now(), grant);
        log.info('preflight token issued', { phoneNumber, identity: device.clientName, expiresAt: expiresAt.toISOString() });
        const expires = expiresAt.toISOString();
        return { success: true, capabilityToken: token, identity: device.clientName, line: phoneNumber, expiresAt: expires, purpose: 'preflight' };
      }
      const { token, expiresAt } = createVoiceAccessToken(creds, device.clientName, config.tokenTtlSeconds);
      log.info('token issued', { phoneNumber, identity: device.clientName, expiresAt: expiresAt.toISOString() });
      return { success: true, capabilityToken: token, identity: device.clientName, line: phoneNumber, expiresAt: expiresAt.toISOString() };
    } catch (err) {
      if (isDependencyFault(err)) {
        log.error('dependency failure', { error: describeError(err) });
        countDependencyFailure(metrics, err);
        throw tokenError(503, UNAVAILABLE_MESSAGE);
      }
      throw err;
    }
  };
}

function parseRequest(event: unknown): TokenRequest {
  if (typeof event !== 'object' || event === null || Array.isArray(event)) {
    throw tokenError(400, 'The request body must be a JSON object with twilioPhoneNumber and deviceSecret.');
  }
  const { twilioPhoneNumber, deviceSecret, clientName, purpose = 'call' } = event as Record<string, unknown>;
  if (typeof twilioPhoneNumber !== 'string' || twilioPhoneNumber.trim() === '') {
    throw tokenError(400, 'twilioPhoneNumber is required and must be a string.');
  }
  if (typeof deviceSecret !== 'string' || deviceSecret === '') {
    throw tokenError(400, 'deviceSecret is required and must be a string.');
  }
  if (deviceSecretLength(deviceSecret) > DEVICE_SECRET_LENGTH.max) {
    throw tokenError(400, `deviceSecret must be at most ${DEVICE_SECRET_LENGTH.max} characters.`);
  }
  if (typeof purpose !== 'string' || !(TOKEN_PURPOSES as readonly string[]).includes(purpose)) {
    throw tokenError(400, `purpose must be one of ${TOKEN_PURPOSES.join(', ')}.`);
  }
  return { twilioPhoneNumber, deviceSecret, purpose: purpose as TokenPurpose, ...(typeof clientName === 'string' ? { clientName } : {}) };
}
