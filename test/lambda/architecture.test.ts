/**
 * The layers of `lambda/` (docs/architecture.md), checked on the source: every import, re-export and require of
 * every `.ts` file, read as text.
 * - `lambda/core/` is pure: no AWS SDK (`@aws-sdk/*`, `@smithy/*`), no Powertools (`@aws-lambda-powertools/*`),
 *   nothing from `lambda/adapters/` or `lambda/handlers/`;
 * - `lambda/ports.ts` imports nothing at all;
 * - `lambda/handlers/` import nothing from `lambda/adapters/`: they get the adapters injected (`HandlerDeps`).
 */
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

const LAMBDA = path.resolve(__dirname, '..', '..', 'lambda');

interface ImportOf {
  /** relative to the repository, e.g. `lambda/core/phone.ts` */
  file: string;
  specifier: string;
  /** the file it names, relative to the repository, for a relative specifier */
  target?: string;
}

/** `import … from '…'`, `import '…'`, `export … from '…'`, `import('…')` and `require('…')`, comments ignored. */
const SPECIFIER = /\b(?:import|export)\s+(?:type\s+)?(?:[\w*{}\s,$]+?\s+from\s+)?['"]([^'"]+)['"]|\b(?:require|import)\s*\(\s*['"]([^'"]+)['"]\s*\)/g;

function stripComments(source: string): string {
  return source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
}

function importsOf(absFile: string): ImportOf[] {
  const repo = path.dirname(LAMBDA);
  const file = path.relative(repo, absFile);
  return [...stripComments(readFileSync(absFile, 'utf8')).matchAll(SPECIFIER)].map((m) => {
    const specifier = m[1] ?? m[2];
    const target = specifier.startsWith('.') ? path.relative(repo, path.resolve(path.dirname(absFile), specifier)) : undefined;
    return { file, specifier, target };
  });
}

function tsFilesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => path.join(dir, f));
}

const show = (offenders: ImportOf[]) => offenders.map((i) => `${i.file}: '${i.specifier}'`);
const inside = (target: string | undefined, dir: string) => target !== undefined && (target === dir || target.startsWith(`${dir}/`));

describe('the import reader', () => {
  it('finds every form of import, and not what comments mention', () => {
    const source = [
      "import a from 'a';",
      "import type { B } from 'b';",
      "import * as c from 'c';",
      "import 'd';",
      "export { e } from 'e';",
      "export * from 'f';",
      "export type { G } from 'g';",
      "const h = require('h');",
      "const i = await import('i');",
      'import {',
      '  j,',
      '  k,',
      "} from 'j';",
      "// import x from 'commented-out';",
      "/* require('also-commented-out') */",
    ].join('\n');
    const found = [...stripComments(source).matchAll(SPECIFIER)].map((m) => m[1] ?? m[2]);
    expect(found).toEqual(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j']);
  });
});

describe('lambda/ layers', () => {
  const core = tsFilesUnder(path.join(LAMBDA, 'core'));
  const handlers = tsFilesUnder(path.join(LAMBDA, 'handlers'));

  it('finds the files it checks', () => {
    expect(core.length).toBeGreaterThan(5);
    expect(handlers.length).toBeGreaterThan(3);
    // The check sees real imports: core does import its own modules and libraries.
    expect(core.flatMap(importsOf).length).toBeGreaterThan(5);
  });

  it('lambda/core/ imports no AWS SDK, no Powertools, nothing from adapters/ or handlers/', () => {
    const offenders = core
      .flatMap(importsOf)
      .filter(
        (i) =>
          /^@aws-sdk\/|^@smithy\/|^@aws-lambda-powertools\//.test(i.specifier) ||
          inside(i.target, 'lambda/adapters') ||
          inside(i.target, 'lambda/handlers'),
      );
    expect(show(offenders)).toEqual([]);
  });

  it('lambda/ports.ts imports nothing at all', () => {
    expect(show(importsOf(path.join(LAMBDA, 'ports.ts')))).toEqual([]);
  });

  it('lambda/handlers/ import nothing from adapters/ (the adapters are injected)', () => {
    const offenders = handlers.flatMap(importsOf).filter((i) => inside(i.target, 'lambda/adapters'));
    expect(show(offenders)).toEqual([]);
  });
});
