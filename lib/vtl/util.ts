/**
 * API Gateway's `$util` functions with the semantics of the Java libraries behind them.
 */
import { JavaException } from './java-string';

function hex(code: number): string {
  return code.toString(16).toUpperCase();
}

/**
 * commons-lang `StringEscapeUtils.escapeJavaScript`: `'` → `\'`, `"` → `\"`, `\` → `\\`, `/` → `\/`,
 * `\b \f \n \r \t`, other control characters and every UTF-16 code unit above U+007F → `\uXXXX` (upper-case
 * hex). U+007F itself is left as is.
 */
export function escapeJavaScript(input: string): string {
  let out = '';
  for (let i = 0; i < input.length; i++) {
    const ch = input.charCodeAt(i);
    if (ch > 0xfff) out += `\\u${hex(ch)}`;
    else if (ch > 0xff) out += `\\u0${hex(ch)}`;
    else if (ch > 0x7f) out += `\\u00${hex(ch)}`;
    else if (ch < 32) {
      switch (ch) {
        case 0x08:
          out += '\\b';
          break;
        case 0x0a:
          out += '\\n';
          break;
        case 0x09:
          out += '\\t';
          break;
        case 0x0c:
          out += '\\f';
          break;
        case 0x0d:
          out += '\\r';
          break;
        default:
          out += (ch > 0xf ? '\\u00' : '\\u000') + hex(ch);
      }
    } else {
      switch (input[i]) {
        case "'":
          out += "\\'";
          break;
        case '"':
          out += '\\"';
          break;
        case '\\':
          out += '\\\\';
          break;
        case '/':
          out += '\\/';
          break;
        default:
          out += input[i];
      }
    }
  }
  return out;
}

const utf8Decoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

/** Java `Integer.parseInt(two characters, 16)`: accepts a sign, as Java does. */
function parseHexPair(pair: string): number | undefined {
  if (!/^[+-]?[0-9a-fA-F]+$/.test(pair)) return undefined;
  return parseInt(pair, 16);
}

/**
 * Java `URLDecoder.decode(s, "UTF-8")`: `+` → space; runs of `%XX` → bytes → UTF-8 (malformed sequences become
 * U+FFFD); anything else unchanged. A malformed escape (`%G1`, a trailing `%` or `%4`) throws, as Java does.
 */
export function urlDecode(input: string): string {
  let out = '';
  let i = 0;
  const n = input.length;
  while (i < n) {
    const c = input[i];
    if (c === '+') {
      out += ' ';
      i++;
    } else if (c === '%') {
      const bytes: number[] = [];
      while (i + 2 < n && input[i] === '%') {
        const v = parseHexPair(input.substring(i + 1, i + 3));
        if (v === undefined) {
          throw new JavaException(
            'IllegalArgumentException',
            `URLDecoder: Illegal hex characters in escape (%) pattern - ${input.substring(i + 1, i + 3)}`,
          );
        }
        if (v < 0) {
          throw new JavaException('IllegalArgumentException', 'URLDecoder: Illegal hex characters in escape (%) pattern - negative value');
        }
        bytes.push(v);
        i += 3;
      }
      if (i < n && input[i] === '%') {
        throw new JavaException('IllegalArgumentException', 'URLDecoder: Incomplete trailing escape (%) pattern');
      }
      out += utf8Decoder.decode(Uint8Array.from(bytes));
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/**
 * Java `URLEncoder.encode(s, "UTF-8")`: `A-Z a-z 0-9 . - * _` kept, space → `+`, everything else the `%XX`
 * (upper-case) of its UTF-8 bytes; a lone surrogate is encoded as `?` (`%3F`), as Java's encoder does.
 */
export function urlEncode(input: string): string {
  let out = '';
  for (let i = 0; i < input.length; i++) {
    const ch = input[i];
    if (/[A-Za-z0-9.\-*_]/.test(ch)) {
      out += ch;
      continue;
    }
    if (ch === ' ') {
      out += '+';
      continue;
    }
    const code = input.charCodeAt(i);
    let text = ch;
    if (code >= 0xd800 && code <= 0xdbff && i + 1 < input.length) {
      const next = input.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        text = input.substring(i, i + 2);
        i++;
      } else text = '?';
    } else if (code >= 0xd800 && code <= 0xdfff) text = '?';
    for (const b of Buffer.from(text, 'utf8')) out += `%${b < 16 ? '0' : ''}${hex(b)}`;
  }
  return out;
}

/** `$util.base64Encode`: the UTF-8 bytes of the string, standard base64 with padding. */
export function base64Encode(input: string): string {
  return Buffer.from(input, 'utf8').toString('base64');
}

/** `$util.base64Decode`: standard base64 (padding optional, as Java's basic decoder) → UTF-8 text. */
export function base64Decode(input: string): string {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(input) || input.replace(/=+$/, '').length % 4 === 1) {
    throw new JavaException('IllegalArgumentException', 'Illegal base64 input');
  }
  return utf8Decoder.decode(Buffer.from(input, 'base64'));
}

/** `$util.parseJson`: a JSON text → its value (objects behave as Java maps, arrays as lists). */
export function parseJson(input: string): unknown {
  try {
    return JSON.parse(input);
  } catch (e) {
    throw new JavaException('JsonParseException', (e as Error).message);
  }
}
