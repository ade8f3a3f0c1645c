/**
 * `npm start`: the whole product locally — the softphone and the API (same templates, same handlers) on
 * http://127.0.0.1:${PORT:-3000}, devices in an embedded dynalite at ${SOFTPHONE_REGISTRY:-.local/registry}.
 *
 * Exit codes: 0 stopped by Ctrl-C/SIGTERM, 2 bad configuration or credentials, 3 port in use,
 * 4 registry unreadable or in use, 5 the softphone could not be built, 1 anything else.
 */
import { LocalAppError, startLocalApp, type LocalApp } from '../lib/local/app';
import { loadDotEnv, silenceSdkNodeVersionWarning } from '../lib/local/cli-support';
import { registryPathFromEnv } from '../lib/local/registry-server';

const EXIT_CODES: Record<LocalAppError['kind'], number> = { config: 2, 'port-in-use': 3, registry: 4, client: 5 };

function parsePort(raw: string | undefined): number {
  if (raw === undefined || raw.trim() === '') return 3000;
  const port = Number(raw.trim());
  if (!/^\d+$/.test(raw.trim()) || port > 65535) {
    throw new LocalAppError('config', `PORT must be a number from 0 to 65535, got "${raw}"`);
  }
  return port;
}

async function main(): Promise<void> {
  silenceSdkNodeVersionWarning();
  loadDotEnv();
  const registryPath = registryPathFromEnv(process.env);
  const app: LocalApp = await startLocalApp({
    port: parsePort(process.env.PORT),
    host: '127.0.0.1',
    registryPath,
    env: process.env,
    ...(process.env.SOFTPHONE_CLIENT_DIR ? { clientDir: process.env.SOFTPHONE_CLIENT_DIR } : {}),
  });
  const lines = [
    '',
    `Softphone:   ${app.url}/`,
    `API:         ${app.apiBaseUrl}`,
    `  token:            POST ${app.routeUrls.token}`,
    `  incoming webhook: POST ${app.routeUrls.callIncoming}`,
    `  outgoing webhook: POST ${app.routeUrls.callOutgoing}`,
    `Registry:    ${registryPath}`,
    `Credentials: ${app.credentialsSource === 'development' ? 'throwaway development credentials (Twilio refuses them)' : 'TWILIO_* from the environment / .env'}`,
    '',
    'Add a device:   npm run device -- add --number +81-50-3123-4567 --client DeviceId_0001',
    'Sign a webhook: npm run sign -- <url> <form-body>',
    'Twilio cannot reach 127.0.0.1: to take real calls, deploy (npx cdk deploy) or expose this port through a tunnel and set PUBLIC_BASE_URL.',
    'Stop with Ctrl-C.',
    '',
  ];
  console.log(lines.join('\n'));

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      console.log(`${signal} again: exiting now.`);
      process.exit(130);
    }
    stopping = true;
    console.log(`\n${signal}: stopping…`);
    app.close().then(
      () => {
        console.log('Stopped.');
        process.exit(0);
      },
      (err: unknown) => {
        console.error(`Error while stopping: ${(err as Error).message}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err: unknown) => {
  if (err instanceof LocalAppError) {
    console.error(`npm start: ${err.message}`);
    process.exit(EXIT_CODES[err.kind]);
  }
  console.error(`npm start failed: ${(err as Error)?.stack ?? String(err)}`);
  process.exit(1);
});
