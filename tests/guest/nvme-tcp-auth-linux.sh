# Guest script (Debian 13: Linux 6.12, nvme-cli 2.13, tlshd) for issue 19, started by
# tests/guest/nvme-tcp-auth-linux-host.sh: the kernel's NVMe/TCP host against an nvmemu target
# that asks for DH-HMAC-CHAP and offers TLS 1.3 with a PSK (TLS "not required"), then the same
# commands against the guest's own nvmet for comparison. Environment: HOSTNQN NQN PORT
# DISC_PORT TLS_PORT (a second nvmemu target whose port requires TLS) HKEY CKEY WRONG_HKEY
# WRONG_CKEY PSK.
# shellcheck shell=bash disable=SC2016
. ./lib.sh
H=${HARNESS_HOST_IP:-10.0.2.2}
HOSTID=${HOSTNQN##*:uuid:}
ID=(-q "$HOSTNQN" --hostid="$HOSTID")

# The NVMe controller of subsystem $1 on transport address $2 (empty when none).
ctrl_of() {
  local c
  for c in /sys/class/nvme/nvme*; do
    [ -e "$c/subsysnqn" ] || continue
    [ "$(cat "$c/subsysnqn")" = "$1" ] && grep -q "traddr=$2," "$c/address" && basename "$c"
  done
  return 0
}
fio_verify() {
  run fio --name=verify --filename="$1" --direct=1 --ioengine=libaio --rw=randwrite --bs=4k \
    --iodepth=16 --size=32M --verify=crc32c --do_verify=1 --verify_fatal=1
}
# $1 address, $2 port; the rest: extra nvme connect options. Connect, show, fio, disconnect.
connect_and_use() {
  local addr=$1 port=$2 c
  shift 2
  run nvme connect -t tcp -a "$addr" -s "$port" -n "$NQN" "${ID[@]}" "$@"
  sleep 1
  c=$(ctrl_of "$NQN" "$addr")
  if [ -z "$c" ]; then
    echo "no controller for $NQN at $addr"
    HARNESS_FAILED=$((HARNESS_FAILED + 1))
    return 0
  fi
  sh_run "cat /sys/class/nvme/$c/address /sys/class/nvme/$c/state"
  sh_try "for f in tls_key tls_configured_key dhchap_secret dhchap_ctrl_secret; do [ -e /sys/class/nvme/$c/\$f ] && echo \"\$f present\"; done"
  fio_verify "/dev/${c}n1"
  run nvme disconnect -d "$c"
  sh_try 'dmesg -c | grep -iE "nvme|auth|tls" | tail -20'
}
# A connect that must fail: counted as a check when it does.
refused() {
  printf '\n$ ! nvme connect %s\n' "$*"
  if nvme connect "$@" 2>&1; then
    echo "[connected although it should not]"
    HARNESS_FAILED=$((HARNESS_FAILED + 1))
    HARNESS_FAILED_CMDS+=("refused nvme connect $*")
    nvme disconnect -n "$NQN" > /dev/null 2>&1
  else
    echo "[refused, as expected]"
    HARNESS_OK=$((HARNESS_OK + 1))
  fi
  sh_try 'dmesg -c | grep -iE "nvme|auth|tls" | tail -10'
}
start_tlshd() {
  printf '[debug]\nloglevel=7\ntls=7\nnl=7\n[authenticate]\nkeyrings=.nvme\n' > /tmp/tlshd.conf
  tlshd -c /tmp/tlshd.conf -s > /tmp/tlshd.log 2>&1 &
  sleep 1
}

section "setup"
printf '%s\n' "$HOSTNQN" > /etc/nvme/hostnqn
printf '%s\n' "$HOSTID" > /etc/nvme/hostid
run modprobe -a nvme-tcp nvme-auth nvme-keyring tls
run uname -r
run nvme version
dmesg -c > /dev/null

section "discovery: the subsystem, TREQ not required, SECTYPE tls13"
run nvme discover -t tcp -a "$H" -s "$DISC_PORT" "${ID[@]}"

section "nvmemu: DH-HMAC-CHAP, host authenticated (--dhchap-secret)"
connect_and_use "$H" "$PORT" --dhchap-secret="$HKEY"

section "nvmemu: bidirectional (--dhchap-ctrl-secret)"
connect_and_use "$H" "$PORT" --dhchap-secret="$HKEY" --dhchap-ctrl-secret="$CKEY"

section "nvmemu: re-authentication (a key written to dhchap_secret)"
run nvme connect -t tcp -a "$H" -s "$PORT" -n "$NQN" "${ID[@]}" --dhchap-secret="$HKEY"
sleep 1
c=$(ctrl_of "$NQN" "$H")
sh_run "echo -n '$HKEY' > /sys/class/nvme/$c/dhchap_secret"
sleep 3
sh_run 'dmesg -c | grep -iE "nvme|auth" | tail -20'
fio_verify "/dev/${c}n1"
run nvme disconnect -d "$c"

section "nvmemu: refusals"
refused -t tcp -a "$H" -s "$PORT" -n "$NQN" "${ID[@]}" --dhchap-secret="$WRONG_HKEY"
refused -t tcp -a "$H" -s "$PORT" -n "$NQN" "${ID[@]}" --dhchap-secret="$HKEY" --dhchap-ctrl-secret="$WRONG_CKEY"
refused -t tcp -a "$H" -s "$PORT" -n "$NQN" "${ID[@]}"
refused -t tcp -a "$H" -s "$PORT" -n "$NQN" -q nqn.2014-08.org.nvmexpress:uuid:00000000-0000-0000-0000-00000000dead --dhchap-secret="$HKEY"

section "nvmemu: TLS 1.3 (tlshd, nvme connect --tls --tls-key)"
start_tlshd
connect_and_use "$H" "$PORT" --tls --tls-key="$PSK" --dhchap-secret="$HKEY"
sh_try 'keyctl show %:.nvme'
sh_try 'grep -iE "session description|psk|identity|error|fail" /tmp/tlshd.log | tail -20'

section "nvmemu: TLS with the key in the keyring (check-tls-key --insert, then --tls)"
run nvme check-tls-key --keydata="$PSK" --hostnqn="$HOSTNQN" --subsysnqn="$NQN" --identity=0 --insert
sh_try 'keyctl show %:.nvme'
connect_and_use "$H" "$PORT" --tls --dhchap-secret="$HKEY"
sh_try 'grep -iE "session description|error|fail" /tmp/tlshd.log | tail -10'

section "nvmemu: TLS with a wrong key is refused"
WRONG_PSK=$(nvme gen-tls-key --hmac=1 2> /dev/null | tail -1)
refused -t tcp -a "$H" -s "$PORT" -n "$NQN" "${ID[@]}" --tls --tls-key="$WRONG_PSK" --dhchap-secret="$HKEY"

section "nvmemu: a port that requires TLS"
connect_and_use "$H" "$TLS_PORT" --tls --tls-key="$PSK" --dhchap-secret="$HKEY"
refused -t tcp -a "$H" -s "$TLS_PORT" -n "$NQN" "${ID[@]}" --dhchap-secret="$HKEY"

section "the guest's own nvmet with the same keys (127.0.0.1:4420 plain, :4421 TLS required)"
run modprobe -a nvmet nvmet-tcp
C=/sys/kernel/config/nvmet
truncate -s 256M /tmp/nvmet.img
sh_run "mkdir $C/hosts/$HOSTNQN"
sh_run "echo -n '$HKEY' > $C/hosts/$HOSTNQN/dhchap_key"
sh_run "echo -n '$CKEY' > $C/hosts/$HOSTNQN/dhchap_ctrl_key"
sh_run "echo 'hmac(sha256)' > $C/hosts/$HOSTNQN/dhchap_hash"
sh_run "echo ffdhe2048 > $C/hosts/$HOSTNQN/dhchap_dhgroup"
sh_run "mkdir $C/subsystems/$NQN && echo 0 > $C/subsystems/$NQN/attr_allow_any_host"
sh_run "ln -s $C/hosts/$HOSTNQN $C/subsystems/$NQN/allowed_hosts/$HOSTNQN"
sh_run "mkdir $C/subsystems/$NQN/namespaces/1 && echo -n /tmp/nvmet.img > $C/subsystems/$NQN/namespaces/1/device_path && echo 1 > $C/subsystems/$NQN/namespaces/1/enable"
sh_run "mkdir $C/ports/1 && cd $C/ports/1 && echo tcp > addr_trtype && echo ipv4 > addr_adrfam && echo 127.0.0.1 > addr_traddr && echo 4420 > addr_trsvcid && ln -s $C/subsystems/$NQN subsystems/$NQN"
sh_run "mkdir $C/ports/2 && cd $C/ports/2 && echo tcp > addr_trtype && echo ipv4 > addr_adrfam && echo 127.0.0.1 > addr_traddr && echo 4421 > addr_trsvcid && echo tls1.3 > addr_tsas && echo required > addr_treq && ln -s $C/subsystems/$NQN subsystems/$NQN"
connect_and_use 127.0.0.1 4420 --dhchap-secret="$HKEY"
connect_and_use 127.0.0.1 4420 --dhchap-secret="$HKEY" --dhchap-ctrl-secret="$CKEY"
refused -t tcp -a 127.0.0.1 -s 4420 -n "$NQN" "${ID[@]}" --dhchap-secret="$WRONG_HKEY"
refused -t tcp -a 127.0.0.1 -s 4420 -n "$NQN" "${ID[@]}" --dhchap-secret="$HKEY" --dhchap-ctrl-secret="$WRONG_CKEY"
refused -t tcp -a 127.0.0.1 -s 4420 -n "$NQN" "${ID[@]}"
connect_and_use 127.0.0.1 4421 --tls --tls-key="$PSK" --dhchap-secret="$HKEY"
refused -t tcp -a 127.0.0.1 -s 4421 -n "$NQN" "${ID[@]}" --dhchap-secret="$HKEY"
sh_try 'grep -iE "session description|error|fail" /tmp/tlshd.log | tail -10'
finish
