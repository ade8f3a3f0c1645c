/**
 * Property-based tests (fast-check): whatever Twilio or a browser sends, the TwiML handlers answer well-formed
 * TwiML of a known shape (or the 403 path) and the token handler answers 400/403/429 with the JSON error body.
 */
import fc from 'fast-check';
import { createIncomingCallHandler } from '../../lambda/handlers/incoming-call';
import { createOutgoingCallHandler } from '../../lambda/handlers/outgoing-call';
import { createTokenHandler } from '../../lambda/handlers/token';
import { useDynalite } from '../support/dynalite';
import { DEVICE_CLIENT, DEVICE_NUMBER, DEVICE_NUMBER_TYPED, INCOMING_RESOURCE, OUTGOING_RESOURCE, signedEvent } from '../support/fixtures';
import { callable, makeDeps, registerDevice, TEST_SCRYPT } from './helpers';

/** A teammate on the walkthrough's line: rung with it, and reachable by an internal call. */
const TEAMMATE = 'DeviceId_0002';
/** Fresh tables for every test, with the walkthrough's device and its teammate on their line. */
const db = useDynalite({
  seed: async ({ lines }) => {
    await registerDevice(lines);
    await registerDevice(lines, { clientName: TEAMMATE, secret: 'teammate-secret', createdAt: '2024-01-02T00:00:00.000Z' });
  },
});

const RUNS = { numRuns: 150 };
const DECL = '<?xml version="1.0" encoding="UTF-8"?>';
const TEXT = '(?:[^<&]|&(?:amp|lt|gt|quot|apos);)*';
/** An attribute value as the TwiML builder writes it. */
const ATTR = '(?:[^"<&]|&(?:amp|lt|gt|quot|apos);)*';
/** One ringing softphone: its identity, and the caller and the line as custom parameters. */
/** A dialled leg's status callback to the call log (leg member or callee, the line, the caller or the placing client). */
const STATUS = `statusCallback="https://[^"]+/prod/twilio/call_status\\?leg=(?:member|callee)&amp;line=%2B\\d+&amp;(?:caller|client)=${ATTR}" statusCallbackMethod="POST" statusCallbackEvent="initiated ringing answered completed"`;
const CLIENT = `<Client ${STATUS}><Identity>[A-Za-z0-9_.-]+</Identity><Parameter name="callerNumber" value="${ATTR}"/><Parameter name="lineNumber" value="\\+[1-9]\\d{6,14}"/></Client>`;
const SHAPES = [
  // an incoming call rings the line's members (at most 10), and the Dial's action webhook takes it on
  new RegExp(
    `^${escapeRegExp(DECL)}<Response><Dial timeout="20" answerOnBridge="true" action="https://[^"]+/prod/twilio/retrieve_twiml/call_action\\?stage=ring&amp;next=\\d+" method="POST">(?:${CLIENT}){1,10}</Dial></Response>$`,
  ),
  // an internal call rings one teammate
  new RegExp(`^${escapeRegExp(DECL)}<Response><Dial timeout="60" answerOnBridge="true" timeLimit="14400">${CLIENT}</Dial></Response>$`),
  new RegExp(
    `^${escapeRegExp(DECL)}<Response><Dial timeout="60" callerId="\\+[1-9]\\d{6,14}" timeLimit="14400"><Number ${STATUS}>\\+[1-9]\\d{6,14}</Number></Dial></Response>$`,
  ),
  new RegExp(`^${escapeRegExp(DECL)}<Response><Say language="en-US">${TEXT}</Say><Hangup/></Response>$`),
];
function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A small strict XML well-formedness check: one root, balanced tags, quoted attributes, known entities only. */
function isWellFormedXml(xml: string): boolean {
  let rest = xml.startsWith('<?xml') ? xml.slice(xml.indexOf('?>') + 2) : xml;
  const stack: string[] = [];
  let roots = 0;
  const token =
    /^(?:<([A-Za-z][\w.-]*)((?:\s+[A-Za-z][\w.-]*="[^"<&]*(?:&(?:amp|lt|gt|quot|apos);[^"<&]*)*")*)\s*(\/?)>|<\/([A-Za-z][\w.-]*)>|((?:[^<&]|&(?:amp|lt|gt|quot|apos);)+))/;
  while (rest.length > 0) {
    const m = token.exec(rest);
    if (!m) return false;
    if (m[1]) {
      if (stack.length === 0) roots++;
      if (m[3] !== '/') stack.push(m[1]);
    } else if (m[4]) {
      if (stack.pop() !== m[4]) return false;
    } else if (stack.length === 0) {
      return false; // text outside the root
    }
    rest = rest.slice(m[0].length);
  }
  return stack.length === 0 && roots === 1;
}

function expectTwiml(out: unknown): void {
  expect(typeof out).toBe('string');
  const xml = out as string;
  expect(isWellFormedXml(xml)).toBe(true);
  expect(SHAPES.some((re) => re.test(xml))).toBe(true);
}

const anyText = fc.oneof(fc.string(), fc.string({ unit: 'grapheme' }), fc.string({ unit: 'binary' }));
const phoneish = fc.oneof(
  fc.constantFrom(
    DEVICE_NUMBER,
    DEVICE_NUMBER_TYPED,
    '090-5987-6543',
    '+81 90 5987 6543',
    '+1 900 555 0123',
    '+81 990 123 456',
    '+33 810 12 34 56',
    '0570-123-456',
    '119',
    '+8190</Number><Number>+1900',
    '',
  ),
  fc.stringMatching(/^\+?[0-9 ()-]{0,20}$/),
  anyText,
);
const params = fc.dictionary(fc.string({ maxLength: 12 }), anyText, { maxKeys: 8 });

test('the XML checker itself rejects malformed documents', () => {
  expect(isWellFormedXml('<a><b/></a>')).toBe(true);
  for (const bad of ['<a><b></a>', '<a>x</a><a/>', '<a>1 < 2</a>', '<a x="1"y="2"/>', '<a>&foo;</a>', 'text'])
    expect(isWellFormedXml(bad)).toBe(false);
});

test('incoming: any signed parameters → well-formed TwiML of a known shape', async () => {
  const handler = callable(createIncomingCallHandler(makeDeps(db)));
  await fc.assert(
    fc.asyncProperty(params, phoneish, async (p, to) => {
      const out = await handler(signedEvent(INCOMING_RESOURCE, { ...p, To: to }));
      expectTwiml(out);
      // only the called line's members ring: the walkthrough's line, both its devices in order
      if (out.includes('<Client ')) {
        expect([...out.matchAll(/<Identity>([^<]*)<\/Identity>/g)].map((m) => m[1])).toEqual([DEVICE_CLIENT, TEAMMATE]);
        expect(out.match(/name="lineNumber" value="([^"]*)"/g)).toEqual(Array(2).fill(`name="lineNumber" value="${DEVICE_NUMBER}"`));
      }
    }),
    RUNS,
  );
});

test('outgoing: any signed parameters → well-formed TwiML; a Dial always uses the identity’s own line', async () => {
  const handler = callable(createOutgoingCallHandler(makeDeps(db)));
  const from = fc.oneof(
    fc.constant(`client:${DEVICE_CLIENT}`),
    anyText.map((s) => `client:${s}`),
    anyText,
  );
  // an internal call names a teammate, itself, another name or anything at all
  const teammate = fc.option(fc.oneof(fc.constantFrom(TEAMMATE, DEVICE_CLIENT, 'Nobody', ` ${TEAMMATE} `), anyText), { nil: undefined });
  await fc.assert(
    fc.asyncProperty(params, from, phoneish, phoneish, teammate, async (p, f, caller, dest, client) => {
      const out = await handler(
        signedEvent(OUTGOING_RESOURCE, {
          ...p,
          From: f,
          callerPhoneNumber: caller,
          callOutgoingPhoneNumber: dest,
          ...(client !== undefined ? { callOutgoingClient: client } : {}),
        }),
      );
      expectTwiml(out);
      if (out.includes('<Number ')) {
        expect(out).toContain(`callerId="${DEVICE_NUMBER}"`);
        expect(out).toMatch(/<Number [^>]*>\+81\d+<\/Number>/); // default allow-list: the caller's country (JP)
      }
      if (out.includes('<Client ')) {
        // only a teammate of the caller's own line, never the caller itself
        expect(out).toContain(`<Identity>${TEAMMATE}</Identity>`);
        expect(out).toContain(
          `<Parameter name="callerNumber" value="client:${DEVICE_CLIENT}"/><Parameter name="lineNumber" value="${DEVICE_NUMBER}"/>`,
        );
      }
    }),
    RUNS,
  );
});

test('TwiML handlers: any event at all → TwiML or exactly [403] Forbidden, never another error', async () => {
  const incoming = callable(createIncomingCallHandler(makeDeps(db)));
  const outgoing = callable(createOutgoingCallHandler(makeDeps(db)));
  const event = fc.oneof(
    fc.anything(),
    fc.record(
      { params, query: fc.oneof(params, fc.anything()), signature: anyText, domainName: anyText, path: anyText, resourcePath: anyText },
      { requiredKeys: [] },
    ),
  );
  await fc.assert(
    fc.asyncProperty(event, async (ev) => {
      for (const h of [incoming, outgoing]) {
        try {
          expectTwiml(await h(ev));
        } catch (err) {
          expect((err as Error).message).toBe('[403] Forbidden');
        }
      }
    }),
    RUNS,
  );
});

test('token: any JSON → 400/403/429 with the JSON error body, never a token or another error', async () => {
  const handler = callable(createTokenHandler(makeDeps(db), { dummyScryptParams: TEST_SCRYPT }));
  const body = fc.oneof(
    fc.jsonValue(),
    fc.record({ twilioPhoneNumber: fc.oneof(phoneish, fc.jsonValue()), deviceSecret: fc.oneof(anyText, fc.jsonValue()) }, { requiredKeys: [] }),
    fc.record({ twilioPhoneNumber: fc.constantFrom(DEVICE_NUMBER, DEVICE_NUMBER_TYPED), deviceSecret: anyText }),
  );
  await fc.assert(
    fc.asyncProperty(body, async (ev) => {
      let message: string | undefined;
      try {
        await handler(ev);
      } catch (err) {
        message = (err as Error).message;
      }
      expect(message).toBeDefined();
      const m = /^\[(400|403|429)\] (\{.*\})$/s.exec(message!);
      expect(m).not.toBeNull();
      const parsed = JSON.parse(m![2]);
      expect(parsed).toMatchObject({ success: false, capabilityToken: null, error: expect.any(String) });
      expect(m![2].substring(0)).toBe(message!.substring(6));
    }),
    RUNS,
  );
});
