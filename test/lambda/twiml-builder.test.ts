/**
 * lambda/core/twiml-builder.ts writes TwiML with xmlbuilder and the document options of Twilio's helper instead of
 * through `VoiceResponse`, whose every element creates a throwaway xmlbuilder document (issue 17). Proof that the
 * bytes did not change: each verb the app uses, and whole answers of the call flow, against `VoiceResponse` making
 * the same calls: fixed cases (escaping, lists, booleans, numbers, missing attributes, non-ASCII) and a property.
 * `VoiceResponse` is imported here only.
 */
import fc from 'fast-check';
import VoiceResponse from 'twilio/lib/twiml/VoiceResponse';
import { TwimlResponse } from '../../lambda/core/twiml-builder';

/** The calls both builders take, in one shape: a verb, its attributes, its text, and its children. */
type Step =
  | { verb: 'dial'; attributes: Record<string, unknown>; children: DialChild[] }
  | { verb: 'gather'; attributes: Record<string, unknown>; says: [Record<string, unknown>, string][] }
  | { verb: 'hangup' }
  | { verb: 'pause'; attributes: Record<string, unknown> }
  | { verb: 'record'; attributes: Record<string, unknown> }
  | { verb: 'redirect'; attributes: Record<string, unknown>; text: string }
  | { verb: 'say'; attributes: Record<string, unknown>; text: string };
type DialChild =
  | { verb: 'number'; attributes: Record<string, unknown>; text: string }
  | { verb: 'client'; attributes: Record<string, unknown>; identity: string; parameters: Record<string, unknown>[] };

// The attribute types are Twilio's; the test feeds both builders the same arbitrary values, untyped.
// biome-ignore lint/suspicious/noExplicitAny: see above
type Loose = any;

/** Makes the same calls on either builder (their verbs have the same names and arguments), and returns the XML. */
function build(response: Loose, steps: Step[]): string {
  for (const step of steps) {
    if (step.verb === 'dial') {
      const dial = response.dial(step.attributes);
      for (const child of step.children) {
        if (child.verb === 'number') dial.number(child.attributes, child.text);
        else {
          const client = dial.client(child.attributes);
          client.identity(child.identity);
          for (const p of child.parameters) client.parameter(p);
        }
      }
    } else if (step.verb === 'gather') {
      const gather = response.gather(step.attributes);
      for (const [attributes, text] of step.says) gather.say(attributes, text);
    } else if (step.verb === 'hangup') response.hangup();
    else if (step.verb === 'pause') response.pause(step.attributes);
    else if (step.verb === 'record') response.record(step.attributes);
    else if (step.verb === 'redirect') response.redirect(step.attributes, step.text);
    else response.say(step.attributes, step.text);
  }
  return response.toString();
}

const twilios = (steps: Step[]) => build(new VoiceResponse(), steps);
const ours = (steps: Step[]) => build(new TwimlResponse(), steps);

/** Both builders' answers for the same calls; when Twilio's throws (xmlbuilder refuses a character), ours throws too. */
function expectSame(steps: Step[]): string {
  let theirs: string | Error;
  try {
    theirs = twilios(steps);
  } catch (err) {
    theirs = err as Error;
  }
  if (theirs instanceof Error) {
    expect(() => ours(steps)).toThrow(theirs.message);
    return theirs.message;
  }
  expect(ours(steps)).toBe(theirs);
  return theirs;
}

const HOSTILE = ['<Hangup/>', '"quoted" & \'single\'', ']]>', 'tab\there\nnew line\r', 'ü 受付 📞', '\u2028', ''];

describe('the TwiML equals what Twilio’s VoiceResponse writes for the same calls', () => {
  test('an incoming call’s ring: Dial with two Clients, each an Identity and two Parameters', () => {
    const client = (identity: string) => ({
      verb: 'client' as const,
      attributes: {
        statusCallback: 'https://x.example/status?a=1&b=2',
        statusCallbackMethod: 'POST',
        statusCallbackEvent: ['initiated', 'ringing', 'answered', 'completed'],
      },
      identity,
      parameters: [
        { name: 'callerNumber', value: '+15551234567' },
        { name: 'lineNumber', value: '+15557654321' },
      ],
    });
    const xml = expectSame([
      {
        verb: 'dial',
        attributes: { timeout: 20, answerOnBridge: true, action: 'https://x.example/action', method: 'POST' },
        children: [client('alice'), client('bob')],
      },
    ]);
    // Spelled out, so a change on either side shows here and not only as "not equal".
    expect(xml).toBe(
      '<?xml version="1.0" encoding="UTF-8"?><Response><Dial timeout="20" answerOnBridge="true" action="https://x.example/action" method="POST">' +
        '<Client statusCallback="https://x.example/status?a=1&amp;b=2" statusCallbackMethod="POST" statusCallbackEvent="initiated ringing answered completed">' +
        '<Identity>alice</Identity><Parameter name="callerNumber" value="+15551234567"/><Parameter name="lineNumber" value="+15557654321"/></Client>' +
        '<Client statusCallback="https://x.example/status?a=1&amp;b=2" statusCallbackMethod="POST" statusCallbackEvent="initiated ringing answered completed">' +
        '<Identity>bob</Identity><Parameter name="callerNumber" value="+15551234567"/><Parameter name="lineNumber" value="+15557654321"/></Client>' +
        '</Dial></Response>',
    );
  });

  test('every other verb the app answers with', () => {
    expectSame([
      { verb: 'say', attributes: { language: 'en-US' }, text: 'Hello' },
      { verb: 'pause', attributes: { length: 20 } },
      {
        verb: 'record',
        attributes: { maxLength: 120, playBeep: true, timeout: 5, trim: 'trim-silence', recordingStatusCallbackEvent: ['completed'] },
      },
      { verb: 'redirect', attributes: { method: 'POST' }, text: 'https://x.example/next' },
      { verb: 'gather', attributes: { numDigits: 1, timeout: 8, actionOnEmptyResult: false }, says: [[{ language: 'de-DE' }, 'Drücken Sie 1']] },
      {
        verb: 'dial',
        attributes: { timeout: 60, callerId: '+15550000000', timeLimit: 3600 },
        children: [{ verb: 'number', attributes: { url: 'https://x.example/screen', method: 'POST' }, text: '+15551112222' }],
      },
      { verb: 'hangup' },
    ]);
    expectSame([]);
  });

  test.each(HOSTILE)('text and attributes are escaped alike: %j', (text) => {
    expectSame([
      { verb: 'say', attributes: { language: text }, text },
      { verb: 'redirect', attributes: { method: text }, text },
      {
        verb: 'dial',
        attributes: { action: text },
        children: [
          { verb: 'number', attributes: { statusCallbackEvent: [text, text] }, text },
          { verb: 'client', attributes: { statusCallback: text }, identity: text, parameters: [{ name: text, value: text }] },
        ],
      },
    ]);
  });

  test('missing, false, zero and empty attribute values are written (or left out) alike', () => {
    expectSame([
      { verb: 'say', attributes: { language: undefined, voice: null, loop: 0 }, text: 'a' },
      { verb: 'gather', attributes: { actionOnEmptyResult: false, finishOnKey: '', hints: [] }, says: [] },
      { verb: 'dial', attributes: {}, children: [{ verb: 'client', attributes: {}, identity: 'x', parameters: [{}] }] },
    ]);
  });

  test('a character XML cannot hold in text is refused alike', () => {
    expect(expectSame([{ verb: 'say', attributes: {}, text: 'bell \u0007' }])).toMatch(/Invalid character/);
  });

  test('property: any verbs, attributes and texts give the same bytes', () => {
    const text = fc.oneof(fc.string(), fc.constantFrom(...HOSTILE));
    const value = fc.oneof(text, fc.integer(), fc.boolean(), fc.array(text, { maxLength: 3 }), fc.constant(undefined));
    const attributes = fc.dictionary(fc.stringMatching(/^[a-zA-Z][a-zA-Z0-9]{0,12}$/), value, { maxKeys: 4 });
    const dialChild: fc.Arbitrary<DialChild> = fc.oneof(
      fc.record({ verb: fc.constant('number' as const), attributes, text }),
      fc.record({ verb: fc.constant('client' as const), attributes, identity: text, parameters: fc.array(attributes, { maxLength: 3 }) }),
    );
    const step: fc.Arbitrary<Step> = fc.oneof(
      fc.record({ verb: fc.constant('dial' as const), attributes, children: fc.array(dialChild, { maxLength: 3 }) }),
      fc.record({ verb: fc.constant('gather' as const), attributes, says: fc.array(fc.tuple(attributes, text), { maxLength: 2 }) }),
      fc.constant({ verb: 'hangup' as const }),
      fc.record({ verb: fc.constant('pause' as const), attributes }),
      fc.record({ verb: fc.constant('record' as const), attributes }),
      fc.record({ verb: fc.constant('redirect' as const), attributes, text }),
      fc.record({ verb: fc.constant('say' as const), attributes, text }),
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 6 }), (steps) => {
        expectSame(steps);
      }),
      { numRuns: 500 },
    );
  });
});
