// Regenerates the settings table in README.md from the schema (hooks-src/settings/schema.ts),
// between <!-- settings:start --> and <!-- settings:end -->. Never creates README.md.
//   node --import tsx scripts/update-readme-settings.ts          rewrite the section
//   node --import tsx scripts/update-readme-settings.ts --check  exit 1 if it is stale
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UPDATE_COMMAND, renderSettingsTable, replaceSettingsSection } from '../hooks-src/settings/readme-table.js';

const readmePath = join(dirname(fileURLToPath(import.meta.url)), '..', 'README.md');
const check = process.argv.includes('--check');

function fail(message: string): never {
  process.stderr.write(`update-readme-settings: ${message}\n`);
  process.exit(1);
}

if (!existsSync(readmePath)) fail(`${readmePath} does not exist; write the README with the settings markers first`);
const readme = readFileSync(readmePath, 'utf8');
let updated: string;
try {
  updated = replaceSettingsSection(readme, renderSettingsTable());
} catch (err) {
  fail((err as Error).message);
}
if (updated === readme) {
  process.stdout.write('README.md settings table is current\n');
} else if (check) {
  fail(`README.md settings table is stale; run ${UPDATE_COMMAND}`);
} else {
  const tmp = `${readmePath}.tmp-${process.pid}`;
  writeFileSync(tmp, updated);
  renameSync(tmp, readmePath);
  process.stdout.write('README.md settings table updated\n');
}
