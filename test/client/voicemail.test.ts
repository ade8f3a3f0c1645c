import { PageApiError } from '../../client/src/page-api';
import {
  VoicemailClient,
  VoicemailInbox,
  type InboxChange,
  type InboxSnapshot,
  type Voicemail,
  type VoicemailList,
} from '../../client/src/voicemail';
import { API_PATHS } from '../../lambda/core/paths';
import { flush, manualTimers, scriptedPageApi } from './page-api-fakes';

const LINE = '+815031234567';
const id = (n: number) => `RE${n.toString(16).padStart(32, '0')}`;
const vm = (n: number, over: Partial<Voicemail> = {}): Voicemail => ({
  id: id(n),
  from: '+819059876543',
  receivedAt: new Date(Date.UTC(2025, 0, 1, 9, n)).toISOString(),
  durationSeconds: 12,
  heard: false,
  ...over,
});

describe('VoicemailClient', () => {
  function client(answers: Array<{ status: number; body: unknown }>) {
    const { api, sent } = scriptedPageApi(answers);
    return { voicemails: new VoicemailClient(api), sent };
  }

  it('lists, plays, marks heard and deletes with the API’s actions on /softphone/voicemails', async () => {
    const { voicemails, sent } = client([
      { status: 200, body: { success: true, line: LINE, voicemails: [vm(1), vm(2, { heard: true })], unheard: 1 } },
      {
        status: 200,
        body: { success: true, url: 'http://127.0.0.1:3000/recordings/voicemail/815031234567/x.mp3?sig=1', expiresAt: '2025-01-01T00:05:00Z' },
      },
      { status: 200, body: { success: true } },
      { status: 200, body: { success: true } },
    ]);
    await expect(voicemails.list()).resolves.toEqual({ line: LINE, voicemails: [vm(1), vm(2, { heard: true })], unheard: 1 });
    await expect(voicemails.play(id(1))).resolves.toEqual({
      url: 'http://127.0.0.1:3000/recordings/voicemail/815031234567/x.mp3?sig=1',
      expiresAt: '2025-01-01T00:05:00Z',
    });
    await voicemails.markHeard(id(1));
    await voicemails.delete(id(2));
    expect(sent).toEqual([
      { url: `http://127.0.0.1:3000/prod${API_PATHS.voicemails}`, body: { action: 'list' }, auth: 'Bearer jwt' },
      { url: `http://127.0.0.1:3000/prod${API_PATHS.voicemails}`, body: { action: 'play', id: id(1) }, auth: 'Bearer jwt' },
      { url: `http://127.0.0.1:3000/prod${API_PATHS.voicemails}`, body: { action: 'markHeard', id: id(1) }, auth: 'Bearer jwt' },
      { url: `http://127.0.0.1:3000/prod${API_PATHS.voicemails}`, body: { action: 'delete', id: id(2) }, auth: 'Bearer jwt' },
    ]);
  });

  it('refuses a list with a malformed voicemail, and a playback URL that is not http(s)', async () => {
    for (const bad of [
      { ...vm(1), id: 'not-an-id' },
      { ...vm(1), receivedAt: 'yesterday' },
      { ...vm(1), heard: 'no' },
      { ...vm(1), durationSeconds: '12' },
    ]) {
      const { voicemails } = client([{ status: 200, body: { success: true, line: LINE, voicemails: [bad], unheard: 1 } }]);
      await expect(voicemails.list()).rejects.toMatchObject({ kind: 'server' });
    }
    for (const url of ['javascript:alert(1)', 'data:audio/mpeg;base64,AAAA', 'not a url']) {
      const { voicemails } = client([{ status: 200, body: { success: true, url, expiresAt: 'x' } }]);
      await expect(voicemails.play(id(1))).rejects.toMatchObject({ kind: 'server' });
    }
  });
});

/** A VoicemailClient stand-in whose answers the test controls one by one. */
class ScriptedVoicemails {
  lists: Array<{ resolve: (l: VoicemailList) => void; reject: (e: unknown) => void }> = [];
  calls: string[] = [];
  failNext?: PageApiError;
  list(): Promise<VoicemailList> {
    this.calls.push('list');
    return new Promise((resolve, reject) => this.lists.push({ resolve, reject }));
  }
  /** Answers the oldest pending list. */
  answer(voicemails: Voicemail[]): void {
    this.lists.shift()!.resolve({ line: LINE, voicemails, unheard: voicemails.filter((v) => !v.heard).length });
  }
  fail(err: unknown): void {
    this.lists.shift()!.reject(err);
  }
  private maybeFail(): void {
    const e = this.failNext;
    this.failNext = undefined;
    if (e) throw e;
  }
  async play(vid: string) {
    this.calls.push(`play ${vid}`);
    this.maybeFail();
    return { url: `https://bucket.example/${vid}.mp3`, expiresAt: '2025-01-01T00:05:00Z' };
  }
  async markHeard(vid: string) {
    this.calls.push(`markHeard ${vid}`);
    this.maybeFail();
  }
  async delete(vid: string) {
    this.calls.push(`delete ${vid}`);
    this.maybeFail();
  }
}

function setup(opts: { visible?: boolean } = {}) {
  const client = new ScriptedVoicemails();
  const { timers, setTimer, clearTimer, fire } = manualTimers();
  const inbox = new VoicemailInbox({
    client,
    pollIntervalMs: 30_000,
    isVisible: () => opts.visible ?? true,
    now: () => 1_000,
    setTimer,
    clearTimer,
  });
  const seen: Array<{ s: InboxSnapshot; c: InboxChange }> = [];
  inbox.subscribe((s, c) => seen.push({ s, c }));
  return { client, inbox, timers, fire, seen };
}

describe('VoicemailInbox: polling', () => {
  it('loads on start, then every interval; the first load announces nothing, later ones what arrived', async () => {
    const { client, inbox, timers, fire, seen } = setup();
    expect(inbox.state.status).toBe('off');
    inbox.start();
    expect(inbox.state.status).toBe('loading');
    expect(client.calls).toEqual(['list']);
    expect(timers).toHaveLength(0); // no poll while a load is under way
    client.answer([vm(1, { heard: true })]);
    await flush();
    expect(inbox.state).toMatchObject({ status: 'ready', line: LINE, unheard: 0, loadedAt: 1_000 });
    expect(seen.at(-1)!.c.arrived).toEqual([]);
    expect(timers.map((t) => t.ms)).toEqual([30_000]);

    await fire();
    expect(client.calls).toEqual(['list', 'list']);
    client.answer([vm(2), vm(1, { heard: true })]);
    await flush();
    expect(inbox.state).toMatchObject({ unheard: 1, voicemails: [vm(2), vm(1, { heard: true })] });
    expect(seen.at(-1)!.c.arrived).toEqual([vm(2)]);
    expect(timers).toHaveLength(1);

    await fire();
    client.answer([vm(2), vm(1, { heard: true })]);
    await flush();
    expect(seen.at(-1)!.c.arrived).toEqual([]); // nothing new
  });

  it('pauses while the page is hidden and loads at once when it is shown again', async () => {
    const { client, inbox, timers, fire } = setup();
    inbox.start();
    client.answer([]);
    await flush();
    expect(timers).toHaveLength(1);
    inbox.setVisible(false);
    expect(timers).toHaveLength(0);
    void inbox.refresh(); // e.g. a call ended while hidden: one load, then no poll
    client.answer([]);
    await flush();
    expect(timers).toHaveLength(0);
    await fire();
    expect(client.calls).toEqual(['list', 'list']);
    inbox.setVisible(true);
    expect(client.calls).toEqual(['list', 'list', 'list']);
    client.answer([vm(3)]);
    await flush();
    expect(timers).toHaveLength(1);
    expect(inbox.state.unheard).toBe(1);
  });

  it('starts hidden without polling until shown', async () => {
    const { client, inbox, timers } = setup({ visible: false });
    inbox.start();
    client.answer([]);
    await flush();
    expect(timers).toHaveLength(0);
    inbox.setVisible(true);
    expect(client.calls).toHaveLength(2);
  });

  it('a refresh during a load is followed by one more load, not by overlapping ones', async () => {
    const { client, inbox, timers } = setup();
    inbox.start();
    void inbox.refresh();
    void inbox.refresh();
    expect(client.calls).toEqual(['list']);
    client.answer([]);
    await flush();
    expect(client.calls).toEqual(['list', 'list']);
    expect(timers).toHaveLength(0);
    client.answer([vm(1)]);
    await flush();
    expect(timers).toHaveLength(1);
    expect(inbox.state.unheard).toBe(1);
  });

  it('keeps polling after an error it may recover from, and shows the error until a load succeeds', async () => {
    const { client, inbox, timers, fire } = setup();
    inbox.start();
    client.fail(new PageApiError('unavailable', 'The service is temporarily unavailable.', 503));
    await flush();
    expect(inbox.state).toMatchObject({ status: 'error', errorKind: 'unavailable', error: 'The service is temporarily unavailable.' });
    expect(timers).toHaveLength(1);
    await fire();
    client.answer([vm(1)]);
    await flush();
    expect(inbox.state).toMatchObject({ status: 'ready', unheard: 1 });
    expect(inbox.state.error).toBeUndefined();
  });

  it('stops polling when the session is refused (no token requests counting towards the lockout) until started again', async () => {
    const { client, inbox, timers } = setup();
    inbox.start();
    client.fail(new PageApiError('unauthorized', 'Sign in again: wrong device secret.', 401));
    await flush();
    expect(inbox.state).toMatchObject({ status: 'error', errorKind: 'unauthorized', error: 'Sign in again: wrong device secret.' });
    expect(inbox.polling).toBe(false);
    expect(timers).toHaveLength(0);
    await inbox.refresh();
    inbox.setVisible(false);
    inbox.setVisible(true);
    expect(client.calls).toEqual(['list']);
    inbox.start(); // signed in again
    expect(client.calls).toEqual(['list', 'list']);
  });

  it('stop() forgets the list and drops a load that answers later', async () => {
    const { client, inbox, timers, seen } = setup();
    inbox.start();
    client.answer([vm(1)]);
    await flush();
    void inbox.refresh();
    inbox.stop();
    expect(inbox.state).toEqual({ status: 'off', voicemails: [], unheard: 0 });
    expect(timers).toHaveLength(0);
    client.answer([vm(1), vm(2)]);
    await flush();
    expect(inbox.state.status).toBe('off');
    expect(timers).toHaveLength(0);
    // a new session does not call the old messages new
    inbox.start();
    client.answer([vm(1)]);
    await flush();
    expect(inbox.state.voicemails).toEqual([vm(1)]);
    expect(seen.at(-1)!.c.arrived).toEqual([]);
  });

  it('signing out and in again while a load is under way still loads for the new session', async () => {
    const { client, inbox, timers } = setup();
    inbox.start();
    inbox.stop();
    inbox.start();
    expect(client.calls).toEqual(['list', 'list']);
    client.answer([vm(9)]); // the old session's answer: dropped
    await flush();
    expect(inbox.state.status).toBe('loading');
    client.answer([vm(1)]);
    await flush();
    expect(inbox.state).toMatchObject({ status: 'ready', voicemails: [vm(1)] });
    expect(timers).toHaveLength(1);
  });
});

describe('VoicemailInbox: actions', () => {
  async function loaded(list: Voicemail[]) {
    const t = setup();
    t.inbox.start();
    t.client.answer(list);
    await flush();
    return t;
  }

  it('marks heard at once, and a list that started before does not undo it', async () => {
    const { client, inbox } = await loaded([vm(1), vm(2)]);
    void inbox.refresh(); // in flight with the old state
    await inbox.markHeard(id(1));
    expect(inbox.state.unheard).toBe(1);
    expect(client.calls).toContain(`markHeard ${id(1)}`);
    client.answer([vm(1), vm(2)]);
    await flush();
    expect(inbox.state.voicemails.find((v) => v.id === id(1))?.heard).toBe(true);
    expect(inbox.state.unheard).toBe(1);
    await inbox.markHeard(id(1)); // already heard: nothing sent
    expect(client.calls.filter((c) => c.startsWith('markHeard'))).toHaveLength(1);
  });

  it('puts a message back to unheard when marking fails, and removes one a teammate deleted', async () => {
    const { client, inbox } = await loaded([vm(1), vm(2)]);
    client.failNext = new PageApiError('unavailable', 'Temporarily unavailable.', 503);
    await expect(inbox.markHeard(id(1))).rejects.toMatchObject({ kind: 'unavailable' });
    expect(inbox.state.voicemails.find((v) => v.id === id(1))?.heard).toBe(false);
    expect(inbox.state.unheard).toBe(2);
    client.failNext = new PageApiError('not-found', 'No such voicemail.', 404);
    await expect(inbox.markHeard(id(1))).rejects.toMatchObject({ kind: 'not-found', message: /no longer there/ });
    expect(inbox.state.voicemails.map((v) => v.id)).toEqual([id(2)]);
  });

  it('deletes: gone at once and not brought back by a list that started before; deleted elsewhere counts as deleted', async () => {
    const { client, inbox } = await loaded([vm(1), vm(2), vm(3)]);
    void inbox.refresh();
    await inbox.delete(id(2));
    expect(inbox.state.voicemails.map((v) => v.id)).toEqual([id(1), id(3)]);
    client.answer([vm(1), vm(2), vm(3)]);
    await flush();
    expect(inbox.state.voicemails.map((v) => v.id)).toEqual([id(1), id(3)]);
    expect(inbox.state.unheard).toBe(2);
    client.failNext = new PageApiError('not-found', 'No such voicemail.', 404);
    await inbox.delete(id(3));
    expect(inbox.state.voicemails.map((v) => v.id)).toEqual([id(1)]);
    client.failNext = new PageApiError('network', 'Cannot reach the phone service.');
    await expect(inbox.delete(id(1))).rejects.toMatchObject({ kind: 'network' });
    expect(inbox.state.voicemails.map((v) => v.id)).toEqual([id(1)]);
  });

  it('plays from a short-lived URL; a message gone meanwhile leaves the list', async () => {
    const { client, inbox } = await loaded([vm(1), vm(2)]);
    await expect(inbox.playback(id(1))).resolves.toEqual({ url: `https://bucket.example/${id(1)}.mp3`, expiresAt: '2025-01-01T00:05:00Z' });
    client.failNext = new PageApiError('not-found', 'No such voicemail.', 404);
    await expect(inbox.playback(id(2))).rejects.toMatchObject({ kind: 'not-found' });
    expect(inbox.state.voicemails.map((v) => v.id)).toEqual([id(1)]);
  });
});
