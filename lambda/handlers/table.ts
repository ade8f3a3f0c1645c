/**
 * The handler table (`./index.ts`) as a typed record: every RouteId has a factory of the one signature (a route
 * without a handler fails to compile). For the code that builds every route's handler: the local app, the bench
 * and the tests. (The Lambda entry reads `./index.ts` itself, so its bundle keeps one handler.)
 */
import type { RouteId } from '../../lib/api/routes';
import type { HandlerFactory } from './deps';
import * as HANDLERS from './index';

export const HANDLER_TABLE: Readonly<Record<RouteId, HandlerFactory>> = HANDLERS;

/** Every route's handler, built with the same deps. */
export function buildHandlers(deps: Parameters<HandlerFactory>[0]): Record<RouteId, ReturnType<HandlerFactory>> {
  return Object.fromEntries(Object.entries(HANDLER_TABLE).map(([id, factory]) => [id, factory(deps)])) as Record<RouteId, ReturnType<HandlerFactory>>;
}
