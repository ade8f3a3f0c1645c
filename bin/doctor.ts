/** `npm run doctor -- [--stack <name>] [--region <region>]`: see lib/ops/doctor.ts. */
import { runCli, silenceSdkNodeVersionWarning } from '../lib/local/cli-support';
import { DOCTOR_USAGE, parseDoctorArgs } from '../lib/ops/cli';
import { opsClients } from '../lib/ops/clients';
import { runDoctor } from '../lib/ops/doctor';

async function main(): Promise<number> {
  silenceSdkNodeVersionWarning();
  const args = parseDoctorArgs(process.argv.slice(2));
  if (args.help) {
    process.stdout.write(DOCTOR_USAGE);
    return 0;
  }
  const clients = opsClients(args);
  if (clients.twilioApiBaseUrl) console.error(`Twilio REST API: ${clients.twilioApiBaseUrl} (TWILIO_API_BASE_URL)`);
  try {
    return await runDoctor({ stackName: args.stackName, region: await clients.region() }, clients, { print: (line) => console.log(line) });
  } finally {
    clients.destroy();
  }
}

runCli(main);
