import { Device } from '@twilio/voice-sdk';
export function sdkVersion(): string {
  return Device.version;
}
