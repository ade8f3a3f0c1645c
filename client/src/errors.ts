/** Twilio Voice SDK error codes and token API failures → plain sentences for people. */
import type { VoiceError } from './voice/types';

export type ErrorKind = 'microphone' | 'token' | 'expired' | 'network' | 'policy' | 'busy' | 'other';

export interface FriendlyError {
  kind: ErrorKind;
  message: string;
}

const MICROPHONE = 'Your browser is blocking the microphone. Allow microphone access for this page, then try again.';
const NO_MICROPHONE = 'No working microphone was found. Plug one in or pick another in Audio settings.';
const TOKEN =
  "The phone service refused this device's sign-in token. Sign in again; if it keeps happening, ask your admin to check the Twilio settings.";
const EXPIRED = 'Your session expired. Reconnecting…';
const NETWORK = 'No connection to the phone service. Check your network; the phone reconnects by itself when it is back.';
const POLICY = 'That number cannot be called from this phone: the calling policy does not allow it (country or number blocked).';

const CODES: Record<number, FriendlyError> = {
  // Access tokens (20xxx) and their 31xxx signalling twins
  20101: { kind: 'token', message: TOKEN },
  20102: { kind: 'token', message: TOKEN },
  20103: { kind: 'token', message: TOKEN },
  20105: { kind: 'token', message: TOKEN },
  20106: { kind: 'token', message: TOKEN },
  20107: { kind: 'token', message: TOKEN },
  20151: { kind: 'token', message: TOKEN },
  20157: { kind: 'token', message: TOKEN },
  31202: { kind: 'token', message: TOKEN },
  31203: { kind: 'token', message: TOKEN },
  31204: { kind: 'token', message: TOKEN },
  31206: { kind: 'token', message: TOKEN },
  31207: { kind: 'token', message: TOKEN },
  20104: { kind: 'expired', message: EXPIRED },
  31205: { kind: 'expired', message: EXPIRED },
  // Microphone and media
  31208: { kind: 'microphone', message: MICROPHONE },
  31401: { kind: 'microphone', message: MICROPHONE },
  31402: { kind: 'microphone', message: NO_MICROPHONE },
  31201: { kind: 'microphone', message: NO_MICROPHONE },
  // Network and signalling
  31000: { kind: 'network', message: NETWORK },
  31003: { kind: 'network', message: "The call's audio connection failed. Your network may be blocking calls (firewall or VPN)." },
  31005: { kind: 'network', message: NETWORK },
  31009: { kind: 'network', message: NETWORK },
  53000: { kind: 'network', message: NETWORK },
  53001: { kind: 'network', message: NETWORK },
  53405: { kind: 'network', message: "The call's audio connection failed. Your network may be blocking calls (firewall or VPN)." },
  // Destinations and policy
  13225: { kind: 'policy', message: POLICY },
  13227: { kind: 'policy', message: POLICY },
  21215: { kind: 'policy', message: POLICY },
  21211: { kind: 'policy', message: 'That is not a valid phone number.' },
  31486: { kind: 'busy', message: 'The number is busy.' },
  31480: { kind: 'busy', message: 'The person you called is not available right now.' },
  31404: { kind: 'other', message: 'That number does not exist.' },
  31603: { kind: 'busy', message: 'The call was declined.' },
};

export function describeVoiceError(error: VoiceError): FriendlyError {
  if (error.code !== undefined && CODES[error.code]) return CODES[error.code];
  if (/NotAllowedError|Permission denied/i.test(error.message)) return { kind: 'microphone', message: MICROPHONE };
  if (/NotFoundError|Requested device not found/i.test(error.message)) return { kind: 'microphone', message: NO_MICROPHONE };
  const code = error.code !== undefined ? ` (error ${error.code})` : '';
  return { kind: 'other', message: `Something went wrong${code}: ${error.message}` };
}

/** Whether a Twilio error means the access token needs replacing (expired) rather than the user's attention. */
export function isTokenExpiry(error: VoiceError): boolean {
  return error.code === 20104 || error.code === 31205;
}
