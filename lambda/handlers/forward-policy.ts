/**
 * Whether a line's forward number may be dialled now. It passed the destination policy when it was set; it is
 * checked again at each call (the allowed countries may have changed since), and a call is never forwarded to the
 * line itself. Only the call-action webhook imports this (and with it the full phone metadata).
 */
import { checkDestination, phoneRulesWithTypes } from '../core/destination-policy';
import type { AppConfig } from '../core/settings';
import type { Line } from '../ports';

export function mayForward(line: Line, config: Pick<AppConfig, 'allowedDestinationCountries'>): boolean {
  const { forwardTo } = line.settings;
  return (
    forwardTo !== undefined &&
    forwardTo !== line.number &&
    checkDestination(forwardTo, phoneRulesWithTypes.countryOf(line.number), config.allowedDestinationCountries).ok
  );
}
