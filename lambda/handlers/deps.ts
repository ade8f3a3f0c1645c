/**
 * The one factory signature of every handler: `(deps) => (event, context) => Promise<result>`, the same in
 * Lambda (`adapters/lambda-runtime.ts`), in the local app and in tests. Which factory serves which route is
 * the table in `./index.ts`.
 */
import type { AppConfig } from '../core/settings';
import type { AttemptStore, Clock, CredentialsProvider, DeviceDirectory, Log } from '../ports';

export interface HandlerDeps {
  devices: DeviceDirectory;
  /** the sign-in lockout's store: required, so no registry can switch the lockout off by lacking it */
  attempts: AttemptStore;
  credentials: CredentialsProvider;
  config: AppConfig;
  /** default: the system clock */
  clock?: Clock;
}

/** What one invocation carries besides its event: a log whose lines name the request, cold start and route. */
export interface InvocationContext {
  log: Log;
}

export type Handler<R = unknown> = (event: unknown, context: InvocationContext) => Promise<R>;
export type HandlerFactory<R = unknown> = (deps: HandlerDeps) => Handler<R>;

export interface TokenSuccess {
  success: true;
  capabilityToken: string;
  identity: string;
  expiresAt: string;
}
