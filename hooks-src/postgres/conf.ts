/**
 * postgresql.conf, rendered from typed inputs (pure: no I/O).
 *
 * Tuning formula (docs/postgres.md explains each choice). RAM is the machine's (or the cgroup's)
 * memory; Postgres shares it with the Immich server (Node) and machine learning (Python), so it
 * gets about a quarter. Sizes are rounded down to whole MiB and clamped so that a 1 GiB box and a
 * 64 GiB box both get sane values:
 *
 *   shared_buffers        = clamp(RAM / 4,  128 MiB, 4 GiB)   Immich databases are typically 1–3 GB
 *   effective_cache_size  = clamp(RAM / 2,  256 MiB, 16 GiB)  a planner hint, never allocated
 *   work_mem              = clamp(RAM / 256,  4 MiB, 32 MiB)  = Immich's recommended 16 MB at 4 GiB
 *   maintenance_work_mem  = clamp(RAM / 16, 64 MiB, 1 GiB)    vector index builds, VACUUM
 *   max_parallel_workers_per_gather    = clamp(floor(CPUs / 2), 0, 4)
 *   max_parallel_maintenance_workers   = clamp(floor(CPUs / 2), 1, 4)
 *   max_parallel_workers  = max(CPUs, 2);  max_worker_processes = max(CPUs, 8)
 *
 * Fixed, from Immich's recommended settings (base-images postgresql.ssd.conf): max_wal_size 5GB,
 * wal_compression on, search_path "$user", public, autovacuum scale factors 0.1 / 0.05 and
 * cost limit 1000, effective_io_concurrency 200 and random_page_cost 1.2 (SSD; Immich documents
 * that the database belongs on local SSD).
 */

export const MiB = 1024 * 1024;
export const GiB = 1024 * MiB;

export interface PostgresConfInput {
  major: number;
  ramBytes: number;
  cpus: number;
  /** unix_socket_directories */
  socketDir: string;
  port: number;
  /** Listen on 127.0.0.1 (scram only); false = unix socket only. */
  listenTcp: boolean;
  /** VectorChord is shipped: preload vchord.so. */
  vectorchord: boolean;
  dataDir: string;
  hbaFile: string;
  identFile: string;
}

export interface Tuning {
  sharedBuffersMiB: number;
  effectiveCacheSizeMiB: number;
  workMemMiB: number;
  maintenanceWorkMemMiB: number;
  maxParallelWorkersPerGather: number;
  maxParallelMaintenanceWorkers: number;
  maxParallelWorkers: number;
  maxWorkerProcesses: number;
}

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));
const mib = (bytes: number) => Math.floor(bytes / MiB);

/** The tuning formula above, as numbers (unit-tested on its own). */
export function tune(ramBytes: number, cpus: number): Tuning {
  if (!Number.isFinite(ramBytes) || ramBytes <= 0) throw new Error(`invalid RAM size: ${ramBytes}`);
  if (!Number.isInteger(cpus) || cpus < 1) throw new Error(`invalid CPU count: ${cpus}`);
  const ram = mib(ramBytes);
  const half = Math.floor(cpus / 2);
  return {
    sharedBuffersMiB: clamp(Math.floor(ram / 4), 128, 4096),
    effectiveCacheSizeMiB: clamp(Math.floor(ram / 2), 256, 16384),
    workMemMiB: clamp(Math.floor(ram / 256), 4, 32),
    maintenanceWorkMemMiB: clamp(Math.floor(ram / 16), 64, 1024),
    maxParallelWorkersPerGather: clamp(half, 0, 4),
    maxParallelMaintenanceWorkers: clamp(half, 1, 4),
    maxParallelWorkers: Math.max(cpus, 2),
    maxWorkerProcesses: Math.max(cpus, 8),
  };
}

/**
 * A postgresql.conf string literal. Values come from our own paths, but a path is still checked:
 * a newline or control character could start a new setting, so it is refused, and quotes and
 * backslashes are escaped.
 */
export function confString(value: string): string {
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(value)) throw new Error('a postgresql.conf value may not contain control characters');
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
}

function absolutePath(name: string, value: string): string {
  if (!value.startsWith('/')) throw new Error(`${name} must be an absolute path`);
  return confString(value);
}

export function renderPostgresConf(input: PostgresConfInput): string {
  if (!Number.isInteger(input.major) || input.major < 14) throw new Error(`unsupported Postgres major: ${input.major}`);
  if (!Number.isInteger(input.port) || input.port < 1 || input.port > 65535) throw new Error(`invalid port: ${input.port}`);
  const t = tune(input.ramBytes, input.cpus);
  const lines = [
    '# Written by immich-distribution from typed settings; edits are overwritten.',
    `# Tuned for ${mib(input.ramBytes)} MiB RAM and ${input.cpus} CPU(s); formula in docs/postgres.md.`,
    '',
    '# Files',
    `data_directory = ${absolutePath('dataDir', input.dataDir)}`,
    `hba_file = ${absolutePath('hbaFile', input.hbaFile)}`,
    `ident_file = ${absolutePath('identFile', input.identFile)}`,
    '',
    '# Connections: loopback TCP (scram-sha-256) and a unix socket (peer)',
    `listen_addresses = ${confString(input.listenTcp ? '127.0.0.1' : '')}`,
    `port = ${input.port}`,
    'max_connections = 100',
    `unix_socket_directories = ${absolutePath('socketDir', input.socketDir)}`,
    "password_encryption = 'scram-sha-256'",
    'ssl = off',
    '',
    '# Memory',
    `shared_buffers = ${t.sharedBuffersMiB}MB`,
    `effective_cache_size = ${t.effectiveCacheSizeMiB}MB`,
    `work_mem = ${t.workMemMiB}MB`,
    `maintenance_work_mem = ${t.maintenanceWorkMemMiB}MB`,
    // A strict snap may only create /dev/shm/snap.<instance>.*; Postgres' POSIX segments are named
    // /dev/shm/PostgreSQL.N and AppArmor denies them (found under real snapd). System V shared
    // memory is allowed by snapd's seccomp profile and not mediated by AppArmor.
    "dynamic_shared_memory_type = 'sysv'",
    '',
    '# CPUs',
    `max_worker_processes = ${t.maxWorkerProcesses}`,
    `max_parallel_workers = ${t.maxParallelWorkers}`,
    `max_parallel_workers_per_gather = ${t.maxParallelWorkersPerGather}`,
    `max_parallel_maintenance_workers = ${t.maxParallelMaintenanceWorkers}`,
    '',
    "# Immich's recommended settings",
    "max_wal_size = '5GB'",
    "min_wal_size = '1GB'",
    'wal_compression = on',
    'checkpoint_completion_target = 0.9',
    'autovacuum_vacuum_scale_factor = 0.1',
    'autovacuum_analyze_scale_factor = 0.05',
    'autovacuum_vacuum_cost_limit = 1000',
    'effective_io_concurrency = 200',
    'random_page_cost = 1.2',
    `search_path = ${confString('"$user", public')}`,
    `shared_preload_libraries = ${confString(input.vectorchord ? 'vchord.so' : '')}`,
    '',
    '# Locale and time',
    "lc_messages = 'C.UTF-8'",
    "lc_monetary = 'C.UTF-8'",
    "lc_numeric = 'C.UTF-8'",
    "lc_time = 'C.UTF-8'",
    "default_text_search_config = 'pg_catalog.english'",
    "timezone = 'UTC'",
    "log_timezone = 'UTC'",
    '',
    '# Logging: stderr, collected by the service manager. Statements are never logged.',
    "log_destination = 'stderr'",
    'logging_collector = off',
    "log_line_prefix = '%m [%p] %q%u@%d '",
    "log_statement = 'none'",
    '',
  ];
  return lines.join('\n');
}
