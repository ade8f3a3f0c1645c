/** `npm run twilio:setup -- [options]`: see lib/ops/setup.ts and `--help`. */
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DynamoRegistry } from '../lambda/core/registry';
import { runCli } from '../lib/local/cli-support';
import { confirm, parseSetupArgs, promptHidden, promptLine, SETUP_USAGE } from '../lib/ops/cli';
import { registryDevicePort } from '../lib/ops/devices';
import { runSetup } from '../lib/ops/setup';
import { twilioClientFactory } from '../lib/ops/twilio-client';

async function main(): Promise<number> {
  const args = parseSetupArgs(process.argv.slice(2));
  if (args.help) {
    process.stdout.write(SETUP_USAGE);
    return 0;
  }
  const interactive = Boolean(process.stdin.isTTY) && !args.yes;
  let accountSid = process.env.TWILIO_ACCOUNT_SID?.trim();
  let authToken = process.env.TWILIO_AUTH_TOKEN?.trim();
  if ((!accountSid || !authToken) && !interactive) {
    console.error('✘ Set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN (or run in a terminal without --yes to be asked).');
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

  const region = args.region ? { region: args.region } : {};
  const dynamo = new DynamoDBClient(region);
  return runSetup(
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
    {
      cfn: new CloudFormationClient(region),
      secrets: new SecretsManagerClient(region),
      twilio: twilioClientFactory(),
      devices: (outputs) =>
        registryDevicePort(
          new DynamoRegistry({ client: dynamo, devicesTable: outputs.DevicesTableName, attemptsTable: outputs.AttemptsTableName }),
        ),
    },
    { print: (line) => console.log(line), confirm: interactive ? confirm : undefined },
  );
}

runCli(main);
