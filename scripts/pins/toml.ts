// A small TOML reader for exactly the shape of mise's lock file (mise.lock), not a general one:
//
//   # comment
//   [[tools."github:extism/js-pdk"]]                     array of tables
//   version = "1.6.0"                                     key = basic or literal string
//   [tools."github:extism/js-pdk"."platforms.linux-x64"]  table under the array's LAST element
//   checksum = "sha256:…"
//
// Keys may be bare (a-z A-Z 0-9 _ -) or quoted, and dotted. A value that is not a one-line string
// (numbers, booleans, inline arrays or tables) is kept as `Unparsed` so that unrelated entries do not
// stop the reader; a construct that spans lines (""" strings, multi-line arrays) is an error, since a
// line-based reader cannot know where it ends.

export class Unparsed {
  constructor(readonly raw: string) {}
}

export type TomlValue = string | Unparsed | TomlTable | TomlTable[];
export interface TomlTable {
  [key: string]: TomlValue;
}

export class TomlError extends Error {
  override name = 'TomlError';
}

function isTable(v: TomlValue | undefined): v is TomlTable {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Unparsed);
}

/** Reads a basic ("…", with escapes) or literal ('…') string at `text[start]`. */
export function readString(text: string, start: number): { value: string; end: number } {
  const quote = text[start];
  if (quote === "'") {
    const close = text.indexOf("'", start + 1);
    if (close < 0) throw new TomlError('unterminated literal string');
    return { value: text.slice(start + 1, close), end: close + 1 };
  }
  if (quote !== '"') throw new TomlError('expected a string');
  let out = '';
  let i = start + 1;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '"') return { value: out, end: i + 1 };
    if (c !== '\\') {
      out += c;
      i += 1;
      continue;
    }
    const e = text[i + 1];
    const simple: Record<string, string> = { '"': '"', '\\': '\\', n: '\n', t: '\t', r: '\r', b: '\b', f: '\f' };
    if (e !== undefined && e in simple) {
      out += simple[e];
      i += 2;
    } else if (e === 'u' || e === 'U') {
      const len = e === 'u' ? 4 : 8;
      const hex = text.slice(i + 2, i + 2 + len);
      if (!new RegExp(`^[0-9a-fA-F]{${len}}$`).test(hex)) throw new TomlError(`bad \\${e} escape`);
      out += String.fromCodePoint(parseInt(hex, 16));
      i += 2 + len;
    } else {
      throw new TomlError(`bad escape \\${e ?? ''}`);
    }
  }
  throw new TomlError('unterminated string');
}

/** Reads a dotted key (`a."b.c".d`) starting at `pos`; stops at `stop` (']' or '='). */
function readKey(text: string, pos: number, stop: string): { key: string[]; end: number } {
  const key: string[] = [];
  let i = pos;
  for (;;) {
    while (text[i] === ' ' || text[i] === '\t') i += 1;
    const c = text[i];
    if (c === '"' || c === "'") {
      const s = readString(text, i);
      key.push(s.value);
      i = s.end;
    } else {
      const m = /^[A-Za-z0-9_-]+/.exec(text.slice(i));
      if (m === null) throw new TomlError('expected a key');
      key.push(m[0]);
      i += m[0].length;
    }
    while (text[i] === ' ' || text[i] === '\t') i += 1;
    if (text[i] === '.') {
      i += 1;
      continue;
    }
    if (text.startsWith(stop, i)) return { key, end: i };
    throw new TomlError(`expected '.' or '${stop}' after a key`);
  }
}

function rest(text: string, pos: number): void {
  const tail = text.slice(pos).trim();
  if (tail !== '' && !tail.startsWith('#')) throw new TomlError(`unexpected '${tail}'`);
}

/** Walks `path` from `root`, creating tables; an array of tables stands for its last element. */
function descend(root: TomlTable, path: string[]): TomlTable {
  let t = root;
  for (const k of path) {
    const v = t[k];
    if (v === undefined) {
      const n: TomlTable = {};
      t[k] = n;
      t = n;
    } else if (Array.isArray(v)) {
      const last = v[v.length - 1];
      if (last === undefined) throw new TomlError(`empty array of tables '${k}'`);
      t = last;
    } else if (isTable(v)) {
      t = v;
    } else {
      throw new TomlError(`'${k}' is a value, not a table`);
    }
  }
  return t;
}

export function parseToml(text: string): TomlTable {
  const root: TomlTable = {};
  let current = root;
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    try {
      if (line.startsWith('[[')) {
        const { key, end } = readKey(line, 2, ']]');
        rest(line, end + 2);
        const parent = descend(root, key.slice(0, -1));
        const name = key[key.length - 1]!;
        const existing = parent[name];
        const table: TomlTable = {};
        if (existing === undefined) parent[name] = [table];
        else if (Array.isArray(existing)) existing.push(table);
        else throw new TomlError(`'${name}' is not an array of tables`);
        current = table;
      } else if (line.startsWith('[')) {
        const { key, end } = readKey(line, 1, ']');
        rest(line, end + 1);
        current = descend(root, key);
      } else {
        const { key, end } = readKey(line, 0, '=');
        let pos = end + 1;
        while (line[pos] === ' ' || line[pos] === '\t') pos += 1;
        let value: TomlValue;
        if (line.startsWith('"""', pos) || line.startsWith("'''", pos)) {
          throw new TomlError('multi-line strings are not supported');
        } else if (line[pos] === '"' || line[pos] === "'") {
          const s = readString(line, pos);
          rest(line, s.end);
          value = s.value;
        } else {
          const v = line.slice(pos).trim();
          const opens = (v.match(/[[{]/g) ?? []).length;
          const closes = (v.match(/[\]}]/g) ?? []).length;
          if (opens !== closes) throw new TomlError('values spanning several lines are not supported');
          value = new Unparsed(v);
        }
        const table = descend(current, key.slice(0, -1));
        const name = key[key.length - 1]!;
        if (name in table) throw new TomlError(`duplicate key '${key.join('.')}'`);
        table[name] = value;
      }
    } catch (err) {
      if (err instanceof TomlError) throw new TomlError(`line ${index + 1}: ${err.message}`);
      throw err;
    }
  });
  return root;
}

export function tableAt(value: TomlValue | undefined): TomlTable | undefined {
  return isTable(value) ? value : undefined;
}
