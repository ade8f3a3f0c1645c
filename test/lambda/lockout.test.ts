/** Brute-force lockout of the token API, with state in the attempts table of a real dynalite server. */
import * as deviceSecret from '../../lambda/core/device-secret';
import { MAX_LINE_MEMBERS } from '../../lambda/core/line';
import { blockedUntil, DEFAULT_LOCKOUT_POLICY, delayAfter, lineWidePolicy } from '../../lambda/core/lockout';
import { createTokenHandler, DUMMY_SECRET_HASH } from '../../lambda/handlers/token';
import { useDynalite } from '../support/dynalite';
import { DEVICE_CLIENT, DEVICE_NUMBER, DEVICE_NUMBER_TYPED, DEVICE_SECRET } from '../support/fixtures';
import { callable, expectThrown, makeDeps, registerDevice, TEST_SCRYPT } from './helpers';

/** Fresh tables for every test, with the walkthrough's device registered. */
const db = useDynalite({ seed: ({ lines }) => registerDevice(lines) });
afterEach(() => jest.restoreAllMocks());

const T0 = Date.parse('2030-01-01T00:00:00Z');

function clockedHandler() {
  let now = T0;
  const handler = callable(createTokenHandler(makeDeps(db, { clock: () => new Date(now) }), { dummyScryptParams: TEST_SCRYPT }));
  return {
    handler,
    advance: (seconds: number) => {
      now += seconds * 1000;
    },
    nowSeconds: () => Math.floor(now / 1000),
  };
}

test('policy: free failures, growing back-off, then a 15-minute lockout', () => {
  expect([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11].map((n) => delayAfter(n))).toEqual([0, 0, 1, 2, 4, 8, 16, 32, 60, 900, 900]);
  expect(blockedUntil({ failures: 10, lastFailureAt: 100, expiresAt: 100 + 86400 }, 999)).toBe(1000);
  expect(blockedUntil({ failures: 10, lastFailureAt: 100, expiresAt: 100 + 86400 }, 1000)).toBeUndefined();
  expect(blockedUntil(undefined, 0)).toBeUndefined();
  expect(DEFAULT_LOCKOUT_POLICY.rememberSeconds).toBeGreaterThanOrEqual(DEFAULT_LOCKOUT_POLICY.lockoutSeconds);
});

async function bruteForce(number: string) {
  const c = clockedHandler();
  const statuses: number[] = [];
  const bodies: string[] = [];
  // Ten wrong secrets, each sent as soon as the previous window has passed.
  for (let i = 1; i <= 10; i++) {
    const e = await expectThrown(() => c.handler({ twilioPhoneNumber: number, deviceSecret: `wrong-${i}` }));
    statuses.push(e.status);
    bodies.push(e.body);
    const wait = delayAfter(i);
    if (i < 10 && wait > 0) {
      // Inside the window: 429 without checking the secret, even the right one.
      const verify = jest.spyOn(deviceSecret, 'verifyDeviceSecret');
      const blocked = await expectThrown(() => c.handler({ twilioPhoneNumber: number, deviceSecret: DEVICE_SECRET }));
      expect(blocked.status).toBe(429);
      expect(JSON.parse(blocked.body)).toMatchObject({ success: false, capabilityToken: null, retryAfterSeconds: wait });
      expect(verify).not.toHaveBeenCalled();
      verify.mockRestore();
      c.advance(wait);
    }
  }
  const locked = await expectThrown(() => c.handler({ twilioPhoneNumber: number, deviceSecret: DEVICE_SECRET }));
  return { c, statuses, bodies, locked };
}

test('a known number: slowed, then locked out for 15 minutes; success afterwards clears the counter', async () => {
  const { c, statuses, locked } = await bruteForce(DEVICE_NUMBER);
  expect(statuses).toEqual(Array(10).fill(403));
  expect(locked.status).toBe(429);
  const body = JSON.parse(locked.body);
  expect(body).toEqual({
    success: false,
    capabilityToken: null,
    error: `Too many failed attempts for this number. Try again after ${new Date((c.nowSeconds() + 900) * 1000).toISOString()} (in 900 seconds).`,
    retryAfterSeconds: 900,
  });
  expect(locked.message.startsWith('[429] {')).toBe(true);

  c.advance(899);
  expect((await expectThrown(() => c.handler({ twilioPhoneNumber: DEVICE_NUMBER, deviceSecret: DEVICE_SECRET }))).status).toBe(429);
  c.advance(1);
  await expect(c.handler({ twilioPhoneNumber: DEVICE_NUMBER_TYPED, deviceSecret: DEVICE_SECRET })).resolves.toMatchObject({ success: true });
  // The device's own count (no name given: `<number>#`) is cleared; the line's count keeps its 10 failures (the
  // success itself is taken back), far below its own limits, so it blocks nothing.
  await expect(db.attempts.getAttempts(`${DEVICE_NUMBER}#`, c.nowSeconds())).resolves.toBeUndefined();
  await expect(db.attempts.getAttempts(DEVICE_NUMBER, c.nowSeconds())).resolves.toMatchObject({ failures: 10 });
  // Cleared: the next wrong secrets are free again.
  expect((await expectThrown(() => c.handler({ twilioPhoneNumber: DEVICE_NUMBER, deviceSecret: 'wrong' }))).status).toBe(403);
  expect((await expectThrown(() => c.handler({ twilioPhoneNumber: DEVICE_NUMBER, deviceSecret: 'wrong' }))).status).toBe(403);
});

test('an unknown number gets exactly the same answers (nothing reveals whether it exists)', async () => {
  const known = await bruteForce(DEVICE_NUMBER);
  const unknown = await bruteForce('+815099990000');
  expect(unknown.statuses).toEqual(known.statuses);
  expect(unknown.bodies).toEqual(known.bodies);
  expect(unknown.locked.body).toEqual(known.locked.body);
});

test('an unknown number still costs one scrypt verify (equal timing on the 403 path)', async () => {
  const verify = jest.spyOn(deviceSecret, 'verifyDeviceSecret');
  const c = clockedHandler();
  await expectThrown(() => c.handler({ twilioPhoneNumber: '+815077776666', deviceSecret: 'guess' }));
  expect(verify).toHaveBeenCalledTimes(1);
  expect(verify.mock.calls[0][0]).toBe('guess');
  expect(verify.mock.calls[0][1]).toMatch(/^scrypt\$16\$1\$1\$/); // the dummy hash, at the configured cost
});

test('the dummy hash is precomputed at the production cost: the first unknown number costs one verify, no hash', async () => {
  const { N, r, p } = deviceSecret.DEFAULT_SCRYPT_PARAMS;
  expect(DUMMY_SECRET_HASH.startsWith(`scrypt$${N}$${r}$${p}$`)).toBe(true);
  const hash = jest.spyOn(deviceSecret, 'hashDeviceSecret');
  const verify = jest.spyOn(deviceSecret, 'verifyDeviceSecret');
  const handler = callable(createTokenHandler(makeDeps(db)));
  await expectThrown(() => handler({ twilioPhoneNumber: '+815077775555', deviceSecret: 'guess' }));
  expect(hash).not.toHaveBeenCalled();
  expect(verify.mock.calls).toEqual([['guess', DUMMY_SECRET_HASH]]);
});

test('parallel guesses cannot slip past the lockout: each is counted before its secret is checked', async () => {
  const number = '+815031239999';
  const c = clockedHandler();
  const verify = jest.spyOn(deviceSecret, 'verifyDeviceSecret');
  // Twenty wrong secrets at once, all reading "no failures yet" before any of them is checked.
  const results = await Promise.all(
    Array.from({ length: 20 }, (_, i) => expectThrown(() => c.handler({ twilioPhoneNumber: number, deviceSecret: `parallel-${i}` }))),
  );
  const statuses = results.map((e) => e.status).sort();
  // Only the attempts a sequential attacker would get (the free failures) reach the secret check.
  expect(verify.mock.calls.length).toBeLessThanOrEqual(DEFAULT_LOCKOUT_POLICY.freeFailures);
  expect(statuses.filter((s) => s === 403).length).toBe(verify.mock.calls.length);
  expect(statuses.filter((s) => s === 429).length).toBe(20 - verify.mock.calls.length);
  // Every attempt that got past the first check was counted (those refused there never touched the secret),
  // so the number is now in a back-off window.
  const rec = await db.attempts.getAttempts(number, c.nowSeconds());
  expect(rec!.failures).toBeGreaterThan(DEFAULT_LOCKOUT_POLICY.freeFailures);
  expect((await expectThrown(() => c.handler({ twilioPhoneNumber: number, deviceSecret: 'late' }))).status).toBe(429);
});

test('a line’s devices: failures count per named device, so one device locked out does not lock out its teammate', async () => {
  await registerDevice(db.lines, { clientName: 'DeviceId_0002', secret: 'teammate-secret', createdAt: '2024-01-02T00:00:00.000Z' });
  const c = clockedHandler();
  // The teammate mistypes its secret until it is locked out...
  for (let i = 1; i <= 10; i++) {
    await expectThrown(() => c.handler({ twilioPhoneNumber: DEVICE_NUMBER, deviceSecret: `wrong-${i}`, clientName: 'DeviceId_0002' }));
    c.advance(delayAfter(i));
  }
  c.advance(-delayAfter(10));
  const locked = await expectThrown(() =>
    c.handler({ twilioPhoneNumber: DEVICE_NUMBER, deviceSecret: 'teammate-secret', clientName: 'DeviceId_0002' }),
  );
  expect(locked.status).toBe(429);
  expect(JSON.parse(locked.body)).toMatchObject({ retryAfterSeconds: 900 });
  // ...while the other device of the line, naming itself, still signs in
  await expect(c.handler({ twilioPhoneNumber: DEVICE_NUMBER, deviceSecret: DEVICE_SECRET, clientName: DEVICE_CLIENT })).resolves.toMatchObject({
    identity: DEVICE_CLIENT,
  });
  await expect(db.attempts.getAttempts(`${DEVICE_NUMBER}#DeviceId_0002`, c.nowSeconds())).resolves.toMatchObject({ failures: 10 });
});

test('the answers do not tell whether the named device is on the line (no oracle in the lockout buckets)', async () => {
  await registerDevice(db.lines, { clientName: 'DeviceId_0002', secret: 'teammate-secret', createdAt: '2024-01-02T00:00:00.000Z' });
  /** Four wrong secrets naming `clientName`, then one more: the statuses and bodies. */
  const probe = async (clientName: string) => {
    const c = clockedHandler();
    const answers: string[] = [];
    for (let i = 0; i < 5; i++) {
      const e = await expectThrown(() => c.handler({ twilioPhoneNumber: DEVICE_NUMBER, deviceSecret: `wrong-${clientName}-${i}`, clientName }));
      answers.push(`${e.status} ${e.body}`);
    }
    return answers;
  };
  const real = await probe('DeviceId_0002');
  // fresh tables for the second probe would be fairer still; a name's count is its own either way
  const madeUp = await probe('Nobody_1234');
  expect(madeUp).toEqual(real);
  expect(real.map((a) => a.slice(0, 3))).toEqual(['403', '403', '403', '429', '429']);
});

test('the line’s own count bounds what made-up device names buy an attacker', async () => {
  const c = clockedHandler();
  const line = lineWidePolicy(DEFAULT_LOCKOUT_POLICY);
  expect(line.lockoutFailures).toBe(DEFAULT_LOCKOUT_POLICY.lockoutFailures * (MAX_LINE_MEMBERS + 1));
  // A fresh made-up name for every guess: each name's own count never passes one failure...
  for (let i = 1; i <= line.lockoutFailures; i++) {
    const e = await expectThrown(() => c.handler({ twilioPhoneNumber: DEVICE_NUMBER, deviceSecret: `guess-${i}`, clientName: `Made_up_${i}` }));
    expect([i, e.status]).toEqual([i, 403]);
    c.advance(delayAfter(i, line));
  }
  c.advance(-delayAfter(line.lockoutFailures, line));
  // ...but the line's count locks the number: even the right secret and a real name get 429 for 15 minutes.
  const locked = await expectThrown(() => c.handler({ twilioPhoneNumber: DEVICE_NUMBER, deviceSecret: DEVICE_SECRET, clientName: DEVICE_CLIENT }));
  expect(locked.status).toBe(429);
  expect(JSON.parse(locked.body)).toMatchObject({ retryAfterSeconds: 900 });
}, 120_000);

test('sign-ins that succeed leave no failures behind on the line’s count (a busy team is never slowed by its own sign-ins)', async () => {
  const c = clockedHandler();
  for (let i = 0; i < DEFAULT_LOCKOUT_POLICY.freeFailures * (MAX_LINE_MEMBERS + 1) + 5; i++) {
    await expect(c.handler({ twilioPhoneNumber: DEVICE_NUMBER, deviceSecret: DEVICE_SECRET, clientName: DEVICE_CLIENT })).resolves.toMatchObject({
      success: true,
    });
  }
  await expect(db.attempts.getAttempts(DEVICE_NUMBER, c.nowSeconds())).resolves.toMatchObject({ failures: 0 });
}, 60_000);
