/** `npm run twilio:setup -- [options]`: see lib/ops/setup.ts and `--help`. */
import { runCli, silenceSdkNodeVersionWarning } from '../lib/local/cli-support';
import { confirm, parseSetupArgs, promptHidden, promptLine, SETUP_USAGE } from '../lib/ops/cli';
import { opsClients } from '../lib/ops/clients';
import { registryDevicePort } from '../lib/ops/devices';
import { runSetup } from '../lib/ops/setup';

async function main(): Promise<number> {
  silenceSdkNodeVersionWarning();
  const args = parseSetupArgs(process.argv.slice(2));
  if (args.help) {
    process.stdout.write(SETUP_USAGE);
    return 0;
  }
  // A terminal can be asked for credentials; --yes only skips the confirmations.
  const terminal = Boolean(process.stdin.isTTY);
  const interactive = terminal && !args.yes;
  let accountSid = process.env.TWILIO_ACCOUNT_SID?.trim();
  let authToken = process.env.TWILIO_AUTH_TOKEN?.trim();
  if ((!accountSid || !authToken) && !terminal) {
    console.error('✘ Set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN (or run in a terminal to be asked).');
    return 2;
  }
  if (!accountSid) accountSid = await promptLine('Twilio account SID (AC…): ');
  if (!authToken) authToken = (await promptHidden('Twilio auth token (not echoed): ')).trim();
  if (!/^AC[0-9a-f]{32}$/.test(accountSid)) {
    console.error(`✘ "${accountSid}" is not an account SID (AC followed by 32 hex digits).`);
    return 2;
  }
  if (!authToken) {
    console.error('✘ The auth token is empty.');
    return 2;
  }

  const clients = opsClients(args);
  if (clients.twilioApiBaseUrl) console.error(`Twilio REST API: ${clients.twilioApiBaseUrl} (TWILIO_API_BASE_URL)`);
  try {
    return await runSetup(
      {
        accountSid,
        authToken,
        stackName: args.stackName,
        numbers: args.numbers,
        friendlyName: args.friendlyName,
        registerDevices: args.registerDevices ? true : interactive ? 'ask' : false,
        dryRun: args.dryRun,
        yes: args.yes,
      },
      { ...clients, devices: (outputs) => registryDevicePort(clients.registry(outputs)) },
      { print: (line) => console.log(line), confirm: interactive ? confirm : undefined },
    );
  } finally {
    clients.destroy();
  }
}

runCli(main);
