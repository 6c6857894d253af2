// TEST DOUBLE of how Immich v3.2.0 uses IMMICH_BUILD_DATA (docs/upstream/immich-runtime.md §5):
//  - geodata: server/src/repositories/map.repository.ts `init` (index id 68937683439) under
//    DatabaseLock.GeodataImport, called by MetadataService.onBootstrap (index id 2559438043);
//  - core plugin: server/src/services/workflow-execution.service.ts `onPluginSync`/`importFolder`
//    (index id 54709230300), manifest fields per packages/plugin-core/manifest.json
//    (commit 52c0332d42fcce6f7aeec2e2f5240f8c758d9f19);
//  - www/index.html: configureExpress / ApiService SSR (index id 10133566183; commit 0402600e1f9ff216d800069ce6f999b9e0d60e49).
// Simplified: the geodata "import" only checks the files (non-empty, GeoJSON parses) instead of
// loading geodata_places; the plugin row keeps the wasm's sha256 (not its bytes) and is not loaded
// into Extism (WebAssembly.validate stands in for the load).
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { type Database, DatabaseLock } from './database.js';
import type { ImmichConfig } from './env.js';
import { Logger } from './log.js';
import type { DoubleState } from './state.js';
import { getMetadata, setMetadata } from './system-metadata.js';

async function nonEmptyFile(path: string): Promise<void> {
  const info = await stat(path);
  if (!info.isFile() || info.size === 0) throw new Error(`${path} is empty`);
}

/** MetadataService.onBootstrap → MapRepository.init: re-import when geodata-date.txt changed. */
export async function initGeodata(db: Database, config: ImmichConfig, state: DoubleState): Promise<void> {
  const log = new Logger('MetadataService');
  log.log('Bootstrapping metadata service');
  try {
    await db.withLock(DatabaseLock.GeodataImport, async () => {
      new Logger('MapRepository').log('Initializing metadata repository');
      const paths = config.resourcePaths.geodata;
      const geodataDate = await readFile(paths.dateFile, 'utf8');
      const saved = await getMetadata<{ lastUpdate: string }>(db, 'reverse-geocoding-state');
      if (saved?.lastUpdate === geodataDate) {
        state.geodata = { date: geodataDate, imported: false };
        return;
      }
      await Promise.all([nonEmptyFile(paths.cities500), nonEmptyFile(paths.admin1), nonEmptyFile(paths.admin2)]);
      const countries = JSON.parse(await readFile(paths.naturalEarthCountriesPath, 'utf8')) as { type?: string; features?: unknown };
      if (countries.type !== 'FeatureCollection' || !Array.isArray(countries.features)) log.fatal('Invalid GeoJSON FeatureCollection');
      await setMetadata(db, 'reverse-geocoding-state', { lastUpdate: geodataDate, lastImportFileName: 'cities500.txt' });
      new Logger('MapRepository').log('Geodata import completed');
      state.geodata = { date: geodataDate, imported: true };
    });
    log.log('Initialized local reverse geocoder');
  } catch (error) {
    log.error(`Unable to initialize reverse geocoding: ${String(error)}`);
    throw new Error('Metadata service init failed');
  }
}

const ManifestSchema = z.object({
  name: z.string().min(1),
  version: z.string().min(1),
  title: z.string(),
  description: z.string(),
  author: z.string(),
  wasmPath: z.string().min(1),
  templates: z.array(z.unknown()).optional(),
  methods: z.array(z.object({ name: z.string() }).passthrough()),
});

/** WorkflowExecutionService.onPluginSync for the core plugin; failures only warn. */
export async function syncCorePlugin(db: Database, config: ImmichConfig, state: DoubleState): Promise<void> {
  const log = new Logger('WorkflowExecutionService');
  const folder = config.resourcePaths.corePlugin;
  await db.withLock(DatabaseLock.PluginImport, async () => {
    try {
      const contents = await readFile(join(folder, 'manifest.json'), 'utf8');
      const sha256hash = createHash('sha256').update(contents).digest();
      const manifestSha256 = sha256hash.toString('hex');
      const match = await db.query<{ name: string; version: string; wasmSha256: string }>(
        'SELECT name, version, "wasmSha256" FROM plugin WHERE sha256hash = $1',
        [sha256hash],
      );
      const found = match.rows[0];
      if (found && config.environment !== 'development') {
        log.log(`Plugin up to date (name=${found.name}@${found.version}, hash=${manifestSha256}`);
        state.plugin = { name: found.name, version: found.version, manifestSha256, wasmSha256: found.wasmSha256, wasmValid: true, imported: false };
        return;
      }
      const parsed = ManifestSchema.safeParse(JSON.parse(contents));
      if (!parsed.success) {
        const issues = parsed.error.issues.map((i) => `  - [${i.path.join('.')}] ${i.message}`).join('\n');
        log.warn(`Invalid plugin manifest at ${join(folder, 'manifest.json')}:\n${issues}`);
        state.plugin = { error: 'invalid manifest' };
        return;
      }
      const manifest = parsed.data;
      const wasmBytes = await readFile(`${folder}/${manifest.wasmPath}`);
      const wasmSha256 = createHash('sha256').update(wasmBytes).digest('hex');
      await db.query(
        `INSERT INTO plugin (name, version, title, description, author, "wasmSha256", "wasmSize", sha256hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (name) DO UPDATE SET version = EXCLUDED.version, title = EXCLUDED.title, description = EXCLUDED.description,
           author = EXCLUDED.author, "wasmSha256" = EXCLUDED."wasmSha256", "wasmSize" = EXCLUDED."wasmSize",
           sha256hash = EXCLUDED.sha256hash, "updatedAt" = now()`,
        [manifest.name, manifest.version, manifest.title, manifest.description, manifest.author, wasmSha256, wasmBytes.length, sha256hash],
      );
      log.log(`Imported plugin ${manifest.name}@${manifest.version} (${manifest.methods.length} methods) from ${folder}`);
      const wasmValid = WebAssembly.validate(wasmBytes);
      if (!wasmValid) log.error(`Unable to load plugin ${manifest.name}@${manifest.version}`);
      state.plugin = { name: manifest.name, version: manifest.version, manifestSha256, wasmSha256, wasmValid, imported: true };
    } catch (error) {
      log.warn(`Failed to import plugin from ${folder}: ${String(error)}`);
      state.plugin = { error: String(error) };
    }
  });
}

/** The web root's index.html, or '' (then non-API GETs get an empty HTML 200, as Immich does). */
export async function readIndexHtml(config: ImmichConfig, state: DoubleState): Promise<string> {
  try {
    const html = await readFile(config.resourcePaths.web.indexHtml, 'utf8');
    state.webIndexHtml = true;
    return html;
  } catch {
    new Logger('ApiService').warn(`Unable to open ${config.resourcePaths.web.indexHtml}, skipping SSR.`);
    return '';
  }
}
