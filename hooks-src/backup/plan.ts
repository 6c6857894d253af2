/**
 * The incremental media plan (pure). A file is unchanged since the previous snapshot when its
 * relative path, size and modification time (nanoseconds) are all equal to what that snapshot
 * recorded (rsync's quick check): it is then hard-linked from the previous snapshot and its
 * recorded sha256 reused, so a second run costs time proportional to what changed. Anything
 * else is copied (and hashed while it is copied).
 */

export interface SourceFile {
  /** Relative to the media location, `/`-separated, e.g. `upload/<user>/ab/cd/<uuid>.jpg`. */
  path: string;
  size: number;
  mtimeNs: bigint;
  mode: number;
}

export interface IndexEntry extends SourceFile {
  sha256: string;
}

export type FileOp = { kind: 'link'; file: SourceFile; previous: IndexEntry } | { kind: 'copy'; file: SourceFile };

export function planMedia(source: readonly SourceFile[], previous?: ReadonlyMap<string, IndexEntry>): FileOp[] {
  return source.map((file) => {
    const prev = previous?.get(file.path);
    if (prev && prev.size === file.size && prev.mtimeNs === file.mtimeNs) return { kind: 'link', file, previous: prev };
    return { kind: 'copy', file };
  });
}

export interface PlanSummary {
  files: number;
  bytes: number;
  link: number;
  copy: number;
  copyBytes: number;
}

export function summarize(ops: readonly FileOp[]): PlanSummary {
  let bytes = 0;
  let copyBytes = 0;
  let link = 0;
  for (const op of ops) {
    bytes += op.file.size;
    if (op.kind === 'link') link++;
    else copyBytes += op.file.size;
  }
  return { files: ops.length, bytes, link, copy: ops.length - link, copyBytes };
}
