#!/usr/bin/env bash
# Host side of tests/guest/faults-linux.sh: starts `nvmemu run` (one controller, a 64 MiB
# namespace, NVMe/TCP on 127.0.0.1:14420, discovery 18009, advertising 10.0.2.2), injects a
# read defect at LBA 4096 over QMP, boots the guest, drops the NVMe/TCP connections (path-loss
# drop, 5 s) 10 s after the guest connected, prints the fault history and stops nvmemu.
# Usage (from the project root, root + the guest image needed):
#   tests/guest/faults-linux-host.sh OUT_DIR [extra run.sh options, e.g. --append nvme_core.multipath=N]
# PORT and DISC_PORT choose other ports; GUEST_TOOLS the guest harness (../shared/tools/guest).
set -euo pipefail
PORT=${PORT:-14420}
DISC_PORT=${DISC_PORT:-18009}
GUEST_TOOLS=${GUEST_TOOLS:-$(cd "$(dirname "$0")/../../.." && pwd)/shared/tools/guest}
OUT=${1:?OUT_DIR}; shift
WORK=$(mktemp -d /tmp/nvmemu-faults-guest.XXXXXX)
LBA=4096
NQN=nqn.2019-08.org.qemu:gchk
truncate -s 64M "$WORK/d.img"
node build/src/cli/main.js run --data "$WORK/data" \
  -drive file="$WORK/d.img",if=none,id=d0,format=raw -device nvme-subsys,id=s0,nqn=gchk \
  -device nvme,id=nvme0,serial=gchk0,subsys=s0 -device nvme-ns,id=ns1,drive=d0,nsid=1 \
  --listen 127.0.0.1:$PORT --discovery $DISC_PORT --advertise 10.0.2.2 >"$WORK/run.log" 2>&1 &
RUN=$!
SOCK=$WORK/data/qmp.sock
for _ in $(seq 300); do [ -S "$SOCK" ] && break; kill -0 $RUN 2>/dev/null || break; sleep 0.1; done
[ -S "$SOCK" ] || { echo "nvmemu run did not start:"; cat "$WORK/run.log"; exit 1; }
qmp() { printf '{"execute":"qmp_capabilities"}\n%s\n' "$1" | socat -t 1 - UNIX-CONNECT:"$SOCK" | tail -n +3; }
qmp "{\"execute\":\"x-nvmemu-inject-fault\",\"arguments\":{\"kind\":\"media-error\",\"id\":\"ns1\",\"lba\":$LBA,\"count\":8}}"
"$GUEST_TOOLS/run.sh" --quiet --out "$OUT" --file "$GUEST_TOOLS/examples/lib.sh" \
  --env NQN=$NQN --env PORT=$PORT --env LBA=$LBA --timeout 400 "$@" tests/guest/faults-linux.sh &
GUEST=$!
for _ in $(seq 300); do
  qmp '{"execute":"x-nvmemu-query-nvme-tcp"}' | grep -qE '"io-queues": ?[1-9]' && break
  sleep 1
done
sleep 10
qmp '{"execute":"x-nvmemu-inject-fault","arguments":{"kind":"path-loss","mode":"drop","duration":5000}}'
rc=0; wait $GUEST || rc=$?
qmp '{"execute":"x-nvmemu-query-faults"}' >"$OUT/faults.json"
kill -INT $RUN; wait $RUN || true
echo "guest exit status $rc; fault history in $OUT/faults.json; results in $OUT"
exit $rc
