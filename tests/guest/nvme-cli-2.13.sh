# Guest script (not run by CI) for the Debian 13 guest (Linux 6.12, nvme-cli 2.13): runs
# nvme-cli's id-ctrl, id-ns, cmdset-ind-id-ns, endurance-log, fdp and zns commands (JSON
# output where nvme-cli offers it) against every controller whose serial is fidelity-<config>
# (the configurations of tests/fidelity/configs.ts) and saves each output under
# results/<config>/ in the job share, with results/<config>/commands.tsv (exit status, name,
# command). The fdp controller gets a small placement workload first.
#
# FIO=1: afterwards, a fio write-and-verify pass (crc32c, 4 jobs of 4 MiB at queue depth 8;
# the zoned namespace 16 MiB sequentially with mq-deadline) on every namespace with a capacity,
# results/<config>/fio-<device>.txt.
#
# TRANSPORT=pcie (default): the controllers are PCI functions of the guest's own QEMU (QEMU
# 10.0's device: tests/guest/nvme-cli-2.13-qemu10.sh). TRANSPORT=tcp: the script connects to
# every subsystem the discovery controller at $HARNESS_HOST_IP:$DISC_PORT lists (nvmemu over
# NVMe/TCP) and asks the same questions. Boot with nvme_core.multipath=N so that namespace
# nvmeXnY belongs to controller nvmeX.
. ./lib.sh
HOST=${HARNESS_HOST_IP:-10.0.2.2}
TRANSPORT=${TRANSPORT:-pcie}
DISC_PORT=${DISC_PORT:-8009}
RESULTS=$PWD/results
mkdir -p "$RESULTS"

# rec DIR NAME CMD...: runs CMD, its stdout to DIR/NAME.json (.txt without -o json), stderr to
# DIR/NAME.err when there is any, and a line in DIR/commands.tsv; echoed in the transcript.
rec() {
  local dir=$1 name=$2 ext=txt rc
  shift 2
  case " $* " in *" -o json "*) ext=json ;; esac
  printf '\n$ %s\n' "$*"
  "$@" > "$dir/$name.$ext" 2> "$dir/$name.err"
  rc=$?
  cat "$dir/$name.$ext" "$dir/$name.err" | head -40
  [ -s "$dir/$name.err" ] || rm -f "$dir/$name.err"
  printf '%s\t%s\t%s\n' "$rc" "$name" "$*" >> "$dir/commands.tsv"
  _record "$rc" 0 "$*"
}

section "versions"
run cat /etc/harness-release
run uname -r
run nvme version

if [ "$TRANSPORT" = tcp ]; then
  section "connect (NVMe/TCP, discovery at $HOST:$DISC_PORT)"
  run modprobe nvme-tcp
  run nvme discover -t tcp -a "$HOST" -s "$DISC_PORT"
  run nvme connect-all -t tcp -a "$HOST" -s "$DISC_PORT"
  sleep 2
fi
run udevadm settle
run nvme list
nvme list -o json > "$RESULTS/nvme-list.json" 2>&1
nvme list-subsys -o json > "$RESULTS/nvme-list-subsys.json" 2>&1

# The fdp workload: events on, placed writes on handles 1 and 2, a RUH Update of handle 1.
fdp_workload() {
  local dir=$1 ns=$2
  rec "$dir" workload-set-events nvme fdp set-events "$ns" -n 1 -p 0 -t 0,1,2,3,0x80,0x81 -e
  rec "$dir" workload-set-events-ph1 nvme fdp set-events "$ns" -n 1 -p 1 -t 0,1,2,3,0x80,0x81 -e
  head -c 4096 /dev/zero | tr '\0' '\245' > /tmp/pattern
  rec "$dir" workload-write-pid1 nvme write "$ns" -s 0 -c 7 -z 4096 -d /tmp/pattern -T 2 -S 1
  rec "$dir" workload-write-pid0 nvme write "$ns" -s 8 -c 7 -z 4096 -d /tmp/pattern -T 2 -S 0
  rec "$dir" workload-write-unplaced nvme write "$ns" -s 16 -c 7 -z 4096 -d /tmp/pattern
  rec "$dir" workload-update-pid1 nvme fdp update "$ns" -n 1 -p 1
}

found=0
for sys in /sys/class/nvme/nvme*; do
  serial=$(tr -d ' ' < "$sys/serial")
  case "$serial" in fidelity-*) cfg=${serial#fidelity-} ;; *) continue ;; esac
  found=$((found + 1))
  c=/dev/$(basename "$sys")
  dir=$RESULTS/$cfg
  mkdir -p "$dir"
  : > "$dir/commands.tsv"
  section "$cfg: $c ($(cat "$sys/transport"), serial $serial)"
  rec "$dir" id-ctrl nvme id-ctrl "$c" -o json
  rec "$dir" nvm-id-ctrl nvme nvm-id-ctrl "$c" -o json
  rec "$dir" zns-id-ctrl nvme zns id-ctrl "$c" -o json
  rec "$dir" effects-log-csi0 nvme effects-log "$c" --csi=0 -o json
  rec "$dir" effects-log-csi2 nvme effects-log "$c" --csi=2 -o json
  rec "$dir" endurance-log nvme endurance-log "$c" -g 1 -o json
  rec "$dir" list-endgrp nvme list-endgrp "$c" -o json
  rec "$dir" fdp-configs nvme fdp configs "$c" -e 1 -o json
  rec "$dir" fdp-usage nvme fdp usage "$c" -e 1 -o json
  rec "$dir" fdp-stats nvme fdp stats "$c" -e 1 -o json
  rec "$dir" fdp-events-host nvme fdp events "$c" -e 1 -E -o json
  rec "$dir" fdp-events-ctrl nvme fdp events "$c" -e 1 -o json
  for nsdir in "$sys"/nvme*n[0-9]*; do
    [ -f "$nsdir/nsid" ] || continue
    nsid=$(cat "$nsdir/nsid")
    ns=/dev/$(basename "$nsdir")
    rec "$dir" "ns$nsid-id-ns" nvme id-ns "$ns" -o json
    rec "$dir" "ns$nsid-nvm-id-ns" nvme nvm-id-ns "$ns" -o json
    rec "$dir" "ns$nsid-cmdset-ind-id-ns" nvme cmdset-ind-id-ns "$ns" -o json
    rec "$dir" "ns$nsid-ns-descs" nvme ns-descs "$ns" -o json
    rec "$dir" "ns$nsid-zns-id-ns" nvme zns id-ns "$ns" -o json
    rec "$dir" "ns$nsid-zns-report-zones" nvme zns report-zones "$ns" -d 4 -o json
    rec "$dir" "ns$nsid-fdp-status" nvme fdp status "$ns" -o json
  done
  if [ "$cfg" = fdp ]; then
    # The block device of NSID 1 (the kernel names namespaces in scan order, not by NSID).
    ns1=
    for nsdir in "$sys"/nvme*n[0-9]*; do
      [ "$(cat "$nsdir/nsid" 2>/dev/null)" = 1 ] && ns1=/dev/$(basename "$nsdir")
    done
    section "$cfg: placement workload ($ns1)"
    fdp_workload "$dir" "$ns1"
    rec "$dir" after-fdp-stats nvme fdp stats "$c" -e 1 -o json
    rec "$dir" after-fdp-events-host nvme fdp events "$c" -e 1 -E -o json
    rec "$dir" after-fdp-events-ctrl nvme fdp events "$c" -e 1 -o json
    rec "$dir" after-fdp-usage nvme fdp usage "$c" -e 1 -o json
    rec "$dir" after-ns1-fdp-status nvme fdp status "$ns1" -o json
    rec "$dir" after-endurance-log nvme endurance-log "$c" -g 1 -o json
  fi
done

section "controllers found"
run test "$found" -gt 0

# fio_verify DIR NS: writes and verifies the namespace (zoned: per zone, mq-deadline).
fio_verify() {
  local dir=$1 ns=$2 name sectors zoned
  name=$(basename "$ns")
  sectors=$(cat "/sys/block/$name/size" 2>/dev/null || echo 0)
  if [ "$sectors" -eq 0 ]; then
    printf '\n%s: no capacity (skipped)\n' "$ns"
    return
  fi
  zoned=$(cat "/sys/block/$name/queue/zoned" 2>/dev/null || echo none)
  if [ "$zoned" = host-managed ]; then
    echo mq-deadline > "/sys/block/$name/queue/scheduler"
    rec "$dir" "fio-$name" fio --name="verify-$name" --filename="$ns" --direct=1 \
      --ioengine=libaio --zonemode=zbd --rw=write --bs=64k --iodepth=8 --size=16M \
      --verify=crc32c --verify_fatal=1 --do_verify=1 --output-format=terse
  else
    rec "$dir" "fio-$name" fio --name="verify-$name" --filename="$ns" --direct=1 \
      --ioengine=libaio --rw=randwrite --bs=4k --iodepth=8 --numjobs=4 --size=4M \
      --offset_increment=4M --verify=crc32c --verify_fatal=1 --do_verify=1 \
      --group_reporting --output-format=terse
  fi
}

if [ "${FIO:-0}" = 1 ]; then
  section "fio write and verify"
  for sys in /sys/class/nvme/nvme*; do
    serial=$(tr -d ' ' < "$sys/serial")
    case "$serial" in fidelity-*) cfg=${serial#fidelity-} ;; *) continue ;; esac
    for nsdir in "$sys"/nvme*n[0-9]*; do
      [ -f "$nsdir/nsid" ] || continue
      fio_verify "$RESULTS/$cfg" "/dev/$(basename "$nsdir")"
    done
  done
fi

if [ "$TRANSPORT" = tcp ]; then
  section "disconnect"
  run nvme disconnect-all
fi
finish
