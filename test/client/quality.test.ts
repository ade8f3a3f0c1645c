/**
 * Issue 16 on the page, unit by unit: config.json's `edge`, the call quality warnings and the rating choices in
 * plain words, the Voice SDK's preflight report as the page reads it, "Test my setup" step by step, and the
 * preflight token request.
 */
import * as path from 'node:path';
import { DEFAULT_EDGE, firstEdge, MAX_CALL_SIGNALING_TIMEOUT_MS, parseConfig, parseEdge, TWILIO_EDGES } from '../../client/src/config';
import { callLabel, IDLE, reconnectCauseOf, reduceCall } from '../../client/src/call-state';
import { CALL_WARNINGS, describeWarning, FEEDBACK_ISSUES, FEEDBACK_SCORES, isListedWarning, warningSentences } from '../../client/src/quality';
import { describePreflight, describePreflightError, SetupTest, SPEAKER_QUESTION, type SetupTestDeps } from '../../client/src/setup-test';
import { testSoundWav } from '../../client/src/tones';
import { fetchToken, TokenError, type FetchLike } from '../../client/src/token-client';
import { toPreflightReport } from '../../client/src/voice/preflight-report';
import type { VoicePreflight, VoicePreflightEvents } from '../../client/src/voice/types';

/** The SDK's own modules, past its `exports` map (tests only: the page keeps its own copies). */
const sdkModule = (name: string) => require(path.join(path.dirname(require.resolve('@twilio/voice-sdk')), 'twilio', name));

/** A completed preflight report as the Voice SDK 2.x builds it (PreflightTest.Report), trimmed. */
function sdkReport(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    callSid: 'CA0123456789abcdef0123456789abcdef',
    callQuality: 'excellent',
    edge: 'tokyo',
    selectedEdge: 'roaming',
    iceCandidateStats: [{ candidateType: 'host', networkType: 'wifi', protocol: 'udp' }],
    isTurnRequired: false,
    networkTiming: { signaling: { start: 1000, end: 1180, duration: 180 }, ice: { start: 1200, end: 1260, duration: 60 } },
    samples: [],
    selectedIceCandidatePairStats: {
      localCandidate: { candidateType: 'host', networkType: 'wifi', protocol: 'udp', address: '192.0.2.10' },
      remoteCandidate: { candidateType: 'host', protocol: 'udp' },
    },
    stats: { rtt: { average: 48, max: 61, min: 40 }, jitter: { average: 3.2, max: 7, min: 1 }, mos: { average: 4.41, max: 4.43, min: 4.38 } },
    testTiming: { start: 1000, end: 16_000, duration: 15_000 },
    warnings: [],
    ...over,
  };
}

describe("config.json's edge", () => {
  it('knows exactly the Voice SDK’s edge names', () => {
    const { Edge } = sdkModule('regions.js') as { Edge: Record<string, string> };
    expect([...TWILIO_EDGES].sort()).toEqual(Object.values(Edge).sort());
    expect(DEFAULT_EDGE).toBe('roaming');
  });

  it('defaults to roaming; takes one edge or a list in order; leaves out unknown names with a warning', () => {
    const warnings: string[] = [];
    const warn = (m: string) => warnings.push(m);
    expect(parseConfig({ apiBaseUrl: 'https://api/prod' }, warn)).toEqual({ apiBaseUrl: 'https://api/prod', edge: 'roaming' });
    expect(parseEdge('Tokyo ', warn)).toBe('tokyo');
    expect(parseEdge(['tokyo', 'atlantis', 'singapore', 'tokyo', 7], warn)).toEqual(['tokyo', 'singapore']);
    expect(warnings).toEqual([expect.stringContaining('"atlantis"'), expect.stringContaining('7')]);
    warnings.length = 0;
    expect(parseEdge(['atlantis'], warn)).toBe('roaming');
    expect(parseEdge('', warn)).toBe('roaming');
    expect(parseEdge({ edge: 'tokyo' }, warn)).toBe('roaming');
    expect(warnings.filter((w) => w.includes('using "roaming"'))).toHaveLength(3);
    expect(parseEdge(['ashburn-ix'], warn)).toBe('ashburn-ix');
    expect(() => parseConfig({ edge: 'tokyo' }, warn)).toThrow('apiBaseUrl missing');
    expect(() => parseConfig(null, warn)).toThrow('apiBaseUrl missing');
  });

  it('gives the preflight test the first edge preferred, and calls 30 s to outlive a dropped signalling connection', () => {
    expect(firstEdge(['tokyo', 'singapore'])).toBe('tokyo');
    expect(firstEdge('dublin')).toBe('dublin');
    expect(MAX_CALL_SIGNALING_TIMEOUT_MS).toBe(30_000);
  });
});

describe('reconnecting and call quality warnings', () => {
  const inCall = [
    { type: 'dial', number: '+1', at: 0 },
    { type: 'accepted', at: 1 },
  ] as const;

  it('says what dropped while the call reconnects', () => {
    const call = inCall.reduce(reduceCall, IDLE);
    const signalling = reduceCall(call, { type: 'reconnecting', cause: reconnectCauseOf(53001) });
    expect(callLabel(signalling)).toBe('Reconnecting… The connection to the phone service dropped; the call stays on while it comes back.');
    const media = reduceCall(call, { type: 'reconnecting', cause: reconnectCauseOf(53405) });
    expect(callLabel(media)).toBe("Reconnecting… The call's audio connection dropped; the call stays on while it comes back.");
    expect(callLabel(reduceCall(call, { type: 'reconnecting' }))).toBe('Reconnecting…');
    expect(callLabel(reduceCall(media, { type: 'reconnected' }))).toBe('In call');
    expect(reconnectCauseOf(undefined)).toBe('media');
  });

  it('names every warning the SDK raises in plain words, and lists each problem once', () => {
    for (const name of ['high-rtt', 'high-jitter', 'high-packet-loss', 'high-packets-lost-fraction', 'low-mos', 'constant-audio-input-level']) {
      expect(CALL_WARNINGS[name]).toBeDefined();
      expect(describeWarning(name).problem).not.toContain(name);
    }
    expect(describeWarning('high-packet-loss').problem).toBe('Your connection is losing audio (packet loss): parts of the call may cut out.');
    expect(describeWarning('constant-audio-input-level').problem).toMatch(/^Your microphone is not picking up any sound/);
    expect(describeWarning('constant-audio-input-level').cleared).toBe('Your microphone is picking up sound again.');
    expect(describeWarning('something-new').problem).toBe('The call quality dropped (something-new).');
    expect(isListedWarning('ice-connectivity-lost')).toBe(false); // the call's "Reconnecting…" says it
    expect(warningSentences(['high-packet-loss', 'high-packets-lost-fraction', 'ice-connectivity-lost', 'high-rtt'])).toEqual([
      describeWarning('high-packet-loss').problem,
      describeWarning('high-rtt').problem,
    ]);
  });

  it("offers Twilio's feedback scores and issues", () => {
    const { default: Call } = sdkModule('call.js') as { default: { FeedbackIssue: Record<string, string>; FeedbackScore: Record<string, unknown> } };
    expect(FEEDBACK_ISSUES.map((i) => i.issue).sort()).toEqual(Object.values(Call.FeedbackIssue).sort());
    expect(FEEDBACK_SCORES.map((s) => s.score)).toEqual([1, 2, 3, 4, 5]);
    expect(Object.values(Call.FeedbackScore).filter((v) => typeof v === 'number')).toEqual([1, 2, 3, 4, 5]);
  });
});

describe('the preflight report in plain words', () => {
  it('reads what the page needs from the SDK’s report', () => {
    expect(toPreflightReport(sdkReport())).toEqual({
      callSid: 'CA0123456789abcdef0123456789abcdef',
      callQuality: 'excellent',
      edge: 'tokyo',
      selectedEdge: 'roaming',
      isTurnRequired: false,
      localCandidate: { candidateType: 'host', networkType: 'wifi', protocol: 'udp' },
      networkTiming: { signaling: 180, ice: 60 },
      stats: { rtt: { average: 48, max: 61, min: 40 }, jitter: { average: 3.2, max: 7, min: 1 }, mos: { average: 4.41, max: 4.43, min: 4.38 } },
      warnings: [],
    });
    // No selected pair: the gathered candidates still say which network; nonsense is left out.
    expect(
      toPreflightReport({ iceCandidateStats: [{ candidateType: 'srflx' }, { networkType: 'Ethernet' }], stats: { rtt: 'x' }, callQuality: 'superb' }),
    ).toEqual({ localCandidate: { networkType: 'ethernet' }, networkTiming: {}, warnings: [] });
    expect(toPreflightReport(undefined)).toEqual({ networkTiming: {}, warnings: [] });
  });

  it('gives a good connection its figures: network type, round-trip time, jitter, MOS and edge', () => {
    const verdict = describePreflight(toPreflightReport(sdkReport()));
    expect(verdict.rating).toBe('good');
    expect(verdict.summary).toBe('Your connection is good for calls.');
    expect(verdict.details).toEqual([
      { label: 'Network type', value: 'Wi-Fi network, a direct connection (UDP).' },
      { label: 'Round-trip time (delay)', value: '48 ms on average, at most 61 ms: good.' },
      { label: 'Jitter (unsteadiness)', value: '3 ms on average, at most 7 ms: good.' },
      { label: 'Call quality (MOS)', value: '4.4 out of 5 on average (lowest 4.4): excellent.' },
      { label: 'Twilio edge', value: 'Twilio\'s Tokyo location (edge "tokyo"), the nearest one, picked automatically.' },
    ]);
  });

  it('says why a connection is poor, and that a relay is in the way', () => {
    const report = toPreflightReport(
      sdkReport({
        callQuality: 'degraded',
        edge: 'singapore',
        selectedEdge: 'singapore',
        isTurnRequired: true,
        selectedIceCandidatePairStats: { localCandidate: { candidateType: 'relay', relayProtocol: 'tls', protocol: 'udp', networkType: 'cellular' } },
        stats: { rtt: { average: 520, max: 900, min: 300 }, jitter: { average: 45, max: 80, min: 10 }, mos: { average: 2.9, max: 3.4, min: 2.1 } },
      }),
    );
    const verdict = describePreflight(report);
    expect(verdict.rating).toBe('poor');
    expect(verdict.summary).toBe(
      'Calls will likely sound bad on this connection: the delay is high, so you may talk over each other; the connection is unsteady, so the audio may be choppy; the measured call quality is low.',
    );
    expect(verdict.details.find((d) => d.label === 'Network type')?.value).toBe(
      'Mobile data network, a connection through a relay server (TURN, over TLS): your network blocks direct connections, which can add delay.',
    );
    expect(verdict.details.find((d) => d.label === 'Round-trip time (delay)')?.value).toBe('520 ms on average, at most 900 ms: too high.');
    expect(verdict.details.find((d) => d.label === 'Call quality (MOS)')?.value).toBe('2.9 out of 5 on average (lowest 2.1): poor.');
    expect(verdict.details.find((d) => d.label === 'Twilio edge')?.value).toBe('Twilio\'s Singapore location (edge "singapore").');
  });

  it('calls a middling connection fair, and a report without figures too', () => {
    const fair = describePreflight(
      toPreflightReport(
        sdkReport({
          callQuality: undefined,
          selectedIceCandidatePairStats: { localCandidate: { candidateType: 'srflx', protocol: 'tcp' } },
          iceCandidateStats: [],
          stats: { rtt: { average: 250, max: 300, min: 200 }, jitter: { average: 5, max: 9, min: 1 }, mos: { average: 4.0, max: 4.1, min: 3.9 } },
        }),
      ),
    );
    expect(fair.rating).toBe('fair');
    expect(fair.summary).toBe('Calls should work, but the quality may suffer: the delay is high, so you may talk over each other.');
    expect(fair.details[0].value).toBe(
      'Unknown network type, a direct connection through your router (TCP) (TCP is slower for calls than UDP: a firewall may be blocking UDP).',
    );
    const empty = describePreflight(toPreflightReport({}));
    expect(empty).toEqual({
      rating: 'fair',
      summary: 'Calls should work, but the quality may suffer: the test call measured too little to rate the quality.',
      details: [{ label: 'Network type', value: 'Unknown network type.' }],
    });
  });

  it('explains a failed test', () => {
    expect(describePreflightError({ code: 31008, message: 'Call cancelled' })).toBe('The test was stopped.');
    expect(describePreflightError({ code: 53405, message: 'x' })).toMatch(/firewall or VPN is probably blocking/);
    expect(describePreflightError({ code: 20101, message: 'Invalid token' })).toMatch(/^Twilio refused the test token/);
    expect(describePreflightError({ code: 31005, message: 'x' })).toMatch(/^Could not reach Twilio/);
    expect(describePreflightError({ code: 31401, message: 'x' })).toMatch(/blocking the microphone/);
  });
});

describe('Test my setup', () => {
  class TestPreflight implements VoicePreflight {
    handlers: { [K in keyof VoicePreflightEvents]?: VoicePreflightEvents[K] } = {};
    stopped = false;
    on<E extends keyof VoicePreflightEvents>(event: E, listener: VoicePreflightEvents[E]) {
      this.handlers[event] = listener as never;
    }
    stop() {
      this.stopped = true;
      this.handlers.failed?.({ code: 31008, message: 'Call cancelled' });
    }
  }
  const flush = () => new Promise((r) => setImmediate(r));

  function harness(over: Partial<SetupTestDeps> = {}) {
    const preflights: Array<{ token: string; test: TestPreflight }> = [];
    const played: number[] = [];
    const deps: SetupTestDeps = {
      listenToMicrophone: async () => ({ heard: true }),
      playTestSound: async () => void played.push(1),
      fetchPreflightToken: async () => 'preflight.jwt.token',
      runPreflight: (token) => {
        const test = new TestPreflight();
        preflights.push({ token, test });
        return test;
      },
      ...over,
    };
    const setup = new SetupTest(deps);
    const statuses: string[] = [];
    setup.subscribe((s) => statuses.push(`${s.steps.microphone.status}/${s.steps.speaker.status}/${s.steps.network.status}`));
    return { setup, preflights, played, statuses };
  }

  it('tests the microphone, asks about the speaker, then runs the preflight test with the preflight token', async () => {
    const { setup, preflights, played } = harness();
    const done = setup.start();
    await flush();
    expect(setup.state.steps.microphone).toEqual({ status: 'passed', message: 'Works: it picks up sound.' });
    expect(setup.state.steps.speaker).toEqual({ status: 'asking', message: SPEAKER_QUESTION });
    expect(played).toHaveLength(1);
    await setup.replaySound();
    expect(played).toHaveLength(2);
    setup.answerSpeaker(true);
    await flush();
    expect(setup.state.steps.speaker.status).toBe('passed');
    expect(preflights.map((p) => p.token)).toEqual(['preflight.jwt.token']);
    expect(setup.state.steps.network.status).toBe('running');
    preflights[0].test.handlers.connected?.();
    expect(setup.state.steps.network.message).toBe('Connected to Twilio: measuring the call quality…');
    preflights[0].test.handlers.completed?.(toPreflightReport(sdkReport()));
    await done;
    expect(setup.state.running).toBe(false);
    expect(setup.state.steps.network).toMatchObject({ status: 'passed', message: 'Your connection is good for calls.' });
    expect(setup.state.steps.network.details?.map((d) => d.label)).toEqual([
      'Network type',
      'Round-trip time (delay)',
      'Jitter (unsteadiness)',
      'Call quality (MOS)',
      'Twilio edge',
    ]);
    expect(setup.state.summary).toBe('Test finished: your setup is ready for calls.');
  });

  it("says what is wrong: a silent microphone, an unheard speaker, the API's reason for no preflight token", async () => {
    const notConfigured = new TokenError('unavailable', 'Test my setup is not configured: run npm run twilio:setup.', 503);
    const { setup, preflights } = harness({
      listenToMicrophone: async () => ({ heard: false }),
      fetchPreflightToken: async () => {
        throw notConfigured;
      },
    });
    const done = setup.start();
    await flush();
    expect(setup.state.steps.microphone.status).toBe('warning');
    expect(setup.state.steps.microphone.message).toMatch(/^It picks up no sound/);
    setup.answerSpeaker(false);
    await done;
    expect(setup.state.steps.speaker).toMatchObject({ status: 'failed', message: expect.stringMatching(/^You did not hear the test sound/) });
    expect(setup.state.steps.network).toEqual({
      status: 'failed',
      message: 'The connection test could not start. Test my setup is not configured: run npm run twilio:setup.',
    });
    expect(preflights).toHaveLength(0);
    expect(setup.state.summary).toBe('Test finished: check the microphone, the speaker and the connection (see the results).');
  });

  it('reports a blocked microphone, a sound that cannot play and a failed test call', async () => {
    const blocked = Object.assign(new Error('Permission denied'), { name: 'NotAllowedError' });
    const { setup, preflights } = harness({
      listenToMicrophone: async () => {
        throw blocked;
      },
      playTestSound: async () => {
        throw new Error('no audio output');
      },
    });
    const done = setup.start();
    await flush();
    preflights[0].test.handlers.failed?.({ code: 53405, message: 'ICE failed' });
    await done;
    expect(setup.state.steps.microphone.message).toMatch(/blocking the microphone/);
    expect(setup.state.steps.speaker.message).toBe('The test sound could not be played: no audio output');
    expect(setup.state.steps.network.message).toMatch(
      /^The connection test failed\. The test call reached Twilio, but its audio could not get through/,
    );
  });

  it('stops: the question goes, the test call is stopped, late results are ignored; it can run again', async () => {
    const { setup, preflights } = harness();
    const first = setup.start();
    await flush();
    setup.answerSpeaker(true);
    await flush();
    setup.stop('Stopped: a call started.');
    await first;
    expect(preflights[0].test.stopped).toBe(true);
    expect(setup.state).toMatchObject({ running: false, summary: 'Stopped: a call started.' });
    expect(setup.state.steps.network).toEqual({ status: 'failed', message: 'Stopped: a call started.' });
    preflights[0].test.handlers.completed?.(toPreflightReport(sdkReport()));
    expect(setup.state.steps.network.status).toBe('failed');

    const second = setup.start();
    await flush();
    expect(setup.state.steps.network.status).toBe('waiting');
    setup.stop();
    await second;
    expect(setup.state.steps.speaker).toEqual({ status: 'failed', message: 'The test was stopped.' });
    expect(preflights).toHaveLength(1);
  });

  it('plays a real WAV file (the page loads no sound files)', () => {
    const wav = Buffer.from(testSoundWav(8000));
    expect(wav.subarray(0, 4).toString('ascii')).toBe('RIFF');
    expect(wav.subarray(8, 16).toString('ascii')).toBe('WAVEfmt ');
    expect(wav.readUInt32LE(24)).toBe(8000);
    expect(wav.readUInt32LE(40)).toBe(wav.length - 44);
    expect(Math.max(...Array.from({ length: (wav.length - 44) / 2 }, (_, i) => Math.abs(wav.readInt16LE(44 + i * 2))))).toBeGreaterThan(5000);
  });
});

describe('the preflight token request', () => {
  const creds = { twilioPhoneNumber: '+815031234567', deviceSecret: 's3cret' };
  const answer = (status: number, body: unknown): FetchLike & jest.Mock =>
    jest.fn(async () => ({ status, ok: status >= 200 && status < 300, text: async () => JSON.stringify(body) })) as never;

  it('asks for purpose preflight with the sign-in fields, and takes only a preflight token', async () => {
    const f = answer(200, { success: true, capabilityToken: 'a.b.c', identity: 'Bob', line: '+815031234567', expiresAt: 'x', purpose: 'preflight' });
    await expect(fetchToken('http://x/prod', creds, f, { clientName: 'Bob', purpose: 'preflight' })).resolves.toMatchObject({
      token: 'a.b.c',
      identity: 'Bob',
      purpose: 'preflight',
    });
    expect(JSON.parse((f.mock.calls[0] as unknown as [string, { body: string }])[1].body)).toEqual({
      twilioPhoneNumber: '+815031234567',
      deviceSecret: 's3cret',
      clientName: 'Bob',
      purpose: 'preflight',
    });
    // An API that ignores `purpose` answers the phone's own token: not used for a test call.
    await expect(
      fetchToken('u', creds, answer(200, { success: true, capabilityToken: 'a.b.c', identity: 'Bob' }), { purpose: 'preflight' }),
    ).rejects.toMatchObject({
      kind: 'server',
      message: expect.stringMatching(/does not offer Test my setup yet/),
    });
  });

  it("shows the API's sentence when Test my setup is not configured (503); sign-in keeps its own", async () => {
    const body = { success: false, error: 'Test my setup is not configured: run npm run twilio:setup.' };
    await expect(fetchToken('u', creds, answer(503, body), { purpose: 'preflight' })).rejects.toMatchObject({
      kind: 'unavailable',
      status: 503,
      message: 'Test my setup is not configured: run npm run twilio:setup.',
    });
    await expect(fetchToken('u', creds, answer(503, body))).rejects.toMatchObject({ message: expect.stringMatching(/temporarily unavailable/) });
  });
});
