/** Argument parsing, prompts and AWS client wiring shared by bin/twilio-setup.ts and bin/doctor.ts. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { DEFAULT_STACK_NAME } from '../../lambda/core/settings';
import { DEFAULT_FRIENDLY_NAME } from './setup';

export const SETUP_USAGE = `Usage: npm run twilio:setup -- [options]

Configures Twilio for a deployed stack: creates or reuses an API key and a TwiML App named
"${DEFAULT_FRIENDLY_NAME}", points the TwiML App and each --number at the stack's webhooks (voice URL,
fallback TwiML, and the status callback that feeds the call log), creates or reuses the softphone's
"Test my setup" TwiML App ("${DEFAULT_FRIENDLY_NAME} preflight", voice URL: the preflight webhook), writes
the credentials into the stack's secret (last, only when everything else succeeded) and offers to register
each number as a device. Running it again changes nothing. It ends with the one step Twilio has no API
for: where in the Twilio Console to set the Debugger webhook to the stack's debugger_events URL.

Credentials: TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN, or asked for in a terminal (the token is not echoed).
TWILIO_API_BASE_URL sends every Twilio REST call elsewhere (for mocks and tests); the AWS SDK's variables
(AWS_REGION, AWS_PROFILE, AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_<SERVICE>, …) apply as to any AWS tool.

Options:
  --stack <name>            deployed stack (default ${DEFAULT_STACK_NAME})
  --region <region>         AWS region of the stack (default: the AWS SDK's region chain)
  --number <phone>[=<client>]  a Twilio number of the account to wire to the stack (repeatable);
                            <client> is its softphone identity when registered (default softphone-<digits>)
  --register-devices        register each --number as a device without asking (prints each secret once)
  --friendly-name <name>    friendly name of the API key and TwiML App (default ${DEFAULT_FRIENDLY_NAME})
  --dry-run                 print the plan and change nothing
  -y, --yes                 apply without asking for confirmation (devices only with --register-devices)
  -h, --help                this text
`;

export const DOCTOR_USAGE = `Usage: npm run doctor -- [options]

Checks a deployment end to end and prints one line per check (✔/✘), with a fix under each failure:
the stack, the secret, Twilio (API key, TwiML Apps with their voice, fallback and status callback URLs,
numbers), the webhooks, the site, and operations (the alarm topic has a confirmed subscription, the
stack's alarms exist; an alarm in ALARM is a ! warning). Exits non-zero when any check fails.
TWILIO_API_BASE_URL and the AWS SDK's variables apply as for twilio:setup.

Options:
  --stack <name>     deployed stack (default ${DEFAULT_STACK_NAME})
  --region <region>  AWS region of the stack (default: the AWS SDK's region chain)
  -h, --help         this text
`;

export interface SetupArgs extends DeploymentArgs {
  numbers: { number: string; clientName?: string }[];
  registerDevices: boolean;
  friendlyName: string;
  dryRun: boolean;
  yes: boolean;
}

/** The options every ops command takes: which deployed stack, where, and help. */
const DEPLOYMENT_OPTIONS = {
  help: { type: 'boolean', short: 'h', default: false },
  stack: { type: 'string', default: DEFAULT_STACK_NAME },
  region: { type: 'string' },
} as const satisfies ParseArgsConfig['options'];

export interface DeploymentArgs {
  help: boolean;
  stackName: string;
  region?: string;
}

function deploymentArgs(values: { help?: boolean; stack?: string; region?: string }): DeploymentArgs {
  return { help: values.help ?? false, stackName: values.stack ?? DEFAULT_STACK_NAME, region: values.region };
}

export function parseSetupArgs(argv: string[]): SetupArgs {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      ...DEPLOYMENT_OPTIONS,
      number: { type: 'string', multiple: true, default: [] },
      'register-devices': { type: 'boolean', default: false },
      'friendly-name': { type: 'string', default: DEFAULT_FRIENDLY_NAME },
      'dry-run': { type: 'boolean', default: false },
      yes: { type: 'boolean', short: 'y', default: false },
    },
  });
  const numbers = (values.number ?? []).map((spec) => {
    const i = spec.indexOf('=');
    return i < 0 ? { number: spec } : { number: spec.slice(0, i), clientName: spec.slice(i + 1) };
  });
  return {
    ...deploymentArgs(values),
    numbers,
    registerDevices: values['register-devices'] ?? false,
    friendlyName: values['friendly-name'] ?? DEFAULT_FRIENDLY_NAME,
    dryRun: values['dry-run'] ?? false,
    yes: values.yes ?? false,
  };
}

export function parseDoctorArgs(argv: string[]): DeploymentArgs {
  const { values } = parseArgs({ args: argv, strict: true, allowPositionals: false, options: DEPLOYMENT_OPTIONS });
  return deploymentArgs(values);
}

/** Reads one line from a terminal without echoing it (for the auth token). */
export function promptHidden(
  question: string,
  input: NodeJS.ReadStream = process.stdin,
  output: NodeJS.WriteStream = process.stdout,
): Promise<string> {
  return new Promise((resolve, reject) => {
    if (!input.isTTY) {
      reject(new Error('cannot prompt without a terminal: set TWILIO_AUTH_TOKEN'));
      return;
    }
    output.write(question);
    let value = '';
    input.setRawMode(true);
    input.resume();
    input.setEncoding('utf8');
    const done = (err?: Error) => {
      input.setRawMode(false);
      input.pause();
      input.removeListener('data', onData);
      output.write('\n');
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') return done();
        if (ch === '\u0003') return done(new Error('cancelled'));
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else if (ch >= ' ') value += ch;
      }
    };
    input.on('data', onData);
  });
}

/** Reads one echoed line. */
export async function promptLine(question: string): Promise<string> {
  const readline = await import('node:readline/promises');
  const rl = readline.createInterface({ input: process.stdin, output: process.stdout });
  try {
    return (await rl.question(question)).trim();
  } finally {
    rl.close();
  }
}

export async function confirm(question: string): Promise<boolean> {
  return /^y(es)?$/i.test(await promptLine(question));
}
