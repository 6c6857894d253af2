import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readState, renderState, writeState } from '../../../hooks-src/state/state.js';

const state = { stateVersion: 1, postgresMajor: 15, vectorExtension: { name: 'vector' as const, version: '0.8.0' }, immichVersion: '3.1.0' };

test('write, read back, rewrite is a no-op', () => {
  const dir = mkdtempSync(join(tmpdir(), 'state-'));
  try {
    const f = join(dir, 'state.json');
    assert.ok(writeState(f, state));
    const ino = statSync(f).ino;
    assert.equal(readState(f), state);
    assert.not.ok(writeState(f, state));
    assert.is(statSync(f).ino, ino, 'unchanged file is not rewritten');
    assert.ok(writeState(f, { ...state, postgresMajor: 17 }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('invalid state is a one-line error naming the field', () => {
  const dir = mkdtempSync(join(tmpdir(), 'state-'));
  try {
    const f = join(dir, 'state.json');
    writeFileSync(f, JSON.stringify({ ...state, postgresMajor: 'x' }));
    assert.throws(() => readState(f), /postgresMajor/);
    writeFileSync(f, '{');
    assert.throws(() => readState(f), /not valid JSON/);
    assert.is(readState(join(dir, 'missing.json')), undefined);
    assert.throws(() => renderState({ ...state, extra: 1 } as typeof state));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
