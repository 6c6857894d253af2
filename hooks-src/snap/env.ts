import * as z from 'zod';
import { UserError } from './errors.js';

const revision = z.string().regex(/^(x?\d+|unset)$/, 'a revision such as 42 or x1');

/** The variables snapd gives every hook and app (reference §A5) that our code relies on. */
export const SnapEnvSchema = z.object({
  SNAP: z.string().startsWith('/'),
  SNAP_DATA: z.string().startsWith('/'),
  SNAP_COMMON: z.string().startsWith('/'),
  SNAP_NAME: z.string().min(1),
  SNAP_INSTANCE_NAME: z.string().min(1),
  SNAP_REVISION: revision,
  SNAP_VERSION: z.string().min(1),
});

export type SnapEnv = z.infer<typeof SnapEnvSchema>;

let cached: SnapEnv | undefined;

/** Parses the snap environment once; outside a snap this throws one clear line. */
export function snapEnv(source: NodeJS.ProcessEnv = process.env): SnapEnv {
  if (source === process.env && cached) return cached;
  const parsed = SnapEnvSchema.safeParse(source);
  if (!parsed.success) {
    const bad = [...new Set(parsed.error.issues.map((i) => String(i.path[0])))].join(', ');
    throw new UserError(
      `not running inside the snap (${bad} missing or invalid); run it as immich-distribution.<command> or let snapd run the hook`,
    );
  }
  if (source === process.env) cached = parsed.data;
  return parsed.data;
}
