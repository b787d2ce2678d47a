// Option words that name images by a plain name (`file=d0.img`) resolved to a folder: what a
// scenario file and the replay fuzzer declare ("images": {"d0.img": "1M"}) and create there.

import { join } from 'node:path';

/** Rewrites `file=NAME` / `mem-path=NAME` of declared images to their path in `dir`. */
export function withImagePaths(
  args: readonly string[],
  images: Readonly<Record<string, number>>,
  dir: string,
): string[] {
  return args.map((a) =>
    a.replace(/(^|,)(file|mem-path)=([^,]+)/g, (m, sep: string, key: string, name: string) =>
      images[name] !== undefined ? `${sep}${key}=${join(dir, name)}` : m,
    ),
  );
}
