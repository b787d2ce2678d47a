// Wear of several namespaces as one drive reports it (SMART log 02h over all namespaces or one;
// the endurance group's log 09h): the most worn namespace's Percentage Used, the least spare,
// the warnings of any, the media writes of all. Undefined when no namespace is modelled, so a
// drive without a model answers what it did before.

import type { NamespaceApi, NsWear } from '../spec/namespace-api.js';

export function combineWear(namespaces: Iterable<NamespaceApi>): NsWear | undefined {
  let out: NsWear | undefined;
  for (const ns of namespaces) {
    const w = ns.wear?.();
    if (w === undefined) continue;
    out =
      out === undefined
        ? w
        : {
            percentageUsed: Math.max(out.percentageUsed, w.percentageUsed),
            availableSpare: Math.min(out.availableSpare, w.availableSpare),
            availableSpareThreshold: Math.max(
              out.availableSpareThreshold,
              w.availableSpareThreshold,
            ),
            criticalWarning: out.criticalWarning | w.criticalWarning,
            meanPe: Math.max(out.meanPe, w.meanPe),
            maxPe: Math.max(out.maxPe, w.maxPe),
            mediaBytesWritten: out.mediaBytesWritten + w.mediaBytesWritten,
          };
  }
  return out;
}
