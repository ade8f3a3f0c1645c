/**
 * `npm run calls -- <command>`: a line's call log (the calls the line's number made and took), for operators.
 *
 *   list --number <phone> [--since <when>] [--json]
 *
 * `--since`: a date (2026-11-30, local midnight), a date and time (2026-11-30T09:00 local, 2026-11-30T09:00:00Z), or a
 * time back from now (30m, 24h, 7d). The local registry at SOFTPHONE_REGISTRY (as `npm run device`), or the deployed
 * calls table with `--table <CallsTableName> [--region <r>]`.
 * Exit codes: 0 done, 1 refused or failed, 2 usage error, 4 local registry unavailable.
 */
import { CALLS_PAGE_SIZE, callRows, listCalls, localTime, parseSince, SinceError } from '../lib/devices/calls-admin';
import { normalizeDeviceNumber } from '../lib/devices/device-admin';
import { formatTable, need, openCallLog, parseCommandLine, registryCliFailure, UsageError, REGISTRY_CLI_OPTIONS } from '../lib/devices/registry-cli';
import { loadDotEnv, runCli, silenceSdkNodeVersionWarning } from '../lib/local/cli-support';
import { RegistryNotFoundError, registryPathFromEnv } from '../lib/local/registry-server';

const OPTIONS_HELP = `Registry options:
  (default)            the local registry at SOFTPHONE_REGISTRY (default .local/registry), created by
                       npm start; works whether or not npm start is running
  --table <name>       the deployed calls table (stack output CallsTableName) instead
  --region <region>    its region (default: AWS_REGION / your AWS profile)
`;

const HELP: Record<string, string> = {
  main: `Usage: npm run calls -- <command> [options]

Commands:
  list   list a line's calls, newest first

The call log keeps each call the line's number took or made (who called, who answered, how it ended) for
the retention (CALL_LOG_RETENTION_DAYS, default 90 days). Run "npm run calls -- list --help" for its options.

${OPTIONS_HELP}`,
  list: `Usage: npm run calls -- list --number <phone> [--since <when>] [--json]

  --number <phone>   the line's Twilio phone number, any common format (+81-50-3123-4567)
  --since <when>     only calls started at or after it:
                       a date                2026-11-30 (midnight, local time)
                       a date and time       2026-11-30T09:00 (local time), 2026-11-30T09:00:00Z, 2026-11-30T09:00+09:00
                       a time back from now  30m, 24h, 7d (minutes, hours, days)
                     default: every call the log keeps
  --json             print the calls as one JSON array (newest first) instead of a table

The table shows when each call started in local time (TZ), its direction (incoming, outgoing, internal), the
other party, the member who answered or placed it, how it ended and how long the parties talked.

${OPTIONS_HELP}`,
};

const OPTIONS = {
  number: { type: 'string' },
  since: { type: 'string' },
  ...REGISTRY_CLI_OPTIONS,
} as const;

async function run(argv: string[]): Promise<number> {
  const parsed = parseCommandLine(argv, HELP, OPTIONS, { list: ['number', 'since', 'json'] });
  if ('exitCode' in parsed) return parsed.exitCode;
  const { command, values } = parsed;
  const number = need(values.number, '--number', command, HELP[command]);
  let since: string | undefined;
  if (values.since !== undefined) {
    try {
      since = parseSince(values.since);
    } catch (err) {
      if (err instanceof SinceError) throw new UsageError(`${command}: ${err.message}\n\n${HELP[command]}`);
      throw err;
    }
  }
  const line = normalizeDeviceNumber(number);

  const opened = await openCallLog(values.table, values.region, 'calls CLI');
  process.stderr.write(`Registry: ${opened.where}\n`);
  try {
    const calls = await listCalls(opened.calls, line, { pageSize: CALLS_PAGE_SIZE, ...(since !== undefined ? { since } : {}) });
    if (values.json) {
      process.stdout.write(`${JSON.stringify(calls, null, 2)}\n`);
    } else if (calls.length === 0) {
      process.stdout.write(`No calls on ${line}${since !== undefined ? ` since ${localTime(since)}` : ''}.\n`);
    } else {
      process.stdout.write(formatTable(callRows(calls)));
    }
    return 0;
  } finally {
    await opened.close();
  }
}

/** The registry CLIs' failures; a missing local registry points at the deployed calls table, not the devices one. */
const failure = registryCliFailure('calls');
const onError = (err: unknown) =>
  err instanceof RegistryNotFoundError
    ? {
        message:
          `calls: No local registry at ${registryPathFromEnv(process.env)}. Start the local app first (\`npm start\`), or set ` +
          'SOFTPHONE_REGISTRY to the registry of the app you run; for the deployed call log pass --table <CallsTableName>.',
        exitCode: 4,
      }
    : failure(err);

silenceSdkNodeVersionWarning();
loadDotEnv();
runCli(() => run(process.argv.slice(2)), { exit: true, onError });
