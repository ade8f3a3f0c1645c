/**
 * The test fake of Twilio's REST API answers as Twilio does: Standard API keys are refused the Account and
 * Keys resources, requests outside Twilio's published contract (its OpenAPI description) are refused and
 * recorded, and what it answers the real helper library conforms to that contract.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { twilioClientFactory } from '../../lib/ops/twilio-client';
import { FakeTwilio } from './fake-twilio';
import { checkRequest, checkResponse, SPEC_FILE, twilioSpec } from './twilio-openapi';

const AUTHENTICATE = { code: 20003, message: 'Authenticate', more_info: 'https://www.twilio.com/docs/errors/20003', status: 401 };

let fake: FakeTwilio;

beforeEach(async () => {
  fake = await new FakeTwilio().start();
});
afterEach(async () => {
  await fake.stop();
});

interface Answer {
  status: number;
  body: Record<string, unknown> | undefined;
}

type Credentials = [user: string, password: string];

async function call(method: string, urlPath: string, auth: Credentials, form?: Record<string, string>): Promise<Answer> {
  const res = await fetch(fake.url + urlPath, {
    method,
    headers: {
      Authorization: `Basic ${Buffer.from(auth.join(':')).toString('base64')}`,
      ...(form ? { 'Content-Type': 'application/x-www-form-urlencoded' } : {}),
    },
    body: form ? new URLSearchParams(form).toString() : undefined,
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : undefined };
}

const base = () => `/2010-04-01/Accounts/${fake.accountSid}`;
const authToken = (): Credentials => [fake.accountSid, fake.authToken];

/** A Standard API key created the way setup creates one: POST Keys.json with the Auth Token. */
async function standardKey(): Promise<Credentials> {
  const { status, body } = await call('POST', `${base()}/Keys.json`, authToken(), { FriendlyName: 'standard' });
  expect(status).toBe(201);
  return [body!.sid as string, body!.secret as string];
}

describe('authentication and Standard API keys', () => {
  test('the Auth Token creates a key (201) and its secret is shown then, never again', async () => {
    const { status, body } = await call('POST', `${base()}/Keys.json`, authToken(), { FriendlyName: 'deploy' });
    expect(status).toBe(201);
    expect(body).toEqual({
      sid: expect.stringMatching(/^SK[0-9a-f]{32}$/),
      friendly_name: 'deploy',
      date_created: expect.any(String),
      date_updated: expect.any(String),
      secret: expect.stringMatching(/^\S{16,}$/),
    });
    const fetched = await call('GET', `${base()}/Keys/${String(body!.sid)}.json`, authToken());
    expect(fetched.status).toBe(200);
    expect(fetched.body).not.toHaveProperty('secret');
    const listed = await call('GET', `${base()}/Keys.json`, authToken());
    expect(listed.body!.keys).toEqual([expect.not.objectContaining({ secret: expect.anything() })]);
    expect(fake.contractViolations).toEqual([]);
  });

  test('a Standard key is refused the Account resource and every Keys resource: 401, code 20003', async () => {
    const key = await standardKey();
    const other = fake.seedKey('someone else');
    const answers = {
      fetchAccount: await call('GET', `${base()}.json`, key),
      listKeys: await call('GET', `${base()}/Keys.json`, key),
      fetchKey: await call('GET', `${base()}/Keys/${key[0]}.json`, key),
      createKey: await call('POST', `${base()}/Keys.json`, key, { FriendlyName: 'by a key' }),
      deleteKey: await call('DELETE', `${base()}/Keys/${other}.json`, key),
    };
    for (const answer of Object.values(answers)) expect(answer).toEqual({ status: 401, body: AUTHENTICATE });
    expect([...fake.keys.keys()].sort()).toEqual([key[0], other].sort()); // nothing created, nothing deleted
    expect(fake.contractViolations).toEqual([]); // the requests themselves were well-formed
  });

  test('a Standard key may use Applications and IncomingPhoneNumbers', async () => {
    const key = await standardKey();
    const appSid = fake.seedApplication('softphone', 'https://example.com/voice');
    fake.seedNumber('+815031234567');
    const app = await call('GET', `${base()}/Applications/${appSid}.json`, key);
    expect(app.status).toBe(200);
    expect(app.body).toMatchObject({ sid: appSid, voice_url: 'https://example.com/voice' });
    const apps = await call('GET', `${base()}/Applications.json?FriendlyName=softphone`, key);
    expect(apps.status).toBe(200);
    expect(apps.body!.applications).toEqual([expect.objectContaining({ sid: appSid })]);
    const numbers = await call('GET', `${base()}/IncomingPhoneNumbers.json?PhoneNumber=%2B815031234567&PageSize=20`, key);
    expect(numbers.status).toBe(200);
    expect(numbers.body!.incoming_phone_numbers).toHaveLength(1);
    expect(fake.contractViolations).toEqual([]);
  });

  test('the Auth Token may fetch the Account; wrong credentials get 401 / 20003 everywhere', async () => {
    expect((await call('GET', `${base()}.json`, authToken())).status).toBe(200);
    const wrong = await call('GET', `${base()}/Applications.json`, [fake.accountSid, 'not-the-token']);
    expect(wrong).toEqual({ status: 401, body: expect.objectContaining(AUTHENTICATE) });
    const forgottenSecret = fake.seedKey('old key');
    expect((await call('GET', `${base()}/Applications.json`, [forgottenSecret, 'guess'])).status).toBe(401);
    expect(fake.requests.at(-1)!.user).toBe('');
    expect(fake.contractViolations).toEqual([]);
  });

  test('a seeded key with a known secret authenticates, as a Standard key', async () => {
    const keySid = fake.seedKey('stored', { secret: 's3cret' });
    expect((await call('GET', `${base()}/Applications.json`, [keySid, 's3cret'])).status).toBe(200);
    expect((await call('GET', `${base()}.json`, [keySid, 's3cret'])).status).toBe(401);
  });
});

describe('requests outside the published contract are refused and recorded', () => {
  test('a path Twilio does not have: 404, code 20404', async () => {
    const unknown = await call('GET', `${base()}/Widgets.json`, authToken());
    expect(unknown).toEqual({ status: 404, body: expect.objectContaining({ code: 20404, status: 404 }) });
    // a malformed SID does not match the path template's pattern either
    expect((await call('GET', `${base()}/Keys/SK-not-a-sid.json`, authToken())).status).toBe(404);
    expect(fake.contractViolations).toEqual([
      `GET ${base()}/Widgets.json: no path template of Twilio's API (2010-04-01) matches this path`,
      `GET ${base()}/Keys/SK-not-a-sid.json: no path template of Twilio's API (2010-04-01) matches this path`,
    ]);
  });

  test('a method the path does not have: 405, code 20004', async () => {
    const answer = await call('DELETE', `${base()}/IncomingPhoneNumbers.json`, authToken());
    expect(answer).toEqual({ status: 405, body: expect.objectContaining({ code: 20004, status: 405 }) });
    expect(fake.contractViolations).toEqual([expect.stringContaining('has no DELETE operation (declared: GET, POST)')]);
  });

  test('an undeclared form field: 400 in Twilio’s error shape, nothing created', async () => {
    const answer = await call('POST', `${base()}/Applications.json`, authToken(), { FriendlyName: 'x', VoiceURL: 'https://example.com' });
    expect(answer.status).toBe(400);
    expect(answer.body).toEqual({
      code: 400,
      message: expect.stringContaining('"VoiceURL"'),
      more_info: 'https://www.twilio.com/docs/errors/400',
      status: 400,
    });
    expect(fake.applications.size).toBe(0);
    expect(fake.contractViolations).toEqual([
      expect.stringMatching(
        new RegExp(`^POST ${base()}/Applications\\.json: CreateApplication: form field "VoiceURL" is not declared \\(declared: .*VoiceUrl`),
      ),
    ]);
  });

  test('an undeclared query parameter: 400 (ListKey has no FriendlyName filter)', async () => {
    const answer = await call('GET', `${base()}/Keys.json?FriendlyName=twilio-softphone-aws`, authToken());
    expect(answer.status).toBe(400);
    expect(fake.contractViolations).toEqual([
      `GET ${base()}/Keys.json: ListKey: query parameter "FriendlyName" is not declared (declared: PageSize, Page, PageToken)`,
    ]);
  });

  test('a missing required field: 400 (IncomingPhoneNumbers/Local.json requires PhoneNumber)', async () => {
    const answer = await call('POST', `${base()}/IncomingPhoneNumbers/Local.json`, authToken(), { FriendlyName: 'new line' });
    expect(answer.status).toBe(400);
    expect(answer.body!.message).toContain('required form field "PhoneNumber" is missing');
    expect(fake.contractViolations).toEqual([
      `POST ${base()}/IncomingPhoneNumbers/Local.json: CreateIncomingPhoneNumberLocal: required form field "PhoneNumber" is missing`,
    ]);
  });

  test('a value its schema does not allow: 400', async () => {
    const appSid = fake.seedApplication('softphone');
    const answer = await call('POST', `${base()}/Applications/${appSid}.json`, authToken(), { VoiceMethod: 'PUT' });
    expect(answer.status).toBe(400);
    expect(fake.applications.get(appSid)!.voice_method).toBe('POST');
    expect(fake.contractViolations).toEqual([
      expect.stringContaining('UpdateApplication: form field VoiceMethod: must be one of ["GET","POST"] (got "PUT")'),
    ]);
  });

  test('fail() still answers chosen requests with an error, in Twilio’s error shape', async () => {
    fake.fail('POST', /\/Applications\.json$/, 500, 1);
    expect((await call('POST', `${base()}/Applications.json`, authToken(), { FriendlyName: 'a' })).status).toBe(500);
    expect((await call('POST', `${base()}/Applications.json`, authToken(), { FriendlyName: 'a' })).status).toBe(201);
    fake.fail('GET', /\/Applications\.json$/, 429);
    expect((await call('GET', `${base()}/Applications.json`, authToken())).body).toMatchObject({ code: 20429, status: 429 });
    fake.clearFailures();
    expect((await call('GET', `${base()}/Applications.json`, authToken())).status).toBe(200);
    expect(fake.contractViolations).toEqual([]);
  });
});

describe('status callbacks of numbers and applications (StatusCallback, StatusCallbackMethod)', () => {
  const CALLBACK = 'https://abc123.execute-api.us-east-1.amazonaws.com/prod/twilio/call_status';

  test('a number keeps them and answers them as status_callback / status_callback_method, in fetch and list, to a Standard key too', async () => {
    const pn = fake.seedNumber('+815031234567');
    expect(fake.numberBySid(pn)).toMatchObject({ status_callback: '', status_callback_method: 'POST' });
    const updated = await call('POST', `${base()}/IncomingPhoneNumbers/${pn}.json`, authToken(), {
      StatusCallback: CALLBACK,
      StatusCallbackMethod: 'GET',
    });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ sid: pn, status_callback: CALLBACK, status_callback_method: 'GET' });
    // a later update of one field leaves the other as it was
    await call('POST', `${base()}/IncomingPhoneNumbers/${pn}.json`, authToken(), { StatusCallbackMethod: 'POST' });
    const key = await standardKey();
    const fetched = await call('GET', `${base()}/IncomingPhoneNumbers/${pn}.json`, key);
    expect(fetched.body).toMatchObject({
      status_callback: CALLBACK,
      status_callback_method: 'POST',
      voice_url: 'https://demo.twilio.com/welcome/voice/',
    });
    const listed = await call('GET', `${base()}/IncomingPhoneNumbers.json?PhoneNumber=%2B815031234567`, key);
    expect(listed.body!.incoming_phone_numbers).toEqual([expect.objectContaining({ status_callback: CALLBACK, status_callback_method: 'POST' })]);
    // an empty StatusCallback clears it (Twilio answers "" for an unset URL)
    const cleared = await call('POST', `${base()}/IncomingPhoneNumbers/${pn}.json`, authToken(), { StatusCallback: '' });
    expect(cleared.body).toMatchObject({ status_callback: '' });
    expect(fake.contractViolations).toEqual([]);
  });

  test('an application is created and updated with them; unset, it answers status_callback null and the method POST', async () => {
    const plain = await call('POST', `${base()}/Applications.json`, authToken(), { FriendlyName: 'plain' });
    expect(plain).toEqual({ status: 201, body: expect.objectContaining({ status_callback: null, status_callback_method: 'POST' }) });
    const created = await call('POST', `${base()}/Applications.json`, authToken(), {
      FriendlyName: 'softphone',
      StatusCallback: CALLBACK,
      StatusCallbackMethod: 'POST',
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ friendly_name: 'softphone', status_callback: CALLBACK, status_callback_method: 'POST' });
    const appSid = created.body!.sid as string;
    const updated = await call('POST', `${base()}/Applications/${appSid}.json`, authToken(), {
      StatusCallback: 'https://example.com/status',
      StatusCallbackMethod: 'GET',
    });
    expect(updated.body).toMatchObject({ status_callback: 'https://example.com/status', status_callback_method: 'GET' });
    expect(fake.applications.get(appSid)).toMatchObject({ status_callback: 'https://example.com/status', status_callback_method: 'GET' });
    const seeded = fake.seedApplication('seeded', '', 'POST', { status_callback: CALLBACK, status_callback_method: 'GET' });
    expect((await call('GET', `${base()}/Applications/${seeded}.json`, authToken())).body).toMatchObject({
      status_callback: CALLBACK,
      status_callback_method: 'GET',
    });
    expect(fake.contractViolations).toEqual([]);
  });

  test('a StatusCallbackMethod other than GET or POST: 400 in Twilio’s error shape, nothing changed or created', async () => {
    const pn = fake.seedNumber('+815031234567', { status_callback: CALLBACK });
    const number = await call('POST', `${base()}/IncomingPhoneNumbers/${pn}.json`, authToken(), {
      StatusCallback: 'https://example.com/other',
      StatusCallbackMethod: 'PUT',
    });
    expect(number).toEqual({
      status: 400,
      body: {
        code: 400,
        message: expect.stringContaining('StatusCallbackMethod'),
        more_info: 'https://www.twilio.com/docs/errors/400',
        status: 400,
      },
    });
    expect(fake.numberBySid(pn)).toMatchObject({ status_callback: CALLBACK, status_callback_method: 'POST' });
    const app = await call('POST', `${base()}/Applications.json`, authToken(), {
      FriendlyName: 'x',
      StatusCallback: CALLBACK,
      StatusCallbackMethod: 'DELETE',
    });
    expect(app.status).toBe(400);
    expect(fake.applications.size).toBe(0);
    expect(fake.contractViolations).toEqual([
      expect.stringContaining('UpdateIncomingPhoneNumber: form field StatusCallbackMethod: must be one of ["GET","POST"] (got "PUT")'),
      expect.stringContaining('CreateApplication: form field StatusCallbackMethod: must be one of ["GET","POST"] (got "DELETE")'),
    ]);
  });

  test('a StatusCallback that is not a URL, an undeclared field (StatusCallbackEvent), an unknown number or wrong credentials: refused, nothing changed', async () => {
    const pn = fake.seedNumber('+815031234567');
    const appSid = fake.seedApplication('softphone');
    const notUrl = await call('POST', `${base()}/Applications/${appSid}.json`, authToken(), { StatusCallback: 'call status please' });
    expect(notUrl.status).toBe(400);
    expect(fake.applications.get(appSid)!.status_callback).toBeNull();
    // the number resource has no StatusCallbackEvent (that is a <Dial> noun's and a Call's attribute)
    const event = await call('POST', `${base()}/IncomingPhoneNumbers/${pn}.json`, authToken(), {
      StatusCallback: CALLBACK,
      StatusCallbackEvent: 'completed',
    });
    expect(event.status).toBe(400);
    expect(event.body!.message).toContain('"StatusCallbackEvent" is not declared');
    expect(fake.numberBySid(pn).status_callback).toBe('');
    const unknown = await call('POST', `${base()}/IncomingPhoneNumbers/PN${'0'.repeat(32)}.json`, authToken(), { StatusCallback: CALLBACK });
    expect(unknown).toEqual({ status: 404, body: expect.objectContaining({ code: 20404, status: 404 }) });
    const refused = await call('POST', `${base()}/IncomingPhoneNumbers/${pn}.json`, [fake.accountSid, 'not-the-token'], { StatusCallback: CALLBACK });
    expect(refused).toEqual({ status: 401, body: expect.objectContaining(AUTHENTICATE) });
    expect(fake.numberBySid(pn).status_callback).toBe('');
    expect(fake.contractViolations).toEqual([
      expect.stringMatching(/UpdateApplication: form field StatusCallback: .*"call status please"/),
      expect.stringContaining('UpdateIncomingPhoneNumber: form field "StatusCallbackEvent" is not declared'),
    ]);
  });
});

describe('the helper library against the fake', () => {
  test('every request the ops commands make, and every answer to it, conforms to the contract', async () => {
    const factory = twilioClientFactory({ apiBaseUrl: fake.url });
    const pn = fake.seedNumber('+815031234567', { voice_application_sid: fake.seedApplication('old app') });
    const client = factory({ username: fake.accountSid, password: fake.authToken, accountSid: fake.accountSid });

    await client.api.v2010.accounts(fake.accountSid).fetch();
    expect(await client.keys.list()).toEqual([]);
    const key = await client.newKeys.create({ friendlyName: 'twilio-softphone-aws' });
    expect(key.secret).toBeTruthy();
    expect((await client.keys(key.sid).fetch()).friendlyName).toBe('twilio-softphone-aws');
    const app = await client.applications.create({ friendlyName: 'twilio-softphone-aws', voiceUrl: 'https://example.com/out', voiceMethod: 'POST' });
    await client.applications(app.sid).update({
      voiceUrl: 'https://example.com/out2',
      voiceMethod: 'POST',
      voiceFallbackUrl: 'https://example.com/fallback',
      voiceFallbackMethod: 'GET',
      statusCallback: 'https://example.com/status',
      statusCallbackMethod: 'POST',
    });
    expect(await client.applications.list({ friendlyName: 'twilio-softphone-aws' })).toHaveLength(1);
    const [number] = await client.incomingPhoneNumbers.list({ phoneNumber: '+815031234567', limit: 20 });
    expect(number.sid).toBe(pn);
    await client.incomingPhoneNumbers(pn).update({
      voiceUrl: 'https://example.com/in',
      voiceMethod: 'POST',
      voiceApplicationSid: '',
      statusCallback: 'https://example.com/status',
      statusCallbackMethod: 'POST',
    });
    expect(fake.numberBySid(pn)).toMatchObject({
      voice_url: 'https://example.com/in',
      voice_application_sid: null,
      status_callback: 'https://example.com/status',
      status_callback_method: 'POST',
    });
    // the library answers the status callback fields camelCased, as setup and doctor read them
    expect(await client.incomingPhoneNumbers(pn).fetch()).toMatchObject({
      statusCallback: 'https://example.com/status',
      statusCallbackMethod: 'POST',
    });

    // the new key: a Standard key, as everything the REST API creates
    const asKey = factory({ username: key.sid, password: key.secret, accountSid: fake.accountSid });
    expect(await asKey.applications(app.sid).fetch()).toMatchObject({
      voiceUrl: 'https://example.com/out2',
      statusCallback: 'https://example.com/status',
      statusCallbackMethod: 'POST',
    });
    expect(await asKey.incomingPhoneNumbers.list({ phoneNumber: '+815031234567', limit: 20 })).toHaveLength(1);
    await expect(asKey.api.v2010.accounts(fake.accountSid).fetch()).rejects.toMatchObject({ status: 401, code: 20003 });
    await expect(asKey.keys.list()).rejects.toMatchObject({ status: 401, code: 20003 });

    expect(await client.keys(key.sid).remove()).toBe(true);
    expect(fake.keys.size).toBe(0);

    expect(fake.contractViolations).toEqual([]);
    const statuses = fake.requests.map((r) => `${r.method} ${r.status ?? '?'}`);
    expect(statuses.filter((s) => !/ 20[014]$/.test(s))).toEqual(['GET 401', 'GET 401']);
  });

  test('list paging: the fake’s next_page_uri is followed, within the contract', async () => {
    for (let i = 0; i < 5; i++) fake.seedApplication(`app ${i}`);
    const client = twilioClientFactory({ apiBaseUrl: fake.url })({
      username: fake.accountSid,
      password: fake.authToken,
      accountSid: fake.accountSid,
    });
    expect(await client.applications.list({ pageSize: 2 })).toHaveLength(5);
    expect(fake.requests.map((r) => r.query.Page ?? '-')).toEqual(['-', '1', '2']);
    expect(fake.contractViolations).toEqual([]);
  });
});

describe('the contract checks', () => {
  const AC = `AC${'a'.repeat(32)}`;

  test('the paging parameters the helper library sends are declared by the list operations', () => {
    const paths = twilioSpec().paths as Record<string, { get: { parameters: { name: string; in: string }[] } }>;
    for (const list of ['Keys', 'Applications', 'IncomingPhoneNumbers']) {
      const query = paths[`/2010-04-01/Accounts/{AccountSid}/${list}.json`].get.parameters.filter((p) => p.in === 'query').map((p) => p.name);
      expect(query).toEqual(expect.arrayContaining(['PageSize', 'Page', 'PageToken']));
      expect(
        checkRequest({ method: 'GET', path: `/2010-04-01/Accounts/${AC}/${list}.json`, query: { PageSize: '50', Page: '1', PageToken: 'PAxyz' } }),
      ).toEqual([]);
    }
    expect(checkRequest({ method: 'GET', path: `/2010-04-01/Accounts/${AC}/Keys.json`, query: { PageSize: '0' } })).toEqual([
      `GET /2010-04-01/Accounts/${AC}/Keys.json: ListKey: query parameter PageSize: must be >= 1 (got 0)`,
    ]);
  });

  test('answers: every declared property, the right types, the declared status; errors in Twilio’s shape', () => {
    const keysPath = `/2010-04-01/Accounts/${AC}/Keys.json`;
    const envelope = {
      keys: [],
      end: 0,
      first_page_uri: keysPath,
      next_page_uri: null,
      page: 0,
      page_size: 50,
      previous_page_uri: null,
      start: 0,
      uri: keysPath,
    };
    expect(checkResponse({ method: 'GET', path: keysPath, status: 200, body: envelope })).toEqual([]);
    const { next_page_uri: _dropped, ...incomplete } = envelope;
    expect(checkResponse({ method: 'GET', path: keysPath, status: 200, body: incomplete })).toEqual([
      `GET ${keysPath} → 200: ListKey answer: $: missing property "next_page_uri"`,
    ]);
    expect(checkResponse({ method: 'GET', path: keysPath, status: 200, body: { ...envelope, page: '0' } })).toEqual([
      `GET ${keysPath} → 200: ListKey answer: $.page: expected integer, got string (got "0")`,
    ]);
    const newKey = {
      sid: `SK${'b'.repeat(32)}`,
      friendly_name: null,
      date_created: 'Mon, 13 Jun 2016 22:50:08 +0000',
      date_updated: 'Mon, 13 Jun 2016 22:50:08 +0000',
      secret: 'x',
    };
    expect(checkResponse({ method: 'POST', path: keysPath, status: 201, body: newKey })).toEqual([]);
    expect(checkResponse({ method: 'POST', path: keysPath, status: 200, body: newKey })).toEqual([
      `POST ${keysPath} → 200: CreateNewKey declares no 200 answer (declared: 201)`,
    ]);
    expect(checkResponse({ method: 'POST', path: keysPath, status: 201, body: { ...newKey, date_created: '2016-06-13T22:50:08Z' } })).toEqual([
      `POST ${keysPath} → 201: CreateNewKey answer: $.date_created: must match format "date-time-rfc-2822" (got "2016-06-13T22:50:08Z")`,
    ]);
    expect(checkResponse({ method: 'GET', path: keysPath, status: 401, body: AUTHENTICATE })).toEqual([]);
    expect(checkResponse({ method: 'GET', path: keysPath, status: 401, body: { message: 'Authenticate', status: 401 } })).toHaveLength(2);
  });

  test('Twilio’s own examples for the operations the fake serves conform', () => {
    type Responses = Record<string, { content?: Record<string, { examples?: Record<string, { value: unknown }> }> }>;
    const paths = twilioSpec().paths as Record<string, Record<string, { responses?: Responses }>>;
    const served = Object.keys(paths).filter((t) =>
      /^\/2010-04-01\/Accounts(\/\{Sid\}|\/\{AccountSid\}\/(Keys|Applications|IncomingPhoneNumbers)(\/\{Sid\})?)\.json$/.test(t),
    );
    expect(served).toHaveLength(7);
    const prefix: Record<string, string> = { Keys: 'SK', Applications: 'AP', IncomingPhoneNumbers: 'PN' };
    let checked = 0;
    for (const template of served) {
      const resource = /\/(Keys|Applications|IncomingPhoneNumbers)\//.exec(template)?.[1];
      const urlPath = template.replace('{AccountSid}', AC).replace('{Sid}', resource ? `${prefix[resource]}${'a'.repeat(32)}` : AC);
      for (const [method, op] of Object.entries(paths[template]).filter(([m]) => ['get', 'post', 'delete'].includes(m))) {
        for (const [status, response] of Object.entries(op.responses ?? {})) {
          for (const example of Object.values(response.content?.['application/json']?.examples ?? {})) {
            expect(checkResponse({ method, path: urlPath, status: Number(status), body: example.value })).toEqual([]);
            checked++;
          }
        }
      }
    }
    expect(checked).toBeGreaterThanOrEqual(15);
  });

  test('the vendored spec is the file its README names (sha256)', () => {
    const readme = readFileSync(path.join(path.dirname(SPEC_FILE), 'README.md'), 'utf8');
    const named = /sha256: `([0-9a-f]{64})`/.exec(readme)?.[1];
    expect(named).toBeDefined();
    expect(createHash('sha256').update(readFileSync(SPEC_FILE)).digest('hex')).toBe(named);
  });
});
