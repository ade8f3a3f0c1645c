/**
 * `npm run device -- <command>`: the devices of each line (a Twilio number rings up to 10 devices).
 *
 *   add --number <phone> --client <name> [--secret <s>] [--label <text>]
 *   list [--json]
 *   remove --client <name>            (or --number <phone> when its line has one device)
 *   rotate-secret --client <name>     (or --number <phone> when its line has one device)
 *
 * Local registry at SOFTPHONE_REGISTRY (default .local/registry), whether or not `npm start` is running (when it
 * is, the command talks to its embedded dynalite, found through `<registry>/endpoint.json`; with no registry there it
 * stops and says so); or the deployed table with `--table <name> [--region <r>]` (AWS SDK v3, the usual credential
 * chain). A line's settings: `npm run line`.
 *
 * Exit codes: 0 done, 1 refused or failed, 2 usage error, 4 local registry unavailable.
 */
import { addDevice, listLines, removeDevice, rotateDeviceSecret, type DeviceSelector } from '../lib/devices/device-admin';
import {
  formatTable,
  need,
  openRegistry,
  parseCommandLine,
  REGISTRY_OPTIONS_HELP,
  registryCliFailure,
  UsageError,
  REGISTRY_CLI_OPTIONS,
} from '../lib/devices/registry-cli';
import { loadDotEnv, runCli, silenceSdkNodeVersionWarning } from '../lib/local/cli-support';

const SELECT = `  --client <name>    the device's client name
  --number <phone>   its line's number (enough when the line has one device)`;

const HELP: Record<string, string> = {
  main: `Usage: npm run device -- <command> [options]

Commands:
  add            add a device to a line (a Twilio number; a new number starts a line)
  list           list the lines and their devices
  remove         remove a device
  rotate-secret  give a device a new secret (the old one stops working)

Run "npm run device -- <command> --help" for a command's options. A line's settings: npm run line -- --help

${REGISTRY_OPTIONS_HELP}`,
  add: `Usage: npm run device -- add --number <phone> --client <name> [--secret <s>] [--label <text>]

  --number <phone>   the line's Twilio phone number, any common format (+81-50-3123-4567); stored as E.164.
                     Up to 10 devices per number ring together; each signs in with it and its own secret.
  --client <name>    the softphone's Twilio Client identity: letters, digits, _ - . (e.g. DeviceId_0001); unique
  --secret <s>       the device secret (8-256 characters); omit to have one generated and printed ONCE
  --label <text>     an optional note (who or where); teammates see it in the directory

${REGISTRY_OPTIONS_HELP}`,
  list: `Usage: npm run device -- list [--json]

  --json             print JSON (lines with their settings and devices) instead of a table; never secret hashes

${REGISTRY_OPTIONS_HELP}`,
  remove: `Usage: npm run device -- remove --client <name> | --number <phone>

${SELECT}

${REGISTRY_OPTIONS_HELP}`,
  'rotate-secret': `Usage: npm run device -- rotate-secret --client <name> | --number <phone>

Generates a new device secret, prints it ONCE and stores only its hash; the old secret stops working.

${SELECT}

${REGISTRY_OPTIONS_HELP}`,
};

const OPTIONS = {
  number: { type: 'string' },
  client: { type: 'string' },
  secret: { type: 'string' },
  label: { type: 'string' },
  ...REGISTRY_CLI_OPTIONS,
} as const;

async function run(argv: string[]): Promise<number> {
  const parsed = parseCommandLine(argv, HELP, OPTIONS, {
    add: ['number', 'client', 'secret', 'label'],
    list: ['json'],
    remove: ['number', 'client'],
    'rotate-secret': ['number', 'client'],
  });
  if ('exitCode' in parsed) return parsed.exitCode;
  const { command, values } = parsed;
  if (command === 'add') {
    need(values.client, '--client', command, HELP[command]);
    need(values.number, '--number', command, HELP[command]);
  }
  if ((command === 'remove' || command === 'rotate-secret') && values.client === undefined && values.number === undefined) {
    throw new UsageError(`${command}: --client (or --number) is required.\n\n${HELP[command]}`);
  }
  const selector: DeviceSelector = {
    ...(values.client !== undefined ? { clientName: values.client } : {}),
    ...(values.number !== undefined ? { number: values.number } : {}),
  };

  const opened = await openRegistry(values.table, values.region, 'device CLI');
  process.stderr.write(`Registry: ${opened.where}\n`);
  try {
    switch (command) {
      case 'add': {
        const { record, secret, generated, lineMembers } = await addDevice(opened.lines, {
          number: values.number as string,
          clientName: values.client as string,
          ...(values.secret !== undefined ? { secret: values.secret } : {}),
          ...(values.label !== undefined ? { label: values.label } : {}),
        });
        process.stdout.write(
          `Added ${record.clientName}${record.label ? ` (${record.label})` : ''} to the line ${record.phoneNumber} (${lineMembers} device${lineMembers === 1 ? '' : 's'} now).\n`,
        );
        if (generated) {
          process.stdout.write(`Device secret (shown only this once; enter it in the softphone with ${record.phoneNumber}): ${secret}\n`);
        } else {
          process.stdout.write('Device secret: the one you gave (stored only as a hash).\n');
        }
        return 0;
      }
      case 'list': {
        const lines = await listLines(opened.lines);
        if (values.json) {
          process.stdout.write(`${JSON.stringify(lines, null, 2)}\n`);
        } else if (lines.length === 0) {
          process.stdout.write('No devices registered.\n');
        } else {
          const rows = [['LINE', 'CLIENT', 'LABEL', 'CREATED']];
          for (const line of lines) {
            if (line.members.length === 0) rows.push([line.number, '(no devices)', '', '']);
            for (const d of line.members) rows.push([line.number, d.clientName, d.label ?? '', d.createdAt]);
          }
          process.stdout.write(formatTable(rows));
        }
        return 0;
      }
      case 'remove': {
        const removed = await removeDevice(opened.lines, selector);
        process.stdout.write(`Removed ${removed.clientName} from the line ${removed.phoneNumber}.\n`);
        return 0;
      }
      default: {
        const { device, secret } = await rotateDeviceSecret(opened.lines, selector);
        process.stdout.write(
          `New device secret for ${device.clientName} on ${device.phoneNumber} (shown only this once; the old one no longer works): ${secret}\n`,
        );
        return 0;
      }
    }
  } finally {
    await opened.close();
  }
}

silenceSdkNodeVersionWarning();
loadDotEnv();
runCli(() => run(process.argv.slice(2)), { exit: true, onError: registryCliFailure('device') });
