/**
 * The line and device commands as a user runs them (issue 14): `npm run line -- set|show` and `npm run device`
 * spawned with tsx against a local registry at SOFTPHONE_REGISTRY — through the registry a running owner holds
 * (here the test process, as `npm start` would), or embedding it when none runs. Exit codes: 0 done, 1 refused,
 * 2 usage error, 4 registry unavailable.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { verifyDeviceSecret } from '../../lambda/core/device-secret';
import { DEFAULT_LINE_SETTINGS } from '../../lambda/core/line';
import { type LocalRegistry, startEmbeddedRegistry } from '../../lib/local/registry-server';
import { type CommandResult, runCommand } from '../support/fixtures';
import { memberRecord } from '../support/lines';

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const TSX = path.join(REPO_ROOT, 'node_modules', '.bin', 'tsx');
const LINE = '+815031234567';
const LINE_TYPED = '+81-50-3123-4567';
const OTHER_LINE = '+815031234568';

jest.setTimeout(300_000);

let dir: string;
let registryPath: string;
let registries = 0;
let registry: LocalRegistry | undefined;

/** The environment of a user's shell, without Twilio or AWS settings, the policy variable unset unless given. */
function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('TWILIO_') && !k.startsWith('AWS_') && k !== 'ALLOWED_DESTINATION_COUNTRIES') out[k] = v;
  }
  return { ...out, SOFTPHONE_REGISTRY: registryPath, ...extra };
}

/** Runs `tsx bin/<script> …args` in a temp dir (no developer .env is read). */
const run = (script: 'line.ts' | 'device.ts', args: string[], extra: Record<string, string> = {}): Promise<CommandResult> =>
  runCommand(TSX, [path.join(REPO_ROOT, 'bin', script), ...args], { cwd: dir, env: env(extra) });
const line = (args: string[], extra?: Record<string, string>) => run('line.ts', args, extra);
const device = (args: string[], extra?: Record<string, string>) => run('device.ts', args, extra);

/** Runs several commands a few at a time (the outcomes do not depend on each other). */
async function runAll<T>(items: T[], fn: (item: T) => Promise<CommandResult>): Promise<CommandResult[]> {
  const results: CommandResult[] = [];
  for (let i = 0; i < items.length; i += 4) results.push(...(await Promise.all(items.slice(i, i + 4).map(fn))));
  return results;
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'softphone-line-cli-'));
});
beforeEach(async () => {
  registryPath = path.join(dir, `registry-${++registries}`);
  // the registry's owner runs (as `npm start` would): the commands go through it
  registry = await startEmbeddedRegistry(registryPath, { owner: 'line CLI test' });
});
afterEach(async () => {
  await registry?.close();
  registry = undefined;
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function seedLine(): Promise<void> {
  await registry!.lines.put(await memberRecord(LINE, 'alice', { label: 'Front desk', createdAt: '2024-01-01T00:00:00.000Z' }));
  await registry!.lines.put(await memberRecord(LINE, 'bob', { createdAt: '2024-01-02T00:00:00.000Z' }));
}

describe('npm run line -- set / show', () => {
  test('set with every flag: stored as given (numbers in E.164), shown as text and as JSON', async () => {
    await seedLine();
    const set = await line([
      'set',
      '--number',
      LINE_TYPED,
      '--ring-seconds',
      '30',
      '--strategy',
      'sequential',
      '--forward-to',
      '090-1234-5678',
      '--voicemail',
      'off',
      '--greeting',
      'Hello, you reached the team.',
      '--language',
      'ja-JP',
      '--hours',
      'Mon-Fri 09:00-12:00,13:00-18:00; Sat 10:00-14:00',
      '--timezone',
      'Asia/Tokyo',
    ]);
    expect(set.stderr).toContain(`Registry: ${registryPath} (through the running line CLI test, pid ${process.pid})`);
    expect(set.code).toBe(0);
    expect(set.stdout).toBe(
      [
        'Updated.',
        `Line ${LINE}`,
        '  rings         one device after another for 30 s each',
        '  hours         Mon-Fri 09:00-12:00,13:00-18:00; Sat 10:00-14:00 (Asia/Tokyo)',
        '  forward to    +819012345678',
        '  voicemail     off',
        '  greeting      Hello, you reached the team.',
        '  language      ja-JP',
        '  devices       alice (Front desk), bob',
        '',
      ].join('\n'),
    );
    const expected = {
      ringSeconds: 30,
      strategy: 'sequential',
      forwardTo: '+819012345678',
      voicemail: false,
      greeting: 'Hello, you reached the team.',
      language: 'ja-JP',
      hours: 'Mon-Fri 09:00-12:00,13:00-18:00; Sat 10:00-14:00',
      timeZone: 'Asia/Tokyo',
    };
    expect((await registry!.lines.findLine(LINE))?.settings).toEqual(expected);

    const shown = await line(['show', '--number', LINE, '--json']);
    expect(shown.code).toBe(0);
    expect(JSON.parse(shown.stdout)).toEqual({
      number: LINE,
      settings: expected,
      members: [
        { phoneNumber: LINE, clientName: 'alice', label: 'Front desk', createdAt: '2024-01-01T00:00:00.000Z' },
        { phoneNumber: LINE, clientName: 'bob', createdAt: '2024-01-02T00:00:00.000Z' },
      ],
    });
    expect(shown.stdout).not.toMatch(/secretHash|scrypt/);
  });

  test('one flag changes one setting; off / default clear the optional ones', async () => {
    await seedLine();
    expect(
      (
        await line([
          'set',
          '--number',
          LINE,
          '--forward-to',
          '+81 90 1234 5678',
          '--greeting',
          'Hi',
          '--hours',
          'Sat 10:00-11:00',
          '--timezone',
          'UTC',
        ])
      ).code,
    ).toBe(0);
    expect((await line(['set', '--number', LINE, '--ring-seconds', '45'])).code).toBe(0);
    expect((await registry!.lines.findLine(LINE))?.settings).toEqual({
      ...DEFAULT_LINE_SETTINGS,
      ringSeconds: 45,
      forwardTo: '+819012345678',
      greeting: 'Hi',
      hours: 'Sat 10:00-11:00',
      timeZone: 'UTC',
    });
    const cleared = await line(['set', '--number', LINE, '--forward-to', 'off', '--greeting', 'default', '--hours', 'off', '--voicemail', 'on']);
    expect(cleared.code).toBe(0);
    expect(cleared.stdout).toContain('  hours         always open\n');
    expect(cleared.stdout).toContain('  forward to    off\n');
    expect(cleared.stdout).toContain('  greeting      (the default, in the line’s language)\n');
    expect((await registry!.lines.findLine(LINE))?.settings).toEqual({ ...DEFAULT_LINE_SETTINGS, ringSeconds: 45 });
    const text = await line(['show', '--number', LINE_TYPED]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('  rings         every device at once for 45 s\n');
  });

  test('usage errors exit 2 with the message and the command’s help, and change nothing', async () => {
    await seedLine();
    const cases: [string[], RegExp][] = [
      [['frobnicate'], /Unknown command "frobnicate"/],
      [['set'], /set: --number is required/],
      [['set', '--number', LINE], /set: nothing to change/],
      [['set', '--number', LINE, '--ring-seconds', 'ten'], /--ring-seconds takes a whole number/],
      [['set', '--number', LINE, '--ring-seconds', '-5'], /ring-seconds/],
      [['set', '--number', LINE, '--strategy', 'random'], /--strategy takes simultaneous or sequential/],
      [['set', '--number', LINE, '--voicemail', 'maybe'], /--voicemail takes on or off/],
      [['set', '--number', LINE, '--hours', 'Mon 09:00-10:00'], /--hours and --timezone go together/],
      [['set', '--number', LINE, '--timezone', 'UTC'], /--hours and --timezone go together/],
      [['set', '--number', LINE, '--hours', 'off', '--timezone', 'UTC'], /--hours off takes no --timezone/],
      [['set', '--number', LINE, '--bogus', '1'], /Unknown option '--bogus'/],
      [['set', '--number', LINE, 'extra'], /Unexpected argument 'extra'|positional/i],
      [['show'], /show: --number is required/],
      [['show', '--number', LINE, '--ring-seconds', '20'], /show: --ring-seconds is not an option of this command/],
    ];
    const results = await runAll(cases, ([args]) => line(args));
    results.forEach((result, i) => {
      const [args, message] = cases[i];
      expect({ args, code: result.code }).toEqual({ args, code: 2 });
      expect(result.stderr).toMatch(message);
      expect(result.stderr).toContain('Usage: npm run line --');
      expect(result.stdout).toBe('');
    });
    const none = await line([]);
    expect(none.code).toBe(2);
    expect(none.stdout).toContain('Usage: npm run line -- <command>');
    expect((await registry!.lines.findLine(LINE))?.settings).toEqual(DEFAULT_LINE_SETTINGS);
  });

  test('refusals exit 1 with what is wrong, and change nothing: bad hours, bad time zone, forward to a premium-rate or other-country number, ring seconds out of range', async () => {
    await seedLine();
    const cases: [string[], RegExp][] = [
      [['--hours', 'Mon-Fri 9-17', '--timezone', 'Asia/Tokyo'], /^line: --hours\/--timezone: "9" is not a time: use HH:MM/m],
      [['--hours', 'Mon-Fri 18:00-09:00', '--timezone', 'Asia/Tokyo'], /ends before it starts/],
      [['--hours', 'Funday 09:00-18:00', '--timezone', 'Asia/Tokyo'], /"Funday" is not a day/],
      [['--hours', 'Mon-Fri 09:00-18:00', '--timezone', 'Mars/Olympus_Mons'], /"Mars\/Olympus_Mons" is not a time zone/],
      [['--forward-to', '0990-123-456'], /--forward-to \+81990123456 is refused by the destination policy/],
      [['--forward-to', '0570-123-456'], /--forward-to \+81570123456 is refused by the destination policy/],
      [['--forward-to', '+1 202 555 0123'], /--forward-to \+12025550123 is refused by the destination policy/],
      [['--forward-to', LINE_TYPED], /--forward-to cannot be the line’s own number/],
      [['--forward-to', 'call-me-maybe'], /--forward-to "call-me-maybe" is not a phone number/],
      [['--ring-seconds', '4'], /--ring-seconds must be a whole number from 5 to 120/],
      [['--ring-seconds', '121'], /--ring-seconds must be a whole number from 5 to 120/],
      [['--language', 'japanese'], /--language must be a language tag/],
      [['--greeting', 'x'.repeat(501)], /--greeting must be 1 to 500 characters/],
    ];
    const results = await runAll(cases, ([args]) => line(['set', '--number', LINE, ...args]));
    results.forEach((result, i) => {
      const [args, message] = cases[i];
      expect({ args, code: result.code }).toEqual({ args, code: 1 });
      expect(result.stderr).toMatch(message);
      expect(result.stdout).toBe('');
    });
    expect((await registry!.lines.findLine(LINE))?.settings).toEqual(DEFAULT_LINE_SETTINGS);
  });

  test('another country’s forward number passes when ALLOWED_DESTINATION_COUNTRIES allows it', async () => {
    await seedLine();
    const allowed = await line(['set', '--number', LINE, '--forward-to', '+1 202 555 0123'], { ALLOWED_DESTINATION_COUNTRIES: 'JP,US' });
    expect(allowed.code).toBe(0);
    expect((await registry!.lines.findLine(LINE))?.settings.forwardTo).toBe('+12025550123');
    const premium = await line(['set', '--number', LINE, '--forward-to', '+1 900 555 0123'], { ALLOWED_DESTINATION_COUNTRIES: 'JP,US' });
    expect(premium.code).toBe(1);
  });

  test('an unknown line or a number that is not one exits 1; no registry there exits 4', async () => {
    const [unknownShow, unknownSet, notANumber] = await Promise.all([
      line(['show', '--number', '+81-50-3999-0000']),
      line(['set', '--number', '+81-50-3999-0000', '--ring-seconds', '30']),
      line(['show', '--number', '12ab']),
    ]);
    for (const r of [unknownShow, unknownSet]) {
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('+815039990000 has no line: add a device to it first (npm run device -- add).');
    }
    expect(notANumber.code).toBe(1);
    expect(notANumber.stderr).toMatch(/"12ab" is not a phone number in international format/);
    const missing = await line(['show', '--number', LINE], { SOFTPHONE_REGISTRY: path.join(dir, 'nowhere') });
    expect(missing.code).toBe(4);
    expect(missing.stderr).toContain('No local registry at');
    expect(await registry!.lines.findLine('+815039990000')).toBeUndefined();
  });

  test('with no owner running, the command embeds the registry itself', async () => {
    await seedLine();
    await registry!.close();
    registry = undefined;
    const set = await line(['set', '--number', LINE, '--strategy', 'sequential']);
    expect(set.code).toBe(0);
    expect(set.stderr).toBe(`Registry: ${registryPath}\n`);
    registry = await startEmbeddedRegistry(registryPath, { owner: 'line CLI test' });
    expect((await registry.lines.findLine(LINE))?.settings.strategy).toBe('sequential');
  });
});

describe('npm run device with lines', () => {
  const secretOf = (stdout: string) => /\): (\S+)\n$/.exec(stdout)?.[1];

  test('two devices on one number; list grouped by line; --number is ambiguous then; remove and rotate by --client', async () => {
    const [alice, bob] = [
      await device(['add', '--number', LINE_TYPED, '--client', 'alice', '--label', 'Front desk']),
      await device(['add', '--number', LINE, '--client', 'bob']),
    ];
    expect(alice.code).toBe(0);
    expect(alice.stdout).toContain(`Added alice (Front desk) to the line ${LINE} (1 device now).`);
    expect(bob.code).toBe(0);
    expect(bob.stdout).toContain(`Added bob to the line ${LINE} (2 devices now).`);
    const aliceSecret = secretOf(alice.stdout)!;
    const bobSecret = secretOf(bob.stdout)!;
    expect(aliceSecret).not.toBe(bobSecret);
    const hashes = Object.fromEntries((await registry!.lines.findForSignIn(LINE)).map((m) => [m.clientName, m.secretHash]));
    expect(await verifyDeviceSecret(aliceSecret, hashes.alice)).toBe(true);
    expect(await verifyDeviceSecret(bobSecret, hashes.bob)).toBe(true);
    expect(await verifyDeviceSecret(aliceSecret, hashes.bob)).toBe(false);

    const carol = await device(['add', '--number', '+81-50-3123-4568', '--client', 'carol']);
    expect(carol.code).toBe(0);

    const listed = await device(['list']);
    expect(listed.code).toBe(0);
    const rows = listed.stdout
      .trimEnd()
      .split('\n')
      .map((r) => r.split(/\s{2,}/));
    expect(rows.map((r) => r.slice(0, 2))).toEqual([
      ['LINE', 'CLIENT'],
      [LINE, 'alice'],
      [LINE, 'bob'],
      [OTHER_LINE, 'carol'],
    ]);
    expect(rows[1][2]).toBe('Front desk');
    const json = await device(['list', '--json']);
    const lines = JSON.parse(json.stdout) as { number: string; settings: unknown; members: { clientName: string }[] }[];
    expect(lines.map((l) => [l.number, l.members.map((m) => m.clientName)])).toEqual([
      [LINE, ['alice', 'bob']],
      [OTHER_LINE, ['carol']],
    ]);
    expect(lines[0].settings).toEqual(DEFAULT_LINE_SETTINGS);
    expect(json.stdout).not.toMatch(/secretHash|scrypt/);

    // two devices: --number does not say which
    const [ambiguousRemove, ambiguousRotate] = await Promise.all([
      device(['remove', '--number', LINE]),
      device(['rotate-secret', '--number', LINE_TYPED]),
    ]);
    for (const r of [ambiguousRemove, ambiguousRotate]) {
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`${LINE} has 2 devices (alice, bob): name one with --client.`);
    }
    expect((await registry!.lines.findLine(LINE))?.members).toHaveLength(2);

    // by --client
    const rotated = await device(['rotate-secret', '--client', 'bob']);
    expect(rotated.code).toBe(0);
    expect(rotated.stdout).toContain(`New device secret for bob on ${LINE}`);
    const newSecret = secretOf(rotated.stdout)!;
    const after = Object.fromEntries((await registry!.lines.findForSignIn(LINE)).map((m) => [m.clientName, m.secretHash]));
    expect(await verifyDeviceSecret(newSecret, after.bob)).toBe(true);
    expect(await verifyDeviceSecret(bobSecret, after.bob)).toBe(false);
    expect(after.alice).toBe(hashes.alice);

    const removed = await device(['remove', '--client', 'alice']);
    expect(removed.code).toBe(0);
    expect(removed.stdout).toBe(`Removed alice from the line ${LINE}.\n`);
    // one device left: --number is enough now
    const lastOne = await device(['remove', '--number', LINE]);
    expect(lastOne.code).toBe(0);
    expect(lastOne.stdout).toBe(`Removed bob from the line ${LINE}.\n`);
    const empty = await device(['list']);
    expect(empty.stdout).toMatch(new RegExp(`^\\${LINE}\\s+\\(no devices\\)$`, 'm'));
  });

  test('refusals: an eleventh device, a name used on another line, a --client of another line, an unknown --client', async () => {
    for (let i = 0; i < 10; i++) await registry!.lines.put(await memberRecord(LINE, `member_${i}`));
    await registry!.lines.put(await memberRecord(OTHER_LINE, 'carol'));
    const [eleventh, taken, wrongLine, unknown] = await Promise.all([
      device(['add', '--number', LINE, '--client', 'member_10']),
      device(['add', '--number', LINE, '--client', 'carol']),
      device(['remove', '--client', 'carol', '--number', LINE]),
      device(['rotate-secret', '--client', 'nobody']),
    ]);
    expect(eleventh.code).toBe(1);
    expect(eleventh.stderr).toContain(`The line ${LINE} already has 10 devices, the most one call can ring. Remove one first.`);
    expect(taken.code).toBe(1);
    expect(taken.stderr).toContain(`The client name "carol" is already used on ${OTHER_LINE}; client names must be unique.`);
    expect(wrongLine.code).toBe(1);
    expect(wrongLine.stderr).toContain(`"carol" is a device of ${OTHER_LINE}, not of ${LINE}.`);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('No device has the client name "nobody".');
    expect((await registry!.lines.findLine(LINE))?.members).toHaveLength(10);
    expect((await registry!.lines.findByClientName('carol'))?.phoneNumber).toBe(OTHER_LINE);
  });

  test('usage errors exit 2: remove or rotate without a device named', async () => {
    const [remove, rotate, add] = await Promise.all([device(['remove']), device(['rotate-secret']), device(['add', '--number', LINE])]);
    for (const r of [remove, rotate]) {
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/--client \(or --number\) is required/);
    }
    expect(add.code).toBe(2);
    expect(add.stderr).toContain('add: --client is required.');
  });
});
