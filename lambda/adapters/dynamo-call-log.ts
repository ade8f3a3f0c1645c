/**
 * The CallLog on DynamoDB (the calls table, registry-schema.ts): a call's record is one item, rewritten by
 * optimistic concurrency (read, merge the event with lambda/core/call-log.ts, write on the condition that the
 * version read is still there, again on a concurrent write), so two callbacks of one call arriving together
 * both count. A repeated event changes nothing and costs one read. The index `line-startedAt` lists a line's
 * calls newest first. Outgoing calls hold places (slot items) claimed by conditional writes, one at a time.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, type DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { type CallEvent, type CallRecord, mergeCallEvent, sameCallRecord } from '../core/call-log';
import { BadCursorError, type CallLog, type CallPage, RegistryError, type SlotClaim } from '../ports';
import { conditionally, documentClient, dynamoCall, queryAll } from './dynamo';
import {
  CALL_PREFIX,
  CALLS_BY_LINE_INDEX,
  CALLS_INDEX_PK,
  CALLS_INDEX_SK,
  CALL_SK,
  callKey,
  DEVICE_SLOT_PREFIX,
  deviceSlotKey,
  LINE_SLOT_PREFIX,
  lineSlotKey,
  PK,
  SK,
  SLOTS_PREFIX,
  seenKey,
  TTL_ATTRIBUTE,
} from './registry-schema';

type Item = Record<string, unknown>;
const SECONDS_PER_DAY = 86_400;
/** Concurrent writes to one call are a handful of callbacks at once: a few rounds always settle them. */
const MAX_WRITE_ATTEMPTS = 8;
const MAX_CURSOR_LENGTH = 1024;

export class DynamoCallLog implements CallLog {
  private readonly doc: DynamoDBDocumentClient;
  private readonly table: string;
  private readonly retentionSeconds: number;

  constructor(opts: { client: DynamoDBClient; table: string; retentionDays: number }) {
    this.doc = documentClient(opts.client);
    this.table = opts.table;
    this.retentionSeconds = opts.retentionDays * SECONDS_PER_DAY;
  }

  async apply(event: CallEvent): Promise<CallRecord> {
    return (await this.merge(event)).after;
  }

  async merge(event: CallEvent): Promise<{ before?: CallRecord; after: CallRecord }> {
    for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt++) {
      const current = await this.read(event.callSid);
      const next = mergeCallEvent(current?.record, event);
      const changed = (after: CallRecord) => (current ? { before: current.record, after } : { after });
      if (current && sameCallRecord(next, current.record)) return changed(next);
      const item: Item = {
        ...callKey(event.callSid),
        record: next,
        version: (current?.version ?? 0) + 1,
        [TTL_ATTRIBUTE]: Math.floor(next.firstAt / 1000) + this.retentionSeconds,
        [CALLS_INDEX_SK]: new Date(next.firstAt).toISOString(),
        ...(next.line ? { [CALLS_INDEX_PK]: next.line } : {}),
      };
      const written = await conditionally('recordCall', () =>
        this.doc.send(
          new PutCommand({
            TableName: this.table,
            Item: item,
            ...(current
              ? { ConditionExpression: 'version = :v', ExpressionAttributeValues: { ':v': current.version } }
              : { ConditionExpression: 'attribute_not_exists(#pk)', ExpressionAttributeNames: { '#pk': PK } }),
          }),
        ),
      );
      if (written) return changed(next);
    }
    throw new RegistryError('DynamoDB recordCall failed: too many concurrent writes');
  }

  async get(callSid: string): Promise<CallRecord | undefined> {
    return (await this.read(callSid))?.record;
  }

  private async read(callSid: string): Promise<{ record: CallRecord; version: number } | undefined> {
    const out = await dynamoCall('getCall', () =>
      this.doc.send(new GetCommand({ TableName: this.table, Key: callKey(callSid), ConsistentRead: true })),
    );
    const item = out.Item;
    if (!item || typeof item.record !== 'object' || typeof item.version !== 'number') return undefined;
    return { record: item.record as CallRecord, version: item.version };
  }

  async list(line: string, opts: { limit: number; cursor?: string; since?: string }): Promise<CallPage> {
    const start = opts.cursor === undefined ? undefined : decodeCursor(opts.cursor, line);
    const out = await dynamoCall('listCalls', () =>
      this.doc.send(
        new QueryCommand({
          TableName: this.table,
          IndexName: CALLS_BY_LINE_INDEX,
          KeyConditionExpression: opts.since === undefined ? '#line = :line' : '#line = :line AND #started >= :since',
          ExpressionAttributeNames: { '#line': CALLS_INDEX_PK, ...(opts.since === undefined ? {} : { '#started': CALLS_INDEX_SK }) },
          ExpressionAttributeValues: { ':line': line, ...(opts.since === undefined ? {} : { ':since': opts.since }) },
          ScanIndexForward: false,
          Limit: opts.limit,
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      ),
    );
    const calls = (out.Items ?? []).map((i) => i.record as CallRecord).filter((r) => typeof r === 'object' && r !== null);
    return { calls, ...(out.LastEvaluatedKey ? { cursor: encodeCursor(out.LastEvaluatedKey) } : {}) };
  }

  async claimSlots(claim: {
    line: string;
    clientName: string;
    callSid: string;
    perDevice: number;
    perLine: number;
    nowSeconds: number;
    holdSeconds: number;
  }): Promise<SlotClaim> {
    const { line, clientName, callSid, nowSeconds } = claim;
    const slots = await queryAll(this.doc, 'readCallSlots', {
      TableName: this.table,
      KeyConditionExpression: '#pk = :pk',
      ExpressionAttributeNames: { '#pk': PK },
      ExpressionAttributeValues: { ':pk': `${SLOTS_PREFIX}${line}` },
    });
    const held = new Map(slots.map((s) => [String(s[SK]), s]));
    const isFree = (sk: string): boolean => {
      const slot = held.get(sk);
      return !slot || Number(slot[TTL_ATTRIBUTE]) <= nowSeconds || slot.callSid === callSid;
    };
    // A repeated request for the same call finds the places it already holds first, so it never takes two.
    const mineFirst = (keys: Record<string, string>[]) => {
      const mine = (k: Record<string, string>) => held.get(k[SK])?.callSid === callSid;
      return [...keys.filter(mine), ...keys.filter((k) => !mine(k))];
    };
    const deviceKeys = mineFirst(range(claim.perDevice).map((i) => deviceSlotKey(line, clientName, i)));
    const lineKeys = mineFirst(range(claim.perLine).map((i) => lineSlotKey(line, i)));
    const device = await this.takeOne(deviceKeys, isFree, callSid, claim);
    if (!device) return 'device-busy';
    const lineSlot = await this.takeOne(lineKeys, isFree, callSid, claim);
    if (!lineSlot) {
      await this.release(device, callSid);
      return 'line-busy';
    }
    return 'ok';
  }

  /** Takes the first place (in order) that is free now: the one the call already holds, else a free one. */
  private async takeOne(
    keys: Record<string, string>[],
    isFree: (sk: string) => boolean,
    callSid: string,
    claim: { nowSeconds: number; holdSeconds: number },
  ): Promise<Record<string, string> | undefined> {
    for (const key of keys) {
      if (!isFree(key[SK])) continue;
      const taken = await conditionally('claimCallSlot', () =>
        this.doc.send(
          new PutCommand({
            TableName: this.table,
            Item: { ...key, callSid, [TTL_ATTRIBUTE]: claim.nowSeconds + claim.holdSeconds },
            ConditionExpression: 'attribute_not_exists(#pk) OR #exp <= :now OR callSid = :sid',
            ExpressionAttributeNames: { '#pk': PK, '#exp': TTL_ATTRIBUTE },
            ExpressionAttributeValues: { ':now': claim.nowSeconds, ':sid': callSid },
          }),
        ),
      );
      if (taken) return key;
    }
    return undefined;
  }

  async releaseSlots(line: string, callSid: string): Promise<void> {
    const slots = await queryAll(this.doc, 'readCallSlots', {
      TableName: this.table,
      KeyConditionExpression: '#pk = :pk',
      FilterExpression: 'callSid = :sid',
      ExpressionAttributeNames: { '#pk': PK },
      ExpressionAttributeValues: { ':pk': `${SLOTS_PREFIX}${line}`, ':sid': callSid },
    });
    for (const slot of slots) {
      const sk = String(slot[SK]);
      if (sk.startsWith(DEVICE_SLOT_PREFIX) || sk.startsWith(LINE_SLOT_PREFIX)) await this.release({ [PK]: String(slot[PK]), [SK]: sk }, callSid);
    }
  }

  private async release(key: Record<string, string>, callSid: string): Promise<void> {
    await conditionally('releaseCallSlot', () =>
      this.doc.send(
        new DeleteCommand({ TableName: this.table, Key: key, ConditionExpression: 'callSid = :sid', ExpressionAttributeValues: { ':sid': callSid } }),
      ),
    );
  }

  async seenUntil(clientName: string): Promise<string | undefined> {
    const out = await dynamoCall('getSeenMark', () =>
      this.doc.send(new GetCommand({ TableName: this.table, Key: seenKey(clientName), ConsistentRead: true })),
    );
    return typeof out.Item?.seenUntil === 'string' ? out.Item.seenUntil : undefined;
  }

  async markSeen(clientName: string, until: string): Promise<void> {
    await conditionally('markSeen', () =>
      this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...seenKey(clientName), seenUntil: until },
          ConditionExpression: 'attribute_not_exists(seenUntil) OR seenUntil < :until',
          ExpressionAttributeValues: { ':until': until },
        }),
      ),
    );
  }
}

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

/** The index's LastEvaluatedKey as an opaque, URL-safe cursor. */
function encodeCursor(key: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

/** A cursor back into a key, only if it has exactly the shape `encodeCursor` gives for this line. */
function decodeCursor(cursor: string, line: string): Record<string, string> {
  let key: unknown;
  try {
    if (cursor.length > MAX_CURSOR_LENGTH || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw new BadCursorError();
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new BadCursorError();
  }
  const names = [PK, SK, CALLS_INDEX_PK, CALLS_INDEX_SK];
  const k = key as Record<string, unknown>;
  const ok =
    typeof key === 'object' &&
    key !== null &&
    !Array.isArray(key) &&
    Object.keys(k).sort().join() === [...names].sort().join() &&
    names.every((n) => typeof k[n] === 'string') &&
    String(k[PK]).startsWith(CALL_PREFIX) &&
    k[SK] === CALL_SK &&
    k[CALLS_INDEX_PK] === line;
  if (!ok) throw new BadCursorError();
  return k as Record<string, string>;
}
