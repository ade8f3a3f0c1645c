/**
 * Stands in for `@aws-sdk/credential-provider-node` inside the Lambda bundles (an esbuild alias set in
 * `lib/lambda-bundling.ts`; tests and the local app keep the SDK's full default chain).
 *
 * In Lambda the runtime always puts the execution role's credentials into the environment, so the default
 * chain's other sources (SSO, INI files, web identity, process, IMDS, login) and the STS/SSO clients they carry
 * are dead weight: `npm run bench` measures about 136 KB per bundle and 8 ms of cold init for them.
 */
import { fromEnv, type FromEnvInit } from '@aws-sdk/credential-provider-env';

/** The shape the SDK clients' runtime config calls: `credentialDefaultProvider(init)`. */
export const defaultProvider = (init: FromEnvInit = {}) => fromEnv(init);
