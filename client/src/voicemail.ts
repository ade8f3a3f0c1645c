/**
 * Voicemail: the client of `POST {apiBaseUrl}/softphone/voicemails` (`VoicemailClient`), and the inbox the page
 * shows (`VoicemailInbox`): the line's messages, kept fresh by polling `list` while the page is visible, and
 * the actions on them. No DOM here; the UI subscribes to snapshots. Timers and visibility are injected so the
 * polling is unit-tested without waiting.
 */
import { API_PATHS } from '../../lambda/core/paths';
import { field, PageApiError, type PageApi, type PageApiErrorKind } from './page-api';
import { PolledPanel, type PollingEnv, toPageError } from './poller';

export interface Voicemail {
  /** Twilio's RecordingSid (`RE…`) */
  id: string;
  /** the caller's number (E.164), `anonymous`, or `client:<name>` */
  from: string;
  /** ISO-8601 */
  receivedAt: string;
  durationSeconds: number;
  heard: boolean;
}

export interface VoicemailList {
  /** the line's number (E.164) */
  line: string;
  /** newest first */
  voicemails: Voicemail[];
  unheard: number;
}

export interface Playback {
  /** a short-lived URL of the recording (MP3) */
  url: string;
  expiresAt: string;
}

const VOICEMAIL_ID = /^RE[0-9a-f]{32}$/;

function parseVoicemail(o: Record<string, unknown>): Voicemail {
  const id = field.string(o, 'id');
  if (!VOICEMAIL_ID.test(id)) throw new Error('id is not a voicemail id');
  const receivedAt = field.string(o, 'receivedAt');
  if (Number.isNaN(Date.parse(receivedAt))) throw new Error('receivedAt is not a time');
  return {
    id,
    from: field.string(o, 'from'),
    receivedAt,
    durationSeconds: Math.max(0, Math.round(field.number(o, 'durationSeconds'))),
    heard: field.boolean(o, 'heard'),
  };
}

export class VoicemailClient {
  constructor(private readonly api: PageApi) {}

  list(): Promise<VoicemailList> {
    return this.api.post(API_PATHS.voicemails, { action: 'list' }, (body) => {
      const voicemails = field.array(body, 'voicemails').map(parseVoicemail);
      return { line: field.string(body, 'line'), voicemails, unheard: field.number(body, 'unheard') };
    });
  }

  play(id: string): Promise<Playback> {
    return this.api.post(API_PATHS.voicemails, { action: 'play', id }, (body) => {
      const url = field.string(body, 'url');
      // Only a web URL goes into the audio element.
      const protocol = new URL(url).protocol;
      if (protocol !== 'https:' && protocol !== 'http:') throw new Error('url is not an http(s) URL');
      return { url, expiresAt: field.string(body, 'expiresAt') };
    });
  }

  async markHeard(id: string): Promise<void> {
    await this.api.post(API_PATHS.voicemails, { action: 'markHeard', id }, () => undefined);
  }

  async delete(id: string): Promise<void> {
    await this.api.post(API_PATHS.voicemails, { action: 'delete', id }, () => undefined);
  }
}

// ---------------------------------------------------------------------------------------------------------
// The inbox

export type InboxStatus = 'off' | 'loading' | 'ready' | 'error';

export interface InboxSnapshot {
  status: InboxStatus;
  line?: string;
  voicemails: Voicemail[];
  unheard: number;
  /** the last failure of loading the list, for people */
  error?: string;
  errorKind?: PageApiErrorKind;
  /** when the list was last loaded (ms epoch) */
  loadedAt?: number;
}

/** What changed with a snapshot: voicemails that arrived since the last load (none on the first load). */
export interface InboxChange {
  arrived: Voicemail[];
}

export interface InboxDeps extends PollingEnv {
  client: Pick<VoicemailClient, 'list' | 'play' | 'markHeard' | 'delete'>;
  /** How often `list` is polled while the page is visible. */
  pollIntervalMs: number;
  now?: () => number;
}

const OFF: InboxSnapshot = { status: 'off', voicemails: [], unheard: 0 };

export class VoicemailInbox extends PolledPanel<InboxSnapshot, InboxChange> {
  /** ids seen in a load of this session: what is not among them is new */
  private known?: Set<string>;
  /** Deleted here: a list that started before the delete must not bring them back. */
  private deleted = new Set<string>();
  /** Marked heard here: a list that started before must not show them unheard again. */
  private heard = new Set<string>();
  private readonly now: () => number;

  constructor(private readonly deps: InboxDeps) {
    super(OFF, () => ({ arrived: [] }), deps);
    this.now = deps.now ?? (() => Date.now());
  }

  protected delayMs(): number {
    return this.deps.pollIntervalMs;
  }

  /** Signed in: load now, then poll. Calling it again while running only loads now. */
  start(): void {
    if (this.poller.start()) {
      this.newSession();
      this.reset({ ...OFF, status: 'loading' });
    }
    void this.refresh();
  }

  /** Signed out: stop polling and forget the list. */
  stop(): void {
    this.poller.stop();
    this.newSession();
    this.reset(OFF);
  }

  /** What an earlier session had seen, deleted or marked heard no longer counts. */
  private newSession(): void {
    this.known = undefined;
    this.deleted.clear();
    this.heard.clear();
  }

  protected async load(session: number): Promise<void> {
    let list: VoicemailList;
    try {
      list = await this.deps.client.list();
    } catch (err) {
      if (session !== this.poller.session) return;
      const e = toPageError(err);
      // The token API refused a new session (e.g. the secret was rotated): polling would only ask it again and
      // again, counting towards the line's sign-in lockout. Wait for the next sign-in.
      if (e.kind === 'unauthorized') this.poller.halt();
      this.update({ status: 'error', error: e.message, errorKind: e.kind });
      return;
    }
    if (session !== this.poller.session) return;
    const voicemails = list.voicemails
      .filter((v) => !this.deleted.has(v.id))
      .map((v) => (this.heard.has(v.id) && !v.heard ? { ...v, heard: true } : v));
    const arrived = this.known ? voicemails.filter((v) => !this.known?.has(v.id)) : [];
    this.known = new Set([...(this.known ?? []), ...voicemails.map((v) => v.id)]);
    this.update(
      {
        status: 'ready',
        line: list.line,
        voicemails,
        unheard: countUnheard(voicemails),
        error: undefined,
        errorKind: undefined,
        loadedAt: this.now(),
      },
      { arrived },
    );
  }

  private replace(voicemails: Voicemail[]): void {
    this.update({ voicemails, unheard: countUnheard(voicemails) });
  }

  private forget(id: string): void {
    this.deleted.add(id);
    this.replace(this.state.voicemails.filter((v) => v.id !== id));
  }

  /** A short-lived URL to play it from. A voicemail gone meanwhile (a teammate deleted it) leaves the list. */
  async playback(id: string): Promise<Playback> {
    try {
      return await this.deps.client.play(id);
    } catch (err) {
      throw this.goneIfNotFound(id, err, 'That voicemail is no longer there: a teammate may have deleted it.');
    }
  }

  /** Marks it heard (at once on the page; the API is told). */
  async markHeard(id: string): Promise<void> {
    const item = this.state.voicemails.find((v) => v.id === id);
    if (!item || item.heard) return;
    this.heard.add(id);
    this.replace(this.state.voicemails.map((v) => (v.id === id ? { ...v, heard: true } : v)));
    try {
      await this.deps.client.markHeard(id);
    } catch (err) {
      const e = this.goneIfNotFound(id, err, 'That voicemail is no longer there: a teammate may have deleted it.');
      if (e.kind !== 'not-found') {
        this.heard.delete(id);
        this.replace(this.state.voicemails.map((v) => (v.id === id ? { ...v, heard: false } : v)));
      }
      throw e;
    }
  }

  /** Deletes it (and its recording). One already deleted elsewhere counts as deleted. */
  async delete(id: string): Promise<void> {
    try {
      await this.deps.client.delete(id);
    } catch (err) {
      const e = toPageError(err);
      if (e.kind !== 'not-found') throw e;
    }
    this.forget(id);
  }

  private goneIfNotFound(id: string, err: unknown, message: string): PageApiError {
    const e = toPageError(err);
    if (e.kind !== 'not-found') return e;
    this.forget(id);
    return new PageApiError('not-found', message, e.status);
  }
}

function countUnheard(voicemails: readonly Voicemail[]): number {
  return voicemails.filter((v) => !v.heard).length;
}
