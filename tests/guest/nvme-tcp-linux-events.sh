# Guest script (not run by CI): namespace hot-plug seen by the Linux 6.1 NVMe/TCP host — the
# namespace-attribute-changed AEN travels over the fabrics admin queue, the kernel reads the
# Changed Namespace List (log 04h), rescans and adds/removes the block device. Needs
# tests/guest/target-helper.sh on the host (it forwards HMP lines written to the job share) and
# NS_IMG, a raw image file on the host that is not in use (64 MiB or more).
. ./lib.sh
HOST=${HARNESS_HOST_IP:-10.0.2.2}
PORT=${PORT:-4420}
JOB=${HARNESS_JOB:-.}
NEW_NSID=${NEW_NSID:-3}

hmp() { # hmp LINE...: run HMP lines on the target's monitor, print the reply
  rm -f "$JOB/hmp-reply"
  printf '%s\n' "$@" >"$JOB/hmp-request.tmp" && mv "$JOB/hmp-request.tmp" "$JOB/hmp-request"
  for _ in $(seq 1 60); do [ -f "$JOB/hmp-reply" ] && { cat "$JOB/hmp-reply"; return 0; }; sleep 0.5; done
  echo "no reply from the host helper"; return 1
}
# The kernel names a namespace's block device by instance, in the order it finds them, not by
# NSID (NSID 3 after NSID 1 is nvme0n2): find it through sysfs.
ns_dev() { # ns_dev NSID: the block device of that namespace of nvme0, if any
  local d
  for d in /sys/block/nvme0n*; do
    [ -e "$d/nsid" ] && [ "$(cat "$d/nsid")" = "$1" ] && { echo "/dev/${d##*/}"; return 0; }
  done
  return 1
}
wait_for() { # wait_for SECONDS TEST...: poll until TEST succeeds
  local secs=$1 i; shift
  for i in $(seq 1 "$secs"); do "$@" && { echo "after ${i}s: $*"; return 0; }; sleep 1; done
  echo "not within ${secs}s: $*"; return 1
}

run modprobe nvme-tcp
run nvme connect -t tcp -a "$HOST" -s "$PORT" -n "$NQN"
sleep 1
run nvme list
run nvme list-ns /dev/nvme0

section "hot-add nvme-ns $NEW_NSID on the target"
run hmp "drive_add 0 if=none,file=$NS_IMG,id=hotdrv,format=raw" \
  "device_add nvme-ns,id=hotns,drive=hotdrv,nsid=$NEW_NSID"
run wait_for 30 ns_dev $NEW_NSID
DEV=$(ns_dev $NEW_NSID)
run nvme list
run nvme list-ns /dev/nvme0
run nvme get-log /dev/nvme0 -i 4 -l 64
# (only on the block device: fio would create a regular file under /dev otherwise)
if [ -n "$DEV" ] && [ -b "$DEV" ]; then
  run fio --name=hot --filename="$DEV" --direct=1 --ioengine=libaio --rw=randrw \
    --bs=4k --iodepth=32 --size=32M --verify=crc32c --verify_fatal=1 --runtime=10 --time_based=1
fi
sh_try "udevadm settle"

section "hot-remove it"
run hmp "device_del hotns"
run wait_for 30 eval "! ns_dev $NEW_NSID"
run nvme list
run hmp "info status"
sh_try "dmesg | grep -iE 'nvme' | tail -15"
run nvme disconnect -n "$NQN"
touch "$JOB/done"
finish
