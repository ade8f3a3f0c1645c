/** The dependencies every handler factory takes (the same in Lambda, the local app and tests). */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { AppConfig } from '../core/config';
import type { CredentialsProvider } from '../core/credentials';
import type { AttemptStore, Registry } from '../core/registry';

export interface HandlerDeps {
  registry: Registry;
  credentials: CredentialsProvider;
  config: AppConfig;
  logger: Logger;
  now?: () => Date;
  /** Sign-in attempt counter for the brute-force lockout; default: `registry` when it implements AttemptStore (DynamoRegistry does). */
  attempts?: AttemptStore;
}

export interface TokenSuccess {
  success: true;
  capabilityToken: string;
  identity: string;
  expiresAt: string;
}
