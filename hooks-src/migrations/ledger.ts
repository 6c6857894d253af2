import * as z from 'zod';

/**
 * The migration ledger ($SNAP_COMMON/migrations.json, pure part): one entry per migration that
 * post-refresh finished, newest last, for people and support (what ran, when, from which revision,
 * how long). The state record, not the ledger, decides what runs: a lost ledger loses history only.
 */
export const LEDGER_FORMAT = 1;
/** Entries kept; older ones are dropped (a few per refresh: this is years of refreshes). */
export const LEDGER_MAX_ENTRIES = 200;

export const LedgerEntrySchema = z
  .object({
    id: z.string().min(1),
    at: z.string(),
    revision: z.string(),
    version: z.string(),
    durationMs: z.number().nonnegative(),
    detail: z.string().optional(),
  })
  .strict();

export const LedgerSchema = z.object({ format: z.literal(LEDGER_FORMAT), entries: z.array(LedgerEntrySchema) }).strict();

export type LedgerEntry = z.infer<typeof LedgerEntrySchema>;
export type Ledger = z.infer<typeof LedgerSchema>;

export function emptyLedger(): Ledger {
  return { format: LEDGER_FORMAT, entries: [] };
}

/** Parses the ledger; anything unreadable is reported (the caller keeps the bad file aside). */
export function parseLedger(text: string): { ledger: Ledger; problem?: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ledger: emptyLedger(), problem: 'not valid JSON' };
  }
  const r = LedgerSchema.safeParse(raw);
  if (!r.success) {
    const i = r.error.issues[0];
    return { ledger: emptyLedger(), problem: i ? `${i.path.join('.') || 'root'}: ${i.message}` : 'invalid' };
  }
  return { ledger: r.data };
}

export function appendEntry(ledger: Ledger, entry: LedgerEntry): Ledger {
  return { format: LEDGER_FORMAT, entries: [...ledger.entries, LedgerEntrySchema.parse(entry)].slice(-LEDGER_MAX_ENTRIES) };
}

export function renderLedger(ledger: Ledger): string {
  return `${JSON.stringify(LedgerSchema.parse(ledger), null, 2)}\n`;
}
