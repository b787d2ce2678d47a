#!/usr/bin/env bash
# nvme-cli-2.13-nvmemu.sh - the nvmemu side of issue 21: serves every configuration of
# tests/fidelity/configs.ts from one `nvmemu run` over NVMe/TCP, boots the Debian 13 guest
# (Linux 6.12, nvme-cli 2.13) and runs tests/guest/nvme-cli-2.13.sh with TRANSPORT=tcp; the
# outputs go to tests/fixtures/nvme-cli-2.13/nvmemu-<level>/, next to qemu-10.0/ (same layout,
# so they diff file by file). Not run by CI; needs root and the trixie guest. From the project
# root, after `npm run build`:
#
#   tests/guest/nvme-cli-2.13-nvmemu.sh [MACHINE]     (default q35: the 7.2 level;
#                                                      pc-q35-10.0 once phase 2 lands)
set -euo pipefail
cd "$(dirname "$0")/../.."
GUEST_TOOLS=${GUEST_TOOLS:-$(cd .. && pwd)/shared/tools/guest}
MACHINE=${1:-q35}
case "$MACHINE" in
  q35 | pc | pc-q35-7.2 | pc-i440fx-7.2) level=7.2 ;;
  pc-q35-10.0 | pc-i440fx-10.0) level=10.0 ;;
  *) echo "unknown machine type $MACHINE" >&2; exit 2 ;;
esac
PORT=${PORT:-24420}
DISC_PORT=${DISC_PORT:-24409}
FIXTURES=tests/fixtures/nvme-cli-2.13/nvmemu-$level
WORK=$(mktemp -d /tmp/fidelity-nvmemu-XXXXXX)
# The full command line (QEMU 10.0's, with the FDP properties) at every level: nvmemu takes
# them all; the machine type alone selects the level.
mapfile -t ARGS < <(node build/tests/fidelity/qemu-args.js "$WORK/img" --version 10.0)
node build/src/cli/main.js run -machine "$MACHINE" "${ARGS[@]}" --data "$WORK/data" \
  --listen "127.0.0.1:$PORT" --discovery "$DISC_PORT" --advertise 10.0.2.2 > "$WORK/target.log" 2>&1 &
target=$!
trap 'kill "$target" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do grep -q '^Running' "$WORK/target.log" && break; sleep 0.1; done
grep -q '^Running' "$WORK/target.log" || { cat "$WORK/target.log" >&2; exit 1; }
rc=0
# The fio pass takes a while under TCG: 40 minutes before the guest is given up.
"$GUEST_TOOLS/run.sh" --suite trixie --quiet --timeout "${TIMEOUT:-2400}" --append nvme_core.multipath=N \
  --file "$GUEST_TOOLS/examples/lib.sh" --env TRANSPORT=tcp --env "DISC_PORT=$DISC_PORT" \
  --env "FIO=${FIO:-1}" \
  --out "$WORK/out" tests/guest/nvme-cli-2.13.sh || rc=$?
if [ -d "$WORK/out/job/results" ]; then
  rm -rf "$FIXTURES"
  mkdir -p "$FIXTURES"
  cp -r "$WORK/out/job/results/." "$FIXTURES/"
  cp "$WORK/out/output.log" "$FIXTURES/transcript.log"
  {
    echo "recorded by tests/guest/nvme-cli-2.13-nvmemu.sh ($(git rev-parse --short HEAD))"
    echo "nvmemu run -machine $MACHINE <arguments below> --listen 127.0.0.1:$PORT --discovery $DISC_PORT --advertise 10.0.2.2"
    printf '  %s\n' "${ARGS[@]}" | sed "s|$WORK/img/||g"
  } > "$FIXTURES/RECORDED.txt"
  echo "fixtures: $FIXTURES ($(find "$FIXTURES" -type f | wc -l) files)"
fi
echo "run folder: $WORK/out (exit $rc)"
exit "$rc"
