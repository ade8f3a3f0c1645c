/** Counting the dependency failures a handler answers gracefully (DependencyFailures, by Dependency). */
import { describeError } from '../core/errors';
import { type Dependency, dependencyOf } from '../core/metrics';
import { isDependencyFault, type Metrics } from '../ports';
import type { InvocationContext } from './deps';

/** Counts a fault of a known dependency (core/metrics.ts `dependencyOf`), or of `dependency` when given; anything else is not counted. */
export function countDependencyFailure(metrics: Metrics, err: unknown, dependency?: Dependency): void {
  const which = dependency ?? dependencyOf(err);
  if (which) metrics.count('dependencyFailure', which);
}

/**
 * Runs a handler's work; a known dependency fault (RegistryError, CredentialsError) is logged, counted and given
 * `answer`'s reply (a webhook's "temporarily unavailable" TwiML, a page route's 503); anything else is rethrown.
 */
export async function answerDependencyFault<R>({ log, metrics }: InvocationContext, work: () => Promise<R>, answer: () => R): Promise<R> {
  try {
    return await work();
  } catch (err) {
    if (!isDependencyFault(err)) throw err;
    log.error('dependency failure', { error: describeError(err) });
    countDependencyFailure(metrics, err);
    return answer();
  }
}
