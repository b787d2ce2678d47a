#!/bin/sh
# Host-side helper for the NVMe/TCP guest scripts (not run by CI; tests/guest/README.md).
# Usage: tests/guest/target-helper.sh JOBDIR -- NVMEMU-RUN-ARGS...
# Starts `nvmemu run NVMEMU-RUN-ARGS` (from build/, in the background) and serves requests a
# guest script makes through its job share (JOBDIR = the --out folder's job/ given to run.sh):
#   JOBDIR/restart-target  -> the target is stopped (SIGTERM) and started again with the same
#                             arguments; JOBDIR/target-restarted is created when it listens.
#   JOBDIR/hmp-request     -> each line is sent to the machine's HMP monitor (--data DIR's
#                             qmp.sock); the output goes to JOBDIR/hmp-reply (then the request
#                             file is removed).
# Stops the target and exits when JOBDIR/done appears or on SIGINT/SIGTERM.
set -u
JOB=$1; shift
[ "${1:-}" = "--" ] && shift
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DATA=./data
prev=""
for a in "$@"; do [ "$prev" = "--data" ] && DATA=$a; prev=$a; done
mkdir -p "$JOB"
pid=""
start() {
  node "$ROOT/build/src/cli/main.js" run "$@" >>"$JOB/../target.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 100); do grep -q '^Running' "$JOB/../target.log" 2>/dev/null && return 0; sleep 0.1; done
}
stop() { [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; pid=""; }
trap 'stop; exit 0' INT TERM
: >"$JOB/../target.log"
start "$@"
while [ ! -f "$JOB/done" ]; do
  if [ -f "$JOB/restart-target" ]; then
    rm -f "$JOB/restart-target"
    stop
    : >"$JOB/../target.log"
    start "$@"
    touch "$JOB/target-restarted"
  fi
  if [ -f "$JOB/hmp-request" ]; then
    node "$ROOT/build/src/cli/main.js" monitor "$DATA/qmp.sock" <"$JOB/hmp-request" >"$JOB/hmp-reply.tmp" 2>&1
    mv "$JOB/hmp-reply.tmp" "$JOB/hmp-reply"
    rm -f "$JOB/hmp-request"
  fi
  sleep 0.3
done
stop
