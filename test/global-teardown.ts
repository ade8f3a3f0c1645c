/** Jest global teardown: deletes the default synthesis the global setup shared (`test/global-setup.ts`). */
import { rmSync } from 'node:fs';
import * as path from 'node:path';
import { DEFAULT_SYNTHESIS_ENV } from './infra/synth';

export default function globalTeardown(): void {
  const file = process.env[DEFAULT_SYNTHESIS_ENV];
  if (!file) return;
  rmSync(path.dirname(file), { recursive: true, force: true });
  delete process.env[DEFAULT_SYNTHESIS_ENV];
}
