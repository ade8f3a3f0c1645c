/** Shared fixtures of the local-app tests: the walkthrough's requests (section 2-8), credentials, a tiny site. */
import { mkdir, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import type { TwilioCredentials } from '../../lambda/ports';

export const TEST_CREDENTIALS: TwilioCredentials = {
  accountSid: 'AC3e0123456789abcdef0123456789abcd',
  apiKeySid: 'SK0123456789abcdef0123456789abcdef',
  apiKeySecret: 'test-api-key-secret-0123456789',
  authToken: '0123456789abcdef0123456789abcdef',
  twimlAppSid: 'AP750123456789abcdef0123456789abcd',
};

export const MY_NUMBER = '+815031234567';
export const CLIENT_NAME = 'DeviceId_0001';

/** The walkthrough's incoming-call body (section 2-8), verbatim. */
export const INCOMING_BODY =
  'ApplicationSid=AP75zzzzzzzzzzzzzzzzzzzzzzzzzzzzzz&ApiVersion=2010-04-01&Called=&Caller=%2B819059876543&CallStatus=ringing&CallSid=CCA86nnnnnnnnnnnnnnnnnnnnnnnnnnnnnn&To=%2B815031234567&From=%2B819059876543&Direction=inbound&AccountSid=AC3exxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx';
/** The walkthrough's outgoing-call body (section 2-8), verbatim. */
export const OUTGOING_BODY =
  'AccountSid=AC3exxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx&ApiVersion=2010-04-01&ApplicationSid=AP75zzzzzzzzzzzzzzzzzzzzzzzzzzzzzz&Called=&Caller=client%3ADeviceId_0001&CallSid=CA06nnnnnnnnnnnnnnnnnnnnnnnnnnnnnn&CallStatus=ringing&Direction=inbound&From=client%3ADeviceId_0001&To=&callerPhoneNumber=%2B81-50-3123-4567&callOutgoingPhoneNumber=%2B81-90-5987-6543';

/** The expected answers, adapted per issue 2 (answerOnBridge; E.164 caller ID and destination). */
export const INCOMING_TWIML =
  '<?xml version="1.0" encoding="UTF-8"?><Response><Dial timeout="60" answerOnBridge="true"><Client>DeviceId_0001</Client></Dial></Response>';
export const OUTGOING_TWIML =
  '<?xml version="1.0" encoding="UTF-8"?><Response><Dial timeout="60" callerId="+815031234567"><Number>+819059876543</Number></Dial></Response>';

export const FORM = 'application/x-www-form-urlencoded; charset=UTF-8';

/** A minimal static site (the real client build is exercised by the CLI test and the e2e test). */
export async function writeSite(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await mkdir(path.join(dir, 'assets'), { recursive: true });
  await writeFile(path.join(dir, 'index.html'), '<!doctype html><title>softphone</title><script src="assets/app-TEST0001.js"></script>');
  await writeFile(path.join(dir, 'assets', 'app-TEST0001.js'), 'console.log("softphone");');
  await writeFile(path.join(dir, 'assets', 'app-TEST0002.css'), 'body{margin:0}');
}

export function decodeJwtPayload(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString('utf8')) as Record<string, unknown>;
}
