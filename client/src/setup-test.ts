/**
 * "Test my setup": the microphone (does it pick up sound?), the speaker (does the user hear a test sound?) and
 * the connection to Twilio (a Voice SDK preflight test: a short test call to the echo TwiML App that
 * `npm run twilio:setup` creates, with a 60-second token the token API issues for it). No DOM here: the page
 * gives the ways to listen and play (`SetupTestDeps`) and renders the snapshots; the verdicts are plain words.
 */
import { describeVoiceError } from './errors';
import type { PreflightReport, VoiceError, VoicePreflight } from './voice/types';

export type SetupStepId = 'microphone' | 'speaker' | 'network';
export const SETUP_STEPS: readonly SetupStepId[] = ['microphone', 'speaker', 'network'];

/** `asking`: the speaker step waits for the user to say whether they heard the sound. */
export type SetupStepStatus = 'waiting' | 'running' | 'asking' | 'passed' | 'warning' | 'failed';

export interface SetupDetail {
  label: string;
  value: string;
}

export interface SetupStep {
  status: SetupStepStatus;
  /** What is happening, or what was found, in a sentence. */
  message: string;
  /** The connection's figures (network type, round-trip time, jitter, MOS, edge), once measured. */
  details?: SetupDetail[];
}

export interface SetupSnapshot {
  running: boolean;
  steps: Record<SetupStepId, SetupStep>;
  /** The verdict once the test is over. */
  summary?: string;
}

export interface SetupTestDeps {
  /** Listens to the chosen microphone for a few seconds; resolves whether it picked up any sound. Throws when it cannot be opened. */
  listenToMicrophone(): Promise<{ heard: boolean }>;
  /** Plays the test sound on the chosen speaker; rejects when it cannot be played. */
  playTestSound(): Promise<void>;
  /** A preflight Access Token from the token API (`purpose: 'preflight'`); rejects with the API's reason. */
  fetchPreflightToken(): Promise<string>;
  runPreflight(token: string): VoicePreflight;
}

const WAITING: SetupStep = { status: 'waiting', message: 'Not tested yet.' };

export const SPEAKER_QUESTION = 'Playing a test sound: three short beeps. Did you hear them?';

// ---- the connection's figures in plain words ----

export type Rating = 'good' | 'fair' | 'poor';
const RANK: Record<Rating, number> = { good: 0, fair: 1, poor: 2 };
const worst = (ratings: Rating[]): Rating => ratings.reduce((a, b) => (RANK[b] > RANK[a] ? b : a), 'good');

/** Round-trip time (ms): Twilio warns above 400 ms; from 200 ms on, people start talking over each other. */
export function rateRtt(ms: number): Rating {
  return ms <= 200 ? 'good' : ms <= 400 ? 'fair' : 'poor';
}

/** Jitter (ms): Twilio warns above 30 ms. */
export function rateJitter(ms: number): Rating {
  return ms <= 20 ? 'good' : ms <= 30 ? 'fair' : 'poor';
}

/** MOS (1 to about 4.5): the SDK's own bands (PreflightTest.CallQuality). */
export function mosQuality(mos: number): NonNullable<PreflightReport['callQuality']> {
  return mos > 4.2 ? 'excellent' : mos >= 4.1 ? 'great' : mos >= 3.7 ? 'good' : mos >= 3.1 ? 'fair' : 'degraded';
}

const QUALITY_WORDS: Record<NonNullable<PreflightReport['callQuality']>, { word: string; rating: Rating }> = {
  excellent: { word: 'excellent', rating: 'good' },
  great: { word: 'great', rating: 'good' },
  good: { word: 'good', rating: 'good' },
  fair: { word: 'fair', rating: 'fair' },
  degraded: { word: 'poor', rating: 'poor' },
};

const RATING_WORDS: Record<Rating, string> = { good: 'good', fair: 'noticeable', poor: 'too high' };

const NETWORK_TYPES: Record<string, string> = {
  wifi: 'Wi-Fi',
  ethernet: 'wired (Ethernet)',
  cellular: 'mobile data',
  wimax: 'WiMAX',
  bluetooth: 'Bluetooth',
  vpn: 'VPN',
};

const EDGE_PLACES: Record<string, string> = {
  sydney: 'Sydney',
  'sao-paulo': 'São Paulo',
  dublin: 'Dublin',
  frankfurt: 'Frankfurt',
  tokyo: 'Tokyo',
  singapore: 'Singapore',
  ashburn: 'Ashburn (US East)',
  umatilla: 'Umatilla (US West)',
  'ashburn-ix': 'Ashburn (US East), Interconnect',
  'san-jose-ix': 'San Jose (US West), Interconnect',
  'london-ix': 'London, Interconnect',
  'frankfurt-ix': 'Frankfurt, Interconnect',
  'singapore-ix': 'Singapore, Interconnect',
  'sydney-ix': 'Sydney, Interconnect',
  'tokyo-ix': 'Tokyo, Interconnect',
};

/** "Wi-Fi, a direct connection (UDP)"; "a connection through a relay server (TURN, over TCP)". */
export function describeNetwork(report: PreflightReport): string {
  const c = report.localCandidate ?? {};
  const network = c.networkType ? (NETWORK_TYPES[c.networkType] ?? c.networkType) : undefined;
  const relay = c.candidateType === 'relay' || report.isTurnRequired === true;
  const transport = (c.relayProtocol && relay ? c.relayProtocol : c.protocol)?.toUpperCase();
  let path: string;
  if (relay)
    path = `a connection through a relay server (TURN${transport ? `, over ${transport}` : ''}): your network blocks direct connections, which can add delay`;
  else if (c.candidateType === 'srflx' || c.candidateType === 'prflx')
    path = `a direct connection through your router${transport ? ` (${transport})` : ''}`;
  else if (c.candidateType === 'host') path = `a direct connection${transport ? ` (${transport})` : ''}`;
  else path = transport ? `a connection over ${transport}` : '';
  const parts = [network ? `${network}${network === 'VPN' ? '' : ' network'}` : 'Unknown network type', path].filter(Boolean);
  const joined = parts.join(', ');
  const sentence = joined.charAt(0).toUpperCase() + joined.slice(1);
  return `${sentence}${transport === 'TCP' && !relay ? ' (TCP is slower for calls than UDP: a firewall may be blocking UDP)' : ''}.`;
}

export function describeEdge(report: PreflightReport): string | undefined {
  const edge = report.edge ?? report.selectedEdge;
  if (!edge) return undefined;
  const place = EDGE_PLACES[edge];
  const where = place ? `Twilio's ${place} location (edge "${edge}")` : `Twilio edge "${edge}"`;
  const how = report.selectedEdge === 'roaming' ? ', the nearest one, picked automatically' : '';
  return `${where}${how}.`;
}

export interface PreflightVerdict {
  rating: Rating;
  summary: string;
  details: SetupDetail[];
}

const ms = (n: number) => `${Math.round(n)} ms`;

/** A completed preflight test's report, in plain words: the verdict, and the figures one by one. */
export function describePreflight(report: PreflightReport): PreflightVerdict {
  const details: SetupDetail[] = [{ label: 'Network type', value: describeNetwork(report) }];
  const reasons: string[] = [];
  const ratings: Rating[] = [];
  if (report.stats) {
    const { rtt, jitter, mos } = report.stats;
    const rttRating = rateRtt(rtt.average);
    const jitterRating = rateJitter(jitter.average);
    const quality = QUALITY_WORDS[report.callQuality ?? mosQuality(mos.average)];
    ratings.push(rttRating, jitterRating, quality.rating);
    details.push(
      {
        label: 'Round-trip time (delay)',
        value: `${ms(rtt.average)} on average, at most ${ms(rtt.max)}: ${RATING_WORDS[rttRating]}.`,
      },
      {
        label: 'Jitter (unsteadiness)',
        value: `${ms(jitter.average)} on average, at most ${ms(jitter.max)}: ${RATING_WORDS[jitterRating]}.`,
      },
      {
        label: 'Call quality (MOS)',
        value: `${mos.average.toFixed(1)} out of 5 on average (lowest ${mos.min.toFixed(1)}): ${quality.word}.`,
      },
    );
    if (rttRating !== 'good') reasons.push('the delay is high, so you may talk over each other');
    if (jitterRating !== 'good') reasons.push('the connection is unsteady, so the audio may be choppy');
    if (quality.rating !== 'good') reasons.push('the measured call quality is low');
  } else {
    ratings.push('fair');
    reasons.push('the test call measured too little to rate the quality');
  }
  const edge = describeEdge(report);
  if (edge) details.push({ label: 'Twilio edge', value: edge });
  const rating = worst(ratings);
  const why = reasons.length > 0 ? `: ${reasons.join('; ')}` : '';
  const summary =
    rating === 'good'
      ? 'Your connection is good for calls.'
      : rating === 'fair'
        ? `Calls should work, but the quality may suffer${why}.`
        : `Calls will likely sound bad on this connection${why}.`;
  return { rating, summary, details };
}

/** Why a preflight test failed, in plain words. */
export function describePreflightError(error: VoiceError): string {
  const code = error.code;
  if (code === 31008) return 'The test was stopped.';
  if (code === 31003 || code === 53405) {
    return "The test call reached Twilio, but its audio could not get through: a firewall or VPN is probably blocking calls' audio (UDP).";
  }
  if (code !== undefined && ((code >= 20101 && code <= 20157) || (code >= 31202 && code <= 31207))) {
    return 'Twilio refused the test token: whoever set up this phone should check its Twilio settings (npm run doctor).';
  }
  const friendly = describeVoiceError(error);
  if (friendly.kind === 'network') return 'Could not reach Twilio: check your network connection; a firewall or VPN may be blocking it.';
  return friendly.message;
}

// ---- the test itself ----

function initialSteps(): Record<SetupStepId, SetupStep> {
  return { microphone: WAITING, speaker: WAITING, network: WAITING };
}

const MICROPHONE_MESSAGES = {
  running: 'Listening to your microphone: say something…',
  heard: 'Works: it picks up sound.',
  silent: 'It picks up no sound: check that it is plugged in, switched on and not muted, or pick another microphone in Audio settings.',
};

export class SetupTest {
  private snapshot: SetupSnapshot = { running: false, steps: initialSteps() };
  private listeners = new Set<(s: SetupSnapshot) => void>();
  private run = 0;
  private speakerAnswer?: (heard: boolean) => void;
  private preflight?: VoicePreflight;

  constructor(private readonly deps: SetupTestDeps) {}

  get state(): SetupSnapshot {
    return this.snapshot;
  }

  subscribe(listener: (s: SetupSnapshot) => void): () => void {
    this.listeners.add(listener);
    listener(this.snapshot);
    return () => this.listeners.delete(listener);
  }

  private update(patch: Partial<SetupSnapshot>): void {
    this.snapshot = { ...this.snapshot, ...patch };
    for (const l of this.listeners) l(this.snapshot);
  }

  private setStep(run: number, id: SetupStepId, step: SetupStep): void {
    if (run !== this.run) return;
    this.update({ steps: { ...this.snapshot.steps, [id]: step } });
  }

  /** Runs the three steps in turn; resolves when the test is over (or stopped). */
  async start(): Promise<void> {
    if (this.snapshot.running) return;
    const run = ++this.run;
    this.update({ running: true, steps: initialSteps(), summary: undefined });
    await this.testMicrophone(run);
    await this.testSpeaker(run);
    await this.testNetwork(run);
    if (run !== this.run) return;
    this.update({ running: false, summary: this.summarize() });
  }

  /** Stops a running test (a call is starting, the user signed out): the steps not done stay as they are. */
  stop(reason = 'The test was stopped.'): void {
    if (!this.snapshot.running) return;
    this.run++;
    const preflight = this.preflight;
    this.preflight = undefined;
    const answer = this.speakerAnswer;
    this.speakerAnswer = undefined;
    const steps = { ...this.snapshot.steps };
    for (const id of SETUP_STEPS) {
      const s = steps[id];
      if (s.status === 'running' || s.status === 'asking') steps[id] = { status: 'failed', message: reason };
    }
    this.update({ running: false, steps, summary: reason });
    answer?.(false);
    preflight?.stop();
  }

  /** The user's answer to "Did you hear it?". */
  answerSpeaker(heard: boolean): void {
    const answer = this.speakerAnswer;
    this.speakerAnswer = undefined;
    answer?.(heard);
  }

  /** Plays the test sound again while the question is open. */
  async replaySound(): Promise<void> {
    if (this.snapshot.steps.speaker.status !== 'asking') return;
    await this.deps.playTestSound().catch(() => undefined);
  }

  private async testMicrophone(run: number): Promise<void> {
    this.setStep(run, 'microphone', { status: 'running', message: MICROPHONE_MESSAGES.running });
    try {
      const { heard } = await this.deps.listenToMicrophone();
      this.setStep(
        run,
        'microphone',
        heard ? { status: 'passed', message: MICROPHONE_MESSAGES.heard } : { status: 'warning', message: MICROPHONE_MESSAGES.silent },
      );
    } catch (err) {
      // getUserMedia's DOMExceptions say what happened in their name (NotAllowedError, NotFoundError, …).
      const e = toVoiceError(err);
      const name = err instanceof Error && err.name !== 'Error' ? `${err.name}: ` : '';
      this.setStep(run, 'microphone', { status: 'failed', message: describeVoiceError({ ...e, message: `${name}${e.message}` }).message });
    }
  }

  private async testSpeaker(run: number): Promise<void> {
    if (run !== this.run) return;
    this.setStep(run, 'speaker', { status: 'running', message: 'Playing a test sound…' });
    try {
      await this.deps.playTestSound();
    } catch (err) {
      this.setStep(run, 'speaker', { status: 'failed', message: `The test sound could not be played: ${toVoiceError(err).message}` });
      return;
    }
    if (run !== this.run) return;
    const heard = await new Promise<boolean>((resolve) => {
      this.speakerAnswer = resolve;
      this.setStep(run, 'speaker', { status: 'asking', message: SPEAKER_QUESTION });
    });
    this.setStep(
      run,
      'speaker',
      heard
        ? { status: 'passed', message: 'Works: you heard the test sound.' }
        : {
            status: 'failed',
            message: 'You did not hear the test sound: check the volume, and that the right speaker is picked in Audio settings.',
          },
    );
  }

  private async testNetwork(run: number): Promise<void> {
    if (run !== this.run) return;
    this.setStep(run, 'network', { status: 'running', message: 'Getting a test token from the phone service…' });
    let token: string;
    try {
      token = await this.deps.fetchPreflightToken();
    } catch (err) {
      this.setStep(run, 'network', { status: 'failed', message: `The connection test could not start. ${toVoiceError(err).message}` });
      return;
    }
    if (run !== this.run) return;
    this.setStep(run, 'network', { status: 'running', message: 'Making a short test call to Twilio: you may hear it repeat what you say…' });
    await new Promise<void>((resolve) => {
      let preflight: VoicePreflight;
      try {
        preflight = this.deps.runPreflight(token);
      } catch (err) {
        this.setStep(run, 'network', { status: 'failed', message: `The connection test failed. ${describePreflightError(toVoiceError(err))}` });
        resolve();
        return;
      }
      this.preflight = preflight;
      const done = () => {
        if (this.preflight === preflight) this.preflight = undefined;
        resolve();
      };
      preflight.on('connected', () => {
        this.setStep(run, 'network', { status: 'running', message: 'Connected to Twilio: measuring the call quality…' });
      });
      preflight.on('completed', (report) => {
        const verdict = describePreflight(report);
        const status = verdict.rating === 'good' ? 'passed' : verdict.rating === 'fair' ? 'warning' : 'failed';
        this.setStep(run, 'network', { status, message: verdict.summary, details: verdict.details });
        done();
      });
      preflight.on('failed', (error) => {
        this.setStep(run, 'network', { status: 'failed', message: `The connection test failed. ${describePreflightError(error)}` });
        done();
      });
    });
  }

  private summarize(): string {
    const { steps } = this.snapshot;
    if (SETUP_STEPS.every((id) => steps[id].status === 'passed')) return 'Test finished: your setup is ready for calls.';
    const names: Record<SetupStepId, string> = { microphone: 'the microphone', speaker: 'the speaker', network: 'the connection' };
    const problems = SETUP_STEPS.filter((id) => steps[id].status !== 'passed').map((id) => names[id]);
    const list = problems.length > 1 ? `${problems.slice(0, -1).join(', ')} and ${problems.at(-1)}` : problems[0];
    return `Test finished: check ${list} (see the results).`;
  }
}

function toVoiceError(err: unknown): VoiceError {
  const e = err as { code?: unknown; message?: unknown } | undefined;
  return { code: typeof e?.code === 'number' ? e.code : undefined, message: String(e?.message ?? err) };
}
