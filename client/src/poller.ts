/**
 * The polling the page's panels share (call-log.ts `RecentCalls`, voicemail.ts `VoicemailInbox`): load now, then
 * again after a delay while the page is visible; none while it is hidden, a load at once when it is shown again;
 * a load asked for while one is under way is followed by one more. Each start or stop begins a new session: an
 * answer of an earlier session no longer counts (the panel's `load` compares `session`). No DOM here; timers and
 * visibility are injected so the polling is unit-tested without waiting.
 */
import { PageApiError } from './page-api';

/** What a panel polls. */
export interface Polled {
  /** Loads once; `session` is the session it started in (compare with `Poller.session` before using its answer). */
  load: (session: number) => Promise<void>;
  /** How long until the next load, asked only when one is scheduled. */
  delayMs: () => number;
}

/** The page's visibility and timers (injected by the tests; the browser's otherwise). */
export interface PollingEnv {
  isVisible?: () => boolean;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
}

export class Poller {
  private running = false;
  private visible: boolean;
  private timer?: unknown;
  private loading?: Promise<void>;
  private again = false;
  private sessionCount = 0;
  private readonly setTimer: (fn: () => void, ms: number) => unknown;
  private readonly clearTimer: (handle: unknown) => void;

  constructor(
    private readonly polled: Polled,
    env: PollingEnv = {},
  ) {
    this.visible = env.isVisible?.() ?? true;
    this.setTimer = env.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
    this.clearTimer = env.clearTimer ?? ((h) => clearTimeout(h as ReturnType<typeof setTimeout>));
  }

  /** Whether it polls: started, and neither stopped nor halted. */
  get polling(): boolean {
    return this.running;
  }

  /** The current session: a load, or any other request, started in another one no longer counts. */
  get session(): number {
    return this.sessionCount;
  }

  /** Polls from now on, in a new session, unless it polls already; says whether it started (then load with `refresh`). */
  start(): boolean {
    if (this.running) return false;
    this.running = true;
    this.newSession();
    return true;
  }

  /** Polls no more, and ends the session: a load under way no longer counts. */
  stop(): void {
    this.running = false;
    this.newSession();
    this.cancelTimer();
  }

  /** Polls no more (e.g. the session was refused), the session still on: `start` resumes. */
  halt(): void {
    this.running = false;
    this.cancelTimer();
  }

  private newSession(): void {
    this.sessionCount++;
    this.loading = undefined;
    this.again = false;
  }

  /** The page was hidden (no polling) or shown again (load at once, then poll). */
  setVisible(visible: boolean): void {
    if (visible === this.visible) return;
    this.visible = visible;
    if (!visible) this.cancelTimer();
    else if (this.running) void this.refresh();
  }

  /** Loads now (a load already under way is followed by one more); resolves when the load is in. */
  refresh(): Promise<void> {
    if (!this.running) return Promise.resolve();
    if (this.loading) {
      this.again = true;
      return this.loading;
    }
    this.cancelTimer();
    const session = this.sessionCount;
    const loading: Promise<void> = this.polled.load(session).finally(() => {
      if (this.loading === loading) this.loading = undefined;
      if (session !== this.sessionCount || !this.running) return;
      if (this.again) {
        this.again = false;
        void this.refresh();
      } else {
        this.schedule();
      }
    });
    this.loading = loading;
    return loading;
  }

  private schedule(): void {
    this.cancelTimer();
    if (!this.running || !this.visible) return;
    this.timer = this.setTimer(() => {
      this.timer = undefined;
      void this.refresh();
    }, this.polled.delayMs());
  }

  private cancelTimer(): void {
    if (this.timer !== undefined) this.clearTimer(this.timer);
    this.timer = undefined;
  }
}

/** Any failure of a page API call as a PageApiError (what is not one counts as a server error). */
export function toPageError(err: unknown): PageApiError {
  return err instanceof PageApiError ? err : new PageApiError('server', err instanceof Error ? err.message : String(err));
}

/**
 * What the polled panels (`RecentCalls`, `VoicemailInbox`) have in common: a snapshot the UI subscribes to (each
 * listener also gets what changed with it, `change`; `noChange()` when nothing in particular did), and the Poller
 * that runs the panel's `load`.
 */
export abstract class PolledPanel<S extends object, E = void> {
  private snapshot: S;
  private readonly listeners = new Set<(snapshot: S, change: E) => void>();
  protected readonly poller: Poller;

  constructor(
    initial: S,
    private readonly noChange: () => E,
    env: PollingEnv,
  ) {
    this.snapshot = initial;
    this.poller = new Poller({ load: (session) => this.load(session), delayMs: () => this.delayMs() }, env);
  }

  /** Loads once (Polled.load). */
  protected abstract load(session: number): Promise<void>;
  /** How long until the next load (Polled.delayMs). */
  protected abstract delayMs(): number;

  get state(): S {
    return this.snapshot;
  }

  /** Whether it polls: started, and not stopped by a refused session. */
  get polling(): boolean {
    return this.poller.polling;
  }

  subscribe(listener: (snapshot: S, change: E) => void): () => void {
    this.listeners.add(listener);
    listener(this.snapshot, this.noChange());
    return () => this.listeners.delete(listener);
  }

  protected update(patch: Partial<S>, change: E = this.noChange()): void {
    this.snapshot = { ...this.snapshot, ...patch };
    for (const l of this.listeners) l(this.snapshot, change);
  }

  /** A new snapshot, nothing of the previous one kept. */
  protected reset(snapshot: S): void {
    this.snapshot = { ...snapshot };
    for (const l of this.listeners) l(this.snapshot, this.noChange());
  }

  /** The page was hidden (no polling) or shown again (load at once, then poll). */
  setVisible(visible: boolean): void {
    this.poller.setVisible(visible);
  }

  /** Loads now (a load already under way is followed by one more); resolves when the load is in. */
  refresh(): Promise<void> {
    return this.poller.refresh();
  }
}
