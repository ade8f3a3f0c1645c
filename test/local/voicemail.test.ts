/**
 * Voicemail end to end through the real local app over HTTP (issue 14), with Twilio's REST API played by the
 * contract-checked fake (test/support/fake-twilio.ts, reached through TWILIO_API_BASE_URL): a caller nobody
 * answers leaves a message; Twilio's signed recording status callback makes the app fetch the recording with the
 * API key, keep it under the registry directory, record the voicemail and only then delete Twilio's copy. The
 * page lists, plays (a signed, expiring URL the app serves), marks heard and deletes it; another line's device
 * can do none of that. When the recording cannot be fetched, the callback fails (500) and Twilio's copy stays.
 */
import { readFile, stat } from 'node:fs/promises';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { callView } from '../../lambda/core/call-log';
import { recordingKey } from '../../lambda/handlers/recording-status';
import type { TwilioCredentials } from '../../lambda/ports';
import { TWIML_INTERNAL_ERROR_BODY } from '../../lib/api/templates';
import { type LocalApp, startLocalApp } from '../../lib/local/app';
import { LocalRecordingStore } from '../../lib/local/recordings';
import { FakeTwilio, sid } from '../support/fake-twilio';
import { childElement, memberRecord, postWebhook, TwilioCall, textOf, verbs, writeMinimalSite } from '../support/lines';

const LINE_A = '+815031234567';
const LINE_B = '+815031234568';
const CALLER = '+819059876543';
const KEY_SECRET = 'voicemail-api-key-secret-not-real';

let dir: string;
let registryPath: string;
let fake: FakeTwilio;
let keySid: string;
let creds: TwilioCredentials;
let app: LocalApp;
const logged: string[] = [];

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'softphone-voicemail-'));
  registryPath = path.join(dir, 'registry');
  fake = await new FakeTwilio().start();
  keySid = fake.seedKey('softphone', { secret: KEY_SECRET });
  creds = { accountSid: fake.accountSid, apiKeySid: keySid, apiKeySecret: KEY_SECRET, authToken: fake.authToken, twimlAppSid: `AP${'1'.repeat(32)}` };
  app = await startLocalApp({
    port: 0,
    registryPath,
    credentials: creds,
    clientDir: await writeMinimalSite(path.join(dir, 'site')),
    env: { TWILIO_API_BASE_URL: fake.url },
    log: (line) => logged.push(line),
  });
  await app.lines.put(await memberRecord(LINE_A, 'alice', { createdAt: '2024-01-01T00:00:00.000Z' }));
  await app.lines.put(await memberRecord(LINE_A, 'bob', { createdAt: '2024-01-02T00:00:00.000Z' }));
  await app.lines.put(await memberRecord(LINE_B, 'carol', { createdAt: '2024-01-03T00:00:00.000Z' }));
}, 60_000);
afterAll(async () => {
  await app?.close();
  await fake?.stop();
  await rm(dir, { recursive: true, force: true });
});
afterEach(() => {
  fake.clearFailures();
});

async function tokenOf(number: string, clientName: string): Promise<string> {
  const res = await fetch(app.routeUrls.token, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ twilioPhoneNumber: number, deviceSecret: `secret-of-${clientName}`, clientName }),
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { capabilityToken: string }).capabilityToken;
}

async function voicemailApi(token: string, body: Record<string, unknown>): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(app.routeUrls.voicemails, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function listedIds(token: string): Promise<string[]> {
  const { body } = await voicemailApi(token, { action: 'list' });
  return (body.voicemails as { id: string }[]).map((v) => v.id);
}

const fileOf = (line: string, recordingSid: string) => path.join(registryPath, 'recordings', ...recordingKey(line, recordingSid).split('/'));
const exists = (file: string) =>
  stat(file).then(
    () => true,
    () => false,
  );
const mediaRequests = (recordingSid: string) => fake.requests.filter((r) => r.path.endsWith(`/Recordings/${recordingSid}.mp3`));
const deleteRequests = (recordingSid: string) =>
  fake.requests.filter((r) => r.method === 'DELETE' && r.path.endsWith(`/Recordings/${recordingSid}.json`));

/** A call to the line nobody answers, up to the `<Record>`: returns the call and the voicemail TwiML. */
async function callToVoicemail(line = LINE_A) {
  const call = new TwilioCall(creds.authToken, creds.accountSid, CALLER, line);
  const ring = await call.incoming(app.routeUrls.callIncoming);
  expect(verbs(ring.twiml!)).toEqual(['Dial']);
  const voicemail = await call.dialEnded(ring.twiml!, { DialCallStatus: 'no-answer', DialBridged: 'false' });
  expect(verbs(voicemail.twiml!)).toEqual(['Say', 'Record']);
  return { call, twiml: voicemail.twiml! };
}

describe('a voicemail from the call to the page', () => {
  test('kept, listed, played, marked heard, deleted; Twilio’s copy deleted once kept; other lines see nothing', async () => {
    const { call, twiml } = await callToVoicemail();
    const recordingSid = fake.seedRecording({ callSid: call.callSid, durationSeconds: 7 });
    const audio = fake.recordings.get(recordingSid)!.audio;

    // the caller finishes: the Record action says goodbye
    const goodbye = await call.recorded(twiml, recordingSid, 7);
    expect(verbs(goodbye.twiml!)).toEqual(['Say', 'Hangup']);

    // the recording is ready: Twilio's status callback
    const callback = await call.recordingStatus(twiml, recordingSid, 7);
    expect(callback.status).toBe(200);
    expect(callback.body).toBe('<?xml version="1.0" encoding="UTF-8"?><Response/>');

    // fetched with the API key (Basic auth as the key SID), kept under the registry, owner-only
    expect(mediaRequests(recordingSid)).toEqual([expect.objectContaining({ method: 'GET', user: keySid, status: 200 })]);
    const file = fileOf(LINE_A, recordingSid);
    expect(await readFile(file)).toEqual(audio);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    // then Twilio's copy deleted
    expect(deleteRequests(recordingSid)).toEqual([expect.objectContaining({ user: keySid, status: 204 })]);
    expect(fake.recordings.has(recordingSid)).toBe(false);
    expect(logged.some((l) => l.startsWith(`New voicemail on ${LINE_A} from ${CALLER} (7 s)`))).toBe(true);
    // the call log shows the call as a voicemail
    expect(callView((await app.calls.get(call.callSid))!)).toMatchObject({
      line: LINE_A,
      remote: CALLER,
      direction: 'incoming',
      outcome: 'voicemail',
    });

    // the page of a member of the line lists it
    const alice = await tokenOf(LINE_A, 'alice');
    const listed = await voicemailApi(alice, { action: 'list' });
    expect(listed).toEqual({
      status: 200,
      body: {
        success: true,
        line: LINE_A,
        voicemails: [{ id: recordingSid, from: CALLER, receivedAt: expect.any(String), durationSeconds: 7, heard: false }],
        unheard: 1,
      },
    });
    expect(JSON.stringify(listed.body)).not.toContain('voicemail/');

    // a repeated callback (Twilio may send one again) keeps one voicemail and fetches nothing again
    const again = await call.recordingStatus(twiml, recordingSid, 7);
    expect(again.status).toBe(200);
    expect((await voicemailApi(alice, { action: 'list' })).body.voicemails).toHaveLength(1);
    expect(mediaRequests(recordingSid)).toHaveLength(1);
    expect(logged.filter((l) => l.includes(`New voicemail on ${LINE_A}`) && l.includes('(7 s)'))).toHaveLength(1);

    // play: a short-lived signed URL served by the app itself
    const played = await voicemailApi(alice, { action: 'play', id: recordingSid });
    expect(played.status).toBe(200);
    const url = new URL(played.body.url as string);
    expect(url.origin).toBe(app.url);
    expect(Date.parse(played.body.expiresAt as string) - Date.now()).toBeLessThanOrEqual(300_000);
    const got = await fetch(url);
    expect(got.status).toBe(200);
    expect(got.headers.get('content-type')).toBe('audio/mpeg');
    expect(got.headers.get('cache-control')).toBe('private, no-store');
    expect(Buffer.from(await got.arrayBuffer())).toEqual(audio);

    // a tampered URL is refused as S3 refuses one: 403
    const tampered = (change: (u: URL) => void) => {
      const copy = new URL(url);
      change(copy);
      return fetch(copy).then((r) => r.status);
    };
    expect(await tampered((u) => u.searchParams.set('signature', `${u.searchParams.get('signature')!.slice(0, -2)}AA`))).toBe(403);
    expect(await tampered((u) => u.searchParams.set('expires', String(Number(u.searchParams.get('expires')) + 3600)))).toBe(403);
    expect(await tampered((u) => u.searchParams.delete('signature'))).toBe(403);
    expect(await tampered((u) => u.searchParams.delete('expires'))).toBe(403);
    expect(await tampered((u) => (u.pathname = u.pathname.replace(LINE_A.slice(1), LINE_B.slice(1))))).toBe(403);
    expect(await tampered((u) => (u.pathname = u.pathname.replace('/recordings/voicemail/', '/recordings/voicemail%2F')))).toBe(403);

    // another line's device: sees nothing, can neither play, mark nor delete it
    const carol = await tokenOf(LINE_B, 'carol');
    expect((await voicemailApi(carol, { action: 'list' })).body).toEqual({ success: true, line: LINE_B, voicemails: [], unheard: 0 });
    for (const action of ['play', 'markHeard', 'delete']) {
      expect(await voicemailApi(carol, { action, id: recordingSid })).toEqual({ status: 404, body: { success: false, error: 'No such voicemail.' } });
    }
    expect(await exists(file)).toBe(true);

    // mark heard: the badge count drops, for every member of the line
    expect(await voicemailApi(alice, { action: 'markHeard', id: recordingSid })).toEqual({ status: 200, body: { success: true } });
    const bob = await tokenOf(LINE_A, 'bob');
    expect((await voicemailApi(bob, { action: 'list' })).body).toMatchObject({
      unheard: 0,
      voicemails: [expect.objectContaining({ id: recordingSid, heard: true })],
    });

    // delete: the voicemail and its file go; the URL handed out before no longer plays
    expect(await voicemailApi(bob, { action: 'delete', id: recordingSid })).toEqual({ status: 200, body: { success: true } });
    expect(await exists(file)).toBe(false);
    expect((await voicemailApi(alice, { action: 'list' })).body).toMatchObject({ voicemails: [], unheard: 0 });
    expect((await voicemailApi(alice, { action: 'play', id: recordingSid })).status).toBe(404);
    expect((await fetch(url)).status).toBe(404);
    expect(await voicemailApi(bob, { action: 'delete', id: recordingSid })).toEqual({
      status: 404,
      body: { success: false, error: 'No such voicemail.' },
    });
    expect(fake.contractViolations).toEqual([]);
  });

  test('the same callback twice at once (a retry racing the first): one voicemail, one notification, Twilio’s copy deleted', async () => {
    const { call, twiml } = await callToVoicemail();
    const recordingSid = fake.seedRecording({ callSid: call.callSid, durationSeconds: 11 });
    const audio = fake.recordings.get(recordingSid)!.audio;
    const answers = await Promise.all([call.recordingStatus(twiml, recordingSid, 11), call.recordingStatus(twiml, recordingSid, 11)]);
    expect(answers.map((a) => a.status)).toEqual([200, 200]);
    const alice = await tokenOf(LINE_A, 'alice');
    expect((await listedIds(alice)).filter((id) => id === recordingSid)).toHaveLength(1);
    expect(logged.filter((l) => l.includes(`New voicemail on ${LINE_A}`) && l.includes('(11 s)'))).toHaveLength(1);
    expect(fake.recordings.has(recordingSid)).toBe(false);
    expect(await readFile(fileOf(LINE_A, recordingSid))).toEqual(audio);
    expect(await voicemailApi(alice, { action: 'delete', id: recordingSid })).toEqual({ status: 200, body: { success: true } });
  });

  test('several messages are listed newest first with the unheard count', async () => {
    const sids: string[] = [];
    for (const seconds of [3, 4, 5]) {
      const { call, twiml } = await callToVoicemail(LINE_B);
      const recordingSid = fake.seedRecording({ callSid: call.callSid, durationSeconds: seconds });
      expect((await call.recordingStatus(twiml, recordingSid, seconds)).status).toBe(200);
      sids.push(recordingSid);
    }
    const carol = await tokenOf(LINE_B, 'carol');
    const list = (await voicemailApi(carol, { action: 'list' })).body;
    expect(list.unheard).toBe(3);
    expect((list.voicemails as { id: string; durationSeconds: number }[]).map((v) => v.durationSeconds)).toEqual([5, 4, 3]);
    for (const id of sids) expect(await voicemailApi(carol, { action: 'delete', id })).toEqual({ status: 200, body: { success: true } });
  });
});

describe('when the recording cannot be kept, nothing is lost', () => {
  test.each([
    [500, 'Twilio answers 500'],
    [404, 'Twilio answers 404'],
  ])('download fails (%s: %s) → the callback answers 500 (valid TwiML), Twilio’s copy is NOT deleted, no voicemail', async (status) => {
    const { call, twiml } = await callToVoicemail();
    const recordingSid = fake.seedRecording({ callSid: call.callSid });
    fake.fail('GET', new RegExp(`/Recordings/${recordingSid}\\.mp3$`), status, 1);
    const failed = await call.recordingStatus(twiml, recordingSid, 7);
    expect(failed.status).toBe(500);
    expect(failed.body).toBe(TWIML_INTERNAL_ERROR_BODY);
    expect(verbs(failed.twiml!)).toEqual(['Say', 'Hangup']);
    expect(deleteRequests(recordingSid)).toEqual([]);
    expect(fake.recordings.has(recordingSid)).toBe(true);
    expect(await exists(fileOf(LINE_A, recordingSid))).toBe(false);
    const alice = await tokenOf(LINE_A, 'alice');
    expect(await listedIds(alice)).not.toContain(recordingSid);

    // Twilio's copy is still there: the same callback again keeps it (and only then deletes it)
    const retried = await call.recordingStatus(twiml, recordingSid, 7);
    expect(retried.status).toBe(200);
    expect(await listedIds(alice)).toContain(recordingSid);
    expect(fake.recordings.has(recordingSid)).toBe(false);
    expect(await voicemailApi(alice, { action: 'delete', id: recordingSid })).toEqual({ status: 200, body: { success: true } });
  });

  test('a recording Twilio does not have (404 / 20404) → 500, nothing deleted, nothing kept', async () => {
    const { call, twiml } = await callToVoicemail();
    const unknown = sid('RE');
    const failed = await call.recordingStatus(twiml, unknown, 7);
    expect(failed.status).toBe(500);
    expect(mediaRequests(unknown)).toEqual([expect.objectContaining({ status: 404 })]);
    expect(deleteRequests(unknown)).toEqual([]);
    expect(await exists(fileOf(LINE_A, unknown))).toBe(false);
  });

  test('the API key refused (401 / 20003, e.g. revoked) → 500, Twilio’s copy stays', async () => {
    const { call, twiml } = await callToVoicemail();
    const recordingSid = fake.seedRecording({ callSid: call.callSid });
    const key = fake.keys.get(keySid)!;
    key.secret = 'rotated-elsewhere';
    try {
      const failed = await call.recordingStatus(twiml, recordingSid, 7);
      expect(failed.status).toBe(500);
      expect(mediaRequests(recordingSid)).toEqual([expect.objectContaining({ status: 401, user: '' })]);
      expect(fake.recordings.has(recordingSid)).toBe(true);
    } finally {
      key.secret = KEY_SECRET;
    }
  });

  test('deleting Twilio’s copy fails after the message is kept → still 200 and kept (the copy is left at Twilio, a warning logged)', async () => {
    const { call, twiml } = await callToVoicemail();
    const recordingSid = fake.seedRecording({ callSid: call.callSid });
    fake.fail('DELETE', new RegExp(`/Recordings/${recordingSid}\\.json$`), 500, 1);
    const res = await call.recordingStatus(twiml, recordingSid, 7);
    expect(res.status).toBe(200);
    expect(await exists(fileOf(LINE_A, recordingSid))).toBe(true);
    expect(fake.recordings.has(recordingSid)).toBe(true);
    const alice = await tokenOf(LINE_A, 'alice');
    expect(await listedIds(alice)).toContain(recordingSid);
    expect(logged.some((l) => l.includes('not deleted') && l.includes(recordingSid))).toBe(true);
    expect(await voicemailApi(alice, { action: 'delete', id: recordingSid })).toEqual({ status: 200, body: { success: true } });
  });
});

describe('callbacks that are not a completed recording of ours fetch nothing', () => {
  test('an unsigned or wrongly signed callback → 403, nothing fetched', async () => {
    const { call, twiml } = await callToVoicemail();
    const recordingSid = fake.seedRecording({ callSid: call.callSid });
    const url = childElement(twiml, 'Record').attrs.recordingStatusCallback;
    const res = await postWebhook(url, call.recordingStatusParams(recordingSid, 7), creds.authToken, { signature: 'AAAAAAAAAAAAAAAAAAAAAAAAAAA=' });
    expect(res.status).toBe(403);
    expect(res.body).toBe('');
    expect(mediaRequests(recordingSid)).toEqual([]);
  });

  test.each(['absent', 'failed', 'in-progress'])('RecordingStatus=%s → an empty answer, nothing fetched', async (status) => {
    const { call, twiml } = await callToVoicemail();
    const recordingSid = fake.seedRecording({ callSid: call.callSid });
    const res = await call.recordingStatus(twiml, recordingSid, 0, status);
    expect(res.status).toBe(200);
    expect(verbs(res.twiml!)).toEqual([]);
    expect(mediaRequests(recordingSid)).toEqual([]);
  });

  test('another account’s recording, or a number without a line (the URL signed by Twilio all the same) → nothing fetched', async () => {
    const { call, twiml } = await callToVoicemail();
    const recordingSid = fake.seedRecording({ callSid: call.callSid });
    const url = childElement(twiml, 'Record').attrs.recordingStatusCallback;
    const otherAccount = await postWebhook(url, { ...call.recordingStatusParams(recordingSid, 7), AccountSid: sid('AC') }, creds.authToken);
    expect(otherAccount.status).toBe(200);
    const noLine = new URL(url);
    noLine.searchParams.set('line', '+815039999999');
    const unknownLine = await postWebhook(noLine.toString(), call.recordingStatusParams(recordingSid, 7), creds.authToken);
    expect(unknownLine.status).toBe(200);
    expect(mediaRequests(recordingSid)).toEqual([]);
    expect(fake.recordings.has(recordingSid)).toBe(true);
  });
});

describe('the voicemail TwiML', () => {
  test('the greeting in the line’s language (or the line’s own words), then a bounded <Record> calling back the app', async () => {
    const { twiml } = await callToVoicemail();
    const say = childElement(twiml, 'Say');
    expect(say.attrs.language).toBe('en-US');
    expect(textOf(say)).toMatch(/leave a message after the tone/);
    const record = childElement(twiml, 'Record');
    expect(record.attrs).toMatchObject({
      maxLength: '120',
      playBeep: 'true',
      method: 'POST',
      recordingStatusCallbackMethod: 'POST',
      recordingStatusCallbackEvent: 'completed',
    });
    const callback = new URL(record.attrs.recordingStatusCallback);
    expect(`${callback.origin}${callback.pathname}`).toBe(app.routeUrls.recordingStatus);
    expect(Object.fromEntries(callback.searchParams)).toEqual({ line: LINE_A, caller: CALLER });
  });
});

// ---------------------------------------------------------------------------------------------------------
// The local recordings store's URLs expire (the app's clock cannot be moved; its store can)

describe('LocalRecordingStore playback URLs', () => {
  let server: Server;
  let base = '';
  let nowMs = Date.parse('2024-06-01T00:00:00Z');
  let store: LocalRecordingStore;

  beforeAll(async () => {
    store = new LocalRecordingStore(
      path.join(dir, 'store-only'),
      () => base,
      () => nowMs,
    );
    server = createServer((req, res) => {
      const u = new URL(req.url ?? '/', 'http://x');
      void store.serve(res, u.pathname, u.searchParams, { 'X-Content-Type-Options': 'nosniff' });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  test('a URL plays until it expires, then 403 "Request has expired"; a URL signed by another store never plays', async () => {
    const key = recordingKey(LINE_A, sid('RE'));
    await store.put(key, Buffer.from('mp3 bytes'));
    const url = await store.playbackUrl(key, 300);
    expect((await fetch(url)).status).toBe(200);
    nowMs += 300_000;
    expect((await fetch(url)).status).toBe(200);
    nowMs += 1000;
    const expired = await fetch(url);
    expect(expired.status).toBe(403);
    expect(await expired.text()).toBe('Request has expired\n');
    nowMs -= 301_000;
    // each store signs with its own key, made at start
    const other = new LocalRecordingStore(
      path.join(dir, 'store-only'),
      () => base,
      () => nowMs,
    );
    expect((await fetch(await other.playbackUrl(key, 300))).status).toBe(403);
  });

  test('only keys of the recording shape are stored or served', async () => {
    await expect(store.put('../../etc/passwd', Buffer.from('x'))).rejects.toThrow(/not a recording key/);
    await expect(store.playbackUrl('voicemail/815031234567/notasid.mp3', 300)).rejects.toThrow(/not a recording key/);
  });
});
