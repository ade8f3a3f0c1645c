/**
 * Whether a line's forward number may be dialled now. It passed the destination policy when it was set; it is
 * checked again at each call (the allowed countries may have changed since), and a call is never forwarded to the
 * line itself. Only the call-action webhook imports this (and with it the full phone metadata).
 */
import { checkDestination, type DestinationRefusal, phoneRulesWithTypes } from '../core/destination-policy';
import type { AppConfig } from '../core/settings';
import type { Line } from '../ports';

/**
 * Why the line's forward number may not be dialled now: the destination policy's reason, `self` (the line's own
 * number), `none` (no forward number); undefined when it may.
 */
export function forwardRefusal(line: Line, config: Pick<AppConfig, 'allowedDestinationCountries'>): DestinationRefusal | 'self' | 'none' | undefined {
  const { forwardTo } = line.settings;
  if (forwardTo === undefined) return 'none';
  if (forwardTo === line.number) return 'self';
  const decision = checkDestination(forwardTo, phoneRulesWithTypes.countryOf(line.number), config.allowedDestinationCountries);
  return decision.ok ? undefined : decision.reason;
}

export function mayForward(line: Line, config: Pick<AppConfig, 'allowedDestinationCountries'>): boolean {
  return forwardRefusal(line, config) === undefined;
}
