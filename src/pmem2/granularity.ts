// Store-granularity decision (pmdk.md §2.1, §11 item 4).

import type { Granularity, Sharing } from './config.js';
import { forcedGranularity } from './env.js';
import { platformHasEadr } from './nd.js';

export interface GranularityInput {
  readonly anon: boolean;
  readonly sharing: Sharing;
  /** mmap with MAP_SHARED_VALIDATE|MAP_SYNC succeeded. */
  readonly mapSync: boolean;
  readonly env: NodeJS.ProcessEnv;
  /** eADR probe (sysfs, read on every map_new); injectable for tests. */
  readonly eadr?: () => boolean;
}

/** The granularity the platform offers for this mapping. */
export function availableGranularity(i: GranularityInput): Granularity {
  if (i.anon || i.sharing === 1) return 0;
  const forced = forcedGranularity(i.env);
  if (forced !== null) return forced;
  if (!i.mapSync) return 2;
  return (i.eadr ?? platformHasEadr)() ? 0 : 1;
}

/** PMDK's message when `available` is coarser than `required`, or null when it is fine. */
export function granularityError(required: Granularity, available: Granularity): string | null {
  if (available <= required) return null;
  if (available === 2)
    return (
      "requested granularity not available because fd doesn't point to DAX-enabled file or " +
      "kernel doesn't support MAP_SYNC flag (Linux >= 4.15)"
    );
  return "requested granularity not available because the platform doesn't support eADR";
}
