import { CredentialsError } from '../core/credentials';
import { RegistryError } from '../core/registry';

/** Known dependency faults (DynamoDB, Secrets Manager): answered gracefully (503 / "temporarily unavailable"). */
export function isKnownFault(err: unknown): err is RegistryError | CredentialsError {
  return err instanceof RegistryError || err instanceof CredentialsError;
}
