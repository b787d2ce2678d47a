# Guest script (not run by CI): the less common paths of the Linux 6.1 NVMe/TCP host against
# `nvmemu run` — header and data digests, many/deep I/O queues, transfers beyond MDTS, discard /
# write zeroes / flush, controller reset, a persistent discovery controller with Keep Alive,
# connect-all, and the host's error recovery when the target process is restarted under it.
# Same target as tests/guest/nvme-tcp-linux.sh. The restart step needs a host-side helper that
# watches the job share: when "$HARNESS_JOB/restart-target" appears it restarts the target and
# creates "$HARNESS_JOB/target-restarted" (see tests/guest/README.md). Without it (RESTART=0)
# the step is skipped.
. ./lib.sh
HOST=${HARNESS_HOST_IP:-10.0.2.2}
PORT=${PORT:-4420}
DISC_PORT=${DISC_PORT:-8009}
RESTART=${RESTART:-1}
JOB=${HARNESS_JOB:-.}

first_ns() { nvme list -o json | jq -r '[.Devices[].DevicePath] | sort | .[0]'; }
wait_live() { # wait_live CTRL SECONDS: until /sys/class/nvme/CTRL/state is "live"
  local i
  for i in $(seq 1 "$2"); do
    [ "$(cat /sys/class/nvme/"$1"/state 2>/dev/null)" = live ] && { echo "$1 live after ${i}s"; return 0; }
    sleep 1
  done
  echo "$1 not live after $2 s: $(cat /sys/class/nvme/"$1"/state 2>/dev/null)"
  return 1
}
verify_fio() { # verify_fio NAME DEV BS SECONDS [extra fio args]: randrw with crc32c verification
  local name=$1 dev=$2 bs=$3 secs=$4
  shift 4
  run fio --name="$name" --filename="$dev" --direct=1 --ioengine=libaio --rw=randrw --bs="$bs" \
    --iodepth=32 --numjobs=2 --offset_increment=32M --size=32M --verify=crc32c \
    --verify_backlog=128 --verify_fatal=1 --runtime="$secs" --time_based=1 --group_reporting "$@"
}
settle_disconnect() { sh_try "udevadm settle"; run nvme disconnect -n "$NQN"; }

run modprobe nvme-tcp

section "header and data digests (-g -G)"
run nvme connect -t tcp -a "$HOST" -s "$PORT" -n "$NQN" -g -G
sleep 1
dev=$(first_ns)
verify_fio digests "$dev" 4k 15
verify_fio digests128k "$dev" 128k 15
settle_disconnect

section "SQ flow control disabled (-d): reads complete with C2HData SUCCESS, no CapsuleResp"
run nvme connect -t tcp -a "$HOST" -s "$PORT" -n "$NQN" -d
sleep 1
dev=$(first_ns)
verify_fio sqflow "$dev" 4k 15
verify_fio sqflow128k "$dev" 128k 10
settle_disconnect

section "4 I/O queues of 1024 entries (-i 4 -Q 1024), iodepth 256"
run nvme connect -t tcp -a "$HOST" -s "$PORT" -n "$NQN" -i 4 -Q 1024
sleep 1
sh_run "cat /sys/class/nvme/nvme0/queue_count /sys/class/nvme/nvme0/sqsize"
dev=$(first_ns)
verify_fio deep "$dev" 4k 15 --iodepth=256
sh_try "dmesg | grep -iE 'nvme' | tail -5"

section "transfers beyond MDTS (1 MiB and 4 MiB blocks; the kernel splits them)"
run cat /sys/block/"$(basename "$dev")"/queue/max_hw_sectors_kb
run fio --name=big --filename="$dev" --direct=1 --ioengine=libaio --rw=randwrite --bs=1M \
  --iodepth=8 --size=64M --verify=crc32c --do_verify=1 --verify_fatal=1
run fio --name=huge --filename="$dev" --direct=1 --ioengine=libaio --rw=write --bs=4M \
  --iodepth=4 --offset=64M --size=64M --verify=crc32c --do_verify=1 --verify_fatal=1

section "discard, write zeroes, flush, compare"
ctrl=/dev/$(basename "$dev" | sed 's/n[0-9]*$//')
run blkdiscard -o 0 -l 1048576 "$dev"
run blkdiscard -z -o 1048576 -l 1048576 "$dev"
sh_run "dd if=$dev bs=1M skip=1 count=1 iflag=direct status=none | cmp - /dev/zero -n 1048576 && echo 'write zeroes read back as zeroes'"
# (on the namespace: the kernel refuses I/O passthrough on a controller with several namespaces)
run nvme flush "$dev"
run nvme write-zeroes "$dev" -s 4096 -c 7
run nvme dsm "$dev" -d -s 8192 -b 8
sh_run "head -c 4096 /dev/urandom > blk && nvme write $dev -s 100 -c 7 -z 4096 -d blk && nvme compare $dev -s 100 -c 7 -z 4096 -d blk"
run nvme read "$dev" -s 100 -c 7 -z 4096 -d blk.back
run cmp blk blk.back

section "controller reset (nvme reset: CC.EN=0, then a new association)"
run nvme reset "$ctrl"
run wait_live "$(basename "$ctrl")" 30
verify_fio after-reset "$dev" 4k 10
settle_disconnect

section "persistent discovery controller with Keep Alive, and connect-all"
run nvme discover -t tcp -a "$HOST" -s "$DISC_PORT" -p -k 2
sh_run "ls /sys/class/nvme/ && cat /sys/class/nvme/nvme*/subsysnqn"
sleep 8
sh_run "for c in /sys/class/nvme/nvme*; do echo \"\$c: \$(cat \$c/subsysnqn) \$(cat \$c/state)\"; done"
# The log names the address the target listens on (127.0.0.1 here), which the guest cannot
# reach through QEMU's user networking: connect-all is expected to fail to connect.
try nvme connect-all -t tcp -a "$HOST" -s "$DISC_PORT"
sh_try "nvme disconnect-all"
sleep 1
sh_run "test -z \"\$(ls /sys/class/nvme/ 2>/dev/null)\" && echo 'no nvme controllers left'"

if [ "$RESTART" = 1 ]; then
  section "target restarted under a live connection (host error recovery, reconnect)"
  run nvme connect -t tcp -a "$HOST" -s "$PORT" -n "$NQN" -c 2 -l 120
  sleep 1
  dev=$(first_ns)
  run fio --name=before --filename="$dev" --direct=1 --ioengine=libaio --rw=write --bs=128k \
    --size=16M --offset=200M --verify=crc32c --do_verify=0
  rm -f "$JOB/target-restarted"
  touch "$JOB/restart-target"
  for i in $(seq 1 60); do [ -f "$JOB/target-restarted" ] && break; sleep 1; done
  run test -f "$JOB/target-restarted"
  sleep 3
  run wait_live nvme0 60
  sh_try "dmesg | grep -iE 'nvme' | tail -12"
  run fio --name=before --filename="$dev" --direct=1 --ioengine=libaio --rw=write --bs=128k \
    --size=16M --offset=200M --verify=crc32c --verify_only=1
  verify_fio after-restart "$dev" 4k 10
  settle_disconnect
fi
sh_try "dmesg | grep -iE 'nvme|error' | tail -40"
finish
