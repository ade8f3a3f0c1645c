/**
 * Request-body validation against an API Gateway model, as the gateway's body validator does it, for the
 * local app and tests (the JSON Schema draft-4 keywords the models in `routes.ts` use: `type`, `required`,
 * `properties`, `minLength`, `maxLength`, plus the annotations `$schema`, `title`, `description`).
 * A schema with any other keyword is refused, so a model change cannot silently go unvalidated locally.
 */

const ANNOTATIONS = new Set(['$schema', 'title', 'description']);
const SUPPORTED = new Set(['type', 'required', 'properties', 'minLength', 'maxLength', ...ANNOTATIONS]);

type Schema = Record<string, unknown>;

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function typeMatches(expected: string, value: unknown): boolean {
  const actual = typeOf(value);
  return expected === actual || (expected === 'number' && actual === 'integer');
}

function check(schema: Schema, value: unknown, at: string, errors: string[]): void {
  for (const key of Object.keys(schema)) {
    if (!SUPPORTED.has(key)) throw new Error(`Model keyword not supported by the local validator: ${key}`);
  }
  if (schema.type !== undefined) {
    const types = Array.isArray(schema.type) ? (schema.type as string[]) : [schema.type as string];
    if (!types.some((t) => typeMatches(t, value))) {
      errors.push(`${at}: expected ${types.join(' or ')}, got ${typeOf(value)}`);
      return;
    }
  }
  if (typeof value === 'string') {
    const length = [...value].length; // JSON Schema counts code points
    if (typeof schema.minLength === 'number' && length < schema.minLength) errors.push(`${at}: shorter than ${schema.minLength}`);
    if (typeof schema.maxLength === 'number' && length > schema.maxLength) errors.push(`${at}: longer than ${schema.maxLength}`);
  }
  if (typeOf(value) === 'object') {
    const object = value as Record<string, unknown>;
    for (const name of (schema.required as string[] | undefined) ?? []) {
      if (!Object.prototype.hasOwnProperty.call(object, name)) errors.push(`${at}: missing required property ${name}`);
    }
    const properties = (schema.properties as Record<string, Schema> | undefined) ?? {};
    for (const [name, sub] of Object.entries(properties)) {
      if (Object.prototype.hasOwnProperty.call(object, name)) check(sub, object[name], `${at}.${name}`, errors);
    }
  }
}

/** The validation errors of a parsed value against a model (empty = valid). */
export function modelErrors(model: object, value: unknown): string[] {
  const errors: string[] = [];
  check(model as Schema, value, '$', errors);
  return errors;
}

/** The validation errors of a raw request body: not JSON is an error too (API Gateway: BAD_REQUEST_BODY). */
export function bodyModelErrors(model: object, body: string): string[] {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return ['$: the body is not valid JSON'];
  }
  return modelErrors(model, value);
}
