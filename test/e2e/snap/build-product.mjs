#!/usr/bin/env node
// Builds the product's executables for the e2e test snap into OUT_DIR, exactly as build.mjs does
// (same entries, same esbuild options, same loader around each bundle: buildExecutable),
// optionally with test-only workarounds for product bugs found under real snapd, so the scenarios
// after the bug can still run. Each workaround is listed in OUT_DIR/../workarounds.txt and
// reported by the guest driver as a FAIL.
//
// usage: node test/e2e/snap/build-product.mjs OUT_DIR [--workaround=exists-as-daemon]
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildExecutable } from '../../../build.mjs';
import { executables } from '../../../entries.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const [out, ...flags] = process.argv.slice(2);
if (!out) throw new Error('usage: build-product.mjs OUT_DIR [--workaround=NAME]');
const workarounds = new Set(flags.filter((f) => f.startsWith('--workaround=')).map((f) => f.slice('--workaround='.length)));

// exists-as-daemon: fs.existsSync is access(2), which checks the REAL uid (root), not the effective
// uid asDaemon() switches to; a strict snap's root has no CAP_DAC_OVERRIDE/READ_SEARCH, so every
// existsSync inside a 0700 `_daemon_` directory answers false. The shim answers with stat(2), which
// resolves the path with the effective (fs) uid.
const SHIM = join(root, 'test/e2e/snap/fs-exists-shim.cjs');
const existsPlugin = {
  name: 'e2e-exists-as-daemon',
  setup(b) {
    b.onResolve({ filter: /^(node:)?fs$/ }, (args) =>
      args.importer === SHIM || !/\/(hooks-src|wrappers)\//.test(args.importer) ? undefined : { path: SHIM },
    );
  },
};

const plugins = workarounds.has('exists-as-daemon') ? [existsPlugin] : [];
await Promise.all(
  executables.map(async ({ source, targets }) => {
    for (const t of targets) {
      const p = join(out, t);
      mkdirSync(dirname(p), { recursive: true });
      await buildExecutable(source, p, { plugins });
    }
  }),
);
process.stderr.write(`built ${executables.length} executables into ${out}${plugins.length ? ` with workarounds: ${[...workarounds].join(', ')}` : ''}\n`);
