import { existsSync, readFileSync } from 'node:fs';
import * as z from 'zod';
import { UserError } from '../snap/errors.js';
import { writeFileIfChanged } from '../snap/files.js';
import versions from '../../snap/versions.json' with { type: 'json' };

/**
 * The state record ($SNAP_COMMON/state.json): what the data on disk IS (not what the config
 * asks for). Migrations are keyed by it, never by revision numbers. Bump STATE_VERSION with a
 * migration whenever the layout of the data changes.
 */
export const STATE_VERSION = 1;

/**
 * The Immich version this build ships: snap/versions.json, the one place it is pinned (bundled
 * into the executables at build time, so it always matches the Immich the recipe builds).
 */
export const IMMICH_VERSION: string = versions.immich.version;

export const StateSchema = z
  .object({
    stateVersion: z.number().int().positive(),
    postgresMajor: z.number().int().min(14),
    vectorExtension: z.object({ name: z.enum(['vchord', 'vector']), version: z.string().min(1) }).strict(),
    immichVersion: z.string().regex(/^\d+\.\d+\.\d+/),
  })
  .strict();

export type State = z.infer<typeof StateSchema>;

export function renderState(state: State): string {
  return `${JSON.stringify(StateSchema.parse(state), null, 2)}\n`;
}

export function readState(file: string): State | undefined {
  if (!existsSync(file)) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    throw new UserError(`state file ${file} is not valid JSON; restore it from a backup`);
  }
  const parsed = StateSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new UserError(`state file ${file} is invalid (${issue ? `${issue.path.join('.') || 'root'}: ${issue.message}` : 'unknown'})`);
  }
  return parsed.data;
}

/** Writes the state atomically (0644 root; it holds no secret). True when it changed. */
export function writeState(file: string, state: State): boolean {
  return writeFileIfChanged(file, renderState(state), 0o644);
}
