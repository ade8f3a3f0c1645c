/**
 * Lines and their devices, shared by the device and line CLIs (`bin/device.ts`, `bin/line.ts`) and `twilio:setup`.
 *
 * A line is a Twilio number; each device added with that number joins its line (a new number starts one, with
 * the default settings), up to MAX_LINE_MEMBERS. Numbers are normalised exactly as the handlers normalise them
 * (`normalizePhoneNumber`), client names are checked against what Twilio accepts as an identity
 * (`isValidClientName`) and are unique across lines, and a device secret is stored only as its salted hash
 * (`hashDeviceSecret`) — the clear secret is returned once to the caller and never stored or logged.
 */
import { checkDestination, phoneRulesWithTypes } from '../../lambda/core/destination-policy';
import { generateDeviceSecret, hashDeviceSecret, verifyDeviceSecret } from '../../lambda/core/device-secret';
import { checkLineSettings, DEFAULT_LINE_SETTINGS, LineSettingError, type LineSettings, MAX_LINE_MEMBERS } from '../../lambda/core/line';
import { isValidClientName, normalizePhoneNumber } from '../../lambda/core/phone';
import { DEVICE_SECRET_LENGTH, deviceSecretLengthOk } from '../../lambda/core/settings';
import {
  type Device,
  type DeviceRecord,
  DuplicateClientNameError,
  type Line,
  type LineDirectory,
  LineFullError,
  UnknownLineError,
} from '../../lambda/ports';

export const MAX_LABEL_LENGTH = 200;

/** A refusal the user can fix (bad number, bad client name, duplicate, unknown device, full line); the message says how. */
export class DeviceAdminError extends Error {
  constructor(
    message: string,
    readonly code:
      | 'invalid-number'
      | 'invalid-client-name'
      | 'invalid-secret'
      | 'invalid-label'
      | 'invalid-setting'
      | 'duplicate-client-name'
      | 'duplicate-secret'
      | 'line-full'
      | 'unknown-device'
      | 'unknown-line'
      | 'ambiguous-device',
  ) {
    super(message);
    this.name = 'DeviceAdminError';
  }
}

export interface AddDeviceInput {
  /** The line's Twilio phone number in any common format; stored as E.164. */
  number: string;
  /** The Twilio Client identity. */
  clientName: string;
  /** The device secret; generated when omitted. */
  secret?: string;
  label?: string;
}

export interface AddDeviceResult {
  record: DeviceRecord;
  /** The clear secret: show it once, never store it. */
  secret: string;
  /** True when the secret was generated (the user has not seen it yet). */
  generated: boolean;
  /** How many devices the line has now. */
  lineMembers: number;
}

/** The number in E.164, or a DeviceAdminError saying why it is refused. */
export function normalizeDeviceNumber(number: string): string {
  try {
    return normalizePhoneNumber(number);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new DeviceAdminError(
      `"${number}" is not a phone number in international format (e.g. +81-50-3123-4567 or +815031234567): ${reason}`,
      'invalid-number',
    );
  }
}

function checkClientName(clientName: string): void {
  if (!isValidClientName(clientName)) {
    throw new DeviceAdminError(
      `"${clientName}" is not a valid client name: use 1 to 121 letters, digits, "_", "-" or "." (not starting with "-" or "."), e.g. DeviceId_0001.`,
      'invalid-client-name',
    );
  }
}

function checkSecret(secret: string): void {
  if (!deviceSecretLengthOk(secret)) {
    throw new DeviceAdminError(
      `A device secret must be ${DEVICE_SECRET_LENGTH.min} to ${DEVICE_SECRET_LENGTH.max} characters long, emoji and other characters beyond the Basic Multilingual Plane counting two (omit it to have one generated).`,
      'invalid-secret',
    );
  }
  if (secret.trim() !== secret) throw new DeviceAdminError('A device secret must not start or end with white space.', 'invalid-secret');
}

/**
 * Adds a device to its number's line. Refuses a client name used anywhere, a full line, and a chosen secret that
 * another device of the line already has (a line's devices sign in with the same number: the secret tells them
 * apart).
 */
export async function addDevice(lines: LineDirectory, input: AddDeviceInput): Promise<AddDeviceResult> {
  const phoneNumber = normalizeDeviceNumber(input.number);
  const clientName = input.clientName;
  checkClientName(clientName);
  const label = input.label?.trim() || undefined;
  if (label !== undefined && label.length > MAX_LABEL_LENGTH) {
    throw new DeviceAdminError(`A label must be at most ${MAX_LABEL_LENGTH} characters long.`, 'invalid-label');
  }
  const generated = input.secret === undefined;
  const secret = input.secret ?? generateDeviceSecret();
  if (!generated) checkSecret(secret);

  const owner = await lines.findByClientName(clientName);
  if (owner) throw duplicateClientName(clientName, owner.phoneNumber);
  const members = await lines.findForSignIn(phoneNumber);
  if (members.length >= MAX_LINE_MEMBERS) throw lineFull(phoneNumber);
  if (!generated) {
    for (const member of members) {
      if (await verifyDeviceSecret(secret, member.secretHash)) {
        throw new DeviceAdminError(
          `Another device of ${phoneNumber} has this secret; each device needs its own (omit --secret to have one generated).`,
          'duplicate-secret',
        );
      }
    }
  }

  const record: DeviceRecord = {
    phoneNumber,
    clientName,
    secretHash: await hashDeviceSecret(secret),
    createdAt: new Date().toISOString(),
    ...(label !== undefined ? { label } : {}),
  };
  try {
    await lines.put(record);
  } catch (err) {
    if (err instanceof DuplicateClientNameError) throw duplicateClientName(clientName, err.heldBy);
    if (err instanceof LineFullError) throw lineFull(phoneNumber);
    throw err;
  }
  return { record, secret, generated, lineMembers: members.length + 1 };
}

function duplicateClientName(clientName: string, phoneNumber?: string): DeviceAdminError {
  return new DeviceAdminError(
    `The client name "${clientName}" is already used${phoneNumber ? ` on ${phoneNumber}` : ' on another line'}; client names must be unique.`,
    'duplicate-client-name',
  );
}

function lineFull(phoneNumber: string): DeviceAdminError {
  return new DeviceAdminError(
    `The line ${phoneNumber} already has ${MAX_LINE_MEMBERS} devices, the most one call can ring. Remove one first.`,
    'line-full',
  );
}

/** Which device a command means: `--client`, or `--number` alone when that line has exactly one device. */
export interface DeviceSelector {
  clientName?: string;
  number?: string;
}

/** The device a selector names, or a DeviceAdminError saying why none (or more than one) is meant. */
export async function resolveDevice(lines: LineDirectory, selector: DeviceSelector): Promise<Device> {
  if (selector.clientName !== undefined) {
    checkClientName(selector.clientName);
    const device = await lines.findByClientName(selector.clientName);
    if (!device) throw new DeviceAdminError(`No device has the client name "${selector.clientName}".`, 'unknown-device');
    if (selector.number !== undefined && device.phoneNumber !== normalizeDeviceNumber(selector.number)) {
      throw new DeviceAdminError(`"${selector.clientName}" is a device of ${device.phoneNumber}, not of ${selector.number}.`, 'unknown-device');
    }
    return device;
  }
  if (selector.number === undefined)
    throw new DeviceAdminError('Name the device with --client (or --number when its line has one device).', 'unknown-device');
  const phoneNumber = normalizeDeviceNumber(selector.number);
  const line = await lines.findLine(phoneNumber);
  const members = line?.members ?? [];
  if (members.length === 0) throw new DeviceAdminError(`${phoneNumber} has no devices.`, 'unknown-device');
  if (members.length > 1) {
    throw new DeviceAdminError(
      `${phoneNumber} has ${members.length} devices (${members.map((m) => m.clientName).join(', ')}): name one with --client.`,
      'ambiguous-device',
    );
  }
  return members[0];
}

/** Gives a device a new generated secret (the old one stops working at once) and returns the device and the secret. */
export async function rotateDeviceSecret(lines: LineDirectory, selector: DeviceSelector): Promise<{ device: Device; secret: string }> {
  const device = await resolveDevice(lines, selector);
  const secret = generateDeviceSecret();
  const current = (await lines.findForSignIn(device.phoneNumber)).find((m) => m.clientName === device.clientName);
  if (!current) throw new DeviceAdminError(`No device has the client name "${device.clientName}".`, 'unknown-device');
  await lines.put({ ...current, secretHash: await hashDeviceSecret(secret) });
  return { device, secret };
}

/** Removes a device (its line and the line's settings stay). Returns the removed device. */
export async function removeDevice(lines: LineDirectory, selector: DeviceSelector): Promise<Device> {
  const device = await resolveDevice(lines, selector);
  const removed = await lines.remove(device.clientName);
  if (!removed) throw new DeviceAdminError(`No device has the client name "${device.clientName}".`, 'unknown-device');
  return removed;
}

/** Every line with its devices, sorted by number (secret hashes are never read for lists). */
export function listLines(lines: LineDirectory): Promise<Line[]> {
  return lines.listLines();
}

/** Every device, sorted by number then ring order. */
export async function listDevices(lines: LineDirectory): Promise<Device[]> {
  return (await lines.listLines()).flatMap((line) => line.members);
}

/** A line and its settings; a DeviceAdminError when the number has no line. */
export async function showLine(lines: LineDirectory, number: string): Promise<Line> {
  const phoneNumber = normalizeDeviceNumber(number);
  const line = await lines.findLine(phoneNumber);
  if (!line) throw new DeviceAdminError(`${phoneNumber} has no line: add a device to it first (npm run device -- add).`, 'unknown-line');
  return line;
}

/** The settings `line set` changes: each one given replaces the line's; `null` clears an optional one. */
export interface LineChanges {
  ringSeconds?: number;
  strategy?: LineSettings['strategy'];
  forwardTo?: string | null;
  voicemail?: boolean;
  /** null: back to the app's own words in the line's language */
  greeting?: string | null;
  language?: string;
  hours?: { hours: string; timeZone: string } | null;
}

/**
 * Changes a line's settings, checked as a whole (lambda/core/line.ts). The forward number must pass the
 * destination policy: the countries `allowedCountries` names (the functions' ALLOWED_DESTINATION_COUNTRIES), else
 * the line's own country, as for outgoing calls; the call-action webhook checks it again when it dials.
 */
export async function setLine(lines: LineDirectory, number: string, changes: LineChanges, allowedCountries?: string[]): Promise<Line> {
  const line = await showLine(lines, number);
  const next: LineSettings = { ...DEFAULT_LINE_SETTINGS, ...line.settings };
  if (changes.ringSeconds !== undefined) next.ringSeconds = changes.ringSeconds;
  if (changes.strategy !== undefined) next.strategy = changes.strategy;
  if (changes.voicemail !== undefined) next.voicemail = changes.voicemail;
  if (changes.greeting === null) delete next.greeting;
  else if (changes.greeting !== undefined) next.greeting = changes.greeting;
  if (changes.language !== undefined) next.language = changes.language;
  if (changes.forwardTo === null) delete next.forwardTo;
  else if (changes.forwardTo !== undefined) {
    try {
      next.forwardTo = normalizePhoneNumber(changes.forwardTo, phoneRulesWithTypes.countryOf(line.number));
    } catch {
      throw new DeviceAdminError(`--forward-to "${changes.forwardTo}" is not a phone number.`, 'invalid-setting');
    }
    if (next.forwardTo === line.number) throw new DeviceAdminError('--forward-to cannot be the line’s own number.', 'invalid-setting');
  }
  if (changes.hours === null) {
    delete next.hours;
    delete next.timeZone;
  } else if (changes.hours !== undefined) {
    next.hours = changes.hours.hours;
    next.timeZone = changes.hours.timeZone;
  }
  const country = phoneRulesWithTypes.countryOf(line.number);
  try {
    checkLineSettings(next, (e164) => checkDestination(e164, country, allowedCountries).ok);
  } catch (err) {
    if (err instanceof LineSettingError) throw new DeviceAdminError(err.message, 'invalid-setting');
    throw err;
  }
  try {
    await lines.putSettings(line.number, next);
  } catch (err) {
    if (err instanceof UnknownLineError) throw new DeviceAdminError(err.message, 'unknown-line');
    throw err;
  }
  return { ...line, settings: next };
}
