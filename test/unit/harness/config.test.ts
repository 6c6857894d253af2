// Tests for the snapd config model, written from reference/snapd-and-nextcloud.md §B1–B3 and B7
// (and the snapd code it cites); vectors quoted from the reference are marked "ref".
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  ConfigError,
  ConfigTransaction,
  JsonNumber,
  NoOptionError,
  decodeJson,
  formatSnapGet,
  formatSnapctlGet,
  fromPlain,
  goJsonString,
  goMarshalIndent,
  goQuote,
  isJsonObject,
  type JsonObject,
  type JsonValue,
  parseConfigValue,
  parseConfigValues,
  parseKey,
  parseSnapGetArgs,
  parseSnapSetArgs,
  parseSnapUnsetArgs,
  toPlain,
  validateKeyPath,
} from '../../harness/snapd/config.js';

const SNAP = 'immich-distribution';
const doc = (v: unknown): JsonObject => fromPlain(v) as JsonObject;
const plain = (v: JsonValue | undefined): unknown => (v === undefined ? undefined : toPlain(v));

function throwsMessage(fn: () => unknown, message: string): void {
  try {
    fn();
  } catch (e) {
    assert.is((e as Error).message, message);
    return;
  }
  assert.unreachable(`expected error: ${message}`);
}

// ------------------------------------------------------------------------------------------------
// B1 key rules

test('B1: valid key segments', () => {
  for (const k of ['a', 'abc', 'a1', '1a', 'a-b', 'a-1', '1-a', 'http-port', 'a0-b1-c2', 'ports.http', 'a.b.c']) {
    assert.equal(parseKey(k), k.split('.'), k);
  }
});

test('B1: invalid segments name the offending segment', () => {
  const cases: Array<[string, string]> = [
    ['Upper', 'Upper'], // uppercase
    ['a_b', 'a_b'], // underscore
    ['a--b', 'a--b'], // double dash
    ['-a', '-a'], // leading dash
    ['a-', 'a-'], // trailing dash
    ['123', '123'], // digits only: must contain a letter
    ['ports.HTTP', 'HTTP'],
    ['a..b', ''], // empty segment
    ['a.', ''],
    ['é', 'é'],
  ];
  for (const [key, seg] of cases) throwsMessage(() => parseKey(key), `invalid option name: ${JSON.stringify(seg)}`);
});

test('B1: empty key is the root for reads, refused for writes', () => {
  assert.equal(parseKey(''), []);
  throwsMessage(() => validateKeyPath(''), 'configuration keys cannot be empty');
  throwsMessage(() => validateKeyPath('A'), 'invalid option name: "A"');
});

test('goQuote follows Go %q for control characters', () => {
  assert.is(goQuote('a\nb'), '"a\\nb"');
  assert.is(goQuote('a\x00'), '"a\\x00"');
  assert.is(goQuote('\u00a0'), '"\\u00a0"');
  assert.is(goQuote('é"'), '"é\\""');
});

// ------------------------------------------------------------------------------------------------
// B3 value parsing

test('B3 ref: default parsing: JSON if it decodes with no trailing data, else the raw string', () => {
  const n = parseConfigValue('80');
  assert.ok(n instanceof JsonNumber);
  assert.is((n as JsonNumber).literal, '80');
  assert.is(parseConfigValue('true'), true);
  assert.is((parseConfigValue('-1') as JsonNumber).literal, '-1');
  assert.is(parseConfigValue('512M'), '512M');
  assert.is(parseConfigValue('080'), '080'); // a string, not 80
  assert.equal(plain(parseConfigValue('{"a":1}')), { a: 1 });
  assert.is(parseConfigValue('"80"'), '80'); // the JSON string "80"
  assert.is(parseConfigValue(''), '');
  assert.is(parseConfigValue('null'), null); // unset
});

test('numbers keep their literal form', () => {
  assert.is((parseConfigValue('1.50') as JsonNumber).literal, '1.50');
  assert.is((parseConfigValue('1e3') as JsonNumber).literal, '1e3');
  assert.is(goMarshalIndent(parseConfigValue('[1.50,1E+2,-0]')), '[\n\t1.50,\n\t1E+2,\n\t-0\n]');
});

test('no trailing data, but Go Decoder.More ignores a following ] or }', () => {
  assert.is(parseConfigValue('80 80'), '80 80');
  assert.is(parseConfigValue('{"a":1}x'), '{"a":1}x');
  assert.is(parseConfigValue('1,'), '1,');
  // snapd's DecodeWithNumber checks dec.More(), which is false before ']' and '}'.
  assert.is((parseConfigValue('80]') as JsonNumber).literal, '80');
  assert.equal(plain(parseConfigValue('{"a":1}}')), { a: 1 });
  assert.is(parseConfigValue(' "x" '), 'x');
});

test('-s stores the raw string; -t needs valid JSON with Go error texts', () => {
  assert.is(parseConfigValue('80', 'string'), '80');
  assert.is(parseConfigValue('null', 'string'), 'null');
  assert.is((parseConfigValue('80', 'json') as JsonNumber).literal, '80');
  throwsMessage(() => parseConfigValue('512M', 'json'), 'failed to parse JSON: cannot parse json value');
  throwsMessage(() => parseConfigValue('', 'json'), 'failed to parse JSON: EOF');
  throwsMessage(() => parseConfigValue('{"a":', 'json'), 'failed to parse JSON: unexpected EOF');
  throwsMessage(() => parseConfigValue('x', 'json'), "failed to parse JSON: invalid character 'x' looking for beginning of value");
  throwsMessage(() => parseConfigValue('{"a" 1}', 'json'), "failed to parse JSON: invalid character '1' after object key");
  throwsMessage(() => parseConfigValue('[1 2]', 'json'), "failed to parse JSON: invalid character '2' after array element");
  throwsMessage(() => parseConfigValue('{"a":1 "b":2}', 'json'), `failed to parse JSON: invalid character '"' after object key:value pair`);
  throwsMessage(() => parseConfigValue('{1:2}', 'json'), "failed to parse JSON: invalid character '1' looking for beginning of object key string");
  throwsMessage(() => parseConfigValue('tru', 'json'), 'failed to parse JSON: unexpected EOF');
  throwsMessage(() => parseConfigValue('trye', 'json'), "failed to parse JSON: invalid character 'y' in literal true (expecting 'u')");
  throwsMessage(() => parseConfigValue('"a\nb"', 'json'), "failed to parse JSON: invalid character '\\n' in string literal");
  throwsMessage(() => parseConfigValue('-x', 'json'), "failed to parse JSON: invalid character 'x' in numeric literal");
  throwsMessage(() => parseConfigValue('1.e', 'json'), "failed to parse JSON: invalid character 'e' after decimal point in numeric literal");
  throwsMessage(() => parseConfigValue("'a'", 'json'), "failed to parse JSON: invalid character '\\'' looking for beginning of value");
});

test('JSON strings: escapes and surrogates decode like Go', () => {
  assert.is(decodeJson('"\\u00e9\\n\\/"'), 'é\n/');
  assert.is(decodeJson('"\\ud83d\\ude00"'), '😀');
  assert.is(decodeJson('"\\ud83d"'), '\ufffd');
  throwsMessage(() => decodeJson('"\\q"'), "invalid character 'q' in string escape code");
  throwsMessage(() => decodeJson('"\\u12g4"'), "invalid character 'g' in \\u hexadecimal character escape");
});

test('nesting deeper than 10000 is refused (Go scanner limit)', () => {
  const ok = '['.repeat(10000) + ']'.repeat(10000);
  assert.ok(Array.isArray(decodeJson(ok)));
  throwsMessage(() => decodeJson('['.repeat(10001) + ']'.repeat(10001)), "invalid character '[' exceeded max depth");
});

test('B3 ref: key=value words (ParseConfigValues)', () => {
  const r = parseConfigValues(['a=1', 'b!', 'c=x=y', 'd=']);
  assert.equal(r.keys, ['a', 'b', 'c', 'd']);
  assert.equal(plain(r.values.get('a')), 1);
  assert.is(r.values.get('b'), null);
  assert.is(r.values.get('c'), 'x=y');
  assert.is(r.values.get('d'), '');
  // `k!=v` is a key named "k!" (refused later by the key rule).
  assert.equal(parseConfigValues(['k!=v']).keys, ['k!']);
  throwsMessage(() => parseConfigValues(['!']), 'configuration keys cannot be empty (use key! to unset a key)');
  throwsMessage(() => parseConfigValues(['x']), 'invalid configuration: "x" (want key=value)');
  throwsMessage(() => parseConfigValues(['=v']), 'configuration keys cannot be empty');
  assert.is(parseConfigValues(['a=80'], { string: true }).values.get('a'), '80');
  throwsMessage(() => parseConfigValues(['a=80x'], { typed: true }), 'failed to parse JSON: cannot parse json value');
});

// ------------------------------------------------------------------------------------------------
// Transaction

test('B3: dotted set creates intermediate maps and merges into existing ones', () => {
  const tx = new ConfigTransaction(doc({ ports: { https: 443 } }));
  tx.set('ports.http', JsonNumber.of(80));
  tx.set('a.b.c', 'deep');
  assert.equal(plain(tx.get('ports')), { https: 443, http: 80 });
  assert.equal(plain(tx.get('a')), { b: { c: 'deep' } });
  assert.equal(plain(tx.commit()), { ports: { https: 443, http: 80 }, a: { b: { c: 'deep' } } });
});

test('B3: an object value replaces the whole subtree', () => {
  const tx = new ConfigTransaction(doc({ ports: { http: 80, https: 443 } }));
  tx.set('ports', fromPlain({ http: 8080 }));
  assert.equal(plain(tx.get('ports')), { http: 8080 });
  assert.equal(plain(tx.commit()), { ports: { http: 8080 } });
});

test('B3: setting through a stored non-map fails with "is not a map"', () => {
  const tx = new ConfigTransaction(doc({ a: 5, b: { c: 'x' } }));
  throwsMessage(() => tx.set('a.b', 'v'), `snap "${SNAP}" option "a" is not a map`);
  throwsMessage(() => tx.set('b.c.d', 'v'), `snap "${SNAP}" option "b.c" is not a map`);
  throwsMessage(() => tx.get('a.b'), `snap "${SNAP}" option "a" is not a map`);
  // snapd checks the pristine document, so replacing `a` first in the same transaction does not help.
  tx.set('a', fromPlain({}));
  throwsMessage(() => tx.set('a.b', 'v'), `snap "${SNAP}" option "a" is not a map`);
});

test('B3: a scalar set earlier in the same transaction is not a map either', () => {
  const tx = new ConfigTransaction(doc({}), undefined, { snap: 'other' });
  tx.set('x', JsonNumber.of(1));
  throwsMessage(() => tx.set('x.y', 'v'), 'snap "other" option "x" is not a map');
});

test('B3: unsetting a leaf leaves an empty parent map; unsetting a top-level key removes it', () => {
  const tx = new ConfigTransaction(doc({ a: { b: 1 }, c: 2 }));
  tx.unset('a.b');
  tx.set('c', null);
  assert.equal(plain(tx.get('a')), {});
  assert.ok(tx.getMaybe('c') === undefined);
  assert.equal(plain(tx.commit()), { a: {} });
});

test('unsetting a nested key that was never set leaves empty intermediate maps (snapd transaction_test.go)', () => {
  const tx = new ConfigTransaction(doc({ doc: { one: { two: 2 } } }));
  tx.unset('doc.one.three.four.five');
  assert.equal(tx.changes(), ['doc.one.three.four.five']);
  assert.equal(plain(tx.get('doc')), { one: { two: 2, three: { four: {} } } });
  assert.equal(plain(tx.commit()), { doc: { one: { two: 2, three: { four: {} } } } });
  const top = new ConfigTransaction(doc({ foo: 'bar' }));
  top.unset('x');
  assert.equal(plain(top.commit()), { foo: 'bar' });
});

test('scenarios from snapd transaction_test.go, rewritten', () => {
  // a partial update keeps siblings; the committed document is untouched until commit
  let state = doc({ one: { two: 2, three: 3 } });
  let tx = new ConfigTransaction(state, undefined, { snap: 'core' });
  tx.set('one.two', JsonNumber.of(0));
  assert.equal(plain(tx.get('')), { one: { two: 0, three: 3 } });
  assert.equal(plain(state), { one: { two: 2, three: 3 } });
  assert.equal(tx.changes(), ['one.two']);
  state = tx.commit(state);
  assert.equal(plain(state), { one: { two: 0, three: 3 } });

  // a replaced subtree wins over what the state gained meanwhile
  tx = new ConfigTransaction(doc({}), undefined, { snap: 'core' });
  tx.set('one', fromPlain({ two: { three: 3 } }));
  tx.set('one.five', JsonNumber.of(5));
  assert.equal(tx.changes(), ['one.five', 'one.two.three']);
  state = tx.commit(doc({ one: { two: { four: 4 }, six: 6 } }));
  assert.equal(plain(state), { one: { two: { three: 3 }, five: 5 } });

  // a nested write merges into what the state gained meanwhile
  tx = new ConfigTransaction(doc({}), undefined, { snap: 'core' });
  tx.set('one.two.three', JsonNumber.of(3));
  tx.set('one.five', JsonNumber.of(5));
  assert.equal(plain(tx.commit(doc({ one: { two: { four: 4 } } }))), { one: { two: { three: 3, four: 4 }, five: 5 } });

  // a scalar the transaction never saw is overwritten by a nested write
  tx = new ConfigTransaction(doc({}), undefined, { snap: 'core' });
  tx.set('one.two.three', JsonNumber.of(3));
  assert.equal(plain(tx.commit(doc({ one: { two: 2 } }))), { one: { two: { three: 3 } } });

  // a known scalar cannot be traversed, before or after commit
  tx = new ConfigTransaction(doc({}), undefined, { snap: 'core' });
  tx.set('one.two', JsonNumber.of(2));
  throwsMessage(() => tx.set('one.two.three', JsonNumber.of(3)), 'snap "core" option "one.two" is not a map');
  throwsMessage(() => tx.get('one.two.three'), 'snap "core" option "one.two" is not a map');
  state = tx.commit();
  tx = new ConfigTransaction(state, undefined, { snap: 'core' });
  throwsMessage(() => tx.set('one.two.three', JsonNumber.of(3)), 'snap "core" option "one.two" is not a map');

  // unset a subtree, unset below it, then set it back
  tx = new ConfigTransaction(doc({ doc: { x: { a: 1 } } }), undefined, { snap: 'core' });
  tx.unset('doc.x');
  tx.unset('doc.x.a');
  assert.equal(plain(tx.get('doc')), { x: {} });
  tx.set('doc', fromPlain({ x: { a: 9 } }));
  tx.set('doc.x.a', JsonNumber.of(1));
  assert.equal(plain(tx.commit()), { doc: { x: { a: 1 } } });

  // unsetting the only key leaves no configuration at all
  tx = new ConfigTransaction(doc({ doc: 'foo' }), undefined, { snap: 'core' });
  tx.unset('doc');
  state = tx.commit();
  throwsMessage(() => new ConfigTransaction(state, undefined, { snap: 'core' }).get(''), 'snap "core" has no configuration');
});

test('invalid option names in keys and (strict) inside values', () => {
  const tx = new ConfigTransaction(doc({}), undefined, { snap: 'core', strictValueKeys: true });
  const cases: Array<[string, JsonValue, string]> = [
    ['BAD', JsonNumber.of(1), 'BAD'],
    ['42', JsonNumber.of(1), '42'],
    ['.bad', JsonNumber.of(1), ''],
    ['bad.', JsonNumber.of(1), ''],
    ['one.bad--bad.two', JsonNumber.of(1), 'bad--bad'],
    ['one.-bad.two', JsonNumber.of(1), '-bad'],
    ['one.bad-.two', JsonNumber.of(1), 'bad-'],
    ['one', parseConfigValue('{"bad_key":1}'), 'bad_key'],
    ['one', parseConfigValue('[1,[{"good":{"Bad":1}}]]'), 'Bad'],
  ];
  for (const [key, value, seg] of cases) throwsMessage(() => tx.set(key, value), `invalid option name: ${JSON.stringify(seg)}`);
  assert.ok(!tx.hasChanges());
});

test('unset then set below it: the old subtree does not come back', () => {
  const tx = new ConfigTransaction(doc({ a: { x: 1 } }));
  tx.unset('a');
  tx.set('a.b', JsonNumber.of(1));
  assert.equal(plain(tx.get('a')), { b: 1 });
  assert.equal(plain(tx.commit()), { a: { b: 1 } });
});

test('reads see pristine + patch + own writes; the committed input is not mutated', () => {
  const committed = doc({ keep: 'k', over: 'old' });
  const patch = new Map<string, JsonValue>([
    ['over', 'patched'],
    ['gone', null],
    ['added', JsonNumber.of(1)],
  ]);
  const tx = new ConfigTransaction(committed, patch);
  assert.is(tx.get('over'), 'patched');
  assert.is(tx.get('keep'), 'k');
  tx.set('own', 'mine');
  assert.equal(plain(tx.view()), { keep: 'k', over: 'patched', added: 1, own: 'mine' });
  assert.equal(plain(committed), { keep: 'k', over: 'old' });
  assert.equal(tx.changes(), ['added', 'gone', 'over', 'own']);
});

test('a snap set patch applies shallow keys first (sortPatchKeysByDepth)', () => {
  // In argument order the nested key would be lost; snapd sorts by depth.
  const tx = new ConfigTransaction(doc({}), { 'a.b': JsonNumber.of(1), a: fromPlain({ c: 2 }) });
  assert.equal(plain(tx.get('a')), { c: 2, b: 1 });
});

test('a patch with an invalid key fails like the configure task', () => {
  throwsMessage(() => new ConfigTransaction(doc({}), { Bad: 'x' }), 'invalid option name: "Bad"');
});

test('commit applies the changes onto the latest committed document', () => {
  const tx = new ConfigTransaction(doc({ a: 1 }));
  tx.set('b', JsonNumber.of(2));
  const latest = doc({ a: 1, concurrent: true });
  assert.equal(plain(tx.commit(latest)), { a: 1, concurrent: true, b: 2 });
  assert.ok(!tx.hasChanges());
  assert.equal(plain(new ConfigTransaction(doc({ z: 1 })).commit()), { z: 1 });
});

test('changes() lists leaf paths, descending into set objects', () => {
  const tx = new ConfigTransaction(doc({}));
  tx.set('ports.http', JsonNumber.of(80));
  tx.set('obj', fromPlain({ x: 1, y: { z: 2 } }));
  tx.set('empty', fromPlain({}));
  assert.equal(tx.changes(), ['empty', 'obj.x', 'obj.y.z', 'ports.http']);
});

test('get: missing keys raise NoOptionError naming the first missing segment', () => {
  const tx = new ConfigTransaction(doc({ a: {} }));
  try {
    tx.get('a.b.c');
    assert.unreachable();
  } catch (e) {
    assert.ok(e instanceof NoOptionError);
    assert.is((e as NoOptionError).key, 'a.b');
    assert.is((e as Error).message, `snap "${SNAP}" has no "a.b" configuration option`);
  }
  throwsMessage(() => new ConfigTransaction(doc({})).get(''), `snap "${SNAP}" has no configuration`);
});

test('B1: invalid field names inside object values: a warning before core26, an error with strictValueKeys', () => {
  const warnings: string[] = [];
  const tx = new ConfigTransaction(doc({}), undefined, { onWarning: (m) => warnings.push(m) });
  tx.set('obj', fromPlain({ Bad_Key: 1 }));
  assert.equal(plain(tx.get('obj')), { Bad_Key: 1 });
  assert.equal(warnings, ['Option value has invalid field name "Bad_Key". For core26+ snaps, fields must be dash separated lowercase alphanumerics.']);
  const strict = new ConfigTransaction(doc({}), undefined, { strictValueKeys: true });
  throwsMessage(() => strict.set('obj', fromPlain({ ok: { Bad: 1 } })), 'invalid option name: "Bad"');
});

test('nulls inside arrays survive (purgeNulls does not enter arrays)', () => {
  const tx = new ConfigTransaction(doc({}));
  tx.set('list', parseConfigValue('[1,null,{"a":null}]'));
  assert.equal(plain(tx.commit()), { list: [1, null, { a: null }] });
});

// ------------------------------------------------------------------------------------------------
// B2 output

const vals = (o: Record<string, unknown>): Map<string, JsonValue> => new Map(Object.entries(o).map(([k, v]) => [k, fromPlain(v)]));

test('B2 ref: snapd get_test.go vectors', () => {
  const v = vals({ 'test-key1': 'test-value1', 'test-key2': 2 });
  const only = (k: string) => new Map([...v].filter(([key]) => key === k));
  assert.is(formatSnapctlGet(['test-key1'], only('test-key1')), 'test-value1\n');
  assert.is(formatSnapctlGet(['test-key2'], only('test-key2')), '2\n');
  assert.is(formatSnapctlGet(['missing-key'], new Map()), '\n');
  assert.is(formatSnapctlGet(['test-key1'], only('test-key1'), { typed: true }), '"test-value1"\n');
  assert.is(formatSnapctlGet(['missing-key'], new Map(), { typed: true }), 'null\n');
  assert.is(formatSnapctlGet(['test-key1', 'test-key2'], v), '{\n\t"test-key1": "test-value1",\n\t"test-key2": 2\n}\n');
});

test('B2: -d, several keys keyed by the requested strings, missing omitted, all missing {}', () => {
  assert.is(formatSnapctlGet(['installed-by-hook'], vals({ 'installed-by-hook': 'yes' }), { document: true }), '{\n\t"installed-by-hook": "yes"\n}\n');
  assert.is(formatSnapctlGet(['ports.http', 'nope'], vals({ 'ports.http': 80 })), '{\n\t"ports.http": 80\n}\n');
  assert.is(formatSnapctlGet(['x', 'y'], new Map()), '{}\n');
  assert.is(formatSnapctlGet(['x'], new Map(), { document: true }), '{}\n');
});

test('B2: objects are tab-indented with sorted keys; strings raw only at the top', () => {
  const v = vals({ obj: { b: 'two', a: 1, nested: { z: [], y: {} } } });
  assert.is(formatSnapctlGet(['obj'], v), '{\n\t"a": 1,\n\t"b": "two",\n\t"nested": {\n\t\t"y": {},\n\t\t"z": []\n\t}\n}\n');
  assert.is(formatSnapctlGet(['s'], vals({ s: '' })), '\n');
  assert.is(formatSnapctlGet(['s'], vals({ s: '' }), { typed: true }), '""\n');
  assert.is(formatSnapctlGet(['b'], vals({ b: false })), 'false\n');
});

test('B2: Go HTML escaping of <, >, & (and U+2028) inside JSON, not in raw strings', () => {
  assert.is(formatSnapctlGet(['h'], vals({ h: '<a href="x">&</a>' })), '<a href="x">&</a>\n');
  assert.is(formatSnapctlGet(['h'], vals({ h: '<a>&' }), { typed: true }), '"\\u003ca\\u003e\\u0026"\n');
  assert.is(goJsonString('\u2028\t\x01é\\'), '"\\u2028\\t\\u0001é\\\\"');
  assert.is(goMarshalIndent(fromPlain({ 'k<': 'v>' })), '{\n\t"k\\u003c": "v\\u003e"\n}');
});

test('B2: keys sort by Go byte order, not UTF-16', () => {
  const o = fromPlain({ '\uffff': 1, '😀': 2, B: 3, a: 4 });
  assert.is(goMarshalIndent(o), '{\n\t"B": 3,\n\t"a": 4,\n\t"\uffff": 1,\n\t"😀": 2\n}');
});

// ------------------------------------------------------------------------------------------------
// The user commands

const committed = doc({ 'test-key1': 'test-value1', port: 80, obj: { a: 1, b: 'two' } });

test('snap get: missing key is an error, unlike snapctl', () => {
  assert.equal(formatSnapGet(SNAP, committed, ['missing']), {
    stdout: '',
    stderr: `error: snap "${SNAP}" has no "missing" configuration option\n`,
    exitCode: 1,
  });
  assert.is(formatSnapGet(SNAP, committed, ['obj.x.y']).stderr, `error: snap "${SNAP}" has no "obj.x" configuration option\n`);
  assert.is(formatSnapGet(SNAP, committed, ['port.x']).stderr, `error: snap "${SNAP}" option "port" is not a map\n`);
});

test('snap get: leaf values print like snapctl; maps print JSON after a WARNING on stderr', () => {
  assert.equal(formatSnapGet(SNAP, committed, ['test-key1']), { stdout: 'test-value1\n', stderr: '', exitCode: 0 });
  assert.equal(formatSnapGet(SNAP, committed, ['port']), { stdout: '80\n', stderr: '', exitCode: 0 });
  assert.is(formatSnapGet(SNAP, committed, ['test-key1'], { typed: true }).stdout, '"test-value1"\n');
  const m = formatSnapGet(SNAP, committed, ['obj']);
  assert.is(m.stdout, '{\n\t"obj": {\n\t\t"a": 1,\n\t\t"b": "two"\n\t}\n}\n');
  assert.match(m.stderr, /^WARNING: The output of 'snap get' will become a list/);
});

test('snap get -d: the whole document, or {} when there is none; no keys without -d needs config', () => {
  assert.is(formatSnapGet(SNAP, committed, [], { document: true }).stdout, '{\n\t"obj": {\n\t\t"a": 1,\n\t\t"b": "two"\n\t},\n\t"port": 80,\n\t"test-key1": "test-value1"\n}\n');
  assert.equal(formatSnapGet(SNAP, doc({}), [], { document: true }), { stdout: '{}\n', stderr: '', exitCode: 0 });
  assert.equal(formatSnapGet(SNAP, doc({}), []), { stdout: '', stderr: `error: snap "${SNAP}" has no configuration\n`, exitCode: 1 });
  assert.is(formatSnapGet(SNAP, committed, ['port'], { document: true, typed: true }).stderr, 'error: cannot use -d and -t together\n');
  // keys travel comma-joined in the query: "port,test-key1" is two keys
  assert.is(formatSnapGet(SNAP, committed, ['port,test-key1'], { document: true }).stdout, '{\n\t"port": 80,\n\t"test-key1": "test-value1"\n}\n');
});

test('snap set / unset / get argument parsing', () => {
  const s = parseSnapSetArgs(['-s', SNAP, 'a=80', 'b!']);
  assert.is(s.snap, SNAP);
  assert.is(s.patch.get('a'), '80');
  assert.is(s.patch.get('b'), null);
  assert.ok(parseSnapSetArgs([SNAP, 'a=80']).patch.get('a') instanceof JsonNumber);
  throwsMessage(() => parseSnapSetArgs([SNAP, 'x']), 'invalid configuration: "x" (want key=value)');
  throwsMessage(() => parseSnapSetArgs([SNAP, '=1']), 'configuration keys cannot be empty');
  throwsMessage(() => parseSnapSetArgs([SNAP, '!']), 'configuration keys cannot be empty (use key! to unset a key)');
  throwsMessage(() => parseSnapSetArgs(['-t', '-s', SNAP, 'a=1']), 'cannot use -t and -s together');
  assert.equal([...parseSnapUnsetArgs([SNAP, 'a', 'b.c']).patch], [
    ['a', null],
    ['b.c', null],
  ]);
  throwsMessage(() => parseSnapUnsetArgs([SNAP, '']), 'configuration keys cannot be empty');
  assert.equal(parseSnapGetArgs(['-d', SNAP, 'k']), { snap: SNAP, keys: ['k'], document: true, typed: false });
});

test('fromPlain/toPlain round trip and JsonNumber validation', () => {
  const v = fromPlain({ a: [1, 'x', null, true], b: { c: 2.5 } });
  assert.ok(isJsonObject(v));
  assert.equal(toPlain(v), { a: [1, 'x', null, true], b: { c: 2.5 } });
  assert.throws(() => new JsonNumber('080'));
  assert.throws(() => JsonNumber.of(Number.NaN));
  assert.ok(new ConfigError('x') instanceof Error);
});

test.run();
