import { join } from 'node:path';

/**
 * Where scripts/setup-old-postgres.sh (PostgreSQL 13) and scripts/setup-pg18.sh (PostgreSQL 18)
 * build the second majors for the real upgrade tests: outside the project, kept between runs.
 */
export const pgCacheDir = process.env.IMMICH_DISTRIBUTION_CACHE || '/var/cache/immich-distribution';
export const PG13_DIR = join(pgCacheDir, 'pg-old/13');
export const PG18_DIR = join(pgCacheDir, 'pg-other/18');
