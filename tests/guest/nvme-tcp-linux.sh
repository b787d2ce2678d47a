# Guest script (not run by CI): the Linux 6.1 NVMe/TCP host, nvme-cli and fio against
# `nvmemu run` (issue 4, docs/nvme-tcp.md "What the Linux 6.1 guest showed"). The target must
# serve subsystem $NQN with two controllers (same subsys, same serial) and at least one shared
# namespace of >= 256 MiB as nsid 1, on $PORT, with discovery on $DISC_PORT. From the project root:
#   node build/src/cli/main.js run -drive file=ns1.img,if=none,id=d1,format=raw \
#     -device nvme-subsys,id=s0,nqn=s0 -device nvme,id=c0,serial=s0ser,subsys=s0 \
#     -device nvme,id=c1,serial=s0ser,subsys=s0 -device nvme-ns,drive=d1,nsid=1 \
#     --listen 127.0.0.1:14420 --discovery 18009 &
#   ../shared/tools/guest/run.sh --file ../shared/tools/guest/examples/lib.sh \
#     --env NQN=nqn.2019-08.org.qemu:s0 --env PORT=14420 --env DISC_PORT=18009 \
#     [--env FIO_RUNTIME=60] tests/guest/nvme-tcp-linux.sh
. ./lib.sh
HOST=${HARNESS_HOST_IP:-10.0.2.2}
PORT=${PORT:-4420}
DISC_PORT=${DISC_PORT:-8009}
FIO_RUNTIME=${FIO_RUNTIME:-60}

ctrl_of() { # the controller character device of a namespace block device: /dev/nvme0n1 -> nvme0
  basename "$1" | sed 's/n[0-9]*$//'
}

fabrics_add() { # writes a kernel option string to /dev/nvme-fabrics and prints its answer
  local opts=$1
  [ -f /etc/nvme/hostnqn ] && opts="$opts,hostnqn=$(cat /etc/nvme/hostnqn)"
  [ -f /etc/nvme/hostid ] && opts="$opts,hostid=$(cat /etc/nvme/hostid)"
  echo "options: $opts"
  exec 3<>/dev/nvme-fabrics || return 1
  echo "$opts" >&3 || { exec 3>&-; return 1; }
  cat <&3
  exec 3>&-
}

section "discovery"
run modprobe nvme-tcp
run nvme discover -t tcp -a "$HOST" -s "$DISC_PORT"
run nvme discover -t tcp -a "$HOST" -s "$DISC_PORT" -o json

section "connect (one controller)"
run nvme connect -t tcp -a "$HOST" -s "$PORT" -n "$NQN"
sleep 2
run nvme list
dev=$(nvme list -o json | jq -r '[.Devices[].DevicePath] | sort | .[0]')
ctrl=/dev/$(ctrl_of "$dev")
echo "namespace device: $dev, controller: $ctrl"
run nvme list-subsys
run nvme id-ctrl "$ctrl"
run nvme id-ns "$dev"
run nvme ns-descs "$dev"
run nvme list-ns "$ctrl"
run nvme smart-log "$ctrl"
run nvme error-log "$ctrl" -e 4
# Without --csi nvme-cli 2.3 reads CAP from the PCI BAR only and prints nothing over fabrics.
run nvme effects-log "$ctrl" --csi=0
run nvme fw-log "$ctrl"
run nvme get-log "$ctrl" -i 2 -l 512
run nvme get-feature "$ctrl" -f 7
run nvme get-feature "$ctrl" -f 0x0f
run nvme show-regs "$ctrl"
sh_try "cat /sys/class/nvme/$(ctrl_of "$dev")/{transport,address,cntlid,state,queue_count,sqsize,kato}"

section "fio: randrw 4k + 128k, iodepth 32, 4 jobs, verify=crc32c, ${FIO_RUNTIME}s"
# Each job owns a disjoint 32 MiB region so that verification never sees another job's writes.
cat > verify.fio <<JOB
[global]
filename=$dev
direct=1
ioengine=libaio
rw=randrw
iodepth=32
verify=crc32c
verify_backlog=256
verify_fatal=1
do_verify=1
runtime=$FIO_RUNTIME
time_based=1
size=32M
group_reporting=0

[rand4k]
bs=4k
numjobs=2
offset=0
offset_increment=32M

[rand128k]
bs=128k
numjobs=2
offset=128M
offset_increment=32M
JOB
run cat verify.fio
run fio --output-format=normal verify.fio
sh_try "dmesg | grep -iE 'nvme|I/O error|blk_update' | tail -20"

section "fio: full-region write then verify (every block read back and checked)"
run fio --name=wv4k --filename="$dev" --direct=1 --ioengine=libaio --rw=randwrite --bs=4k \
  --iodepth=32 --numjobs=2 --offset=64M --offset_increment=16M --size=16M --verify=crc32c \
  --do_verify=1 --verify_fatal=1
run fio --name=wv128k --filename="$dev" --direct=1 --ioengine=libaio --rw=randwrite --bs=128k \
  --iodepth=32 --numjobs=2 --offset=192M --offset_increment=32M --size=32M --verify=crc32c \
  --do_verify=1 --verify_fatal=1

section "disconnect (one controller)"
# Let udev finish probing the namespaces fio closed, so no read races the removal.
sh_try "udevadm settle"
run nvme disconnect -n "$NQN"
sleep 1
sh_run "test -z \"\$(ls /sys/class/nvme/ 2>/dev/null)\" && echo 'no nvme controllers left'"

section "multipath: two controllers of one subsystem"
run nvme connect -t tcp -a "$HOST" -s "$PORT" -n "$NQN"
# Same address, port and NQN again: nvme-cli 2.3 answers "already connected" even with -D, so
# the second path is asked of the kernel directly, with its duplicate_connect option.
try nvme connect -t tcp -a "$HOST" -s "$PORT" -n "$NQN" -D
run fabrics_add "transport=tcp,traddr=$HOST,trsvcid=$PORT,nqn=$NQN,duplicate_connect"
sleep 2
run nvme list
run nvme list-subsys
run nvme list-subsys -o json
sh_run "ls /sys/class/nvme-subsystem/ && ls /sys/class/nvme-subsystem/*/"
sh_run "for f in /sys/class/nvme-subsystem/*/{subsysnqn,iopolicy,model,serial}; do echo \"\$f: \$(cat \$f)\"; done"
sh_run "for c in /sys/class/nvme/nvme*; do echo \"\$c: cntlid=\$(cat \$c/cntlid) state=\$(cat \$c/state)\"; done"
sh_try "ls /sys/block/"
mdev=$(nvme list -o json | jq -r '[.Devices[].DevicePath] | sort | .[0]')
run fio --name=mpath --filename="$mdev" --direct=1 --ioengine=libaio --rw=randrw --bs=4k \
  --iodepth=32 --numjobs=2 --offset_increment=32M --size=32M --verify=crc32c --verify_fatal=1 \
  --runtime=15 --time_based=1
sh_try "udevadm settle"
run nvme disconnect -n "$NQN"
sleep 1
sh_run "test -z \"\$(ls /sys/class/nvme/ 2>/dev/null)\" && echo 'no nvme controllers left'"
sh_try "dmesg | grep -iE 'nvme' | tail -40"
finish
