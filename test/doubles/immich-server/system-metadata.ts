// TEST DOUBLE of Immich v3.2.0's server/src/repositories/system-metadata.repository.ts (get/set of
// the `system_metadata` key → jsonb table; keys from enum.ts SystemMetadataKey, index id 52527541635).
// Simplified: no typed key map.
import type { Database } from './database.js';

export async function getMetadata<T>(db: Database, key: string): Promise<T | undefined> {
  const { rows } = await db.query<{ value: T }>('SELECT value FROM system_metadata WHERE key = $1', [key]);
  return rows[0]?.value;
}

export async function setMetadata(db: Database, key: string, value: unknown): Promise<void> {
  await db.query(
    'INSERT INTO system_metadata (key, value) VALUES ($1, $2::jsonb) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value',
    [key, JSON.stringify(value)],
  );
}
