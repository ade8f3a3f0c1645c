import {
  JavaException,
  VtlRenderError,
  base64Decode,
  base64Encode,
  createGatewayContext,
  escapeJavaScript,
  javaReplaceAll,
  javaSplit,
  javaTrim,
  lambdaErrorPayload,
  renderRequestTemplate,
  renderResponseTemplate,
  urlDecode,
  urlEncode,
} from '../../lib/vtl';
import type { GatewayRequest } from '../../lib/vtl';

function request(overrides: Partial<GatewayRequest> = {}): GatewayRequest {
  return {
    body: '',
    headers: {},
    context: createGatewayContext({
      domainName: 'abc123.execute-api.ap-northeast-1.amazonaws.com',
      path: '/prod/twilio/retrieve_twiml/call_incoming',
      resourcePath: '/twilio/retrieve_twiml/call_incoming',
    }),
    ...overrides,
  };
}

const render = (template: string, overrides: Partial<GatewayRequest> = {}): string => renderRequestTemplate(template, request(overrides));

describe('$util.escapeJavaScript (commons-lang StringEscapeUtils.escapeJavaScript)', () => {
  it.each([
    ['plain', 'plain'],
    ["it's", "it\\'s"],
    ['say "hi"', 'say \\"hi\\"'],
    ['back\\slash', 'back\\\\slash'],
    ['a/b', 'a\\/b'],
    ['\b\f\n\r\t', '\\b\\f\\n\\r\\t'],
    ['\u0000\u0001\u001f', '\\u0000\\u0001\\u001F'],
    ['\u007f', '\u007f'],
    ['é', '\\u00E9'],
    ['\u0100', '\\u0100'],
    ['日本', '\\u65E5\\u672C'],
    ['😀', '\\uD83D\\uDE00'],
    ['\u2028', '\\u2028'],
  ])('%j → %j', (input, expected) => {
    expect(escapeJavaScript(input)).toBe(expected);
    expect(render('$util.escapeJavaScript($input.body)', { body: input })).toBe(expected);
  });

  it("is valid JSON string content once \\' is replaced, as AWS documents", () => {
    const nasty = `'"\\/\n\u0000é😀\u007f`;
    const out = render(`"$util.escapeJavaScript($input.body).replaceAll("\\\\'","'")"`, { body: nasty });
    expect(JSON.parse(out)).toBe(nasty);
  });
});

describe('$util.urlDecode (java.net.URLDecoder, UTF-8)', () => {
  it.each([
    ['a+b', 'a b'],
    ['%2B81', '+81'],
    ['%E6%97%A5%E6%9C%AC', '日本'],
    ['%F0%9F%98%80', '😀'],
    ['%e6%97%a5', '日'],
    ['100%25', '100%'],
    ['%3D%26', '=&'],
    ['日本', '日本'],
    ['%FF', '\uFFFD'],
    ['%C3', '\uFFFD'],
    ['%EF%BB%BFx', '\uFEFFx'],
    ['%+1', '\u0001'],
    ['', ''],
  ])('%j → %j', (input, expected) => {
    expect(urlDecode(input)).toBe(expected);
  });

  it.each(['%', '%4', 'a%', 'x%G1', '%-1', '%%41'])('refuses the malformed escape %j', (input) => {
    expect(() => urlDecode(input)).toThrow(JavaException);
    expect(() => render('$util.urlDecode($input.body)', { body: input })).toThrow(VtlRenderError);
  });
});

describe('$util.urlEncode (java.net.URLEncoder, UTF-8)', () => {
  it.each([
    ['a b', 'a+b'],
    ['AZaz09.-*_', 'AZaz09.-*_'],
    ['+81=&/~!', '%2B81%3D%26%2F%7E%21'],
    ["'", '%27'],
    ['日', '%E6%97%A5'],
    ['😀', '%F0%9F%98%80'],
    ['\uD800', '%3F'],
  ])('%j → %j', (input, expected) => {
    expect(urlEncode(input)).toBe(expected);
    expect(render('$util.urlEncode($input.body)', { body: input })).toBe(expected);
  });

  it('round-trips through urlDecode', () => {
    const s = 'a b+c=d&e/f 日本😀 \'"\\';
    expect(urlDecode(urlEncode(s))).toBe(s);
  });
});

describe('$util.base64Encode / base64Decode / parseJson', () => {
  it('encodes and decodes UTF-8 text', () => {
    expect(base64Encode('hello 日本')).toBe(Buffer.from('hello 日本').toString('base64'));
    expect(base64Decode(base64Encode('😀 x'))).toBe('😀 x');
    expect(render('$util.base64Decode($util.base64Encode($input.body))', { body: 'a/b+c' })).toBe('a/b+c');
    expect(base64Decode('YQ')).toBe('a');
  });

  it('refuses invalid base64', () => {
    expect(() => base64Decode('a*b=')).toThrow(JavaException);
    expect(() => base64Decode('abcde')).toThrow(JavaException);
  });

  it('parseJson gives maps and lists', () => {
    const t = '#set($o = $util.parseJson($input.body))$o.a.b|$o.list.size()|$o.list.get(1)|$o.get("a").get("b")|$o.containsKey("x")';
    expect(render(t, { body: '{"a":{"b":"B"},"list":[1,2,3]}' })).toBe('B|3|2|B|false');
    expect(() => render('$util.parseJson($input.body)', { body: '{oops' })).toThrow(VtlRenderError);
  });
});

describe('Java String semantics', () => {
  describe('split(regex[, limit])', () => {
    it.each<[string, string, number | undefined, string[]]>([
      ['a&b&c', '&', undefined, ['a', 'b', 'c']],
      ['a&b&&', '&', undefined, ['a', 'b']], // trailing empty strings removed
      ['&a', '&', undefined, ['', 'a']], // a leading empty string is kept for a non-empty match
      ['', '&', undefined, ['']], // no match: the input itself
      ['&&&', '&', undefined, []],
      ['k=v=w', '=', undefined, ['k', 'v', 'w']],
      ['k=v=w', '=', 2, ['k', 'v=w']],
      ['k=', '=', 2, ['k', '']],
      ['k=', '=', undefined, ['k']],
      ['a,b,,', ',', -1, ['a', 'b', '', '']],
      ['a1b22c', '\\d+', undefined, ['a', 'b', 'c']],
      ['a.b', '.', undefined, []], // regex: every character is a separator
      ['a.b', '\\.', undefined, ['a', 'b']],
      ['abc', '', undefined, ['a', 'b', 'c']],
      ['a|b', '\\Q|\\E', undefined, ['a', 'b']],
    ])('%j.split(%j, %j)', (input, regex, limit, expected) => {
      expect(javaSplit(input, regex, limit)).toEqual(expected);
      const call = limit === undefined ? `$input.body.split("${regex}")` : `$input.body.split("${regex}", ${limit})`;
      expect(render(`#foreach($x in ${call})[$x]#end`, { body: input })).toBe(expected.map((x) => `[${x}]`).join(''));
    });
  });

  describe('replaceAll(regex, replacement)', () => {
    it.each([
      ["it\\'s", "\\\\'", "'", "it's"],
      ['a1b2', '(\\d)', '<$1>', 'a<1>b<2>'],
      ['a.b', '\\.', '\\$', 'a$b'],
      ['a-b', '-', '\\\\', 'a\\b'],
      ['aaa', 'a', '$0$0', 'aaaaaa'],
    ])('%j.replaceAll(%j, %j)', (input, regex, replacement, expected) => {
      expect(javaReplaceAll(input, regex, replacement)).toBe(expected);
    });

    it('treats $n greedily only up to the number of groups', () => {
      expect(javaReplaceAll('ab', '(a)(b)', '$21')).toBe('b1');
      expect(javaReplaceAll('abcdefghijk', '(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)(k)', '$11')).toBe('k');
    });

    it('refuses Java-invalid replacements', () => {
      expect(() => javaReplaceAll('a', 'a', '$')).toThrow(JavaException);
      expect(() => javaReplaceAll('a', 'a', '\\')).toThrow(JavaException);
      expect(() => javaReplaceAll('a', 'a', '$x')).toThrow(JavaException);
      expect(() => javaReplaceAll('x', 'x', '$1')).toThrow(/No group 1/);
    });

    it('is used by templates with Velocity string literals ("\\\\\'" is the regex \\\\\')', () => {
      expect(render(`$input.body.replaceAll("\\\\'","'")`, { body: "a\\'b\\\\'c" })).toBe("a'b\\'c");
      expect(render(`$input.body.replaceFirst("o","0")`, { body: 'foo' })).toBe('f0o');
      expect(render(`$input.body.replace(".","!")`, { body: 'a.b.c' })).toBe('a!b!c');
    });
  });

  it('length(), isEmpty(), substring(), indexOf(), lastIndexOf(), charAt()', () => {
    const body = 'Caller=%2B81=x';
    expect(render('$input.body.length()|$input.body.isEmpty()|$input.body.indexOf("=")|$input.body.lastIndexOf("=")', { body })).toBe(
      '14|false|6|12',
    );
    expect(render('$input.body.substring(7)|$input.body.substring(0, 6)|$input.body.charAt(0)', { body })).toBe('%2B81=x|Caller|C');
    expect(render('$input.body.indexOf("=", 7)|$input.body.indexOf("zz")', { body })).toBe('12|-1');
    expect(render('#set($e = "")$e.isEmpty()|$e.length()', { body })).toBe('true|0');
    expect(render('$input.body.length()', { body: '😀' })).toBe('2'); // UTF-16 code units, as Java
  });

  it('substring() out of range throws like Java', () => {
    expect(() => render('$input.body.substring(5)', { body: 'abc' })).toThrow(VtlRenderError);
    expect(() => render('$input.body.substring(2, 1)', { body: 'abc' })).toThrow(/StringIndexOutOfBounds/);
    expect(render('$input.body.substring(3)', { body: 'abc' })).toBe('');
  });

  it('trim() strips only characters <= U+0020', () => {
    expect(javaTrim(' \t\n a b \u0000')).toBe('a b');
    expect(javaTrim('\u00a0x\u3000')).toBe('\u00a0x\u3000');
    expect(render('[$input.body.trim()]', { body: '  x  ' })).toBe('[x]');
  });

  it('contains(), equals(), equalsIgnoreCase(), startsWith(), endsWith(), matches(), toLowerCase()', () => {
    const t =
      '$input.body.contains("Sig")|$input.body.equals("X-Sig")|$input.body.equals("x-sig")|$input.body.equalsIgnoreCase("x-sig")|' +
      '$input.body.startsWith("X-")|$input.body.endsWith("ig")|$input.body.matches("X-\\w+")|$input.body.matches("Sig")|$input.body.toLowerCase()';
    expect(render(t, { body: 'X-Sig' })).toBe('true|true|false|true|true|true|true|false|x-sig');
  });

  it('refuses String methods it does not implement instead of falling back to JavaScript', () => {
    expect(() => render('$input.body.padStart(5)', { body: 'x' })).toThrow(/not supported/);
  });
});

describe('$input', () => {
  it('body, json(path), path(path)', () => {
    const body = '{"a":{"b":"x\\"y"},"n":3,"arr":[1,{"k":"v"}],"s":"str"}';
    expect(render('$input.body', { body })).toBe(body);
    expect(render("$input.json('$')", { body })).toBe(JSON.stringify(JSON.parse(body)));
    expect(render("$input.json('$.a')", { body })).toBe('{"b":"x\\"y"}');
    expect(render("$input.json('$.s')", { body })).toBe('"str"');
    expect(render("$input.path('$.a.b')", { body })).toBe('x"y');
    expect(render('$input.path(\'$["a"]["b"]\')', { body })).toBe('x"y');
    expect(render("$input.path('$.arr[1].k')|$input.path('$.n')", { body })).toBe('v|3');
    expect(render("$input.json('$.missing')", { body })).toBe('null');
    expect(render("$input.path('$.arr').size()", { body })).toBe('2');
  });

  it('treats an empty body as {} and a non-JSON body as a string', () => {
    expect(render("$input.json('$')", { body: '' })).toBe('{}');
    expect(render("$input.path('$')", { body: 'a=b&c=d' })).toBe('a=b&c=d');
  });

  it('params(name): path, then query string, then header (any case); "" when absent', () => {
    const req = {
      pathParams: { id: 'P' },
      query: { id: 'Q', q: 'Q2' },
      headers: { 'X-Twilio-Signature': 'H', id: 'HID' },
    };
    expect(render("$input.params('id')|$input.params('q')|$input.params('X-Twilio-Signature')", req)).toBe('P|Q2|H');
    expect(render("$input.params('x-twilio-signature')|[$input.params('nope')]", req)).toBe('H|[]');
  });

  it('params() gives the three maps; header map keys keep their case', () => {
    const req = { query: { X: '1' }, headers: { 'X-Twilio-Signature': 'sig', Host: 'h' } };
    expect(render('#foreach($k in $input.params().header.keySet())$k=$input.params().header.get($k);#end', req)).toBe(
      'X-Twilio-Signature=sig;Host=h;',
    );
    expect(render("$input.params().querystring.get('X')|$input.params().path.size()", req)).toBe('1|0');
    expect(render("$!input.params().header.get('x-twilio-signature')", req)).toBe('');
  });
});

describe('$context, $stageVariables', () => {
  it('exposes the context and stage variables', () => {
    const t =
      '$context.domainName|$context.path|$context.resourcePath|$context.stage|$context.httpMethod|$context.identity.sourceIp|$stageVariables.env';
    expect(render(t, { stageVariables: { env: 'test' } })).toBe(
      'abc123.execute-api.ap-northeast-1.amazonaws.com|/prod/twilio/retrieve_twiml/call_incoming|/twilio/retrieve_twiml/call_incoming|prod|POST|127.0.0.1|test',
    );
  });
});

describe('Velocity 1.7 semantics', () => {
  it('#foreach with $foreach.hasNext, $foreach.index, $foreach.count, $velocityCount', () => {
    const t = '#foreach($x in $input.body.split(","))$foreach.index:$foreach.count:$velocityCount:$x#if($foreach.hasNext),#end#end';
    expect(render(t, { body: 'a,b,c' })).toBe('0:1:1:a,1:2:2:b,2:3:3:c');
  });

  it('#if/#elseif/#else and #set', () => {
    const t = '#set($n = $input.body.length())#if($n > 3)big#elseif($n == 3)three#{else}small#end';
    expect(render(t, { body: 'abc' })).toBe('three');
    expect(render(t, { body: 'abcd' })).toBe('big');
    expect(render(t, { body: 'a' })).toBe('small');
  });

  it('#set with a null right-hand side leaves the variable unchanged', () => {
    const t = '#set($v = "before")#set($v = $input.params().header.get("absent"))$v';
    expect(render(t)).toBe('before');
  });

  it('#set evaluates its right-hand side once: into a variable, a map entry, with arithmetic, in a loop', () => {
    const t =
      '#set($l = [])#set($m = {})#set($a = $l.add("x"))#set($m.k = $l.add("y"))#set($n = $l.size() + 1)' +
      '#foreach($i in [1, 2])#set($b = $l.add($i))#end$l.size()|$m.k|$n|$a';
    expect(render(t)).toBe('4|true|3|true');
  });

  it('renders an undefined reference as its own text, and $! as nothing', () => {
    expect(render('$nothing|$!nothing|')).toBe('$nothing||');
  });

  it('maps: put/get/containsKey/keySet/size/isEmpty/remove', () => {
    const t =
      '#set($m = {})#set($_ = $m.put("a", "1"))#set($_ = $m.put("a", "2"))$m.get("a")|$m.size()|$m.containsKey("a")|$m.isEmpty()|$m.remove("a")|$m.isEmpty()';
    expect(render(t)).toBe('2|1|true|false|2|true');
  });

  it('has no arithmetic in method arguments (Velocity 1.7) — a parse error, as on AWS', () => {
    expect(() => render('$input.body.substring($x + 1)')).toThrow(VtlRenderError);
  });
});

describe('renderResponseTemplate', () => {
  it('reads the integration result, not the request body', () => {
    const result = JSON.stringify('<?xml version="1.0" encoding="UTF-8"?><Response/>');
    expect(renderResponseTemplate("$input.path('$')", result, request({ body: 'a=b' }))).toBe('<?xml version="1.0" encoding="UTF-8"?><Response/>');
  });

  it('lambdaErrorPayload gives the errorMessage the templates read', () => {
    const payload = lambdaErrorPayload(new Error('[403] {"success":false}'));
    expect(renderResponseTemplate("$input.path('$.errorMessage').substring(6)", payload, request())).toBe('{"success":false}');
  });
});
