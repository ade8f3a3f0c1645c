/**
 * The handler table (`./index.ts`) as a typed record: every FunctionId has a factory of the one signature (a
 * function without a handler fails to compile). For the code that builds handlers: the local app, the bench and
 * the tests. (The Lambda entry reads `./index.ts` itself, so its bundle keeps one handler.)
 */
import type { FunctionId, RouteId } from '../../lib/api/routes';
import type { HandlerDeps, HandlerFactory } from './deps';
import * as HANDLERS from './index';

export const HANDLER_TABLE: Readonly<Record<FunctionId, HandlerFactory>> = HANDLERS;

/** Every route's handler, built with the same deps (the support functions are built on their own). */
export function buildHandlers(deps: HandlerDeps, routes: readonly RouteId[]): Record<RouteId, ReturnType<HandlerFactory>> {
  return Object.fromEntries(routes.map((id) => [id, HANDLER_TABLE[id](deps)])) as Record<RouteId, ReturnType<HandlerFactory>>;
}
