/** Counting the dependency failures a handler answers gracefully (DependencyFailures, by Dependency). */
import { type Dependency, dependencyOf } from '../core/metrics';
import type { Metrics } from '../ports';

/** Counts a fault of a known dependency (core/metrics.ts `dependencyOf`), or of `dependency` when given; anything else is not counted. */
export function countDependencyFailure(metrics: Metrics, err: unknown, dependency?: Dependency): void {
  const which = dependency ?? dependencyOf(err);
  if (which) metrics.count('dependencyFailure', which);
}
