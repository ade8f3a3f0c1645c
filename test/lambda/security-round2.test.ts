/**
 * Security round 2, each control shown on the real code paths (handlers and DynamoDB adapter on a dynalite
 * registry, the real request template, the real request model):
 *
 * 3. special-rate ranges (lambda/core/special-rates.ts) refused whatever type libphonenumber gives them;
 * 4. emergency numbers refused deliberately (lambda/core/emergency.ts), not as "not a valid number";
 * 5. scrypt parameters of a stored hash capped (SCRYPT_LIMITS) and refused without running scrypt;
 * 6. client-name uniqueness atomic across lines (claims in lambda/adapters/dynamo-line-directory.ts);
 * 9. one device-secret length rule (deviceSecretLength) for the device CLI, the token API and its model;
 * 10. least privilege inside the functions: the webhooks never read a secret hash, `<Dial timeLimit>`, and
 *     webhook URLs configured with a query string verify.
 */
import crypto = require('node:crypto');
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import fc from 'fast-check';
import { getExpectedTwilioSignature } from 'twilio/lib/webhooks/webhooks';
import { CLAIM_STALE_SECONDS } from '../../lambda/adapters/dynamo-line-directory';
import { claimKey } from '../../lambda/adapters/registry-schema';
import { checkDestination, phoneRulesWithTypes } from '../../lambda/core/destination-policy';
import { hashDeviceSecret, SCRYPT_LIMITS, verifyDeviceSecret } from '../../lambda/core/device-secret';
import { EMERGENCY_REFUSAL, isEmergencyNumber } from '../../lambda/core/emergency';
import type { CountryCode } from '../../lambda/core/phone-rules';
import { DEVICE_SECRET_LENGTH, deviceSecretLength, deviceSecretLengthOk, loadConfig } from '../../lambda/core/settings';
import { SPECIAL_RATE_RANGES, SPECIAL_RATE_SOURCES, specialRateRange } from '../../lambda/core/special-rates';
import { createCallActionHandler } from '../../lambda/handlers/call-action';
import { createIncomingCallHandler } from '../../lambda/handlers/incoming-call';
import { createOutgoingCallHandler, OUTGOING_MESSAGES } from '../../lambda/handlers/outgoing-call';
import { createTokenHandler, FORBIDDEN_MESSAGE } from '../../lambda/handlers/token';
import { bodyModelErrors } from '../../lib/api/model-validation';
import { TOKEN_REQUEST_MODEL } from '../../lib/api/routes';
import { FORM_TO_JSON_REQUEST_TEMPLATE } from '../../lib/api/templates';
import { addDevice, DeviceAdminError, removeDevice } from '../../lib/devices/device-admin';
import { createGatewayContext, renderRequestTemplate } from '../../lib/vtl';
import { useDynalite } from '../support/dynalite';
import {
  API_DOMAIN,
  DEVICE_CLIENT,
  DEVICE_NUMBER,
  DEVICE_SECRET,
  FORM,
  INCOMING_RESOURCE,
  INCOMING_TWIML,
  OUTGOING_TWIML,
  incomingCallParams,
  incomingTwiml,
  OUTGOING_RESOURCE,
  outgoingCallParams,
  signedEvent,
  TEST_CREDENTIALS,
} from '../support/fixtures';
import { callable, expectThrown, makeDeps, registerDevice, TEST_SCRYPT, testConfig } from './helpers';

const XML_DECL = '<?xml version="1.0" encoding="UTF-8"?>';
const hangup = (msg: string) => `${XML_DECL}<Response><Say language="en-US">${msg}</Say><Hangup/></Response>`;

const US_NUMBER = '+14155550100';
const US_CLIENT = 'DeviceId_US';

// Every test gets fresh tables holding the walkthrough's (Japanese) device and a US one.
const db = useDynalite({
  seed: async ({ lines }) => {
    await registerDevice(lines);
    await registerDevice(lines, { phoneNumber: US_NUMBER, clientName: US_CLIENT, secret: 'us-secret-0001' });
  },
});

const outgoing = (config = testConfig()) => callable(createOutgoingCallHandler(makeDeps(db, { config })));
const incoming = (config = testConfig()) => callable(createIncomingCallHandler(makeDeps(db, { config })));
const tokenHandler = () => callable(createTokenHandler(makeDeps(db), { dummyScryptParams: TEST_SCRYPT }));
/** The outgoing webhook of `identity` (default: the walkthrough's device) dialling `destination`. */
const dialFrom = (destination: string, identity = DEVICE_CLIENT, config = testConfig()) =>
  outgoing(config)(
    signedEvent(
      OUTGOING_RESOURCE,
      outgoingCallParams({ From: `client:${identity}`, Caller: `client:${identity}`, callerPhoneNumber: '', callOutgoingPhoneNumber: destination }),
    ),
  );

/** Writes items straight into the current test's registry table (what a cut-short write left). */
const rawRegistryTable = () => {
  const doc = DynamoDBDocumentClient.from(db.client);
  return {
    /** A client-name claim naming `line`, as a put cut short before its device write leaves it. */
    putClaim: (clientName: string, line: string, claimedAt: number) =>
      doc.send(new PutCommand({ TableName: db.registryTable, Item: { ...claimKey(clientName), line, claimedAt } })),
    setClaimedAt: (clientName: string, claimedAt: number) =>
      doc.send(
        new UpdateCommand({
          TableName: db.registryTable,
          Key: claimKey(clientName),
          UpdateExpression: 'SET claimedAt = :t',
          ExpressionAttributeValues: { ':t': claimedAt },
        }),
      ),
  };
};

// ---------------------------------------------------------------------------------------------------------
// 3. Special-rate numbers

/**
 * Real numbering-plan examples of every range of the reviewed table, and what the policy answers. The reason
 * is 'special-rate' where libphonenumber gives the number an ordinary type (the table is then the ONLY
 * control: JP 0570 is UAN, US/CA NXX 976 and GB 055 are FIXED_LINE_OR_MOBILE/UAN); where libphonenumber
 * already types the range premium-rate, personal, pager or invalid, that earlier reason stands (and the table
 * is the second line should the metadata ever change).
 */
const SPECIAL_RATE_EXAMPLES: { number: string; country: CountryCode; reason: string }[] = [
  // Japan, MIC Telecommunications Numbering Plan
  { number: '0570-064-555', country: 'JP', reason: 'special-rate' }, // Navi Dial (typed UAN)
  { number: '0570-000-911', country: 'JP', reason: 'special-rate' },
  { number: '0570-01-5555', country: 'JP', reason: 'special-rate' },
  { number: '+81 570 064 555', country: 'JP', reason: 'special-rate' },
  { number: '0180-99-1234', country: 'JP', reason: 'invalid' }, // tele-voting (libphonenumber: not a valid number)
  { number: '0990-123-456', country: 'JP', reason: 'premium-rate' }, // dial Q2 style information services
  // United States and Canada, NANPA
  { number: '+1 900 555 0123', country: 'US', reason: 'premium-rate' },
  { number: '+1 212 976 1234', country: 'US', reason: 'special-rate' }, // NXX 976 information services
  { number: '+1 213 976 0000', country: 'US', reason: 'special-rate' },
  { number: '+1 900 643 1234', country: 'CA', reason: 'premium-rate' },
  { number: '+1 416 976 1234', country: 'CA', reason: 'special-rate' },
  { number: '+1 613 976 1234', country: 'CA', reason: 'special-rate' },
  // United Kingdom, Ofcom National Telephone Numbering Plan
  { number: '0871 123 4567', country: 'GB', reason: 'premium-rate' }, // service charge (087)
  { number: '0844 123 4567', country: 'GB', reason: 'premium-rate' }, // service charge (084)
  { number: '0905 123 4567', country: 'GB', reason: 'premium-rate' }, // premium rate (09)
  { number: '055 1234 5678', country: 'GB', reason: 'special-rate' }, // corporate numbering (typed UAN)
  { number: '070 1234 5678', country: 'GB', reason: 'number-type' }, // personal numbering
  { number: '07600 123456', country: 'GB', reason: 'number-type' }, // radiopaging
];

/** Ordinary numbers of the same countries (national format in their own country): still allowed. */
const ORDINARY_EXAMPLES: { number: string; country: CountryCode; e164: string }[] = [
  { number: '03-1234-5678', country: 'JP', e164: '+81312345678' }, // Tokyo
  { number: '06-6123-4567', country: 'JP', e164: '+81661234567' }, // Osaka
  { number: '090-1234-5678', country: 'JP', e164: '+819012345678' }, // mobile
  { number: '080-1234-5678', country: 'JP', e164: '+818012345678' },
  { number: '070-1234-5678', country: 'JP', e164: '+817012345678' }, // mobile in Japan (070 is personal numbering only in the UK)
  { number: '050-3123-4567', country: 'JP', e164: '+815031234567' }, // IP phone
  { number: '0120-123-456', country: 'JP', e164: '+81120123456' }, // toll free
  { number: '0800-123-4567', country: 'JP', e164: '+818001234567' },
  { number: '(212) 736-5000', country: 'US', e164: '+12127365000' },
  { number: '202-456-1111', country: 'US', e164: '+12024561111' },
  { number: '415 555 0100', country: 'US', e164: '+14155550100' },
  { number: '1-800-555-0199', country: 'US', e164: '+18005550199' }, // 8YY toll free
  { number: '888-555-0123', country: 'US', e164: '+18885550123' },
  { number: '833-555-0123', country: 'US', e164: '+18335550123' },
  { number: '416-555-0123', country: 'CA', e164: '+14165550123' },
  { number: '416-979-1234', country: 'CA', e164: '+14169791234' }, // an exchange next to 976
  { number: '604-555-0199', country: 'CA', e164: '+16045550199' },
  { number: '020 7946 0123', country: 'GB', e164: '+442079460123' }, // London
  { number: '0161 496 0123', country: 'GB', e164: '+441614960123' },
  { number: '07400 123456', country: 'GB', e164: '+447400123456' }, // mobile
  { number: '07712 345678', country: 'GB', e164: '+447712345678' },
  { number: '0300 123 4567', country: 'GB', e164: '+443001234567' }, // 03: charged as geographic
  { number: '0800 123 4567', country: 'GB', e164: '+448001234567' }, // freephone
];

const ALLOWED = ['JP', 'US', 'GB', 'CA'];

describe('3. special-rate numbers are refused even where the type looks ordinary', () => {
  test.each(SPECIAL_RATE_EXAMPLES)('$country $number → refused ($reason)', ({ number, country, reason }) => {
    const decision = checkDestination(number, country, ALLOWED);
    expect(decision).toMatchObject({ ok: false, reason });
  });

  test('Navi Dial is typed UAN (an allowed type): only the special-rate table refuses it', () => {
    expect(phoneRulesWithTypes.parse('0570-064-555', 'JP').getType()).toBe('UAN');
    expect(checkDestination('0570-064-555', 'JP')).toEqual({ ok: false, reason: 'special-rate', country: 'JP' });
    // a 976 exchange and a GB 055 number are ordinary types too
    expect(phoneRulesWithTypes.parse('+1 212 976 1234', 'US').getType()).toBe('FIXED_LINE_OR_MOBILE');
    expect(phoneRulesWithTypes.parse('055 1234 5678', 'GB').getType()).toBe('UAN');
  });

  test.each(ORDINARY_EXAMPLES)('$country $number stays allowed', ({ number, country, e164 }) => {
    expect(checkDestination(number, country, ALLOWED)).toEqual({ ok: true, e164, country });
    expect(checkDestination(number, country)).toEqual({ ok: true, e164, country }); // the default allow-list: the caller's own country
  });

  test('every row of the table has its numbering plan in SPECIAL_RATE_SOURCES and a real example that hits it', () => {
    const hits = new Map(SPECIAL_RATE_RANGES.map((row) => [row, 0]));
    for (const { number, country } of SPECIAL_RATE_EXAMPLES) {
      const row = specialRateRange(country, phoneRulesWithTypes.parse(number, country).nationalNumber);
      expect(row).toBeDefined();
      hits.set(row!, hits.get(row!)! + 1);
    }
    for (const [row, count] of hits) {
      expect({ row: `${row.country} ${row.pattern}`, source: typeof SPECIAL_RATE_SOURCES[row.country], hit: count > 0 }).toEqual({
        row: `${row.country} ${row.pattern}`,
        source: 'string',
        hit: true,
      });
      expect(SPECIAL_RATE_SOURCES[row.country]!.length).toBeGreaterThan(10);
    }
    // ...and no ordinary example falls in any range
    for (const { number, country } of ORDINARY_EXAMPLES) {
      expect(specialRateRange(country, phoneRulesWithTypes.parse(number, country).nationalNumber)).toBeUndefined();
    }
  });

  test('the outgoing handler says the special-rate message once, then hangs up (no Dial)', async () => {
    await expect(dialFrom('0570-064-555')).resolves.toBe(hangup(OUTGOING_MESSAGES.specialRate));
    await expect(dialFrom('+81 570 064 555')).resolves.toBe(hangup(OUTGOING_MESSAGES.specialRate));
    await expect(dialFrom('(212) 976-1234', US_CLIENT)).resolves.toBe(hangup(OUTGOING_MESSAGES.specialRate));
    expect(OUTGOING_MESSAGES.specialRate).toBe('Sorry, calls to special rate numbers are not allowed.');
    // an ordinary number of the same caller still dials
    await expect(dialFrom('03-1234-5678')).resolves.toContain('>+81312345678</Number>');
  });
});

// ---------------------------------------------------------------------------------------------------------
// 4. Emergency numbers

describe('4. emergency numbers are refused deliberately', () => {
  const emergency = hangup(EMERGENCY_REFUSAL);

  test('the message tells the user to use another phone', () => {
    expect(EMERGENCY_REFUSAL).toMatch(/^Emergency calls are not possible from this phone\./);
    expect(OUTGOING_MESSAGES.emergency).toBe(EMERGENCY_REFUSAL);
  });

  test.each(['110', '118', '119', '112', '911', '1-1-0', ' 119 ', '(110)', '1 1 9', '1.1.0'])(
    'a Japanese device dialling %j hears the emergency refusal, then Hangup',
    async (dialled) => {
      await expect(dialFrom(dialled)).resolves.toBe(emergency);
    },
  );

  test.each(['911', '112', '9-1-1'])('a US device dialling %j hears the emergency refusal', async (dialled) => {
    await expect(dialFrom(dialled, US_CLIENT)).resolves.toBe(emergency);
  });

  test.each([
    ['JP', DEVICE_CLIENT, '999'], // the UK's, not Japan's
    ['US', US_CLIENT, '110'], // Japan's, not the US'
    ['JP', DEVICE_CLIENT, '+81 110'],
    ['JP', DEVICE_CLIENT, '+81110'],
    ['JP', DEVICE_CLIENT, '+81 11 012 3456'],
    ['US', US_CLIENT, '+1 911'],
  ])(
    'a %s device (%s) dialling %j (another country’s short code, or an international number) is not treated as an emergency call',
    async (_c, identity, dialled) => {
      const out = await dialFrom(dialled, identity);
      expect(out).not.toContain('Emergency');
      expect(out).toBe(hangup(OUTGOING_MESSAGES.invalidDestination));
    },
  );

  test('the policy names the reason', () => {
    expect(checkDestination('110', 'JP')).toEqual({ ok: false, reason: 'emergency' });
    expect(checkDestination('1-1-9', 'JP')).toEqual({ ok: false, reason: 'emergency' });
    expect(checkDestination('112', 'US')).toEqual({ ok: false, reason: 'emergency' });
    expect(isEmergencyNumber('+81 110', 'JP')).toBe(false);
    expect(isEmergencyNumber('0120-000-110', 'JP')).toBe(false);
  });
});

// ---------------------------------------------------------------------------------------------------------
// 5. scrypt parameter caps

const SALT = Buffer.alloc(16, 7).toString('base64url');
const KEY = Buffer.alloc(32, 9).toString('base64url');
/** A stored hash asking for these parameters (salt and key well-formed). */
const plantedHash = (N: number, r: number, p: number) => `scrypt$${N}$${r}$${p}$${SALT}$${KEY}`;
const CAPS = { N: 2 ** 16, r: 8, p: 2 };

describe('5. scrypt parameters of a stored hash are capped', () => {
  type ScryptCall = { N?: number; r?: number; p?: number };
  let scryptCalls: ScryptCall[];
  const realScrypt = crypto.scrypt;

  beforeEach(() => {
    scryptCalls = [];
    // Records each scrypt the module runs; runs it for real within the caps, and answers at once (a wrong
    // key) above them, so that code without the caps cannot take 2 GiB and 35 s here.
    jest.spyOn(crypto, 'scrypt').mockImplementation(((password: crypto.BinaryLike, salt: crypto.BinaryLike, keylen: number, ...rest: unknown[]) => {
      const options = (rest.length === 2 ? rest[0] : {}) as crypto.ScryptOptions;
      const callback = rest.at(-1) as (err: Error | null, key: Buffer) => void;
      scryptCalls.push({ N: options.N, r: options.r, p: options.p });
      const withinCaps = (options.N ?? 0) <= CAPS.N && (options.r ?? 0) <= CAPS.r && (options.p ?? 0) <= CAPS.p;
      if (withinCaps) realScrypt(password, salt, keylen, options, callback);
      else setImmediate(() => callback(null, Buffer.alloc(keylen)));
    }) as typeof crypto.scrypt);
  });
  afterEach(() => jest.restoreAllMocks());

  test('the limits are N ≤ 2^16, r ≤ 8, p ≤ 2', () => {
    expect(SCRYPT_LIMITS).toEqual({ maxN: CAPS.N, maxR: CAPS.r, maxP: CAPS.p });
  });

  test.each([
    ['N=2^20, r=16, p=4 (35 s and 2 GiB per check)', 2 ** 20, 16, 4],
    ['N=2^17', 2 ** 17, 8, 1],
    ['r=9', 2 ** 15, 9, 1],
    ['p=3', 2 ** 15, 8, 3],
  ])('a stored hash asking %s is malformed: false WITHOUT running scrypt', async (_name, N, r, p) => {
    await expect(verifyDeviceSecret('any-secret', plantedHash(N, r, p))).resolves.toBe(false);
    expect(scryptCalls).toEqual([]);
  });

  test.each([
    [2 ** 20, 16, 4],
    [2 ** 17, 8, 1],
    [2 ** 16, 9, 1],
    [2 ** 16, 8, 3],
  ])('hashDeviceSecret refuses N=%i r=%i p=%i', async (N, r, p) => {
    await expect(hashDeviceSecret('a-device-secret', { N, r, p })).rejects.toThrow(/scrypt parameters/);
    expect(scryptCalls).toEqual([]);
  });

  test('a hash at the caps is made and verified (scrypt runs, with exactly those parameters)', async () => {
    const hash = await hashDeviceSecret('a-device-secret', CAPS);
    expect(hash).toMatch(/^scrypt\$65536\$8\$2\$/);
    scryptCalls.length = 0;
    await expect(verifyDeviceSecret('a-device-secret', hash)).resolves.toBe(true);
    await expect(verifyDeviceSecret('another-secret', hash)).resolves.toBe(false);
    expect(scryptCalls).toEqual([CAPS, CAPS]);
  });

  test('the token handler answers a planted over-cost record with 403, running no scrypt at that cost', async () => {
    await db.lines.put({
      phoneNumber: '+815031110000',
      clientName: 'Planted',
      secretHash: plantedHash(2 ** 20, 16, 4),
      createdAt: '2024-01-01T00:00:00.000Z',
    });
    const handler = tokenHandler();
    const e = await expectThrown(() => handler({ twilioPhoneNumber: '+815031110000', deviceSecret: 'any-secret-1' }));
    expect(e.status).toBe(403);
    expect(JSON.parse(e.body)).toEqual({ success: false, capabilityToken: null, error: FORBIDDEN_MESSAGE });
    expect(scryptCalls.filter((c) => (c.N ?? 0) > CAPS.N || (c.r ?? 0) > CAPS.r || (c.p ?? 0) > CAPS.p)).toEqual([]);
    // the walkthrough's device (a hash within the caps) still signs in
    await expect(handler({ twilioPhoneNumber: DEVICE_NUMBER, deviceSecret: DEVICE_SECRET })).resolves.toMatchObject({ identity: DEVICE_CLIENT });
  });
});

// ---------------------------------------------------------------------------------------------------------
// 6. Client-name uniqueness is atomic

const numberN = (i: number) => `+8150311100${String(i).padStart(2, '0')}`;

async function expectDuplicateClientName(p: Promise<unknown>): Promise<void> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DeviceAdminError);
  expect((err as DeviceAdminError).code).toBe('duplicate-client-name');
}

describe('6. client-name uniqueness is atomic', () => {
  test.each([2, 10])('%i concurrent addDevice calls with one client name for different numbers: exactly one succeeds', async (n) => {
    const results = await Promise.allSettled(Array.from({ length: n }, (_, i) => addDevice(db.lines, { number: numberN(i), clientName: 'same' })));
    const winners = results.flatMap((r, i) => (r.status === 'fulfilled' ? [numberN(i)] : []));
    expect(winners).toHaveLength(1);
    for (const r of results) {
      if (r.status === 'rejected') {
        expect(r.reason).toBeInstanceOf(DeviceAdminError);
        expect((r.reason as DeviceAdminError).code).toBe('duplicate-client-name');
      }
    }
    expect((await db.lines.findByClientName('same'))?.phoneNumber).toBe(winners[0]);
    const holders = (await db.lines.listLines()).flatMap((line) => line.members).filter((d) => d.clientName === 'same');
    expect(holders.map((d) => d.phoneNumber)).toEqual(winners);
  });

  test('concurrent addDevice calls with one client name for ONE number: exactly one device joins the line', async () => {
    const results = await Promise.allSettled(Array.from({ length: 5 }, () => addDevice(db.lines, { number: numberN(1), clientName: 'same' })));
    expect(results.filter((r) => r.status === 'fulfilled').length).toBeGreaterThanOrEqual(1);
    // whichever calls got through, the line holds the name once
    expect((await db.lines.findLine(numberN(1)))?.members.map((m) => m.clientName)).toEqual(['same']);
    expect(await db.lines.findForSignIn(numberN(1))).toHaveLength(1);
  });

  test('a stale claim (its line has no device of that name, older than CLAIM_STALE_SECONDS) can be taken over', async () => {
    const now = Math.floor(Date.now() / 1000);
    await rawRegistryTable().putClaim('same', numberN(90), now - CLAIM_STALE_SECONDS - 5);
    await expect(addDevice(db.lines, { number: numberN(1), clientName: 'same' })).resolves.toMatchObject({ record: { phoneNumber: numberN(1) } });
    expect((await db.lines.findByClientName('same'))?.phoneNumber).toBe(numberN(1));
  });

  test('concurrent takeovers of one stale claim: exactly one wins', async () => {
    const now = Math.floor(Date.now() / 1000);
    await rawRegistryTable().putClaim('same', numberN(90), now - CLAIM_STALE_SECONDS - 5);
    const results = await Promise.allSettled([1, 2, 3, 4, 5].map((i) => addDevice(db.lines, { number: numberN(i), clientName: 'same' })));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
  });

  test('a fresh claim (a put between its claim and its device write) cannot be taken over', async () => {
    const now = Math.floor(Date.now() / 1000);
    await rawRegistryTable().putClaim('same', numberN(90), now - 1);
    await expectDuplicateClientName(addDevice(db.lines, { number: numberN(1), clientName: 'same' }));
    expect(await db.lines.findLine(numberN(1))).toBeUndefined();
  });

  test('an old claim whose line still has its device is never taken over', async () => {
    await addDevice(db.lines, { number: numberN(1), clientName: 'same' });
    await rawRegistryTable().setClaimedAt('same', Math.floor(Date.now() / 1000) - 365 * 24 * 3600);
    await expectDuplicateClientName(addDevice(db.lines, { number: numberN(2), clientName: 'same' }));
    await expect(db.lines.put({ phoneNumber: numberN(2), clientName: 'same', secretHash: 'x', createdAt: '' })).rejects.toThrow(/same/);
    expect((await db.lines.findByClientName('same'))?.phoneNumber).toBe(numberN(1));
    expect(await db.lines.findLine(numberN(2))).toBeUndefined();
  });

  test('the devices of one line each hold their own name: found by it, calling out with the line’s number, unique across lines', async () => {
    await addDevice(db.lines, { number: numberN(1), clientName: 'same' });
    await addDevice(db.lines, { number: numberN(1), clientName: 'sameTeam' });
    for (const name of ['same', 'sameTeam']) {
      expect((await db.lines.findByClientName(name))?.phoneNumber).toBe(numberN(1));
      await expectDuplicateClientName(addDevice(db.lines, { number: numberN(2), clientName: name }));
      await expect(db.lines.put({ phoneNumber: numberN(2), clientName: name, secretHash: 'x', createdAt: '' })).rejects.toThrow(new RegExp(name));
      // and its outgoing calls carry the line's number as caller ID
      await expect(dialFrom('03-1234-5678', name)).resolves.toContain(`callerId="${numberN(1)}"`);
    }
    // adding it again to its own line is refused too (one name, one device)
    await expectDuplicateClientName(addDevice(db.lines, { number: numberN(1), clientName: 'same' }));
    expect((await db.lines.findLine(numberN(1)))?.members.map((m) => m.clientName)).toEqual(['same', 'sameTeam']);
  });

  test('remove releases the claim: the name can be used again', async () => {
    await addDevice(db.lines, { number: numberN(1), clientName: 'same' });
    await removeDevice(db.lines, { number: numberN(1) });
    expect(await db.lines.findByClientName('same')).toBeUndefined();
    await expect(addDevice(db.lines, { number: numberN(2), clientName: 'same' })).resolves.toBeDefined();
    expect((await db.lines.findByClientName('same'))?.phoneNumber).toBe(numberN(2));
  });

  test('another client name on the same number is a second device of the line: removing one releases only its own claim', async () => {
    const { record } = await addDevice(db.lines, { number: numberN(1), clientName: 'same' });
    await db.lines.put({ ...record, clientName: 'renamed' });
    expect((await db.lines.findByClientName('renamed'))?.phoneNumber).toBe(numberN(1));
    expect((await db.lines.findByClientName('same'))?.phoneNumber).toBe(numberN(1));
    await expectDuplicateClientName(addDevice(db.lines, { number: numberN(2), clientName: 'same' }));
    await removeDevice(db.lines, { clientName: 'same' });
    await expect(addDevice(db.lines, { number: numberN(2), clientName: 'same' })).resolves.toBeDefined();
    expect((await db.lines.findByClientName('same'))?.phoneNumber).toBe(numberN(2));
    await expectDuplicateClientName(addDevice(db.lines, { number: numberN(3), clientName: 'renamed' }));
  });
});

// ---------------------------------------------------------------------------------------------------------
// 9. One device-secret length rule

describe('9. one device-secret length rule for the CLI, the token API and its model', () => {
  const emoji = (n: number) => '😀'.repeat(n);

  test('length is counted in UTF-16 code units, as JavaScript counts it', () => {
    expect(deviceSecretLength(emoji(128))).toBe(256);
    expect(deviceSecretLengthOk(emoji(128))).toBe(true);
    expect(deviceSecretLengthOk(emoji(129))).toBe(false);
    expect(DEVICE_SECRET_LENGTH).toEqual({ min: 8, max: 256 });
  });

  test('addDevice refuses 200 emoji (400 UTF-16 units), which the token API would refuse', async () => {
    const err = await addDevice(db.lines, { number: numberN(1), clientName: 'Emoji200', secret: emoji(200) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeviceAdminError);
    expect((err as DeviceAdminError).code).toBe('invalid-secret');
    expect(await db.lines.findLine(numberN(1))).toBeUndefined();
    // (the token API refuses that secret: 400 before any lookup)
    expect((await expectThrown(() => tokenHandler()({ twilioPhoneNumber: numberN(1), deviceSecret: emoji(200) }))).status).toBe(400);
  });

  test('128 emoji (256 units) is accepted by addDevice, by the request model and by the token handler', async () => {
    const { secret } = await addDevice(db.lines, { number: numberN(1), clientName: 'Emoji128', secret: emoji(128) });
    expect(bodyModelErrors(TOKEN_REQUEST_MODEL, JSON.stringify({ twilioPhoneNumber: numberN(1), deviceSecret: secret }))).toEqual([]);
    await expect(tokenHandler()({ twilioPhoneNumber: numberN(1), deviceSecret: secret })).resolves.toMatchObject({
      success: true,
      identity: 'Emoji128',
    });
  });

  test('the token request model accepts every secret the rule accepts (arbitrary strings, astral characters and lone surrogates)', () => {
    const unit = fc.oneof(
      { arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }), weight: 4 }, // any code point, astral included
      { arbitrary: fc.constantFrom('😀', '𝄞', '🇯🇵', 'é', 'a'), weight: 3 },
      { arbitrary: fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)), weight: 1 }, // lone surrogates
    );
    const secret = fc.oneof(fc.array(unit, { maxLength: 40 }), fc.array(unit, { minLength: 120, maxLength: 300 })).map((a) => a.join(''));
    let accepted = 0;
    fc.assert(
      fc.property(secret, (s) => {
        if (!deviceSecretLengthOk(s)) return;
        accepted++;
        expect(bodyModelErrors(TOKEN_REQUEST_MODEL, JSON.stringify({ twilioPhoneNumber: DEVICE_NUMBER, deviceSecret: s }))).toEqual([]);
      }),
      { numRuns: 2000 },
    );
    expect(accepted).toBeGreaterThan(100);
  });
});

// ---------------------------------------------------------------------------------------------------------
// 10. Least privilege inside the functions

interface RecordedRead {
  command: string;
  table: string;
  /** the attributes it names (placeholders resolved), or undefined for a read of whole items */
  projection?: string[];
}
let reads: RecordedRead[] = [];
const READS = new Set(['GetItemCommand', 'QueryCommand', 'ScanCommand', 'BatchGetItemCommand']);

function recordReads(client: DynamoDBClient): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (READS.has(String(context.commandName))) {
        const input = args.input as { TableName?: string; ProjectionExpression?: string; ExpressionAttributeNames?: Record<string, string> };
        const names = input.ExpressionAttributeNames ?? {};
        reads.push({
          command: String(context.commandName).replace(/Command$/, ''),
          table: input.TableName ?? '?',
          projection: input.ProjectionExpression?.split(',').map((p) => names[p.trim()] ?? p.trim()),
        });
      }
      return next(args);
    },
    { step: 'initialize', name: 'recordRegistryReads' },
  );
}

describe('10. least privilege inside the functions', () => {
  beforeAll(() => recordReads(db.client));
  beforeEach(() => {
    reads = [];
  });

  test('(a) the webhook handlers never read secretHash: every read names its attributes', async () => {
    // a teammate on the walkthrough's line, so the outgoing handler also takes the internal-call path
    await registerDevice(db.lines, { clientName: 'Teammate', secret: 'teammate-secret', createdAt: '2024-01-02T00:00:00.000Z' });
    reads = [];
    const base = `https://${API_DOMAIN}/prod`;
    await expect(incoming()(signedEvent(INCOMING_RESOURCE, incomingCallParams()))).resolves.toBe(
      incomingTwiml(base, { clients: [DEVICE_CLIENT, 'Teammate'] }),
    );
    await incoming()(signedEvent(INCOMING_RESOURCE, incomingCallParams({ To: '+815099990000' })));
    await expect(outgoing()(signedEvent(OUTGOING_RESOURCE, outgoingCallParams()))).resolves.toContain('>+819059876543</Number>');
    await expect(
      outgoing()(
        signedEvent(OUTGOING_RESOURCE, outgoingCallParams({ callerPhoneNumber: '', callOutgoingPhoneNumber: '', callOutgoingClient: 'Teammate' })),
      ),
    ).resolves.toContain('<Identity>Teammate</Identity>');
    await dialFrom('03-1234-5678', 'Nobody');
    // the Dial's action webhook reads the line again (nobody answered: voicemail)
    const actionPath = '/twilio/retrieve_twiml/call_action';
    const action = callable(createCallActionHandler(makeDeps(db)));
    await expect(
      action(signedEvent(actionPath, incomingCallParams({ DialCallStatus: 'no-answer' }), { query: { stage: 'ring', next: '2' } })),
    ).resolves.toContain('<Record ');

    // (the call log's reads hold no secret: only the registry's are held to naming their attributes)
    const registryReads = reads.filter((r) => r.table !== db.callsTable);
    expect(new Set(registryReads.map((r) => r.command))).toEqual(new Set(['GetItem', 'Query'])); // both kinds of read were made
    for (const read of registryReads) {
      expect(read).toEqual({ command: read.command, table: db.registryTable, projection: expect.any(Array) });
      expect(read.projection).not.toContain('secretHash');
    }
  });

  test('(a) … while the token handler’s sign-in reads it', async () => {
    await expect(tokenHandler()({ twilioPhoneNumber: DEVICE_NUMBER, deviceSecret: DEVICE_SECRET })).resolves.toMatchObject({
      identity: DEVICE_CLIENT,
    });
    const deviceReads = reads.filter((r) => r.table === db.registryTable && r.command === 'Query');
    expect(deviceReads.some((r) => r.projection === undefined || r.projection.includes('secretHash'))).toBe(true);
  });

  test('(b) the outgoing Dial has timeLimit = CALL_TIME_LIMIT_SECONDS (default 4 h)', async () => {
    expect(loadConfig({}).callTimeLimitSeconds).toBe(14400);
    expect(loadConfig({ CALL_TIME_LIMIT_SECONDS: '600' }).callTimeLimitSeconds).toBe(600);
    expect(loadConfig({ CALL_TIME_LIMIT_SECONDS: '60' }).callTimeLimitSeconds).toBe(60);
    for (const bad of ['59', '14401', '0', '-5', '1.5', 'forever']) {
      expect(() => loadConfig({ CALL_TIME_LIMIT_SECONDS: bad })).toThrow(/CALL_TIME_LIMIT_SECONDS/);
    }
    const out = await outgoing()(signedEvent(OUTGOING_RESOURCE, outgoingCallParams()));
    expect(out).toBe(OUTGOING_TWIML);
    expect(out).toContain(`<Dial timeout="60" callerId="${DEVICE_NUMBER}" timeLimit="14400">`);
    const configured = await outgoing({ ...loadConfig({ CALL_TIME_LIMIT_SECONDS: '600' }) })(signedEvent(OUTGOING_RESOURCE, outgoingCallParams()));
    expect(configured).toMatch(/<Dial [^>]*timeLimit="600"[^>]*><Number [^>]*>\+819059876543<\/Number><\/Dial>/);
  });

  describe('(c) a webhook URL configured with a query string verifies', () => {
    const params = incomingCallParams();
    const path = `/prod${INCOMING_RESOURCE}`;
    const base = `https://${API_DOMAIN}${path}`;
    /** The event the request template renders, with the gateway's decoded query map. */
    const event = (query: Record<string, string>, signedUrl: string) => ({
      ...signedEvent(INCOMING_RESOURCE, params, { url: signedUrl }),
      query,
    });

    test('signed like Twilio for url?line=sales&x=1 → accepted', async () => {
      await expect(incoming()(event({ line: 'sales', x: '1' }, `${base}?line=sales&x=1`))).resolves.toBe(INCOMING_TWIML);
    });

    test('the query reordered by the gateway still verifies', async () => {
      await expect(incoming()(event({ x: '1', line: 'sales' }, `${base}?line=sales&x=1`))).resolves.toBe(INCOMING_TWIML);
    });

    test('any order of a few parameters (not only given or sorted) still verifies', async () => {
      // configured as c, a, b; the gateway's map may hold them in any order
      const signed = `${base}?c=3&a=1&b=2`;
      for (const query of [
        { a: '1', b: '2', c: '3' },
        { b: '2', c: '3', a: '1' },
        { c: '3', a: '1', b: '2' },
      ]) {
        await expect(incoming()(event(query, signed))).resolves.toBe(INCOMING_TWIML);
      }
    });

    test('spaces and sub-delimiters verify in either common encoding (+ or %20, bare or escaped)', async () => {
      const query = { team: 'sales east', to: 'a:b/c' };
      await expect(incoming()(event(query, `${base}?team=sales+east&to=a%3Ab%2Fc`))).resolves.toBe(INCOMING_TWIML);
      await expect(incoming()(event(query, `${base}?team=sales%20east&to=a:b/c`))).resolves.toBe(INCOMING_TWIML);
      await expect(incoming()(event(query, `${base}?team=sales%20west&to=a:b/c`))).rejects.toThrow(/^\[403\] Forbidden$/);
    });

    test('signed without the query → refused', async () => {
      await expect(incoming()(event({ line: 'sales', x: '1' }, base))).rejects.toThrow(/^\[403\] Forbidden$/);
    });

    test('a tampered query value, an added or a dropped parameter → refused', async () => {
      const signed = `${base}?line=sales&x=1`;
      await expect(incoming()(event({ line: 'support', x: '1' }, signed))).rejects.toThrow(/^\[403\] Forbidden$/);
      await expect(incoming()(event({ line: 'sales', x: '1', y: '2' }, signed))).rejects.toThrow(/^\[403\] Forbidden$/);
      await expect(incoming()(event({ line: 'sales' }, signed))).rejects.toThrow(/^\[403\] Forbidden$/);
    });

    test('through the REAL request template: the gateway’s query map reaches the handler and verifies', async () => {
      const signature = getExpectedTwilioSignature(TEST_CREDENTIALS.authToken, `${base}?line=sales&x=1`, params);
      const render = (query: Record<string, string>, sig = signature) =>
        JSON.parse(
          renderRequestTemplate(FORM_TO_JSON_REQUEST_TEMPLATE, {
            body: new URLSearchParams(params).toString(),
            headers: { 'Content-Type': FORM, 'X-Twilio-Signature': sig },
            query,
            context: createGatewayContext({ domainName: API_DOMAIN, path, resourcePath: INCOMING_RESOURCE }),
          }),
        ) as unknown;
      expect(render({ line: 'sales', x: '1' })).toMatchObject({ params, query: { line: 'sales', x: '1' }, signature });
      await expect(incoming()(render({ line: 'sales', x: '1' }))).resolves.toBe(INCOMING_TWIML);
      await expect(incoming()(render({ x: '1', line: 'sales' }))).resolves.toBe(INCOMING_TWIML);
      await expect(incoming()(render({ line: 'sales', x: '2' }))).rejects.toThrow(/^\[403\] Forbidden$/);
      await expect(incoming()(render({}))).rejects.toThrow(/^\[403\] Forbidden$/);
      const unsignedQuery = getExpectedTwilioSignature(TEST_CREDENTIALS.authToken, base, params);
      await expect(incoming()(render({ line: 'sales', x: '1' }, unsignedQuery))).rejects.toThrow(/^\[403\] Forbidden$/);
      // without a query the webhook still verifies as before
      await expect(incoming()(render({}, unsignedQuery))).resolves.toBe(INCOMING_TWIML);
    });
  });
});
