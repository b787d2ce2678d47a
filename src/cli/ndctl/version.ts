// Which ndctl release `nvmemu ndctl` reproduces: 76 (Debian 12) by default, 81 (Debian 13)
// when NVMEMU_NDCTL_VERSION=81. Run against the same pmem layout, both releases printed the same
// JSON for every list and create-namespace call checked (tests/fixtures/ndctl/76 and /81); the
// differences are in their code: ndctl 76 clamps hex values from 2^63 up (json.ts hex()).

/** An ndctl release nvmemu reproduces. */
export type NdctlVersion = 76 | 81;

/** Every release nvmemu reproduces. */
export const NDCTL_VERSIONS: readonly NdctlVersion[] = [76, 81];

/** What `ndctl --version` prints for each (Debian 12 ships 76.1). */
export const VERSION_TEXT: Record<NdctlVersion, string> = { 76: '76.1', 81: '81' };

/** The version from the environment; a value that is not a known release is an error. */
export function ndctlVersion(env: NodeJS.ProcessEnv = process.env): NdctlVersion {
  const text = env.NVMEMU_NDCTL_VERSION;
  if (text === undefined || text === '') return 76;
  const v = NDCTL_VERSIONS.find((x) => String(x) === text.trim());
  if (v === undefined) {
    throw new Error(
      `NVMEMU_NDCTL_VERSION='${text}' is not an ndctl release nvmemu reproduces (one of ${NDCTL_VERSIONS.join(', ')})`,
    );
  }
  return v;
}
