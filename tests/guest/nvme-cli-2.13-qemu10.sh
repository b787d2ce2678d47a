#!/usr/bin/env bash
# nvme-cli-2.13-qemu10.sh - the reference side of issue 21: boots the Debian 13 guest (Linux
# 6.12, nvme-cli 2.13) under QEMU 10.0 (trixie chroot) with QEMU's own nvme devices in every
# configuration of tests/fidelity/configs.ts at once, runs tests/guest/nvme-cli-2.13.sh in it
# and saves what nvme-cli printed as fixtures (tests/fixtures/nvme-cli-2.13/qemu-10.0/). Not
# run by CI; needs root, the trixie guest (../shared/tools/guest/build.sh --suite trixie) and
# the QEMU 10.0 chroot (tests/fixtures/qemu/README.md). From the project root, after
# `npm run build`:
#
#   tests/guest/nvme-cli-2.13-qemu10.sh [--keep]
#
# Takes 2-4 minutes under TCG. The run's folder (transcript output.log, dmesg.log) is printed;
# --keep leaves it in /tmp.
set -euo pipefail
cd "$(dirname "$0")/../.."
GUEST_TOOLS=${GUEST_TOOLS:-$(cd .. && pwd)/shared/tools/guest}
CACHE=${NVMEMU_GUEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/nvmemu-guest}-trixie
export HARNESS_QEMU_CHROOT=${QEMU10_ROOT:-$CACHE/qemu10-root}
FIXTURES=tests/fixtures/nvme-cli-2.13/qemu-10.0
KEEP=0
[ "${1:-}" = --keep ] && KEEP=1

r=$HARNESS_QEMU_CHROOT
[ -x "$r/usr/bin/qemu-system-x86_64" ] || { echo "no QEMU 10.0 in $r (see tests/fixtures/qemu/README.md)" >&2; exit 1; }
[ -f "$CACHE/rootfs.ext4" ] || { echo "no trixie guest in $CACHE: $GUEST_TOOLS/build.sh --suite trixie" >&2; exit 1; }
# QEMU in the chroot opens the guest's kernel, initramfs and root image (in $CACHE) and the
# run folder and images (in /tmp): both are mounted at the same paths inside.
mountpoint -q "$r/proc" || mount -t proc proc "$r/proc"
mountpoint -q "$r/dev" || mount --bind /dev "$r/dev"
mountpoint -q "$r/tmp" || mount --bind /tmp "$r/tmp"
mkdir -p "$r$CACHE"
mountpoint -q "$r$CACHE" || mount --bind "$CACHE" "$r$CACHE"

WORK=$(mktemp -d /tmp/fidelity-guest-XXXXXX)
mapfile -t ARGS < <(node build/tests/fidelity/qemu-args.js "$WORK/img" --version 10.0)
rc=0
"$GUEST_TOOLS/run.sh" --suite trixie --qemu "$GUEST_TOOLS/tools/qemu-chroot.sh" \
  --machine q35 --mem 2G --append nvme_core.multipath=N --quiet \
  --file "$GUEST_TOOLS/examples/lib.sh" --out "$WORK/out" \
  tests/guest/nvme-cli-2.13.sh -- "${ARGS[@]}" || rc=$?

if [ -d "$WORK/out/job/results" ]; then
  rm -rf "$FIXTURES"
  mkdir -p "$FIXTURES"
  cp -r "$WORK/out/job/results/." "$FIXTURES/"
  cp "$WORK/out/output.log" "$FIXTURES/transcript.log"
  {
    echo "recorded by tests/guest/nvme-cli-2.13-qemu10.sh"
    chroot "$r" /usr/bin/qemu-system-x86_64 --version | head -1
    echo "machine: q35 (QEMU 10.0: pc-q35-10.0), 2 GiB, TCG, kernel nvme_core.multipath=N"
    echo "device arguments (images are 64 MiB zero-filled raw files):"
    printf '  %s\n' "${ARGS[@]}" | sed "s|$WORK/img/||g"

  } > "$FIXTURES/RECORDED.txt"
  echo "fixtures: $FIXTURES ($(find "$FIXTURES" -type f | wc -l) files)"
fi
echo "run folder: $WORK/out (exit $rc)"
[ "$KEEP" = 1 ] || [ "$rc" != 0 ] || rm -rf "$WORK/img"
exit "$rc"
