/**
 * The test fake's Recording resource answers as Twilio's REST API does (its OpenAPI description,
 * test/support/twilio-oai/twilio_api_v2010.json: `GET` and `DELETE /2010-04-01/Accounts/{AccountSid}/Recordings/{Sid}.json`,
 * operations FetchRecording and DeleteRecording; the media at the same URI with `.mp3`, per Twilio's Recording
 * documentation), including its unhappy answers — and the app's adapter (lambda/adapters/twilio-recordings.ts)
 * gets from it what it would get from Twilio.
 */
import { HttpTwilioRecordings } from '../../lambda/adapters/twilio-recordings';
import { staticCredentials } from '../../lambda/core/credentials';
import { TwilioApiError } from '../../lambda/ports';
import { FakeTwilio, sid } from './fake-twilio';
import { twilioSpec } from './twilio-openapi';

const KEY_SECRET = 'recordings-key-secret';
let fake: FakeTwilio;
let keySid: string;

beforeEach(async () => {
  fake = await new FakeTwilio().start();
  keySid = fake.seedKey('recordings', { secret: KEY_SECRET });
});
afterEach(async () => {
  await fake.stop();
});

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const recordingPath = (recordingSid: string, ext: string, account = fake.accountSid) =>
  `/2010-04-01/Accounts/${account}/Recordings/${recordingSid}.${ext}`;

async function call(method: string, urlPath: string, auth = basic(keySid, KEY_SECRET)) {
  const res = await fetch(fake.url + urlPath, { method, headers: { Authorization: auth } });
  const bytes = Buffer.from(await res.arrayBuffer());
  const json = res.headers.get('content-type')?.startsWith('application/json')
    ? (JSON.parse(bytes.toString('utf8')) as Record<string, unknown>)
    : undefined;
  return { status: res.status, contentType: res.headers.get('content-type'), bytes, json };
}

const errorBody = (status: number, code: number) =>
  expect.objectContaining({ status, code, message: expect.any(String), more_info: `https://www.twilio.com/docs/errors/${code}` });

describe('the spec has the paths the fake serves', () => {
  test('FetchRecording and DeleteRecording on /Recordings/{Sid}.json; DeleteRecording answers 204 with no body', () => {
    const item = twilioSpec().paths['/2010-04-01/Accounts/{AccountSid}/Recordings/{Sid}.json'] as Record<
      string,
      { operationId: string; responses: Record<string, unknown> }
    >;
    expect(item.get.operationId).toBe('FetchRecording');
    expect(item.delete.operationId).toBe('DeleteRecording');
    expect(Object.keys(item.delete.responses)).toEqual(['204']);
  });
});

describe('GET …/Recordings/{Sid}.mp3 (the media)', () => {
  test('with the API key (a Standard key may use Recordings): 200 audio/mpeg, the seeded bytes', async () => {
    const audio = Buffer.from([0x49, 0x44, 0x33, 4, 0, 0, 0, 0, 0, 0, 0xff, 0xfb, 0x90, 0x64, 1, 2, 3]);
    const recordingSid = fake.seedRecording({ audio });
    const res = await call('GET', recordingPath(recordingSid, 'mp3'));
    expect(res).toMatchObject({ status: 200, contentType: 'audio/mpeg' });
    expect(res.bytes).toEqual(audio);
    // the account's Auth Token works too
    expect((await call('GET', recordingPath(recordingSid, 'mp3'), basic(fake.accountSid, fake.authToken))).status).toBe(200);
    expect(fake.requests.at(-2)).toMatchObject({ method: 'GET', user: keySid, status: 200 });
    expect(fake.contractViolations).toEqual([]);
  });

  test('a wrong secret, an unknown key or no credentials → 401, code 20003', async () => {
    const recordingSid = fake.seedRecording();
    for (const auth of [basic(keySid, 'wrong'), basic(sid('SK'), KEY_SECRET), '']) {
      const res = await call('GET', recordingPath(recordingSid, 'mp3'), auth);
      expect(res.status).toBe(401);
      expect(res.json).toEqual(errorBody(401, 20003));
    }
    expect(fake.requests.every((r) => r.user === '')).toBe(true);
    expect(fake.contractViolations).toEqual([]);
  });

  test('an unknown recording → 404, code 20404; a malformed RecordingSid is not a path of the API (404, and recorded as a departure)', async () => {
    const res = await call('GET', recordingPath(sid('RE'), 'mp3'));
    expect(res.status).toBe(404);
    expect(res.json).toEqual(errorBody(404, 20404));
    expect(fake.contractViolations).toEqual([]);
    const malformed = await call('GET', recordingPath('RE123', 'mp3'));
    expect(malformed.status).toBe(404);
    expect(fake.contractViolations).toEqual([expect.stringMatching(/no path template of Twilio's API/)]);
  });

  test('another account’s recording → 403, code 20003; other methods on the media → 405, code 20004 (recorded)', async () => {
    const recordingSid = fake.seedRecording();
    const other = await call('GET', recordingPath(recordingSid, 'mp3', sid('AC')));
    expect(other.status).toBe(403);
    expect(other.json).toEqual(errorBody(403, 20003));
    const post = await call('POST', recordingPath(recordingSid, 'mp3'));
    expect(post.status).toBe(405);
    expect(post.json).toEqual(errorBody(405, 20004));
    expect(fake.contractViolations).toEqual([expect.stringMatching(/fetched with GET only/)]);
    expect(fake.recordings.has(recordingSid)).toBe(true);
  });

  test('.wav is Twilio’s but not the fake’s: it says so (404) rather than pretend', async () => {
    const res = await call('GET', recordingPath(fake.seedRecording(), 'wav'));
    expect(res.status).toBe(404);
    expect(String(res.json?.message)).toMatch(/not implemented by the test fake/);
  });

  test('fail() answers chosen media requests with an error in Twilio’s shape, then serves again', async () => {
    const recordingSid = fake.seedRecording();
    fake.fail('GET', /\.mp3$/, 500, 1);
    const failed = await call('GET', recordingPath(recordingSid, 'mp3'));
    expect(failed.status).toBe(500);
    expect(failed.json).toEqual(errorBody(500, 20500));
    expect((await call('GET', recordingPath(recordingSid, 'mp3'))).status).toBe(200);
    expect(fake.contractViolations).toEqual([]);
  });
});

describe('…/Recordings/{Sid}.json', () => {
  test('GET answers the Recording resource, valid against the spec’s schema', async () => {
    const callSid = sid('CA');
    const recordingSid = fake.seedRecording({ callSid, durationSeconds: 12 });
    const res = await call('GET', recordingPath(recordingSid, 'json'));
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({
      sid: recordingSid,
      account_sid: fake.accountSid,
      call_sid: callSid,
      duration: '12',
      status: 'completed',
      source: 'RecordVerb',
      uri: recordingPath(recordingSid, 'json'),
      media_url: `${fake.url}/2010-04-01/Accounts/${fake.accountSid}/Recordings/${recordingSid}`,
    });
    expect(fake.contractViolations).toEqual([]);
  });

  test('DELETE → 204 with no body; then the media and the resource are gone (404), and a second DELETE is 404', async () => {
    const recordingSid = fake.seedRecording();
    const deleted = await call('DELETE', recordingPath(recordingSid, 'json'));
    expect(deleted.status).toBe(204);
    expect(deleted.bytes.length).toBe(0);
    expect(fake.recordings.has(recordingSid)).toBe(false);
    expect((await call('GET', recordingPath(recordingSid, 'mp3'))).status).toBe(404);
    expect((await call('GET', recordingPath(recordingSid, 'json'))).status).toBe(404);
    const again = await call('DELETE', recordingPath(recordingSid, 'json'));
    expect(again.status).toBe(404);
    expect(again.json).toEqual(errorBody(404, 20404));
    expect(fake.contractViolations).toEqual([]);
  });

  test('DELETE with a wrong key → 401 and nothing deleted', async () => {
    const recordingSid = fake.seedRecording();
    expect((await call('DELETE', recordingPath(recordingSid, 'json'), basic(keySid, 'nope'))).status).toBe(401);
    expect(fake.recordings.has(recordingSid)).toBe(true);
  });
});

describe('the app’s adapter (HttpTwilioRecordings) against it', () => {
  const adapter = (secret = KEY_SECRET, baseUrl = fake.url) =>
    new HttpTwilioRecordings(
      staticCredentials({
        accountSid: fake.accountSid,
        apiKeySid: keySid,
        apiKeySecret: secret,
        authToken: fake.authToken,
        twimlAppSid: `AP${'0'.repeat(32)}`,
      }),
      {
        baseUrl,
      },
    );

  test('download: the bytes and their type, with the API key; delete: 204, and a recording already gone counts as deleted', async () => {
    const recordingSid = fake.seedRecording();
    const { audio, contentType } = await adapter().download(fake.accountSid, recordingSid);
    expect(Buffer.from(audio)).toEqual(fake.recordings.get(recordingSid)!.audio);
    expect(contentType).toBe('audio/mpeg');
    await adapter().delete(fake.accountSid, recordingSid);
    await expect(adapter().delete(fake.accountSid, recordingSid)).resolves.toBeUndefined();
    expect(fake.requests.map((r) => [r.method, r.status, r.user])).toEqual([
      ['GET', 200, keySid],
      ['DELETE', 204, keySid],
      ['DELETE', 404, keySid],
    ]);
    expect(fake.contractViolations).toEqual([]);
  });

  test('Twilio’s errors become TwilioApiError with status and code; an unreachable API is status 0', async () => {
    const unknown = await adapter()
      .download(fake.accountSid, sid('RE'))
      .catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(TwilioApiError);
    expect(unknown).toMatchObject({ status: 404, code: 20404 });
    const refused = await adapter('wrong-secret')
      .download(fake.accountSid, fake.seedRecording())
      .catch((e: unknown) => e);
    expect(refused).toMatchObject({ status: 401, code: 20003 });
    fake.fail('DELETE', /Recordings/, 500, 1);
    await expect(adapter().delete(fake.accountSid, fake.seedRecording())).rejects.toMatchObject({ status: 500, code: 20500 });
    await fake.stop();
    await expect(adapter().download(fake.accountSid, sid('RE'))).rejects.toMatchObject({ name: 'TwilioApiError', status: 0 });
    fake = await new FakeTwilio().start();
  });
});
