/**
 * The Lambda entry of every function: the handler of the route this bundle was built for. `SOFTPHONE_ROUTE_ID`
 * is a constant esbuild defines per function (lib/lambda-bundling.ts `routeBundlingOptions`), so the lookup in
 * the handler table resolves at build time and each bundle keeps only its own handler (lambda/package.json
 * declares our modules free of side effects, which lets esbuild drop the others).
 */
import { lambdaHandler } from './adapters/lambda-runtime';
import * as HANDLERS from './handlers';

declare const SOFTPHONE_ROUTE_ID: keyof typeof HANDLERS;

// biome-ignore lint/performance/noDynamicNamespaceImportAccess: SOFTPHONE_ROUTE_ID is a build-time constant, so esbuild resolves this to one export
export const handler = lambdaHandler(SOFTPHONE_ROUTE_ID, HANDLERS[SOFTPHONE_ROUTE_ID]);
