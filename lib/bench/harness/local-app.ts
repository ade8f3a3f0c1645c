/**
 * Runs the local app in its own process for the load and browser measurements (so the load generator in
 * the benchmark process does not share an event loop with the server). Started with `node --import tsx`.
 *
 * argv[2]: JSON { registryPath, clientDir?, credentials, device: { number, clientName, secret }, extraDevices, env }
 * IPC out: { url, apiBaseUrl } once listening (or { error }); IPC in: 'close' → stops and exits.
 */
import { addDevice } from '../../devices/device-admin';
import type { LineDirectory, TwilioCredentials } from '../../../lambda/ports';
import { startLocalApp } from '../../local/app';

interface Options {
  registryPath: string;
  clientDir?: string;
  credentials: TwilioCredentials;
  device: { number: string; clientName: string; secret: string };
  /** More devices sharing the first one's secret (and hash), for concurrent sign-ins from distinct numbers. */
  extraDevices: { number: string; clientName: string }[];
  env: NodeJS.ProcessEnv;
}

async function main(): Promise<void> {
  const opts = JSON.parse(process.argv[2]) as Options;
  const app = await startLocalApp({
    port: 0,
    host: '127.0.0.1',
    registryPath: opts.registryPath,
    credentials: opts.credentials,
    clientDir: opts.clientDir,
    env: opts.env,
    log: () => undefined,
  });
  const { record } = await addDevice(app.lines, {
    number: opts.device.number,
    clientName: opts.device.clientName,
    secret: opts.device.secret,
    label: 'bench',
  });
  await putSameSecret(app.lines, record.secretHash, opts.extraDevices);
  const stop = (): void => {
    app.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('message', (m) => m === 'close' && stop());
  // The benchmark died without saying 'close': do not outlive it.
  process.on('disconnect', stop);
  process.send!({ url: app.url, apiBaseUrl: app.apiBaseUrl });
}

/** One slow hash is enough: the extra devices reuse it (same secret), straight through the registry. */
async function putSameSecret(registry: LineDirectory, secretHash: string, devices: Options['extraDevices']): Promise<void> {
  const createdAt = new Date().toISOString();
  for (const d of devices) await registry.put({ phoneNumber: d.number, clientName: d.clientName, secretHash, label: 'bench', createdAt });
}

main().catch((err: unknown) => {
  process.send!({ error: err instanceof Error ? (err.stack ?? err.message) : String(err) }, () => process.exit(1));
});
