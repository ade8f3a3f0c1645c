/**
 * The JSONPath subset `$input.json(path)` / `$input.path(path)` need: `$`, `$.a.b`, `$['a']`, `$["a"]`,
 * `$.a[0]`, `$.a['b'][1]`. Anything else is refused with an error.
 */
import { JavaException } from './java-string';

export type PathSegment = string | number;

export function parseJsonPath(path: string): PathSegment[] {
  const p = path.trim();
  if (!p.startsWith('$')) throw new JavaException('InvalidPathException', `JSONPath must start with $: ${path}`);
  const segments: PathSegment[] = [];
  let i = 1;
  while (i < p.length) {
    if (p[i] === '.') {
      const m = /^[^.[\]\s'"]+/.exec(p.slice(i + 1));
      if (!m) throw new JavaException('InvalidPathException', `Unsupported JSONPath: ${path}`);
      segments.push(m[0]);
      i += 1 + m[0].length;
    } else if (p[i] === '[') {
      const rest = p.slice(i);
      const quoted = /^\[\s*(['"])((?:\\.|(?!\1).)*)\1\s*\]/.exec(rest);
      const index = /^\[\s*(\d+)\s*\]/.exec(rest);
      if (quoted) {
        segments.push(quoted[2].replace(/\\(.)/g, '$1'));
        i += quoted[0].length;
      } else if (index) {
        segments.push(Number(index[1]));
        i += index[0].length;
      } else throw new JavaException('InvalidPathException', `Unsupported JSONPath: ${path}`);
    } else throw new JavaException('InvalidPathException', `Unsupported JSONPath: ${path}`);
  }
  return segments;
}

/** The value at the path, or undefined when a segment is missing. */
export function evaluateJsonPath(root: unknown, path: string): unknown {
  let value: unknown = root;
  for (const segment of parseJsonPath(path)) {
    if (value === null || value === undefined || typeof value !== 'object') return undefined;
    if (!Object.hasOwn(value, segment)) return undefined;
    value = (value as Record<string | number, unknown>)[segment];
  }
  return value;
}
