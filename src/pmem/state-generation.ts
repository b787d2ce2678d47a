// How the state folder (state-folder.ts) is replaced as a whole: each publish writes a complete
// new generation `<dataDir>/state-gen/<pid>-<ms>-<k>/` and then points the symlink
// `<dataDir>/state` at it with one rename(2), which is atomic: whatever a cut leaves behind is
// the old generation or the new one, complete. Older generations are pruned after the swap, so
// a reader resolves the link once, reads that generation, and reads again if the link moved
// meanwhile (readPmemState): it sees the old state or the new one, never a mix and never none.
//
// No fsync: the folder describes a *running* process and is trusted only while its owner file
// names a live pid of the current boot (markerAlive). After a host crash the boot id differs, so
// whatever reached the disk is stale by construction; a process that dies (SIGKILL, a throw)
// leaves the page cache, in which the writes and renames below are already ordered. Before
// issue 20 each of the default machine's 32 files was written with an fsync of the file and one
// of its folder: 1.8 s of a loaded machine's 4.9 s start and stop.

import {
  mkdirSync,
  readdirSync,
  readlinkSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';

/** One file of a generation: its path inside the generation and its whole content. */
export interface GenerationFile {
  /** Relative, '/'-separated, e.g. `region0/nmem/id`. */
  readonly name: string;
  readonly text: string;
}

/** The folder that holds the generations, beside the `state` link. */
const GENERATIONS = 'state-gen';

/**
 * The steps of a publish, in order; `cut` (tests) is called before each one and may throw to
 * stop the publish there, as a SIGKILL or a failing write would.
 */
export type CutPoint = (step: string) => void;

/**
 * Writes `files` as a new generation and makes `link` (the state folder's path) name it. Older
 * generations, and any left half-written by an earlier cut, are removed afterwards.
 */
export function publishGeneration(
  link: string,
  files: readonly GenerationFile[],
  cut: CutPoint = () => {},
): void {
  const parent = dirname(link);
  const gens = join(parent, GENERATIONS);
  const name = nextGeneration();
  const dir = join(gens, name);
  mkdirSync(dir, { recursive: true });
  for (const f of files) {
    cut(`write ${f.name}`);
    const path = join(dir, f.name);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, f.text);
  }
  const tmp = `${link}.${process.pid}.tmp`;
  cut('link');
  rmSync(tmp, { force: true });
  // Relative, so that a data folder that moves keeps a working link.
  symlinkSync(join(GENERATIONS, name), tmp);
  cut('swap');
  try {
    renameSync(tmp, link);
  } catch (e) {
    // A state folder of an nvmemu before generations is a real folder, which rename(2) cannot
    // replace with a link (EISDIR/ENOTDIR/ENOTEMPTY): it goes first, once.
    const code = (e as { code?: string }).code;
    if (code !== 'EISDIR' && code !== 'ENOTDIR' && code !== 'ENOTEMPTY' && code !== 'EEXIST')
      throw e;
    rmSync(link, { recursive: true, force: true });
    renameSync(tmp, link);
  }
  for (const e of safeList(gens)) {
    if (e === name) continue;
    cut('prune');
    rmSync(join(gens, e), { recursive: true, force: true });
  }
}

/** Removes the link first (readers see no state at once), then every generation. */
export function removeGenerations(link: string): void {
  rmSync(link, { recursive: true, force: true });
  rmSync(join(dirname(link), GENERATIONS), { recursive: true, force: true });
}

/**
 * The folder `link` names right now (resolved once, so that a reader reads one generation even
 * when a publish swaps the link meanwhile), or `link` itself when it is not a link.
 */
export function currentGeneration(link: string): string {
  try {
    return join(dirname(link), readlinkSync(link));
  } catch {
    return link;
  }
}

let published = 0;

/**
 * A name no generation of this folder had before, in this process or another (pid, clock,
 * count): readers rely on a name, once the link leaves it, never being linked again.
 */
function nextGeneration(): string {
  return `${process.pid}-${Date.now()}-${++published}`;
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
