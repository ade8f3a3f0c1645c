/**
 * The one factory signature of every handler: `(deps) => (event, context) => Promise<result>`, the same in
 * Lambda (`adapters/lambda-runtime.ts`), in the local app and in tests. Which factory serves which route is
 * the table in `./index.ts`.
 */
import type { AppConfig } from '../core/settings';
import type {
  AttemptStore,
  CallLog,
  Clock,
  CredentialsProvider,
  LineDirectory,
  Log,
  Metrics,
  Notifier,
  RecordingStore,
  TwilioRecordings,
  UpgradeReport,
  VoicemailStore,
} from '../ports';

export interface HandlerDeps {
  /**
   * The registry of lines: every handler but the two that ask DynamoDB nothing (the Debugger webhook, the page
   * authorizer), whose bundles then carry no DynamoDB client (`requireDeps` says when one is missing).
   */
  lines?: LineDirectory;
  /** the sign-in lockout's store: the token handler refuses to be built without it, so no deps can switch the lockout off */
  attempts?: AttemptStore;
  /** the Twilio secret: every handler but the page's own routes (whose bundles then carry no Secrets Manager client) */
  credentials?: CredentialsProvider;
  config: AppConfig;
  /** default: the system clock */
  clock?: Clock;
  /** Voicemail: the handlers that keep or serve messages need these (`requireDeps` says which is missing). */
  voicemails?: VoicemailStore;
  recordings?: RecordingStore;
  twilioRecordings?: TwilioRecordings;
  notifier?: Notifier;
  /** The call log: the webhooks that see calls write it, the outgoing handler bounds calls with it, the page reads it. */
  calls?: CallLog;
  /** The registry upgrade of `cdk deploy` (adapters/registry-upgrade.ts), bound to its tables. */
  upgradeRegistry?: () => Promise<UpgradeReport>;
}

/** The optional deps a handler cannot work without, checked when it is built (a misconfiguration fails fast). */
export function requireDeps<K extends keyof HandlerDeps>(deps: HandlerDeps, handler: string, keys: readonly K[]): Required<Pick<HandlerDeps, K>> {
  const missing = keys.filter((k) => deps[k] === undefined);
  if (missing.length > 0) throw new Error(`The ${handler} handler needs ${missing.join(', ')}`);
  return deps as unknown as Required<Pick<HandlerDeps, K>>;
}

/**
 * What one invocation carries besides its event: a log whose lines name the request, cold start and route, and
 * the metrics it counts (core/metrics.ts; written after the invocation, in Lambda as EMF).
 */
export interface InvocationContext {
  log: Log;
  metrics: Metrics;
}

export type Handler<R = unknown> = (event: unknown, context: InvocationContext) => Promise<R>;
export type HandlerFactory<R = unknown> = (deps: HandlerDeps) => Handler<R>;

export interface TokenSuccess {
  success: true;
  capabilityToken: string;
  identity: string;
  /** the line's number: the device's caller ID */
  line: string;
  expiresAt: string;
  /** only on a "Test my setup" token (`purpose: "preflight"` asked): the token calls the preflight TwiML App */
  purpose?: 'preflight';
}
