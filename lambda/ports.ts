/**
 * The ports: what the handlers and the pure rules (`lambda/core/`) need from the world, as interfaces. The AWS
 * adapters (`lambda/adapters/`) implement them in Lambda; the local app and the tests pass the same adapters
 * over dynalite, or their own sinks (a log, a clock). Nothing here imports an SDK.
 */

/** One registered softphone: a Twilio number, its Client identity and its device secret's hash. */
export interface DeviceRecord {
  /** E.164; the devices table's partition key */
  phoneNumber: string;
  /** the Twilio Client identity; unique across devices */
  clientName: string;
  /** from hashDeviceSecret(); never the secret itself */
  secretHash: string;
  label?: string;
  /** ISO-8601 */
  createdAt: string;
}

/** A device as everything but sign-in sees it: without its secret hash. */
export type Device = Omit<DeviceRecord, 'secretHash'>;

/**
 * The registered devices (the devices table). Only sign-in reads a secret hash (`findForSignIn`); every other
 * read leaves it in the table. Failures of the store throw RegistryError.
 */
export interface DeviceDirectory {
  findByNumber(phoneNumber: string): Promise<Device | undefined>;
  findByClientName(clientName: string): Promise<Device | undefined>;
  /** The device with its secret hash, for the token handler's check. */
  findForSignIn(phoneNumber: string): Promise<DeviceRecord | undefined>;
  /**
   * Creates or replaces a device. Client names are unique atomically: of two concurrent puts of one client
   * name for different numbers, one throws DuplicateClientNameError.
   */
  put(record: DeviceRecord): Promise<void>;
  /** True when there was a device to remove. */
  remove(phoneNumber: string): Promise<boolean>;
  /** Every device, sorted by number. */
  list(): Promise<Device[]>;
}

/** Failed sign-in attempts for one number (the state of the brute-force lockout). */
export interface AttemptRecord {
  failures: number;
  /** epoch seconds of the last failure */
  lastFailureAt: number;
  /** epoch seconds after which the record is forgotten (DynamoDB TTL; also checked on read) */
  expiresAt: number;
}

/** The sign-in attempts of the lockout (the attempts table). Failures of the store throw RegistryError. */
export interface AttemptStore {
  getAttempts(key: string, nowSeconds: number): Promise<AttemptRecord | undefined>;
  /** Atomically counts one failure; a record past its expiry starts again at 1. */
  recordFailure(key: string, nowSeconds: number, rememberSeconds: number): Promise<AttemptRecord>;
  clearAttempts(key: string): Promise<void>;
}

/** The Twilio credentials (one Secrets Manager secret in AWS, TWILIO_* locally). */
export interface TwilioCredentials {
  accountSid: string;
  apiKeySid: string;
  apiKeySecret: string;
  authToken: string;
  twimlAppSid: string;
}

/**
 * Returns the current credentials; throws CredentialsError when they cannot be had. `refresh`, when the source
 * can change under a running container (Secrets Manager), re-reads it now, bypassing the cache: the webhooks
 * call it when a signature does not match the cached Auth Token (it may just have been rotated). It is
 * rate-limited per provider and resolves to `undefined` when it did not fetch; it never rejects.
 */
export interface CredentialsProvider {
  (): Promise<TwilioCredentials>;
  refresh?: () => Promise<TwilioCredentials | undefined>;
}

/**
 * Structured log lines. Never pass secrets, device secrets, tokens, signatures or auth headers: log what
 * failed and non-secret identifiers (numbers, client names, SIDs). In Lambda every line also carries the
 * request id, the cold-start flag and the route.
 */
export interface Log {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** The time now (tests pass a fixed one). */
export type Clock = () => Date;

/** A store the registry depends on failed (throttling, time-out, service error): answered gracefully. */
export class RegistryError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RegistryError';
  }
}

/** The credentials could not be had (Secrets Manager down, secret malformed): answered gracefully. */
export class CredentialsError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CredentialsError';
  }
}

/** DeviceDirectory.put() when another number already uses the client name. */
export class DuplicateClientNameError extends Error {
  constructor(clientName: string) {
    super(`The client name "${clientName}" is already registered to another number`);
    this.name = 'DuplicateClientNameError';
  }
}

/** Known dependency faults (DynamoDB, Secrets Manager): answered with 503 / "temporarily unavailable" TwiML. */
export function isDependencyFault(err: unknown): err is RegistryError | CredentialsError {
  return err instanceof RegistryError || err instanceof CredentialsError;
}
