/**
 * `java.lang.String` semantics for the methods mapping templates call, where JavaScript differs:
 * regex-based `split`/`replaceAll`/`replaceFirst`/`matches` (with Java's split limit and trailing-empty rules
 * and Java's replacement syntax), Java's `trim`, bounds-checked `substring`/`charAt`, …
 *
 * Java regexes are translated to JavaScript ones for the common subset (`\Q…\E` quoting, `\A`, `\z`, `\Z`,
 * a leading `(?i)`/`(?s)`/`(?m)`); constructs JavaScript lacks (possessive quantifiers, atomic groups, …)
 * are refused with an error rather than silently misread.
 */

/** A Java exception surfacing from a template (API Gateway answers such a template failure with 500). */
export class JavaException extends Error {
  constructor(
    readonly javaClass: string,
    message: string,
  ) {
    super(`${javaClass}: ${message}`);
    this.name = 'JavaException';
  }
}

function escapeRegexLiteral(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
}

/** Translates a Java regex to a JavaScript RegExp (without the global flag). */
export function javaRegex(pattern: string, extraFlags = ''): RegExp {
  let src = pattern;
  let flags = extraFlags;
  // Leading inline flags: (?i), (?s), (?m), combined (?is) …
  const inline = /^\(\?([ism]+)\)/.exec(src);
  if (inline) {
    for (const f of inline[1]) if (!flags.includes(f)) flags += f;
    src = src.slice(inline[0].length);
  }
  let out = '';
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    if (c === '\\' && i + 1 < src.length) {
      const n = src[i + 1];
      if (n === 'Q') {
        const end = src.indexOf('\\E', i + 2);
        const quoted = end < 0 ? src.slice(i + 2) : src.slice(i + 2, end);
        out += escapeRegexLiteral(quoted);
        i = end < 0 ? src.length : end + 1;
        continue;
      }
      if (n === 'A') {
        out += '^';
        i++;
        continue;
      }
      if (n === 'z') {
        out += '$(?![\\s\\S])';
        i++;
        continue;
      }
      if (n === 'Z') {
        out += '(?=(?:\\r\\n|[\\n\\r\\u0085\\u2028\\u2029])?$(?![\\s\\S]))';
        i++;
        continue;
      }
      out += c + n;
      i++;
      continue;
    }
    if ((c === '+' || c === '*' || c === '?' || c === '}') && src[i + 1] === '+') {
      throw new JavaException('UnsupportedOperationException', `possessive quantifier in regex ${pattern}`);
    }
    if (c === '(' && src.startsWith('(?>', i)) {
      throw new JavaException('UnsupportedOperationException', `atomic group in regex ${pattern}`);
    }
    out += c;
  }
  try {
    return new RegExp(out, flags);
  } catch (e) {
    throw new JavaException('PatternSyntaxException', `${(e as Error).message} (regex ${pattern})`);
  }
}

function globalRegex(pattern: string): RegExp {
  return javaRegex(pattern, 'g');
}

/** Java `Pattern.split(input, limit)` as used by `String.split(regex, limit)` (Java 8+ semantics). */
export function javaSplit(input: string, regex: string, limit = 0): string[] {
  const re = globalRegex(regex);
  const matchLimited = limit > 0;
  const list: string[] = [];
  let index = 0;
  for (let m = re.exec(input); m !== null; m = re.exec(input)) {
    const start = m.index;
    const end = start + m[0].length;
    if (m[0].length === 0) re.lastIndex = end + 1; // Java's find() moves on by one after an empty match
    if (!matchLimited || list.length < limit - 1) {
      if (index === 0 && start === 0 && start === end) continue; // no leading empty string for a zero-width match
      list.push(input.substring(index, start));
      index = end;
    } else if (list.length === limit - 1) {
      list.push(input.substring(index));
      index = end;
    }
    if (re.lastIndex > input.length) break;
  }
  if (index === 0) return [input];
  if (!matchLimited || list.length < limit) list.push(input.substring(index));
  let size = list.length;
  if (limit === 0) while (size > 0 && list[size - 1] === '') size--;
  return list.slice(0, size);
}

/** Java `Matcher.appendReplacement` replacement syntax: `$n`, `${name}`, `\x` = literal x. */
function javaReplacement(replacement: string, m: RegExpExecArray | (string | undefined)[], groups?: Record<string, string | undefined>): string {
  const groupCount = m.length - 1;
  let out = '';
  for (let i = 0; i < replacement.length; i++) {
    const c = replacement[i];
    if (c === '\\') {
      i++;
      if (i >= replacement.length) throw new JavaException('IllegalArgumentException', 'character to be escaped is missing');
      out += replacement[i];
    } else if (c === '$') {
      i++;
      if (i >= replacement.length) throw new JavaException('IllegalArgumentException', 'Illegal group reference: group index is missing');
      if (replacement[i] === '{') {
        const close = replacement.indexOf('}', i);
        if (close < 0) throw new JavaException('IllegalArgumentException', "named capturing group is missing trailing '}'");
        const name = replacement.slice(i + 1, close);
        if (!groups || !(name in groups)) throw new JavaException('IllegalArgumentException', `No group with name {${name}}`);
        out += groups[name] ?? '';
        i = close;
      } else {
        let refNum = replacement.charCodeAt(i) - 48;
        if (refNum < 0 || refNum > 9) throw new JavaException('IllegalArgumentException', 'Illegal group reference');
        while (i + 1 < replacement.length) {
          const d = replacement.charCodeAt(i + 1) - 48;
          if (d < 0 || d > 9) break;
          const next = refNum * 10 + d;
          if (groupCount < next) break;
          refNum = next;
          i++;
        }
        if (refNum > groupCount) throw new JavaException('IndexOutOfBoundsException', `No group ${refNum}`);
        out += m[refNum] ?? '';
      }
    } else {
      out += c;
    }
  }
  return out;
}

function javaReplace(input: string, regex: string, replacement: string, all: boolean): string {
  const re = globalRegex(regex);
  let out = '';
  let last = 0;
  for (let m = re.exec(input); m !== null; m = re.exec(input)) {
    out += input.substring(last, m.index) + javaReplacement(replacement, m, m.groups);
    last = m.index + m[0].length;
    if (m[0].length === 0) {
      // Java copies the character it steps over after an empty match.
      if (m.index < input.length) out += input[m.index];
      last = m.index + 1;
      re.lastIndex = m.index + 1;
      if (m.index >= input.length) break;
    }
    if (!all) break;
  }
  if (last < input.length) out += input.substring(last);
  return out;
}

/** Java `String.replaceAll(regex, replacement)`. */
export function javaReplaceAll(input: string, regex: string, replacement: string): string {
  return javaReplace(input, regex, replacement, true);
}

/** Java `String.replaceFirst(regex, replacement)`. */
export function javaReplaceFirst(input: string, regex: string, replacement: string): string {
  return javaReplace(input, regex, replacement, false);
}

/** Java `String.matches(regex)`: the whole string. */
export function javaMatches(input: string, regex: string): boolean {
  const re = javaRegex(regex);
  return new RegExp(`^(?:${re.source})$`, re.flags).test(input);
}

/** Java `String.trim()`: strips code units <= U+0020 only. */
export function javaTrim(input: string): string {
  let start = 0;
  let end = input.length;
  while (start < end && input.charCodeAt(start) <= 0x20) start++;
  while (end > start && input.charCodeAt(end - 1) <= 0x20) end--;
  return input.substring(start, end);
}

function toInt(value: unknown, what: string): number {
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  if (typeof value === 'string' && /^-?\d+$/.test(value)) return Number(value);
  throw new JavaException('IllegalArgumentException', `${what} is not an integer: ${String(value)}`);
}

/** Java `String.substring(begin[, end])` with its bounds checks. */
export function javaSubstring(input: string, begin: unknown, end?: unknown): string {
  const b = toInt(begin, 'beginIndex');
  const e = end === undefined ? input.length : toInt(end, 'endIndex');
  if (b < 0 || e > input.length || b > e) {
    throw new JavaException('StringIndexOutOfBoundsException', `begin ${b}, end ${e}, length ${input.length}`);
  }
  return input.substring(b, e);
}

function str(value: unknown): string {
  if (value === undefined || value === null) throw new JavaException('NullPointerException', 'null argument');
  return String(value);
}

type JavaStringMethod = (self: string, args: unknown[]) => unknown;

/** The `java.lang.String` methods the renderer offers on strings, by name. */
export const JAVA_STRING_METHODS: Record<string, JavaStringMethod> = {
  length: (s) => s.length,
  isEmpty: (s) => s.length === 0,
  substring: (s, [b, e]) => javaSubstring(s, b, e),
  indexOf: (s, [t, from]) => s.indexOf(str(t), from === undefined ? 0 : Math.max(0, toInt(from, 'fromIndex'))),
  lastIndexOf: (s, [t, from]) =>
    from === undefined ? s.lastIndexOf(str(t)) : toInt(from, 'fromIndex') < 0 ? -1 : s.lastIndexOf(str(t), toInt(from, 'fromIndex')),
  charAt: (s, [i]) => {
    const n = toInt(i, 'index');
    if (n < 0 || n >= s.length) throw new JavaException('StringIndexOutOfBoundsException', `index ${n}, length ${s.length}`);
    return s[n];
  },
  trim: (s) => javaTrim(s),
  contains: (s, [t]) => s.includes(str(t)),
  startsWith: (s, [t, offset]) => s.startsWith(str(t), offset === undefined ? 0 : toInt(offset, 'toffset')),
  endsWith: (s, [t]) => s.endsWith(str(t)),
  equals: (s, [o]) => typeof o === 'string' && o === s,
  equalsIgnoreCase: (s, [o]) => typeof o === 'string' && o.length === s.length && o.toUpperCase() === s.toUpperCase(),
  toLowerCase: (s) => s.toLowerCase(),
  toUpperCase: (s) => s.toUpperCase(),
  toString: (s: string) => s,
  concat: (s, [t]) => s + str(t),
  split: (s, [regex, limit]) => javaSplit(s, str(regex), limit === undefined ? 0 : toInt(limit, 'limit')),
  replaceAll: (s, [regex, repl]) => javaReplaceAll(s, str(regex), str(repl)),
  replaceFirst: (s, [regex, repl]) => javaReplaceFirst(s, str(regex), str(repl)),
  replace: (s, [target, repl]) => {
    const t = str(target);
    const r = str(repl);
    return s.replaceAll(t, () => r);
  },
  matches: (s, [regex]) => javaMatches(s, str(regex)),
  hashCode: (s) => {
    let h = 0;
    for (let i = 0; i < s.length; i++) h = (Math.imul(31, h) + s.charCodeAt(i)) | 0;
    return h;
  },
};
