/** The device registry as `twilio:setup` uses it: the real registry and the device CLI's `addDevice`. */
import type { LineDirectory } from '../../lambda/ports';
import { addDevice } from '../devices/device-admin';
import type { DevicePort } from './setup';

export function registryDevicePort(registry: LineDirectory): DevicePort {
  return {
    // A number is "registered" once its line has a device: setup leaves it alone then.
    findByNumber: async (phoneNumber) => (await registry.findLine(phoneNumber))?.members[0],
    add: async ({ number, clientName }) => {
      const { secret, generated } = await addDevice(registry, { number, clientName });
      return { secret, generated };
    },
  };
}
