# Guest script (not run by CI): native NVMe multipath over two nvmemu processes, ANA, and
# Namespace Management (docs/multipath.md "What the Linux guest showed"). Host side:
#   tests/guest/multipath-host.sh OUT_DIR multipath
# which serves $NQN from two `nvmemu run --instance` processes (127.0.0.1:$PORT_A = a,
# :$PORT_B = b) and $MGMT_NQN (nvm-capacity) on :$PORT_M, and acts on the requests this script
# writes to its job share (ana, kill, start).
# Checks: both paths join one subsystem with distinct controller IDs; `nvme ana-log` lists
# group 1 optimized; fio (verify=crc32c, verify_backlog) keeps running with err=0 while path a
# is set inaccessible over QMP and back, and while process a is killed and started again; I/O
# returns to path a each time; create-ns / attach-ns / detach-ns / delete-ns end to end with
# `nvme list` following.
. ./lib.sh
HOST=${HARNESS_HOST_IP:-10.0.2.2}
JOB=${HARNESS_JOB:-.}
ask() {
  rm -f "$JOB/reply"
  printf '%s\n' "$*" >"$JOB/request.tmp" && mv "$JOB/request.tmp" "$JOB/request"
  for _ in $(seq 1 150); do [ -f "$JOB/reply" ] && { cat "$JOB/reply"; return 0; }; sleep 0.2; done
  echo "no reply to: $*"
  return 1
}
ctrl_on_port() {
  for c in /sys/class/nvme/nvme*; do
    grep -q "trsvcid=$1" "$c/address" 2>/dev/null && { basename "$c"; return; }
  done
}
subsys_of() {
  for s in /sys/class/nvme-subsystem/*; do
    grep -qx "$1" "$s/subsysnqn" 2>/dev/null && { basename "$s"; return; }
  done
}
# Completed reads + writes of a path device (/sys/block/<dev>/stat fields 1 and 5).
ios() { awk '{print $1 + $5}' "/sys/block/$1/stat"; }

section "connect both paths (instance a :$PORT_A, instance b :$PORT_B)"
run modprobe nvme-tcp
run cat /sys/module/nvme_core/parameters/multipath
run nvme connect -t tcp -a "$HOST" -s "$PORT_A" -n "$NQN" --reconnect-delay=2 --ctrl-loss-tmo=600
run nvme connect -t tcp -a "$HOST" -s "$PORT_B" -n "$NQN" --reconnect-delay=2 --ctrl-loss-tmo=600
sleep 2
ca=$(ctrl_on_port "$PORT_A")
cb=$(ctrl_on_port "$PORT_B")
run nvme list
run nvme list-subsys
sh_run "nvme id-ctrl /dev/$ca | grep -E '^(cntlid|cmic|oaes|ctratt|anatt|anacap|anagrpmax|nanagrpid) '"
sh_run "nvme id-ctrl /dev/$cb | grep -E '^cntlid '"
subsys=$(subsys_of "$NQN")
sh_run "ls /sys/class/nvme-subsystem/$subsys/ | grep -E '^nvme[0-9]+$' | wc -l | grep -qx 2 && echo 'one subsystem, two controllers'"
head=$(ls "/sys/class/nvme-subsystem/$subsys/" | grep -E '^nvme[0-9]+n1$' | head -1)
pa=$(ls /sys/block | grep -E "^nvme[0-9]+c${ca#nvme}n1$")
pb=$(ls /sys/block | grep -E "^nvme[0-9]+c${cb#nvme}n1$")
echo "head $head, path a $pa, path b $pb"
sh_run "cat /sys/block/$pa/ana_state /sys/block/$pb/ana_state"
run nvme ana-log "/dev/$ca"
run nvme ana-log "/dev/$cb" -o json
sh_run "nvme ana-log /dev/$ca | grep -qE '^state\s*:\s*optimized' && echo 'group 1 optimized'"
sh_run "echo round-robin > /sys/class/nvme-subsystem/$subsys/iopolicy && cat /sys/class/nvme-subsystem/$subsys/iopolicy"

section "fio verify over the multipath device while paths change"
fio --name=mp --filename="/dev/$head" --direct=1 --ioengine=libaio --rw=randrw --bs=4k \
  --iodepth=16 --numjobs=2 --offset_increment=64M --size=64M --verify=crc32c \
  --verify_backlog=256 --verify_fatal=1 --time_based=1 --runtime=900 \
  --output=fio-mp.log >/dev/null 2>&1 &
FIO=$!
sleep 10
a0=$(ios "$pa")
sleep 3
sh_run "test $(ios "$pa") -gt $a0 && echo 'path a carries I/O'"

section "path a inaccessible (x-nvmemu-set-ana-state on instance a)"
run ask ana a 1 inaccessible
sleep 4
sh_run "cat /sys/block/$pa/ana_state"
a1=$(ios "$pa")
b1=$(ios "$pb")
sleep 4
sh_run "test $(ios "$pa") -eq $a1 && test $(ios "$pb") -gt $b1 && echo 'I/O only on path b'"
run ask ana a 1 optimized
sleep 4
sh_run "cat /sys/block/$pa/ana_state"
a2=$(ios "$pa")
sleep 3
sh_run "test $(ios "$pa") -gt $a2 && echo 'I/O back on path a'"

section "instance a killed (SIGKILL), then started again"
run ask kill a
sleep 8
sh_run "kill -0 $FIO && echo 'fio still running'"
b3=$(ios "$pb")
sleep 3
sh_run "test $(ios "$pb") -gt $b3 && echo 'I/O continues on path b'"
run ask start a
ok=0
for _ in $(seq 1 60); do
  if dmesg | grep -qE "$ca: Successfully reconnected"; then ok=1; break; fi
  sleep 1
done
sh_run "[ $ok = 1 ] && dmesg | grep -E '$ca: Successfully reconnected' | tail -1"
sleep 4
a4=$(ios "$pa")
sleep 4
sh_run "test $(ios "$pa") -gt $a4 && echo 'I/O back on path a after the restart'"
# fio runs until every step is done (a fixed runtime ran out before the kill step on a loaded
# machine), then stops on SIGINT and reports; a verify failure would have ended it early
# (verify_fatal) with err= 84 and a "verify:" line.
sh_run "kill -0 $FIO && echo 'fio ran through every step'"
kill -INT "$FIO"
wait "$FIO"
rc=$?
sh_run "cat fio-mp.log"
echo "fio exit status after SIGINT: $rc"
sh_run "test \$(grep -c 'err= 0' fio-mp.log) = 2 && ! grep -q 'verify:' fio-mp.log && echo 'fio: err=0 for both jobs, no verify error'"
sh_try "dmesg | grep -E 'nvme|ana|path' | tail -30"
sh_try "udevadm settle"
run nvme disconnect -n "$NQN"

section "Namespace Management (nvmemu on :$PORT_M, nvm-capacity=256M)"
run nvme connect -t tcp -a "$HOST" -s "$PORT_M" -n "$MGMT_NQN"
sleep 2
cm=$(ctrl_on_port "$PORT_M")
sh_run "nvme id-ctrl /dev/$cm | grep -E '^(oacs|tnvmcap|unvmcap|cntlid) '"
cntlid=$(nvme id-ctrl "/dev/$cm" | awk '/^cntlid/{print $3}')
run nvme list
run nvme create-ns "/dev/$cm" --nsze=131072 --ncap=131072 --flbas=0 --nmic=1
run nvme create-ns "/dev/$cm" --nsze=8192 --ncap=8192 --block-size=4096
run nvme list-ns "/dev/$cm" --all
sh_run "nvme id-ctrl /dev/$cm | grep -E '^unvmcap '"
run nvme attach-ns "/dev/$cm" --namespace-id=1 --controllers="$cntlid"
run nvme attach-ns "/dev/$cm" --namespace-id=2 --controllers="$cntlid"
sleep 3
run nvme list
msub=$(subsys_of "$MGMT_NQN")
mns=$(ls "/sys/class/nvme-subsystem/$msub/" | grep -E '^nvme[0-9]+n1$' | head -1)
echo "created namespace block device: ${mns:-none}"
sh_run "[ -n '$mns' ] && dd if=/dev/urandom of=pattern bs=4k count=16 2>/dev/null && dd if=pattern of=/dev/$mns bs=4k count=16 oflag=direct && dd if=/dev/$mns of=back bs=4k count=16 iflag=direct && cmp pattern back && echo 'data written and read back'"
sh_run "nvme id-ns /dev/$cm -n 2 | grep -E '^(nsze|flbas|nmic) '"
sh_try "udevadm settle"
run nvme detach-ns "/dev/$cm" --namespace-id=2 --controllers="$cntlid"
run nvme delete-ns "/dev/$cm" --namespace-id=2
sleep 2
run nvme list
run nvme list-ns "/dev/$cm" --all
run nvme detach-ns "/dev/$cm" --namespace-id=1 --controllers="$cntlid"
run nvme delete-ns "/dev/$cm" --namespace-id=1
sleep 2
sh_run "! nvme list | grep -q mgmt0001 && echo 'no namespace of the mgmt subsystem left in nvme list'"
sh_run "nvme id-ctrl /dev/$cm | grep -E '^unvmcap '"
run nvme disconnect -n "$MGMT_NQN"
touch "$JOB/done"
finish
