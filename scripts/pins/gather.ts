// Reads and verifies everything a new Immich tag needs, through the injected `Net`, and returns the
// verified facts. It writes nothing: any value it cannot verify throws a PinError (one line: the
// artifact, its URL, what did not match) before versions.json is touched.
import { compareVersions, pythonSatisfies, sharpLibvipsVerdict } from './checks.js';
import { NetError, PinError } from './errors.js';
import type { Net } from './net.js';
import {
  miseLockedTool,
  parseNvmrc,
  parseServerPackage,
  parseSha256Sidecar,
  parseShasums,
  pnpmLockServerSharp,
  tagCommit,
  uvLockRequiresPython,
} from './parse.js';
import { GIT_SOURCES, naturalEarthRefusal, type Facts } from './plan.js';
import {
  ARCHES,
  GIT_TAG,
  IMMICH_FILES,
  MISE_PLATFORM,
  MISE_TOOLS,
  naturalEarthUrl,
  node,
  rawGithubBase,
  tagRefs,
  uv,
  type GitSource,
} from './upstream.js';
import type { ArchPair, Pins, ToolPin } from './versions.js';

export interface Options {
  /** Immich tag, `v3.2.4`. */
  tag: string;
  /** Keyring file with the Node.js release keys, for gpgv. */
  nodeKeyring: string;
  uv?: string;
  naturalEarth?: string;
  lego?: string;
  libvips?: string;
  vectorchord?: string;
}

export interface Gathered {
  facts: Facts;
  /** What was verified, for the summary. */
  notes: string[];
  /** Verified, but worth a look before committing. */
  warnings: string[];
}

/** Runs one step; anything but a PinError becomes one, naming the artifact and URL. */
async function step<T>(artifact: string, url: string, fn: () => Promise<T> | T): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof PinError) throw err;
    const detail = err instanceof NetError ? `unreachable: ${err.message}` : (err as Error).message;
    const wrapped = new PinError(artifact, url, detail);
    wrapped.cause = err;
    throw wrapped;
  }
}

export async function gather(current: Pins, opts: Options, net: Net, status: (msg: string) => void = () => {}): Promise<Gathered> {
  const notes: string[] = [];
  const warnings: string[] = [];
  let downloads = 0;

  // Refusals that need no network come first.
  const neVersion = opts.naturalEarth ?? current.geodata.naturalEarthVersion;
  const neRefusal = naturalEarthRefusal(current.geodata.naturalEarthVersion, neVersion);
  if (neRefusal) throw neRefusal;

  /** Downloads `url` and requires its sha256 to be `want` (from a signed list, a lock or a sidecar). */
  const hashMustBe = async (artifact: string, url: string, want: string, source: string): Promise<string> => {
    status(`sha256 ${url}`);
    const got = await step(artifact, url, () => net.sha256OfUrl(url));
    if (got !== want) throw new PinError(artifact, url, `sha256 is ${got}, ${source} says ${want}`);
    downloads += 1;
    return got;
  };

  /**
   * A tag → commit, by `git ls-remote` over HTTPS (readPins refuses non-https repositories). A tag
   * resolved by git over HTTPS is the verification for a commit pin: TLS vouches that the upstream's
   * own host named this commit for the tag, and the commit id is itself a hash over the whole tree,
   * so the build (build-helpers git-verified) gets exactly those sources or stops.
   */
  const resolveTag = async (artifact: string, repository: string, tag: string): Promise<string> => {
    status(`git ls-remote ${repository} ${tag}`);
    const out = await step(artifact, repository, () => net.gitLsRemote(repository, tagRefs(tag)));
    const commit = tagCommit(out, tag);
    if (commit === undefined) throw new PinError(artifact, repository, `no tag refs/tags/${tag}`);
    return commit;
  };

  // 1. Immich: the tag, then its own version files at that exact commit.
  const tag = opts.tag;
  const version = tag.replace(/^v/, '');
  const commit = await resolveTag(`Immich tag ${tag}`, current.immich.repository, tag);
  const base = await step(`Immich tag ${tag}`, current.immich.repository, () => rawGithubBase(current.immich.repository, commit));
  const fileUrl = (path: string) => `${base}/${path}`;
  const immichFile = (path: string) => {
    status(`read ${fileUrl(path)}`);
    return step(`Immich ${tag} ${path}`, fileUrl(path), () => net.fetchText(fileUrl(path)));
  };
  const nvmrc = await immichFile(IMMICH_FILES.nvmrc);
  const miseLock = await immichFile(IMMICH_FILES.miseLock);
  const uvLock = await immichFile(IMMICH_FILES.uvLock);
  const serverPackageText = await immichFile(IMMICH_FILES.serverPackage);
  const pnpmLock = await immichFile(IMMICH_FILES.pnpmLock);

  const pkgUrl = fileUrl(IMMICH_FILES.serverPackage);
  const pkg = await step(`Immich ${tag} ${IMMICH_FILES.serverPackage}`, pkgUrl, () => parseServerPackage(serverPackageText));
  if (pkg.version !== version) {
    throw new PinError(`Immich ${tag} ${IMMICH_FILES.serverPackage}`, pkgUrl, `says version ${pkg.version}, the tag is ${version}`);
  }

  // 2. Python: Ubuntu's python must satisfy the ML lock's requires-python.
  const uvLockUrl = fileUrl(IMMICH_FILES.uvLock);
  await step(`Immich ${tag} ${IMMICH_FILES.uvLock}`, uvLockUrl, () => {
    const requires = uvLockRequiresPython(uvLock);
    if (!pythonSatisfies(requires, current.python.version)) {
      throw new Error(`requires-python '${requires}' is not satisfied by Ubuntu's python ${current.python.version} (versions.json python.version)`);
    }
    notes.push(`python ${current.python.version} satisfies requires-python '${requires}'`);
  });

  // 3. sharp: the libvips we build must be new enough for the sharp the tag's lock installs.
  const pnpmUrl = fileUrl(IMMICH_FILES.pnpmLock);
  const libvipsVersion = opts.libvips ?? current.libvips.version;
  await step(`Immich ${tag} ${IMMICH_FILES.pnpmLock}`, pnpmUrl, () => {
    const sharp = pnpmLockServerSharp(pnpmLock);
    const verdict = sharpLibvipsVerdict(sharp.version, libvipsVersion);
    const where = `sharp ${sharp.version} (server/package.json "${pkg.sharpRange}")`;
    if (!verdict.ok) {
      const reason = verdict.needs === undefined ? verdict.reason : `${where} needs libvips >= ${verdict.needs}, but versions.json libvips.version ${opts.libvips ? `would be ${libvipsVersion} (--libvips)` : `is ${libvipsVersion}`}; pass --libvips <version>`;
      throw new Error(reason);
    }
    notes.push(`${where} needs libvips >= ${verdict.needs}: ${libvipsVersion} is enough`);
  });

  // 4. Node: the signed SHASUMS256.txt of the .nvmrc version, then both tarballs against it.
  const nodeVersion = await step(`Immich ${tag} ${IMMICH_FILES.nvmrc}`, fileUrl(IMMICH_FILES.nvmrc), () => parseNvmrc(nvmrc));
  const sumsUrl = node.shasums(nodeVersion);
  const sigUrl = node.signature(nodeVersion);
  const sumsArtifact = `Node ${nodeVersion} SHASUMS256.txt`;
  status(`read ${sumsUrl}`);
  const sumsBytes = await step(sumsArtifact, sumsUrl, () => net.fetchBytes(sumsUrl));
  const sigBytes = await step(`${sumsArtifact}.sig`, sigUrl, () => net.fetchBytes(sigUrl));
  const verdict = await step(`${sumsArtifact}.sig`, sigUrl, () => net.gpgVerify(opts.nodeKeyring, sigBytes, sumsBytes));
  if (!verdict.ok || verdict.signer === undefined) {
    const why = verdict.ok ? 'gpgv named no signing key' : verdict.detail;
    throw new PinError(`${sumsArtifact}.sig`, sigUrl, `signature does not verify against ${opts.nodeKeyring}: ${why}`);
  }
  notes.push(`Node ${nodeVersion} SHASUMS256.txt: good signature by ${verdict.signer}`);
  const sums = await step(sumsArtifact, sumsUrl, () => parseShasums(new TextDecoder().decode(sumsBytes)));
  const nodeSums = {} as ArchPair;
  for (const a of ARCHES) {
    const file = node.file(nodeVersion, a);
    const want = sums.get(file);
    if (want === undefined) throw new PinError(sumsArtifact, sumsUrl, `no line for ${file}`);
    nodeSums[a] = await hashMustBe(file, node.url(nodeVersion, a), want, 'the signed SHASUMS256.txt');
  }

  // 5. The plugin build's tools, exactly as the tag's mise.lock locks them.
  const miseUrl = fileUrl(IMMICH_FILES.miseLock);
  const tools = {} as { extismJs: ToolPin; binaryen: ToolPin };
  for (const key of ['extismJs', 'binaryen'] as const) {
    const name = MISE_TOOLS[key];
    const locked = await step(`Immich ${tag} mise.lock`, miseUrl, () => miseLockedTool(miseLock, name));
    const pin: ToolPin = { version: locked.version, url: {} as ArchPair, sha256: {} as ArchPair };
    for (const a of ARCHES) {
      const asset = locked.platforms[MISE_PLATFORM[a]];
      if (asset === undefined) {
        throw new PinError(`Immich ${tag} mise.lock`, miseUrl, `no sha256 checksum and url for ${name} ${locked.version} platforms.${MISE_PLATFORM[a]}`);
      }
      if (!/^https:\/\/\S+$/.test(asset.url)) throw new PinError(`${name} ${locked.version} ${a}`, asset.url, 'mise.lock gives a non-https URL');
      pin.url[a] = asset.url;
      pin.sha256[a] = await hashMustBe(`${name} ${locked.version} ${a}`, asset.url, asset.sha256, `the tag's mise.lock`);
    }
    tools[key] = pin;
  }

  // 6. uv: each asset against its .sha256 sidecar.
  const uvVersion = opts.uv ?? current.uv.version;
  const uvSums = {} as ArchPair;
  for (const a of ARCHES) {
    const file = uv.file(a);
    const sidecarUrl = uv.sidecar(uvVersion, a);
    status(`read ${sidecarUrl}`);
    const sidecar = await step(`uv ${uvVersion} ${file}.sha256`, sidecarUrl, async () => parseSha256Sidecar(await net.fetchText(sidecarUrl)));
    if (sidecar.name !== undefined && sidecar.name !== file) {
      throw new PinError(`uv ${uvVersion} ${file}.sha256`, sidecarUrl, `names ${sidecar.name}, expected ${file}`);
    }
    uvSums[a] = await hashMustBe(`uv ${uvVersion} ${file}`, uv.url(uvVersion, a), sidecar.sha256, `${file}.sha256`);
  }

  // 7. Natural Earth: no upstream checksum; planPins requires the pinned one.
  const neUrl = naturalEarthUrl(neVersion);
  status(`sha256 ${neUrl}`);
  const neSha = await step(`Natural Earth ${neVersion} geojson`, neUrl, () => net.sha256OfUrl(neUrl));
  downloads += 1;

  // 8. Git-pinned sources: the tag of the pinned (or requested) version → its commit.
  const git = {} as Facts['git'];
  const wanted: Record<GitSource, string | undefined> = { lego: opts.lego, libvips: opts.libvips, vectorchord: opts.vectorchord };
  for (const src of GIT_SOURCES) {
    const v = wanted[src] ?? current[src].version;
    const t = GIT_TAG[src](v);
    git[src] = { version: v, commit: await resolveTag(`${src} tag ${t}`, current[src].repository, t) };
  }

  notes.push(`${downloads} downloads hashed, ${1 + GIT_SOURCES.length} git tags resolved`);
  if (compareVersions(nodeVersion, current.node.version) < 0) warnings.push(`Node goes down from ${current.node.version} to ${nodeVersion} (the tag's .nvmrc)`);
  if (compareVersions(version.replace(/-.*/, ''), current.immich.version.replace(/-.*/, '')) < 0) warnings.push(`Immich goes down from ${current.immich.version} to ${version}`);
  return {
    facts: {
      immich: { tag, version, commit },
      node: { version: nodeVersion, sha256: nodeSums, signer: verdict.signer },
      pluginTools: tools,
      uv: { version: uvVersion, sha256: uvSums },
      naturalEarth: { version: neVersion, sha256: neSha },
      git,
    },
    notes,
    warnings,
  };
}
