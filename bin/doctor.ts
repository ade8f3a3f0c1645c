/** `npm run doctor -- [--stack <name>] [--region <region>]`: see lib/ops/doctor.ts. */
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DynamoRegistry } from '../lambda/core/registry';
import { runCli } from '../lib/local/cli-support';
import { DOCTOR_USAGE, parseDoctorArgs } from '../lib/ops/cli';
import { runDoctor } from '../lib/ops/doctor';
import { twilioClientFactory } from '../lib/ops/twilio-client';

async function main(): Promise<number> {
  const args = parseDoctorArgs(process.argv.slice(2));
  if (args.help) {
    process.stdout.write(DOCTOR_USAGE);
    return 0;
  }
  const region = args.region ? { region: args.region } : {};
  const dynamo = new DynamoDBClient(region);
  return runDoctor(
    { stackName: args.stackName },
    {
      cfn: new CloudFormationClient(region),
      secrets: new SecretsManagerClient(region),
      twilio: twilioClientFactory(),
      registry: (outputs) =>
        new DynamoRegistry({ client: dynamo, devicesTable: outputs.DevicesTableName, attemptsTable: outputs.AttemptsTableName }),
    },
    { print: (line) => console.log(line) },
  );
}

runCli(main);
