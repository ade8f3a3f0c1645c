'use strict';
// An in-memory DynamoDB table for the warm probe (warm.cjs), built from the table's CreateTable input
// (lambda/adapters/registry-schema.ts): what the call log's adapter (lambda/adapters/dynamo-call-log.ts) asks of
// the calls table, answered with DynamoDB's documented semantics, at once:
//
// - GetItem, PutItem, DeleteItem by the full primary key (a key that does not match the schema is a
//   ValidationException); PutItem and DeleteItem with a ConditionExpression evaluated against the item as it is
//   (none: the condition sees no attributes), a failed one throwing ConditionalCheckFailedException and changing
//   nothing; ReturnValues ALL_OLD;
// - Query on the table or a global secondary index (sparse: only items carrying the index's keys), with a key
//   condition on the partition key and optionally the sort key (=, <, <=, >, >=, BETWEEN, begins_with),
//   ScanIndexForward, Limit (items evaluated before the filter; LastEvaluatedKey whenever the limit is reached,
//   as DynamoDB returns it even when nothing follows: the table's keys, plus the index's on an index),
//   ExclusiveStartKey, FilterExpression, ProjectionExpression; ConsistentRead on a global index is a
//   ValidationException;
// - condition and filter expressions: comparisons (=, <>, <, <=, >, >=) between attributes and values of the
//   same type (a missing attribute or another type: false, but true for <>), BETWEEN, IN, attribute_exists,
//   attribute_not_exists, begins_with, AND, OR, NOT, parentheses; every #name and :value of the request must be
//   defined and used (a ValidationException otherwise).
//
// Not modelled: nested document paths, reserved words, item size limits, the 1 MB page limit, capacity. Strings
// order by UTF-16 code unit, which is DynamoDB's UTF-8 byte order for the ASCII keys stored here. Items are
// stored as frozen copies and handed out as they are (a caller mutating one gets a TypeError, not a silently
// changed table).

const { ConditionalCheckFailedException } = require('@aws-sdk/client-dynamodb');

class ValidationException extends Error {
  constructor(message) {
    super(message);
    this.name = 'ValidationException';
    this.$fault = 'client';
    this.$metadata = { httpStatusCode: 400 };
  }
}

function conditionFailed() {
  return new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: { httpStatusCode: 400 } });
}

function deepFreeze(value) {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

// --- expressions ----------------------------------------------------------------------------------------------

const TOKEN = /\s*(?:(#[A-Za-z0-9_]+)|(:[A-Za-z0-9_]+)|(<>|<=|>=|=|<|>)|([(),])|([A-Za-z_][A-Za-z0-9_]*)|(\S))/y;

function tokenize(expression) {
  const tokens = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < expression.length) {
    const start = TOKEN.lastIndex;
    const m = TOKEN.exec(expression);
    if (!m) {
      if (/^\s*$/.test(expression.slice(start))) break;
      throw new ValidationException(`Invalid expression: ${expression}`);
    }
    if (m[6] !== undefined)
      throw new ValidationException(`Invalid expression: unexpected "${m[6]}" in ${expression} (the stand-in knows top-level attributes only)`);
    if (m[1]) tokens.push({ t: 'name', v: m[1] });
    else if (m[2]) tokens.push({ t: 'value', v: m[2] });
    else if (m[3]) tokens.push({ t: 'cmp', v: m[3] });
    else if (m[4]) tokens.push({ t: m[4] });
    else tokens.push({ t: 'word', v: m[5] });
  }
  return tokens;
}

/**
 * A parsed expression: `evaluate(item, ctx)` for a condition, `names`/`values` it uses. Operands evaluate to the
 * attribute's value (undefined when missing) or the placeholder's value.
 */
function parseCondition(expression) {
  const tokens = tokenize(expression);
  const names = new Set();
  const values = new Set();
  let i = 0;
  const peek = () => tokens[i];
  const isWord = (tok, word) => tok?.t === 'word' && tok.v.toUpperCase() === word;
  const take = (t) => {
    const tok = tokens[i];
    if (!tok || tok.t !== t) throw new ValidationException(`Invalid expression: expected ${t} in ${expression}`);
    i += 1;
    return tok;
  };

  const operand = () => {
    const tok = tokens[i];
    i += 1;
    if (tok?.t === 'name') {
      names.add(tok.v);
      return (item, ctx) => item[ctx.names[tok.v]];
    }
    if (tok?.t === 'value') {
      values.add(tok.v);
      return (_item, ctx) => ctx.values[tok.v];
    }
    if (tok?.t === 'word') return (item) => item[tok.v];
    throw new ValidationException(`Invalid expression: expected an operand in ${expression}`);
  };
  /** A path operand (an attribute, never a value), as functions take it. */
  const path = () => {
    if (peek()?.t === 'value') throw new ValidationException(`Invalid expression: a function takes an attribute path first in ${expression}`);
    return operand();
  };

  const primary = () => {
    const tok = peek();
    if (tok?.t === '(') {
      i += 1;
      const inner = or();
      take(')');
      return inner;
    }
    if (tok?.t === 'word' && tokens[i + 1]?.t === '(') {
      const fn = tok.v;
      i += 2;
      let test;
      if (fn === 'attribute_exists' || fn === 'attribute_not_exists') {
        const p = path();
        test = fn === 'attribute_exists' ? (item, ctx) => p(item, ctx) !== undefined : (item, ctx) => p(item, ctx) === undefined;
      } else if (fn === 'begins_with') {
        const p = path();
        take(',');
        const prefix = operand();
        test = (item, ctx) => {
          const a = p(item, ctx);
          const b = prefix(item, ctx);
          return typeof a === 'string' && typeof b === 'string' && a.startsWith(b);
        };
      } else throw new ValidationException(`Invalid expression: the stand-in has no function ${fn} (${expression})`);
      take(')');
      return test;
    }
    const left = operand();
    const next = peek();
    if (next?.t === 'cmp') {
      i += 1;
      const right = operand();
      return comparison(next.v, left, right);
    }
    if (isWord(next, 'BETWEEN')) {
      i += 1;
      const low = operand();
      if (!isWord(peek(), 'AND')) throw new ValidationException(`Invalid expression: BETWEEN without AND in ${expression}`);
      i += 1;
      const high = operand();
      const atLeast = comparison('>=', left, low);
      const atMost = comparison('<=', left, high);
      return (item, ctx) => atLeast(item, ctx) && atMost(item, ctx);
    }
    if (isWord(next, 'IN')) {
      i += 1;
      take('(');
      const options = [comparison('=', left, operand())];
      while (peek()?.t === ',') {
        i += 1;
        options.push(comparison('=', left, operand()));
      }
      take(')');
      return (item, ctx) => options.some((o) => o(item, ctx));
    }
    throw new ValidationException(`Invalid expression: expected a comparison in ${expression}`);
  };
  const not = () => {
    if (isWord(peek(), 'NOT')) {
      i += 1;
      const inner = not();
      return (item, ctx) => !inner(item, ctx);
    }
    return primary();
  };
  const and = () => {
    let left = not();
    while (isWord(peek(), 'AND')) {
      i += 1;
      const l = left;
      const r = not();
      left = (item, ctx) => l(item, ctx) && r(item, ctx);
    }
    return left;
  };
  const or = () => {
    let left = and();
    while (isWord(peek(), 'OR')) {
      i += 1;
      const l = left;
      const r = and();
      left = (item, ctx) => l(item, ctx) || r(item, ctx);
    }
    return left;
  };
  const evaluate = or();
  if (i !== tokens.length) throw new ValidationException(`Invalid expression: unexpected tokens at the end of ${expression}`);
  return { evaluate, names, values };
}

/** DynamoDB's types of a document-client value: S, N, B, BOOL, NULL, L, M (sets are not used here). */
function typeOf(v) {
  if (typeof v === 'string') return 'S';
  if (typeof v === 'number' || typeof v === 'bigint') return 'N';
  if (typeof v === 'boolean') return 'BOOL';
  if (v === null) return 'NULL';
  if (v instanceof Uint8Array) return 'B';
  if (Array.isArray(v)) return 'L';
  return 'M';
}

function equal(a, b) {
  if (typeOf(a) !== typeOf(b)) return false;
  if (typeof a !== 'object' || a === null) return a === b;
  if (a instanceof Uint8Array) return Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => Object.hasOwn(b, k) && equal(a[k], b[k]));
}

function order(a, b) {
  if (a instanceof Uint8Array) return Buffer.compare(Buffer.from(a), Buffer.from(b));
  return a < b ? -1 : a > b ? 1 : 0;
}

function comparison(op, left, right) {
  if (op === '=')
    return (item, ctx) => {
      const a = left(item, ctx);
      const b = right(item, ctx);
      return a !== undefined && b !== undefined && equal(a, b);
    };
  if (op === '<>')
    return (item, ctx) => {
      const a = left(item, ctx);
      const b = right(item, ctx);
      return !(a !== undefined && b !== undefined && equal(a, b));
    };
  const test = { '<': (c) => c < 0, '<=': (c) => c <= 0, '>': (c) => c > 0, '>=': (c) => c >= 0 }[op];
  return (item, ctx) => {
    const a = left(item, ctx);
    const b = right(item, ctx);
    if (a === undefined || b === undefined) return false;
    const ta = typeOf(a);
    if (ta !== typeOf(b) || (ta !== 'S' && ta !== 'N' && ta !== 'B')) return false;
    return test(order(a, b));
  };
}

/** A key condition: the partition key's equality, optionally one condition on the sort key. */
function parseKeyCondition(expression) {
  const parsed = parseCondition(expression); // the placeholders it uses (and a syntax check)
  const tokens = tokenize(expression);
  const parts = [];
  let start = 0;
  // Split on the top-level AND that is not BETWEEN's.
  for (let i = 0; i < tokens.length; i++) {
    if (tokens[i].t === 'word' && tokens[i].v.toUpperCase() === 'BETWEEN') {
      i += 2;
      continue;
    }
    if (tokens[i].t === 'word' && tokens[i].v.toUpperCase() === 'AND') {
      parts.push(tokens.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(tokens.slice(start));
  const attribute = (tok) => (tok.t === 'word' ? { literal: tok.v } : tok.t === 'name' ? { placeholder: tok.v } : undefined);
  const [hash, range] = parts;
  if (parts.length > 2 || hash.length !== 3 || hash[1].v !== '=' || !attribute(hash[0]) || hash[2].t !== 'value') {
    throw new ValidationException(`Invalid KeyConditionExpression: ${expression}`);
  }
  const key = { hash: attribute(hash[0]), hashValue: hash[2].v, names: parsed.names, values: parsed.values };
  if (range) {
    const text = range.map((t) => t.v ?? t.t).join(' ');
    let attr;
    if (range[0].t === 'word' && range[0].v === 'begins_with') attr = range[2];
    else if (range[1]?.t === 'cmp' && range[1].v !== '<>') attr = range[0];
    else if (range[1]?.t === 'word' && range[1].v.toUpperCase() === 'BETWEEN') attr = range[0];
    if (!attr || !attribute(attr)) throw new ValidationException(`Invalid KeyConditionExpression: unsupported sort key condition ${text}`);
    key.range = attribute(attr);
    key.rangeTest = parseCondition(
      range.map((t) => (t.t === 'name' || t.t === 'value' || t.t === 'word' || t.t === 'cmp' ? t.v : t.t)).join(' '),
    ).evaluate;
  }
  return key;
}

const parsedConditions = new Map();
const parsedKeyConditions = new Map();
const cached = (cache, parse, expression) => {
  let parsed = cache.get(expression);
  if (!parsed) {
    parsed = parse(expression);
    cache.set(expression, parsed);
  }
  return parsed;
};

/** Every #name and :value the request defines is used by one of its expressions, and every one used is defined. */
function checkPlaceholders(input, expressions) {
  const usedNames = new Set();
  const usedValues = new Set();
  for (const e of expressions) {
    for (const n of e.names) usedNames.add(n);
    for (const v of e.values) usedValues.add(v);
  }
  const names = input.ExpressionAttributeNames ?? {};
  const values = input.ExpressionAttributeValues ?? {};
  for (const n of usedNames)
    if (!Object.hasOwn(names, n))
      throw new ValidationException(`An expression attribute name used in the document path is not defined; attribute name: ${n}`);
  for (const v of usedValues)
    if (!Object.hasOwn(values, v))
      throw new ValidationException(`An expression attribute value used in expression is not defined; attribute value: ${v}`);
  const unusedNames = Object.keys(names).filter((n) => !usedNames.has(n));
  if (unusedNames.length > 0)
    throw new ValidationException(`Value provided in ExpressionAttributeNames unused in expressions: keys: {${unusedNames.join(', ')}}`);
  const unusedValues = Object.keys(values).filter((v) => !usedValues.has(v));
  if (unusedValues.length > 0)
    throw new ValidationException(`Value provided in ExpressionAttributeValues unused in expressions: keys: {${unusedValues.join(', ')}}`);
}

const projections = new Map();
/** The attributes a ProjectionExpression names (as DynamoDB returns them), or the whole item. */
function project(item, input) {
  if (!input.ProjectionExpression) return item;
  let tokens = projections.get(input.ProjectionExpression);
  if (!tokens) {
    tokens = input.ProjectionExpression.split(',').map((t) => t.trim());
    projections.set(input.ProjectionExpression, tokens);
  }
  const names = input.ExpressionAttributeNames ?? {};
  const out = {};
  for (const t of tokens) {
    const name = names[t] ?? t;
    if (item[name] !== undefined) out[name] = item[name];
  }
  return out;
}
const projectionUses = (expression) => {
  const names = new Set((expression ?? '').match(/#[A-Za-z0-9_]+/g) ?? []);
  return { names, values: new Set() };
};

// --- the table --------------------------------------------------------------------------------------------------

class FakeTable {
  /** @param description a CreateTable input: TableName, KeySchema, AttributeDefinitions, GlobalSecondaryIndexes */
  constructor(description, items = []) {
    const keys = (schema) => ({
      hash: schema.find((k) => k.KeyType === 'HASH').AttributeName,
      range: schema.find((k) => k.KeyType === 'RANGE')?.AttributeName,
    });
    this.name = description.TableName;
    this.key = keys(description.KeySchema);
    this.types = Object.fromEntries((description.AttributeDefinitions ?? []).map((d) => [d.AttributeName, d.AttributeType]));
    this.indexes = new Map((description.GlobalSecondaryIndexes ?? []).map((g) => [g.IndexName, keys(g.KeySchema)]));
    /** partition key value → items sorted by the sort key */
    this.partitions = new Map();
    /** Counts the changes: an answer read at one version holds until the next write or removal. */
    this.version = 0;
    for (const item of items) this.write(item);
  }

  /** Every item, in no particular order (for the probe's checks). */
  get items() {
    return [...this.partitions.values()].flat();
  }

  /** The stored item of a key, or undefined. */
  find(key) {
    const partition = this.partitions.get(key[this.key.hash]);
    if (!partition) return undefined;
    if (!this.key.range) return partition[0];
    const sk = key[this.key.range];
    return partition.find((i) => i[this.key.range] === sk);
  }

  /** Stores an item as it is (no condition): the probe's fixture, and PutItem once its condition held. */
  write(item) {
    this.checkTypes(item);
    this.version += 1;
    const stored = deepFreeze(structuredClone(item));
    const hk = stored[this.key.hash];
    let partition = this.partitions.get(hk);
    if (!partition) {
      partition = [];
      this.partitions.set(hk, partition);
    }
    const at = this.key.range ? partition.findIndex((i) => i[this.key.range] === stored[this.key.range]) : partition.length > 0 ? 0 : -1;
    if (at >= 0) partition[at] = stored;
    else if (!this.key.range) partition.push(stored);
    else {
      const sk = stored[this.key.range];
      const after = partition.findIndex((i) => order(i[this.key.range], sk) > 0);
      partition.splice(after < 0 ? partition.length : after, 0, stored);
    }
  }

  remove(key) {
    this.version += 1;
    const partition = this.partitions.get(key[this.key.hash]);
    if (!partition) return;
    const at = this.key.range ? partition.findIndex((i) => i[this.key.range] === key[this.key.range]) : 0;
    if (at >= 0) partition.splice(at, 1);
    if (partition.length === 0) this.partitions.delete(key[this.key.hash]);
  }

  /** Key and index attributes have their declared types (DynamoDB refuses the write otherwise). */
  checkTypes(item) {
    for (const [name, type] of Object.entries(this.types)) {
      const v = item[name];
      const isKey = name === this.key.hash || name === this.key.range;
      if (v === undefined) {
        if (isKey) throw new ValidationException(`One or more parameter values were invalid: Missing the key ${name} in the item`);
        continue;
      }
      if (typeOf(v) !== type)
        throw new ValidationException(`One or more parameter values were invalid: Type mismatch for key ${name} expected: ${type}`);
      if (type === 'S' && v === '') throw new ValidationException(`One or more parameter values are not valid: the key ${name} is an empty string`);
    }
  }

  checkKey(key) {
    const names = Object.keys(key ?? {});
    const wanted = this.key.range ? [this.key.hash, this.key.range] : [this.key.hash];
    if (names.length !== wanted.length || !wanted.every((n) => typeOf(key[n]) === this.types[n])) {
      throw new ValidationException('The provided key element does not match the schema');
    }
  }

  /** Throws ConditionalCheckFailedException unless the request's ConditionExpression holds for `current`. */
  checkCondition(input, current) {
    const expressions = [];
    let condition;
    if (input.ConditionExpression) {
      condition = cached(parsedConditions, parseCondition, input.ConditionExpression);
      expressions.push(condition);
    }
    checkPlaceholders(input, expressions);
    const ctx = { names: input.ExpressionAttributeNames ?? {}, values: input.ExpressionAttributeValues ?? {} };
    if (condition && !condition.evaluate(current ?? {}, ctx)) throw conditionFailed();
  }

  get(input) {
    this.checkKey(input.Key);
    if (input.ProjectionExpression) checkPlaceholders(input, [projectionUses(input.ProjectionExpression)]);
    const item = this.find(input.Key);
    return item ? { Item: project(item, input) } : {};
  }

  put(input) {
    const item = input.Item ?? {};
    const key = { [this.key.hash]: item[this.key.hash] };
    if (this.key.range) key[this.key.range] = item[this.key.range];
    this.checkTypes(item);
    const current = this.find(key);
    this.checkCondition(input, current);
    this.write(item);
    return input.ReturnValues === 'ALL_OLD' && current ? { Attributes: current } : {};
  }

  delete(input) {
    this.checkKey(input.Key);
    const current = this.find(input.Key);
    this.checkCondition(input, current);
    if (current) this.remove(input.Key);
    return input.ReturnValues === 'ALL_OLD' && current ? { Attributes: current } : {};
  }

  query(input) {
    const index = input.IndexName === undefined ? this.key : this.indexes.get(input.IndexName);
    if (!index) throw new ValidationException(`The table does not have the specified index: ${input.IndexName}`);
    if (input.IndexName !== undefined && input.ConsistentRead)
      throw new ValidationException('Consistent reads are not supported on global secondary indexes');
    const keyCondition = cached(parsedKeyConditions, parseKeyCondition, input.KeyConditionExpression ?? '');
    const filter = input.FilterExpression ? cached(parsedConditions, parseCondition, input.FilterExpression) : undefined;
    checkPlaceholders(input, [
      keyCondition,
      ...(filter ? [filter] : []),
      ...(input.ProjectionExpression ? [projectionUses(input.ProjectionExpression)] : []),
    ]);
    const names = input.ExpressionAttributeNames ?? {};
    const ctx = { names, values: input.ExpressionAttributeValues ?? {} };
    const attr = (a) => a.literal ?? names[a.placeholder];
    if (attr(keyCondition.hash) !== index.hash) throw new ValidationException('Query condition missed key schema element');
    if (keyCondition.range && attr(keyCondition.range) !== index.range) throw new ValidationException('Query key condition not supported');
    const hashValue = ctx.values[keyCondition.hashValue];

    let candidates;
    if (input.IndexName === undefined) candidates = this.partitions.get(hashValue) ?? [];
    else {
      candidates = [];
      for (const partition of this.partitions.values())
        for (const item of partition) if (item[index.hash] === hashValue && item[index.range] !== undefined) candidates.push(item);
      candidates.sort((a, b) => this.compareInIndex(index, a, b));
    }
    if (keyCondition.rangeTest) candidates = candidates.filter((item) => keyCondition.rangeTest(item, ctx));
    if (input.ScanIndexForward === false) candidates = [...candidates].reverse();
    if (input.ExclusiveStartKey) {
      const start = input.ExclusiveStartKey;
      const direction = input.ScanIndexForward === false ? -1 : 1;
      const cmp = (item) => (input.IndexName === undefined ? this.compareInTable(item, start) : this.compareInIndex(index, item, start));
      candidates = candidates.filter((item) => direction * cmp(item) > 0);
    }
    const limit = input.Limit ?? Number.POSITIVE_INFINITY;
    const evaluated = candidates.slice(0, limit);
    const items = filter ? evaluated.filter((item) => filter.evaluate(item, ctx)) : evaluated;
    const out = { Items: items.map((item) => project(item, input)), Count: items.length, ScannedCount: evaluated.length };
    const last = evaluated[evaluated.length - 1];
    if (evaluated.length >= limit && last) {
      const keyNames = [this.key.hash, this.key.range, ...(input.IndexName === undefined ? [] : [index.hash, index.range])].filter(Boolean);
      out.LastEvaluatedKey = Object.fromEntries(keyNames.map((n) => [n, last[n]]));
    }
    return out;
  }

  compareInTable(a, b) {
    return this.key.range ? order(a[this.key.range], b[this.key.range]) : 0;
  }

  /** An index's order: its sort key, then (DynamoDB leaves ties unordered; a fixed order here) the table's keys. */
  compareInIndex(index, a, b) {
    return (
      (index.range ? order(a[index.range], b[index.range]) : 0) ||
      order(a[this.key.hash], b[this.key.hash]) ||
      (this.key.range ? order(a[this.key.range], b[this.key.range]) : 0)
    );
  }
}

module.exports = { FakeTable, ValidationException, parseCondition, project };
