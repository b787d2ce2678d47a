# Guest script (not run by CI): `nvme connect-all` through the discovery log when the target
# advertises the address the guest reaches it by. Target: `nvmemu run ... --discovery 18009
# --advertise 10.0.2.2` (QEMU user networking shows the host's 127.0.0.1 as 10.0.2.2).
. ./lib.sh
HOST=${HARNESS_HOST_IP:-10.0.2.2}
DISC_PORT=${DISC_PORT:-18009}
section "connect-all with the target started with --advertise $HOST"
run modprobe nvme-tcp
run nvme discover -t tcp -a "$HOST" -s "$DISC_PORT"
run nvme connect-all -t tcp -a "$HOST" -s "$DISC_PORT"
sleep 1
run nvme list
sh_run 'test -n "$(ls /sys/class/nvme/ 2>/dev/null)" && echo connected'
run nvme disconnect-all
finish
