/**
 * What the device, line and calls CLIs (`bin/device.ts`, `bin/line.ts`, `bin/calls.ts`) share: which registry
 * they work on (the local one, or the deployed table with `--table`), their usage errors and exit codes, and
 * plain-text tables.
 */
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { createDynamoClient } from '../../lambda/adapters/dynamo';
import { DynamoCallLog } from '../../lambda/adapters/dynamo-call-log';
import { DynamoLineDirectory } from '../../lambda/adapters/dynamo-line-directory';
import { CALL_LOG_RETENTION_DAYS } from '../../lambda/core/settings';
import type { CallLog, LineDirectory } from '../../lambda/ports';
import { errorText } from '../local/cli-support';
import {
  type LocalRegistry,
  openLocalRegistry,
  RegistryInUseError,
  RegistryNotFoundError,
  RegistryUnavailableError,
  registryPathFromEnv,
} from '../local/registry-server';

/** The options every registry CLI takes (`--table`, `--region`, `--json`, `--help`), for its OPTIONS table. */
export const REGISTRY_CLI_OPTIONS = {
  table: { type: 'string' },
  region: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export const REGISTRY_OPTIONS_HELP = `Registry options:
  (default)            the local registry at SOFTPHONE_REGISTRY (default .local/registry), created by
                       npm start; works whether or not npm start is running
  --table <name>       the deployed registry table (stack output DevicesTableName) instead
  --region <region>    its region (default: AWS_REGION / your AWS profile)
`;

/** A command-line mistake: exit code 2 with the message (which includes the command's help). */
export class UsageError extends Error {}

export interface OpenedRegistry {
  lines: LineDirectory;
  where: string;
  close(): Promise<void>;
}

export async function openRegistry(table: string | undefined, region: string | undefined, owner: string): Promise<OpenedRegistry> {
  if (table) {
    const client = createDynamoClient(region ? { region } : {});
    const lines = new DynamoLineDirectory({ client, table });
    return { lines, where: `DynamoDB table ${table}${region ? ` (${region})` : ''}`, close: async () => client.destroy() };
  }
  const registryPath = registryPathFromEnv(process.env);
  const local = await openLocalRegistry(registryPath, owner);
  const where = localWhere(registryPath, local);
  return { lines: local.lines, where, close: () => local.close() };
}

/** The local registry in use, as the CLIs print it. */
function localWhere(registryPath: string, local: LocalRegistry): string {
  return local.mode === 'shared' ? `${registryPath} (through the running ${local.owner?.owner ?? 'owner'}, pid ${local.owner?.pid})` : registryPath;
}

export interface OpenedCallLog {
  calls: CallLog;
  where: string;
  close(): Promise<void>;
}

/**
 * The call log of the local registry, or the deployed calls table `table` (stack output CallsTableName) in
 * `region`: what `npm run calls` reads (reading only: the retention given to the adapter changes nothing).
 */
export async function openCallLog(table: string | undefined, region: string | undefined, owner: string): Promise<OpenedCallLog> {
  if (table) {
    const client = createDynamoClient(region ? { region } : {});
    const calls = new DynamoCallLog({ client, table, retentionDays: CALL_LOG_RETENTION_DAYS.default });
    return { calls, where: `DynamoDB table ${table}${region ? ` (${region})` : ''}`, close: async () => client.destroy() };
  }
  const registryPath = registryPathFromEnv(process.env);
  const local = await openLocalRegistry(registryPath, owner);
  const where = localWhere(registryPath, local);
  return { calls: local.calls, where, close: () => local.close() };
}

/** Exit codes: 0 done, 1 refused or failed, 2 usage error, 4 local registry unavailable. */
export function registryCliFailure(name: string): (err: unknown) => { message: string; exitCode: number } {
  return (err) => {
    if (err instanceof UsageError) return { message: err.message, exitCode: 2 };
    if (err instanceof RegistryInUseError || err instanceof RegistryUnavailableError || err instanceof RegistryNotFoundError)
      return { message: `${name}: ${err.message}`, exitCode: 4 };
    return { message: `${name}: ${errorText(err)}`, exitCode: 1 }; // DeviceAdminError (a refusal) and anything else
  };
}

/** Rows as aligned columns (the first row is the header). */
export function formatTable(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows
    .map(
      (r) =>
        `${r
          .map((c, i) => (c ?? '').padEnd(widths[i]))
          .join('  ')
          .trimEnd()}\n`,
    )
    .join('');
}

/** `--flag` is required: a UsageError naming it otherwise. */
export function need(value: string | undefined, flag: string, command: string, help: string): string {
  if (value === undefined || value.trim() === '') throw new UsageError(`${command}: ${flag} is required.\n\n${help}`);
  return value;
}

type OptionsConfig = NonNullable<ParseArgsConfig['options']>;
export type ParsedValues<O extends OptionsConfig> = ReturnType<typeof parseArgs<{ options: O; strict: true; allowPositionals: false }>>['values'];

/**
 * `<command> [--options]` of a registry CLI: `help`/no command prints the main help; an unknown command, option
 * or value form is a UsageError; `--help` prints the command's help. `allowed` names each command's own options
 * (`--table`, `--region` and `--help` are everyone's). Resolves to the command and its values, or to an exit code
 * when help was printed.
 */
export function parseCommandLine<O extends OptionsConfig>(
  argv: readonly string[],
  help: Record<string, string>,
  options: O,
  allowed: Record<string, readonly string[]>,
): { command: string; values: ParsedValues<O> } | { exitCode: number } {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(help.main);
    return { exitCode: command ? 0 : 2 };
  }
  if (!(command in allowed)) throw new UsageError(`Unknown command "${command}".\n\n${help.main}`);
  let values: ParsedValues<O>;
  try {
    values = parseArgs({ args: rest, options, strict: true, allowPositionals: false }).values as ParsedValues<O>;
  } catch (err) {
    throw new UsageError(`${command}: ${(err as Error).message}\n\n${help[command]}`);
  }
  if ((values as { help?: boolean }).help) {
    process.stdout.write(help[command]);
    return { exitCode: 0 };
  }
  for (const key of Object.keys(values)) {
    if (!['table', 'region', 'help', ...allowed[command]].includes(key))
      throw new UsageError(`${command}: --${key} is not an option of this command.\n\n${help[command]}`);
  }
  return { command, values };
}
