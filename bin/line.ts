/**
 * `npm run line -- <command>`: a line's settings (a line is a Twilio number and its devices, `npm run device`).
 *
 *   set --number <phone> [--ring-seconds 20] [--strategy simultaneous|sequential] [--forward-to +…|off]
 *       [--voicemail on|off] [--greeting "…"] [--language ja-JP] [--hours "Mon-Fri 09:00-18:00" --timezone Asia/Tokyo | --hours off]
 *   show --number <phone> [--json]
 *
 * The same registries as `npm run device`: the local one, or the deployed table with `--table <name> [--region <r>]`.
 * Exit codes: 0 done, 1 refused or failed, 2 usage error, 4 local registry unavailable.
 */
import { RING_SECONDS } from '../lambda/core/line';
import { parseCountries } from '../lambda/core/settings';
import type { Line } from '../lambda/ports';
import { type LineChanges, setLine, showLine } from '../lib/devices/device-admin';
import {
  need,
  openRegistry,
  type ParsedValues,
  parseCommandLine,
  REGISTRY_OPTIONS_HELP,
  registryCliFailure,
  UsageError,
  REGISTRY_CLI_OPTIONS,
} from '../lib/devices/registry-cli';
import { loadDotEnv, runCli, silenceSdkNodeVersionWarning } from '../lib/local/cli-support';

const HELP: Record<string, string> = {
  main: `Usage: npm run line -- <command> [options]

Commands:
  set    change what a line does with its calls
  show   show a line's settings and devices

A line is a Twilio number and the devices added to it (npm run device -- add). A call to it rings every
device (or one after another); nobody answers → the forward number (who must press 1) → voicemail → an
apology. Outside its hours a call goes straight to voicemail.

${REGISTRY_OPTIONS_HELP}`,
  set: `Usage: npm run line -- set --number <phone> [options]

  --ring-seconds <n>        how long devices ring (each, when sequential): ${RING_SECONDS.min}-${RING_SECONDS.max}, default ${RING_SECONDS.default}
  --strategy <s>            simultaneous (every device at once, the default) or sequential (in the order added)
  --forward-to <phone|off>  forward calls nobody answers (the person presses 1 to accept); off: no forwarding.
                            It must pass the outgoing-call policy (ALLOWED_DESTINATION_COUNTRIES, else the line's country)
  --voicemail <on|off>      take a message when nobody answers (and outside hours); default on
  --greeting <text|default> what callers hear before the tone; default: the app's words in the line's language
  --language <tag>          the language callers are spoken to in, e.g. en-US, ja-JP
  --hours <spec|off>        opening hours, e.g. "Mon-Fri 09:00-18:00" or "Mon-Fri 09:00-12:00,13:00-18:00; Sat 10:00-14:00";
                            off: always open. Needs --timezone
  --timezone <zone>         the hours' IANA time zone, e.g. Asia/Tokyo, America/New_York

${REGISTRY_OPTIONS_HELP}`,
  show: `Usage: npm run line -- show --number <phone> [--json]

${REGISTRY_OPTIONS_HELP}`,
};

const OPTIONS = {
  number: { type: 'string' },
  'ring-seconds': { type: 'string' },
  strategy: { type: 'string' },
  'forward-to': { type: 'string' },
  voicemail: { type: 'string' },
  greeting: { type: 'string' },
  language: { type: 'string' },
  hours: { type: 'string' },
  timezone: { type: 'string' },
  ...REGISTRY_CLI_OPTIONS,
} as const;

type Values = ParsedValues<typeof OPTIONS>;

/** The flags given, as changes; usage errors for values of the wrong form (the rules themselves: lambda/core/line.ts). */
function changesFrom(values: Values): LineChanges {
  const changes: LineChanges = {};
  const help = HELP.set;
  if (values['ring-seconds'] !== undefined) {
    if (!/^\d+$/.test(values['ring-seconds'])) throw new UsageError(`set: --ring-seconds takes a whole number.\n\n${help}`);
    changes.ringSeconds = Number(values['ring-seconds']);
  }
  if (values.strategy !== undefined) {
    if (values.strategy !== 'simultaneous' && values.strategy !== 'sequential')
      throw new UsageError(`set: --strategy takes simultaneous or sequential.\n\n${help}`);
    changes.strategy = values.strategy;
  }
  if (values['forward-to'] !== undefined) changes.forwardTo = values['forward-to'] === 'off' ? null : values['forward-to'];
  if (values.voicemail !== undefined) {
    if (values.voicemail !== 'on' && values.voicemail !== 'off') throw new UsageError(`set: --voicemail takes on or off.\n\n${help}`);
    changes.voicemail = values.voicemail === 'on';
  }
  if (values.greeting !== undefined) changes.greeting = values.greeting === 'default' ? null : values.greeting;
  if (values.language !== undefined) changes.language = values.language;
  if (values.hours === 'off') {
    if (values.timezone !== undefined) throw new UsageError(`set: --hours off takes no --timezone.\n\n${help}`);
    changes.hours = null;
  } else if (values.hours !== undefined || values.timezone !== undefined) {
    if (values.hours === undefined || values.timezone === undefined) throw new UsageError(`set: --hours and --timezone go together.\n\n${help}`);
    changes.hours = { hours: values.hours, timeZone: values.timezone };
  }
  if (Object.keys(changes).length === 0) throw new UsageError(`set: nothing to change.\n\n${help}`);
  return changes;
}

function describe(line: Line): string {
  const s = line.settings;
  const out = [
    `Line ${line.number}`,
    `  rings         ${s.strategy === 'simultaneous' ? 'every device at once' : 'one device after another'} for ${s.ringSeconds} s${s.strategy === 'sequential' ? ' each' : ''}`,
    `  hours         ${s.hours ? `${s.hours} (${s.timeZone})` : 'always open'}`,
    `  forward to    ${s.forwardTo ?? 'off'}`,
    `  voicemail     ${s.voicemail ? 'on' : 'off'}`,
    `  greeting      ${s.greeting ?? '(the default, in the line’s language)'}`,
    `  language      ${s.language}`,
    `  devices       ${line.members.length === 0 ? 'none' : line.members.map((m) => `${m.clientName}${m.label ? ` (${m.label})` : ''}`).join(', ')}`,
  ];
  return `${out.join('\n')}\n`;
}

async function run(argv: string[]): Promise<number> {
  const parsed = parseCommandLine(argv, HELP, OPTIONS, {
    set: Object.keys(OPTIONS).filter((k) => k !== 'json'),
    show: ['number', 'json'],
  });
  if ('exitCode' in parsed) return parsed.exitCode;
  const { command, values } = parsed;
  const number = need(values.number, '--number', command, HELP[command]);
  const changes = command === 'set' ? changesFrom(values) : undefined;

  const opened = await openRegistry(values.table, values.region, 'line CLI');
  process.stderr.write(`Registry: ${opened.where}\n`);
  try {
    if (changes) {
      const countries = parseCountries(process.env.ALLOWED_DESTINATION_COUNTRIES, 'ALLOWED_DESTINATION_COUNTRIES');
      const line = await setLine(opened.lines, number, changes, countries);
      process.stdout.write(`Updated.\n${describe(line)}`);
      return 0;
    }
    const line = await showLine(opened.lines, number);
    process.stdout.write(values.json ? `${JSON.stringify(line, null, 2)}\n` : describe(line));
    return 0;
  } finally {
    await opened.close();
  }
}

silenceSdkNodeVersionWarning();
loadDotEnv();
runCli(() => run(process.argv.slice(2)), { exit: true, onError: registryCliFailure('line') });
