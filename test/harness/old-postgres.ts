import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './fake-snap.js';

/**
 * Where the second PostgreSQL builds for the real upgrade tests live: outside the project, kept
 * between runs. scripts/setup-old-postgres.sh assembles 13; scripts/build-postgres.sh builds 15
 * (upstream 15.18 from bookworm's source) and 18 (18.6 from sid's). docs/refresh.md says why.
 */
export const pgCacheDir = process.env.IMMICH_DISTRIBUTION_CACHE || '/var/cache/immich-distribution';
export const PG13_DIR = join(pgCacheDir, 'pg-old/13');
export const PG15_DIR = join(pgCacheDir, 'pg-other/15');
export const PG18_DIR = join(pgCacheDir, 'pg-other/18');

/** Builds what is missing (minutes, once per machine). */
export function ensureOldPostgres(): void {
  if (!existsSync(join(PG13_DIR, '.complete'))) execFileSync('bash', [join(repoRoot, 'scripts/setup-old-postgres.sh')], { stdio: 'inherit' });
}
export function ensureBuiltPostgres(major: 15 | 18): string {
  const dir = major === 15 ? PG15_DIR : PG18_DIR;
  if (!existsSync(join(dir, '.complete'))) execFileSync('bash', [join(repoRoot, 'scripts/build-postgres.sh'), String(major), major === 15 ? 'bookworm' : 'sid'], { stdio: 'inherit' });
  return dir;
}

/** A fake-snap links map shipping a built major in Debian's layout. */
export function builtLinks(major: 15 | 18): Record<string, string> {
  const dir = ensureBuiltPostgres(major);
  return {
    [`usr/lib/postgresql/${major}`]: join(dir, `lib/postgresql/${major}`),
    [`usr/share/postgresql/${major}`]: join(dir, `share/postgresql/${major}`),
  };
}
