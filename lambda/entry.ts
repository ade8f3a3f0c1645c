/**
 * The Lambda entry of every function: the handler (and deps builder) of the function this bundle was built for.
 * `SOFTPHONE_FUNCTION_ID` is a constant esbuild defines per function (lib/lambda-bundling.ts
 * `functionBundlingOptions`), so the lookups in the handler and deps tables resolve at build time and each bundle
 * keeps only its own handler and clients (lambda/package.json declares our modules free of side effects, which
 * lets esbuild drop the others).
 */
import * as DEPS from './adapters/function-deps';
import { lambdaHandler } from './adapters/lambda-runtime';
import * as HANDLERS from './handlers';

declare const SOFTPHONE_FUNCTION_ID: keyof typeof HANDLERS & keyof typeof DEPS;

// biome-ignore lint/performance/noDynamicNamespaceImportAccess: SOFTPHONE_FUNCTION_ID is a build-time constant, so esbuild resolves this to one export
export const handler = lambdaHandler(SOFTPHONE_FUNCTION_ID, HANDLERS[SOFTPHONE_FUNCTION_ID], DEPS[SOFTPHONE_FUNCTION_ID]);
