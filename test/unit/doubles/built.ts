// Builds the Immich test doubles (test/doubles/build.mjs) once per test process, into a temporary
// folder removed at exit. Shared by the doubles' unit tests.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

type BuildDoubles = (outDir: string, options?: { immichVersion?: string }) => Promise<string>;

export async function loadBuilder(): Promise<BuildDoubles> {
  const mod = (await import(pathToFileURL(join(repoRoot, 'test/doubles/build.mjs')).href)) as { buildDoubles: BuildDoubles };
  return mod.buildDoubles;
}

let built: Promise<string> | undefined;

export function builtDoubles(): Promise<string> {
  built ??= (async () => {
    const dir = mkdtempSync(join(tmpdir(), 'immich-doubles-'));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true, maxRetries: 3 }));
    await (await loadBuilder())(dir);
    return dir;
  })();
  return built;
}
