/** The device registry as `twilio:setup` uses it: the real registry and the device CLI's `addDevice`. */
import type { DeviceDirectory } from '../../lambda/ports';
import { addDevice } from '../devices/device-admin';
import type { DevicePort } from './setup';

export function registryDevicePort(registry: DeviceDirectory): DevicePort {
  return {
    findByNumber: (phoneNumber) => registry.findByNumber(phoneNumber),
    add: async ({ number, clientName }) => {
      const { secret, generated } = await addDevice(registry, { number, clientName });
      return { secret, generated };
    },
  };
}
