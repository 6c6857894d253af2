import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { LEDGER_MAX_ENTRIES, appendEntry, emptyLedger, parseLedger, renderLedger } from '../../../hooks-src/migrations/ledger.js';
import { decideTransfer, parseControlHead } from '../../../hooks-src/postgres/upgrade.js';

const L = suite('migrations: ledger');
const entry = (id: string) => ({ id, at: '2026-01-01T00:00:00.000Z', revision: 'x2', version: '0.1.0', durationMs: 12 });

L('round-trips and appends in order', () => {
  let l = emptyLedger();
  l = appendEntry(l, entry('a'));
  l = appendEntry(l, { ...entry('b'), detail: 'why' });
  const back = parseLedger(renderLedger(l));
  assert.is(back.problem, undefined);
  assert.equal(back.ledger.entries.map((e) => e.id), ['a', 'b']);
});

L('keeps the newest entries only', () => {
  let l = emptyLedger();
  for (let i = 0; i < LEDGER_MAX_ENTRIES + 5; i++) l = appendEntry(l, entry(`m${i}`));
  assert.is(l.entries.length, LEDGER_MAX_ENTRIES);
  assert.is(l.entries[0]!.id, 'm5');
});

L('an unreadable ledger is reported, not fatal', () => {
  assert.match(parseLedger('{').problem!, /not valid JSON/);
  assert.match(parseLedger('{"format":2,"entries":[]}').problem!, /format/);
  assert.equal(parseLedger('{').ledger, emptyLedger());
});

L.run();

const T = suite('postgres upgrade: transfer mode and pg_control');
const GiB = 1024 ** 3;

T('clone when the filesystem can, else copy when it fits, else a refusal that says what to do', () => {
  const clone = decideTransfer({ clone: true, oldBytes: 50 * GiB, freeBytes: 1 * GiB, from: 15, to: 16, where: '/x' });
  assert.is('mode' in clone && clone.mode, 'clone');
  const copy = decideTransfer({ clone: false, oldBytes: 2 * GiB, freeBytes: 3 * GiB, from: 15, to: 16, where: '/x' });
  assert.is('mode' in copy && copy.mode, 'copy');
  const no = decideTransfer({ clone: false, oldBytes: 10 * GiB, freeBytes: 4 * GiB, from: 15, to: 16, where: '/var/snap/immich-distribution/common/postgres' });
  assert.ok('refusal' in no);
  if ('refusal' in no) {
    assert.match(no.refusal, /^cannot upgrade PostgreSQL 15 to 16: .* needs 10\.5 GB free on the filesystem of \/var\/snap\/immich-distribution\/common\/postgres but only 4\.0 GB is free; free 6\.5 GB .*refresh again/);
    assert.not.match(no.refusal, /\n/);
  }
});

T('reads state and time from the head of pg_control', () => {
  const b = Buffer.alloc(64);
  b.writeUInt32LE(1300, 8);
  b.writeInt32LE(1, 16);
  b.writeBigInt64LE(1700000000n, 24);
  assert.equal(parseControlHead(b), { controlVersion: 1300, state: 'shut down', time: 1700000000 });
  b.writeInt32LE(6, 16);
  assert.is(parseControlHead(b).state, 'in production');
  b.writeInt32LE(99, 16);
  assert.is(parseControlHead(b).state, 'unknown');
  assert.throws(() => parseControlHead(Buffer.alloc(8)));
});

T.run();
