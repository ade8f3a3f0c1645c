import { parseDoctorArgs, parseSetupArgs } from '../../lib/ops/cli';
import { normalizeDeviceNumber } from '../../lib/devices/device-admin';
import { defaultClientName } from '../../lib/ops/setup';

describe('ops CLI arguments', () => {
  test('twilio:setup defaults', () => {
    expect(parseSetupArgs([])).toEqual({
      help: false,
      stackName: 'TwilioSoftphoneStack',
      region: undefined,
      numbers: [],
      registerDevices: false,
      friendlyName: 'twilio-softphone-aws',
      dryRun: false,
      yes: false,
    });
  });

  test('twilio:setup options, repeatable --number with an optional client name', () => {
    const args = parseSetupArgs([
      '--stack',
      'Other',
      '--region',
      'ap-northeast-1',
      '--number',
      '+81-50-3123-4567',
      '--number',
      '+14155550100=alice',
      '--register-devices',
      '--dry-run',
      '-y',
    ]);
    expect(args).toMatchObject({
      stackName: 'Other',
      region: 'ap-northeast-1',
      numbers: [{ number: '+81-50-3123-4567' }, { number: '+14155550100', clientName: 'alice' }],
      registerDevices: true,
      dryRun: true,
      yes: true,
    });
  });

  test('unknown options are refused', () => {
    expect(() => parseSetupArgs(['--numbr', '+1'])).toThrow(/Unknown option/);
    expect(() => parseDoctorArgs(['extra'])).toThrow();
    expect(parseDoctorArgs(['--stack', 'S', '--region', 'eu-west-1'])).toEqual({ help: false, stackName: 'S', region: 'eu-west-1' });
  });

  test('phone numbers', () => {
    expect(normalizeDeviceNumber('+81-50-3123-4567')).toBe('+815031234567');
    expect(normalizeDeviceNumber(' +1 (415) 555-0100 ')).toBe('+14155550100');
    expect(() => normalizeDeviceNumber('050-3123-4567')).toThrow(/international format/);
    expect(defaultClientName('+815031234567')).toBe('softphone-815031234567');
  });
});
