/**
 * `npm run device -- <command>`: the device registry.
 *
 *   add --number <phone> --client <name> [--secret <s>] [--label <text>]
 *   list [--json]
 *   remove --number <phone>
 *   rotate-secret --number <phone>
 *
 * Local registry at SOFTPHONE_REGISTRY (default .local/registry), whether or not `npm start` is running (when it
 * is, the command talks to its embedded dynalite, found through `<registry>/endpoint.json`; with no registry there it
 * stops and says so); or the deployed
 * table with `--table <name> [--region <r>]` (AWS SDK v3, the usual credential chain).
 *
 * Exit codes: 0 done, 1 refused or failed, 2 usage error, 4 local registry unavailable.
 */
import { parseArgs } from 'node:util';
import { createDynamoClient } from '../lambda/adapters/dynamo';
import { DynamoDeviceDirectory } from '../lambda/adapters/dynamo-device-directory';
import type { DeviceDirectory } from '../lambda/ports';
import { addDevice, listDevices, removeDevice, rotateDeviceSecret } from '../lib/devices/device-admin';
import { errorText, loadDotEnv, runCli, silenceSdkNodeVersionWarning } from '../lib/local/cli-support';
import {
  openLocalRegistry,
  registryPathFromEnv,
  RegistryInUseError,
  RegistryNotFoundError,
  RegistryUnavailableError,
} from '../lib/local/registry-server';

const COMMON = `Registry options:
  (default)            the local registry at SOFTPHONE_REGISTRY (default .local/registry), created by
                       npm start; works whether or not npm start is running
  --table <name>       the deployed devices table (stack output DevicesTableName) instead
  --region <region>    its region (default: AWS_REGION / your AWS profile)
`;

const HELP: Record<string, string> = {
  main: `Usage: npm run device -- <command> [options]

Commands:
  add            register a device (Twilio number → softphone client name + device secret)
  list           list registered devices
  remove         remove a device
  rotate-secret  give a device a new secret (the old one stops working)

Run "npm run device -- <command> --help" for a command's options.

${COMMON}`,
  add: `Usage: npm run device -- add --number <phone> --client <name> [--secret <s>] [--label <text>]

  --number <phone>   the Twilio phone number, any common format (+81-50-3123-4567); stored as E.164
  --client <name>    the softphone's Twilio Client identity: letters, digits, _ - . (e.g. DeviceId_0001); unique
  --secret <s>       the device secret (8-256 characters); omit to have one generated and printed ONCE
  --label <text>     an optional note (who or where)

${COMMON}`,
  list: `Usage: npm run device -- list [--json]

  --json             print JSON instead of a table (secret hashes are never printed)

${COMMON}`,
  remove: `Usage: npm run device -- remove --number <phone>

${COMMON}`,
  'rotate-secret': `Usage: npm run device -- rotate-secret --number <phone>

Generates a new device secret, prints it ONCE and stores only its hash; the old secret stops working.

${COMMON}`,
};

class UsageError extends Error {}

interface Opened {
  registry: DeviceDirectory;
  where: string;
  close(): Promise<void>;
}

async function open(table: string | undefined, region: string | undefined): Promise<Opened> {
  if (table) {
    const client = createDynamoClient(region ? { region } : {});
    const registry = new DynamoDeviceDirectory({ client, table });
    return { registry, where: `DynamoDB table ${table}${region ? ` (${region})` : ''}`, close: async () => client.destroy() };
  }
  const registryPath = registryPathFromEnv(process.env);
  const local = await openLocalRegistry(registryPath, 'device CLI');
  const where =
    local.mode === 'shared' ? `${registryPath} (through the running ${local.owner?.owner ?? 'owner'}, pid ${local.owner?.pid})` : registryPath;
  return { registry: local.devices, where, close: () => local.close() };
}

function need(value: string | undefined, flag: string, command: string): string {
  if (value === undefined || value.trim() === '') throw new UsageError(`${command}: ${flag} is required.\n\n${HELP[command]}`);
  return value;
}

const OPTIONS = {
  number: { type: 'string' },
  client: { type: 'string' },
  secret: { type: 'string' },
  label: { type: 'string' },
  table: { type: 'string' },
  region: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

function parseCommandArgs(command: string, args: string[]) {
  try {
    return parseArgs({ args, options: OPTIONS, strict: true, allowPositionals: false });
  } catch (err) {
    throw new UsageError(`${command}: ${(err as Error).message}\n\n${HELP[command]}`);
  }
}

async function run(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(HELP.main);
    return command ? 0 : 2;
  }
  if (!(command in HELP) || command === 'main') throw new UsageError(`Unknown command "${command}".\n\n${HELP.main}`);
  const { values } = parseCommandArgs(command, rest);
  if (values.help) {
    process.stdout.write(HELP[command]);
    return 0;
  }
  const allowed: Record<string, string[]> = {
    add: ['number', 'client', 'secret', 'label'],
    list: ['json'],
    remove: ['number'],
    'rotate-secret': ['number'],
  };
  for (const key of Object.keys(values)) {
    if (!['table', 'region', 'help', ...allowed[command]].includes(key))
      throw new UsageError(`${command}: --${key} is not an option of this command.\n\n${HELP[command]}`);
  }
  if (command === 'add') need(values.client, '--client', command);
  if (command !== 'list') need(values.number, '--number', command);

  const opened = await open(values.table, values.region);
  process.stderr.write(`Registry: ${opened.where}\n`);
  try {
    switch (command) {
      case 'add': {
        const { record, secret, generated } = await addDevice(opened.registry, {
          number: values.number!,
          clientName: values.client!,
          ...(values.secret !== undefined ? { secret: values.secret } : {}),
          ...(values.label !== undefined ? { label: values.label } : {}),
        });
        process.stdout.write(`Added ${record.phoneNumber} → client ${record.clientName}${record.label ? ` (${record.label})` : ''}.\n`);
        if (generated) {
          process.stdout.write(`Device secret (shown only this once; enter it in the softphone): ${secret}\n`);
        } else {
          process.stdout.write('Device secret: the one you gave (stored only as a hash).\n');
        }
        return 0;
      }
      case 'list': {
        const devices = await listDevices(opened.registry);
        if (values.json) {
          process.stdout.write(`${JSON.stringify(devices, null, 2)}\n`);
        } else if (devices.length === 0) {
          process.stdout.write('No devices registered.\n');
        } else {
          const rows = [['NUMBER', 'CLIENT', 'LABEL', 'CREATED'], ...devices.map((d) => [d.phoneNumber, d.clientName, d.label ?? '', d.createdAt])];
          const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
          for (const r of rows)
            process.stdout.write(
              `${r
                .map((c, i) => c.padEnd(widths[i]))
                .join('  ')
                .trimEnd()}\n`,
            );
        }
        return 0;
      }
      case 'remove': {
        const removed = await removeDevice(opened.registry, values.number!);
        process.stdout.write(`Removed ${removed.phoneNumber} (client ${removed.clientName}).\n`);
        return 0;
      }
      default: {
        const secret = await rotateDeviceSecret(opened.registry, values.number!);
        process.stdout.write(`New device secret for ${values.number} (shown only this once; the old one no longer works): ${secret}\n`);
        return 0;
      }
    }
  } finally {
    await opened.close();
  }
}

silenceSdkNodeVersionWarning();
loadDotEnv();
runCli(() => run(process.argv.slice(2)), {
  exit: true,
  onError: (err) => {
    if (err instanceof UsageError) return { message: err.message, exitCode: 2 };
    if (err instanceof RegistryInUseError || err instanceof RegistryUnavailableError || err instanceof RegistryNotFoundError)
      return { message: `device: ${err.message}`, exitCode: 4 };
    return { message: `device: ${errorText(err)}`, exitCode: 1 }; // DeviceAdminError (a refusal) and anything else
  },
});
