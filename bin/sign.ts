/**
 * `npm run sign -- <url> <form-body>`: prints the X-Twilio-Signature Twilio would send for that body posted to
 * that URL, keyed by the Auth Token the app behind the URL checks: the running local app's (on SOFTPHONE_REGISTRY),
 * else TWILIO_AUTH_TOKEN (environment or .env). It never makes up credentials (see `signingAuthToken`).
 */
import { errorText, loadDotEnv, runCli, silenceSdkNodeVersionWarning } from '../lib/local/cli-support';
import { signingAuthToken } from '../lib/local/credentials';
import { registryPathFromEnv } from '../lib/local/registry-server';
import { signWebhook } from '../lib/local/sign';

const USAGE = `Usage: npm run sign -- <url> <form-body>

Prints the X-Twilio-Signature header value for <form-body> (application/x-www-form-urlencoded, as sent)
posted to <url> (the exact public URL Twilio calls), keyed by the Auth Token that URL's app checks:
for the running local app (npm start, on SOFTPHONE_REGISTRY), the credentials it runs with; for any
other URL (the deployed API), TWILIO_AUTH_TOKEN from the environment or .env.

Example:
  npm run sign -- http://127.0.0.1:3000/prod/twilio/retrieve_twiml/call_incoming 'To=%2B815031234567&From=%2B819059876543'
`;

async function main(): Promise<number> {
  silenceSdkNodeVersionWarning();
  const args = process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (args.length !== 2) {
    process.stderr.write(USAGE);
    return 2;
  }
  const [url, body] = args;
  try {
    new URL(url);
  } catch {
    process.stderr.write(`sign: "${url}" is not an absolute URL\n`);
    return 2;
  }
  loadDotEnv();
  const authToken = await signingAuthToken(url, process.env, registryPathFromEnv(process.env));
  process.stdout.write(`${signWebhook(authToken, url, body)}\n`);
  return 0;
}

runCli(main, { exit: true, onError: (err) => ({ message: `sign: ${errorText(err)}`, exitCode: 1 }) });
