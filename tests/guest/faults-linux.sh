# Guest script: the Linux NVMe/TCP host against fault injection (docs/faults.md "What the Linux
# 6.1 guest showed"). The host side (tests/guest/faults-linux-host.sh) injects a read defect at
# $LBA before the guest connects, and drops the connections (path-loss, 5 s) ~10 s after it has.
# Expects: the read of sector $LBA fails with "critical medium error" on that sector (dev
# nvme0n1 with nvme_core.multipath=N, its path device nvme0c0n1 otherwise), other sectors read,
# the host reconnects after the path loss and the defect is still there.
. ./lib.sh
HOST=${HARNESS_HOST_IP:-10.0.2.2}
section "connect"
run modprobe nvme-tcp
run nvme connect -t tcp -a $HOST -s $PORT -n "$NQN" --reconnect-delay=2 --ctrl-loss-tmo=120
sleep 2
run nvme list
dev=/dev/nvme0n1
section "media error (injected by the host: read defect at LBA $LBA, 8 blocks)"
sh_run "! dd if=$dev of=/dev/null bs=512 skip=$LBA count=1 iflag=direct"
sh_run "dmesg | grep -E 'critical medium error, dev nvme0(c0)?n1, sector $LBA'"
sh_try "dmesg | grep -iE 'nvme0|I/O error|medium' | tail -8"
run dd if=$dev of=/dev/null bs=512 skip=0 count=8 iflag=direct
section "path loss (the host drops the connection ~10 s after connect)"
ok=0
for i in $(seq 1 120); do
  if dmesg | grep -qE 'nvme0: Successfully reconnected'; then ok=1; break; fi
  sleep 1
done
sh_try "dmesg | grep -E 'nvme0' | tail -12"
sh_run "[ $ok = 1 ]"
sleep 1
run dd if=$dev of=/dev/null bs=512 skip=0 count=8 iflag=direct
sh_run "! dd if=$dev of=/dev/null bs=512 skip=$LBA count=1 iflag=direct"
run nvme disconnect -n "$NQN"
finish
