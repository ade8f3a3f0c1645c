/**
 * The registry of lines on DynamoDB (DynamoLineDirectory, DynamoVoicemailStore) over dynalite, the real protocol:
 * a line holds at most 10 devices even under concurrent adds, a client name is unique across lines even under
 * concurrent puts, removal frees both, a member count left too high by an interrupted add is repaired, only
 * sign-in ever reads secret hashes, and voicemails are kept once per recording, newest first, until they expire.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { CLAIM_STALE_SECONDS, DynamoLineDirectory } from '../../lambda/adapters/dynamo-line-directory';
import { documentClient } from '../../lambda/adapters/dynamo';
import { claimKey, lineKey } from '../../lambda/adapters/registry-schema';
import { DEFAULT_LINE_SETTINGS, type LineSettings, MAX_LINE_MEMBERS } from '../../lambda/core/line';
import { DuplicateClientNameError, LineFullError, UnknownLineError, type Voicemail } from '../../lambda/ports';
import { addMembers, freshLineTables, memberRecord, useLineRegistry } from '../support/lines';

const LINE_A = '+815031234567';
const LINE_B = '+815031234568';
const LINE_C = '+81312345678';

const reg = useLineRegistry();
const doc = () => documentClient(reg.client);

async function memberCount(line: string): Promise<unknown> {
  const out = await doc().send(new GetCommand({ TableName: reg.registryTable, Key: lineKey(line), ConsistentRead: true }));
  return out.Item?.memberCount;
}

const names = (n: number, prefix = 'dev') => Array.from({ length: n }, (_, i) => `${prefix}_${String(i).padStart(2, '0')}`);

describe('a line holds at most 10 devices', () => {
  test('ten are added, the eleventh is refused with LineFullError and leaves nothing behind', async () => {
    await addMembers(reg.lines, LINE_A, names(MAX_LINE_MEMBERS));
    const eleventh = await memberRecord(LINE_A, 'dev_10');
    await expect(reg.lines.put(eleventh)).rejects.toThrow(LineFullError);
    await expect(reg.lines.put(eleventh)).rejects.toThrow(`The line ${LINE_A} already has 10 devices`);
    expect((await reg.lines.findLine(LINE_A))?.members.map((m) => m.clientName)).toEqual(names(MAX_LINE_MEMBERS));
    expect(await memberCount(LINE_A)).toBe(MAX_LINE_MEMBERS);
    // its name is not held: another line may take it
    expect(await reg.lines.findByClientName('dev_10')).toBeUndefined();
    await expect(reg.lines.put(await memberRecord(LINE_B, 'dev_10'))).resolves.toBeUndefined();
  });

  test('replacing a member of a full line (same client name: a new secret) is not an eleventh device', async () => {
    await addMembers(reg.lines, LINE_A, names(MAX_LINE_MEMBERS));
    const rotated = await memberRecord(LINE_A, 'dev_03', { secret: 'a rotated secret', createdAt: '2024-01-01T00:00:00.003Z' });
    await reg.lines.put(rotated);
    const signIn = await reg.lines.findForSignIn(LINE_A);
    expect(signIn).toHaveLength(MAX_LINE_MEMBERS);
    expect(signIn.find((m) => m.clientName === 'dev_03')?.secretHash).toBe(rotated.secretHash);
    expect(await memberCount(LINE_A)).toBe(MAX_LINE_MEMBERS);
  });

  test('twelve concurrent adds to one line: exactly ten succeed, two are refused with LineFullError', async () => {
    const records = await Promise.all(
      names(12, 'race').map((n, i) => memberRecord(LINE_A, n, { createdAt: new Date(Date.UTC(2024, 0, 1, 0, 0, i)).toISOString() })),
    );
    const results = await Promise.allSettled(records.map((r) => reg.lines.put(r)));
    const fulfilled = results.filter((r) => r.status === 'fulfilled');
    const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(fulfilled).toHaveLength(MAX_LINE_MEMBERS);
    expect(rejected).toHaveLength(2);
    for (const r of rejected) expect(r.reason).toBeInstanceOf(LineFullError);
    const members = (await reg.lines.findLine(LINE_A))!.members;
    expect(members).toHaveLength(MAX_LINE_MEMBERS);
    expect(await memberCount(LINE_A)).toBe(MAX_LINE_MEMBERS);
    // the refused ones hold no name
    const refused = records.filter((_, i) => results[i].status === 'rejected').map((r) => r.clientName);
    for (const name of refused) expect(await reg.lines.findByClientName(name)).toBeUndefined();
  });

  test('twelve concurrent adds whose device writes are all still in flight: still exactly ten (the count repair must not count in-flight adds as free places)', async () => {
    // The interleaving, made deterministic on the wire: an SDK middleware on this client holds each PutItem of a
    // member item until every add has either reached that write or failed. So every place is reserved before
    // any device lands, and the refused adds look at the line while the others' devices are on their way. (A
    // safety valve lets the writes go after 20 s, so another design of the adapter cannot deadlock here.)
    const slow = new DynamoDBClient({
      endpoint: reg.server.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'AKIDTESTFAKE', secretAccessKey: 'test-secret-not-real' },
    });
    const ADDS = 12;
    let held = 0;
    let failed = 0;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const valve = setTimeout(release, 20_000);
    const check = () => {
      if (held + failed >= ADDS) release();
    };
    slow.middlewareStack.add(
      (next) => async (args) => {
        const item = (args.input as { Item?: Record<string, unknown> }).Item;
        if (String(item?.sk ?? '').startsWith('MEMBER#')) {
          held++;
          check();
          await gate;
        }
        return next(args);
      },
      { step: 'initialize', name: 'holdDeviceWrites' },
    );
    try {
      const lines = new DynamoLineDirectory({ client: slow, table: reg.registryTable });
      const records = await Promise.all(names(ADDS, 'held').map((n) => memberRecord(LINE_A, n)));
      const results = await Promise.allSettled(
        records.map((r) =>
          lines.put(r).catch((err: unknown) => {
            failed++;
            check();
            throw err;
          }),
        ),
      );
      expect((await reg.lines.findForSignIn(LINE_A)).length).toBeLessThanOrEqual(MAX_LINE_MEMBERS);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(MAX_LINE_MEMBERS);
      for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(LineFullError);
    } finally {
      clearTimeout(valve);
      slow.destroy();
    }
  });

  test('concurrent adds to a line that already has eight: exactly two more get in', async () => {
    await addMembers(reg.lines, LINE_A, names(8));
    const records = await Promise.all(names(5, 'late').map((n) => memberRecord(LINE_A, n)));
    const results = await Promise.allSettled(records.map((r) => reg.lines.put(r)));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(2);
    expect((await reg.lines.findForSignIn(LINE_A)).length).toBe(MAX_LINE_MEMBERS);
  });
});

describe('client names are unique across lines', () => {
  test('a name on one line is refused on another (DuplicateClientNameError naming the holder)', async () => {
    await addMembers(reg.lines, LINE_A, ['alice']);
    const err = await reg.lines.put(await memberRecord(LINE_B, 'alice')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DuplicateClientNameError);
    expect((err as DuplicateClientNameError).heldBy).toBe(LINE_A);
    expect(await reg.lines.findLine(LINE_B)).toBeUndefined();
  });

  test('concurrent puts of one name on two lines: exactly one succeeds, the other line gets nothing', async () => {
    for (let round = 0; round < 5; round++) {
      const name = `contested_${round}`;
      const [a, b] = [await memberRecord(LINE_A, name), await memberRecord(LINE_B, name)];
      const results = await Promise.allSettled([reg.lines.put(a), reg.lines.put(b)]);
      const winners = results.map((r, i) => (r.status === 'fulfilled' ? [LINE_A, LINE_B][i] : undefined)).filter(Boolean);
      expect(winners).toHaveLength(1);
      const loser = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect(loser?.reason).toBeInstanceOf(DuplicateClientNameError);
      expect((await reg.lines.findByClientName(name))?.phoneNumber).toBe(winners[0]);
      const loserLine = winners[0] === LINE_A ? LINE_B : LINE_A;
      expect((await reg.lines.findLine(loserLine))?.members.map((m) => m.clientName) ?? []).not.toContain(name);
    }
  });

  test('a claim left by an interrupted put (no device) is taken over only once stale', async () => {
    let nowMs = Date.parse('2024-06-01T00:00:00Z');
    const lines = new DynamoLineDirectory({ client: reg.client, table: reg.registryTable, now: () => nowMs });
    // an interrupted put on LINE_A: its claim was written, its device never was
    await doc().send(
      new PutCommand({ TableName: reg.registryTable, Item: { ...claimKey('ghost'), line: LINE_A, claimedAt: Math.floor(nowMs / 1000) } }),
    );
    expect(await lines.findByClientName('ghost')).toBeUndefined();
    // a concurrent put may still be between its claim and its device: the claim holds for now
    nowMs += (CLAIM_STALE_SECONDS - 5) * 1000;
    await expect(lines.put(await memberRecord(LINE_B, 'ghost'))).rejects.toThrow(DuplicateClientNameError);
    nowMs += 10 * 1000;
    await lines.put(await memberRecord(LINE_B, 'ghost'));
    expect((await lines.findByClientName('ghost'))?.phoneNumber).toBe(LINE_B);
  });
});

describe('remove', () => {
  test('frees the name (another line may take it) and a place on the line', async () => {
    await addMembers(reg.lines, LINE_A, names(MAX_LINE_MEMBERS));
    const removed = await reg.lines.remove('dev_04');
    expect(removed).toEqual({ phoneNumber: LINE_A, clientName: 'dev_04', createdAt: expect.any(String) });
    expect(removed).not.toHaveProperty('secretHash');
    expect(await memberCount(LINE_A)).toBe(MAX_LINE_MEMBERS - 1);
    expect(await reg.lines.findByClientName('dev_04')).toBeUndefined();
    // a place: a new device joins the full line again
    await reg.lines.put(await memberRecord(LINE_A, 'newcomer'));
    await expect(reg.lines.put(await memberRecord(LINE_A, 'one_too_many'))).rejects.toThrow(LineFullError);
    // the name: another line takes it
    await reg.lines.put(await memberRecord(LINE_B, 'dev_04'));
    expect((await reg.lines.findByClientName('dev_04'))?.phoneNumber).toBe(LINE_B);
  });

  test('an unknown name removes nothing; removing twice removes once; the line and its settings stay', async () => {
    await addMembers(reg.lines, LINE_A, ['alice']);
    await reg.lines.putSettings(LINE_A, { ...DEFAULT_LINE_SETTINGS, ringSeconds: 45 });
    expect(await reg.lines.remove('nobody')).toBeUndefined();
    expect(await reg.lines.remove('alice')).toMatchObject({ clientName: 'alice' });
    expect(await reg.lines.remove('alice')).toBeUndefined();
    expect(await memberCount(LINE_A)).toBe(0);
    expect(await reg.lines.findLine(LINE_A)).toEqual({ number: LINE_A, settings: { ...DEFAULT_LINE_SETTINGS, ringSeconds: 45 }, members: [] });
  });
});

describe('a member count left too high', () => {
  // The directory's clock: an interrupted add is found out later (a minute on, as a stale claim is); the count
  // is bumped in the table directly, as the reservation of an add cut short before its device write leaves it.
  let nowMs = Date.now();
  const clocked = () => new DynamoLineDirectory({ client: reg.client, table: reg.registryTable, now: () => nowMs });
  const bump = (expression: string, values: Record<string, number>) =>
    doc().send(
      new UpdateCommand({ TableName: reg.registryTable, Key: lineKey(LINE_A), UpdateExpression: expression, ExpressionAttributeValues: values }),
    );

  test('by interrupted adds (the count bumped, no device) is repaired from the members when it would refuse one', async () => {
    const lines = clocked();
    await addMembers(lines, LINE_A, names(3));
    for (let i = 0; i < 7; i++) await bump('SET memberCount = memberCount + :one', { ':one': 1 });
    expect(await memberCount(LINE_A)).toBe(MAX_LINE_MEMBERS);
    nowMs += (CLAIM_STALE_SECONDS + 1) * 1000;
    await lines.put(await memberRecord(LINE_A, 'fourth'));
    expect(await memberCount(LINE_A)).toBe(4);
    expect((await lines.findLine(LINE_A))?.members).toHaveLength(4);
  });

  test('a count beyond the limit is repaired too, and the line still stops at ten real devices', async () => {
    const lines = clocked();
    await addMembers(lines, LINE_A, names(9));
    await bump('SET memberCount = :n', { ':n': 25 });
    nowMs += (CLAIM_STALE_SECONDS + 1) * 1000;
    await lines.put(await memberRecord(LINE_A, 'tenth'));
    expect(await memberCount(LINE_A)).toBe(MAX_LINE_MEMBERS);
    await expect(lines.put(await memberRecord(LINE_A, 'eleventh'))).rejects.toThrow(LineFullError);
  });
});

describe('reads', () => {
  test('findLine, findByClientName and listLines never return secret hashes; findForSignIn does, in ring order', async () => {
    // added out of name order: ring order is the order added (createdAt), then the name
    const records = [
      await memberRecord(LINE_A, 'zed', { createdAt: '2024-01-01T00:00:00.000Z', label: 'Front desk' }),
      await memberRecord(LINE_A, 'amy', { createdAt: '2024-01-02T00:00:00.000Z' }),
      await memberRecord(LINE_A, 'bob', { createdAt: '2024-01-02T00:00:00.000Z' }),
    ];
    for (const r of [records[2], records[0], records[1]]) await reg.lines.put(r);
    const line = await reg.lines.findLine(LINE_A);
    const listed = await reg.lines.listLines();
    const byName = await reg.lines.findByClientName('zed');
    for (const read of [line, listed, byName]) {
      const text = JSON.stringify(read);
      expect(text).not.toContain('secretHash');
      expect(text).not.toContain('scrypt$');
    }
    expect(line?.members.map((m) => m.clientName)).toEqual(['zed', 'amy', 'bob']);
    expect(line?.members[0]).toEqual({ phoneNumber: LINE_A, clientName: 'zed', label: 'Front desk', createdAt: '2024-01-01T00:00:00.000Z' });
    expect(byName).toEqual(line?.members[0]);
    const signIn = await reg.lines.findForSignIn(LINE_A);
    expect(signIn.map((m) => [m.clientName, m.secretHash])).toEqual([
      ['zed', records[0].secretHash],
      ['amy', records[1].secretHash],
      ['bob', records[2].secretHash],
    ]);
    expect(await reg.lines.findForSignIn(LINE_B)).toEqual([]);
    expect(await reg.lines.findLine(LINE_B)).toBeUndefined();
  });

  test('a new line has the default settings; putSettings replaces them; an unknown line → UnknownLineError', async () => {
    await addMembers(reg.lines, LINE_A, ['alice']);
    expect((await reg.lines.findLine(LINE_A))?.settings).toEqual(DEFAULT_LINE_SETTINGS);
    const settings: LineSettings = {
      ringSeconds: 30,
      strategy: 'sequential',
      forwardTo: '+819059876543',
      voicemail: false,
      greeting: 'Hello',
      language: 'ja-JP',
      hours: 'Mon-Fri 09:00-18:00',
      timeZone: 'Asia/Tokyo',
    };
    await reg.lines.putSettings(LINE_A, settings);
    expect((await reg.lines.findLine(LINE_A))?.settings).toEqual(settings);
    // replaced as a whole: fields left out go back to the defaults
    await reg.lines.putSettings(LINE_A, { ...DEFAULT_LINE_SETTINGS, ringSeconds: 10 });
    expect((await reg.lines.findLine(LINE_A))?.settings).toEqual({ ...DEFAULT_LINE_SETTINGS, ringSeconds: 10 });
    await expect(reg.lines.putSettings(LINE_B, settings)).rejects.toThrow(UnknownLineError);
    expect(await reg.lines.findLine(LINE_B)).toBeUndefined();
  });

  test('listLines groups members by line, sorted by number, with each line’s settings; claims and voicemails are not lines', async () => {
    await addMembers(reg.lines, LINE_B, ['b1', 'b2']);
    await addMembers(reg.lines, LINE_A, ['a1', 'a2', 'a3']);
    await addMembers(reg.lines, LINE_C, ['c1']);
    await reg.lines.putSettings(LINE_C, { ...DEFAULT_LINE_SETTINGS, voicemail: false });
    await reg.lines.remove('c1');
    await reg.voicemails.add(voicemail(LINE_A, 'a'.repeat(32), '2024-06-01T00:00:00.000Z'));
    const listed = await reg.lines.listLines();
    expect(listed.map((l) => [l.number, l.members.map((m) => m.clientName)])).toEqual([
      [LINE_C, []],
      [LINE_A, ['a1', 'a2', 'a3']],
      [LINE_B, ['b1', 'b2']],
    ]);
    expect(listed[0].settings.voicemail).toBe(false);
    for (const line of listed) for (const m of line.members) expect(m.phoneNumber).toBe(line.number);
    // a line's voicemails are not its members
    expect((await reg.lines.findLine(LINE_A))?.members).toHaveLength(3);
  });

  test('a fresh directory on another table sees nothing of this one', async () => {
    await addMembers(reg.lines, LINE_A, ['alice']);
    const other = await freshLineTables(reg.client);
    expect(await other.lines.listLines()).toEqual([]);
    expect(await other.lines.findByClientName('alice')).toBeUndefined();
  });
});

// ---------------------------------------------------------------------------------------------------------
// Voicemails

const NOW = Math.floor(Date.parse('2024-06-10T00:00:00Z') / 1000);

function voicemail(line: string, hex: string, receivedAt: string, overrides: Partial<Voicemail> = {}): Voicemail {
  const id = `RE${hex}`;
  return {
    line,
    id,
    from: '+819059876543',
    callSid: `CA${'0'.repeat(32)}`,
    durationSeconds: 12,
    recordingKey: `voicemail/${line.slice(1)}/${id}.mp3`,
    heard: false,
    receivedAt,
    expiresAt: NOW + 30 * 86400,
    ...overrides,
  };
}

describe('the voicemail store', () => {
  test('add is idempotent: a repeated callback neither duplicates nor overwrites', async () => {
    const first = voicemail(LINE_A, '1'.repeat(32), '2024-06-09T10:00:00.000Z');
    expect(await reg.voicemails.add(first)).toBe(true);
    expect(await reg.voicemails.add({ ...first, durationSeconds: 99, heard: true })).toBe(false);
    expect(await reg.voicemails.list(LINE_A, NOW)).toEqual([first]);
    expect(await reg.voicemails.get(LINE_A, first.id)).toEqual(first);
    // the same id on another line is another voicemail
    expect(await reg.voicemails.add({ ...first, line: LINE_B })).toBe(true);
  });

  test('list: newest first, only the line’s own, expired ones hidden', async () => {
    const old = voicemail(LINE_A, 'a'.repeat(32), '2024-06-01T08:00:00.000Z');
    const newest = voicemail(LINE_A, 'b'.repeat(32), '2024-06-09T08:00:00.000Z');
    const middle = voicemail(LINE_A, 'c'.repeat(32), '2024-06-05T08:00:00.000Z');
    const expired = voicemail(LINE_A, 'd'.repeat(32), '2024-06-09T09:00:00.000Z', { expiresAt: NOW });
    const otherLine = voicemail(LINE_B, 'e'.repeat(32), '2024-06-09T09:30:00.000Z');
    for (const v of [old, newest, middle, expired, otherLine]) expect(await reg.voicemails.add(v)).toBe(true);
    expect((await reg.voicemails.list(LINE_A, NOW)).map((v) => v.id)).toEqual([newest.id, middle.id, old.id]);
    // one second earlier the last one had not expired yet
    expect((await reg.voicemails.list(LINE_A, NOW - 1)).map((v) => v.id)).toEqual([expired.id, newest.id, middle.id, old.id]);
    expect((await reg.voicemails.list(LINE_B, NOW)).map((v) => v.id)).toEqual([otherLine.id]);
    expect(await reg.voicemails.list(LINE_C, NOW)).toEqual([]);
  });

  test('markHeard and remove: true / the voicemail when it existed, false / undefined otherwise; only on its line', async () => {
    const v = voicemail(LINE_A, 'f'.repeat(32), '2024-06-09T08:00:00.000Z');
    await reg.voicemails.add(v);
    expect(await reg.voicemails.markHeard(LINE_B, v.id)).toBe(false);
    expect(await reg.voicemails.markHeard(LINE_A, v.id)).toBe(true);
    expect((await reg.voicemails.get(LINE_A, v.id))?.heard).toBe(true);
    expect(await reg.voicemails.remove(LINE_B, v.id)).toBeUndefined();
    expect(await reg.voicemails.remove(LINE_A, v.id)).toEqual({ ...v, heard: true });
    expect(await reg.voicemails.remove(LINE_A, v.id)).toBeUndefined();
    expect(await reg.voicemails.markHeard(LINE_A, v.id)).toBe(false);
    expect(await reg.voicemails.get(LINE_A, v.id)).toBeUndefined();
    // markHeard on a removed voicemail did not bring back an empty item
    expect(await reg.voicemails.list(LINE_A, NOW)).toEqual([]);
  });
});
