// The two ways `npm run pins` stops. Both end as ONE line on stderr (scripts/pins/main.ts) and exit 1.

/**
 * A value could not be verified: a checksum or signature did not match, a file was missing or
 * unreachable, or a rule refused it. Names the artifact, where it came from, and what was wrong.
 */
export class PinError extends Error {
  constructor(
    readonly artifact: string,
    readonly url: string,
    readonly detail: string,
  ) {
    super(`${artifact} <${url}>: ${detail}`);
    this.name = 'PinError';
  }
}

/** A bad command line or a missing prerequisite (no keyring): nothing was looked at yet. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Thrown by the network adapter when a URL or repository cannot be read. */
export class NetError extends Error {
  override name = 'NetError';
}

/** Collapses whitespace and newlines so that any message prints as exactly one line. */
export function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, ' ').trim();
}
