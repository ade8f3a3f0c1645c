/** Small helpers shared by the command-line entry points in `bin/` (local app, device CLI, signer, ops commands). */
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

/** How a command reports an error its `main` did not handle: the line for stderr and the exit code. */
export type CliFailure = (err: unknown) => { message: string; exitCode: number };

/** The message of an Error, else the value as text. */
export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export interface RunCliOptions {
  /** Default: `✘ <message>`, exit code 2. */
  onError?: CliFailure;
  /**
   * true: end the process at once (`process.exit`), for commands whose clients may keep the event loop alive;
   * false (default): set `process.exitCode` and let it end by itself.
   */
  exit?: boolean;
}

/** Runs a command's `main` (which resolves to the exit code) and ends the process with its outcome. */
export function runCli(main: () => Promise<number>, opts: RunCliOptions = {}): void {
  const onError: CliFailure = opts.onError ?? ((err) => ({ message: `✘ ${errorText(err)}`, exitCode: 2 }));
  const finish = (code: number) => {
    if (opts.exit) process.exit(code);
    process.exitCode = code;
  };
  main().then(finish, (err: unknown) => {
    const failure = onError(err);
    process.stderr.write(`${failure.message}\n`);
    finish(failure.exitCode);
  });
}
