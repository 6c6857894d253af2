// From verified upstream facts to the new pinned values: pure, no I/O. Besides mapping the facts
// onto versions.json, it refuses anything that changed while its version did not (a moved tag, a
// re-uploaded file): a pin, once verified, must not change under the same name.
import { isPlaceholder } from './checks.js';
import { PinError } from './errors.js';
import { ARCHES, GIT_TAG, naturalEarthUrl, node, uv, type GitSource } from './upstream.js';
import type { ArchPair, Pins, ToolPin } from './versions.js';

/** Everything `gather` verified, before it is compared with versions.json. */
export interface Facts {
  immich: { tag: string; version: string; commit: string };
  node: { version: string; sha256: ArchPair; signer: string };
  pluginTools: { extismJs: ToolPin; binaryen: ToolPin };
  uv: { version: string; sha256: ArchPair };
  naturalEarth: { version: string; sha256: string };
  git: Record<GitSource, { version: string; commit: string }>;
}

export const GIT_SOURCES: readonly GitSource[] = ['vectorchord', 'lego', 'libvips'];

const FIX_BY_HAND = 'check by hand why, then edit versions.json';

function sameVersionSameSum(artifact: string, url: string, version: string, pinned: string, now: string): void {
  if (pinned === now || isPlaceholder(pinned)) return;
  throw new PinError(
    artifact,
    url,
    `upstream now gives sha256 ${now} for ${version}, versions.json pins ${pinned} for the same version (the file changed after it was pinned); ${FIX_BY_HAND}`,
  );
}

/**
 * Natural Earth has no upstream checksum, so the script only ever re-confirms the pinned value: a
 * different version is never written (refused before any download, see `refuseUnverifiable`).
 */
export function naturalEarthRefusal(pinnedVersion: string, wanted: string): PinError | undefined {
  if (wanted === pinnedVersion) return undefined;
  return new PinError(
    `Natural Earth ${wanted} geojson`,
    naturalEarthUrl(wanted),
    `no upstream checksum exists, so the script will not pin a new version (versions.json has ${pinnedVersion}); verify its sha256 by hand from two independent sources and edit geodata.naturalEarthVersion and geodata.naturalEarthSha256 in versions.json`,
  );
}

export function planPins(current: Pins, facts: Facts): Pins {
  const next = structuredClone(current);

  // Immich: a tag that now names another commit is refused, like the other git pins.
  const { tag, version, commit } = facts.immich;
  if (tag === current.immich.tag && commit !== current.immich.commit) {
    throw new PinError(
      `Immich tag ${tag}`,
      current.immich.repository,
      `the tag now resolves to ${commit}, versions.json pins ${current.immich.commit} (the tag moved); ${FIX_BY_HAND}`,
    );
  }
  next.immich = { ...current.immich, version, tag, commit };
  next.snap.version = version === current.immich.version ? current.snap.version : `${version}-1`;

  // Node
  if (facts.node.version === current.node.version) {
    for (const a of ARCHES) {
      sameVersionSameSum(node.file(facts.node.version, a), node.url(facts.node.version, a), `Node ${facts.node.version}`, current.node.sha256[a], facts.node.sha256[a]);
    }
  }
  next.node = { version: facts.node.version, sha256: { ...facts.node.sha256 } };

  // Plugin tools (from the tag's mise.lock)
  for (const key of ['extismJs', 'binaryen'] as const) {
    const was = current.pluginTools[key];
    const now = facts.pluginTools[key];
    if (now.version === was.version) {
      for (const a of ARCHES) sameVersionSameSum(`${key} ${now.version} ${a}`, now.url[a], `${key} ${now.version}`, was.sha256[a], now.sha256[a]);
    }
    next.pluginTools[key] = structuredClone(now);
  }

  // uv
  if (facts.uv.version === current.uv.version) {
    for (const a of ARCHES) sameVersionSameSum(uv.file(a), uv.url(facts.uv.version, a), `uv ${facts.uv.version}`, current.uv.sha256[a], facts.uv.sha256[a]);
  }
  next.uv = { version: facts.uv.version, sha256: { ...facts.uv.sha256 } };

  // Natural Earth: only ever confirmed, never changed.
  const ne = facts.naturalEarth;
  const refusal = naturalEarthRefusal(current.geodata.naturalEarthVersion, ne.version);
  if (refusal) throw refusal;
  if (ne.sha256 !== current.geodata.naturalEarthSha256) {
    throw new PinError(
      `Natural Earth ${ne.version} geojson`,
      naturalEarthUrl(ne.version),
      `sha256 is ${ne.sha256}, versions.json pins ${current.geodata.naturalEarthSha256}; there is no upstream checksum to settle it: ${FIX_BY_HAND}`,
    );
  }

  // Git-pinned sources: the same tag must still name the same commit.
  for (const src of GIT_SOURCES) {
    const was = current[src];
    const now = facts.git[src];
    if (now.version === was.version && now.commit !== was.commit) {
      throw new PinError(
        `${src} tag ${GIT_TAG[src](now.version)}`,
        was.repository,
        `the tag now resolves to ${now.commit}, versions.json pins ${was.commit} (the tag moved); ${FIX_BY_HAND}`,
      );
    }
    next[src] = { ...was, version: now.version, commit: now.commit };
  }
  return next;
}
