# Guest script (not run by CI): zoned writes at queue depth > 1 over NVMe/TCP, with the I/O
# scheduler "none" and with "mq-deadline" (docs/zns.md "Zoned over NVMe/TCP"). Two targets:
# nvmemu's zoned namespace ($NQN on $HARNESS_HOST_IP:$PORT) and, for comparison, Linux's own
# nvmet serving a zoned null_blk device over nvmet-tcp on 127.0.0.1 inside the guest. For the
# Debian 13 guest (Linux 6.12) or the Debian 12 guest (Linux 6.1); host side:
#   node build/src/cli/main.js run -drive file=z.img,if=none,id=z,format=raw \
#     -device nvme,id=z,serial=zoned-tcp -device nvme-ns,drive=z,nsid=1,zoned=on,zoned.zone_size=8M \
#     --listen 127.0.0.1:14431 &            # z.img: 64 MiB
#   ../shared/tools/guest/run.sh --suite trixie --file ../shared/tools/guest/examples/lib.sh \
#     --env NQN=nqn.2019-08.org.qemu:zoned-tcp --env PORT=14431 tests/guest/zoned-tcp-scheduler.sh
. ./lib.sh
HOST=${HARNESS_HOST_IP:-10.0.2.2}
PORT=${PORT:-4420}

# zoned_writes DEV SCHED: the scheduler SCHED on the device's request queue(s) (with native
# multipath the head node nvmeXnZ is bio-based: its paths nvmeXcYnZ have the queues), every
# zone reset, then fio writes the first 4 zones sequentially with 64 KiB writes at queue depth
# 16 (fio's zbd mode keeps each write at the write pointer).
zoned_writes() {
  local dev=$1 sched=$2 b q paths
  b=$(basename "$dev")
  paths=$(echo "$b" | sed 's/^\(nvme[0-9]*\)n\([0-9]*\)$/\1c*n\2/')
  for q in /sys/block/"$b"/queue /sys/class/block/$paths/queue; do
    [ -f "$q/scheduler" ] || continue
    sh_try "echo $sched > $q/scheduler; echo $q: \$(cat $q/scheduler)"
  done
  sh_try "cat /sys/block/$b/queue/zoned /sys/block/$b/queue/nr_zones"
  run blkzone reset "$dev"
  dmesg -C
  try fio --name="zoned-$sched" --filename="$dev" --direct=1 --ioengine=libaio --rw=write \
    --bs=64k --iodepth=16 --zonemode=zbd --size=32M
  echo "kernel messages:"
  dmesg | grep -iE 'nvme|zone|I/O error|blk_update' | head -20
  try blkzone report -c 5 "$dev"
}

section "versions"
run uname -r
run fio --version
run nvme version

section "nvmemu over NVMe/TCP"
run modprobe nvme-tcp
run nvme connect -t tcp -a "$HOST" -s "$PORT" -n "$NQN"
sleep 2
run udevadm settle
run lsblk -o NAME,ZONED,SIZE
dev=$(lsblk -dno NAME,ZONED | awk '$1 ~ /^nvme/ && $2=="host-managed" {print "/dev/" $1; exit}')
echo "zoned namespace: $dev"
if [ -n "$dev" ]; then
  zoned_writes "$dev" none
  zoned_writes "$dev" mq-deadline
fi
run nvme disconnect -n "$NQN"

section "Linux nvmet over NVMe/TCP (zoned null_blk, 127.0.0.1)"
mountpoint -q /sys/kernel/config || mount -t configfs none /sys/kernel/config
run modprobe null_blk nr_devices=0
nb=/sys/kernel/config/nullb/nullb0
sh_run "mkdir $nb && echo 4096 > $nb/blocksize && echo 64 > $nb/size && echo 1 > $nb/zoned && echo 8 > $nb/zone_size && echo 1 > $nb/memory_backed && echo 1 > $nb/power"
run modprobe nvmet-tcp
t=/sys/kernel/config/nvmet
sh_run "mkdir $t/subsystems/zt && echo 1 > $t/subsystems/zt/attr_allow_any_host && mkdir $t/subsystems/zt/namespaces/1 && echo /dev/nullb0 > $t/subsystems/zt/namespaces/1/device_path && echo 1 > $t/subsystems/zt/namespaces/1/enable"
sh_run "mkdir $t/ports/1 && echo tcp > $t/ports/1/addr_trtype && echo ipv4 > $t/ports/1/addr_adrfam && echo 127.0.0.1 > $t/ports/1/addr_traddr && echo 4420 > $t/ports/1/addr_trsvcid && ln -s $t/subsystems/zt $t/ports/1/subsystems/zt"
run nvme connect -t tcp -a 127.0.0.1 -s 4420 -n zt
sleep 2
run udevadm settle
run lsblk -o NAME,ZONED,SIZE
dev=$(lsblk -dno NAME,ZONED | awk '$1 ~ /^nvme/ && $2=="host-managed" {print "/dev/" $1; exit}')
echo "zoned namespace: $dev"
if [ -n "$dev" ]; then
  zoned_writes "$dev" none
  zoned_writes "$dev" mq-deadline
fi
run nvme disconnect -n zt
finish
