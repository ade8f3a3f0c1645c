/** Small helpers shared by the local command-line entry points (`bin/local.ts`, `bin/device.ts`, `bin/sign.ts`). */
import { config as loadDotenvFile } from 'dotenv';

/** Reads `.env` from the working directory into `process.env` (variables already set win); quiet. */
export function loadDotEnv(): void {
  loadDotenvFile({ quiet: true });
}

/**
 * Drops the AWS SDK's one-off "NodeVersionSupportWarning" (a notice about future SDK releases, not about this
 * program) so command output stays readable; every other warning is printed as usual.
 */
export function silenceSdkNodeVersionWarning(): void {
  const original = process.emitWarning.bind(process) as (...args: unknown[]) => void;
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    const text = typeof warning === 'string' ? warning : warning?.message;
    if (typeof text === 'string' && text.startsWith('NodeVersionSupportWarning')) return;
    original(warning, ...rest);
  }) as typeof process.emitWarning;
}
