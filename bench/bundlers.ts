// esbuild (with build.mjs's exact options) against @vercel/ncc (Node API, minify) on representative
// entries: bundle size, build time (median of BUILD_RUNS, in this process) and cold start of the
// produced single file (`node <file> --help`, median of START_RUNS, interleaved, with `node -e 0`
// measured in the same run as the baseline). Run: node build.mjs && tsx bench/bundlers.ts
//
// ncc compiles TypeScript through the `typescript` package it finds from the working directory;
// ours is typescript 7 (the native port), whose package has no JS compiler API, so ncc's ts-loader
// fails (`Cannot read properties of undefined (reading 'fileExists')`). ncc therefore gets the
// same sources transpiled file by file to ESM .js first (esbuild transform, no bundling), and its
// build time below is that transpile plus the ncc bundle.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { BuildOptions } from 'esbuild';
import { build, transform } from 'esbuild';

const BUILD_RUNS = Number(process.env.BENCH_BUILD_RUNS ?? 5);
const START_RUNS = Number(process.env.BENCH_START_RUNS ?? 10);
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const gnuTime = '/usr/bin/time';
const haveTime = existsSync(gnuTime);

// build.mjs has no type declarations; a computed specifier keeps tsc from asking for them.
const { esbuildOptions } = (await import(pathToFileURL(join(root, 'build.mjs')).href)) as {
  esbuildOptions: (entry: string, outfile: string) => BuildOptions;
};

interface NccAsset {
  source: Buffer | string;
  permissions?: number;
}
interface NccResult {
  code: string;
  map?: string;
  assets: Record<string, NccAsset>;
}
type Ncc = (entry: string, opts: Record<string, unknown>) => Promise<NccResult>;
const ncc = createRequire(import.meta.url)('@vercel/ncc') as Ncc;

// The final hooks will pull in all four runtime dependencies; this entry stands for that size.
const syntheticDir = join(root, 'build', 'bench-bundlers');
mkdirSync(syntheticDir, { recursive: true });
const synthetic = join(syntheticDir, 'all-deps.ts');
// The same entry importing zod as a namespace (`import * as z`), which is what lets esbuild drop
// the parts of zod that are not used; `import { z }` keeps all of it.
const syntheticNs = join(syntheticDir, 'all-deps-ns.ts');
const syntheticSource = (zodImport: string): string =>
  `${zodImport}
import pg from 'pg';
import * as ini from 'ini';
import { execa } from 'execa';

const Config = z.object({ port: z.number().int().min(1).max(65535) });
if (process.argv.includes('--help')) {
  process.stdout.write('usage: all-deps (zod, pg, ini, execa)\\n');
} else {
  const parsed = Config.parse(ini.parse('port = 80\\n') as unknown as { port: number });
  const pool = new pg.Pool({ max: 1 });
  void pool.end();
  void execa;
  process.stdout.write(String(parsed.port) + '\\n');
}
`;
writeFileSync(synthetic, syntheticSource("import { z } from 'zod';"));
writeFileSync(syntheticNs, syntheticSource("import * as z from 'zod';"));

const entries: { label: string; path: string }[] = [
  { label: 'hooks/install', path: join(root, 'hooks-src/hooks/install.ts') },
  { label: 'hooks/configure', path: join(root, 'hooks-src/hooks/configure.ts') },
  { label: 'commands/psql', path: join(root, 'wrappers/commands/psql.ts') },
  { label: 'zod+pg+ini+execa', path: synthetic },
  { label: 'same, import * as z', path: syntheticNs },
];

// Every .ts file of our source trees (and the synthetic entry) transpiled to ESM .js at the same
// relative path under build/bench-bundlers/js, so `./x.js` imports resolve as they do for tsc and
// node_modules is found above. Returns the .js path of `entry`.
const jsRoot = join(syntheticDir, 'js');
async function transpileTree(entry: string): Promise<string> {
  rmSync(jsRoot, { recursive: true, force: true });
  mkdirSync(jsRoot, { recursive: true });
  writeFileSync(join(jsRoot, 'package.json'), '{ "type": "module" }\n');
  const files: string[] = [];
  const walk = (d: string): void => {
    for (const n of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, n.name);
      if (n.isDirectory()) walk(p);
      else if (n.name.endsWith('.ts')) files.push(p);
    }
  };
  walk(join(root, 'hooks-src'));
  walk(join(root, 'wrappers'));
  files.push(synthetic, syntheticNs);
  await Promise.all(
    files.map(async (f) => {
      const out = join(jsRoot, f.slice(root.length + 1).replace(/\.ts$/, '.js'));
      const { code } = await transform(readFileSync(f, 'utf8'), { loader: 'ts', format: 'esm', target: 'node20', sourcefile: f });
      mkdirSync(dirname(out), { recursive: true });
      writeFileSync(out, code);
    }),
  );
  return join(jsRoot, entry.slice(root.length + 1).replace(/\.ts$/, '.js'));
}

// Outputs run from a directory outside the repository: no node_modules or package.json to lean on.
const outRoot = mkdtempSync(join(tmpdir(), 'immich-distribution-bundlers-'));
process.on('exit', () => rmSync(outRoot, { recursive: true, force: true }));

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};
const ms = (t0: bigint): number => Number(process.hrtime.bigint() - t0) / 1e6;

interface Result {
  entry: string;
  bundler: string;
  file: string;
  bytes: number;
  format: string;
  extra: string;
  buildMs: number[];
  startMs: number[];
  kib: number[];
}
const results: Result[] = [];

for (const e of entries) {
  // esbuild: exactly build.mjs's options (esbuildOptions joins the entry onto the repo root).
  {
    const dir = join(outRoot, 'esbuild');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, e.label.replace(/\W+/g, '-'));
    const rel = e.path.slice(root.length + 1);
    const times: number[] = [];
    for (let i = 0; i < BUILD_RUNS; i++) {
      const t0 = process.hrtime.bigint();
      await build(esbuildOptions(rel, file));
      times.push(ms(t0));
    }
    results.push({ entry: e.label, bundler: 'esbuild', file, bytes: statSync(file).size, format: 'cjs', extra: 'none', buildMs: times, startMs: [], kib: [] });
  }
  // ncc: its Node API, minified, no cache (every build from scratch, as in CI), on the transpiled
  // mirror (see the top of this file).
  {
    const dir = join(outRoot, 'ncc', e.label.replace(/\W+/g, '-'));
    mkdirSync(dir, { recursive: true });
    const times: number[] = [];
    let last: NccResult | undefined;
    for (let i = 0; i < BUILD_RUNS; i++) {
      const t0 = process.hrtime.bigint();
      const jsEntry = await transpileTree(e.path);
      last = await ncc(jsEntry, { minify: true, cache: false, quiet: true, externals: ['pg-native'], target: 'es2022', sourceMap: false });
      times.push(ms(t0));
    }
    if (!last) throw new Error('ncc produced nothing');
    // ncc keeps the entry's module format: ESM in, ESM out, with a package.json asset saying
    // "type": "module" so that its index.js loads as ESM. We write .mjs instead of that asset.
    const pkgAsset = last.assets['package.json'];
    const esm = (pkgAsset !== undefined && /"type"\s*:\s*"module"/.test(String(pkgAsset.source))) || /\bimport\.meta\b|^import[\s{*]/m.test(last.code);
    const file = join(dir, esm ? 'index.mjs' : 'index.cjs');
    writeFileSync(file, last.code);
    const assets = Object.entries(last.assets).map(([name, a]) =>
      name === 'package.json' ? `package.json ${String(a.source).replace(/\s+/g, '')}` : `${name} (${Buffer.byteLength(a.source)} B)`,
    );
    for (const [name, a] of Object.entries(last.assets)) {
      if (name === 'package.json') continue;
      mkdirSync(dirname(join(dir, name)), { recursive: true });
      writeFileSync(join(dir, name), a.source);
    }
    const relReq = last.code.match(/require\(\s*["']\.\.?\/[^"']*["']\s*\)/g) ?? [];
    const extra = [assets.length ? `assets: ${assets.join(', ')}` : '', relReq.length ? `requires ${[...new Set(relReq)].join(' ')}` : '']
      .filter(Boolean)
      .join('; ');
    results.push({ entry: e.label, bundler: 'ncc', file, bytes: Buffer.byteLength(last.code), format: esm ? 'esm' : 'cjs', extra: extra || 'none', buildMs: times, startMs: [], kib: [] });
  }
}

// Cold start: node <file> --help, interleaved with the baseline.
const env: NodeJS.ProcessEnv = {};
for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('SNAP') && !k.startsWith('NODE_')) env[k] = v;
const baseline: Result = { entry: 'node -e 0', bundler: '-', file: '', bytes: 0, format: '-', extra: '', buildMs: [], startMs: [], kib: [] };
function start(r: Result): void {
  const args = r === baseline ? ['-e', '0'] : [r.file, '--help'];
  const argv = haveTime ? [gnuTime, '-f', '%M', process.execPath, ...args] : [process.execPath, ...args];
  const t0 = process.hrtime.bigint();
  const p = spawnSync(argv[0] as string, argv.slice(1), { cwd: outRoot, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const t = ms(t0);
  if (p.error) throw p.error;
  if (p.status !== 0 || (r !== baseline && !/usage|\w+:/.test(p.stdout))) {
    throw new Error(`${r.bundler} ${r.entry}: exit ${String(p.status)}\n${p.stdout}${p.stderr}`);
  }
  r.startMs.push(t);
  if (haveTime) r.kib.push(Number(p.stderr.trim().split('\n').pop()));
}
const all = [baseline, ...results];
for (const r of all) {
  r.kib = [];
  start(r); // warm-up, not counted
  r.startMs = [];
  r.kib = [];
}
for (let i = 0; i < START_RUNS; i++) for (const r of all) start(r);

const baseMs = median(baseline.startMs);
const head = ['entry', 'bundler', 'format', 'bytes', 'build ms', 'start ms', 'start ×node', 'max RSS MiB', 'extra files'];
const rows = [
  ['node -e 0', '-', '-', '-', '-', baseMs.toFixed(1), '1.00', haveTime ? (median(baseline.kib) / 1024).toFixed(1) : 'n/a', '-'],
  ...results.map((r) => [
    r.entry,
    r.bundler,
    r.format,
    String(r.bytes),
    median(r.buildMs).toFixed(0),
    median(r.startMs).toFixed(1),
    (median(r.startMs) / baseMs).toFixed(2),
    haveTime ? (median(r.kib) / 1024).toFixed(1) : 'n/a',
    r.extra,
  ]),
];
const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
const left = new Set([0, 1, 2, 8]);
const fmt = (r: string[]): string => `| ${r.map((c, i) => (left.has(i) ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join(' | ')} |`;
console.log(
  `bundlers: esbuild ${JSON.parse(readFileSync(join(root, 'node_modules/esbuild/package.json'), 'utf8')).version as string} (build.mjs options) vs ncc ${JSON.parse(readFileSync(join(root, 'node_modules/@vercel/ncc/package.json'), 'utf8')).version as string} (minify, no cache, on esbuild-transpiled .js); build median of ${BUILD_RUNS}, start median of ${START_RUNS} (node <file> --help), node ${process.version}`,
);
console.log(fmt(head));
console.log(`|${widths.map((w, i) => (left.has(i) ? ':' + '-'.repeat(w + 1) : '-'.repeat(w + 1) + ':')).join('|')}|`);
for (const r of rows) console.log(fmt(r));
