/**
 * The call log's pure rules (lambda/core/call-log.ts): Twilio's status callbacks read into events, events merged
 * into a record whatever their order and however often they come (properties), and the record as people see it.
 */
import fc from 'fast-check';
import {
  type CallEvent,
  type CallRecord,
  CALL_STATUS_RANK,
  type CallStatus,
  callView,
  isMissed,
  isMissedRecord,
  mergeCallEvent,
  sameCallRecord,
  statusEventFromCallback,
} from '../../lambda/core/call-log';

const LINE = '+815031234567';
const CALLER = '+819059876543';
const sid = (n: number) => `CA${n.toString(16).padStart(32, '0')}`;
const PARENT = sid(1);
const T0 = Date.parse('2026-11-30T09:00:00Z');
const rfc2822 = (ms: number) => new Date(ms).toUTCString().replace('GMT', '+0000');

/** A status callback's form parameters as Twilio sends them. */
function callback(leg: string, status: string, seq: number, atMs: number, extra: Record<string, string> = {}): Record<string, string> {
  return {
    AccountSid: `AC${'a'.repeat(32)}`,
    CallSid: leg,
    CallStatus: status,
    SequenceNumber: String(seq),
    Timestamp: rfc2822(atMs),
    CallbackSource: 'call-progress-events',
    ApiVersion: '2010-04-01',
    ...extra,
  };
}

const fold = (events: CallEvent[]): CallRecord => events.reduce<CallRecord | undefined>((r, e) => mergeCallEvent(r, e), undefined) as CallRecord;

/** The events of a missed incoming call rung on two members, in the order Twilio fires them. */
function missedCall(): CallEvent[] {
  const member = (leg: number, name: string) =>
    (['initiated', 'ringing', 'no-answer'] as const).map((status, seq) =>
      statusEventFromCallback(
        callback(sid(leg), status, seq, T0 + 1000 * (seq + 1), { ParentCallSid: PARENT, To: `client:${name}`, From: CALLER }),
        { leg: 'member', line: LINE, caller: CALLER },
        0,
      ),
    );
  const parent = statusEventFromCallback(
    callback(PARENT, 'completed', 0, T0 + 30_000, { From: CALLER, To: LINE, CallDuration: '30', Direction: 'inbound' }),
    {},
    0,
    { line: LINE, direction: 'incoming', remote: CALLER },
  );
  return [...member(2, 'alice'), ...member(3, 'bob'), parent].map((e) => e as CallEvent);
}

/** An incoming call answered by bob after alice's leg was cancelled. */
function answeredCall(): CallEvent[] {
  const leg = (n: number, name: string, statuses: CallStatus[], extra: Record<string, string> = {}) =>
    statuses.map(
      (status, seq) =>
        statusEventFromCallback(
          callback(sid(n), status, seq, T0 + 1000 * (seq + 1), {
            ParentCallSid: PARENT,
            To: `client:${name}`,
            ...(status === 'completed' ? extra : {}),
          }),
          { leg: 'member', line: LINE, caller: CALLER },
          0,
        ) as CallEvent,
    );
  return [
    ...leg(2, 'alice', ['initiated', 'ringing', 'canceled']),
    ...leg(3, 'bob', ['initiated', 'ringing', 'in-progress', 'completed'], { CallDuration: '95' }),
  ];
}

describe('statusEventFromCallback', () => {
  test('a member leg: the parent call is the call, the URL names the line and the caller, Timestamp and SequenceNumber order it', () => {
    const event = statusEventFromCallback(
      callback(sid(2), 'ringing', 1, T0, { ParentCallSid: PARENT, To: 'client:alice' }),
      { leg: 'member', line: LINE, caller: CALLER },
      0,
    );
    expect(event).toEqual({
      kind: 'status',
      callSid: PARENT,
      legSid: sid(2),
      role: 'member',
      to: 'client:alice',
      status: 'ringing',
      sequence: 1,
      at: T0,
      line: LINE,
      direction: 'incoming',
      remote: CALLER,
    });
  });

  test('a callee leg of an outgoing call (a number) and of an internal call (a client)', () => {
    const out = statusEventFromCallback(
      callback(sid(2), 'in-progress', 2, T0, { ParentCallSid: PARENT, To: CALLER }),
      { leg: 'callee', line: LINE, client: 'alice' },
      0,
    );
    expect(out).toMatchObject({ callSid: PARENT, role: 'callee', direction: 'outgoing', placedBy: 'alice', remote: CALLER, line: LINE });
    const internal = statusEventFromCallback(
      callback(sid(2), 'ringing', 1, T0, { ParentCallSid: PARENT, To: 'client:bob' }),
      { leg: 'callee', line: LINE, client: 'alice' },
      0,
    );
    expect(internal).toMatchObject({ direction: 'internal', remote: 'client:bob', placedBy: 'alice' });
  });

  test('the parent call: its own SID, the facts the handler found, CallDuration', () => {
    const event = statusEventFromCallback(callback(PARENT, 'completed', 3, T0, { CallDuration: '42', From: CALLER, To: LINE }), {}, 0, {
      line: LINE,
      direction: 'incoming',
      remote: CALLER,
    });
    expect(event).toMatchObject({
      callSid: PARENT,
      legSid: PARENT,
      role: 'caller',
      status: 'completed',
      durationSeconds: 42,
      line: LINE,
      remote: CALLER,
    });
  });

  test('without a Timestamp the event is placed when it was received; a hostile SequenceNumber or CallDuration is left out', () => {
    const params = callback(sid(2), 'ringing', 1, T0, { ParentCallSid: PARENT, To: 'client:a', SequenceNumber: '1e9', CallDuration: '-4' });
    delete params.Timestamp;
    const event = statusEventFromCallback(params, { leg: 'member', line: LINE }, 12345);
    expect(event?.at).toBe(12345);
    expect(event).not.toHaveProperty('sequence');
    expect(event).not.toHaveProperty('durationSeconds');
  });

  test.each([
    ['no CallSid', { CallSid: '' }, { leg: 'member', line: LINE }],
    ['a CallSid that is not one', { CallSid: 'CA1234' }, { leg: 'member', line: LINE }],
    ['an unknown status', { CallStatus: 'exploded' }, { leg: 'member', line: LINE }],
    ['a leg role that is not ours', {}, { leg: 'spy', line: LINE }],
    ['a line that is not E.164', {}, { leg: 'member', line: '0312345678' }],
    ['a dialled leg without its parent', { ParentCallSid: '' }, { leg: 'member', line: LINE }],
    ['a parent callback naming a parent', {}, {}],
    ['a callee leg without a valid placing client', {}, { leg: 'callee', line: LINE, client: '<script>' }],
  ])('nothing to log: %s', (_name, override, query) => {
    const params = { ...callback(sid(2), 'ringing', 1, T0, { ParentCallSid: PARENT, To: 'client:a' }), ...override };
    expect(statusEventFromCallback(params as Record<string, string>, query, 0)).toBeUndefined();
  });
});

describe('callView: what people see', () => {
  test('a missed incoming call: both members rang, nobody answered', () => {
    const view = callView(fold(missedCall()));
    expect(view).toMatchObject({
      callSid: PARENT,
      line: LINE,
      direction: 'incoming',
      remote: CALLER,
      outcome: 'missed',
      startedAt: new Date(T0 + 1000).toISOString(),
      endedAt: new Date(T0 + 30_000).toISOString(),
    });
    expect(view.member).toBeUndefined();
    expect(view.legs.map((l) => [l.role, l.to, l.status])).toEqual([
      ['caller', LINE, 'completed'],
      ['member', 'client:alice', 'no-answer'],
      ['member', 'client:bob', 'no-answer'],
    ]);
  });

  test('answered: by whom, when, and how long they talked; ringing members that stopped do not matter', () => {
    const view = callView(fold(answeredCall()));
    expect(view).toMatchObject({ outcome: 'answered', member: 'bob', answeredAt: new Date(T0 + 3000).toISOString(), durationSeconds: 95 });
  });

  test('without the parent callback, a call is over once every leg is', () => {
    const events = answeredCall();
    expect(callView(fold(events.slice(0, -1))).outcome).toBe('answered');
    expect(callView(fold(events.slice(0, -1))).endedAt).toBeUndefined();
    expect(callView(fold(events)).endedAt).toBe(new Date(T0 + 4000).toISOString());
    const ringing = missedCall().slice(0, 2);
    expect(callView(fold(ringing)).outcome).toBe('in-progress');
  });

  test('voicemail, forwarded, refused, failed', () => {
    const missed = missedCall();
    expect(callView(fold([...missed, { kind: 'voicemail', callSid: PARENT, at: T0 + 20_000, line: LINE }])).outcome).toBe('voicemail');
    const forward = statusEventFromCallback(
      callback(sid(9), 'completed', 3, T0 + 25_000, { ParentCallSid: PARENT, To: '+819012345678', CallDuration: '12' }),
      { leg: 'forward', line: LINE, caller: CALLER },
      0,
    ) as CallEvent;
    expect(callView(fold([...missed, forward])).outcome).toBe('forwarded');
    const refused = callView(
      fold([
        {
          kind: 'refused',
          callSid: PARENT,
          at: T0,
          line: LINE,
          direction: 'outgoing',
          placedBy: 'alice',
          reason: 'premium-rate',
          remote: '+819012345678',
        },
      ]),
    );
    expect(refused).toMatchObject({ outcome: 'refused', refusedBecause: 'premium-rate', member: 'alice', direction: 'outgoing' });
    const failed = statusEventFromCallback(
      callback(sid(4), 'failed', 1, T0, { ParentCallSid: PARENT, To: '+819012345678' }),
      { leg: 'callee', line: LINE, client: 'alice' },
      0,
    );
    expect(callView(fold([failed as CallEvent])).outcome).toBe('failed');
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Properties: arrival order and repeats do not change the record

/** Shuffles `events` and repeats some of them (Twilio's delivery: any order, at least once). */
const deliveries = (events: CallEvent[]) =>
  fc
    .tuple(
      fc.shuffledSubarray(events, { minLength: events.length, maxLength: events.length }),
      fc.array(fc.nat({ max: events.length - 1 }), { maxLength: 8 }),
    )
    .chain(([order, repeats]) => fc.shuffledSubarray([...order, ...repeats.map((i) => events[i])], { minLength: order.length + repeats.length }));

const STATUSES = Object.keys(CALL_STATUS_RANK) as CallStatus[];
/** Any event of one call: legs from a small pool, any status, sequence and time, notes from our handlers. */
const anyEvent: fc.Arbitrary<CallEvent> = fc.oneof(
  fc.record({
    kind: fc.constant('status' as const),
    callSid: fc.constant(PARENT),
    legSid: fc.constantFrom(PARENT, sid(2), sid(3)),
    role: fc.constantFrom('caller', 'member', 'forward', 'callee'),
    to: fc.constantFrom('client:alice', 'client:bob', CALLER, ''),
    status: fc.constantFrom(...STATUSES),
    sequence: fc.option(fc.nat({ max: 5 }), { nil: undefined }),
    durationSeconds: fc.option(fc.nat({ max: 500 }), { nil: undefined }),
    at: fc.integer({ min: T0, max: T0 + 60_000 }),
    line: fc.option(fc.constantFrom(LINE, '+815099999999'), { nil: undefined }),
    direction: fc.option(fc.constantFrom('incoming', 'outgoing', 'internal'), { nil: undefined }),
    remote: fc.option(fc.constantFrom(CALLER, 'anonymous'), { nil: undefined }),
  }),
  fc.record({
    kind: fc.constant('voicemail' as const),
    callSid: fc.constant(PARENT),
    at: fc.integer({ min: T0, max: T0 + 60_000 }),
    line: fc.constant(LINE),
  }),
  fc.record({
    kind: fc.constant('refused' as const),
    callSid: fc.constant(PARENT),
    at: fc.integer({ min: T0, max: T0 + 60_000 }),
    reason: fc.constantFrom('limit', 'premium-rate'),
    placedBy: fc.constant('alice'),
  }),
) as fc.Arbitrary<CallEvent>;

describe('properties', () => {
  test('a real call: any order, any repeats, the same record and the same view', () => {
    for (const scenario of [missedCall(), answeredCall()]) {
      const expected = fold(scenario);
      fc.assert(
        fc.property(deliveries(scenario), (delivered) => {
          const got = fold(delivered);
          expect(sameCallRecord(got, expected)).toBe(true);
          expect(callView(got)).toEqual(callView(expected));
        }),
        { numRuns: 300 },
      );
    }
  });

  test('any events: merging is commutative, associative and idempotent', () => {
    fc.assert(
      fc.property(fc.array(anyEvent, { minLength: 1, maxLength: 12 }), fc.context(), (events, ctx) => {
        const inOrder = fold(events);
        const reversed = fold([...events].reverse());
        const twice = fold([...events, ...events]);
        ctx.log(JSON.stringify(inOrder));
        expect(sameCallRecord(reversed, inOrder)).toBe(true);
        expect(sameCallRecord(twice, inOrder)).toBe(true);
        // a record already holding an event does not change when it comes again
        for (const e of events) expect(sameCallRecord(mergeCallEvent(inOrder, e), inOrder)).toBe(true);
      }),
      { numRuns: 400 },
    );
  });

  test('isMissedRecord(record) is isMissed(callView(record)), for any events', () => {
    let missed = 0;
    const same = (events: CallEvent[]) => {
      const record = fold(events);
      const expected = isMissed(callView(record));
      if (expected) missed += 1;
      expect(isMissedRecord(record)).toBe(expected);
    };
    fc.assert(fc.property(fc.array(anyEvent, { minLength: 1, maxLength: 12 }), same), { numRuns: 1000 });
    // a real missed call, delivered in any order, with any other events on top: the near misses
    const nearMisses = fc.tuple(deliveries(missedCall()), fc.array(anyEvent, { maxLength: 3 })).map(([a, b]) => [...a, ...b]);
    fc.assert(fc.property(nearMisses, same), { numRuns: 1000 });
    // the properties saw missed calls too, not only the easy "no"
    expect(missed).toBeGreaterThan(200);
  });

  test('sameCallRecord: equal as JSON with sorted keys and undefined members left out (the comparison it replaced)', () => {
    /** What sameCallRecord compared before: both values written out with their keys sorted. */
    const canonical = (value: unknown): string => {
      if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
      if (typeof value === 'object' && value !== null) {
        const entries = Object.entries(value).filter(([, v]) => v !== undefined);
        return `{${entries
          .sort(([a], [b]) => (a < b ? -1 : 1))
          .map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`)
          .join(',')}}`;
      }
      return JSON.stringify(value);
    };
    /** The same value, its keys in reverse order and an undefined member added to every object. */
    const reordered = (value: unknown): unknown => {
      if (Array.isArray(value)) return value.map(reordered);
      if (typeof value !== 'object' || value === null) return value;
      return Object.fromEntries([
        ['zz', undefined],
        ...Object.entries(value)
          .reverse()
          .map(([k, v]) => [k, reordered(v)]),
      ]);
    };
    // What a record can hold: JSON's values, and undefined members (never an undefined array element: JSON and
    // DynamoDB have none, and the old comparison wrote [undefined] as [])
    const { value } = fc.letrec((tie) => ({
      value: fc.oneof({ depthSize: 'small' }, fc.constant(undefined), tie('defined')),
      defined: fc.oneof(
        { depthSize: 'small' },
        fc.constantFrom(null, true, false, 0, -0, 1, Number.NaN, '', 'a', '0'),
        fc.integer({ min: -2, max: 2 }),
        fc.array(tie('defined'), { maxLength: 3 }),
        fc.dictionary(fc.constantFrom('a', 'b', 'c', 'legs'), tie('value'), { maxKeys: 4 }),
      ),
    }));
    const same = (a: unknown, b: unknown) => sameCallRecord(a as CallRecord, b as CallRecord);
    fc.assert(
      fc.property(value, value, (a, b) => {
        expect(same(a, b)).toBe(canonical(a) === canonical(b));
        expect(same(a, reordered(a))).toBe(true);
        expect(same(reordered(a), b)).toBe(canonical(a) === canonical(b));
      }),
      { numRuns: 3000 },
    );
  });

  test('a leg keeps the latest status in Twilio’s order: lifecycle first, then SequenceNumber, then Timestamp', () => {
    fc.assert(
      fc.property(deliveries(missedCall()), (delivered) => {
        const legs = Object.values(fold(delivered).legs);
        for (const leg of legs) expect(['no-answer', 'completed']).toContain(leg.status);
      }),
      { numRuns: 100 },
    );
  });
});
