/**
 * The Debugger webhook (POST /twilio/debugger_events): Twilio's errors and warnings become TwilioAlerts by Level
 * and one log line with the error code, level, resource SID and the URL Twilio called (without its query); the
 * request's parameters, the response's body and `more_info` never reach the log. Signed like every webhook;
 * anything that is not a Debugger event of this account is answered with an empty `<Response/>` (never a 5xx).
 */
import fc from 'fast-check';
import { RecordingMetrics } from '../../lambda/adapters/recording-metrics';
import { MAX_DEBUGGER_PAYLOAD_CHARS, parseDebuggerEvent, urlWithoutQuery } from '../../lambda/core/debugger-event';
import { API_PATHS } from '../../lambda/core/paths';
import { createTwilioDebuggerHandler } from '../../lambda/handlers/twilio-debugger';
import { CredentialsError, type AttemptStore, type LineDirectory } from '../../lambda/ports';
import { staticCredentials } from '../../lambda/core/credentials';
import { API_DOMAIN, signedEvent, TEST_CREDENTIALS } from '../support/fixtures';
import { callable, RecordingLog, testConfig } from './helpers';

const EMPTY = '<?xml version="1.0" encoding="UTF-8"?><Response/>';
const CALL_SID = 'CA0123456789abcdef0123456789abcdef';
/** A number and what a caller typed: personal data that may ride in a Debugger event, never to be logged. */
const CALLER = '+819059876543';
const DIGITS = '4242';

/** A Debugger event as Twilio posts it: an 11200 (HTTP retrieval failure) on our incoming-call webhook. */
function debuggerParams(overrides: Record<string, string> = {}, payload: Record<string, unknown> = {}): Record<string, string> {
  return {
    AccountSid: TEST_CREDENTIALS.accountSid,
    Sid: 'NO0123456789abcdef0123456789abcdef',
    Timestamp: '2026-03-01T09:00:00.000Z',
    Level: 'ERROR',
    PayloadType: 'application/json',
    Payload: JSON.stringify({
      resource_sid: CALL_SID,
      service_sid: null,
      error_code: '11200',
      more_info: { msg: 'An attempt to retrieve content from the webhook returned the HTTP status code 502', Digits: DIGITS },
      webhook: {
        type: 'application/json',
        request: {
          url: `https://${API_DOMAIN}/prod/twilio/retrieve_twiml/forward_screen?stage=prompt&line=%2B815031234567&caller=${encodeURIComponent(CALLER)}`,
          method: 'POST',
          headers: { 'X-Twilio-Signature': 'c2lnbmF0dXJlLW5vdC10by1sb2c=' },
          parameters: { From: CALLER, Digits: DIGITS, AccountSid: TEST_CREDENTIALS.accountSid },
        },
        response: { status_code: 502, headers: {}, body: `<Response><Say>${CALLER}</Say></Response>` },
      },
      ...payload,
    }),
    ...overrides,
  };
}

function debuggerHandler(credentials = staticCredentials(TEST_CREDENTIALS)) {
  const log = new RecordingLog();
  const metrics = new RecordingMetrics();
  const handler = createTwilioDebuggerHandler({ lines: {} as LineDirectory, attempts: {} as AttemptStore, credentials, config: testConfig() });
  return { call: callable(handler, log, metrics), log, metrics };
}

const event = (params: Record<string, string>) => signedEvent(API_PATHS.twilioDebugger, params);

describe('a Debugger event', () => {
  test('an error: TwilioAlerts{Level=error}, one error line with the code, the level, the resource and the URL without its query', async () => {
    const { call, log, metrics } = debuggerHandler();
    expect(await call(event(debuggerParams()))).toBe(EMPTY);
    expect(metrics.totals()).toEqual({ TwilioAlerts: { error: 1 } });
    expect(log.lines).toEqual([
      {
        level: 'ERROR',
        message: 'Twilio error',
        fields: {
          level: 'error',
          sid: 'NO0123456789abcdef0123456789abcdef',
          errorCode: '11200',
          resourceSid: CALL_SID,
          url: `https://${API_DOMAIN}/prod/twilio/retrieve_twiml/forward_screen`,
          method: 'POST',
          responseStatus: '502',
          timestamp: '2026-03-01T09:00:00.000Z',
        },
      },
    ]);
    // nothing of the request, the response or more_info: no number, no digits, no signature
    for (const secret of [CALLER, encodeURIComponent(CALLER), DIGITS, 'c2lnbmF0dXJl', 'status code 502', TEST_CREDENTIALS.authToken]) {
      expect(log.text).not.toContain(secret);
    }
  });

  test.each([
    ['Warning', 'warning'],
    ['WARNING', 'warning'],
    ['Error', 'error'],
  ])('Level %s counts as %s (a warning is logged as a warning)', async (level, counted) => {
    const { call, log, metrics } = debuggerHandler();
    await call(event(debuggerParams({ Level: level })));
    expect(metrics.totals()).toEqual({ TwilioAlerts: { [counted]: 1 } });
    expect(log.lines.map((l) => [l.level, l.message])).toEqual([counted === 'error' ? ['ERROR', 'Twilio error'] : ['WARN', 'Twilio warning']]);
  });

  test('a subaccount’s event says so, without its SID; a payload without a webhook still names its code', async () => {
    const { call, log } = debuggerHandler();
    await call(
      event(
        debuggerParams({
          ParentAccountSid: 'AC9999999999999999999999999999999a',
          Payload: JSON.stringify({ error_code: 13227, resource_sid: CALL_SID }),
        }),
      ),
    );
    expect(log.lines[0].fields).toEqual({
      level: 'error',
      sid: expect.any(String),
      errorCode: '13227',
      resourceSid: CALL_SID,
      timestamp: expect.any(String),
      subaccount: true,
    });
  });
});

describe('what is not a Debugger event of this account: an empty <Response/> and a warning, never a 5xx', () => {
  test.each<[string, Record<string, string>]>([
    ['another account', { AccountSid: 'AC0000000000000000000000000000000f' }],
    ['no Level', { Level: '' }],
    ['a Level of INFO', { Level: 'INFO' }],
    ['a Level that is markup', { Level: '<script>' }],
    ['a payload that is not JSON', { Payload: '{not json' }],
    ['a payload that is JSON but not an object', { Payload: '[1,2]' }],
    ['another payload type', { PayloadType: 'text/xml' }],
    ['an oversized payload', { Payload: JSON.stringify({ error_code: '1', pad: 'x'.repeat(MAX_DEBUGGER_PAYLOAD_CHARS) }) }],
  ])('%s', async (_what, overrides) => {
    const { call, log, metrics } = debuggerHandler();
    expect(await call(event(debuggerParams(overrides)))).toBe(EMPTY);
    expect(metrics.totals()).toEqual({});
    expect(log.lines.map((l) => l.level)).toEqual(['WARN']);
    expect(log.text).not.toContain(CALLER);
  });

  test('unsigned or forged: 403 like every webhook, counted as a signature rejection', async () => {
    const { call, metrics } = debuggerHandler();
    await expect(call(signedEvent(API_PATHS.twilioDebugger, debuggerParams(), { signature: '' }))).rejects.toThrow('[403] Forbidden');
    await expect(call(signedEvent(API_PATHS.twilioDebugger, debuggerParams(), { authToken: 'forged-auth-token' }))).rejects.toThrow(
      '[403] Forbidden',
    );
    expect(metrics.totals()).toEqual({ SignatureRejected: { '-': 2 } });
  });

  test('the secret unreadable: an empty <Response/>, the failure counted (SecretsManager)', async () => {
    const { call, metrics } = debuggerHandler(async () => {
      throw new CredentialsError('Could not read the Twilio secret');
    });
    expect(await call(event(debuggerParams()))).toBe(EMPTY);
    expect(metrics.totals()).toEqual({ DependencyFailures: { SecretsManager: 1 } });
  });

  test('hostile payload fields: only well-formed identifiers are kept', () => {
    const parsed = parseDebuggerEvent(
      debuggerParams(
        { Sid: 'NO" onmouseover="x', Timestamp: 'yesterday\nERROR forged line' },
        {
          error_code: '11200; DROP TABLE',
          resource_sid: '../../etc/passwd',
          service_sid: { $ne: 1 },
          webhook: { request: { url: 'javascript:alert(1)', method: 'DELETE' }, response: { status_code: '5000' } },
        },
      ),
    );
    expect(parsed).toEqual({ ok: true, alert: { level: 'error' } });
  });

  test('any parameters: the parser never throws, and whatever it keeps is well formed', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.constantFrom('Level', 'Payload', 'PayloadType', 'Sid', 'Timestamp', 'AccountSid', 'x'), fc.string()),
        fc.option(fc.jsonValue(), { nil: undefined }),
        (params, payload) => {
          const withPayload = payload === undefined ? params : { ...params, Payload: JSON.stringify(payload) };
          const parsed = parseDebuggerEvent(withPayload);
          if (!parsed.ok) return;
          const { alert } = parsed;
          expect(['error', 'warning']).toContain(alert.level);
          if (alert.errorCode !== undefined) expect(alert.errorCode).toMatch(/^\d{1,6}$/);
          for (const s of [alert.sid, alert.resourceSid, alert.serviceSid]) if (s !== undefined) expect(s).toMatch(/^[A-Z]{2}[0-9a-fA-F]{32}$/);
          if (alert.url !== undefined) expect(alert.url).not.toMatch(/[?#@]/);
        },
      ),
    );
  });

  test('a URL is kept without its user, query and fragment, and only an http(s) one', () => {
    expect(urlWithoutQuery('https://user:pass@example.com:8443/prod/twilio/call_status?leg=member&caller=%2B1#frag')).toBe(
      'https://example.com:8443/prod/twilio/call_status',
    );
    expect(urlWithoutQuery('ftp://example.com/x')).toBeUndefined();
    expect(urlWithoutQuery('not a url')).toBeUndefined();
    expect(urlWithoutQuery(42)).toBeUndefined();
  });
});
