// TEST DOUBLE only (no Immich counterpart): what the double established at start and since, served
// at GET /api/double/state so tests can assert on it. Immich v3.2.0 has no such endpoint.

export interface BackupResult {
  ok: boolean;
  file?: string;
  error?: string;
  finishedAt: string;
}

export interface DoubleState {
  serverVersion: string;
  startedAt: string;
  steps: string[];
  mediaLocation?: string;
  buildFolder?: string;
  listen?: { host: string | null; port: number };
  postgres?: { version: string; major: number };
  vectorExtension?: string;
  /** extname → installed version, from pg_extension after the start-up sequence. */
  extensions: Record<string, string>;
  migrations?: 'ran' | 'skipped';
  trustedProxies: string[];
  trustProxy: string[];
  redis?: { ping: string; path?: string; db: number };
  markers: Array<{ folder: string; created: boolean; previous: string | null; written: string }>;
  mountChecksIgnored?: string;
  geodata?: { date: string; imported: boolean };
  plugin?: { name: string; version: string; manifestSha256: string; wasmSha256: string; wasmValid: boolean; imported: boolean } | { error: string };
  webIndexHtml: boolean;
  lastBackup?: BackupResult;
  lastRestore?: BackupResult;
}

export function initialState(serverVersion: string): DoubleState {
  return {
    serverVersion,
    startedAt: new Date().toISOString(),
    steps: [],
    extensions: {},
    trustedProxies: [],
    trustProxy: [],
    markers: [],
    webIndexHtml: false,
  };
}
