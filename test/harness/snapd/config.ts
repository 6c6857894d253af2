/**
 * Pure model of snapd's per-snap configuration: key rules, value parsing, the transaction
 * (pristine + changes, committed at once) and the exact output formats of `snapctl get`,
 * `snap get` and the argument parsing of `snap set` / `snap unset`.
 *
 * Written from the reference (§B) and checked against snapd's code
 * (`overlord/configstate/config/{helpers,transaction}.go`, `client/clientutil/config.go`,
 * `jsonutil/json.go`, `overlord/hookstate/ctlcmd/get.go`, `cmd/snapd/cli/cmd_get.go`,
 * `daemon/api_snap_conf.go`).
 *
 * Number representation: JSON numbers are kept as `JsonNumber` (the literal text, like Go's
 * `json.Number`), so `1.50` prints back as `1.50` and `1e3` as `1e3`. Values are decoded by our
 * own JSON parser (`decodeJson`), which follows Go's `encoding/json` decoder, including its error
 * texts and the "no trailing data" rule of snapd's `jsonutil.DecodeWithNumber`.
 * Objects are null-prototype records; arrays are plain arrays; strings, booleans and `null` are
 * themselves.
 */

// ------------------------------------------------------------------------------------------------
// Values

/** A JSON number kept in its literal form (Go's `json.Number`). */
export class JsonNumber {
  readonly literal: string;
  constructor(literal: string) {
    if (!NUMBER_RE.test(literal)) throw new TypeError(`invalid number literal ${JSON.stringify(literal)}`);
    this.literal = literal;
  }
  /** From a JS number (must be finite); `String(n)` is always a valid JSON literal then. */
  static of(n: number): JsonNumber {
    if (!Number.isFinite(n)) throw new TypeError(`json: unsupported value: ${n}`);
    return new JsonNumber(String(n));
  }
  toNumber(): number {
    return Number(this.literal);
  }
  toString(): string {
    return this.literal;
  }
  /** So `JSON.stringify` of a document prints numbers as numbers (precision may be lost). */
  toJSON(): number {
    return Number(this.literal);
  }
}

const NUMBER_RE = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?$/;

export type JsonValue = null | boolean | string | JsonNumber | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}
/** One snap's committed configuration: a JSON object (possibly empty). */
export type ConfigDocument = JsonObject;

export function newObject(): JsonObject {
  return Object.create(null) as JsonObject;
}

export function isJsonObject(v: JsonValue | undefined): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof JsonNumber);
}

export function deepCopy<T extends JsonValue>(v: T): T {
  if (Array.isArray(v)) return v.map((x) => deepCopy(x)) as T;
  if (isJsonObject(v)) {
    const o = newObject();
    for (const k of Object.keys(v)) o[k] = deepCopy(v[k] as JsonValue);
    return o as T;
  }
  return v; // primitives and JsonNumber (immutable)
}

/** Converts plain JS data (e.g. from `JSON.parse` or a test) into our value model. */
export function fromPlain(v: unknown): JsonValue {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return v;
  if (typeof v === 'number') return JsonNumber.of(v);
  if (v instanceof JsonNumber) return v;
  if (Array.isArray(v)) return v.map((x) => fromPlain(x));
  if (typeof v === 'object') {
    const o = newObject();
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      if (x !== undefined) o[k] = fromPlain(x);
    }
    return o;
  }
  throw new TypeError(`json: unsupported type: ${typeof v}`);
}

/** Converts our value model to plain JS data (numbers become JS numbers). */
export function toPlain(v: JsonValue): unknown {
  if (v instanceof JsonNumber) return v.toNumber();
  if (Array.isArray(v)) return v.map((x) => toPlain(x));
  if (isJsonObject(v)) {
    const o: Record<string, unknown> = {};
    for (const k of Object.keys(v)) o[k] = toPlain(v[k] as JsonValue);
    return o;
  }
  return v;
}

/** Go's `%T` of a decoded JSON value, for snapd's internal-error texts. */
function goTypeName(v: JsonValue): string {
  if (v === null) return '<nil>';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'bool';
  if (v instanceof JsonNumber) return 'json.Number';
  if (Array.isArray(v)) return '[]interface {}';
  return 'map[string]interface {}';
}

// ------------------------------------------------------------------------------------------------
// Errors

/** Any error whose message is snapd's text (callers print it as snapd would). */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** snapd's `config.NoOptionError`: the key (or, with key "", any configuration) is not set. */
export class NoOptionError extends ConfigError {
  constructor(
    readonly snap: string,
    readonly key: string,
  ) {
    super(key === '' ? `snap ${goQuote(snap)} has no configuration` : `snap ${goQuote(snap)} has no ${goQuote(key)} configuration option`);
    this.name = 'NoOptionError';
  }
}

/** A JSON syntax error, with Go's `encoding/json` message (`EOF`, `unexpected EOF`, `invalid character …`). */
export class JsonDecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JsonDecodeError';
  }
}

// ------------------------------------------------------------------------------------------------
// Go string quoting (`%q`, strconv.Quote)

/** Go's `strconv.Quote` (what `%q` prints): printable runes as is, others escaped. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0) as number;
    switch (ch) {
      case '"':
        out += '\\"';
        continue;
      case '\\':
        out += '\\\\';
        continue;
      case '\x07':
        out += '\\a';
        continue;
      case '\b':
        out += '\\b';
        continue;
      case '\f':
        out += '\\f';
        continue;
      case '\n':
        out += '\\n';
        continue;
      case '\r':
        out += '\\r';
        continue;
      case '\t':
        out += '\\t';
        continue;
      case '\v':
        out += '\\v';
        continue;
    }
    if (cp >= 0xd800 && cp <= 0xdfff) {
      out += '\\ufffd'; // a lone surrogate cannot come from UTF-8 argv; Go would see U+FFFD
    } else if (cp < 0x20 || cp === 0x7f) {
      out += `\\x${cp.toString(16).padStart(2, '0')}`;
    } else if (cp === 0x20 || !/[\p{C}\p{Z}]/u.test(ch)) {
      out += ch;
    } else if (cp < 0x10000) {
      out += `\\u${cp.toString(16).padStart(4, '0')}`;
    } else {
      out += `\\U${cp.toString(16).padStart(8, '0')}`;
    }
  }
  return out + '"';
}

// ------------------------------------------------------------------------------------------------
// Keys (`config.ParseKey`, `validKey`)

export const VALID_KEY_SEGMENT = /^(?:[a-z0-9]+-?)*[a-z](?:-?[a-z0-9])*$/;

/** snapd's `config.ParseKey`: "" → [] (the root document), else every dot segment must be valid. */
export function parseKey(key: string): string[] {
  if (key === '') return [];
  const subkeys = key.split('.');
  for (const s of subkeys) {
    if (!VALID_KEY_SEGMENT.test(s)) throw new ConfigError(`invalid option name: ${goQuote(s)}`);
  }
  return subkeys;
}

/**
 * Validates a key path for writing. Like `parseKey`, but an empty key is refused with the text
 * `snap set`/`snapctl set` print for `=value` (`configuration keys cannot be empty`).
 */
export function validateKeyPath(key: string): string[] {
  if (key === '') throw new ConfigError('configuration keys cannot be empty');
  return parseKey(key);
}

/** First invalid field name inside object values (snapd's `validateMapKeys`), or undefined. */
export function findInvalidValueKey(value: JsonValue): string | undefined {
  if (Array.isArray(value)) {
    for (const e of value) {
      const bad = findInvalidValueKey(e);
      if (bad !== undefined) return bad;
    }
  } else if (isJsonObject(value)) {
    for (const k of Object.keys(value)) {
      if (!VALID_KEY_SEGMENT.test(k)) return k;
      const bad = findInvalidValueKey(value[k] as JsonValue);
      if (bad !== undefined) return bad;
    }
  }
  return undefined;
}

// ------------------------------------------------------------------------------------------------
// JSON decoding (Go encoding/json Decoder + UseNumber + snapd's no-trailing-data check)

const MAX_DEPTH = 10000;

function isSpace(c: string | undefined): boolean {
  return c === ' ' || c === '\t' || c === '\r' || c === '\n';
}

/** Go's `quoteChar`: the offending byte in single quotes. Non-ASCII shows its first UTF-8 byte as a rune. */
function quoteChar(ch: string): string {
  if (ch === "'") return `'\\''`;
  if (ch === '"') return `'"'`;
  const cp = ch.codePointAt(0) as number;
  let byteRune = ch;
  if (cp >= 0x80) {
    const first = Buffer.from(ch, 'utf8')[0] as number;
    byteRune = String.fromCharCode(first);
  }
  const q = goQuote(byteRune);
  return `'${q.slice(1, -1)}'`;
}

class EndOfInput extends Error {}

/**
 * Decodes `text` as snapd's `jsonutil.DecodeWithNumber` does: one JSON value (numbers kept as
 * literals), then an error if more data follows — except that, like Go's `Decoder.More`, a `]` or
 * `}` right after the value (after optional spaces) is not seen as more data (so `80]` decodes as 80).
 * Errors carry Go's messages: `EOF` (nothing but spaces), `unexpected EOF` (truncated),
 * `invalid character 'x' …` (syntax), `cannot parse json value` (trailing data).
 */
export function decodeJson(text: string): JsonValue {
  const chars = Array.from(text); // code points
  let i = 0;
  const n = chars.length;

  const peek = (): string | undefined => chars[i];
  const syntax = (ch: string, context: string): JsonDecodeError => new JsonDecodeError(`invalid character ${quoteChar(ch)} ${context}`);

  while (isSpace(peek())) i++;
  if (i >= n) throw new JsonDecodeError('EOF');

  // Iterative parser (deep nesting must not overflow the JS stack).
  type Frame = { kind: 'array'; value: JsonValue[] } | { kind: 'object'; value: JsonObject; key: string | undefined };
  const stack: Frame[] = [];

  const next = (): string => {
    const c = chars[i];
    if (c === undefined) throw new EndOfInput();
    i++;
    return c;
  };

  const parseString = (): string => {
    // opening quote already consumed
    let out = '';
    for (;;) {
      const c = next();
      if (c === '"') return out;
      if (c === '\\') {
        const e = next();
        switch (e) {
          case '"':
          case '\\':
          case '/':
            out += e;
            break;
          case 'b':
            out += '\b';
            break;
          case 'f':
            out += '\f';
            break;
          case 'n':
            out += '\n';
            break;
          case 'r':
            out += '\r';
            break;
          case 't':
            out += '\t';
            break;
          case 'u': {
            const readHex = (): number => {
              let v = 0;
              for (let k = 0; k < 4; k++) {
                const h = next();
                if (!/^[0-9a-fA-F]$/.test(h)) throw syntax(h, 'in \\u hexadecimal character escape');
                v = v * 16 + parseInt(h, 16);
              }
              return v;
            };
            const u = readHex();
            if (u >= 0xd800 && u <= 0xdbff) {
              // A high surrogate needs a following \uDC00-\uDFFF, else Go yields U+FFFD.
              if (chars[i] === '\\' && chars[i + 1] === 'u') {
                const save = i;
                i += 2;
                const lo = readHex();
                if (lo >= 0xdc00 && lo <= 0xdfff) {
                  out += String.fromCharCode(u, lo);
                } else {
                  out += '\ufffd';
                  i = save; // reprocess the second escape on its own
                }
              } else {
                out += '\ufffd';
              }
            } else if (u >= 0xdc00 && u <= 0xdfff) {
              out += '\ufffd';
            } else {
              out += String.fromCharCode(u);
            }
            break;
          }
          default:
            throw syntax(e, 'in string escape code');
        }
        continue;
      }
      if ((c.codePointAt(0) as number) < 0x20) throw syntax(c, 'in string literal');
      const cp = c.codePointAt(0) as number;
      out += cp >= 0xd800 && cp <= 0xdfff ? '\ufffd' : c;
    }
  };

  const parseNumber = (first: string): JsonNumber => {
    let lit = first;
    let c: string | undefined;
    if (first === '-') {
      c = next();
      if (!/^[0-9]$/.test(c)) throw syntax(c, 'in numeric literal');
      lit += c;
    }
    if (lit.endsWith('0')) {
      // leading zero: no more integer digits
    } else {
      while (/^[0-9]$/.test(peek() ?? '')) lit += next();
    }
    if (peek() === '.') {
      lit += next();
      c = next();
      if (!/^[0-9]$/.test(c)) throw syntax(c, 'after decimal point in numeric literal');
      lit += c;
      while (/^[0-9]$/.test(peek() ?? '')) lit += next();
    }
    if (peek() === 'e' || peek() === 'E') {
      lit += next();
      c = next();
      if (c === '+' || c === '-') {
        lit += c;
        c = next();
      }
      if (!/^[0-9]$/.test(c)) throw syntax(c, 'in exponent of numeric literal');
      lit += c;
      while (/^[0-9]$/.test(peek() ?? '')) lit += next();
    }
    if (i >= n) {
      // At the top level a number only ends at a delimiter or EOF; EOF is fine.
    }
    return new JsonNumber(lit);
  };

  const parseLiteral = (first: string): JsonValue => {
    const word = first === 't' ? 'true' : first === 'f' ? 'false' : 'null';
    for (let k = 1; k < word.length; k++) {
      const c = next();
      if (c !== word[k]) throw syntax(c, `in literal ${word} (expecting ${quoteChar(word[k] as string)})`);
    }
    return first === 't' ? true : first === 'f' ? false : null;
  };

  const skipSpace = (): void => {
    while (isSpace(peek())) i++;
  };

  let result: JsonValue = null;
  let done = false;

  try {
    // Each loop iteration reads one value start, or closes containers.
    let expectValue = true;
    while (!done) {
      if (expectValue) {
        skipSpace();
        const c = next();
        let value: JsonValue | undefined;
        if (c === '{') {
          if (stack.length + 1 > MAX_DEPTH) throw syntax(c, 'exceeded max depth');
          const frame: Frame = { kind: 'object', value: newObject(), key: undefined };
          stack.push(frame);
          skipSpace();
          const k = next();
          if (k === '}') {
            stack.pop();
            value = frame.value;
          } else if (k === '"') {
            frame.key = parseString();
            skipSpace();
            const colon = next();
            if (colon !== ':') throw syntax(colon, 'after object key');
            continue; // read the member value
          } else {
            throw syntax(k, 'looking for beginning of object key string');
          }
        } else if (c === '[') {
          if (stack.length + 1 > MAX_DEPTH) throw syntax(c, 'exceeded max depth');
          const frame: Frame = { kind: 'array', value: [] };
          stack.push(frame);
          skipSpace();
          if (peek() === ']') {
            i++;
            stack.pop();
            value = frame.value;
          } else {
            continue; // read the first element
          }
        } else if (c === '"') {
          value = parseString();
        } else if (c === '-' || /^[0-9]$/.test(c)) {
          value = parseNumber(c);
        } else if (c === 't' || c === 'f' || c === 'n') {
          value = parseLiteral(c);
        } else {
          throw syntax(c, 'looking for beginning of value');
        }
        // A complete value: attach it, then look for ',' or a closing bracket.
        let v: JsonValue = value;
        for (;;) {
          const top = stack[stack.length - 1];
          if (top === undefined) {
            result = v;
            done = true;
            break;
          }
          if (top.kind === 'array') top.value.push(v);
          else top.value[top.key as string] = v;
          skipSpace();
          const d = next();
          if (top.kind === 'array') {
            if (d === ',') {
              expectValue = true;
              break;
            }
            if (d !== ']') throw syntax(d, 'after array element');
          } else {
            if (d === ',') {
              skipSpace();
              const q = next();
              if (q !== '"') throw syntax(q, 'looking for beginning of object key string');
              top.key = parseString();
              skipSpace();
              const colon = next();
              if (colon !== ':') throw syntax(colon, 'after object key');
              expectValue = true;
              break;
            }
            if (d !== '}') throw syntax(d, 'after object key:value pair');
          }
          stack.pop();
          v = top.value;
        }
      }
    }
  } catch (e) {
    if (e instanceof EndOfInput) throw new JsonDecodeError('unexpected EOF');
    throw e;
  }

  // Decoder.More(): anything but spaces, EOF, ']' or '}' is "more" data.
  skipSpace();
  const rest = peek();
  if (rest !== undefined && rest !== ']' && rest !== '}') throw new JsonDecodeError('cannot parse json value');
  return result;
}

// ------------------------------------------------------------------------------------------------
// Value parsing (`clientutil.ParseConfigValues`)

export type ValueMode = 'auto' | 'string' | 'json';

/**
 * One `key=value` value as snapd parses it. `auto`: JSON if it decodes (no trailing data),
 * else the raw string; `string` (`-s`): the raw string; `json` (`-t`): JSON or
 * `failed to parse JSON: …`. A result of `null` means "unset".
 */
export function parseConfigValue(raw: string, mode: ValueMode = 'auto'): JsonValue {
  if (mode === 'string') return raw;
  try {
    return decodeJson(raw);
  } catch (e) {
    if (!(e instanceof JsonDecodeError)) throw e;
    if (mode === 'json') throw new ConfigError(`failed to parse JSON: ${e.message}`);
    return raw;
  }
}

export interface ParsedConfigValues {
  /** key → value (null = unset); a repeated key keeps its last value, as Go's map does. */
  values: Map<string, JsonValue>;
  /** keys in the order given (a repeated key appears each time). */
  keys: string[];
}

/** snapd's `clientutil.ParseConfigValues` for `key=value` / `key!` words. */
export function parseConfigValues(words: readonly string[], opts: { string?: boolean; typed?: boolean } = {}): ParsedConfigValues {
  const mode: ValueMode = opts.string ? 'string' : opts.typed ? 'json' : 'auto';
  const values = new Map<string, JsonValue>();
  const keys: string[] = [];
  for (const word of words) {
    const eq = word.indexOf('=');
    if (eq < 0 && word.endsWith('!')) {
      const key = word.slice(0, -1);
      if (key === '') throw new ConfigError('configuration keys cannot be empty (use key! to unset a key)');
      values.set(key, null);
      keys.push(key);
      continue;
    }
    if (eq < 0) throw new ConfigError(`invalid configuration: ${goQuote(word)} (want key=value)`);
    const key = word.slice(0, eq);
    if (key === '') throw new ConfigError('configuration keys cannot be empty');
    values.set(key, parseConfigValue(word.slice(eq + 1), mode));
    keys.push(key);
  }
  return { values, keys };
}

// ------------------------------------------------------------------------------------------------
// Reading a document (`getFromConfig`)

/**
 * Reads `subkeys` from a document: the value, or NoOptionError (the key named is the path up to
 * the first missing segment), or `snap "<snap>" option "<path>" is not a map`.
 * An empty path reads the whole document (NoOptionError with key "" if it is empty).
 */
export function getFromDocument(snap: string, doc: JsonObject | undefined, subkeys: readonly string[]): JsonValue {
  if (subkeys.length === 0) {
    if (doc === undefined || Object.keys(doc).length === 0) throw new NoOptionError(snap, '');
    return doc;
  }
  let config: JsonObject | undefined = doc;
  for (let pos = 0; pos < subkeys.length; pos++) {
    const key = subkeys[pos] as string;
    if (config === undefined || !Object.prototype.hasOwnProperty.call(config, key)) {
      throw new NoOptionError(snap, subkeys.slice(0, pos + 1).join('.'));
    }
    const raw = config[key] as JsonValue;
    if (pos + 1 === subkeys.length) return raw;
    if (raw === null) {
      config = undefined; // "null" decodes into a nil map: the next segment is missing
    } else if (isJsonObject(raw)) {
      config = raw;
    } else {
      throw new ConfigError(`snap ${goQuote(snap)} option ${goQuote(subkeys.slice(0, pos + 1).join('.'))} is not a map`);
    }
  }
  throw new Error('unreachable');
}

/** snapd's `purgeNulls`: drops null members of objects, recursively (not inside arrays). */
function purgeNulls(v: JsonValue): JsonValue {
  if (isJsonObject(v)) {
    for (const k of Object.keys(v)) {
      const p = purgeNulls(v[k] as JsonValue);
      if (p === null) delete v[k];
      else v[k] = p;
    }
  }
  return v;
}

// ------------------------------------------------------------------------------------------------
// Transaction

/** A replacement value in the change tree (Go: `*json.RawMessage`; null = unset). */
class Replace {
  constructor(readonly value: JsonValue) {}
}
/** A merge node in the change tree (Go: `map[string]any`). */
type ChangeMap = Map<string, Change>;
type Change = Replace | ChangeMap;

function materialize(c: Change): JsonValue {
  if (c instanceof Replace) return deepCopy(c.value);
  const o = newObject();
  for (const [k, v] of c) o[k] = materialize(v);
  return o;
}

/** `commitChange`: a Replace wins; a ChangeMap merges into a pristine object (or overwrites a non-object). */
function commitChange(pristine: JsonValue | undefined, change: Change): JsonValue {
  if (change instanceof Replace) return deepCopy(change.value);
  if (pristine === undefined || pristine === null || !isJsonObject(pristine)) return materialize(change);
  const merged = deepCopy(pristine);
  for (const [k, v] of change) merged[k] = commitChange(Object.prototype.hasOwnProperty.call(merged, k) ? merged[k] : undefined, v);
  return merged;
}

function applyChanges(doc: JsonObject, changes: ChangeMap): JsonObject {
  for (const [k, v] of changes) doc[k] = commitChange(Object.prototype.hasOwnProperty.call(doc, k) ? doc[k] : undefined, v);
  return doc;
}

/** A `snap set` patch: key → value (null unsets). */
export type ConfigPatch = ReadonlyMap<string, JsonValue> | Readonly<Record<string, JsonValue>>;

export interface ConfigTransactionOptions {
  /** instance name used in error texts (default `immich-distribution`) */
  snap?: string;
  /**
   * Refuse object values whose field names break the key rule (snapd does for core26+ bases).
   * Otherwise (core22/core24) snapd only records a warning, passed to `onWarning`.
   */
  strictValueKeys?: boolean;
  onWarning?: (message: string) => void;
}

export const DEFAULT_INSTANCE = 'immich-distribution';

/** Patch keys in snapd's order (`sortPatchKeysByDepth`: fewer dots first; ties in given order). */
export function patchKeysByDepth(patch: ConfigPatch): string[] {
  const keys = patch instanceof Map ? [...patch.keys()] : Object.keys(patch);
  const depth = (k: string): number => k.split('.').length - 1;
  return keys
    .map((k, idx) => ({ k, idx }))
    .sort((a, b) => depth(a.k) - depth(b.k) || a.idx - b.idx)
    .map((x) => x.k);
}

function patchEntries(patch: ConfigPatch): (key: string) => JsonValue {
  return patch instanceof Map ? (k) => patch.get(k) as JsonValue : (k) => (patch as Readonly<Record<string, JsonValue>>)[k] as JsonValue;
}

/**
 * snapd's `config.Transaction` for one snap: reads see pristine + patch + own writes; writes are
 * buffered as a change tree and applied at once by `commit`.
 */
export class ConfigTransaction {
  readonly snap: string;
  private pristine: JsonObject;
  private changeTree: ChangeMap = new Map();
  private readonly opts: ConfigTransactionOptions;

  /** `parseConfigValue` (auto mode), for callers that hold the class only. */
  static parseValue(raw: string, mode: ValueMode = 'auto'): JsonValue {
    return parseConfigValue(raw, mode);
  }

  /**
   * @param committed the committed document; deep-copied (pristine)
   * @param patch a `snap set` patch, applied first in snapd's order (throws ConfigError as the
   *   configure task would fail, e.g. `invalid option name: "A"`)
   */
  constructor(committed: ConfigDocument = newObject(), patch?: ConfigPatch, opts: ConfigTransactionOptions = {}) {
    this.opts = opts;
    this.snap = opts.snap ?? DEFAULT_INSTANCE;
    this.pristine = deepCopy(committed);
    if (patch) {
      const get = patchEntries(patch);
      for (const key of patchKeysByDepth(patch)) this.set(key, get(key));
    }
  }

  /** The value at `key` ("" = whole document); throws NoOptionError if unset, ConfigError on bad keys/paths. */
  get(key: string): JsonValue {
    const subkeys = parseKey(key);
    const doc = applyChanges(deepCopy(this.pristine), this.changeTree);
    purgeNulls(doc);
    return deepCopy(getFromDocument(this.snap, doc, subkeys));
  }

  /** Like `get`, but undefined when unset. */
  getMaybe(key: string): JsonValue | undefined {
    try {
      return this.get(key);
    } catch (e) {
      if (e instanceof NoOptionError) return undefined;
      throw e;
    }
  }

  /** The whole document as reads see it now. */
  view(): ConfigDocument {
    return purgeNulls(applyChanges(deepCopy(this.pristine), this.changeTree)) as ConfigDocument;
  }

  /** snapd's `Transaction.Set`; `null` unsets. */
  set(key: string, value: JsonValue): void {
    if (key === '') throw new ConfigError('internal error: key cannot be an empty string');
    const badField = findInvalidValueKey(value);
    if (badField !== undefined) {
      if (this.opts.strictValueKeys) throw new ConfigError(`invalid option name: ${goQuote(badField)}`);
      this.opts.onWarning?.(
        `Option value has invalid field name ${goQuote(badField)}. For core26+ snaps, fields must be dash separated lowercase alphanumerics.`,
      );
    }
    const subkeys = parseKey(key);
    // Traversing a non-map of the *pristine* config is refused even if this transaction replaced it.
    if (subkeys.length > 1) {
      try {
        getFromDocument(this.snap, this.pristine, subkeys);
      } catch (e) {
        if (!(e instanceof NoOptionError)) throw e;
      }
    }
    this.patchMap(this.changeTree, subkeys, 0, deepCopy(value));
  }

  unset(key: string): void {
    this.set(key, null);
  }

  private notAMap(subkeys: readonly string[], pos: number): ConfigError {
    return new ConfigError(`snap ${goQuote(this.snap)} option ${goQuote(subkeys.slice(0, pos).join('.'))} is not a map`);
  }

  /** PatchConfig, map case over the change tree. */
  private patchMap(node: ChangeMap, subkeys: readonly string[], pos: number, value: JsonValue): void {
    const k = subkeys[pos] as string;
    if (pos + 1 === subkeys.length) {
      node.set(k, new Replace(value));
      return;
    }
    node.set(k, this.patchNode(node.get(k), subkeys, pos + 1, value));
  }

  private patchNode(config: Change | undefined, subkeys: readonly string[], pos: number, value: JsonValue): Change {
    if (config === undefined) {
      const m: ChangeMap = new Map();
      this.patchMap(m, subkeys, pos, value);
      return m;
    }
    if (config instanceof Replace) {
      // Raw replaces pristine on commit: unpack, update, repack (still a Replace).
      const v = config.value;
      let obj: JsonObject;
      if (v === null) obj = newObject();
      else if (isJsonObject(v)) obj = deepCopy(v);
      else throw this.notAMap(subkeys, pos);
      this.patchPlain(obj, subkeys, pos, value);
      return new Replace(obj);
    }
    this.patchMap(config, subkeys, pos, value);
    return config;
  }

  /** PatchConfig over a decoded plain object (inside a replaced value). */
  private patchPlain(obj: JsonObject, subkeys: readonly string[], pos: number, value: JsonValue): void {
    const k = subkeys[pos] as string;
    if (pos + 1 === subkeys.length) {
      obj[k] = value;
      return;
    }
    const child = Object.prototype.hasOwnProperty.call(obj, k) ? obj[k] : undefined;
    if (child === undefined || child === null) {
      const m = newObject();
      this.patchPlain(m, subkeys, pos + 1, value);
      obj[k] = m;
    } else if (isJsonObject(child)) {
      this.patchPlain(child, subkeys, pos + 1, value);
    } else {
      // snapd hits its own type switch here (e.g. set a='{"b":5}' then a.b.c=1 in one transaction).
      throw new ConfigError(`internal error: unexpected configuration type ${goTypeName(child)}`);
    }
  }

  /** Changed key paths, sorted (snapd's `Changes()`, without its leading snap-name segment). */
  changes(): string[] {
    const out: string[] = [];
    const walkPlain = (prefix: string, o: JsonObject): void => {
      for (const k of Object.keys(o)) {
        const v = o[k] as JsonValue;
        if (isJsonObject(v)) walkPlain(`${prefix}.${k}`, v);
        else out.push(`${prefix}.${k}`);
      }
    };
    const walk = (prefix: string, m: ChangeMap): void => {
      for (const [k, c] of m) {
        const p = prefix === '' ? k : `${prefix}.${k}`;
        if (c instanceof Replace) {
          if (isJsonObject(c.value) && Object.keys(c.value).length > 0) walkPlain(p, c.value);
          else out.push(p);
        } else {
          walk(p, c);
        }
      }
    };
    walk('', this.changeTree);
    return out.sort(compareGoStrings);
  }

  hasChanges(): boolean {
    return this.changeTree.size > 0;
  }

  /**
   * Applies the changes onto `latest` (the committed document at commit time; defaults to this
   * transaction's pristine copy), as snapd does, and returns the new document. The transaction is
   * then reset onto the result. With no changes, `latest` is returned unchanged (as a copy).
   */
  commit(latest?: ConfigDocument): ConfigDocument {
    const base = latest === undefined ? this.pristine : deepCopy(latest);
    if (this.changeTree.size === 0) return deepCopy(base);
    const doc = purgeNulls(applyChanges(deepCopy(base), this.changeTree)) as JsonObject;
    this.pristine = deepCopy(doc);
    this.changeTree = new Map();
    return doc;
  }
}

/** Go's string ordering (UTF-8 bytes = code points), for sorted JSON keys and key lists. */
export function compareGoStrings(a: string, b: string): number {
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  for (;;) {
    const x = ia.next();
    const y = ib.next();
    if (x.done) return y.done ? 0 : -1;
    if (y.done) return 1;
    const cx = x.value.codePointAt(0) as number;
    const cy = y.value.codePointAt(0) as number;
    if (cx !== cy) return cx < cy ? -1 : 1;
  }
}

// ------------------------------------------------------------------------------------------------
// Output (Go encoding/json Marshal/MarshalIndent with HTML escaping)

const HEX = '0123456789abcdef';

/**
 * Go's JSON string encoding with `escapeHTML` (the default of `json.Marshal`): `<`, `>`, `&`,
 * U+2028 and U+2029 as `\u….`, other control characters as `\u00XX` except `\n`, `\r`, `\t`, `\b`,
 * `\f` (short forms since Go 1.22, which current snapd builds use; Go ≤ 1.21, e.g. Debian 12's
 * snapd 2.57, printed `\u0008` and `\u000c`).
 */
export function goJsonString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0) as number;
    if (cp < 0x80) {
      switch (ch) {
        case '"':
          out += '\\"';
          continue;
        case '\\':
          out += '\\\\';
          continue;
        case '\n':
          out += '\\n';
          continue;
        case '\r':
          out += '\\r';
          continue;
        case '\t':
          out += '\\t';
          continue;
        case '\b':
          out += '\\b';
          continue;
        case '\f':
          out += '\\f';
          continue;
        case '<':
        case '>':
        case '&':
          out += `\\u00${HEX[cp >> 4]}${HEX[cp & 0xf]}`;
          continue;
      }
      if (cp < 0x20) out += `\\u00${HEX[cp >> 4]}${HEX[cp & 0xf]}`;
      else out += ch;
      continue;
    }
    if (cp >= 0xd800 && cp <= 0xdfff) out += '\\ufffd';
    else if (cp === 0x2028 || cp === 0x2029) out += `\\u${cp.toString(16)}`;
    else out += ch;
  }
  return out + '"';
}

/** Go's `json.MarshalIndent(v, prefix, indent)` for our values (object keys sorted). */
export function goMarshalIndent(v: JsonValue, indent = '\t', prefix = ''): string {
  const enc = (x: JsonValue, depth: number): string => {
    if (x === null) return 'null';
    if (typeof x === 'boolean') return x ? 'true' : 'false';
    if (typeof x === 'string') return goJsonString(x);
    if (x instanceof JsonNumber) return x.literal;
    const pad = prefix + indent.repeat(depth + 1);
    const end = prefix + indent.repeat(depth);
    if (Array.isArray(x)) {
      if (x.length === 0) return '[]';
      return `[\n${x.map((e) => pad + enc(e, depth + 1)).join(',\n')}\n${end}]`;
    }
    const keys = Object.keys(x).sort(compareGoStrings);
    if (keys.length === 0) return '{}';
    return `{\n${keys.map((k) => `${pad}${goJsonString(k)}: ${enc(x[k] as JsonValue, depth + 1)}`).join(',\n')}\n${end}}`;
  };
  return enc(v, 0);
}

/** Go's compact `json.Marshal` (object keys sorted, HTML-escaped). */
export function goMarshal(v: JsonValue): string {
  if (v === null) return 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'string') return goJsonString(v);
  if (v instanceof JsonNumber) return v.literal;
  if (Array.isArray(v)) return `[${v.map((e) => goMarshal(e)).join(',')}]`;
  const keys = Object.keys(v).sort(compareGoStrings);
  return `{${keys.map((k) => `${goJsonString(k)}:${goMarshal(v[k] as JsonValue)}`).join(',')}}`;
}

function objectFrom(values: ReadonlyMap<string, JsonValue>): JsonObject {
  const o = newObject();
  for (const [k, v] of values) o[k] = v;
  return o;
}

/**
 * `snapctl get` output (ctlcmd `printPatch`), given the keys as requested and the values found
 * (missing keys absent from `values`):
 * one key + string → raw string; one key + other → tab-indented JSON; one key missing → "" (or
 * `null` with typed); several keys or `document` → one object keyed by the requested strings.
 * Always ends with "\n".
 */
export function formatSnapctlGet(
  keys: readonly string[],
  values: ReadonlyMap<string, JsonValue>,
  opts: { document?: boolean; typed?: boolean } = {},
): string {
  let confToPrint: JsonValue | undefined;
  if (!opts.document && keys.length === 1) confToPrint = values.get(keys[0] as string);
  else confToPrint = objectFrom(values);
  if (opts.typed && (confToPrint === undefined || confToPrint === null)) return 'null\n';
  if (typeof confToPrint === 'string' && !opts.typed) return `${confToPrint}\n`;
  if (confToPrint === undefined || confToPrint === null) return '\n';
  return `${goMarshalIndent(confToPrint)}\n`;
}

// ------------------------------------------------------------------------------------------------
// The user commands: `snap get`, `snap set`, `snap unset`

export interface CommandResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

const fail = (message: string): CommandResult => ({ stdout: '', stderr: `error: ${message}\n`, exitCode: 1 });

export interface SnapGetOptions {
  document?: boolean;
  typed?: boolean;
}

/**
 * `snap get <snap> [keys…]` against the committed document, as a non-TTY client sees it
 * (`cmd/snapd/cli/cmd_get.go` + `daemon/api_snap_conf.go`). Keys are joined with "," in the
 * request and split again by the daemon (so `a,b` is two keys). Not modelled: `-l` and the TTY
 * list view.
 */
export function formatSnapGet(snap: string, committed: ConfigDocument, keys: readonly string[], opts: SnapGetOptions = {}): CommandResult {
  if (opts.document && opts.typed) return fail('cannot use -d and -t together');
  const confKeys = keys
    .join(',')
    .split(',')
    .map((k) => k.trim())
    .filter((k) => k !== '');
  const tr = new ConfigTransaction(committed, undefined, { snap });
  let conf: JsonObject = newObject();
  if (confKeys.length === 0) {
    const root = tr.getMaybe('');
    if (root !== undefined && isJsonObject(root)) conf = root;
  } else {
    for (const key of confKeys) {
      try {
        conf[key] = tr.get(key);
      } catch (e) {
        if (e instanceof ConfigError) return fail(e.message);
        throw e;
      }
    }
  }

  if (opts.document) return { stdout: `${goMarshalIndent(conf)}\n`, stderr: '', exitCode: 0 };

  if (confKeys.length === 0 && Object.keys(conf).length === 0) return fail(`snap ${goQuote(snap)} has no configuration`);
  let confToPrint: JsonValue = conf;
  if (confKeys.length === 1 && !isJsonObject(conf[confKeys[0] as string])) confToPrint = conf[confKeys[0] as string] as JsonValue;
  if (isJsonObject(confToPrint)) {
    return {
      stdout: `${goMarshalIndent(confToPrint)}\n`,
      stderr: "WARNING: The output of 'snap get' will become a list with columns - use -d or -l to force the output format.\n",
      exitCode: 0,
    };
  }
  if (typeof confToPrint === 'string' && !opts.typed) return { stdout: `${confToPrint}\n`, stderr: '', exitCode: 0 };
  return { stdout: `${goMarshalIndent(confToPrint)}\n`, stderr: '', exitCode: 0 };
}

export interface ParsedSnapGet extends SnapGetOptions {
  snap: string;
  keys: string[];
}

/** Parses the arguments after `snap get`: `[-d] [-t] <snap> [<key>…]`. Throws ConfigError. */
export function parseSnapGetArgs(args: readonly string[]): ParsedSnapGet {
  const { flags, positional } = splitFlags(args, ['d', 't', 'l']);
  if (flags.has('l')) throw new ConfigError('snap get -l is not modelled by this stand-in');
  const [snap, ...keys] = positional;
  if (snap === undefined) throw new ConfigError('the required argument `<snap>` was not provided');
  return { snap, keys, document: flags.has('d'), typed: flags.has('t') };
}

/** Parses the arguments after `snap set`: `[-t|-s] <snap> <key=value|key!>…` into a patch. Throws ConfigError. */
export function parseSnapSetArgs(args: readonly string[]): { snap: string; patch: Map<string, JsonValue> } {
  const { flags, positional } = splitFlags(args, ['t', 's']);
  const [snap, ...words] = positional;
  if (snap === undefined) throw new ConfigError('the required argument `<snap>` was not provided');
  if (words.length === 0) throw new ConfigError('the required argument `<conf value> (at least 1 argument)` was not provided');
  if (flags.has('t') && flags.has('s')) throw new ConfigError('cannot use -t and -s together');
  const { values } = parseConfigValues(words, { string: flags.has('s'), typed: flags.has('t') });
  return { snap, patch: values };
}

/** Parses the arguments after `snap unset`: `<snap> <key>…` into a patch of nulls. Throws ConfigError. */
export function parseSnapUnsetArgs(args: readonly string[]): { snap: string; patch: Map<string, JsonValue> } {
  const { positional } = splitFlags(args, []);
  const [snap, ...keys] = positional;
  if (snap === undefined) throw new ConfigError('the required argument `<snap>` was not provided');
  if (keys.length === 0) throw new ConfigError('the required argument `<conf key> (at least 1 argument)` was not provided');
  const patch = new Map<string, JsonValue>();
  for (const k of keys) {
    if (k === '') throw new ConfigError('configuration keys cannot be empty');
    patch.set(k, null);
  }
  return { snap, patch };
}

/** Minimal go-flags style split of short boolean flags (`-d`, `-dt`) and positionals (`--` ends flags). */
function splitFlags(args: readonly string[], known: readonly string[]): { flags: Set<string>; positional: string[] } {
  const flags = new Set<string>();
  const positional: string[] = [];
  let rest = false;
  for (const a of args) {
    if (rest || a === '-' || !a.startsWith('-')) {
      positional.push(a);
    } else if (a === '--') {
      rest = true;
    } else if (a.startsWith('--')) {
      throw new ConfigError(`unknown flag \`${a.slice(2).split('=')[0] ?? ''}'`);
    } else {
      for (const f of a.slice(1)) {
        if (!known.includes(f)) throw new ConfigError(`unknown flag \`${f}'`);
        flags.add(f);
      }
    }
  }
  return { flags, positional };
}
