/**
 * The call log (issue 15), path by path, through the real local app over HTTP: Twilio is played by following the
 * TwiML (test/support/lines.ts), and each dialled leg's status callbacks go to the `statusCallback` its
 * `<Client>`/`<Number>` names, signed for that URL; the parent call's callback goes to the call-status route the
 * numbers and the TwiML App are set to. Deliveries are shuffled and repeated as Twilio may; the record read back
 * through the page's API (an Access Token from the token route) must not depend on it.
 *
 * Also: callbacks for calls we never saw, for numbers that are not lines, for another account, with hostile
 * parameters (an empty `<Response/>`, never a 5xx), a bad signature (403), and the outgoing limits
 * (MAX_CALLS_PER_DEVICE, MAX_CALLS_PER_LINE) that free a place when the call ends.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { CallView } from '../../lambda/core/call-log';
import { DEFAULT_LINE_SETTINGS } from '../../lambda/core/line';
import { OUTGOING_MESSAGES } from '../../lambda/handlers/outgoing-call';
import { type LocalApp, startLocalApp } from '../../lib/local/app';
import { TEST_CREDENTIALS } from '../support/fixtures';
import {
  childElement,
  childElements,
  memberRecord,
  postWebhook,
  rfc2822,
  type StatusCallback,
  TwilioCall,
  textOf,
  twilioSid,
  verbs,
  type WebhookAnswer,
  writeMinimalSite,
  type XmlElement,
} from '../support/lines';

const CALLER = '+819059876543';
const DESTINATION = '+819012345678';
const AUTH = TEST_CREDENTIALS.authToken;
const ACCOUNT = TEST_CREDENTIALS.accountSid;
const EMPTY_RESPONSE = '<?xml version="1.0" encoding="UTF-8"?><Response/>';

let dir: string;
let app: LocalApp;
let lineCounter = 0;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'softphone-call-log-'));
  app = await startLocalApp({
    port: 0,
    registryPath: path.join(dir, 'registry'),
    credentials: TEST_CREDENTIALS,
    clientDir: await writeMinimalSite(path.join(dir, 'site')),
    // two calls per device (the default), three per line
    env: { MAX_CALLS_PER_LINE: '3' },
    log: () => undefined,
  });
}, 60_000);
afterAll(async () => {
  await app?.close();
  await rm(dir, { recursive: true, force: true });
});

/** A new line with these members (each signs in with `secret-of-<name>`), voicemail off unless asked. */
async function newLine(members: string[], voicemail = false): Promise<{ line: string; names: string[] }> {
  lineCounter++;
  const line = `+8150313${String(lineCounter).padStart(4, '0')}`;
  const names = members.map((m) => `${m}_${lineCounter}`);
  for (const [i, name] of names.entries()) {
    await app.lines.put(await memberRecord(line, name, { createdAt: new Date(Date.UTC(2024, 0, 1, 0, 0, i)).toISOString() }));
  }
  await app.lines.putSettings(line, { ...DEFAULT_LINE_SETTINGS, voicemail });
  return { line, names };
}

function ok(answer: WebhookAnswer): XmlElement {
  expect(answer.status).toBe(200);
  expect(answer.contentType).toBe('text/xml');
  return answer.twiml!;
}

/** A callback's answer: Twilio ignores the body, we answer an empty, valid `<Response/>`. */
function acknowledged(answer: WebhookAnswer): void {
  expect(answer.status).toBe(200);
  expect(answer.contentType).toBe('text/xml');
  expect(answer.body).toBe(EMPTY_RESPONSE);
}

/** Every ordering question answered by a seeded shuffle, so a failure can be replayed. */
function shuffled<T>(items: T[], seed: number): T[] {
  const out = [...items];
  let s = seed;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** Signs in through the token route, as the page does. */
async function signIn(line: string, clientName: string): Promise<string> {
  const res = await fetch(app.routeUrls.token, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ twilioPhoneNumber: line, deviceSecret: `secret-of-${clientName}`, clientName }),
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { capabilityToken: string }).capabilityToken;
}

async function callsApi(token: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(app.routeUrls.calls, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function listCalls(token: string): Promise<{ calls: CallView[]; unseenMissed: number; seenUntil?: string }> {
  const { status, body } = await callsApi(token, { action: 'list' });
  expect(status).toBe(200);
  return body as unknown as { calls: CallView[]; unseenMissed: number; seenUntil?: string };
}

/** An incoming call rung on every member: the ring TwiML and the call. */
async function ringLine(line: string): Promise<{ call: TwilioCall; dial: XmlElement; twiml: XmlElement }> {
  const call = new TwilioCall(AUTH, ACCOUNT, CALLER, line);
  const twiml = ok(await call.incoming(app.routeUrls.callIncoming));
  expect(verbs(twiml)).toEqual(['Dial']);
  return { call, dial: childElement(twiml, 'Dial'), twiml };
}

describe('incoming calls, as their status callbacks arrive in any order and more than once', () => {
  test('missed: every member rang, nobody answered; then the missed-call badge until seen', async () => {
    const { line, names } = await newLine(['alice', 'bob']);
    const { call, dial, twiml } = await ringLine(line);
    const start = Date.now() - 60_000;
    const callbacks: StatusCallback[] = [
      ...childElements(dial, 'Client').flatMap((client, i) =>
        call.legCallbacks(client, ['initiated', 'ringing', 'no-answer'], { startMs: start + i * 10 }),
      ),
      call.parentCallback(app.routeUrls.callStatus, 'completed', { atMs: start + 30_000, durationSeconds: 31 }),
    ];
    // the Dial's action: nobody answered, voicemail off → an apology
    expect(verbs(ok(await call.dialEnded(twiml, { DialCallStatus: 'no-answer', DialBridged: 'false' })))).toEqual(['Say', 'Hangup']);
    const delivered = shuffled([...callbacks, callbacks[1], callbacks[4], callbacks[6]], 7);
    for (const cb of delivered) acknowledged(await call.postCallback(cb));

    const token = await signIn(line, names[0]);
    const { calls, unseenMissed } = await listCalls(token);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({
      callSid: call.callSid,
      line,
      direction: 'incoming',
      remote: CALLER,
      outcome: 'missed',
      startedAt: new Date(Math.floor(start / 1000) * 1000).toISOString(),
    });
    expect(calls[0].legs.map((l) => `${l.role} ${l.to} ${l.status}`).sort()).toEqual(
      [`caller ${line} completed`, `member client:${names[0]} no-answer`, `member client:${names[1]} no-answer`].sort(),
    );
    expect(unseenMissed).toBe(1);

    // seen on alice's device: her badge clears, bob's does not (the mark is per device)
    const seen = await callsApi(token, { action: 'markSeen', until: calls[0].startedAt });
    expect(seen).toEqual({ status: 200, body: { success: true, seenUntil: calls[0].startedAt } });
    expect((await listCalls(token)).unseenMissed).toBe(0);
    expect((await listCalls(await signIn(line, names[1]))).unseenMissed).toBe(1);
    // the mark never moves back
    await callsApi(token, { action: 'markSeen', until: '2020-01-01T00:00:00.000Z' });
    expect((await listCalls(token)).seenUntil).toBe(calls[0].startedAt);
  });

  test('answered by one member while the other stopped ringing: who answered, when, and for how long', async () => {
    const { line, names } = await newLine(['alice', 'bob']);
    const { call, dial } = await ringLine(line);
    const [alice, bob] = childElements(dial, 'Client');
    const start = Date.now() - 120_000;
    const callbacks = [
      ...call.legCallbacks(alice, ['initiated', 'ringing', 'canceled'], { startMs: start }),
      ...call.legCallbacks(bob, ['initiated', 'ringing', 'in-progress', 'completed'], { startMs: start, durationSeconds: 64 }),
      call.parentCallback(app.routeUrls.callStatus, 'completed', { atMs: start + 70_000, durationSeconds: 70 }),
    ];
    for (const seed of [1, 2, 3]) {
      // the same callbacks again, in another order: nothing changes
      for (const cb of shuffled(callbacks, seed)) acknowledged(await call.postCallback(cb));
      const [logged] = (await listCalls(await signIn(line, names[0]))).calls;
      expect(logged).toMatchObject({
        outcome: 'answered',
        member: names[1],
        answeredAt: new Date(Math.floor(start / 1000) * 1000 + 2000).toISOString(),
        durationSeconds: 64,
      });
    }
  });

  test('forwarded: nobody answered, the forward number’s person pressed 1 and talked', async () => {
    const { line, names } = await newLine(['alice']);
    await app.lines.putSettings(line, { ...DEFAULT_LINE_SETTINGS, voicemail: false, forwardTo: '+819012345678' });
    const { call, dial, twiml } = await ringLine(line);
    const forward = ok(await call.dialEnded(twiml, { DialCallStatus: 'no-answer', DialBridged: 'false' }));
    const number = childElement(childElement(forward, 'Dial'), 'Number');
    expect(textOf(number)).toBe('+819012345678');
    const start = Date.now() - 90_000;
    const callbacks = [
      ...call.legCallbacks(childElement(dial, 'Client'), ['initiated', 'ringing', 'no-answer'], { startMs: start }),
      ...call.legCallbacks(number, ['initiated', 'ringing', 'in-progress', 'completed'], { startMs: start + 21_000, durationSeconds: 48 }),
      call.parentCallback(app.routeUrls.callStatus, 'completed', { atMs: start + 80_000, durationSeconds: 80 }),
    ];
    for (const cb of shuffled([...callbacks, ...callbacks.slice(0, 3)], 5)) acknowledged(await call.postCallback(cb));
    const [logged] = (await listCalls(await signIn(line, names[0]))).calls;
    expect(logged).toMatchObject({ outcome: 'forwarded', durationSeconds: 48, remote: CALLER });
    expect(logged.legs.find((l) => l.role === 'forward')).toMatchObject({ to: '+819012345678', status: 'completed' });
  });

  test('voicemail: the message is noted when it is recorded, so the call never counts as missed', async () => {
    const { line, names } = await newLine(['alice'], true);
    const { call, dial, twiml } = await ringLine(line);
    const voicemail = ok(await call.dialEnded(twiml, { DialCallStatus: 'no-answer', DialBridged: 'false' }));
    expect(verbs(voicemail)).toEqual(['Say', 'Record']);
    const missedBefore = app.metrics.totals().MissedCalls?.[''] ?? 0;
    // the caller speaks, then hangs up: the Record action, then the call's end; the recording's callback comes later
    expect(verbs(ok(await call.recorded(voicemail, twilioSid('RE'), 6, 'completed')))).toEqual(['Hangup']);
    for (const cb of [
      ...call.legCallbacks(childElement(dial, 'Client'), ['initiated', 'ringing', 'no-answer']),
      call.parentCallback(app.routeUrls.callStatus, 'completed', { durationSeconds: 40 }),
    ]) {
      acknowledged(await call.postCallback(cb));
    }
    const [logged] = (await listCalls(await signIn(line, names[0]))).calls;
    expect(logged).toMatchObject({ callSid: call.callSid, outcome: 'voicemail' });
    expect(app.metrics.totals().MissedCalls?.[''] ?? 0).toBe(missedBefore);
  });

  test('a callback that arrives before anything else of its call starts the record; the rest fill it in', async () => {
    const { line, names } = await newLine(['alice']);
    const { call, dial } = await ringLine(line);
    const [initiated, ringing, noAnswer] = call.legCallbacks(childElement(dial, 'Client'), ['initiated', 'ringing', 'no-answer']);
    const token = await signIn(line, names[0]);
    acknowledged(await call.postCallback(noAnswer));
    expect((await listCalls(token)).calls[0]).toMatchObject({ outcome: 'missed' });
    acknowledged(await call.postCallback(ringing));
    acknowledged(await call.postCallback(initiated));
    expect((await listCalls(token)).calls[0].legs).toEqual([expect.objectContaining({ status: 'no-answer' })]);
  });
});

describe('callbacks the log cannot use answer an empty <Response/>, never a 5xx', () => {
  const statusUrl = () => app.routeUrls.callStatus;
  const parentParams = (extra: Record<string, string>) => ({
    AccountSid: ACCOUNT,
    CallSid: twilioSid('CA'),
    CallStatus: 'completed',
    From: CALLER,
    To: '+815039999999',
    Direction: 'inbound',
    Timestamp: rfc2822(Date.now()),
    ...extra,
  });

  test.each([
    ['a number that is not a line', {}],
    ['another account', { AccountSid: `AC${'0'.repeat(32)}` }],
    ['no CallSid', { CallSid: '' }],
    ['a CallSid that is not one', { CallSid: 'CA<script>' }],
    ['an unknown status', { CallStatus: 'exploded' }],
    ['a hostile Timestamp and SequenceNumber', { Timestamp: 'yesterday', SequenceNumber: '-1; DROP' }],
    ['a huge From', { From: 'x'.repeat(5000) }],
  ])('%s', async (_name, extra) => {
    const params = parentParams(extra);
    acknowledged(await postWebhook(statusUrl(), params, AUTH));
    if (params.CallSid.length === 34) expect(await app.calls.get(params.CallSid)).toBeUndefined();
  });

  test('a dialled leg naming a leg role, line or client that is not ours', async () => {
    const base = { ...parentParams({ CallStatus: 'ringing' }), ParentCallSid: twilioSid('CA'), To: 'client:x' };
    for (const query of ['leg=spy&line=%2B815031234567', 'leg=member&line=03-1234', 'leg=callee&line=%2B815031234567&client=%3Cb%3E']) {
      acknowledged(await postWebhook(`${statusUrl()}?${query}`, base, AUTH));
      expect(await app.calls.get(base.ParentCallSid)).toBeUndefined();
    }
  });

  test('an unsigned or wrongly signed callback is refused (403, an empty TwiML body) and logs nothing', async () => {
    const params = parentParams({});
    const answer = await postWebhook(statusUrl(), params, AUTH, { signature: 'bm90IGEgc2lnbmF0dXJl' });
    expect(answer.status).toBe(403);
    expect(answer.contentType).toBe('text/xml');
    expect(await app.calls.get(params.CallSid)).toBeUndefined();
  });
});

describe('outgoing calls: logged from their dialled leg, bounded per device and per line', () => {
  /** A softphone places a call: Twilio posts the TwiML App's voice URL with the page's parameters. */
  async function place(identity: string, params: Record<string, string>): Promise<{ callSid: string; twiml: XmlElement }> {
    const callSid = twilioSid('CA');
    const twiml = ok(
      await postWebhook(
        app.routeUrls.callOutgoing,
        {
          AccountSid: ACCOUNT,
          ApplicationSid: TEST_CREDENTIALS.twimlAppSid,
          ApiVersion: '2010-04-01',
          CallSid: callSid,
          CallStatus: 'ringing',
          Direction: 'inbound',
          From: `client:${identity}`,
          Caller: `client:${identity}`,
          To: '',
          ...params,
        },
        AUTH,
      ),
    );
    return { callSid, twiml };
  }
  const parentOf = (callSid: string, identity: string) => {
    const call = new TwilioCall(AUTH, ACCOUNT, `client:${identity}`, '');
    Object.defineProperty(call, 'callSid', { value: callSid });
    return call;
  };
  const said = (twiml: XmlElement) => textOf(childElement(twiml, 'Say'));

  test('the dialled number’s progress makes the record: placed by whom, to whom, answered, for how long', async () => {
    const { line, names } = await newLine(['alice']);
    const { callSid, twiml } = await place(names[0], { callOutgoingPhoneNumber: DESTINATION });
    const number = childElement(childElement(twiml, 'Dial'), 'Number');
    const call = parentOf(callSid, names[0]);
    const callbacks = [
      ...call.legCallbacks(number, ['initiated', 'ringing', 'in-progress', 'completed'], { durationSeconds: 33 }),
      call.parentCallback(app.routeUrls.callStatus, 'completed', { durationSeconds: 40 }),
    ];
    for (const cb of shuffled(callbacks, 11)) acknowledged(await call.postCallback(cb));
    const [logged] = (await listCalls(await signIn(line, names[0]))).calls;
    expect(logged).toMatchObject({
      callSid,
      line,
      direction: 'outgoing',
      remote: DESTINATION,
      member: names[0],
      outcome: 'answered',
      durationSeconds: 33,
    });
  });

  test('a refused call is logged with its reason', async () => {
    const { line, names } = await newLine(['alice']);
    const { callSid, twiml } = await place(names[0], { callOutgoingPhoneNumber: '+81990123456' });
    expect(verbs(twiml)).toEqual(['Say', 'Hangup']);
    const [logged] = (await listCalls(await signIn(line, names[0]))).calls;
    expect(logged).toMatchObject({ callSid, outcome: 'refused', member: names[0], direction: 'outgoing' });
    expect(logged.refusedBecause).toBeTruthy();
  });

  test('two calls at once per device, three per line; a call that ends frees its place', async () => {
    const { names } = await newLine(['alice', 'bob']);
    const [alice, bob] = names;
    const first = await place(alice, { callOutgoingPhoneNumber: DESTINATION });
    const second = await place(alice, { callOutgoingPhoneNumber: DESTINATION });
    expect(verbs(first.twiml)).toEqual(['Dial']);
    expect(verbs(second.twiml)).toEqual(['Dial']);
    // a third from the same device: refused, with the reason said
    const third = await place(alice, { callOutgoingPhoneNumber: DESTINATION });
    expect(said(third.twiml)).toBe(OUTGOING_MESSAGES.deviceBusy);
    // Twilio repeats a voice request (a retried webhook): the same call keeps its place, takes no other
    const again = ok(
      await postWebhook(
        app.routeUrls.callOutgoing,
        { AccountSid: ACCOUNT, CallSid: first.callSid, From: `client:${alice}`, To: '', callOutgoingPhoneNumber: DESTINATION },
        AUTH,
      ),
    );
    expect(verbs(again)).toEqual(['Dial']);
    // bob takes the line's third place; a fourth call on the line is refused
    expect(verbs((await place(bob, { callOutgoingPhoneNumber: DESTINATION })).twiml)).toEqual(['Dial']);
    expect(said((await place(bob, { callOutgoingPhoneNumber: DESTINATION })).twiml)).toBe(OUTGOING_MESSAGES.lineBusy);
    // internal calls count too
    expect(said((await place(bob, { callOutgoingClient: alice })).twiml)).toBe(OUTGOING_MESSAGES.lineBusy);

    // alice's first call ends (its dialled leg completes): she may call again
    const number = childElement(childElement(first.twiml, 'Dial'), 'Number');
    const call = parentOf(first.callSid, alice);
    for (const cb of call.legCallbacks(number, ['initiated', 'ringing', 'in-progress', 'completed'], { durationSeconds: 5 })) {
      acknowledged(await call.postCallback(cb));
    }
    expect(verbs((await place(alice, { callOutgoingPhoneNumber: DESTINATION })).twiml)).toEqual(['Dial']);
    // the second call ends by the TwiML App's callback for the parent call alone: its place is freed too
    acknowledged(
      await parentOf(second.callSid, alice).postCallback(parentOf(second.callSid, alice).parentCallback(app.routeUrls.callStatus, 'completed')),
    );
    expect(verbs((await place(alice, { callOutgoingPhoneNumber: DESTINATION })).twiml)).toEqual(['Dial']);
  });
});

describe('the page’s calls API', () => {
  test('pages through a line’s calls newest first; a forged cursor or a bad request is a 400 with a JSON error', async () => {
    const { line, names } = await newLine(['alice']);
    const sids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const { call, dial } = await ringLine(line);
      sids.push(call.callSid);
      const [, , ended] = call.legCallbacks(childElement(dial, 'Client'), ['initiated', 'ringing', 'no-answer'], {
        startMs: Date.now() - 100_000 + i * 10_000,
      });
      acknowledged(await call.postCallback(ended));
    }
    const token = await signIn(line, names[0]);
    const first = await callsApi(token, { action: 'list', limit: 2 });
    expect(first.status).toBe(200);
    const got = [...(first.body.calls as CallView[])];
    let cursor = first.body.cursor as string | undefined;
    while (cursor) {
      const next = await callsApi(token, { action: 'list', limit: 2, cursor });
      got.push(...(next.body.calls as CallView[]));
      cursor = next.body.cursor as string | undefined;
    }
    expect(got.map((c) => c.callSid)).toEqual([...sids].reverse());
    // all five missed calls count, not only the page's two
    expect(first.body.unseenMissed).toBe(5);
    for (const next of got.slice(2)) expect(next.outcome).toBe('missed');

    for (const bad of [
      { action: 'list', cursor: 'bm90IGEgY3Vyc29y' },
      { action: 'list', limit: 0 },
      { action: 'list', limit: 51 },
      { action: 'delete' },
      { action: 'markSeen', until: 'yesterday' },
    ]) {
      const res = await callsApi(token, bad);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ success: false, error: expect.any(String) });
    }
  });

  test('a device sees only its own line’s calls', async () => {
    const a = await newLine(['alice']);
    const b = await newLine(['bob']);
    const { call, dial } = await ringLine(a.line);
    for (const cb of call.legCallbacks(childElement(dial, 'Client'), ['initiated', 'no-answer'])) acknowledged(await call.postCallback(cb));
    expect((await listCalls(await signIn(a.line, a.names[0]))).calls).toHaveLength(1);
    expect((await listCalls(await signIn(b.line, b.names[0]))).calls).toEqual([]);
  });
});
