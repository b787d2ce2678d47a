#!/usr/bin/env bash
# nvme-tcp-auth-linux-host.sh - issue 19 against a real peer: serves one subsystem from
# `nvmemu run` with DH-HMAC-CHAP keys and a TLS PSK for one host (x-nvmemu-host, nvme-subsys
# x-hosts) on an I/O port with TLS "not required" (and a second target whose port requires
# TLS), boots the Debian 13 guest (Linux 6.12,
# nvme-cli 2.13, tlshd) and runs tests/guest/nvme-tcp-auth-linux.sh, which connects to it with
# the right keys, the wrong ones and none, over TLS, and repeats the same commands against the
# guest's own nvmet. Not run by CI; needs root and the trixie guest
# (../shared/tools/guest/build.sh --suite trixie). From the project root, after npm run build:
#
#   tests/guest/nvme-tcp-auth-linux-host.sh [OUT-DIR]
#
# The keys are made with `nvmemu nvme gen-dhchap-key` / `gen-tls-key` for this run; the target
# reads them from files (mode 0600) through `-object secret,file=`.
set -euo pipefail
cd "$(dirname "$0")/../.."
GUEST_TOOLS=${GUEST_TOOLS:-$(cd .. && pwd)/shared/tools/guest}
PORT=${PORT:-24430}
DISC_PORT=${DISC_PORT:-24431}
TLS_PORT=${TLS_PORT:-24432}
WORK=$(mktemp -d /tmp/auth-linux-XXXXXX)
OUT=${1:-$WORK/out}
NVMEMU=(node build/src/cli/main.js)
HOSTNQN=nqn.2014-08.org.nvmexpress:uuid:5f1c2b3a-0d4e-4f60-8a7b-9c0d1e2f3a4b
NQN=nqn.2019-08.org.qemu:secure
HKEY=$("${NVMEMU[@]}" nvme gen-dhchap-key --hmac=1 --nqn="$HOSTNQN")
CKEY=$("${NVMEMU[@]}" nvme gen-dhchap-key --hmac=2 --nqn="$NQN")
WRONG_HKEY=$("${NVMEMU[@]}" nvme gen-dhchap-key --hmac=1 --nqn="$HOSTNQN")
WRONG_CKEY=$("${NVMEMU[@]}" nvme gen-dhchap-key --hmac=2 --nqn="$NQN")
PSK=$("${NVMEMU[@]}" nvme gen-tls-key --hmac=1)
umask 077
printf '%s' "$HKEY" > "$WORK/host.dhchap"
printf '%s' "$CKEY" > "$WORK/ctrl.dhchap"
printf '%s' "$PSK" > "$WORK/host.psk"
# nvme-cli 2.13 (libnvme 1.13) inserts --tls-key with the libnvme-compat derivation.
serve() { # DATA-DIR PORT TLS-MODE DISCOVERY
  truncate -s 256M "$1.img"
  "${NVMEMU[@]}" run \
    -object "secret,id=hk,file=$WORK/host.dhchap" \
    -object "secret,id=ck,file=$WORK/ctrl.dhchap" \
    -object "secret,id=psk,file=$WORK/host.psk" \
    -object "x-nvmemu-host,id=h1,nqn=$HOSTNQN,dhchap-secret=hk,dhchap-ctrl-secret=ck,dhchap-dhgroups=ffdhe2048:null,tls-psk=psk,tls-psk-derivation=libnvme-compat" \
    -drive "file=$1.img,if=none,id=d0,format=raw" \
    -device nvme-subsys,id=s0,nqn=secure,x-hosts=h1 \
    -device nvme,id=c0,serial=sec0,subsys=s0 \
    -device nvme-ns,drive=d0,nsid=1 \
    --data "$1" --listen "127.0.0.1:$2" --discovery "$4" --advertise 10.0.2.2 \
    --nvme-tcp "tls=$3"
}
serve "$WORK/a" "$PORT" not-required "$DISC_PORT" > "$WORK/target.log" 2>&1 &
target=$!
serve "$WORK/b" "$TLS_PORT" required none > "$WORK/target-tls.log" 2>&1 &
target2=$!
trap 'kill "$target" "$target2" 2>/dev/null || true' EXIT
for log in "$WORK/target.log" "$WORK/target-tls.log"; do
  for _ in $(seq 1 100); do grep -q '^Running' "$log" && break; sleep 0.1; done
  grep -q '^Running' "$log" || { cat "$log" >&2; exit 1; }
done
rc=0
"$GUEST_TOOLS/run.sh" --suite trixie --quiet --timeout 1500 --append nvme_core.multipath=N \
  --file "$GUEST_TOOLS/examples/lib.sh" \
  --env "HOSTNQN=$HOSTNQN" --env "NQN=$NQN" --env "PORT=$PORT" --env "DISC_PORT=$DISC_PORT" \
  --env "TLS_PORT=$TLS_PORT" \
  --env "HKEY=$HKEY" --env "CKEY=$CKEY" --env "WRONG_HKEY=$WRONG_HKEY" \
  --env "WRONG_CKEY=$WRONG_CKEY" --env "PSK=$PSK" \
  --out "$OUT" tests/guest/nvme-tcp-auth-linux.sh || rc=$?
kill "$target" "$target2" 2>/dev/null || true
wait "$target" "$target2" 2>/dev/null || true
cp "$WORK/target.log" "$WORK/target-tls.log" "$OUT/"
echo "run folder: $OUT (exit $rc); target log: $OUT/target.log"
exit "$rc"
