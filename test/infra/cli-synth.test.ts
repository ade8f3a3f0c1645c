/**
 * `npx cdk synth` for real (the CLI runs bin/twilio-softphone.ts through cdk.json), offline: no AWS account,
 * no credentials, and the test Twilio credentials and device secrets planted in its environment. Then the
 * secrets hygiene scan (issue 7): none of them appears in the template or in any asset (Lambda bundles,
 * source maps, the softphone client) of the cloud assembly.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { STACK_OUTPUT_IDS } from '../../lambda/core/settings';
import { type FunctionId, ROUTES, SUPPORT_FUNCTIONS } from '../../lib/api/routes';
import { DEVICE_SECRET, TEST_CREDENTIALS } from '../support/fixtures';
import { REPO_ROOT } from './synth';

/** Credentials and device secrets that must never reach the assembly. */
const PLANTED = {
  TWILIO_ACCOUNT_SID: 'ACinfrahygiene0000000000000000001',
  TWILIO_API_KEY_SID: 'SKinfrahygiene0000000000000000002',
  TWILIO_API_KEY_SECRET: 'infra-hygiene-api-key-secret-3',
  TWILIO_AUTH_TOKEN: 'infra-hygiene-auth-token-4',
  TWILIO_TWIML_APP_SID: 'APinfrahygiene0000000000000000005',
  DEVICE_SECRET: 'infra-hygiene-device-secret-6',
};
const FORBIDDEN = [...Object.values(PLANTED), TEST_CREDENTIALS.apiKeySecret, TEST_CREDENTIALS.authToken, DEVICE_SECRET];

/** Each function's handler module (lambda/handlers/index.ts). */
const HANDLER_MODULE: Record<FunctionId, string> = {
  token: 'token',
  callIncoming: 'incoming-call',
  callOutgoing: 'outgoing-call',
  callAction: 'call-action',
  forwardScreen: 'forward-screen',
  recordingStatus: 'recording-status',
  callStatus: 'call-status',
  twilioDebugger: 'twilio-debugger',
  preflight: 'preflight',
  voicemails: 'voicemails',
  directory: 'directory',
  calls: 'calls',
  pageAuthorizer: 'page-authorizer',
  registryUpgrade: 'registry-upgrade',
};
const HANDLER_SOURCE = new RegExp(`lambda/handlers/(${Object.values(HANDLER_MODULE).join('|')})\\.ts$`);
/** Only the voicemail functions carry the S3 client, only the recording callback the SNS one (function-deps.ts). */
const SDK_CLIENTS: Partial<Record<FunctionId, string[]>> = { recordingStatus: ['client-s3', 'client-sns'], voicemails: ['client-s3'] };

let outdir: string;
let result: ReturnType<typeof spawnSync>;

beforeAll(() => {
  outdir = mkdtempSync(path.join(tmpdir(), 'softphone-cdk-out-'));
  const env: NodeJS.ProcessEnv = { ...process.env, ...PLANTED, AWS_EC2_METADATA_DISABLED: 'true', CDK_DISABLE_VERSION_CHECK: '1' };
  for (const key of Object.keys(env))
    if (/^AWS_(ACCESS_KEY_ID|SECRET_ACCESS_KEY|SESSION_TOKEN|PROFILE|REGION|DEFAULT_REGION)$/.test(key)) delete env[key];
  env.AWS_CONFIG_FILE = path.join(outdir, 'no-aws-config');
  env.AWS_SHARED_CREDENTIALS_FILE = path.join(outdir, 'no-aws-credentials');
  delete env.NODE_ENV; // as a user runs it (process app mode)
  result = spawnSync(process.execPath, [require.resolve('aws-cdk/bin/cdk'), 'synth', '-q', '-o', outdir, '--no-notices'], {
    cwd: REPO_ROOT,
    env,
    encoding: 'utf8',
    timeout: 240_000,
  });
}, 300_000);

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

describe('npx cdk synth (real CLI, offline, no AWS credentials)', () => {
  it('succeeds with cdk-nag registered (no unacknowledged finding)', () => {
    expect({ status: result.status, stderr: result.status === 0 ? '' : `${result.stdout}${result.stderr}` }).toEqual({ status: 0, stderr: '' });
    expect(`${result.stdout}${result.stderr}`).not.toMatch(/AwsSolutions-/);
    expect(existsSync(path.join(outdir, 'TwilioSoftphoneStack.template.json'))).toBe(true);
  });

  it('the app (bin/twilio-softphone.ts) gives the outputs setup, doctor and the CLIs read, the call log table among them', () => {
    const template = JSON.parse(readFileSync(path.join(outdir, 'TwilioSoftphoneStack.template.json'), 'utf8'));
    expect(Object.keys(template.Outputs).sort()).toEqual(
      [...STACK_OUTPUT_IDS, 'RecordingsBucketName', 'VoicemailTopicArn', 'AlarmTopicArn', 'DashboardName'].sort(),
    );
    const [callsId] = Object.entries(template.Resources as Record<string, { Type: string }>).find(
      ([id, r]) => r.Type === 'AWS::DynamoDB::Table' && id.startsWith('RegistryCalls'),
    )!;
    expect(template.Outputs.CallsTableName.Value).toEqual({ Ref: callsId });
  });

  it('bundles each function with local esbuild: minified index.js + source map, its own handler only', () => {
    const template = JSON.parse(readFileSync(path.join(outdir, 'TwilioSoftphoneStack.template.json'), 'utf8'));
    const fns = Object.entries(
      template.Resources as Record<string, { Type: string; Metadata?: Record<string, string>; Properties: { Description: string } }>,
    ).filter(([id, r]) => r.Type === 'AWS::Lambda::Function' && id.startsWith('Functions'));
    const functions = [...ROUTES, ...SUPPORT_FUNCTIONS];
    expect(fns).toHaveLength(functions.length);
    for (const [, fn] of fns) {
      const { id } = functions.find((f) => fn.Properties.Description.startsWith(`${f.functionName}:`))!;
      const dir = path.join(outdir, fn.Metadata!['aws:asset:path']);
      const js = readFileSync(path.join(dir, 'index.js'), 'utf8');
      expect(existsSync(path.join(dir, 'index.js.map'))).toBe(true);
      expect(js).toContain('sourceMappingURL=index.js.map');
      // Minified: few, long lines.
      expect(js.length / js.split('\n').length).toBeGreaterThan(500);
      // Bundled with lib/lambda-bundling.ts's alias: environment credentials, not the SDK's whole default chain.
      const sources: string[] = JSON.parse(readFileSync(path.join(dir, 'index.js.map'), 'utf8')).sources;
      expect(sources.some((s) => s.endsWith('lambda/adapters/env-credential-provider.ts'))).toBe(true);
      // The one entry, built per function: exactly its own handler module in each bundle.
      expect({ id, handlers: sources.filter((s) => HANDLER_SOURCE.test(s)).map((s) => path.basename(s, '.ts')) }).toEqual({
        id,
        handlers: [HANDLER_MODULE[id]],
      });
      expect(sources.filter((s) => /credential-provider-(node|ini|sso)\//.test(s))).toEqual([]);
      const clients = ['client-s3', 'client-sns'].filter((c) => sources.some((s) => s.includes(`@aws-sdk/${c}/`)));
      expect({ id, clients }).toEqual({ id, clients: SDK_CLIENTS[id] ?? [] });
    }
  });

  it('bundles the softphone client (index.html and the hashed assets it names) into the site assets', () => {
    const dirs = readdirSync(outdir)
      .map((n) => path.join(outdir, n))
      .filter((p) => statSync(p).isDirectory());
    const page = dirs.find((d) => existsSync(path.join(d, 'index.html')));
    expect(page).toBeDefined();
    const named = [...readFileSync(path.join(page!, 'index.html'), 'utf8').matchAll(/(?:src|href)="(assets\/app-[A-Z0-9]+\.(?:js|css))"/g)].map(
      (m) => m[1],
    );
    expect(named).toHaveLength(2);
    // each named asset is in the asset that the immutable deployment uploads
    for (const asset of named) expect(dirs.some((d) => existsSync(path.join(d, asset)))).toBe(true);
  });
});

describe('secrets hygiene: the cloud assembly holds no credential and no device secret', () => {
  it('scans the template, the manifests and every asset file (bundles, source maps, client)', () => {
    const files = filesUnder(outdir);
    expect(files.some((f) => f.endsWith('index.js.map'))).toBe(true);
    const hits: string[] = [];
    let scanned = 0;
    for (const file of files) {
      const text = readFileSync(file).toString('latin1');
      scanned += text.length;
      for (const secret of FORBIDDEN) if (text.includes(secret)) hits.push(`${path.relative(outdir, file)}: ${secret}`);
    }
    expect(hits).toEqual([]);
    expect(scanned).toBeGreaterThan(1_000_000);
  });

  it('the scan is not vacuous: a string that IS in a bundle is found the same way', () => {
    const found = filesUnder(outdir).some((f) => f.endsWith('index.js') && readFileSync(f).toString('latin1').includes('TWILIO_SECRET_ID'));
    expect(found).toBe(true);
  });

  it('the template has no Twilio-looking SID or secret value at all', () => {
    const text = readFileSync(path.join(outdir, 'TwilioSoftphoneStack.template.json'), 'utf8');
    expect(text).not.toMatch(/\b(AC|SK|AP)[0-9a-f]{32}\b/);
    expect(text).not.toMatch(/"SecretString"|"GenerateSecretString"/);
  });
});
