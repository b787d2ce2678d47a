#!/usr/bin/env bash
# ndctl-json-host.sh - what ndctl 76 (Debian 12 guest) and ndctl 81 (Debian 13 guest) print for
# a pmem layout nvmemu wrote, saved as fixtures (tests/fixtures/ndctl/<version>/) for
# tests/ndctl-versions.test.ts and docs/ndctl.md. Not run by CI; needs root and both guests
# (../shared/tools/guest/build.sh [--suite trixie]); runs the host's QEMU 7.2 for both (the
# nvdimm device is the same). From the project root, after `npm run build`:
#
#   tests/guest/ndctl-json-host.sh [bookworm|trixie]...     (default: both, ~2 min each)
#
# The layout (fixed uuids, so a test can rebuild it byte for byte; ndctl-layout.sh): region0 =
# 1 GiB nvdimm, label-size 128K, v1.2 labels, namespaces raw 64M, sector 64M (-l 512), fsdax
# 128M, devdax 128M; region1 = 256 MiB + 128 KiB nvdimm, label-size 128K, blank label area.
set -euo pipefail
cd "$(dirname "$0")/../.."
GUEST_TOOLS=${GUEST_TOOLS:-$(cd .. && pwd)/shared/tools/guest}
SUITES=("$@")
[ ${#SUITES[@]} -gt 0 ] || SUITES=(bookworm trixie)

for suite in "${SUITES[@]}"; do
  case "$suite" in
    bookworm) ver=76 ;;
    trixie) ver=81 ;;
    *) echo "unknown suite $suite" >&2; exit 2 ;;
  esac
  WORK=$(mktemp -d /tmp/fidelity-ndctl-XXXXXX)
  tests/guest/ndctl-layout.sh "$WORK"
  rc=0
  "$GUEST_TOOLS/run.sh" --suite "$suite" --quiet --machine pc,nvdimm=on \
    --file "$GUEST_TOOLS/examples/lib.sh" --out "$WORK/out" tests/guest/ndctl-json.sh -- \
    -m 2G,slots=2,maxmem=8G \
    -object "memory-backend-file,id=mem1,share=on,mem-path=$WORK/pmem0.img,size=1G" \
    -device nvdimm,id=nvdimm1,memdev=mem1,label-size=128K \
    -object "memory-backend-file,id=mem2,share=on,mem-path=$WORK/pmem1.img,size=268566528" \
    -device nvdimm,id=nvdimm2,memdev=mem2,label-size=128K || rc=$?
  dest=tests/fixtures/ndctl/$ver
  if [ -d "$WORK/out/job/results" ]; then
    rm -rf "$dest"
    mkdir -p "$dest"
    cp -r "$WORK/out/job/results/." "$dest/"
    cp "$WORK/out/output.log" "$dest/transcript.log"
    echo "fixtures: $dest ($(find "$dest" -type f | wc -l) files)"
  fi
  echo "$suite: exit $rc, run folder $WORK/out"
  rm -f "$WORK"/pmem*.img
done
