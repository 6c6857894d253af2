#!/usr/bin/env node
// Builds every hook, user command and daemon command into a standalone single-file executable
// (shebang, mode 0755, no node_modules or sibling files needed) and lays out build/snap/ exactly as
// our files sit under $SNAP in the built snap. The list of executables lives in entries.mjs.
import { build } from 'esbuild';
import { chmodSync, copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { executables } from './entries.mjs';

const root = dirname(fileURLToPath(import.meta.url));
const out = join(root, 'build', 'snap');

/** esbuild options shared with bench/bundlers.ts so the measured build is the real one. */
export function esbuildOptions(entry, outfile) {
  return {
    entryPoints: [join(root, entry)],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    minify: true,
    keepNames: true,
    legalComments: 'none',
    logLevel: 'warning',
    // pg loads pg-native only when asked to; it is never shipped.
    external: ['pg-native'],
    // execa and friends are ESM and read import.meta.url; give the CJS bundle a real value.
    define: { 'import.meta.url': '__importMetaUrl' },
    banner: {
      js: '#!/usr/bin/env node\nconst __importMetaUrl=require("url").pathToFileURL(__filename).href;',
    },
  };
}

export async function buildAll({ quiet = false, snapHooks = false } = {}) {
  rmSync(out, { recursive: true, force: true });
  const started = Date.now();
  await Promise.all(
    executables.map(async ({ source, targets }) => {
      const [first, ...rest] = targets;
      const firstPath = join(out, first);
      mkdirSync(dirname(firstPath), { recursive: true });
      await build(esbuildOptions(source, firstPath));
      chmodSync(firstPath, 0o755);
      for (const t of rest) {
        const p = join(out, t);
        mkdirSync(dirname(p), { recursive: true });
        copyFileSync(firstPath, p);
        chmodSync(p, 0o755);
      }
    }),
  );
  // The repository's package.json says "type": "module"; extensionless bundles below build/ must
  // be read as CommonJS, as they are in the snap (no package.json above $SNAP/bin).
  writeFileSync(join(root, 'build', 'package.json'), '{ "type": "commonjs" }\n');
  // The pinned component versions ship with the snap ($SNAP/share/immich-distribution), for the
  // state record and `status`.
  mkdirSync(join(out, 'share/immich-distribution'), { recursive: true });
  copyFileSync(join(root, 'snap/versions.json'), join(out, 'share/immich-distribution/versions.json'));
  if (snapHooks) {
    // snapcraft copies the project's snap/hooks/<hook> to meta/hooks/<hook> verbatim; these files
    // are committed and test/unit/build checks that they equal a fresh build.
    for (const { name, kind, targets } of executables) {
      if (kind !== 'hook') continue;
      const dest = join(root, 'snap', 'hooks', name);
      mkdirSync(dirname(dest), { recursive: true });
      copyFileSync(join(out, targets[0]), dest);
      chmodSync(dest, 0o755);
    }
  }
  if (!quiet) process.stderr.write(`built ${executables.length} executables into build/snap in ${Date.now() - started} ms\n`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await buildAll({ snapHooks: process.argv.includes('--snap-hooks') });
}
