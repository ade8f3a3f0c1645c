/**
 * The local registry's read cache (lib/local/read-cache.ts): repeated reads are answered without dynalite, and no
 * answer outlives a write that could change it.
 *
 * 1. The rules, driven by hand: `ReadCache.handle` with a stand-in for dynalite whose answers the test releases,
 *    so writes and reads overlap in exactly the order each test names (no timing).
 * 2. The real thing: the registry on its own thread (as the local app runs it), two clients through the AWS SDK:
 *    every read sees the last write, whoever made it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { BatchWriteCommand, DeleteCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { documentClient } from '../../lambda/adapters/dynamo';
import { ReadCache } from '../../lib/local/read-cache';
import { LOCAL_REGISTRY_TABLE, localDynamoClient, startEmbeddedRegistry } from '../../lib/local/registry-server';

describe('1. the rules', () => {
  /** A response as dynalite writes one (sendData: headers, then end with the body). */
  class FakeResponse {
    statusCode = 200;
    headers: Record<string, string> = {};
    body: string | undefined;
    ended = false;
    setHeader(name: string, value: string) {
      this.headers[name.toLowerCase()] = value;
    }
    getHeaders() {
      return { ...this.headers };
    }
    writeHead(status: number, headers: Record<string, string>) {
      this.statusCode = status;
      for (const [k, v] of Object.entries(headers)) this.setHeader(k, v);
      return this;
    }
    end(body?: string) {
      this.body = body;
      this.ended = true;
      return this;
    }
  }

  /** dynalite stand-in: each forwarded request waits until the test answers it. */
  function harness() {
    const cache = new ReadCache();
    const pending: { answer: (status: number, body: string) => void }[] = [];
    let forwarded = 0;
    const send = (operation: string, request: object, contentType = 'application/x-amz-json-1.0') => {
      const headers: IncomingHttpHeaders = { 'x-amz-target': `DynamoDB_20120810.${operation}`, 'content-type': contentType };
      const res = new FakeResponse();
      cache.handle(headers, Buffer.from(JSON.stringify(request)), res as unknown as ServerResponse, () => {
        forwarded++;
        pending.push({
          answer: (status, body) => {
            res.statusCode = status;
            res.setHeader('Content-Type', contentType);
            res.setHeader('x-amzn-RequestId', 'R');
            res.end(body);
          },
        });
      });
      return { res, answer: (status: number, body: string) => pending.pop()!.answer(status, body) };
    };
    return { cache, send, forwarded: () => forwarded };
  }

  const get = { TableName: 'lines', Key: { pk: { S: 'LINE#1' }, sk: { S: 'LINE' } }, ConsistentRead: true };
  const put = { TableName: 'lines', Item: { pk: { S: 'LINE#1' }, sk: { S: 'LINE' } } };

  it('answers a repeated read from the cache, byte for byte, with a request id of its own', () => {
    const h = harness();
    h.send('GetItem', get).answer(200, '{"Item":1}');
    const again = h.send('GetItem', get);
    expect(h.forwarded()).toBe(1);
    expect(again.res.body).toBe('{"Item":1}');
    expect(again.res.statusCode).toBe(200);
    expect(again.res.headers['content-type']).toBe('application/x-amz-json-1.0');
    expect(again.res.headers['x-amzn-requestid']).toMatch(/^[A-Z0-9]{52}$/);
    expect(h.cache.hits).toBe(1);
  });

  it('drops a table’s answers when a write to it arrives, and keeps other tables’', () => {
    const h = harness();
    const other = { ...get, TableName: 'attempts' };
    h.send('GetItem', get).answer(200, 'old');
    h.send('GetItem', other).answer(200, 'other');
    const write = h.send('PutItem', put);
    // while the write is in flight, reads of its table go to dynalite and are not kept
    h.send('GetItem', get).answer(200, 'during');
    write.answer(200, '{}');
    const after = h.send('GetItem', get);
    expect(h.forwarded()).toBe(5); // 4 reads and the write
    after.answer(200, 'new');
    expect(h.send('GetItem', get).res.body).toBe('new');
    expect(h.send('GetItem', other).res.body).toBe('other');
    expect(h.forwarded()).toBe(5);
  });

  it('does not keep a read that a write overlapped, in either order', () => {
    const h = harness();
    // the read starts first; a whole write happens before dynalite answers it
    const read = h.send('GetItem', get);
    const write = h.send('UpdateItem', put);
    write.answer(200, '{}');
    read.answer(200, 'maybe stale');
    h.send('GetItem', get).answer(200, 'fresh');
    expect(h.send('GetItem', get).res.body).toBe('fresh');
    // the write starts first and is still running when the read is answered
    const write2 = h.send('DeleteItem', put);
    h.send('Query', { TableName: 'lines', KeyConditionExpression: 'pk = :p' }).answer(200, 'during');
    write2.answer(200, '{}');
    const forwardedBefore = h.forwarded();
    h.send('Query', { TableName: 'lines', KeyConditionExpression: 'pk = :p' }).answer(200, 'after');
    expect(h.forwarded()).toBe(forwardedBefore + 1);
  });

  it('a failed write drops answers too; failed reads, index queries and other reads are never kept', () => {
    const h = harness();
    h.send('GetItem', get).answer(200, 'x');
    h.send('PutItem', put).answer(400, '{"__type":"ConditionalCheckFailedException"}');
    h.send('GetItem', get).answer(200, 'y');
    expect(h.send('GetItem', get).res.body).toBe('y');
    const n = h.forwarded();
    const missing = { ...get, TableName: 'nope' };
    h.send('GetItem', missing).answer(400, '{"__type":"ResourceNotFoundException"}');
    h.send('GetItem', missing).answer(400, '{"__type":"ResourceNotFoundException"}');
    const byIndex = { TableName: 'calls', IndexName: 'line-startedAt', KeyConditionExpression: 'line = :l' };
    h.send('Query', byIndex).answer(200, 'i');
    h.send('Query', byIndex).answer(200, 'i');
    h.send('Scan', { TableName: 'lines' }).answer(200, 's');
    h.send('Scan', { TableName: 'lines' }).answer(200, 's');
    expect(h.forwarded()).toBe(n + 6);
  });

  it('a batch write drops each table it names; an operation it does not know drops everything', () => {
    const h = harness();
    const attempts = { ...get, TableName: 'attempts' };
    const calls = { ...get, TableName: 'calls' };
    for (const r of [get, attempts, calls]) h.send('GetItem', r).answer(200, 'v1');
    h.send('BatchWriteItem', { RequestItems: { lines: [], attempts: [] } }).answer(200, '{}');
    expect(h.send('GetItem', calls).res.body).toBe('v1');
    const n = h.forwarded();
    h.send('GetItem', get).answer(200, 'v2');
    h.send('GetItem', attempts).answer(200, 'v2');
    expect(h.forwarded()).toBe(n + 2);
    h.send('UpdateTable', { TableName: 'attempts' }).answer(200, '{}');
    for (const r of [get, attempts, calls]) h.send('GetItem', r).answer(200, 'v3');
    expect(h.forwarded()).toBe(n + 6); // the UpdateTable and the 3 reads
  });

  it('keeps answers apart by content type (dynalite echoes it)', () => {
    const h = harness();
    h.send('GetItem', get).answer(200, 'a');
    h.send('GetItem', get, 'application/json').answer(200, 'b');
    expect(h.send('GetItem', get, 'application/json').res.headers['content-type']).toBe('application/json');
    expect(h.forwarded()).toBe(2);
  });
});

describe('2. the local registry on its thread, through the AWS SDK', () => {
  let dir: string;
  let registry: Awaited<ReturnType<typeof startEmbeddedRegistry>>;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'softphone-read-cache-'));
    registry = await startEmbeddedRegistry(path.join(dir, 'registry'), { owner: 'read cache test', thread: true });
  });
  afterAll(async () => {
    await registry?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('every read sees the last write, whichever client made it', async () => {
    const a = documentClient(registry.client);
    const otherClient = localDynamoClient(registry.endpoint, registry.credentials);
    const b = documentClient(otherClient);
    const Key = { pk: 'TEST#cache', sk: 'ITEM' };
    const read = async () => (await a.send(new GetCommand({ TableName: LOCAL_REGISTRY_TABLE, Key, ConsistentRead: true }))).Item;
    const query = async () =>
      (
        await a.send(
          new QueryCommand({
            TableName: LOCAL_REGISTRY_TABLE,
            KeyConditionExpression: 'pk = :pk',
            ExpressionAttributeValues: { ':pk': Key.pk },
            ConsistentRead: true,
          }),
        )
      ).Items;
    try {
      expect(await read()).toBeUndefined();
      expect(await read()).toBeUndefined();
      await b.send(new PutCommand({ TableName: LOCAL_REGISTRY_TABLE, Item: { ...Key, n: 1 } }));
      expect(await read()).toEqual({ ...Key, n: 1 });
      expect(await query()).toEqual([{ ...Key, n: 1 }]);
      await b.send(
        new UpdateCommand({ TableName: LOCAL_REGISTRY_TABLE, Key, UpdateExpression: 'SET n = :n', ExpressionAttributeValues: { ':n': 2 } }),
      );
      expect(await read()).toEqual({ ...Key, n: 2 });
      expect(await query()).toEqual([{ ...Key, n: 2 }]);
      // a conditional write that fails changes nothing, and reads still agree with dynalite
      await expect(
        b.send(new PutCommand({ TableName: LOCAL_REGISTRY_TABLE, Item: { ...Key, n: 3 }, ConditionExpression: 'attribute_not_exists(pk)' })),
      ).rejects.toMatchObject({ name: 'ConditionalCheckFailedException' });
      expect(await read()).toEqual({ ...Key, n: 2 });
      await b.send(new BatchWriteCommand({ RequestItems: { [LOCAL_REGISTRY_TABLE]: [{ PutRequest: { Item: { ...Key, n: 4 } } }] } }));
      expect(await read()).toEqual({ ...Key, n: 4 });
      // reads racing writes: every read answers the value before or after the write it raced, and the next sees it
      for (let n = 5; n < 25; n++) {
        const [, raced] = await Promise.all([b.send(new PutCommand({ TableName: LOCAL_REGISTRY_TABLE, Item: { ...Key, n } })), read()]);
        expect([n - 1, n]).toContain(raced?.n);
        expect(await read()).toEqual({ ...Key, n });
      }
      await b.send(new DeleteCommand({ TableName: LOCAL_REGISTRY_TABLE, Key }));
      expect(await read()).toBeUndefined();
      expect(await query()).toEqual([]);
    } finally {
      otherClient.destroy();
    }
  });
});
