/**
 * Jest global setup (once per `jest` run, before any test file): synthesizes the DEFAULT stack once — as
 * `test/infra/synth.ts` does, bundling skipped, cdk-nag registered, so a finding fails the whole run here — and
 * shares it with the test workers as a JSON file named by SOFTPHONE_TEST_DEFAULT_SYNTHESIS (workers inherit the
 * environment). `defaultTemplate()` / `defaultSynthesis()` read it; `test/global-teardown.ts` deletes it.
 *
 * A run that cannot reach any test reading the default template (e.g. `npx jest test/lambda`) skips the synthesis.
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { Config } from '@jest/types';
import { DEFAULT_SYNTHESIS_ENV, shareableSynthesis, synthesize } from './infra/synth';

/** The test files that read the shared default synthesis. */
function defaultSynthesisReaders(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.test.ts'))
    .map((f) => path.join(dir, f))
    .filter((f) => /\bdefault(Template|Synthesis)\(/.test(readFileSync(f, 'utf8')));
}

/** False only when the run's path patterns certainly select none of those files. */
function mayRunAReader(globalConfig: Config.GlobalConfig): boolean {
  const patterns = globalConfig.testPathPatterns;
  if (!patterns.isSet() || globalConfig.onlyChanged || globalConfig.findRelatedTests || globalConfig.watch || globalConfig.watchAll) return true;
  const executor = patterns.toExecutor({ rootDir: globalConfig.rootDir });
  return defaultSynthesisReaders(__dirname).some((file) => executor.isMatch(file));
}

export default function globalSetup(globalConfig: Config.GlobalConfig): void {
  if (!mayRunAReader(globalConfig)) return;
  const dir = mkdtempSync(path.join(tmpdir(), 'softphone-default-synthesis-'));
  const file = path.join(dir, 'synthesis.json');
  const synthesized = synthesize();
  try {
    writeFileSync(file, JSON.stringify(shareableSynthesis(synthesized)));
  } finally {
    synthesized.cleanUp();
  }
  process.env[DEFAULT_SYNTHESIS_ENV] = file;
}
