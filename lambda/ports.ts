/**
 * The ports: what the handlers and the pure rules (`lambda/core/`) need from the world, as interfaces. The AWS
 * adapters (`lambda/adapters/`) implement them in Lambda; the local app and the tests pass the same adapters
 * over dynalite, or their own sinks (a log, a clock). Nothing here imports an SDK.
 */

/** One registered softphone: a member of a line (a Twilio number), its Client identity and its secret's hash. */
export interface DeviceRecord {
  /** E.164: the line's number, which is also the device's caller ID and what it signs in with */
  phoneNumber: string;
  /** the Twilio Client identity; unique across every line */
  clientName: string;
  /** from hashDeviceSecret(); never the secret itself */
  secretHash: string;
  label?: string;
  /** ISO-8601; members ring in the order they were added */
  createdAt: string;
}

/** A device as everything but sign-in sees it: without its secret hash. */
export type Device = Omit<DeviceRecord, 'secretHash'>;

/** How a line rings its devices: all at once, or one after another in the order they were added. */
export type RingStrategy = 'simultaneous' | 'sequential';

/** What a line does with its calls (the rules of each setting: core/line.ts). */
export interface LineSettings {
  /** how long each ring lasts (all members at once, or each in turn), seconds */
  ringSeconds: number;
  strategy: RingStrategy;
  /** E.164; when set, an unanswered call is forwarded here (the person must press 1 to accept) */
  forwardTo?: string;
  /** an unanswered call (or one outside hours) may leave a message */
  voicemail: boolean;
  /** what a caller hears before the tone; unset: the app's own words in the line's language (phrases.ts) */
  greeting?: string;
  /** the language of everything said to the caller (a Twilio `<Say>` language, e.g. ja-JP) */
  language: string;
  /** as written: `Mon-Fri 09:00-18:00` (see business-hours.ts); undefined = always open */
  hours?: string;
  /** IANA time zone of `hours` */
  timeZone?: string;
}

/** A line: its number, its settings (the defaults until set) and its members in ring order. */
export interface Line {
  number: string;
  settings: LineSettings;
  members: Device[];
}

/**
 * The registry of lines and their devices. Only sign-in reads secret hashes (`findForSignIn`); every other
 * read leaves them in the table. Failures of the store throw RegistryError.
 */
export interface LineDirectory {
  /** The line of a number with its members, or undefined when no device was ever added to it. */
  findLine(phoneNumber: string): Promise<Line | undefined>;
  /** The device with that client name (consistent read). */
  findByClientName(clientName: string): Promise<Device | undefined>;
  /** The line's devices with their secret hashes, in ring order (empty when none), for the token handler. */
  findForSignIn(phoneNumber: string): Promise<DeviceRecord[]>;
  /**
   * Adds a device to its number's line (a new number starts a line with the default settings) or replaces the
   * device of the same client name on that line. Atomic: client names are unique across lines (of two
   * concurrent puts of one name, one throws DuplicateClientNameError) and a line has at most MAX_LINE_MEMBERS
   * devices (LineFullError).
   */
  put(record: DeviceRecord): Promise<void>;
  /** Removes the device with that client name; returns it, or undefined when there was none. */
  remove(clientName: string): Promise<Device | undefined>;
  /** Replaces a line's settings (the line must exist: a device was added to it). */
  putSettings(phoneNumber: string, settings: LineSettings): Promise<void>;
  /** Every line with its members, sorted by number. */
  listLines(): Promise<Line[]>;
}

/** A message a caller left on a line. */
export interface Voicemail {
  /** the line's E.164 number */
  line: string;
  /** Twilio's RecordingSid: the voicemail's id */
  id: string;
  /** the caller's number as Twilio gave it (E.164, or `anonymous`) */
  from: string;
  callSid: string;
  durationSeconds: number;
  /** where the recording is (RecordingStore key) */
  recordingKey: string;
  heard: boolean;
  /** ISO-8601 */
  receivedAt: string;
  /** epoch seconds after which the voicemail and its recording are deleted */
  expiresAt: number;
}

/** The voicemails of each line (the registry table). Failures of the store throw RegistryError. */
export interface VoicemailStore {
  /** Records a voicemail once: false when one with its id already exists on the line (a repeated callback). */
  add(voicemail: Voicemail): Promise<boolean>;
  /** The line's voicemails not yet expired, newest first. */
  list(line: string, nowSeconds: number): Promise<Voicemail[]>;
  get(line: string, id: string): Promise<Voicemail | undefined>;
  /** True when it existed. */
  markHeard(line: string, id: string): Promise<boolean>;
  /** Removes and returns it; undefined when there was none. */
  remove(line: string, id: string): Promise<Voicemail | undefined>;
}

/** Where recordings are kept: S3 (encrypted, expiring) in AWS, a directory in the local registry. */
export interface RecordingStore {
  put(key: string, audio: Uint8Array, contentType: string): Promise<void>;
  /** A URL the browser can fetch the recording from for `seconds` (S3: presigned GET). */
  playbackUrl(key: string, seconds: number): Promise<string>;
  delete(key: string): Promise<void>;
}

/** Twilio's copy of a recording: fetched once with the API key, then deleted (REST API 2010-04-01). */
export interface TwilioRecordings {
  /** The recording's audio (MP3). Throws TwilioApiError. */
  download(accountSid: string, recordingSid: string): Promise<{ audio: Uint8Array; contentType: string }>;
  /** Deletes Twilio's copy; a recording already gone counts as deleted. Throws TwilioApiError. */
  delete(accountSid: string, recordingSid: string): Promise<void>;
}

/** Tells a line's people something happened (SNS in AWS; a log line locally). Never throws. */
export interface Notifier {
  /** True when the notice went out; false when it could not be sent (logged; the voicemail is kept either way). */
  newVoicemail(voicemail: Voicemail, log: Log): Promise<boolean>;
}

/** Twilio's call statuses (a call's or a leg's `CallStatus`). */
export type CallStatus = 'queued' | 'initiated' | 'ringing' | 'in-progress' | 'completed' | 'busy' | 'no-answer' | 'canceled' | 'failed';

/**
 * What a leg of a call is:
 * - `caller`: the parent call (a person calling the line; a softphone placing a call);
 * - `member`: a line member's softphone ringing for an incoming call;
 * - `forward`: the line's forward number;
 * - `callee`: the number or the teammate an outgoing or internal call dials.
 */
export type LegRole = 'caller' | 'member' | 'forward' | 'callee';

export type CallDirection = 'incoming' | 'outgoing' | 'internal';

/** How a call ended, as the log shows it; `in-progress` until it has. */
export type CallOutcome = 'answered' | 'missed' | 'voicemail' | 'forwarded' | 'refused' | 'failed' | 'in-progress';

/** What the log knows of a call besides its legs; each merges to the smallest non-empty value (core/call-log.ts). */
export interface CallFacts {
  /** the line's E.164 number */
  line?: string;
  direction?: CallDirection;
  /** the other party: the caller's number (incoming), the dialled number or `client:<teammate>` */
  remote?: string;
  /** the member who placed an outgoing or internal call */
  placedBy?: string;
}

export interface LegState {
  role: LegRole;
  /** who the leg reaches: an E.164 number or `client:<name>` */
  to: string;
  status: CallStatus;
  /** the order of the status kept: [lifecycle rank, SequenceNumber (-1 when none), Timestamp ms] */
  order: [number, number, number];
  /** epoch ms of the first event of each kind */
  initiatedAt?: number;
  ringingAt?: number;
  answeredAt?: number;
  endedAt?: number;
  /** Twilio's CallDuration of the leg, seconds */
  durationSeconds?: number;
}

/** One call of the call log, merged from its events (core/call-log.ts). */
export interface CallRecord extends CallFacts {
  /** the parent call's CallSid: the id of the call */
  callSid: string;
  /** every leg by its CallSid */
  legs: Record<string, LegState>;
  /** a voicemail was left */
  voicemail?: boolean;
  /** the outgoing handler refused the call: the reason (a destination policy reason, or `limit`) */
  refused?: string;
  /** epoch ms of the earliest thing known of the call */
  firstAt: number;
}

interface CallEventBase extends CallFacts {
  /** the parent call's CallSid */
  callSid: string;
  /** epoch ms */
  at: number;
}

/** What the call log learns: a leg's status callback, or a note from our handlers. */
export type CallEvent =
  | (CallEventBase & {
      kind: 'status';
      legSid: string;
      role: LegRole;
      to: string;
      status: CallStatus;
      sequence?: number;
      durationSeconds?: number;
    })
  | (CallEventBase & { kind: 'voicemail' })
  | (CallEventBase & { kind: 'refused'; reason: string });

/** The outcome of claiming a place for an outgoing call (`CallLog.claimSlots`). */
export type SlotClaim = 'ok' | 'device-busy' | 'line-busy';

/** One page of a line's calls, newest first; `cursor` continues after it (absent on the last page). */
export interface CallPage {
  calls: CallRecord[];
  cursor?: string;
}

/**
 * The call log (the calls table): one record per call, merged from its events (lambda/core/call-log.ts), and the
 * places of the outgoing calls in progress that bound how many a device and a line may have at once. Failures of
 * the store throw RegistryError.
 */
export interface CallLog {
  /** Merges one event into its call's record (read, merge, conditional write, again on a concurrent write); returns the record. */
  apply(event: CallEvent): Promise<CallRecord>;
  /**
   * `apply`, also returning the record the event was merged into (`before`, undefined for a call's first event):
   * what the event changed, e.g. whether it made the call a missed one (counted once however often Twilio
   * repeats the callback). With concurrent writers, `before` is the version this write replaced.
   */
  merge(event: CallEvent): Promise<{ before?: CallRecord; after: CallRecord }>;
  get(callSid: string): Promise<CallRecord | undefined>;
  /** A line's calls, newest first: at most `limit`, after `cursor`, started at or after `since` (ISO-8601). Throws BadCursorError. */
  list(line: string, opts: { limit: number; cursor?: string; since?: string }): Promise<CallPage>;
  /**
   * Takes one of the device's `perDevice` places and one of the line's `perLine` places for the call, each held
   * until released or `holdSeconds` pass (a completion callback that never comes frees it then). Atomic per
   * place; claiming again for the same call succeeds without taking more.
   */
  claimSlots(claim: {
    line: string;
    clientName: string;
    callSid: string;
    perDevice: number;
    perLine: number;
    nowSeconds: number;
    holdSeconds: number;
  }): Promise<SlotClaim>;
  /** Frees the places the call holds (none: nothing happens). */
  releaseSlots(line: string, callSid: string): Promise<void>;
  /** When the device last looked at its line's calls (ISO-8601), if ever. */
  seenUntil(clientName: string): Promise<string | undefined>;
  /** Moves the device's mark forward to `until` (never back). */
  markSeen(clientName: string, until: string): Promise<void>;
}

/** CallLog.list() with a cursor that is not one it gave out. */
export class BadCursorError extends Error {
  constructor() {
    super('The cursor is not valid');
    this.name = 'BadCursorError';
  }
}

/** What the upgrade from the first release's devices table did (adapters/registry-upgrade.ts). */
export interface UpgradeReport {
  /** devices copied into the registry now */
  copied: number;
  /** devices the registry already had (an earlier run) */
  alreadyThere: number;
  /** devices that could not be copied, and why (a name taken on another line, a full line) */
  skipped: { clientName: string; phoneNumber: string; reason: string }[];
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
  /** Takes back one counted failure (an attempt that succeeded after all); never below zero. */
  forgiveFailure(key: string): Promise<void>;
}

/** The Twilio credentials (one Secrets Manager secret in AWS, TWILIO_* locally). */
export interface TwilioCredentials {
  accountSid: string;
  apiKeySid: string;
  apiKeySecret: string;
  authToken: string;
  twimlAppSid: string;
  /**
   * Optional: the second TwiML App ("Test my setup", made by `npm run twilio:setup`), whose Voice URL is the
   * preflight webhook; the token API's `purpose: "preflight"` tokens call it. Absent: the test is not configured.
   */
  preflightTwimlAppSid?: string;
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

/** The app's metrics by key (their CloudWatch names, units and dimensions: core/metrics.ts METRIC). */
export type MetricKey =
  | 'signIn'
  | 'signatureRejected'
  | 'incomingCall'
  | 'missedCall'
  | 'voicemail'
  | 'callRefused'
  | 'dependencyFailure'
  | 'handlerLatency'
  | 'twilioAlert';

/**
 * The app's metrics (names and dimensions: core/metrics.ts). In Lambda, Powertools Metrics (EMF log lines,
 * flushed after each invocation); locally and in tests, a sink that keeps or prints them. Never throws.
 */
export interface Metrics {
  /** Adds `value` (default 1) to a Count metric, with its own dimension's value when it has one. */
  count(metric: MetricKey, dimensionValue?: string, value?: number): void;
  /** Records a duration in milliseconds (HandlerLatency). */
  milliseconds(metric: MetricKey, ms: number, dimensionValue?: string): void;
}

/** The time now (tests pass a fixed one). */
export type Clock = () => Date;

/** Which store a RegistryError comes from (the DependencyFailures metric's Dependency). */
export type RegistryDependency = 'DynamoDB' | 'S3';

/** A store the registry depends on failed (throttling, time-out, service error): answered gracefully. */
export class RegistryError extends Error {
  /** the failing store: DynamoDB unless told (the recordings store says S3) */
  readonly dependency: RegistryDependency;
  constructor(message: string, options?: { cause?: unknown; dependency?: RegistryDependency }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RegistryError';
    this.dependency = options?.dependency ?? 'DynamoDB';
  }
}

/** The credentials could not be had (Secrets Manager down, secret malformed): answered gracefully. */
export class CredentialsError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CredentialsError';
  }
}

/** LineDirectory.put() when another device already uses the client name. */
export class DuplicateClientNameError extends Error {
  constructor(
    clientName: string,
    readonly heldBy?: string,
  ) {
    super(`The client name "${clientName}" is already registered${heldBy ? ` on ${heldBy}` : ''}`);
    this.name = 'DuplicateClientNameError';
  }
}

/** LineDirectory.put() when the line already has MAX_LINE_MEMBERS devices. */
export class LineFullError extends Error {
  constructor(phoneNumber: string, limit: number) {
    super(`The line ${phoneNumber} already has ${limit} devices, the most one call can ring`);
    this.name = 'LineFullError';
  }
}

/** LineDirectory.putSettings() for a number without a line. */
export class UnknownLineError extends Error {
  constructor(phoneNumber: string) {
    super(`${phoneNumber} has no line: add a device to it first`);
    this.name = 'UnknownLineError';
  }
}

/** Twilio's REST API answered with an error (status, Twilio error code) or could not be reached (status 0). */
export class TwilioApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code?: number,
  ) {
    super(message);
    this.name = 'TwilioApiError';
  }
}

/** Known dependency faults (DynamoDB, Secrets Manager): answered with 503 / "temporarily unavailable" TwiML. */
export function isDependencyFault(err: unknown): err is RegistryError | CredentialsError {
  return err instanceof RegistryError || err instanceof CredentialsError;
}
