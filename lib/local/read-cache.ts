/**
 * dynalite's answers to repeated reads, kept until a write could change them: in front of dynalite, behind the
 * registry's request guard (`dynalite-server.ts`), so every client still speaks the DynamoDB protocol to the same
 * endpoint and every write, from any process, passes here first.
 *
 * What is kept: a GetItem or Query (not on an index) answered 200, by the exact request it answered (operation and
 * body). A write (PutItem, UpdateItem, DeleteItem; BatchWriteItem for each table it names) drops its table's
 * answers when it arrives and again when dynalite has answered it, and a read that overlapped any write to its
 * table is not kept: so an answer served from here is one dynalite would give after the last write finished.
 * Any other operation that is not a plain read (CreateTable, UpdateTable, DeleteTable, …, or one not understood)
 * drops everything the same way. Index queries are not kept: a new index fills in the background.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';

/** Answers kept per table; the oldest go first. */
const MAX_ENTRIES_PER_TABLE = 1000;

const CACHED = new Set(['GetItem', 'Query']);
const READS = new Set(['GetItem', 'Query', 'Scan', 'BatchGetItem', 'DescribeTable', 'ListTables', 'DescribeTimeToLive', 'ListTagsOfResource']);
const ITEM_WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem']);

interface Entry {
  generation: number;
  epoch: number;
  headers: Record<string, string>;
  body: string;
}

interface TableState {
  /** Bumped when a write to the table starts and when it ends. */
  generation: number;
  /** Writes to the table dynalite has not answered yet. */
  writing: number;
  entries: Map<string, Entry>;
}

/** What a request is to the cache. */
type Access = { kind: 'cached-read'; table: string; key: string } | { kind: 'read' } | { kind: 'write'; tables: string[] } | { kind: 'write-all' };

export class ReadCache {
  private readonly tables = new Map<string, TableState>();
  /** Bumped when an operation that may touch any table starts and ends. */
  private epoch = 0;
  private writingAll = 0;
  hits = 0;

  /**
   * Answers `res` from the cache, or passes the request on to `forward` (dynalite), keeping or dropping answers
   * as the operation requires.
   */
  handle(headers: IncomingHttpHeaders, body: Buffer, res: ServerResponse, forward: () => void): void {
    const access = classify(headers, body);
    if (access.kind === 'cached-read') {
      this.read(access.table, access.key, res, forward);
    } else if (access.kind === 'read') {
      forward();
    } else {
      this.startWrite(access);
      onEnd(res, () => this.endWrite(access));
      forward();
    }
  }

  private table(name: string): TableState {
    let state = this.tables.get(name);
    if (!state) {
      state = { generation: 0, writing: 0, entries: new Map() };
      this.tables.set(name, state);
    }
    return state;
  }

  private read(name: string, key: string, res: ServerResponse, forward: () => void): void {
    const table = this.table(name);
    const quiet = () => table.writing === 0 && this.writingAll === 0;
    const entry = table.entries.get(key);
    if (entry && quiet() && entry.generation === table.generation && entry.epoch === this.epoch) {
      this.hits++;
      res.writeHead(200, { ...entry.headers, 'x-amzn-RequestId': requestId() });
      res.end(entry.body);
      return;
    }
    const [generation, epoch] = [table.generation, this.epoch];
    onEnd(res, (statusCode, answer, headers) => {
      if (statusCode !== 200 || answer === undefined || !quiet() || table.generation !== generation || this.epoch !== epoch) return;
      table.entries.delete(key);
      table.entries.set(key, { generation, epoch, headers, body: answer });
      if (table.entries.size > MAX_ENTRIES_PER_TABLE) table.entries.delete(table.entries.keys().next().value as string);
    });
    forward();
  }

  private startWrite(access: Extract<Access, { kind: 'write' | 'write-all' }>): void {
    if (access.kind === 'write-all') {
      this.writingAll++;
      this.epoch++;
      for (const table of this.tables.values()) table.entries.clear();
      return;
    }
    for (const name of access.tables) {
      const table = this.table(name);
      table.writing++;
      table.generation++;
      table.entries.clear();
    }
  }

  private endWrite(access: Extract<Access, { kind: 'write' | 'write-all' }>): void {
    if (access.kind === 'write-all') {
      this.writingAll--;
      this.epoch++;
      for (const table of this.tables.values()) table.entries.clear();
      return;
    }
    for (const name of access.tables) {
      const table = this.table(name);
      table.writing--;
      table.generation++;
      table.entries.clear();
    }
  }
}

function classify(headers: IncomingHttpHeaders, body: Buffer): Access {
  const target = String(headers['x-amz-target'] ?? '');
  const operation = target.split('.')[1] ?? '';
  if (READS.has(operation) && !CACHED.has(operation)) return { kind: 'read' };
  let request: { TableName?: unknown; IndexName?: unknown; RequestItems?: unknown } | undefined;
  try {
    request = JSON.parse(body.toString('utf8')) as typeof request;
  } catch {
    request = undefined;
  }
  const table = typeof request?.TableName === 'string' ? request.TableName : undefined;
  if (CACHED.has(operation)) {
    // The answer depends on exactly these (its Content-Type echoes the request's); what dynalite refuses is not kept.
    const key = `${target}\n${String(headers['content-type'] ?? '')}\n${body.toString('utf8')}`;
    return table !== undefined && request?.IndexName === undefined ? { kind: 'cached-read', table, key } : { kind: 'read' };
  }
  if (ITEM_WRITES.has(operation) && table !== undefined) return { kind: 'write', tables: [table] };
  const items = request?.RequestItems;
  if (operation === 'BatchWriteItem' && typeof items === 'object' && items !== null && !Array.isArray(items)) {
    return { kind: 'write', tables: Object.keys(items) };
  }
  return { kind: 'write-all' };
}

/** Calls `done` once, when dynalite ends the response (after its write, if any, is done): its status, body and headers. */
function onEnd(res: ServerResponse, done: (statusCode: number, body: string | undefined, headers: Record<string, string>) => void): void {
  const end = res.end;
  let called = false;
  const finish = (body: string | undefined) => {
    if (called) return;
    called = true;
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(res.getHeaders()))
      if (name !== 'x-amzn-requestid' && value !== undefined) headers[name] = String(value);
    done(res.statusCode, body, headers);
  };
  res.end = function (this: ServerResponse, ...args: unknown[]) {
    finish(typeof args[0] === 'string' ? args[0] : undefined);
    return (end as (...a: unknown[]) => ServerResponse).apply(this, args);
  } as ServerResponse['end'];
}

/** A request id shaped as dynalite makes them (52 characters). */
function requestId(): string {
  return randomBytes(39).toString('base64').toUpperCase().replace(/\+|\//g, '0');
}
