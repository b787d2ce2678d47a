#!/usr/bin/env bash
# record-qemu.sh - re-record the QEMU reference fixtures of tests/fixtures/qemu/ (issue 21):
# QEMU 7.2 = the host's qemu-system-x86_64 (Debian 12), QEMU 10.0 = Debian 13's, run from a
# trixie chroot (../shared/tools/guest/README.md). Needs root (chroot, mounts). From the
# project root, after `npm run build`:
#
#   tests/fidelity/record-qemu.sh [--only 7.2|10.0] [--config NAME]...
#
# Environment: QEMU10_ROOT (default $NVMEMU_GUEST_CACHE-trixie/qemu10-root, i.e.
# ~/.cache/nvmemu-guest-trixie/qemu10-root), GUEST_TOOLS (default ../shared/tools/guest).
# Build the chroot once with
#   debootstrap --variant=minbase --include=qemu-system-x86 trixie "$QEMU10_ROOT"
# The chroot gets /proc, /dev and /tmp mounted (qtest socket and images live in /tmp, at the
# same path inside and outside); the mounts stay for later runs.
set -euo pipefail
cd "$(dirname "$0")/../.."
GUEST_TOOLS=${GUEST_TOOLS:-$(cd .. && pwd)/shared/tools/guest}
CACHE=${NVMEMU_GUEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/nvmemu-guest}
export HARNESS_QEMU_CHROOT=${QEMU10_ROOT:-$CACHE-trixie/qemu10-root}
OUT=tests/fixtures/qemu
ONLY=""
CONFIG_ARGS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --only) ONLY=$2; shift ;;
    --config) CONFIG_ARGS+=(--config "$2"); shift ;;
    *) echo "record-qemu.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

qemu10_mounts() {
  local r=$HARNESS_QEMU_CHROOT
  [ -x "$r/usr/bin/qemu-system-x86_64" ] || {
    echo "record-qemu.sh: no QEMU in $r; build it with: debootstrap --variant=minbase --include=qemu-system-x86 trixie $r" >&2
    exit 1
  }
  mountpoint -q "$r/proc" || mount -t proc proc "$r/proc"
  mountpoint -q "$r/dev" || mount --bind /dev "$r/dev"
  mountpoint -q "$r/tmp" || mount --bind /tmp "$r/tmp"
}

# `-device X,help` and the machine list of one QEMU, saved verbatim.
help_fixtures() {
  local v=$1 q=$2 dir=$OUT/$1
  mkdir -p "$dir"
  "$q" --version | head -1 > "$dir/version.txt"
  for dev in nvme nvme-ns nvme-subsys; do
    "$q" -device "$dev,help" > "$dir/device-$dev-help.txt"
  done
  "$q" -machine help > "$dir/machine-help.txt"
  # The message for an unknown machine type (stderr; QEMU exits 1).
  "$q" -machine pc-q35-99.0 -nodefaults -display none 2> "$dir/machine-unknown.txt" || true
}

if [ "$ONLY" != "10.0" ]; then
  help_fixtures 7.2 qemu-system-x86_64
  node build/tests/fidelity/record-qemu.js --version 7.2 --out "$OUT" "${CONFIG_ARGS[@]}"
fi
if [ "$ONLY" != "7.2" ]; then
  qemu10_mounts
  Q10="$GUEST_TOOLS/tools/qemu-chroot.sh"
  help_fixtures 10.0 "$Q10"
  node build/tests/fidelity/record-qemu.js --version 10.0 --binary "$Q10" --out "$OUT" "${CONFIG_ARGS[@]}"
fi
