/** DOM glue: renders the Phone controller's snapshots and forwards user input. Logic lives in the modules. */
import { callLabel, connectedSeconds, formatDuration, isActive, type CallState } from './call-state';
import { EMERGENCY_REFUSAL, isEmergencyNumber } from '../../lambda/core/emergency';
import { countryFromLocale, countryOf, dialChars, formatAsYouType, formatForDisplay, toE164 } from './phone-format';
import { Phone, type PhoneSnapshot, type RegistrationState } from './phone';
import { RecentCallsStore, forgetCredentials, loadCredentials, saveCredentials, type RecentCall } from './recent-calls';
import { createRingtone } from './tones';
import { fetchToken, type Credentials } from './token-client';
import { createVoiceDevice } from './voice/device';

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
  accept: $<HTMLButtonElement>('accept'),
  reject: $<HTMLButtonElement>('reject'),
  callState: $('call-state'),
  callNumber: $('call-number'),
  callTimer: $<HTMLTimeElement>('call-timer'),
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
  recentEmpty: $('recent-empty'),
  recentList: $('recent-list'),
  announcer: $('announcer'),
};

const storage = window.localStorage;
const recent = new RecentCallsStore(storage);
let apiBaseUrl = '';
let audioContext: AudioContext | undefined;
const getAudioContext = () => {
  if (!audioContext && typeof AudioContext !== 'undefined') audioContext = new AudioContext();
  return audioContext;
};
const ringtone = createRingtone(getAudioContext);

const phone = new Phone({
  fetchToken: (creds) => fetchToken(apiBaseUrl, creds, (url, init) => fetch(url, init)),
  createDevice: createVoiceDevice,
  recent,
});

const home = () => countryOf(phone.credentials?.twilioPhoneNumber ?? '') ?? countryFromLocale(navigator.language);

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
  el.me.textContent = phone.credentials ? formatForDisplay(phone.credentials.twilioPhoneNumber, home()) : '';
  el.signInButton.disabled = s.registration === 'signing-in';

  const errorText = s.registration === 'error' || s.registration === 'offline' ? (s.message ?? '') : '';
  el.signinError.hidden = !errorText || signedIn;
  el.signinError.textContent = errorText;
  if (prev?.registration !== s.registration || prev?.message !== s.message) {
    if (s.registration === 'ready' && prev?.registration !== 'ready') announce('Phone ready.');
    else if (s.message && (s.registration === 'error' || s.registration === 'offline')) announce(s.message);
  }
  if (signedIn && s.message && s.registration !== 'ready') el.callState.title = s.message;

  renderCall(s.call, prev?.call);
  if (!micTestStream) el.level.value = s.inputVolume;
}

function renderCall(c: CallState, prev: CallState | undefined): void {
  const active = isActive(c);
  el.callState.dataset.phase = c.phase;
  const reg = last?.registration;
  el.callState.textContent = reg && reg !== 'ready' && !active ? (last?.message ?? REG_LABELS[reg]) : callLabel(c);
  el.callNumber.textContent = c.number && c.phase !== 'idle' ? formatForDisplay(c.number, home()) : '';
  renderTimer();
  el.incoming.hidden = c.phase !== 'incoming';
  el.incomingFrom.textContent = c.number ? formatForDisplay(c.number, home()) : '';
  el.call.disabled = active || reg !== 'ready';
  el.hangup.disabled = !active || c.phase === 'incoming';
  el.mute.disabled = c.phase !== 'in-call';
  el.mute.textContent = c.muted ? 'Unmute' : 'Mute';
  el.mute.setAttribute('aria-pressed', String(c.muted));

  if (c.phase === 'incoming' && prev?.phase !== 'incoming') {
    ringtone.start();
    el.accept.focus();
    notifyIncoming(el.incomingFrom.textContent ?? '');
  } else if (c.phase !== 'incoming' && ringtone.playing) {
    ringtone.stop();
    notification?.close();
  }
  document.body.dataset.ringing = String(ringtone.playing);
  if (prev && (prev.phase !== c.phase || prev.muted !== c.muted || prev.reconnecting !== c.reconnecting)) {
    const who = el.callNumber.textContent ? ` ${c.phase === 'incoming' ? 'from' : 'with'} ${el.callNumber.textContent}` : '';
    announce(`${callLabel(c)}${c.phase === 'incoming' || c.phase === 'in-call' ? who : ''}`);
    if (c.phase === 'in-call' && prev.phase !== 'in-call') el.hangup.focus();
    if (c.phase === 'ended') {
      renderRecent(recent.list());
      if (document.activeElement === document.body || (document.activeElement as HTMLButtonElement | null)?.disabled) el.dial.focus();
    }
  }
}

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

const OUTCOME_TEXT: Record<RecentCall['outcome'], string> = {
  answered: '',
  missed: 'missed',
  rejected: 'rejected',
  failed: 'failed',
  unanswered: 'no answer',
};

function renderRecent(list: RecentCall[]): void {
  el.recentEmpty.hidden = list.length > 0;
  el.recentList.replaceChildren(
    ...list.map((r) => {
      const li = document.createElement('li');
      const dir = document.createElement('span');
      dir.className = 'dir';
      dir.dataset.outcome = r.outcome;
      dir.textContent = r.direction === 'incoming' ? '↙' : '↗';
      dir.setAttribute('aria-label', r.direction === 'incoming' ? 'Incoming' : 'Outgoing');
      dir.setAttribute('role', 'img');
      const num = document.createElement('span');
      num.className = 'num';
      const shown = formatForDisplay(r.number, home());
      num.textContent = shown;
      const when = document.createElement('span');
      when.className = 'when';
      const at = new Date(r.at);
      const detail = [at.toLocaleString([], { dateStyle: 'short', timeStyle: 'short' })];
      if (r.durationSeconds > 0) detail.push(formatDuration(r.durationSeconds));
      if (OUTCOME_TEXT[r.outcome]) detail.push(OUTCOME_TEXT[r.outcome]);
      when.textContent = detail.join(' · ');
      const back = document.createElement('button');
      back.type = 'button';
      back.textContent = 'Call back';
      back.setAttribute('aria-label', `Call back ${shown}`);
      back.addEventListener('click', () => {
        el.dial.value = shown;
        void startCall();
      });
      li.append(dir, num, when, back);
      return li;
    }),
  );
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
  if (e.key === 'Escape' && phone.state.call.phase === 'incoming') phone.reject();
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

// ---- start ----

async function start(): Promise<void> {
  phone.subscribe(render);
  renderRecent(recent.list());
  try {
    const res = await fetch('config.json', { cache: 'no-store' });
    const config = (await res.json()) as { apiBaseUrl?: unknown };
    if (typeof config.apiBaseUrl !== 'string' || !config.apiBaseUrl) throw new Error('apiBaseUrl missing');
    apiBaseUrl = config.apiBaseUrl;
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
