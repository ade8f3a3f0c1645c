/**
 * Device registration, shared by the device CLI (`bin/device.ts`) and `twilio:setup`.
 *
 * Numbers are normalised exactly as the handlers normalise them (`normalizePhoneNumber`), client names are
 * checked against what Twilio accepts as an identity (`isValidClientName`), client names are unique, and a
 * device secret is stored only as its salted hash (`hashDeviceSecret`) — the clear secret is returned once to
 * the caller and never stored or logged.
 */
import { generateDeviceSecret, hashDeviceSecret } from '../../lambda/core/device-secret';
import { isValidClientName, normalizePhoneNumber } from '../../lambda/core/phone';
import { DEVICE_SECRET_LENGTH, deviceSecretLengthOk } from '../../lambda/core/settings';
import { DuplicateClientNameError, type Device, type DeviceDirectory, type DeviceRecord } from '../../lambda/ports';

export const MAX_LABEL_LENGTH = 200;

/** A refusal the user can fix (bad number, bad client name, duplicate, unknown device); the message says how. */
export class DeviceAdminError extends Error {
  constructor(
    message: string,
    readonly code:
      | 'invalid-number'
      | 'invalid-client-name'
      | 'invalid-secret'
      | 'invalid-label'
      | 'duplicate-number'
      | 'duplicate-client-name'
      | 'unknown-number',
  ) {
    super(message);
    this.name = 'DeviceAdminError';
  }
}

export interface AddDeviceInput {
  /** The Twilio phone number in any common format; stored as E.164. */
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
 * Registers a device. Refuses a number that is already registered (use `rotateDeviceSecret` or remove it
 * first) and a client name used by another number.
 */
export async function addDevice(devices: DeviceDirectory, input: AddDeviceInput): Promise<AddDeviceResult> {
  const phoneNumber = normalizeDeviceNumber(input.number);
  const clientName = input.clientName;
  if (!isValidClientName(clientName)) {
    throw new DeviceAdminError(
      `"${clientName}" is not a valid client name: use 1 to 121 letters, digits, "_", "-" or "." (not starting with "-" or "."), e.g. DeviceId_0001.`,
      'invalid-client-name',
    );
  }
  const label = input.label?.trim() || undefined;
  if (label !== undefined && label.length > MAX_LABEL_LENGTH) {
    throw new DeviceAdminError(`A label must be at most ${MAX_LABEL_LENGTH} characters long.`, 'invalid-label');
  }
  const generated = input.secret === undefined;
  const secret = input.secret ?? generateDeviceSecret();
  if (!generated) checkSecret(secret);

  if (await devices.findByNumber(phoneNumber)) {
    throw new DeviceAdminError(`${phoneNumber} is already registered. Use rotate-secret for a new secret, or remove it first.`, 'duplicate-number');
  }
  const owner = await devices.findByClientName(clientName);
  if (owner) throw duplicateClientName(clientName, owner.phoneNumber);

  const record: DeviceRecord = {
    phoneNumber,
    clientName,
    secretHash: await hashDeviceSecret(secret),
    createdAt: new Date().toISOString(),
    ...(label !== undefined ? { label } : {}),
  };
  try {
    await devices.put(record);
  } catch (err) {
    if (err instanceof DuplicateClientNameError) throw duplicateClientName(clientName);
    throw err;
  }
  return { record, secret, generated };
}

function duplicateClientName(clientName: string, phoneNumber?: string): DeviceAdminError {
  return new DeviceAdminError(
    `The client name "${clientName}" is already used${phoneNumber ? ` by ${phoneNumber}` : ' by another number'}; client names must be unique.`,
    'duplicate-client-name',
  );
}

/** Gives a registered device a new generated secret (the old one stops working at once) and returns it. */
export async function rotateDeviceSecret(devices: DeviceDirectory, number: string): Promise<string> {
  const phoneNumber = normalizeDeviceNumber(number);
  const existing = await devices.findByNumber(phoneNumber);
  if (!existing) throw unknownNumber(phoneNumber);
  const secret = generateDeviceSecret();
  await devices.put({ ...existing, secretHash: await hashDeviceSecret(secret) });
  return secret;
}

/** Removes a device; refuses an unknown number. Returns the removed record. */
export async function removeDevice(devices: DeviceDirectory, number: string): Promise<Device> {
  const phoneNumber = normalizeDeviceNumber(number);
  const existing = await devices.findByNumber(phoneNumber);
  if (!existing || !(await devices.remove(phoneNumber))) throw unknownNumber(phoneNumber);
  return existing;
}

/** Every device, sorted by number (the directory never returns secret hashes in lists). */
export async function listDevices(devices: DeviceDirectory): Promise<Device[]> {
  return (await devices.list()).sort((a, b) => a.phoneNumber.localeCompare(b.phoneNumber));
}

function unknownNumber(phoneNumber: string): DeviceAdminError {
  return new DeviceAdminError(`${phoneNumber} is not registered.`, 'unknown-number');
}
