import { PageApi, PageApiError, field, type SessionToken } from '../../client/src/page-api';
import { TokenError, type FetchLike } from '../../client/src/token-client';

interface Sent {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: unknown;
}

/** A fetch that answers from a script (status + body, or a thrown network error) and keeps what was sent. */
function scriptedFetch(answers: Array<{ status: number; body?: unknown } | Error>) {
  const sent: Sent[] = [];
  const fetch: FetchLike = async (url, init) => {
    sent.push({ url, method: init.method, headers: init.headers, body: JSON.parse(init.body) });
    const next = answers.shift();
    if (!next) throw new Error('no answer scripted');
    if (next instanceof Error) throw next;
    const text = typeof next.body === 'string' ? next.body : JSON.stringify(next.body ?? {});
    return { status: next.status, ok: next.status >= 200 && next.status < 300, text: async () => text };
  };
  return { fetch, sent };
}

function session(tokens: Array<string | Error>, current: string | null = 'token-1') {
  let now = current ?? undefined;
  const refresh = jest.fn(async () => {
    const next = tokens.shift();
    if (next === undefined) throw new Error('no token scripted');
    if (next instanceof Error) throw next;
    now = next;
    return next;
  });
  const s: SessionToken = { current: () => now, refresh };
  return { session: s, refresh };
}

const ok = (o: Record<string, unknown>) => o.value;

describe('PageApi', () => {
  it('POSTs JSON with the Access Token as a Bearer token to {apiBaseUrl}{path}', async () => {
    const { fetch, sent } = scriptedFetch([{ status: 200, body: { success: true, value: 42 } }]);
    const api = new PageApi({ apiBaseUrl: () => 'http://127.0.0.1:3000/prod/', fetch, session: session([]).session });
    await expect(api.post('/softphone/voicemails', { action: 'list' }, ok)).resolves.toBe(42);
    expect(sent).toEqual([
      {
        url: 'http://127.0.0.1:3000/prod/softphone/voicemails',
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: 'Bearer token-1' },
        body: { action: 'list' },
      },
    ]);
  });

  it('on 401 gets a fresh token once and retries with it', async () => {
    const { fetch, sent } = scriptedFetch([
      { status: 401, body: { success: false, error: 'Sign in again: the session is missing, expired or not valid.' } },
      { status: 200, body: { success: true, value: 'after refresh' } },
    ]);
    const { session: s, refresh } = session(['token-2']);
    const api = new PageApi({ apiBaseUrl: () => 'http://api', fetch, session: s });
    await expect(api.post('/x', {}, ok)).resolves.toBe('after refresh');
    expect(refresh).toHaveBeenCalledTimes(1);
    expect(sent.map((r) => r.headers.Authorization)).toEqual(['Bearer token-1', 'Bearer token-2']);
  });

  it('a second 401 asks to sign in again with the API’s sentence; no third request', async () => {
    const unauthorized = { status: 401, body: { success: false, error: 'Sign in again: the session is missing, expired or not valid.' } };
    const { fetch, sent } = scriptedFetch([unauthorized, unauthorized]);
    const api = new PageApi({ apiBaseUrl: () => 'http://api', fetch, session: session(['token-2']).session });
    await expect(api.post('/x', {}, ok)).rejects.toMatchObject({
      name: 'PageApiError',
      kind: 'unauthorized',
      status: 401,
      message: 'Sign in again: the session is missing, expired or not valid.',
    });
    expect(sent).toHaveLength(2);
  });

  it('a refused token refresh is "sign in again" with the token API’s reason; a network one is a network error', async () => {
    const unauthorized = { status: 401, body: { success: false, error: 'Sign in again: expired.' } };
    const refused = scriptedFetch([unauthorized]);
    const api = new PageApi({
      apiBaseUrl: () => 'http://api',
      fetch: refused.fetch,
      session: session([new TokenError('refused', 'Unknown phone number or wrong device secret.', 403)]).session,
    });
    await expect(api.post('/x', {}, ok)).rejects.toMatchObject({
      kind: 'unauthorized',
      message: 'Sign in again: your session is no longer valid. Unknown phone number or wrong device secret.',
    });

    const offline = scriptedFetch([unauthorized]);
    const api2 = new PageApi({
      apiBaseUrl: () => 'http://api',
      fetch: offline.fetch,
      session: session([new TokenError('network', 'Cannot reach')]).session,
    });
    await expect(api2.post('/x', {}, ok)).rejects.toMatchObject({ kind: 'network', message: 'Cannot reach' });
    const api3 = new PageApi({
      apiBaseUrl: () => 'http://api',
      fetch: scriptedFetch([unauthorized]).fetch,
      session: session([new TokenError('unavailable', 'Temporarily unavailable', 503)]).session,
    });
    await expect(api3.post('/x', {}, ok)).rejects.toMatchObject({ kind: 'unavailable' });
  });

  it('without a token yet, gets one first', async () => {
    const { fetch, sent } = scriptedFetch([{ status: 200, body: { success: true, value: 1 } }]);
    const { session: s, refresh } = session(['token-9'], null);
    await new PageApi({ apiBaseUrl: () => 'http://api', fetch, session: s }).post('/x', {}, ok);
    expect(refresh).toHaveBeenCalledTimes(1);
    expect(sent[0].headers.Authorization).toBe('Bearer token-9');
  });

  it.each([
    [400, 'bad-request', 'action must be one of list, play, markHeard, delete.'],
    [403, 'forbidden', 'This device is no longer registered. Ask your administrator.'],
    [404, 'not-found', 'No such voicemail.'],
    [503, 'unavailable', 'The service is temporarily unavailable. Please try again in a moment.'],
  ] as const)('%i: kind %s with the API’s own sentence', async (status, kind, error) => {
    const { fetch } = scriptedFetch([{ status, body: { success: false, error } }]);
    const api = new PageApi({ apiBaseUrl: () => 'http://api', fetch, session: session([]).session });
    await expect(api.post('/x', {}, ok)).rejects.toEqual(new PageApiError(kind, error, status));
  });

  it('a 500, a non-JSON body, an unexpected shape and a network failure get sentences of our own', async () => {
    const cases: Array<[{ status: number; body?: unknown } | Error, string]> = [
      [{ status: 500, body: { success: false, error: 'Internal server error. Please try again later.' } }, 'server'],
      [{ status: 502, body: '<html>Bad gateway</html>' }, 'server'],
      [{ status: 200, body: { success: false } }, 'server'],
      [{ status: 429, body: { message: 'Too Many Requests' } }, 'unavailable'],
      [new TypeError('Failed to fetch'), 'network'],
    ];
    for (const [answer, kind] of cases) {
      const { fetch } = scriptedFetch([answer]);
      const api = new PageApi({ apiBaseUrl: () => 'http://api', fetch, session: session([]).session });
      const err = (await api.post('/x', {}, ok).catch((e: unknown) => e)) as PageApiError;
      expect(err).toBeInstanceOf(PageApiError);
      expect(err.kind).toBe(kind);
      expect(err.message).not.toMatch(/Internal server error|html|Too Many/);
    }
    const { fetch } = scriptedFetch([{ status: 200, body: { success: true, voicemails: 'nope' } }]);
    const api = new PageApi({ apiBaseUrl: () => 'http://api', fetch, session: session([]).session });
    await expect(api.post('/x', {}, (b) => field.array(b, 'voicemails'))).rejects.toMatchObject({
      kind: 'server',
      message: /voicemails is not a list/,
    });
  });
});

describe('field readers', () => {
  it('take what the API promises and refuse anything else', () => {
    const o = { s: 'a', n: 3, b: false, o: { x: 1 }, a: [{ y: 2 }], nul: null };
    expect(field.string(o, 's')).toBe('a');
    expect(field.optionalString(o, 'missing')).toBeUndefined();
    expect(field.optionalString(o, 'nul')).toBeUndefined();
    expect(field.number(o, 'n')).toBe(3);
    expect(field.boolean(o, 'b')).toBe(false);
    expect(field.object(o, 'o')).toEqual({ x: 1 });
    expect(field.array(o, 'a')).toEqual([{ y: 2 }]);
    expect(() => field.string(o, 'n')).toThrow('n is not a string');
    expect(() => field.optionalString(o, 'n')).toThrow();
    expect(() => field.number({ n: Number.NaN }, 'n')).toThrow();
    expect(() => field.boolean(o, 's')).toThrow();
    expect(() => field.object(o, 'a')).toThrow();
    expect(() => field.array({ a: [1] }, 'a')).toThrow();
  });
});
