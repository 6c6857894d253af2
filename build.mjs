#!/usr/bin/env node
// Builds every hook, user command and daemon command into a standalone single-file executable
// (shebang, mode 0755, no node_modules or sibling files needed) and lays out build/snap/ exactly as
// our files sit under $SNAP in the built snap. The list of executables lives in entries.mjs.
import { build } from 'esbuild';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
    // ESM dependencies may read import.meta.url; give the CJS bundle a real value.
    define: { 'import.meta.url': '__importMetaUrl' },
    banner: {
      js: '#!/usr/bin/env node\nconst __importMetaUrl=require("url").pathToFileURL(__filename).href;',
    },
  };
}

/**
 * Builds one executable: esbuild's bundle, wrapped by withCompileCache, mode 0755. `extra` is merged
 * into esbuild's options (test/e2e/snap/build-product.mjs passes its plugins).
 */
export async function buildExecutable(entry, outfile, extra = {}) {
  await build({ ...esbuildOptions(entry, outfile), ...extra });
  writeFileSync(outfile, withCompileCache(readFileSync(outfile, 'utf8')));
  chmodSync(outfile, 0o755);
}

/**
 * The executable around a bundle (docs/startup.md). Compiling a bundle of 0.1–0.4 MB is a good
 * part of a cold start, and V8 can skip it with a code cache; but Node caches only what it
 * compiles after `module.enableCompileCache()` ran, never the main file itself. So the bundle
 * rides in this file as a comment, which V8 scans much faster than it compiles code (or scans an
 * escaped string), and a small loader in front turns the cache on and then compiles the bundle as
 * this same module (`module._compile`, the CommonJS loader's own step: `require` and `module` are
 * what they were). The bundle is verbatim but for `*` + `/`, written `*\x01/` (esbuild never emits
 * \x01; checked here).
 *
 * The cache lives in $SNAP_USER_DATA/.cache/node-compile-cache: snap run creates $SNAP_USER_DATA
 * for every hook, app and service, owned by whoever runs it (root's /root/snap/<instance>/<rev>
 * for hooks, daemons and sudo; a user's own ~/snap/... otherwise), so every caller can write its
 * own cache and nobody else's. V8 trusts a code cache, so it is used only from a folder the caller
 * owns and nobody else can write to, under a $SNAP_USER_DATA owned by the caller or root. Node
 * keys entries by Node version, V8 flags and uid, checks each against the program's hash, writes
 * through a temporary file and a rename, and falls back to compiling when anything is off;
 * NODE_DISABLE_COMPILE_CACHE=1 turns it off. Without a usable folder (outside a snap, another
 * user's $SNAP_USER_DATA, a read-only disk, Node < 22.1) the program is compiled as before.
 */
export function withCompileCache(bundle) {
  const shebang = '#!/usr/bin/env node\n';
  if (!bundle.startsWith(shebang)) throw new Error('bundle without the node shebang');
  const program = bundle.slice(shebang.length);
  if (program.includes('\x01')) throw new Error('the bundle contains \\x01, which build.mjs uses to write "*/" inside a comment');
  return `${shebang}${LOADER}function PROGRAM() {/*${program.replaceAll('*/', '*\x01/')}*/}\n`;
}

// Kept readable: a few hundred bytes in front of the program. `cacheDir` returns the cache folder
// or nothing; every failure means "no cache", never a failed run. It creates .cache and its
// subfolder one at a time inside a $SNAP_USER_DATA that exists (snap run creates it): Node's
// recursive mkdir never returns on some paths (under /proc, below a dangling symlink), and neither
// would enableCompileCache, so that only ever gets a folder that exists.
const LOADER = `"use strict";
// immich-distribution executable, built by build.mjs: the program is the comment in PROGRAM below,
// compiled with V8's code cache when $SNAP_USER_DATA/.cache/node-compile-cache is usable
// (docs/startup.md).
{
  const Module = require("module");
  const cacheDir = () => {
    const home = process.env.SNAP_USER_DATA, fs = require("fs"), uid = process.geteuid?.();
    if (typeof Module.enableCompileCache !== "function" || uid === undefined || !home?.startsWith("/")) return;
    const mkdir = (dir) => {
      try {
        fs.mkdirSync(dir, { mode: 0o700 });
      } catch (err) {
        if (err.code !== "EEXIST") throw err;
      }
    };
    const safe = (st, owners) => st.isDirectory() && owners.includes(st.uid) && (st.mode & 0o022) === 0;
    const dir = home + "/.cache/node-compile-cache";
    mkdir(home + "/.cache");
    mkdir(dir);
    if (!safe(fs.statSync(home), [uid, 0]) || !safe(fs.lstatSync(dir), [uid])) return;
    // Node keeps one folder per Node version (v<version>-<arch>-...): drop those of other versions,
    // or every Node update of the snap would leave one behind in each copy of $SNAP_USER_DATA.
    for (const old of fs.readdirSync(dir)) {
      if (/^v\\d+\\.\\d+\\.\\d+-/.test(old) && !old.startsWith(process.version + "-")) fs.rmSync(dir + "/" + old, { recursive: true, force: true });
    }
    return dir;
  };
  let dir;
  try {
    dir = cacheDir();
    if (dir) Module.enableCompileCache(dir);
  } catch {
    dir = undefined;
  }
  // Node names a cache entry after the file name it compiles. With the cache on, that name is the
  // same in every revision ($SNAP's /snap/<instance>/<rev> read as /snap/<instance>/current), so
  // the copy of $SNAP_USER_DATA snapd makes at a refresh keeps one entry per executable, which
  // the new revision rewrites once, instead of adding a set per revision.
  const snap = process.env.SNAP;
  const name = dir && snap && __filename.startsWith(snap + "/") ? snap.slice(0, snap.lastIndexOf("/")) + "/current" + __filename.slice(snap.length) : __filename;
  const text = String(PROGRAM);
  module._compile(text.slice(text.indexOf("/*") + 2, text.lastIndexOf("*/")).replaceAll("*\\x01/", "*/"), name, "commonjs");
  // Writes the cache now when it was missing or stale (a no-op otherwise), before the program can
  // replace the process (execve) or be killed.
  try {
    if (dir) Module.flushCompileCache?.();
  } catch {}
}
`;

export async function buildAll({ quiet = false, snapHooks = false } = {}) {
  rmSync(out, { recursive: true, force: true });
  const started = Date.now();
  await Promise.all(
    executables.map(async ({ source, targets }) => {
      const [first, ...rest] = targets;
      const firstPath = join(out, first);
      mkdirSync(dirname(firstPath), { recursive: true });
      await buildExecutable(source, firstPath);
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
