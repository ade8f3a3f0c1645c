/** The team-line modules of the page: the directory, the identity hint, how callers are shown and called back. */
import { DirectoryClient, lineStatus, memberName, parseDirectory, teammates, type Directory } from '../../client/src/directory';
import { IDENTITIES_KEY, IDENTITIES_LIMIT, RememberedIdentities, withIdentityHint } from '../../client/src/identities';
import { PageApi } from '../../client/src/page-api';
import { callBackTarget, describeParty, teammateOf } from '../../client/src/phone-format';
import type { KeyValueStorage } from '../../client/src/recent-calls';
import { fetchToken, type FetchLike, type TokenGrant } from '../../client/src/token-client';
import { API_PATHS } from '../../lambda/core/paths';
import type { DirectoryResult } from '../../lambda/handlers/directory';

function memoryStorage(): KeyValueStorage & { data: Map<string, string> } {
  const data = new Map<string, string>();
  return { data, getItem: (k) => data.get(k) ?? null, setItem: (k, v) => void data.set(k, v), removeItem: (k) => void data.delete(k) };
}

/** What the directory handler answers (its own result type, so a change there fails to compile here). */
const ANSWER: DirectoryResult = {
  success: true,
  you: 'Bob',
  line: { number: '+815031234567', voicemail: true, forwarding: false, hours: 'Mon-Fri 09:00-18:00', timeZone: 'Asia/Tokyo' },
  members: [{ clientName: 'Alice', label: 'front desk' }, { clientName: 'Bob' }, { clientName: 'Chiyo', label: '  ' }],
};

describe('directory', () => {
  it('loads the line and its members from /softphone/directory with an empty body', async () => {
    const sent: Array<{ url: string; body: string }> = [];
    const fetch: FetchLike = async (url, init) => {
      sent.push({ url, body: init.body });
      return { status: 200, ok: true, text: async () => JSON.stringify(ANSWER) };
    };
    const api = new PageApi({ apiBaseUrl: () => 'https://api.example/prod', fetch, session: { current: () => 'jwt', refresh: async () => 'jwt' } });
    const d = await new DirectoryClient(api).load();
    expect(sent).toEqual([{ url: `https://api.example/prod${API_PATHS.directory}`, body: '{}' }]);
    expect(d).toEqual({
      you: 'Bob',
      line: { number: '+815031234567', voicemail: true, forwarding: false, hours: 'Mon-Fri 09:00-18:00', timeZone: 'Asia/Tokyo' },
      members: [{ clientName: 'Alice', label: 'front desk' }, { clientName: 'Bob' }, { clientName: 'Chiyo' }],
    });
  });

  it('lists teammates without yourself, in ring order, named with their label', () => {
    const d = parseDirectory(ANSWER as unknown as Record<string, unknown>);
    expect(teammates(d)).toEqual([{ clientName: 'Alice', label: 'front desk' }, { clientName: 'Chiyo' }]);
    expect(teammates(d).map(memberName)).toEqual(['Alice (front desk)', 'Chiyo']);
    const alone: Directory = { ...d, members: [{ clientName: 'Bob' }] };
    expect(teammates(alone)).toEqual([]);
  });

  it('says the line’s status in words', () => {
    const d = parseDirectory(ANSWER as unknown as Record<string, unknown>);
    expect(lineStatus(d.line)).toEqual(['Voicemail on', 'Forwarding off', 'Hours Mon-Fri 09:00-18:00 (Asia/Tokyo)']);
    expect(lineStatus({ number: '+815031234567', voicemail: false, forwarding: true })).toEqual([
      'Voicemail off',
      'Forwarding on',
      'Open at all hours',
    ]);
  });

  it('refuses an answer that is not a directory (a member name Twilio would not accept, missing fields)', () => {
    const bad = (patch: Record<string, unknown>) => () => parseDirectory({ ...(ANSWER as unknown as Record<string, unknown>), ...patch });
    expect(bad({ members: [{ clientName: '<img src=x>' }] })).toThrow(/client name/);
    expect(bad({ members: 'Alice' })).toThrow(/members/);
    expect(bad({ line: { number: '+815031234567', voicemail: 'yes', forwarding: false } })).toThrow(/voicemail/);
    expect(bad({ you: undefined })).toThrow(/you/);
  });
});

describe('the identity hint', () => {
  it('remembers the identity per number, whatever format the number was typed in', () => {
    const storage = memoryStorage();
    const ids = new RememberedIdentities(storage);
    expect(ids.get('+815031234567')).toBeUndefined();
    ids.remember('+81-50-3123-4567', 'Bob');
    ids.remember('+12125550123', 'Ann');
    expect(ids.get('+815031234567')).toBe('Bob');
    expect(ids.get('+81 50 3123 4567')).toBe('Bob');
    expect(ids.get('+12125550123')).toBe('Ann');
    ids.remember('+815031234567', 'Alice');
    expect(ids.get('+815031234567')).toBe('Alice');
    expect(JSON.parse(storage.data.get(IDENTITIES_KEY)!)).toEqual([
      ['+815031234567', 'Alice'],
      ['+12125550123', 'Ann'],
    ]);
  });

  it('keeps at most IDENTITIES_LIMIT numbers, ignores names the API would not issue and corrupt storage', () => {
    const storage = memoryStorage();
    const ids = new RememberedIdentities(storage);
    for (let i = 0; i < IDENTITIES_LIMIT + 5; i++) ids.remember(`+1212555${String(1000 + i)}`, `Device_${i}`);
    expect(JSON.parse(storage.data.get(IDENTITIES_KEY)!)).toHaveLength(IDENTITIES_LIMIT);
    expect(ids.get('+12125551000')).toBeUndefined();
    expect(ids.get(`+1212555${1000 + IDENTITIES_LIMIT + 4}`)).toBe(`Device_${IDENTITIES_LIMIT + 4}`);
    ids.remember('+815031234567', 'not a name');
    expect(ids.get('+815031234567')).toBeUndefined();
    storage.data.set(IDENTITIES_KEY, '{oops');
    expect(ids.get('+815031234567')).toBeUndefined();
    storage.data.set(
      IDENTITIES_KEY,
      JSON.stringify([
        ['+815031234567', '<script>'],
        ['+815031234567', 'Bob'],
      ]),
    );
    expect(ids.get('+815031234567')).toBe('Bob');
  });

  it('sends the remembered identity as clientName and remembers the one granted', async () => {
    const bodies: unknown[] = [];
    const grants: Array<Partial<TokenGrant> & Record<string, unknown>> = [
      { capabilityToken: 'jwt-1', identity: 'Bob', line: '+815031234567' },
      { capabilityToken: 'jwt-2', identity: 'Bob', line: '+815031234567' },
    ];
    const fetch: FetchLike = async (_url, init) => {
      bodies.push(JSON.parse(init.body));
      return { status: 200, ok: true, text: async () => JSON.stringify({ success: true, expiresAt: '2030-01-01T00:00:00Z', ...grants.shift() }) };
    };
    const storage = memoryStorage();
    const source = withIdentityHint((creds, opts) => fetchToken('http://api', creds, fetch, opts), new RememberedIdentities(storage));
    const creds = { twilioPhoneNumber: '+815031234567', deviceSecret: 'Bob-secret-000000000001' };
    await expect(source(creds)).resolves.toEqual({ token: 'jwt-1', identity: 'Bob', line: '+815031234567', expiresAt: '2030-01-01T00:00:00Z' });
    await source(creds);
    expect(bodies).toEqual([
      { twilioPhoneNumber: '+815031234567', deviceSecret: 'Bob-secret-000000000001' },
      { twilioPhoneNumber: '+815031234567', deviceSecret: 'Bob-secret-000000000001', clientName: 'Bob' },
    ]);
  });

  it('a refused sign-in remembers nothing', async () => {
    const fetch: FetchLike = async () => ({
      status: 403,
      ok: false,
      text: async () => JSON.stringify({ success: false, capabilityToken: null, error: 'Unknown phone number or wrong device secret.' }),
    });
    const storage = memoryStorage();
    const source = withIdentityHint((creds, opts) => fetchToken('http://api', creds, fetch, opts), new RememberedIdentities(storage));
    await expect(source({ twilioPhoneNumber: '+815031234567', deviceSecret: 'wrong-secret-0000000001' })).rejects.toMatchObject({ kind: 'refused' });
    expect(storage.data.size).toBe(0);
  });
});

describe('callers and call back', () => {
  it('shows teammates by name, numbers in national or international format, withheld numbers as such', () => {
    expect(describeParty('client:Alice', 'JP')).toBe('Teammate Alice');
    expect(describeParty('+819059876543', 'JP')).toBe('090-5987-6543');
    expect(describeParty('+12125550123', 'JP')).toBe('+1 212 555 0123');
    expect(describeParty('anonymous', 'JP')).toBe('Number withheld');
    expect(describeParty('', 'JP')).toBe('Number withheld');
    expect(teammateOf('client:')).toBeUndefined();
  });

  it('calls back a number, a teammate, or nothing', () => {
    expect(callBackTarget('+819059876543')).toEqual({ number: '+819059876543' });
    expect(callBackTarget('client:Alice')).toEqual({ teammate: 'Alice' });
    expect(callBackTarget('anonymous')).toBeUndefined();
    expect(callBackTarget('+266696687')).toBeUndefined(); // Twilio's "anonymous" caller number is not a possible number
  });
});
