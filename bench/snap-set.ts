// `snap set` of an HAProxy-only key (proxy.timeout), end to end as snapd runs it: the configure
// hook (with every snapctl call it makes), which reloads HAProxy gracefully through its master CLI
// itself (hooks-src/configure/apply.ts), then whatever snapd runs after the hook (nothing queued on
// this path; before cce8896 it was `bin/run-haproxy reload`, the app's reload-command). Goal: under
// 300 ms, with snapctl costing what snapd's Go binary costs. Each figure is reported apart:
//   total      snap set → change done (FakeSnapd.set: hook, then anything it queued)
//   hook       the configure hook process, start to exit
//   snapctl    the snapctl processes the hook ran (sum, and how many), inside `hook`
//   after      total − hook: the harness around the hook and any queued service operation
//   haproxy    the hook's own figure for the reload (master CLI reload → new worker serving),
//              inside `hook`
// Two clients for snapctl, in the same run: snapd's own Go snapctl (Debian's snapd package,
// scripts/snapd-snapctl.sh) against the fake snapd's REST API, and the harness's Node stand-in.
// Everything runs with the Node the snap ships. Median of RUNS (default 15) after 2 warm-ups.
// Run (root): node build.mjs && npx tsx bench/snap-set.ts
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FakeSnapd } from '../test/harness/fake-snapd.js';
import { repoRoot, shippedNode } from '../test/harness/fake-snap.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const goSnapctl = execFileSync('bash', [join(repoRoot, 'scripts/snapd-snapctl.sh')], { encoding: 'utf8' }).trim();

interface Sample {
  total: number;
  hook: number;
  snapctl: number;
  calls: number;
  after: number;
  haproxy: number;
}

async function measure(client: 'go' | 'node'): Promise<Sample[]> {
  const log = `/tmp/bench-snap-set-${process.pid}-${client}.log`;
  const snapd = await FakeSnapd.create({ extraEnv: { HARNESS_SNAPCTL_LOG: log, ...(client === 'go' ? { HARNESS_SNAPCTL: goSnapctl } : {}) } });
  try {
    await snapd.install();
    const samples: Sample[] = [];
    for (let i = 0; i < RUNS + 2; i++) {
      writeFileSync(log, '');
      const t0 = performance.now();
      const r = await snapd.set({ 'proxy.timeout': 660 + (i % 2) * 60 });
      const total = performance.now() - t0;
      const calls = readFileSync(log, 'utf8').split('\n').filter(Boolean).map(Number);
      const own = /configure: haproxy reloaded: .*\(([0-9]+) ms\)/.exec(r.output)?.[1];
      if (own === undefined) throw new Error(`the configure hook did not reload HAProxy itself:\n${r.output}`);
      if (i >= 2) {
        samples.push({
          total,
          hook: r.durationMs,
          snapctl: calls.reduce((a, b) => a + b, 0) / 1000,
          calls: calls.length,
          after: total - r.durationMs,
          haproxy: Number(own ?? NaN),
        });
      }
    }
    return samples;
  } finally {
    rmSync(log, { force: true });
    await snapd.destroy();
  }
}

/** `node -e 0` with the shipped Node, median of 15: this run's yardstick for a Node start. */
function nodeStart(): number {
  const node = shippedNode();
  const ms: number[] = [];
  for (let i = 0; i < 15; i++) {
    const t0 = performance.now();
    execFileSync(node, ['-e', '0']);
    ms.push(performance.now() - t0);
  }
  return median(ms);
}

const baselineBefore = nodeStart();
const rows: Array<[string, Sample[]]> = [
  ["snapd's Go snapctl", await measure('go')],
  ['harness Node snapctl', await measure('node')],
];
const baseline = (baselineBefore + nodeStart()) / 2;
console.log(`\nsnap set proxy.timeout (HAProxy-only), median of ${RUNS}, ms; this machine's \`node -e 0\` (shipped Node) ${baseline.toFixed(0)} ms in the same run\n`);
console.log('| snapctl client | total | configure hook | of which snapctl (calls) | of which HAProxy reload | after the hook |');
console.log('|---|---:|---:|---:|---:|---:|');
for (const [name, s] of rows) {
  const m = (k: keyof Sample) => median(s.map((x) => x[k]));
  console.log(`| ${name} | ${m('total').toFixed(0)} | ${m('hook').toFixed(0)} | ${m('snapctl').toFixed(0)} (${m('calls')}) | ${m('haproxy').toFixed(0)} | ${m('after').toFixed(0)} |`);
}
