/**
 * Helpers of the local-app tests: a tiny static site, the command-line tools run as a user runs them (tsx), and
 * `npm start` in the background. Shared data (credentials, the device, the walkthrough's bodies and answers)
 * comes from `test/support/fixtures.ts`.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { runCommand, type CommandResult } from '../support/fixtures';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');
const TSX = path.join(REPO_ROOT, 'node_modules', '.bin', 'tsx');

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

/** Runs `tsx bin/<script> …args` to its end, in `cwd`, with exactly `env`. */
export function runBin(script: string, args: string[], opts: { cwd: string; env: NodeJS.ProcessEnv }): Promise<CommandResult> {
  return runCommand(TSX, [path.join(REPO_ROOT, 'bin', script), ...args], opts);
}

export interface RunningLocalCli {
  child: ChildProcessWithoutNullStreams;
  /** The softphone URL it printed (`http://127.0.0.1:<port>`). */
  url: string;
  /** Everything it printed so far, stdout and stderr. */
  output(): string;
  /** Sends SIGINT (Ctrl-C) and resolves to its exit code. */
  stop(): Promise<number | null>;
}

/** Starts `npm start` (tsx bin/local.ts) and waits until it has printed its URLs and how to stop it. */
export function startLocalCli(opts: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs: number }): Promise<RunningLocalCli> {
  const child = spawn(TSX, [path.join(REPO_ROOT, 'bin', 'local.ts')], { cwd: opts.cwd, env: opts.env });
  let out = '';
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exit = new Promise<number | null>((resolve) => child.on('close', resolve));
  return new Promise<RunningLocalCli>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no URL printed: ${out}`));
    }, opts.timeoutMs);
    void exit.then((code) => {
      clearTimeout(timer);
      reject(new Error(`exited ${code} before printing its URL: ${out}`)); // no-op once resolved
    });
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /Softphone:\s+(http:\/\/127\.0\.0\.1:\d+)\//.exec(out);
      if (m && out.includes('Stop with Ctrl-C.')) {
        clearTimeout(timer);
        resolve({
          child,
          url: m[1],
          output: () => out,
          stop: () => {
            child.kill('SIGINT');
            return exit;
          },
        });
      }
    });
  });
}
