/** The call-status URL twilio:setup sets as the status callback of the numbers and the TwiML App, and doctor expects. */
import { API_PATHS } from '../../lambda/core/paths';
import { CALL_STATUS_METHOD, callStatusUrl, webhookBaseUrl } from '../../lib/ops/call-status';
import { outputsFor } from './helpers';

const API = 'https://abc123.execute-api.us-east-1.amazonaws.com/prod';

describe('callStatusUrl', () => {
  test('is the call-status route under ApiUrl, posted to', () => {
    expect(callStatusUrl(outputsFor(API))).toBe(`${API}/twilio/call_status`);
    expect(callStatusUrl(outputsFor(API))).toBe(`${API}${API_PATHS.callStatus}`);
    expect(CALL_STATUS_METHOD).toBe('POST');
  });

  test('is on the base the webhooks are called at: a custom domain (publicBaseUrl) when the webhook outputs are on it', () => {
    const custom = { ...outputsFor(API), IncomingCallWebhookUrl: 'https://phone.example.com/twilio/retrieve_twiml/call_incoming' };
    expect(webhookBaseUrl(custom)).toBe('https://phone.example.com');
    expect(callStatusUrl(custom)).toBe('https://phone.example.com/twilio/call_status');
  });

  test('falls back to ApiUrl (trailing slash or not) when the incoming webhook output is not on the incoming-call path', () => {
    const odd = { ApiUrl: `${API}/`, IncomingCallWebhookUrl: 'https://example.com/voice' };
    expect(callStatusUrl(odd)).toBe(`${API}/twilio/call_status`);
    expect(callStatusUrl({ ...odd, ApiUrl: API })).toBe(`${API}/twilio/call_status`);
  });
});
