/**
 * Request-body validation against an API Gateway model, as the gateway's body validator does it, for the
 * local app and tests. The models are JSON Schema draft 4 (as API Gateway requires), validated with
 * `ajv-draft-04`; each model is compiled once and cached.
 *
 * Only the keywords the models in `routes.ts` use are accepted: `type`, `required`, `properties`,
 * `minLength`, `maxLength`, plus the annotations `$schema`, `title`, `description`. A schema with any other
 * keyword is refused, so a model change cannot silently validate differently here than on API Gateway
 * (whose validator is Java: `pattern` would be a Java regex there, `format` a different set of formats, …).
 */
import Ajv from 'ajv-draft-04';
import type { ErrorObject, ValidateFunction } from 'ajv';

const ANNOTATIONS = new Set(['$schema', 'title', 'description']);
const SUPPORTED = new Set(['type', 'required', 'properties', 'minLength', 'maxLength', ...ANNOTATIONS]);

type Schema = Record<string, unknown>;

/** Throws on a keyword outside SUPPORTED, anywhere in the schema (`properties` is the only nesting keyword allowed). */
function assertSupportedKeywords(schema: Schema): void {
  for (const key of Object.keys(schema)) {
    if (!SUPPORTED.has(key)) throw new Error(`Model keyword not supported by the local validator: ${key}`);
  }
  const properties = (schema.properties as Record<string, Schema> | undefined) ?? {};
  for (const sub of Object.values(properties)) assertSupportedKeywords(sub);
}

// allErrors: every failure, like the old messages; verbose: the failing value, to say what was found instead.
const ajv = new Ajv({ allErrors: true, verbose: true, strict: true });
const compiled = new WeakMap<object, ValidateFunction>();

function validatorFor(model: object): ValidateFunction {
  let validate = compiled.get(model);
  if (!validate) {
    assertSupportedKeywords(model as Schema);
    validate = ajv.compile(model);
    compiled.set(model, validate);
  }
  return validate;
}

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

/** `$` for the root, `$.a.b` for the JSON pointer `/a/b`. */
function location(instancePath: string): string {
  return (
    '$' +
    instancePath
      .split('/')
      .slice(1)
      .map((part) => `.${part.replace(/~1/g, '/').replace(/~0/g, '~')}`)
      .join('')
  );
}

function describe(error: ErrorObject): string {
  const at = location(error.instancePath);
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'type':
      return `${at}: expected ${String(params.type).split(',').join(' or ')}, got ${typeOf(error.data)}`;
    case 'required':
      return `${at}: missing required property ${String(params.missingProperty)}`;
    case 'minLength':
      return `${at}: shorter than ${String(params.limit)}`;
    case 'maxLength':
      return `${at}: longer than ${String(params.limit)}`;
    default:
      return `${at}: ${error.message ?? error.keyword}`;
  }
}

/** The validation errors of a parsed value against a model (empty = valid). */
export function modelErrors(model: object, value: unknown): string[] {
  const validate = validatorFor(model);
  return validate(value) ? [] : (validate.errors ?? []).map(describe);
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
