import { formatBytes } from '../backup/progress.js';
import type { StatusReport } from './collect.js';

/** The human form of a status report (pure). */
export function renderStatus(r: StatusReport): string {
  const out: string[] = [];
  const table = (rows: string[][]) => {
    const w = rows[0]!.map((_, i) => Math.max(...rows.map((x) => (x[i] ?? '').length)));
    for (const x of rows) out.push(`  ${x.map((c, i) => (i === x.length - 1 ? c : c.padEnd(w[i]!))).join('  ')}`.trimEnd());
  };
  out.push(`${r.snap.instance} ${r.snap.version} (revision ${r.snap.revision})`, '');
  out.push('Services');
  table([
    ['SERVICE', 'STARTUP', 'CURRENT', 'NOTES'],
    ...r.services.map((s) => [s.name.replace(/^[^.]*\./, ''), s.enabled ? 'enabled' : 'disabled', s.active ? 'active' : 'inactive', s.notes.join(',') || '-']),
  ]);
  out.push('', 'Health');
  table([['CHECK', 'RESULT', 'DETAIL'], ...Object.entries(r.health).map(([k, p]) => [k, p.ok ? 'ok' : 'FAIL', `${p.detail} (${p.ms} ms)`])]);
  out.push('', 'Versions');
  table([
    ['Immich', `${r.versions.immich.shipped ?? '?'} shipped${r.versions.immich.data ? `, data at ${r.versions.immich.data}` : ''}`],
    ['PostgreSQL', `${r.versions.postgres.server ?? 'not running'} (shipped majors ${r.versions.postgres.shippedMajors.join(', ') || 'none'}${r.versions.postgres.dataMajor ? `; data on ${r.versions.postgres.dataMajor}` : ''})`],
    ['extensions', r.versions.extensions.map((e) => `${e.name} ${e.version}`).join(', ') || '-'],
  ]);
  out.push('', 'Listening ports');
  table([
    ['WHAT', 'PORT', 'EXPECTED', 'LISTENING ON'],
    ...r.ports.map((p) => [p.what, String(p.port), p.expect, p.listening.length > 0 ? [...new Set(p.listening)].join(', ') : 'not listening']),
  ]);
  out.push('', 'Disk use');
  table([
    ['AREA', 'SIZE', 'FREE', 'PATH'],
    ...r.disk.map((d) => [d.area, d.bytes === undefined ? (d.problem ?? '?') : formatBytes(d.bytes), d.free === undefined ? '?' : formatBytes(d.free), d.path]),
  ]);
  out.push('', 'Backups');
  const b = r.lastBackup;
  table([
    ['last', b.id ? `${b.id} (${b.trigger}, ${b.ageHours} h ago)` : 'none'],
    ['count', String(b.count)],
    ['schedule', b.schedule],
    ['location', b.location],
  ]);
  out.push('', 'Pending');
  const p = r.pending;
  table([
    ['migrations', p.refusal ? `REFUSED: ${p.refusal}` : p.migrations.length > 0 ? p.migrations.join(', ') : 'none'],
    ...(p.stateVersion ? [['state version', `${p.stateVersion.data} (this revision: ${p.stateVersion.shipped})`]] : []),
    ...(p.interruptedRestore ? [['restore', p.interruptedRestore]] : []),
  ]);
  return `${out.join('\n')}\n`;
}
