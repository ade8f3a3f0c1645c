/**
 * Property-based tests (issue 7): arbitrary form bodies through the TwiML request template always give
 * valid JSON whose `params` equal the decoded parameters (last value wins for a repeated name).
 */
import fc from 'fast-check';
import { ROUTES } from '../../lib/api/routes';
import { createGatewayContext, renderRequestTemplate, urlDecode, urlEncode } from '../../lib/vtl';
import { API_DOMAIN, formParams, INCOMING_RESOURCE } from '../support/fixtures';

const NUM_RUNS = 200;

const TWIML_TEMPLATES = [
  ...new Set(ROUTES.filter((r) => r.requestContentType === 'application/x-www-form-urlencoded').map((r) => r.requestTemplate)),
];

const context = createGatewayContext({ domainName: API_DOMAIN, path: `/prod${INCOMING_RESOURCE}`, resourcePath: INCOMING_RESOURCE });

function renderEvent(template: string, body: string, headers: Record<string, string> = {}): { params: Record<string, string>; signature: string } {
  const out = renderRequestTemplate(template, { body, headers, context });
  return JSON.parse(out) as { params: Record<string, string>; signature: string };
}

/** The oracle: WHATWG form decoding. */
const decoded = formParams;

/** Any Unicode text (every code point but lone surrogates), biased towards the characters that matter here. */
const text = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 12 }) },
  {
    weight: 2,
    arbitrary: fc.string({
      unit: fc.constantFrom(
        '=',
        '&',
        '+',
        '%',
        ' ',
        '"',
        "'",
        '\\',
        '/',
        '\n',
        '\r',
        '\u2028',
        '😀',
        '日',
        '#',
        '$',
        '{',
        '}',
        'a',
        '\u0000',
        '\u007f',
      ),
      maxLength: 10,
    }),
  },
  { weight: 1, arbitrary: fc.constantFrom('', '__proto__', 'constructor', 'toString', 'Called', 'To') },
);
const pairs = fc.array(fc.tuple(text, text), { maxLength: 12 });

describe.each(TWIML_TEMPLATES.map((t, i) => [i, t] as const))('form request template #%d (property-based)', (_i, template) => {
  it('URLSearchParams-encoded bodies give valid JSON equal to the decoded parameters', () => {
    fc.assert(
      fc.property(pairs, (entries) => {
        const body = new URLSearchParams(entries).toString();
        const event = renderEvent(template, body);
        expect(event.params).toEqual(decoded(body));
        expect(event.params).toEqual(Object.fromEntries(entries)); // no lone surrogates: nothing is lost
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('encodeURIComponent-encoded bodies (with empty pairs, names without =, a trailing &) give the decoded parameters', () => {
    const part = fc.oneof(
      { weight: 6, arbitrary: fc.tuple(text, text).map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`) },
      { weight: 1, arbitrary: text.map((k) => encodeURIComponent(k)) }, // a name without "="
      { weight: 1, arbitrary: fc.constant('') }, // an empty pair ("&&", a leading or trailing "&")
    );
    fc.assert(
      fc.property(fc.array(part, { maxLength: 12 }), (parts) => {
        const body = parts.join('&');
        expect(renderEvent(template, body).params).toEqual(decoded(body));
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('raw bodies mixing literal ASCII, "+" and arbitrary %XX bytes (even invalid UTF-8) decode as URLSearchParams does', () => {
    const hexByte = fc.integer({ min: 0, max: 255 }).map((b) => `%${b.toString(16).padStart(2, '0')}`);
    const token = fc.oneof(
      fc.constantFrom('&', '=', '+', '&&', '=='),
      hexByte,
      // Literal characters are ASCII here: next to %XX bytes, Node's URLSearchParams reads a raw U+0080..U+00FF
      // as a Latin-1 byte, where Java's URLDecoder (and so API Gateway and this renderer) keeps the character.
      fc.string({ unit: fc.integer({ min: 0, max: 0x7f }).map((c) => String.fromCharCode(c)), maxLength: 4 }).map((s) => s.replaceAll('%', '')),
    );
    fc.assert(
      fc.property(fc.array(token, { maxLength: 25 }), (tokens) => {
        const body = tokens.join('');
        expect(renderEvent(template, body).params).toEqual(decoded(body));
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('any X-Twilio-Signature header value arrives intact', () => {
    fc.assert(
      fc.property(text, (signature) => {
        expect(renderEvent(template, 'a=1', { 'X-Twilio-Signature': signature }).signature).toBe(signature);
      }),
      { numRuns: NUM_RUNS },
    );
  });
});

describe('$util.urlEncode / urlDecode (property-based)', () => {
  it('keeps raw non-ASCII characters as they are, next to %XX escapes too (Java URLDecoder)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 6 }), fc.string({ unit: 'binary', maxLength: 6 }), (a, b) => {
        const rawA = a.replace(/[%+]/g, '');
        const rawB = b.replace(/[%+]/g, '');
        expect(urlDecode(`${rawA}%E6%97%A5${rawB}`)).toBe(`${rawA}日${rawB}`);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('urlDecode(urlEncode(s)) === s, and urlDecode agrees with URLSearchParams on encoded text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 30 }), (s) => {
        expect(urlDecode(urlEncode(s))).toBe(s);
        expect(urlDecode(encodeURIComponent(s))).toBe(s);
        expect(urlEncode(s)).toBe(new URLSearchParams({ s }).toString().slice(2));
      }),
      { numRuns: NUM_RUNS },
    );
  });
});
