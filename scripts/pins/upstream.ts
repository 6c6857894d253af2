// Where each upstream publishes what `npm run pins` reads (docs/upstream/pins-research.md).
import type { ArchPair } from './versions.js';

export type Arch = keyof ArchPair;
export const ARCHES: readonly Arch[] = ['amd64', 'arm64'];

/** `https://github.com/<owner>/<name>(.git)` → raw.githubusercontent.com base for one commit. */
export function rawGithubBase(repository: string, commit: string): string {
  const m = /^https:\/\/github\.com\/([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+?)(?:\.git)?\/?$/.exec(repository);
  if (m === null) throw new Error(`${repository} is not a https://github.com/<owner>/<name> repository`);
  return `https://raw.githubusercontent.com/${m[1]}/${m[2]}/${commit}`;
}

/** The tag's own version files, relative to the repository root. */
export const IMMICH_FILES = {
  nvmrc: '.nvmrc',
  miseLock: 'mise.lock',
  uvLock: 'machine-learning/uv.lock',
  serverPackage: 'server/package.json',
  pnpmLock: 'pnpm-lock.yaml',
} as const;

export const node = {
  dir: (v: string) => `https://nodejs.org/dist/v${v}`,
  shasums: (v: string) => `${node.dir(v)}/SHASUMS256.txt`,
  signature: (v: string) => `${node.dir(v)}/SHASUMS256.txt.sig`,
  file: (v: string, arch: Arch) => `node-v${v}-linux-${arch === 'amd64' ? 'x64' : 'arm64'}.tar.xz`,
  url: (v: string, arch: Arch) => `${node.dir(v)}/${node.file(v, arch)}`,
};

/** mise.lock's platform names for the two snap architectures. */
export const MISE_PLATFORM: Record<Arch, string> = { amd64: 'linux-x64', arm64: 'linux-arm64' };
export const MISE_TOOLS = { extismJs: 'github:extism/js-pdk', binaryen: 'github:webassembly/binaryen' } as const;

export const uv = {
  file: (arch: Arch) => `uv-${arch === 'amd64' ? 'x86_64' : 'aarch64'}-unknown-linux-gnu.tar.gz`,
  url: (v: string, arch: Arch) => `https://github.com/astral-sh/uv/releases/download/${v}/${uv.file(arch)}`,
  sidecar: (v: string, arch: Arch) => `${uv.url(v, arch)}.sha256`,
};

export const naturalEarthUrl = (v: string) =>
  `https://raw.githubusercontent.com/nvkelso/natural-earth-vector/v${v}/geojson/ne_10m_admin_0_countries.geojson`;

/** How each git-pinned source names its release tags. */
export const GIT_TAG = {
  lego: (v: string) => `v${v}`,
  libvips: (v: string) => `v${v}`,
  vectorchord: (v: string) => v,
} as const;
export type GitSource = keyof typeof GIT_TAG;

/** The refs to ask `git ls-remote` for: the tag and its peeled commit. */
export const tagRefs = (tag: string): string[] => [`refs/tags/${tag}`, `refs/tags/${tag}^{}`];
