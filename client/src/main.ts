/** DOM glue: renders the Phone controller's snapshots and forwards user input. Logic lives in the modules. */
import { callLabel, connectedSeconds, formatDuration, isActive, type CallState } from './call-state';
import { EMERGENCY_REFUSAL, isEmergencyNumber } from '../../lambda/core/emergency';
import { VOICEMAIL_POLL_MS } from './build-config';
import { DEFAULT_EDGE, firstEdge, MAX_CALL_SIGNALING_TIMEOUT_MS, parseConfig, type PageConfig } from './config';
import { CallLogClient, describeCall, isUnseenMissed, RecentCalls, type LoggedCall, type RecentCallsSnapshot } from './call-log';
import { DirectoryClient, lineStatus, memberName, teammates, type Directory } from './directory';
import { RememberedIdentities, withIdentityHint } from './identities';
import { PageApi } from './page-api';
import { callBackTarget, countryFromLocale, countryOf, describeParty, dialChars, formatAsYouType, formatForDisplay, toE164 } from './phone-format';
import { Phone, type FeedbackState, type PhoneSnapshot, type RegistrationState } from './phone';
import { describeWarning, FEEDBACK_ISSUES, FEEDBACK_SCORES, isFeedbackIssue, isFeedbackScore, isListedWarning, warningSentences } from './quality';
import { RecentCallsCache, forgetCredentials, loadCredentials, saveCredentials } from './recent-calls';
import { SETUP_STEPS, SetupTest, type SetupSnapshot, type SetupStepId } from './setup-test';
import { createRingtone, testSoundWav } from './tones';
import { fetchToken, type Credentials } from './token-client';
import { VoicemailClient, VoicemailInbox, type InboxSnapshot, type Voicemail } from './voicemail';
import { createVoiceDevice, runVoicePreflight } from './voice/device';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

const el = {
  regStatus: $('reg-status'),
  me: $('me'),
  signOut: $<HTMLButtonElement>('sign-out'),
  signin: $('signin'),
  signinForm: $<HTMLFormElement>('signin-form'),
  myNumber: $<HTMLInputElement>('my-number'),
  secret: $<HTMLInputElement>('secret'),
  remember: $<HTMLInputElement>('remember'),
  signinError: $('signin-error'),
  signInButton: $<HTMLButtonElement>('sign-in'),
  phone: $('phone'),
  incoming: $('incoming'),
  incomingFrom: $('incoming-from'),
  incomingLine: $('incoming-line'),
  accept: $<HTMLButtonElement>('accept'),
  reject: $<HTMLButtonElement>('reject'),
  callState: $('call-state'),
  callNumber: $('call-number'),
  callTimer: $<HTMLTimeElement>('call-timer'),
  callWarnings: $<HTMLUListElement>('call-warnings'),
  rating: $<HTMLFormElement>('rating'),
  ratingScores: $('rating-scores'),
  ratingIssue: $<HTMLSelectElement>('rating-issue'),
  ratingError: $('rating-error'),
  ratingSend: $<HTMLButtonElement>('rating-send'),
  ratingSkip: $<HTMLButtonElement>('rating-skip'),
  ratingThanks: $('rating-thanks'),
  setupRun: $<HTMLButtonElement>('setup-run'),
  setupSteps: $('setup-steps'),
  setupHeard: $<HTMLButtonElement>('setup-heard'),
  setupNotHeard: $<HTMLButtonElement>('setup-not-heard'),
  setupReplay: $<HTMLButtonElement>('setup-replay'),
  setupSummary: $('setup-summary'),
  dialForm: $<HTMLFormElement>('dial-form'),
  dial: $<HTMLInputElement>('dial-number'),
  backspace: $<HTMLButtonElement>('backspace'),
  pad: $('pad'),
  call: $<HTMLButtonElement>('call'),
  mute: $<HTMLButtonElement>('mute'),
  hangup: $<HTMLButtonElement>('hangup'),
  mic: $<HTMLSelectElement>('mic'),
  speaker: $<HTMLSelectElement>('speaker'),
  level: $<HTMLMeterElement>('level'),
  micTest: $<HTMLButtonElement>('mic-test'),
  recent: $('recent'),
  recentBadge: $('recent-badge'),
  recentBadgeCount: $('recent-badge-count'),
  recentRefresh: $<HTMLButtonElement>('recent-refresh'),
  recentStatus: $('recent-status'),
  recentNote: $('recent-note'),
  recentList: $('recent-list'),
  recentMore: $<HTMLButtonElement>('recent-more'),
  vmBadge: $('vm-badge'),
  vmBadgeCount: $('vm-badge-count'),
  vmRefresh: $<HTMLButtonElement>('vm-refresh'),
  vmStatus: $('vm-status'),
  vmError: $('vm-error'),
  vmPlayer: $('vm-player'),
  vmNow: $('vm-now'),
  vmAudio: $<HTMLAudioElement>('vm-audio'),
  vmList: $('vm-list'),
  vmConfirm: $<HTMLDialogElement>('vm-confirm'),
  vmConfirmText: $('vm-confirm-text'),
  vmConfirmDelete: $<HTMLButtonElement>('vm-confirm-delete'),
  vmConfirmCancel: $<HTMLButtonElement>('vm-confirm-cancel'),
  teamLine: $('team-line'),
  teamStatus: $('team-status'),
  teamError: $('team-error'),
  teamEmpty: $('team-empty'),
  teamList: $('team-list'),
  announcer: $('announcer'),
};

const storage = window.localStorage;
const recentCache = new RecentCallsCache(storage);
const identities = new RememberedIdentities(storage);
let apiBaseUrl = '';
/** config.json's Twilio edge(s) (config.ts); the Device and the preflight test connect through them. */
let edge: PageConfig['edge'] = DEFAULT_EDGE;
let audioContext: AudioContext | undefined;
const getAudioContext = () => {
  if (!audioContext && typeof AudioContext !== 'undefined') audioContext = new AudioContext();
  return audioContext;
};
const ringtone = createRingtone(getAudioContext);

const phone = new Phone({
  fetchToken: withIdentityHint((creds, opts) => fetchToken(apiBaseUrl, creds, (url, init) => fetch(url, init), opts), identities),
  // Read when the Device is made (after config.json): a call outlives a dropped signalling connection for a while.
  createDevice: (token) => createVoiceDevice(token, { edge, maxCallSignalingTimeoutMs: MAX_CALL_SIGNALING_TIMEOUT_MS }),
  // The call log is the server's: a finished call only makes the page ask it again.
  onCallFinished: () => void recentCalls.afterCall(),
});

// The page's own API (voicemails, team directory), authenticated with the phone's Access Token.
const pageApi = new PageApi({
  apiBaseUrl: () => apiBaseUrl,
  fetch: (url, init) => fetch(url, init),
  session: { current: () => phone.accessToken, refresh: () => phone.freshToken() },
});
const inbox = new VoicemailInbox({
  client: new VoicemailClient(pageApi),
  pollIntervalMs: VOICEMAIL_POLL_MS,
  isVisible: () => document.visibilityState !== 'hidden',
});
const directoryClient = new DirectoryClient(pageApi);
// Recent calls: the line's call log from the server (polled like voicemail), this browser's copy while it cannot be reached.
const recentCalls = new RecentCalls({
  client: new CallLogClient(pageApi),
  cache: recentCache,
  pollIntervalMs: VOICEMAIL_POLL_MS,
  isVisible: () => document.visibilityState !== 'hidden',
});

const home = () => countryOf(phone.credentials?.twilioPhoneNumber ?? '') ?? countryFromLocale(navigator.language);

/**
 * Says several things at once (e.g. a step of "Test my setup" ending as the next begins): what is said within the
 * same turn of the event loop is announced together, in order, instead of the last one replacing the others.
 */
let batched: string[] = [];
function announceTogether(text: string): void {
  if (batched.length === 0) {
    window.setTimeout(() => {
      const all = batched.join(' ');
      batched = [];
      announce(all);
    }, 0);
  }
  batched.push(text);
}

function announce(text: string): void {
  // Re-set so identical messages are announced again.
  el.announcer.textContent = '';
  window.setTimeout(() => (el.announcer.textContent = text), 30);
}

const REG_LABELS: Record<RegistrationState, string> = {
  'signed-out': 'Signed out',
  'signing-in': 'Signing in…',
  registering: 'Registering…',
  ready: 'Ready',
  offline: 'Offline — reconnecting',
  error: 'Error',
};

// ---- rendering ----

let last: PhoneSnapshot | undefined;
let notification: Notification | undefined;

function render(s: PhoneSnapshot): void {
  const prev = last;
  last = s;
  const signedIn = s.registration !== 'signed-out' && !(s.registration === 'error' && !phone.credentials);
  el.regStatus.dataset.state = s.registration;
  el.regStatus.textContent = REG_LABELS[s.registration];
  el.regStatus.title = s.message ?? '';
  el.signin.hidden = signedIn;
  el.phone.hidden = !signedIn;
  el.signOut.hidden = !signedIn;
  el.me.hidden = !signedIn;
  const myNumber = phone.credentials ? formatForDisplay(s.line ?? phone.credentials.twilioPhoneNumber, home()) : '';
  el.me.textContent = myNumber && s.identity ? `${myNumber} · ${s.identity}` : myNumber;
  el.signInButton.disabled = s.registration === 'signing-in';

  const errorText = s.registration === 'error' || s.registration === 'offline' ? (s.message ?? '') : '';
  el.signinError.hidden = !errorText || signedIn;
  el.signinError.textContent = errorText;
  if (prev?.registration !== s.registration || prev?.message !== s.message) {
    // During a call, the call's own status says what matters (e.g. "Reconnecting… The connection to the phone
    // service dropped"): the registration's news would only talk over it.
    const inCall = isActive(s.call);
    if (s.registration === 'ready' && prev?.registration !== 'ready') {
      if (!inCall) announce('Phone ready.');
    } else if (s.message && (s.registration === 'error' || (s.registration === 'offline' && !s.call.reconnecting))) announce(s.message);
  }
  if (signedIn && s.message && s.registration !== 'ready') el.callState.title = s.message;

  renderCall(s.call, prev?.call);
  renderFeedback(s.feedback, prev?.feedback);
  if (!micTestStream) el.level.value = s.inputVolume;
  followSession(s, prev);
  // "Test my setup" makes a test call and uses the microphone: not during a real call.
  if (isActive(s.call) && setupTest.state.running) setupTest.stop('Stopped: a call started.');
  if (!signedIn && setupTest.state.running) setupTest.stop();
  renderSetupButton();
}

/**
 * The voicemail inbox, Recent calls and the directory follow the session: they start with a token, load again when
 * the phone is ready again (after a sign-in or a recovery), and stop and forget everything on sign-out.
 */
let sessionToken = false;
function followSession(s: PhoneSnapshot, prev: PhoneSnapshot | undefined): void {
  const hasToken = phone.accessToken !== undefined;
  const readyAgain = s.registration === 'ready' && prev?.registration !== 'ready';
  const line = s.line ?? phone.credentials?.twilioPhoneNumber;
  if (hasToken) {
    // A new session starts everything; the phone ready again restarts what a refused request had stopped.
    const first = !sessionToken;
    sessionToken = true;
    if (first || (readyAgain && !recentCalls.polling)) recentCalls.start(line);
    if (first || (readyAgain && !inbox.polling)) {
      inbox.start();
      void loadDirectory();
    }
  } else if (sessionToken) {
    sessionToken = false;
    inbox.stop();
    recentCalls.stop();
    closePlayer();
    directory = undefined;
    renderDirectory();
  }
  // "Sign in again": the session is over, so is polling (the inbox stops on its own refused request).
  if (s.registration === 'error' && prev?.registration !== 'error') recentCalls.suspend(s.message ?? 'Sign in again.');
  renderTeamButtons();
}

function renderCall(c: CallState, prev: CallState | undefined): void {
  const active = isActive(c);
  el.callState.dataset.phase = c.phase;
  const reg = last?.registration;
  el.callState.textContent = reg && reg !== 'ready' && !active ? (last?.message ?? REG_LABELS[reg]) : callLabel(c);
  el.callNumber.textContent = c.number && c.phase !== 'idle' ? describeParty(c.number, home()) : '';
  renderTimer();
  el.incoming.hidden = c.phase !== 'incoming';
  el.incomingFrom.textContent = c.number !== undefined ? describeParty(c.number, home()) : '';
  el.incomingLine.textContent = c.line ? `On line ${formatForDisplay(c.line, home())}` : '';
  el.call.disabled = active || reg !== 'ready';
  el.hangup.disabled = !active || c.phase === 'incoming';
  el.mute.disabled = c.phase !== 'in-call';
  el.mute.textContent = c.muted ? 'Unmute' : 'Mute';
  el.mute.setAttribute('aria-pressed', String(c.muted));

  if (c.phase === 'incoming' && prev?.phase !== 'incoming') {
    ringtone.start();
    el.accept.focus();
    notifyIncoming([el.incomingFrom.textContent, el.incomingLine.textContent].filter(Boolean).join('\n'));
  } else if (c.phase !== 'incoming' && ringtone.playing) {
    ringtone.stop();
    notification?.close();
  }
  document.body.dataset.ringing = String(ringtone.playing);
  renderWarnings(c);
  if (prev && (prev.phase !== c.phase || prev.muted !== c.muted || prev.reconnecting !== c.reconnecting)) {
    const who = el.callNumber.textContent ? ` ${c.phase === 'incoming' ? 'from' : 'with'} ${el.callNumber.textContent}` : '';
    const line = c.phase === 'incoming' && el.incomingLine.textContent ? `, ${el.incomingLine.textContent.toLowerCase()}` : '';
    if (prev.reconnecting && !c.reconnecting && c.phase === 'in-call') announce('Call reconnected.');
    else if (c.reconnecting && !prev.reconnecting) announce(callLabel(c));
    else announce(`${callLabel(c)}${c.phase === 'incoming' || c.phase === 'in-call' ? who : ''}${line}`);
    if (c.phase === 'in-call' && prev.phase !== 'in-call') el.hangup.focus();
    if (c.phase === 'ended') {
      // A caller who got no answer may have left a message. (Recent calls ask the call log: Phone.onCallFinished.)
      if (prev.phase !== 'ended') void inbox.refresh();
      if (document.activeElement === document.body || (document.activeElement as HTMLButtonElement | null)?.disabled) el.dial.focus();
    }
  }
}

/** The call's quality problems, listed in plain words while they last; each is announced when it starts and ends. */
function renderWarnings(c: CallState): void {
  const sentences = warningSentences(c.warnings ?? []);
  el.callWarnings.hidden = sentences.length === 0;
  const shown = [...el.callWarnings.children].map((li) => li.textContent);
  if (shown.join('\n') !== sentences.join('\n')) {
    el.callWarnings.replaceChildren(
      ...sentences.map((text) => {
        const li = document.createElement('li');
        li.textContent = text;
        return li;
      }),
    );
  }
  const before = announcedWarnings;
  const now = new Set((c.warnings ?? []).filter(isListedWarning));
  announcedWarnings = now;
  if (!isActive(c)) return; // the end of the call says it all
  // By sentence: two warnings of one problem (the SDK's two packet-loss warnings) start and end it once.
  const said = new Set(warningSentences([...before]));
  const saying = new Set(sentences);
  const started = sentences.filter((text) => !said.has(text));
  const cleared = [...before].filter((w) => !now.has(w) && !saying.has(describeWarning(w).problem)).map((w) => describeWarning(w).cleared);
  const news = [...new Set([...started, ...cleared])];
  if (news.length > 0) announce(news.join(' '));
}
let announcedWarnings = new Set<string>();

// ---- rating the last call ----

el.ratingScores.replaceChildren(
  ...FEEDBACK_SCORES.map(({ score, label }) => {
    const option = document.createElement('label');
    option.className = 'score';
    const input = document.createElement('input');
    input.type = 'radio';
    input.name = 'score';
    input.value = String(score);
    const number = document.createElement('span');
    number.className = 'score-number';
    number.textContent = String(score);
    const word = document.createElement('span');
    word.className = 'score-word';
    word.textContent = label;
    option.append(input, number, ' ', word);
    return option;
  }),
);
el.ratingIssue.append(...FEEDBACK_ISSUES.map(({ issue, label }) => new Option(label, issue)));

function renderFeedback(f: FeedbackState, prev: FeedbackState | undefined): void {
  const asking = f.status === 'ask' || f.status === 'sending' || f.status === 'failed';
  if (asking && !(prev && (prev.status === 'ask' || prev.status === 'sending' || prev.status === 'failed'))) {
    el.rating.reset();
    el.ratingError.hidden = true;
  }
  el.rating.hidden = !asking;
  el.ratingSend.disabled = f.status === 'sending';
  el.ratingSkip.disabled = f.status === 'sending';
  el.ratingThanks.hidden = f.status !== 'sent';
  if (f.status === 'failed' && prev?.status !== 'failed') {
    el.ratingError.hidden = false;
    el.ratingError.textContent = `Your rating could not be sent: ${f.error ?? 'unknown error'}. Try again, or choose No thanks.`;
  }
  if (f.status === 'sent' && prev?.status !== 'sent') {
    announce('Thanks: your rating was sent.');
    if (document.activeElement === document.body || el.rating.contains(document.activeElement)) el.dial.focus();
  }
}

el.rating.addEventListener('submit', (e) => {
  e.preventDefault();
  const data = new FormData(el.rating);
  const score = Number(data.get('score'));
  const issue = el.ratingIssue.value;
  if (!isFeedbackScore(score)) {
    el.ratingError.hidden = false;
    el.ratingError.textContent = 'Pick a rating from 1 to 5, or choose No thanks.';
    el.ratingScores.querySelector<HTMLInputElement>('input')?.focus();
    return;
  }
  el.ratingError.hidden = true;
  void phone.sendFeedback(score, isFeedbackIssue(issue) ? issue : undefined);
});
el.ratingSkip.addEventListener('click', () => {
  const focused = el.rating.contains(document.activeElement);
  phone.declineFeedback();
  if (focused) el.dial.focus();
});

function renderTimer(): void {
  const c = last?.call;
  if (!c?.connectedAt) {
    el.callTimer.textContent = '';
    return;
  }
  const secs = connectedSeconds(c, Date.now());
  el.callTimer.textContent = formatDuration(secs);
  el.callTimer.dateTime = `PT${secs}S`;
}
window.setInterval(renderTimer, 500);

function notifyIncoming(from: string): void {
  if (!document.hidden || typeof Notification === 'undefined' || Notification.permission !== 'granted') return;
  notification = new Notification('Incoming call', { body: from, tag: 'softphone-incoming', requireInteraction: true });
  notification.onclick = () => {
    window.focus();
    el.accept.focus();
  };
}

/** What "Call back" does: dials the number (through the dial field, as if typed) or calls the teammate. */
function callBack(target: { teammate: string } | { number: string }): void {
  if ('teammate' in target) {
    void phone.callTeammate(target.teammate);
    return;
  }
  el.dial.value = formatForDisplay(target.number, home());
  void startCall();
}

/** "Call back" for a party (a voicemail's caller). */
function callBackButton(party: string, shown: string): HTMLButtonElement {
  const back = document.createElement('button');
  back.type = 'button';
  back.textContent = 'Call back';
  back.setAttribute('aria-label', `Call back ${shown}`);
  const target = callBackTarget(party);
  back.disabled = !target;
  back.addEventListener('click', () => {
    if (target) callBack(target);
  });
  return back;
}

// ---- recent calls ----

/** The unheard voicemails and the unseen missed calls, in the tab's title. */
function renderTitle(): void {
  const count = inbox.state.unheard + recentCalls.state.unseenMissed;
  document.title = count > 0 ? `(${count}) Softphone` : 'Softphone';
}

const DIRECTION_ICONS = { incoming: '↙', outgoing: '↗', internal: '⇄', missed: '↙' } as const;
/** The list's items by call SID, updated in place so that a poll never moves the focus; and the calls they show. */
const recentItems = new Map<string, HTMLLIElement>();
const recentShown = new Map<string, LoggedCall>();
let lastRecentError: string | undefined;

const shortTime = (at: string | number) => new Date(at).toLocaleString([], { dateStyle: 'short', timeStyle: 'short' });

function recentNote(s: RecentCallsSnapshot): string | undefined {
  const asOf = s.loadedAt !== undefined ? ` as of ${shortTime(s.loadedAt)}` : '';
  if (s.status === 'error') {
    const shown = s.calls.length > 0 ? ` The calls shown are${asOf} and may be out of date.` : '';
    return `Recent calls could not be loaded: ${s.error ?? 'unknown error'}${shown}`;
  }
  if (s.fromCache && s.calls.length > 0) return `Showing the calls saved on this device${asOf}: they may be out of date. Checking for new calls…`;
  return undefined;
}

function renderRecentCalls(s: RecentCallsSnapshot): void {
  el.recentBadge.hidden = s.unseenMissed === 0;
  el.recentBadgeCount.textContent = String(s.unseenMissed);
  renderTitle();
  el.recentRefresh.disabled = s.status === 'off';
  const status =
    s.status === 'off'
      ? 'Not loaded yet.'
      : s.calls.length > 0
        ? ''
        : s.status === 'loading'
          ? 'Loading recent calls…'
          : s.status === 'ready'
            ? 'No calls yet.'
            : '';
  el.recentStatus.hidden = !status;
  el.recentStatus.textContent = status;
  const note = recentNote(s);
  el.recentNote.hidden = !note;
  el.recentNote.textContent = note ?? '';
  el.recentNote.dataset.kind = s.status === 'error' ? 'error' : 'stale';
  const error = s.status === 'error' ? `Recent calls could not be loaded: ${s.error ?? 'unknown error'}` : undefined;
  if (error && error !== lastRecentError) announce(error);
  lastRecentError = error;

  const me = phone.state.identity;
  const ids = new Set(s.calls.map((c) => c.callSid));
  for (const [sid, li] of recentItems) {
    if (!ids.has(sid)) {
      li.remove();
      recentItems.delete(sid);
      recentShown.delete(sid);
    }
  }
  s.calls.forEach((call, i) => {
    let li = recentItems.get(call.callSid);
    if (!li) {
      li = createRecentItem(call.callSid);
      recentItems.set(call.callSid, li);
    }
    recentShown.set(call.callSid, call);
    updateRecentItem(li, call, me, s.seenUntil);
    if (el.recentList.children[i] !== li) el.recentList.insertBefore(li, el.recentList.children[i] ?? null);
  });
  el.recentMore.hidden = !s.more;
  watchNewest();
  noteUnseen(s.unseenMissed);
  considerSeen();
}

function createRecentItem(callSid: string): HTMLLIElement {
  const li = document.createElement('li');
  li.dataset.callSid = callSid;
  const dir = document.createElement('span');
  dir.className = 'dir';
  dir.setAttribute('role', 'img');
  const party = document.createElement('span');
  party.className = 'party';
  const num = document.createElement('span');
  num.className = 'num';
  const fresh = document.createElement('span');
  fresh.className = 'recent-new';
  fresh.textContent = 'New';
  party.append(num, fresh);
  const when = document.createElement('span');
  when.className = 'when';
  const time = document.createElement('time');
  const detail = document.createElement('span');
  detail.className = 'detail';
  when.append(time, detail);
  const back = document.createElement('button');
  back.type = 'button';
  back.className = 'recent-back';
  back.textContent = 'Call back';
  back.addEventListener('click', () => {
    const call = recentShown.get(callSid);
    const target = call ? describeCall(call, phone.state.identity, home()).callBack : undefined;
    if (target) callBack(target);
  });
  li.append(dir, party, when, back);
  return li;
}

function updateRecentItem(li: HTMLLIElement, call: LoggedCall, me: string | undefined, seenUntil: string | undefined): void {
  const entry = describeCall(call, me, home());
  const unseen = isUnseenMissed(call, seenUntil);
  li.dataset.direction = call.direction;
  li.dataset.outcome = call.outcome;
  li.dataset.missed = String(entry.kind === 'missed');
  li.dataset.unseen = String(unseen);
  const dir = li.querySelector<HTMLElement>('.dir')!;
  dir.dataset.kind = entry.kind;
  dir.textContent = DIRECTION_ICONS[entry.kind];
  dir.setAttribute('aria-label', entry.kindLabel);
  li.querySelector('.num')!.textContent = entry.party;
  li.querySelector<HTMLElement>('.recent-new')!.hidden = !unseen;
  const time = li.querySelector('time')!;
  time.dateTime = call.startedAt;
  time.textContent = shortTime(call.startedAt);
  const duration = call.durationSeconds ? formatDuration(call.durationSeconds) : '';
  li.querySelector('.detail')!.textContent = [duration, entry.summary]
    .filter(Boolean)
    .map((t) => ` · ${t}`)
    .join('');
  const back = li.querySelector<HTMLButtonElement>('.recent-back')!;
  back.disabled = !entry.callBack;
  back.setAttribute('aria-label', `Call back ${entry.party}`);
}

el.recentMore.addEventListener('click', () => {
  void recentCalls.loadMore().then(
    (added) => {
      announce(added === 0 ? 'No older calls.' : `${added} older ${added === 1 ? 'call' : 'calls'} shown.`);
      // The button goes once there is nothing more: keep the focus in the list.
      const focus = document.activeElement;
      if (el.recentMore.hidden && (focus === el.recentMore || focus === document.body || focus === null)) {
        (el.recentList.lastElementChild?.querySelector<HTMLButtonElement>('button') ?? el.recentRefresh).focus();
      }
    },
    (err) => announce(`Older calls could not be loaded: ${voicemailError(err)}`),
  );
});

el.recentRefresh.addEventListener('click', () => {
  if (!recentCalls.polling && phone.accessToken) recentCalls.start(phone.state.line ?? phone.credentials?.twilioPhoneNumber);
  else void recentCalls.refresh();
});

/*
 * Seen: the badge counts the missed calls this device has not seen, until the user looks at the list: its newest
 * call is on screen (or the focus is in the list) while the page is visible, the user has been active on the page
 * since those calls came in (a tab left open in an empty office sees nothing), for a moment.
 */
const SEEN_AFTER_MS = 1000;
let newestInView = false;
let observedNewest: Element | undefined;
let lastActivity = 0;
let unseenSince = 0;
let lastUnseen = 0;
let seenTimer: number | undefined;

const newestObserver =
  typeof IntersectionObserver === 'undefined'
    ? undefined
    : new IntersectionObserver(
        (entries) => {
          for (const e of entries) if (e.target === observedNewest) newestInView = e.isIntersecting && e.intersectionRatio >= 0.75;
          considerSeen();
        },
        { threshold: [0, 0.75, 1] },
      );

function watchNewest(): void {
  const first = el.recentList.firstElementChild ?? undefined;
  if (first === observedNewest) return;
  if (observedNewest) newestObserver?.unobserve(observedNewest);
  observedNewest = first;
  newestInView = false;
  if (first) newestObserver?.observe(first);
}

function noteUnseen(count: number): void {
  if (count > lastUnseen) unseenSince = Date.now();
  lastUnseen = count;
}

function lookingAtRecent(): boolean {
  const inView = newestInView || el.recent.contains(document.activeElement);
  return document.visibilityState !== 'hidden' && inView && lastActivity >= unseenSince;
}

function considerSeen(): void {
  const s = recentCalls.state;
  if (s.status !== 'ready' || s.unseenMissed === 0 || !lookingAtRecent()) {
    window.clearTimeout(seenTimer);
    seenTimer = undefined;
    return;
  }
  if (seenTimer !== undefined) return;
  seenTimer = window.setTimeout(() => {
    seenTimer = undefined;
    if (lookingAtRecent()) void recentCalls.markSeen().catch(() => undefined);
  }, SEEN_AFTER_MS);
}

const active = () => {
  lastActivity = Date.now();
  considerSeen();
};
for (const type of ['pointerdown', 'pointermove', 'keydown', 'wheel', 'touchstart'] as const) {
  document.addEventListener(type, active, { capture: true, passive: true });
}
el.recent.addEventListener('focusin', active);

// ---- voicemail ----

/** The list's items by voicemail id, updated in place so that a poll never moves the focus. */
const vmItems = new Map<string, HTMLLIElement>();
let lastVmError: string | undefined;
let playingId: string | undefined;

function voicemailTitle(v: Voicemail): string {
  return `${describeParty(v.from, home())}, ${new Date(v.receivedAt).toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' })}`;
}

function renderInbox(s: InboxSnapshot, arrived: readonly Voicemail[]): void {
  el.vmBadge.hidden = s.unheard === 0;
  el.vmBadgeCount.textContent = String(s.unheard);
  renderTitle();
  el.vmRefresh.disabled = s.status === 'off';
  el.vmStatus.textContent =
    s.status === 'off'
      ? 'Not loaded yet.'
      : s.status === 'loading'
        ? 'Loading voicemail…'
        : s.voicemails.length === 0
          ? 'No voicemail.'
          : `${s.voicemails.length} ${s.voicemails.length === 1 ? 'message' : 'messages'}, ${s.unheard} unheard.`;
  const error = s.status === 'error' ? `Voicemail could not be loaded: ${s.error ?? 'unknown error'}` : undefined;
  el.vmError.hidden = !error;
  el.vmError.textContent = error ?? '';
  if (error && error !== lastVmError) announce(error);
  lastVmError = error;
  if (arrived.length === 1) announce(`New voicemail from ${describeParty(arrived[0].from, home())}.`);
  else if (arrived.length > 1) announce(`${arrived.length} new voicemails.`);

  const ids = new Set(s.voicemails.map((v) => v.id));
  for (const [id, li] of vmItems) {
    if (!ids.has(id)) {
      li.remove();
      vmItems.delete(id);
    }
  }
  s.voicemails.forEach((v, i) => {
    let li = vmItems.get(v.id);
    if (!li) {
      li = createVoicemailItem(v);
      vmItems.set(v.id, li);
    }
    updateVoicemailItem(li, v);
    if (el.vmList.children[i] !== li) el.vmList.insertBefore(li, el.vmList.children[i] ?? null);
  });
  if (playingId && !ids.has(playingId)) closePlayer();
}

function createVoicemailItem(v: Voicemail): HTMLLIElement {
  const li = document.createElement('li');
  li.dataset.id = v.id;
  const from = document.createElement('span');
  from.className = 'vm-from';
  const badge = document.createElement('span');
  badge.className = 'vm-new';
  badge.textContent = 'New';
  const meta = document.createElement('span');
  meta.className = 'vm-meta';
  const time = document.createElement('time');
  const duration = document.createElement('span');
  duration.className = 'vm-duration';
  meta.append(time, ' · ', duration);
  const actions = document.createElement('div');
  actions.className = 'vm-actions';
  const shown = describeParty(v.from, home());
  const title = voicemailTitle(v);
  const button = (text: string, label: string, cls: string, onClick: (b: HTMLButtonElement) => void) => {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = cls;
    b.textContent = text;
    b.setAttribute('aria-label', label);
    b.addEventListener('click', () => onClick(b));
    return b;
  };
  const play = button('Play', `Play voicemail from ${title}`, 'vm-play', () => void playVoicemail(v.id));
  const heard = button('Mark heard', `Mark voicemail from ${title} as heard`, 'vm-heard', () => void markHeard(v.id));
  const back = callBackButton(v.from, shown);
  back.classList.add('vm-back');
  const del = button('Delete', `Delete voicemail from ${title}`, 'vm-delete', (b) => confirmDelete(v, b));
  actions.append(play, heard, back, del);
  li.append(from, badge, meta, actions);
  return li;
}

function updateVoicemailItem(li: HTMLLIElement, v: Voicemail): void {
  li.dataset.heard = String(v.heard);
  li.querySelector('.vm-from')!.textContent = describeParty(v.from, home());
  (li.querySelector('.vm-new') as HTMLElement).hidden = v.heard;
  const time = li.querySelector('time')!;
  time.dateTime = v.receivedAt;
  time.textContent = new Date(v.receivedAt).toLocaleString([], { dateStyle: 'short', timeStyle: 'short' });
  const duration = li.querySelector('.vm-duration')!;
  duration.textContent = formatDuration(v.durationSeconds);
  duration.setAttribute('aria-label', `${v.durationSeconds} seconds`);
  const heard = li.querySelector<HTMLButtonElement>('.vm-heard')!;
  heard.disabled = v.heard;
  heard.textContent = v.heard ? 'Heard' : 'Mark heard';
}

function voicemailError(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

async function playVoicemail(id: string): Promise<void> {
  const v = inbox.state.voicemails.find((x) => x.id === id);
  if (!v) return;
  let url: string;
  try {
    ({ url } = await inbox.playback(id));
  } catch (err) {
    announce(`The voicemail cannot be played: ${voicemailError(err)}`);
    return;
  }
  playingId = id;
  el.vmPlayer.hidden = false;
  el.vmNow.textContent = `Voicemail from ${voicemailTitle(v)}`;
  el.vmAudio.src = url;
  el.vmAudio.dataset.id = id;
  try {
    await el.vmAudio.play();
  } catch (err) {
    // Blocked or not playable: the controls stay, so the user can press play there.
    if ((err as Error)?.name !== 'AbortError') announce('The voicemail did not start playing. Use the player controls to play it.');
  }
}

// Played: heard. (The manual button is for messages heard some other way.)
el.vmAudio.addEventListener('playing', () => {
  if (playingId) void markHeard(playingId, true);
});
el.vmAudio.addEventListener('error', () => {
  if (playingId) announce('The voicemail could not be loaded. Press Play again to retry.');
});

function closePlayer(): void {
  playingId = undefined;
  el.vmAudio.pause();
  el.vmAudio.removeAttribute('src');
  delete el.vmAudio.dataset.id;
  el.vmAudio.load();
  el.vmPlayer.hidden = true;
  el.vmNow.textContent = '';
}

async function markHeard(id: string, quiet = false): Promise<void> {
  const v = inbox.state.voicemails.find((x) => x.id === id);
  if (!v || v.heard) return;
  try {
    await inbox.markHeard(id);
    if (!quiet) announce('Marked as heard.');
  } catch (err) {
    announce(`Could not mark it as heard: ${voicemailError(err)}`);
  }
}

let pendingDelete: { voicemail: Voicemail; opener: HTMLButtonElement } | undefined;

function confirmDelete(v: Voicemail, opener: HTMLButtonElement): void {
  pendingDelete = { voicemail: v, opener };
  el.vmConfirmText.textContent = `Delete the voicemail from ${voicemailTitle(v)}? It cannot be recovered.`;
  el.vmConfirm.showModal();
  el.vmConfirmCancel.focus();
}

el.vmConfirmCancel.addEventListener('click', () => el.vmConfirm.close('cancel'));
el.vmConfirmDelete.addEventListener('click', () => el.vmConfirm.close('delete'));
el.vmConfirm.addEventListener('close', () => {
  const pending = pendingDelete;
  pendingDelete = undefined;
  if (!pending) return;
  if (el.vmConfirm.returnValue !== 'delete') {
    pending.opener.focus();
    return;
  }
  el.vmConfirm.returnValue = '';
  void deleteVoicemail(pending.voicemail, pending.opener);
});

async function deleteVoicemail(v: Voicemail, opener: HTMLButtonElement): Promise<void> {
  // Focus goes to the next message (or the previous, or the panel) once this one is gone.
  const li = opener.closest('li');
  const neighbour = (li?.nextElementSibling ?? li?.previousElementSibling) as HTMLElement | null;
  try {
    await inbox.delete(v.id);
  } catch (err) {
    announce(`Could not delete the voicemail: ${voicemailError(err)}`);
    opener.focus();
    return;
  }
  announce(`Voicemail from ${describeParty(v.from, home())} deleted.`);
  (neighbour?.querySelector<HTMLButtonElement>('.vm-play') ?? el.vmRefresh).focus();
}

el.vmRefresh.addEventListener('click', () => {
  if (!inbox.polling && phone.accessToken) inbox.start();
  else void inbox.refresh();
});

document.addEventListener('visibilitychange', () => {
  const visible = document.visibilityState !== 'hidden';
  inbox.setVisible(visible);
  recentCalls.setVisible(visible);
  considerSeen();
  if (visible && phone.accessToken) void loadDirectory();
});

// ---- team directory ----

let directory: Directory | undefined;
let directoryLoad = 0;

async function loadDirectory(): Promise<void> {
  const load = ++directoryLoad;
  try {
    const d = await directoryClient.load();
    if (load !== directoryLoad || !phone.accessToken) return;
    directory = d;
    el.teamError.hidden = true;
    el.teamError.textContent = '';
  } catch (err) {
    if (load !== directoryLoad || !phone.accessToken) return;
    const message = `The team could not be loaded: ${voicemailError(err)}`;
    if (el.teamError.textContent !== message) announce(message);
    el.teamError.hidden = false;
    el.teamError.textContent = message;
  }
  renderDirectory();
}

function renderDirectory(): void {
  if (!directory) {
    el.teamLine.textContent = '';
    el.teamStatus.replaceChildren();
    el.teamList.replaceChildren();
    el.teamEmpty.hidden = true;
    if (!phone.accessToken) {
      el.teamError.hidden = true;
      el.teamError.textContent = '';
    }
    return;
  }
  const d = directory;
  el.teamLine.textContent = formatForDisplay(d.line.number, home());
  el.teamStatus.replaceChildren(
    ...lineStatus(d.line).map((text) => {
      const li = document.createElement('li');
      li.textContent = text;
      return li;
    }),
  );
  const mates = teammates(d);
  el.teamEmpty.hidden = mates.length > 0;
  el.teamList.replaceChildren(
    ...mates.map((m) => {
      const li = document.createElement('li');
      li.dataset.client = m.clientName;
      const name = document.createElement('span');
      name.className = 'team-name';
      name.textContent = m.clientName;
      li.append(name);
      if (m.label) {
        const label = document.createElement('span');
        label.className = 'team-label';
        label.textContent = m.label;
        li.append(label);
      }
      const call = document.createElement('button');
      call.type = 'button';
      call.className = 'call';
      call.textContent = 'Call';
      call.setAttribute('aria-label', `Call ${memberName(m)}`);
      call.addEventListener('click', () => void phone.callTeammate(m.clientName));
      li.append(call);
      return li;
    }),
  );
  renderTeamButtons();
}

/** A teammate can be called when the phone is ready and not in a call. */
function renderTeamButtons(): void {
  const canCall = last?.registration === 'ready' && !isActive(phone.state.call);
  for (const b of el.teamList.querySelectorAll<HTMLButtonElement>('button.call')) b.disabled = !canCall;
}

// ---- input ----

function setDial(value: string): void {
  el.dial.value = formatAsYouType(value, home());
}

el.dial.addEventListener('input', () => {
  const atEnd = el.dial.selectionStart === el.dial.value.length;
  if (atEnd) setDial(el.dial.value);
});
el.dial.addEventListener('blur', () => setDial(el.dial.value));

function pressKey(key: string): void {
  if (phone.state.call.phase === 'in-call') {
    phone.sendDigits(key);
    announce(`Sent ${key}`);
    return;
  }
  setDial(dialChars(el.dial.value) + key);
}

el.pad.addEventListener('click', (e) => {
  const key = (e.target as HTMLElement).closest<HTMLButtonElement>('button[data-key]')?.dataset.key;
  if (key) pressKey(key);
});
// Long-press 0 gives "+", like a phone.
let zeroTimer: number | undefined;
el.pad.querySelector<HTMLButtonElement>('[data-key="0"]')?.addEventListener('pointerdown', () => {
  zeroTimer = window.setTimeout(() => {
    zeroTimer = undefined;
    if (!dialChars(el.dial.value)) setDial('+');
  }, 600);
});
el.pad.addEventListener('pointerup', () => window.clearTimeout(zeroTimer));

// DTMF from the keyboard during a call, wherever focus is (except text fields).
document.addEventListener('keydown', (e) => {
  if (phone.state.call.phase !== 'in-call' || e.ctrlKey || e.metaKey || e.altKey) return;
  if (!/^[0-9*#]$/.test(e.key) || (e.target instanceof HTMLInputElement && e.target !== el.dial)) return;
  e.preventDefault();
  pressKey(e.key);
});

el.backspace.addEventListener('click', () => {
  setDial(dialChars(el.dial.value).slice(0, -1));
  el.dial.focus();
});

async function startCall(): Promise<void> {
  // Refused deliberately before dialling: this phone has no registered emergency address (lambda/core/emergency.ts).
  if (isEmergencyNumber(el.dial.value, home())) {
    announce(EMERGENCY_REFUSAL);
    el.callState.textContent = EMERGENCY_REFUSAL;
    return;
  }
  const number = toE164(el.dial.value, home());
  if (!number) {
    announce('Enter a complete phone number to call.');
    el.callState.textContent = 'Enter a complete phone number to call.';
    el.dial.focus();
    return;
  }
  await phone.dial(number);
}

el.dialForm.addEventListener('submit', (e) => {
  e.preventDefault();
  void startCall();
});
el.hangup.addEventListener('click', () => phone.hangUp());
el.mute.addEventListener('click', () => phone.toggleMute());
el.accept.addEventListener('click', () => phone.accept());
el.reject.addEventListener('click', () => phone.reject());
document.addEventListener('keydown', (e) => {
  // (Escape in the delete confirmation only closes it.)
  if (e.key === 'Escape' && phone.state.call.phase === 'incoming' && !el.vmConfirm.open) phone.reject();
});

// ---- sign in / out ----

async function signIn(creds: Credentials, remember: boolean): Promise<void> {
  el.signinError.hidden = true;
  if (typeof Notification !== 'undefined' && Notification.permission === 'default') {
    void Notification.requestPermission().catch(() => undefined);
  }
  getAudioContext(); // created inside the user's gesture so the ringtone may play later
  const ok = await phone.signIn(creds);
  if (ok || phone.credentials) {
    if (remember) saveCredentials(storage, creds);
    else forgetCredentials(storage);
    void listDevices();
    el.dial.focus();
  } else {
    el.secret.focus();
    el.secret.select();
  }
}

el.signinForm.addEventListener('submit', (e) => {
  e.preventDefault();
  const number = el.myNumber.value.trim();
  const secret = el.secret.value;
  if (!number || !secret) {
    el.signinError.hidden = false;
    el.signinError.textContent = !number ? 'Enter your Twilio number.' : 'Enter the device secret.';
    (!number ? el.myNumber : el.secret).focus();
    return;
  }
  void signIn({ twilioPhoneNumber: toE164(number) ?? number, deviceSecret: secret }, el.remember.checked);
});

el.signOut.addEventListener('click', () => {
  forgetCredentials(storage);
  // The line's calls are not left behind in this browser either (stopped first: no answer may save them again).
  recentCalls.stop();
  recentCache.clear();
  el.secret.value = '';
  el.remember.checked = false;
  void phone.signOut().then(() => {
    announce('Signed out.');
    el.myNumber.focus();
  });
});

window.addEventListener('online', () => phone.networkOnline());
window.addEventListener('offline', () => phone.networkOffline());

// ---- audio devices and level meter ----

async function listDevices(): Promise<void> {
  if (!navigator.mediaDevices?.enumerateDevices) return;
  const devices = await navigator.mediaDevices.enumerateDevices().catch(() => []);
  const fill = (select: HTMLSelectElement, kind: MediaDeviceKind, fallback: string) => {
    const current = select.value;
    const options = devices.filter((d) => d.kind === kind).map((d, i) => new Option(d.label || `${fallback} ${i + 1}`, d.deviceId));
    select.replaceChildren(...(options.length ? options : [new Option(`Default ${fallback.toLowerCase()}`, 'default')]));
    if (current && options.some((o) => o.value === current)) select.value = current;
  };
  fill(el.mic, 'audioinput', 'Microphone');
  fill(el.speaker, 'audiooutput', 'Speaker');
  el.speaker.disabled = phone.audio?.outputSelectionSupported === false;
}
navigator.mediaDevices?.addEventListener?.('devicechange', () => void listDevices());

el.mic.addEventListener('change', () => {
  void phone.audio?.setInputDevice(el.mic.value).catch(() => announce('Could not switch microphone.'));
  if (micTestStream) void toggleMicTest().then(toggleMicTest);
});
el.speaker.addEventListener('change', () => {
  void phone.audio?.setOutputDevice(el.speaker.value).catch(() => announce('Could not switch speaker.'));
});

let micTestStream: MediaStream | undefined;
let micTestFrame = 0;
async function toggleMicTest(): Promise<void> {
  if (micTestStream) {
    for (const track of micTestStream.getTracks()) track.stop();
    micTestStream = undefined;
    cancelAnimationFrame(micTestFrame);
    el.level.value = 0;
    el.micTest.setAttribute('aria-pressed', 'false');
    return;
  }
  try {
    const deviceId = el.mic.value && el.mic.value !== 'default' ? { exact: el.mic.value } : undefined;
    micTestStream = await navigator.mediaDevices.getUserMedia({ audio: deviceId ? { deviceId } : true });
  } catch {
    announce('Your browser is blocking the microphone. Allow microphone access for this page, then try again.');
    return;
  }
  el.micTest.setAttribute('aria-pressed', 'true');
  void listDevices(); // labels become available after permission
  const ctx = getAudioContext();
  if (!ctx) return;
  const analyser = ctx.createAnalyser();
  analyser.fftSize = 512;
  ctx.createMediaStreamSource(micTestStream).connect(analyser);
  const data = new Uint8Array(analyser.fftSize);
  const tick = () => {
    analyser.getByteTimeDomainData(data);
    let peak = 0;
    for (const v of data) peak = Math.max(peak, Math.abs(v - 128) / 128);
    el.level.value = Math.min(1, peak * 1.5);
    micTestFrame = requestAnimationFrame(tick);
  };
  tick();
}
el.micTest.addEventListener('click', () => void toggleMicTest());

// ---- Test my setup ----

const STEP_NAMES: Record<SetupStepId, string> = { microphone: 'Microphone', speaker: 'Speaker', network: 'Connection' };

/** Listens to the chosen microphone for up to 4 s: has it picked up anything louder than silence? */
async function listenToMicrophone(): Promise<{ heard: boolean }> {
  if (micTestStream) await toggleMicTest(); // the meter's own test lets go of the microphone first
  const deviceId = el.mic.value && el.mic.value !== 'default' ? { exact: el.mic.value } : undefined;
  const stream = await navigator.mediaDevices.getUserMedia({ audio: deviceId ? { deviceId } : true });
  void listDevices(); // labels become available after permission
  const ctx = getAudioContext();
  try {
    if (!ctx) return { heard: stream.getAudioTracks().some((t) => t.readyState === 'live') };
    await ctx.resume().catch(() => undefined);
    const analyser = ctx.createAnalyser();
    // The longest window the analyser has (~0.7 s): polled every 100 ms, no sound between two polls is missed,
    // however late a busy machine runs the timer.
    analyser.fftSize = 32768;
    const source = ctx.createMediaStreamSource(stream);
    source.connect(analyser);
    const data = new Float32Array(analyser.fftSize);
    const until = Date.now() + 4000;
    let peak = 0;
    try {
      while (Date.now() < until && peak < 0.02) {
        await new Promise((r) => window.setTimeout(r, 100));
        analyser.getFloatTimeDomainData(data);
        for (const v of data) peak = Math.max(peak, Math.abs(v));
        el.level.value = Math.min(1, peak * 1.5);
      }
    } finally {
      source.disconnect();
      el.level.value = 0;
    }
    return { heard: peak >= 0.02 };
  } finally {
    for (const track of stream.getTracks()) track.stop();
  }
}

let testSoundUrl: string | undefined;
let testSound: HTMLAudioElement | undefined;

/** Plays the three beeps on the speaker chosen in Audio settings. */
async function playTestSound(): Promise<void> {
  testSoundUrl ??= URL.createObjectURL(new Blob([testSoundWav()], { type: 'audio/wav' }));
  testSound?.pause();
  const audio = new Audio(testSoundUrl);
  testSound = audio;
  const sinkId = el.speaker.value;
  const withSink = audio as HTMLAudioElement & { setSinkId?: (id: string) => Promise<void> };
  if (sinkId && sinkId !== 'default' && !el.speaker.disabled && withSink.setSinkId) {
    // The chosen speaker, if the browser lets the page pick one; else the default one plays it.
    await withSink.setSinkId(sinkId).catch(() => undefined);
  }
  await audio.play();
}

async function fetchPreflightToken(): Promise<string> {
  const creds = phone.credentials;
  if (!creds) throw new Error('Sign in first.');
  const grant = await fetchToken(apiBaseUrl, creds, (url, init) => fetch(url, init), { clientName: phone.state.identity, purpose: 'preflight' });
  return grant.token;
}

const setupTest = new SetupTest({
  listenToMicrophone,
  playTestSound,
  fetchPreflightToken,
  runPreflight: (token) => runVoicePreflight(token, { edge: firstEdge(edge) }),
});

let lastSetup: SetupSnapshot | undefined;

function renderSetup(s: SetupSnapshot): void {
  const prev = lastSetup;
  lastSetup = s;
  renderSetupButton();
  for (const id of SETUP_STEPS) {
    const step = s.steps[id];
    const li = el.setupSteps.querySelector<HTMLElement>(`[data-step="${id}"]`)!;
    li.dataset.status = step.status;
    li.querySelector('.setup-message')!.textContent = step.message;
    const details = li.querySelector<HTMLDListElement>('.setup-details');
    if (details) {
      details.hidden = !step.details?.length;
      details.replaceChildren(
        ...(step.details ?? []).flatMap(({ label, value }) => {
          const dt = document.createElement('dt');
          dt.textContent = label;
          const dd = document.createElement('dd');
          dd.textContent = value;
          return [dt, dd];
        }),
      );
    }
    const before = prev?.steps[id];
    const settled = step.status !== 'waiting' && step.status !== 'running';
    if (settled && (before?.status !== step.status || before?.message !== step.message)) announceTogether(`${STEP_NAMES[id]}: ${step.message}`);
  }
  const asking = s.steps.speaker.status === 'asking';
  el.setupHeard.closest<HTMLElement>('.setup-ask')!.hidden = !asking;
  if (asking && prev?.steps.speaker.status !== 'asking') el.setupHeard.focus();
  el.setupSummary.hidden = !s.summary;
  el.setupSummary.textContent = s.summary ?? '';
  if (s.summary && s.summary !== prev?.summary) announceTogether(s.summary);
  if (!s.running && prev?.running && el.setupSteps.contains(document.activeElement)) el.setupRun.focus();
}

function renderSetupButton(): void {
  const running = setupTest.state.running;
  el.setupRun.textContent = running ? 'Stop the test' : 'Test my setup';
  el.setupRun.disabled = !running && (isActive(phone.state.call) || !phone.credentials);
}

el.setupRun.addEventListener('click', () => {
  if (setupTest.state.running) {
    setupTest.stop();
    return;
  }
  // Inside the click: the browser lets the page's audio start.
  void getAudioContext()
    ?.resume()
    .catch(() => undefined);
  announce('Testing your setup: first the microphone. Say something…');
  void setupTest.start();
});
el.setupHeard.addEventListener('click', () => setupTest.answerSpeaker(true));
el.setupNotHeard.addEventListener('click', () => setupTest.answerSpeaker(false));
el.setupReplay.addEventListener('click', () => void setupTest.replaySound());

// ---- start ----

async function start(): Promise<void> {
  inbox.subscribe((s, change) => renderInbox(s, change.arrived));
  recentCalls.subscribe(renderRecentCalls);
  phone.subscribe(render);
  setupTest.subscribe(renderSetup);
  try {
    const res = await fetch('config.json', { cache: 'no-store' });
    const config = parseConfig(await res.json());
    apiBaseUrl = config.apiBaseUrl;
    edge = config.edge;
  } catch {
    el.signinError.hidden = false;
    el.signinError.textContent = 'This page is not configured: config.json with "apiBaseUrl" is missing.';
    el.signInButton.disabled = true;
    return;
  }
  const saved = loadCredentials(storage);
  if (saved) {
    el.myNumber.value = saved.twilioPhoneNumber;
    el.secret.value = saved.deviceSecret;
    el.remember.checked = true;
    void signIn(saved, true);
  } else {
    el.myNumber.focus();
  }
}

void start();
