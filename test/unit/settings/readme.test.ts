// The README's settings table is generated from the schema and must be current.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  END_MARKER,
  START_MARKER,
  UPDATE_COMMAND,
  changeEffect,
  renderSettingsTable,
  replaceSettingsSection,
} from '../../../hooks-src/settings/readme-table.js';
import { SETTING_KEYS } from '../../../hooks-src/settings/schema.js';

const readmePath = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'README.md');

test('README settings table is current', () => {
  if (!existsSync(readmePath)) assert.unreachable(`README.md is missing; write it with ${START_MARKER} … ${END_MARKER} markers, then run ${UPDATE_COMMAND}`);
  const readme = readFileSync(readmePath, 'utf8');
  let expected: string;
  try {
    expected = replaceSettingsSection(readme, renderSettingsTable());
  } catch (err) {
    assert.unreachable((err as Error).message);
    return;
  }
  if (expected !== readme) assert.unreachable(`README.md's settings table is stale; run ${UPDATE_COMMAND}`);
});

test('the table has one row per key with five cells', () => {
  const rows = renderSettingsTable().trimEnd().split('\n');
  assert.is(rows.length, SETTING_KEYS.length + 2);
  SETTING_KEYS.forEach((key, i) => {
    const row = rows[i + 2]!;
    assert.ok(row.startsWith(`| \`${key}\` |`), row);
    // Cells are separated by unescaped pipes only.
    assert.is(row.split(/(?<!\\)\|/).length - 2, 5, row);
  });
});

test('what a change does, in words', () => {
  assert.is(changeEffect('http.port'), 'reloads haproxy (graceful); renders haproxy.cfg');
  assert.match(changeEffect('ml.enabled'), /starts and enables, or stops and disables, immich-machine-learning/);
  assert.match(changeEffect('database-password'), /nothing restarts/);
  assert.match(changeEffect('https.cert'), /only while https\.mode is custom/);
  assert.match(changeEffect('backup.keep'), /^nothing restarts/);
});

test('replaceSettingsSection: only the marked part changes; idempotent; clear errors', () => {
  const doc = `# T\n\nbefore\n${START_MARKER}\nold\n${END_MARKER}\nafter\n`;
  const once = replaceSettingsSection(doc, 'TABLE\n');
  assert.is(once, `# T\n\nbefore\n${START_MARKER}\n\nTABLE\n\n${END_MARKER}\nafter\n`);
  assert.is(replaceSettingsSection(once, 'TABLE\n'), once);
  assert.throws(() => replaceSettingsSection('# no markers\n', 'x'), (e: Error) => e.message.includes(UPDATE_COMMAND));
  assert.throws(() => replaceSettingsSection(`${END_MARKER}\n${START_MARKER}\n`, 'x'), /exactly one/);
  assert.throws(() => replaceSettingsSection(`${START_MARKER}\n${END_MARKER}\n${START_MARKER}\n`, 'x'), /exactly one/);
});

test.run();
