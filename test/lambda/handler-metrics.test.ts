/**
 * What each handler counts (lambda/core/metrics.ts), read back from the recording sink the invocation context
 * carries: sign-ins by result, every webhook's signature rejections, incoming calls routed, missed calls (once
 * per call, however often Twilio repeats its callbacks), voicemails kept, refusals by reason, and the dependency
 * failures the handlers answer gracefully, by dependency. Over a real dynalite registry; the clouds and Twilio's
 * REST API are stand-ins that fail on demand.
 */
import { RecordingMetrics } from '../../lambda/adapters/recording-metrics';
import { DEFAULT_LINE_SETTINGS } from '../../lambda/core/line';
import { API_PATHS } from '../../lambda/core/paths';
import type { HandlerDeps } from '../../lambda/handlers/deps';
import { createTokenHandler } from '../../lambda/handlers/token';
import { HANDLER_TABLE } from '../../lambda/handlers/table';
import { CredentialsError, type Notifier, RegistryError, type RecordingStore, TwilioApiError, type TwilioRecordings } from '../../lambda/ports';
import { ROUTES } from '../../lib/api/routes';
import { useDynalite } from '../support/dynalite';
import {
  DEVICE_CLIENT,
  DEVICE_NUMBER,
  DEVICE_SECRET,
  INCOMING_RESOURCE,
  incomingCallParams,
  OUTGOING_RESOURCE,
  outgoingCallParams,
  signedEvent,
  TEST_CREDENTIALS,
} from '../support/fixtures';
import { callable, expectThrown, makeDeps, registerDevice, TEST_SCRYPT, testConfig } from './helpers';

const db = useDynalite({
  seed: async ({ lines }) => {
    await registerDevice(lines);
    await registerDevice(lines, { clientName: 'DeviceId_0002', secret: 'teammate-secret', createdAt: '2024-01-02T00:00:00.000Z' });
  },
});

const sid = (prefix: string, n: number) => `${prefix}${n.toString(16).padStart(32, '0')}`;
const CALLER = '+819059876543';

/** Every route Twilio calls (the webhooks), by id. */
const WEBHOOKS = ROUTES.filter((r) => r.caller === 'twilio').map((r) => r.id);

interface Stand {
  recordings: RecordingStore & { fail?: boolean };
  twilioRecordings: TwilioRecordings & { failDownload?: boolean; failDelete?: boolean };
  notifier: Notifier & { fail?: boolean };
}

/** Recordings, Twilio's copies and notifications: in memory, failing on demand like their adapters do. */
function stand(): Stand {
  const s: Stand = {
    recordings: {
      put: async () => {
        if (s.recordings.fail) throw new RegistryError('S3 put failed: SlowDown', { dependency: 'S3' });
      },
      playbackUrl: async (key) => `https://recordings.example/${key}`,
      delete: async () => {
        if (s.recordings.fail) throw new RegistryError('S3 delete failed: SlowDown', { dependency: 'S3' });
      },
    },
    twilioRecordings: {
      download: async () => {
        if (s.twilioRecordings.failDownload) throw new TwilioApiError('Twilio recording download failed', 503);
        return { audio: new Uint8Array([1, 2, 3]), contentType: 'audio/mpeg' };
      },
      delete: async () => {
        if (s.twilioRecordings.failDelete) throw new TwilioApiError('Twilio recording delete failed', 500);
      },
    },
    notifier: { newVoicemail: async () => !s.notifier.fail },
  };
  return s;
}

/** The store with one method replaced by `fail` (the others its own). */
function failing<T extends object>(store: T, method: keyof T, fail: () => Promise<never>): T {
  return new Proxy(store, { get: (target, prop, receiver) => (prop === method ? fail : Reflect.get(target, prop, receiver)) });
}

/** All the deps any handler needs, over this test's tables. */
function allDeps(overrides: Partial<HandlerDeps> = {}, s: Stand = stand()): HandlerDeps {
  return makeDeps(db, {
    voicemails: db.voicemails,
    recordings: s.recordings,
    twilioRecordings: s.twilioRecordings,
    notifier: s.notifier,
    ...overrides,
  });
}

/** A handler of the table over `deps`, called with a fresh recording sink that the test reads. */
function counted(id: keyof typeof HANDLER_TABLE, deps: HandlerDeps = allDeps()) {
  const metrics = new RecordingMetrics();
  return { call: callable(HANDLER_TABLE[id](deps), undefined, metrics), metrics };
}

describe('SignIn by Result', () => {
  const token = (opts: Parameters<typeof createTokenHandler>[1] = {}, deps: HandlerDeps = allDeps()) => {
    const metrics = new RecordingMetrics();
    return { call: callable(createTokenHandler(deps, { dummyScryptParams: TEST_SCRYPT, ...opts }), undefined, metrics), metrics };
  };

  test('ok, refused, invalid', async () => {
    const { call, metrics } = token();
    await call({ twilioPhoneNumber: DEVICE_NUMBER, deviceSecret: DEVICE_SECRET });
    expect((await expectThrown(() => call({ twilioPhoneNumber: DEVICE_NUMBER, deviceSecret: 'wrong' }))).status).toBe(403);
    expect((await expectThrown(() => call({ twilioPhoneNumber: 'not a number', deviceSecret: DEVICE_SECRET }))).status).toBe(400);
    expect((await expectThrown(() => call({ twilioPhoneNumber: DEVICE_NUMBER }))).status).toBe(400);
    expect((await expectThrown(() => call({ twilioPhoneNumber: DEVICE_NUMBER, deviceSecret: DEVICE_SECRET, purpose: 'other' }))).status).toBe(400);
    expect((await expectThrown(() => call('not an object'))).status).toBe(400);
    expect(metrics.totals()).toEqual({ SignIn: { ok: 1, refused: 1, invalid: 4 } });
    expect(metrics.rejected).toEqual([]);
  });

  test('locked-out: attempts refused while the number is in a back-off window', async () => {
    const at = new Date('2026-01-01T00:00:00Z');
    const lockout = { freeFailures: 1, baseDelaySeconds: 60, maxDelaySeconds: 60, lockoutFailures: 5, lockoutSeconds: 900, rememberSeconds: 3600 };
    const { call, metrics } = token({ lockout }, allDeps({ clock: () => at }));
    expect((await expectThrown(() => call({ twilioPhoneNumber: DEVICE_NUMBER, deviceSecret: 'wrong', clientName: DEVICE_CLIENT }))).status).toBe(403);
    expect((await expectThrown(() => call({ twilioPhoneNumber: DEVICE_NUMBER, deviceSecret: 'wrong', clientName: DEVICE_CLIENT }))).status).toBe(429);
    expect(
      (await expectThrown(() => call({ twilioPhoneNumber: DEVICE_NUMBER, deviceSecret: DEVICE_SECRET, clientName: DEVICE_CLIENT }))).status,
    ).toBe(429);
    expect(metrics.totals()).toEqual({ SignIn: { refused: 1, 'locked-out': 2 } });
  });

  test('a dependency failure is not a sign-in result: DependencyFailures by DynamoDB or SecretsManager', async () => {
    const registryDown = token(
      {},
      allDeps({
        attempts: failing(db.attempts, 'getAttempts', async () => {
          throw new RegistryError('DynamoDB getAttempts failed: ProvisionedThroughputExceededException');
        }),
      }),
    );
    expect((await expectThrown(() => registryDown.call({ twilioPhoneNumber: DEVICE_NUMBER, deviceSecret: DEVICE_SECRET }))).status).toBe(503);
    expect(registryDown.metrics.totals()).toEqual({ DependencyFailures: { DynamoDB: 1 } });

    const secretDown = token(
      {},
      allDeps({
        credentials: async () => {
          throw new CredentialsError('Could not read the Twilio secret');
        },
      }),
    );
    expect((await expectThrown(() => secretDown.call({ twilioPhoneNumber: DEVICE_NUMBER, deviceSecret: DEVICE_SECRET }))).status).toBe(503);
    expect(secretDown.metrics.totals()).toEqual({ DependencyFailures: { SecretsManager: 1 } });
  });
});

describe('SignatureRejected: every webhook', () => {
  test.each(WEBHOOKS)('%s refuses a missing, a wrong and a malformed signature, and counts each', async (id) => {
    const { call, metrics } = counted(id);
    const path = ROUTES.find((r) => r.id === id)!.path;
    const params = { AccountSid: TEST_CREDENTIALS.accountSid, CallSid: sid('CA', 1), From: `client:${DEVICE_CLIENT}`, To: DEVICE_NUMBER };
    await expect(call(signedEvent(path, params, { signature: '' }))).rejects.toThrow('[403] Forbidden');
    await expect(call(signedEvent(path, params, { authToken: 'another-auth-token' }))).rejects.toThrow('[403] Forbidden');
    await expect(call({ params: 'not a map' })).rejects.toThrow('[403] Forbidden');
    expect(metrics.totals()).toEqual({ SignatureRejected: { '-': 3 } });
  });

  test('a signed request is not counted', async () => {
    const { call, metrics } = counted('callIncoming');
    await call(signedEvent(INCOMING_RESOURCE, incomingCallParams()));
    expect(metrics.totals().SignatureRejected).toBeUndefined();
  });
});

describe('IncomingCalls', () => {
  test('a call to a line is counted when it is routed; a call to a number without a line is not', async () => {
    const { call, metrics } = counted('callIncoming');
    expect(await call(signedEvent(INCOMING_RESOURCE, incomingCallParams()))).toContain('<Dial');
    expect(await call(signedEvent(INCOMING_RESOURCE, incomingCallParams({ To: '+815099999999' })))).toContain('<Hangup/>');
    expect(metrics.totals()).toEqual({ IncomingCalls: { '-': 1 } });
  });
});

describe('MissedCalls: once per call, on the callback that makes it missed', () => {
  const status = (params: Record<string, string>, query?: Record<string, string>) =>
    signedEvent(API_PATHS.callStatus, { AccountSid: TEST_CREDENTIALS.accountSid, ...params }, query ? { query } : {});
  const memberLeg = { leg: 'member', line: DEVICE_NUMBER, caller: CALLER };

  test('nobody answers: counted when the caller hangs up, not again for repeated or later callbacks', async () => {
    const { call, metrics } = counted('callStatus');
    const parent = sid('CA', 10);
    await call(status({ CallSid: parent, CallStatus: 'ringing', From: CALLER, To: DEVICE_NUMBER }));
    await call(status({ CallSid: sid('CA', 11), ParentCallSid: parent, CallStatus: 'no-answer', To: `client:${DEVICE_CLIENT}` }, memberLeg));
    expect(metrics.totals().MissedCalls).toBeUndefined();
    const completed = status({ CallSid: parent, CallStatus: 'completed', From: CALLER, To: DEVICE_NUMBER });
    await call(completed);
    expect(metrics.totals()).toEqual({ MissedCalls: { '-': 1 } });
    // Twilio repeats a callback; another leg's late word changes nothing
    await call(completed);
    await call(status({ CallSid: sid('CA', 12), ParentCallSid: parent, CallStatus: 'no-answer', To: 'client:DeviceId_0002' }, memberLeg));
    expect(metrics.totals()).toEqual({ MissedCalls: { '-': 1 } });
    expect((await db.calls.get(parent))?.callSid).toBe(parent);
  });

  test('an answered call is not missed', async () => {
    const { call, metrics } = counted('callStatus');
    const parent = sid('CA', 20);
    await call(status({ CallSid: parent, CallStatus: 'ringing', From: CALLER, To: DEVICE_NUMBER }));
    await call(status({ CallSid: sid('CA', 21), ParentCallSid: parent, CallStatus: 'in-progress', To: `client:${DEVICE_CLIENT}` }, memberLeg));
    await call(status({ CallSid: sid('CA', 21), ParentCallSid: parent, CallStatus: 'completed', To: `client:${DEVICE_CLIENT}` }, memberLeg));
    await call(status({ CallSid: parent, CallStatus: 'completed', From: CALLER, To: DEVICE_NUMBER }));
    expect(metrics.totals()).toEqual({});
  });
});

describe('Voicemails, and the voicemail adapters’ failures', () => {
  const recording = (n: number, overrides: Record<string, string> = {}) =>
    signedEvent(
      API_PATHS.recordingStatus,
      {
        AccountSid: TEST_CREDENTIALS.accountSid,
        CallSid: sid('CA', 30 + n),
        RecordingSid: sid('RE', n),
        RecordingStatus: 'completed',
        RecordingDuration: '7',
        ...overrides,
      },
      { query: { line: DEVICE_NUMBER, caller: CALLER } },
    );

  test('kept once, however often Twilio calls back', async () => {
    const { call, metrics } = counted('recordingStatus');
    await call(recording(1));
    await call(recording(1));
    expect(metrics.totals()).toEqual({ Voicemails: { '-': 1 } });
  });

  test('the notification not sent (SNS), Twilio’s copy not deleted (Twilio): kept and counted as failures', async () => {
    const s = stand();
    s.notifier.fail = true;
    s.twilioRecordings.failDelete = true;
    const { call, metrics } = counted('recordingStatus', allDeps({}, s));
    await call(recording(2));
    expect(metrics.totals()).toEqual({ Voicemails: { '-': 1 }, DependencyFailures: { SNS: 1, Twilio: 1 } });
  });

  test('the recording not fetched (Twilio) or not stored (S3): not kept, the failure counted by dependency', async () => {
    const s = stand();
    s.twilioRecordings.failDownload = true;
    const twilioDown = counted('recordingStatus', allDeps({}, s));
    await expect(twilioDown.call(recording(3))).rejects.toThrow('not kept');
    expect(twilioDown.metrics.totals()).toEqual({ DependencyFailures: { Twilio: 1 } });

    const t = stand();
    t.recordings.fail = true;
    const s3Down = counted('recordingStatus', allDeps({}, t));
    await expect(s3Down.call(recording(4))).rejects.toThrow('not kept');
    expect(s3Down.metrics.totals()).toEqual({ DependencyFailures: { S3: 1 } });
  });
});

describe('CallsRefused by Reason', () => {
  const outgoing = (overrides: Record<string, string>, n: number) =>
    signedEvent(OUTGOING_RESOURCE, outgoingCallParams({ CallSid: sid('CA', 100 + n), ...overrides }));

  test('each refusal of an outgoing call, with its reason', async () => {
    const { call, metrics } = counted('callOutgoing', allDeps({ config: testConfig({ maxCallsPerDevice: 1 }) }));
    await call(outgoing({ callOutgoingPhoneNumber: '+81 990 123 456' }, 1)); // premium-rate
    await call(outgoing({ callOutgoingPhoneNumber: '+1 415 555 0123' }, 2)); // country-not-allowed (JP only)
    await call(outgoing({ callOutgoingPhoneNumber: '110' }, 3)); // emergency
    await call(outgoing({ callOutgoingPhoneNumber: '12' }, 4)); // not a valid number
    await call(outgoing({ callOutgoingPhoneNumber: '' }, 5)); // no-destination
    await call(outgoing({ callerPhoneNumber: '+81-50-0000-0000' }, 6)); // caller-id
    await call(outgoing({ callOutgoingClient: 'DeviceId_US' }, 7)); // not-a-teammate
    expect(await call(outgoing({}, 8))).toContain('<Number'); // dialled: holds the device's one place
    await call(outgoing({}, 9)); // limit
    const totals = metrics.totals().CallsRefused;
    expect(totals).toEqual({
      'premium-rate': 1,
      'country-not-allowed': 1,
      emergency: 1,
      [Object.keys(totals).find((k) => k === 'invalid' || k === 'unparsable')!]: 1,
      'no-destination': 1,
      'caller-id': 1,
      'not-a-teammate': 1,
      limit: 1,
    });
    expect(metrics.rejected).toEqual([]);
  });

  test('a forward the destination policy refuses today (call-action), counted when the call would have been forwarded', async () => {
    await db.lines.putSettings(DEVICE_NUMBER, { ...DEFAULT_LINE_SETTINGS, forwardTo: '+14155550123' });
    const { call, metrics } = counted('callAction');
    const action = (stage: Record<string, string>, n: number) =>
      signedEvent(
        API_PATHS.callAction,
        { To: DEVICE_NUMBER, From: CALLER, CallSid: sid('CA', 200 + n), DialCallStatus: 'no-answer' },
        { query: stage },
      );
    // the members did not answer: the forward would come next, but the US is not an allowed country
    expect(await call(action({ stage: 'ring', next: '2' }, 1))).toContain('<Record');
    // the message recorded: no forward in question
    await call(action({ stage: 'recorded' }, 2));
    expect(metrics.totals()).toEqual({ CallsRefused: { 'country-not-allowed': 1 } });
  });
});

describe('DependencyFailures where the handlers answer gracefully', () => {
  const registryDown = async (): Promise<never> => {
    throw new RegistryError('DynamoDB getLine failed: InternalServerError');
  };

  test('a webhook (webhook-common): "temporarily unavailable" TwiML, DynamoDB or SecretsManager counted', async () => {
    const dynamo = counted('callIncoming', allDeps({ lines: failing(db.lines, 'findLine', registryDown) }));
    expect(await dynamo.call(signedEvent(INCOMING_RESOURCE, incomingCallParams()))).toContain('temporarily unavailable');
    expect(dynamo.metrics.totals()).toEqual({ DependencyFailures: { DynamoDB: 1 } });

    const secrets = counted(
      'preflight',
      allDeps({
        credentials: async () => {
          throw new CredentialsError('Could not read the Twilio secret');
        },
      }),
    );
    expect(await secrets.call(signedEvent(API_PATHS.preflight, { From: `client:${DEVICE_CLIENT}` }))).toContain('temporarily unavailable');
    expect(secrets.metrics.totals()).toEqual({ DependencyFailures: { SecretsManager: 1 } });
  });

  test('the page API (page-common): 503, counted; a recording not deleted now (S3) counted too', async () => {
    const directory = counted('directory', allDeps({ lines: failing(db.lines, 'findByClientName', registryDown) }));
    expect((await expectThrown(() => directory.call({ identity: DEVICE_CLIENT, request: {} }))).status).toBe(503);
    expect(directory.metrics.totals()).toEqual({ DependencyFailures: { DynamoDB: 1 } });

    const s = stand();
    s.recordings.fail = true;
    await db.voicemails.add({
      line: DEVICE_NUMBER,
      id: sid('RE', 9),
      from: CALLER,
      callSid: sid('CA', 9),
      durationSeconds: 3,
      recordingKey: 'voicemail/815031234567/x.mp3',
      heard: false,
      receivedAt: new Date().toISOString(),
      expiresAt: Math.floor(Date.now() / 1000) + 3600,
    });
    const voicemails = counted('voicemails', allDeps({}, s));
    await expect(voicemails.call({ identity: DEVICE_CLIENT, request: { action: 'delete', id: sid('RE', 9) } })).resolves.toEqual({ success: true });
    expect(voicemails.metrics.totals()).toEqual({ DependencyFailures: { S3: 1 } });
  });

  test('the page authorizer: the secret unreadable is counted (and answered 500, not 401)', async () => {
    const { call, metrics } = counted(
      'pageAuthorizer',
      allDeps({
        credentials: async () => {
          throw new CredentialsError('Could not read the Twilio secret');
        },
      }),
    );
    await expect(
      call({ type: 'TOKEN', authorizationToken: 'Bearer a.b.c', methodArn: 'arn:aws:execute-api:r:1:api/prod/POST/softphone/calls' }),
    ).rejects.toThrow(CredentialsError);
    expect(metrics.totals()).toEqual({ DependencyFailures: { SecretsManager: 1 } });
  });
});
