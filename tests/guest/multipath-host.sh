#!/usr/bin/env bash
# Host side of the multi-host guest checks (docs/multipath.md; not run by CI):
#   tests/guest/multipath-host.sh OUT_DIR multipath|reservations [run.sh options...]
# Starts two `nvmemu run --instance` processes serving one subsystem (nqn
# nqn.2019-08.org.qemu:mpath) from one data folder and one 256 MiB image, on 127.0.0.1:$PORT_BASE
# (instance a, controller IDs 1-15) and :$PORT_BASE+1 (instance b, 16-31), each with two
# controllers and the namespace in ANA group 1; in `multipath` mode also a plain nvmemu on
# :$PORT_BASE+2 serving nqn.2019-08.org.qemu:mgmt with nvm-capacity=256M for Namespace
# Management. PORT_BASE (environment, default 14440) keeps clear of other guest runs on the
# machine; the guest gets the ports as PORT_A, PORT_B, PORT_M. Then boots the
# guest with tests/guest/multipath-linux.sh or reservations-linux.sh and serves the requests the
# guest script writes to its job share ($OUT_DIR/job/request, one line; the reply goes to
# job/reply):
#   ana NAME GROUP STATE   x-nvmemu-set-ana-state on instance NAME's QMP socket
#   kill NAME              SIGKILL instance NAME       start NAME   start it again
#   restart                stop both instances (SIGTERM) and start them again
# Logs: $OUT_DIR/target-a.log, target-b.log, target-mgmt.log; guest results as run.sh writes them.
set -euo pipefail
OUT=${1:?OUT_DIR}
MODE=${2:?multipath or reservations}
shift 2
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CLI="$ROOT/build/src/cli/main.js"
WORK=$(mktemp -d /tmp/nvmemu-mpath-guest.XXXXXX)
DATA=$WORK/data
mkdir -p "$OUT/job" "$DATA"
rm -f "$OUT/job/"{request,reply,done}
truncate -s 256M "$WORK/ns1.img"

declare -A RANGE PORT
RANGE[a]="1 15"
RANGE[b]="16 31"
BASE=${PORT_BASE:-14440}
PORT[a]=$BASE
PORT[b]=$((BASE + 1))
PORT_M=$((BASE + 2))
for p in "${PORT[a]}" "${PORT[b]}" "$PORT_M"; do
  if ss -ltn | awk '{print $4}' | grep -qE ":$p\$"; then
    echo "port $p is in use: set PORT_BASE" >&2
    exit 1
  fi
done

start() {
  local name=$1 min max
  read -r min max <<<"${RANGE[$name]}"
  node "$CLI" run --instance "$name" --data "$DATA" --listen "127.0.0.1:${PORT[$name]}" \
    --discovery none -drive "file=$WORK/ns1.img,if=none,id=d1,format=raw" \
    -device "nvme-subsys,id=s0,nqn=mpath,cntlid-min=$min,cntlid-max=$max" \
    -device nvme,id=c0,serial=mpath0001,subsys=s0 -device nvme,id=c1,serial=mpath0001,subsys=s0 \
    -device nvme-ns,id=ns1,drive=d1,nsid=1,anagrpid=1,uuid=5e9c3b1c-1f0a-4c47-9d4e-2b8a6f3e7d01 \
    >>"$OUT/target-$name.log" 2>&1 &
  # In a file: the request server (a subshell) restarts instances, and the end must stop those.
  echo $! >"$WORK/pid-$name"
  for _ in $(seq 100); do grep -q '^Running' "$OUT/target-$name.log" 2>/dev/null && return 0; sleep 0.1; done
  echo "instance $name did not start" >&2
  return 1
}
pid() { cat "$WORK/pid-$1"; }
stop() {
  local p
  p=$(pid "$1")
  kill "$p" 2>/dev/null || return 0
  wait "$p" 2>/dev/null || true # our child: reaped here; else wait for it to go
  for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || return 0; sleep 0.1; done
}

qmp() {
  node --input-type=module -e "
    import { QmpClient } from '$ROOT/build/src/monitor/client.js';
    const c = await QmpClient.connect({ path: process.argv[1] });
    await c.negotiate();
    try { console.log(JSON.stringify(await c.execute(process.argv[2], JSON.parse(process.argv[3])))); }
    catch (e) { console.log('error: ' + e.message); }
    c.close();" "$@"
}

: >"$OUT/target-a.log"
: >"$OUT/target-b.log"
start a
start b
MGMT=""
if [ "$MODE" = multipath ]; then
  : >"$OUT/target-mgmt.log"
  node "$CLI" run --data "$WORK/mgmt" --listen "127.0.0.1:$PORT_M" --discovery none \
    -device nvme-subsys,id=m0,nqn=mgmt,nvm-capacity=256M -device nvme,id=m,serial=mgmt0001,subsys=m0 \
    >>"$OUT/target-mgmt.log" 2>&1 &
  MGMT=$!
fi

serve() {
  while [ ! -f "$OUT/job/done" ]; do
    if [ -f "$OUT/job/request" ]; then
      local req reply
      req=$(cat "$OUT/job/request")
      rm -f "$OUT/job/request"
      set -- $req
      case $1 in
        ana) reply=$(qmp "$DATA/qmp-$2.sock" x-nvmemu-set-ana-state "{\"group\":$3,\"state\":\"$4\"}") ;;
        kill) kill -KILL "$(pid "$2")"; wait "$(pid "$2")" 2>/dev/null || true; reply=killed ;;
        start) start "$2"; reply=started ;;
        restart) stop a; stop b; start a; start b; reply=restarted ;;
        *) reply="unknown request: $req" ;;
      esac
      echo "$(date +%T) $req -> $reply" >>"$OUT/requests.log"
      printf '%s\n' "$reply" >"$OUT/job/reply.tmp" && mv "$OUT/job/reply.tmp" "$OUT/job/reply"
    fi
    sleep 0.2
  done
}
serve &
SERVER=$!

SCRIPT=$ROOT/tests/guest/$([ "$MODE" = multipath ] && echo multipath-linux.sh || echo reservations-linux.sh)
rc=0
"$ROOT/../shared/tools/guest/run.sh" --out "$OUT" --file "$ROOT/../shared/tools/guest/examples/lib.sh" \
  --env NQN=nqn.2019-08.org.qemu:mpath --env MGMT_NQN=nqn.2019-08.org.qemu:mgmt \
  --env "PORT_A=${PORT[a]}" --env "PORT_B=${PORT[b]}" --env "PORT_M=$PORT_M" \
  --timeout 900 "$@" "$SCRIPT" || rc=$?
touch "$OUT/job/done"
wait "$SERVER" 2>/dev/null || true
stop a
stop b
[ -n "$MGMT" ] && { kill "$MGMT" 2>/dev/null; wait "$MGMT" 2>/dev/null || true; }
rm -rf "$WORK"
echo "guest exit status $rc; results in $OUT"
exit $rc
