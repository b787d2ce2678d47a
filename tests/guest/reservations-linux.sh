# Guest script (not run by CI): NVMe reservations between two hosts of the guest (two
# connections with different --hostnqn/--hostid, each to another nvmemu process serving the
# same subsystem), docs/multipath.md "What the Linux guest showed". Host side:
#   tests/guest/multipath-host.sh OUT_DIR reservations --append nvme_core.multipath=N
# (without native multipath each connection has its own /dev/nvmeXn1, so each command goes out
# as one host). Checks: register both hosts (host 1 with PTPL), host 1 acquires Write
# Exclusive, host 2's writes get Reservation Conflict while its reads succeed, `nvme
# resv-report` lists both registrants with host 1 holding, and after both nvmemu processes are
# restarted (a power cycle of the subsystem) the reservation and registrations are still there.
. ./lib.sh
HOST=${HARNESS_HOST_IP:-10.0.2.2}
JOB=${HARNESS_JOB:-.}
H1=11111111-2222-3333-4444-000000000001
H2=11111111-2222-3333-4444-000000000002
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

section "two hosts: host 1 through instance a (:$PORT_A), host 2 through instance b (:$PORT_B)"
run modprobe nvme-tcp
run cat /sys/module/nvme_core/parameters/multipath
run nvme --version
run nvme connect -t tcp -a "$HOST" -s "$PORT_A" -n "$NQN" --hostnqn="nqn.2014-08.org.nvmexpress:uuid:$H1" --hostid="$H1" --reconnect-delay=2 --ctrl-loss-tmo=600
run nvme connect -t tcp -a "$HOST" -s "$PORT_B" -n "$NQN" --hostnqn="nqn.2014-08.org.nvmexpress:uuid:$H2" --hostid="$H2" --reconnect-delay=2 --ctrl-loss-tmo=600
sleep 2
c1=$(ctrl_on_port "$PORT_A")
c2=$(ctrl_on_port "$PORT_B")
d1=${c1}n1
d2=${c2}n1
run nvme list
sh_run "nvme id-ctrl /dev/$c1 | grep -E '^(cntlid|oncs|ctratt) '; nvme id-ns /dev/$d1 | grep -E '^rescap '"

section "register, acquire Write Exclusive"
run nvme resv-register "/dev/$d1" --namespace-id=1 --nrkey=0xabc1 --rrega=0 --cptpl=3
run nvme resv-register "/dev/$d2" --namespace-id=1 --nrkey=0xabc2 --rrega=0
run nvme resv-acquire "/dev/$d1" --namespace-id=1 --crkey=0xabc1 --rtype=1 --racqa=0
run nvme get-feature "/dev/$c1" --feature-id=0x83 --namespace-id=1
dd if=/dev/urandom of=block bs=4k count=1 2>/dev/null
sh_run "dd if=block of=/dev/$d1 bs=4k count=1 oflag=direct && echo 'host 1 (holder) writes'"
sh_run "! dd if=block of=/dev/$d2 bs=4k count=1 oflag=direct seek=8 && echo 'host 2 write refused'"
sh_run "nvme write /dev/$d2 --start-block=16 --block-count=0 --data-size=512 --data=block 2>&1 | tee out; grep -qi 'reservation.conflict' out"
sh_run "dd if=/dev/$d2 of=back bs=4k count=1 iflag=direct && cmp block back && echo 'host 2 reads the holder'\''s data'"
sh_try "dmesg | grep -iE 'reservation|nvme' | tail -8"

section "resv-report from both hosts"
try nvme resv-report "/dev/$d2" --namespace-id=1
run nvme resv-report "/dev/$d2" --namespace-id=1 --eds
run nvme resv-report "/dev/$d1" --namespace-id=1 --eds -o json
sh_run "nvme resv-report /dev/$d2 --namespace-id=1 --eds -o json | tee report.json | grep -q '\"rtype\" *: *1' && grep -q '\"regctl\" *: *2' report.json && grep -q '${H1//-/}' report.json && grep -q '${H2//-/}' report.json"

section "PTPL: both nvmemu processes restart (the subsystem power-cycles)"
run ask restart
ok=0
for _ in $(seq 1 60); do
  n=$(dmesg | grep -cE "(${c1}|${c2}): Successfully reconnected")
  [ "$n" -ge 2 ] && { ok=1; break; }
  sleep 1
done
sh_run "[ $ok = 1 ] && dmesg | grep -E 'Successfully reconnected' | tail -2"
run nvme resv-report "/dev/$d1" --namespace-id=1 --eds
sh_run "nvme resv-report /dev/$d1 --namespace-id=1 --eds -o json | tee after.json | grep -q '\"rtype\" *: *1' && grep -q '\"regctl\" *: *2' after.json && grep -q '\"ptpls\" *: *1' after.json && echo 'reservation and registrations kept'"
sh_run "! dd if=block of=/dev/$d2 bs=4k count=1 oflag=direct seek=8 && echo 'host 2 still fenced'"

section "release and unregister"
run nvme resv-release "/dev/$d1" --namespace-id=1 --crkey=0xabc1 --rtype=1 --rrela=0
sh_run "dd if=block of=/dev/$d2 bs=4k count=1 oflag=direct seek=8 && echo 'host 2 writes again'"
run nvme resv-register "/dev/$d1" --namespace-id=1 --crkey=0xabc1 --rrega=1 --cptpl=2
run nvme resv-register "/dev/$d2" --namespace-id=1 --crkey=0xabc2 --rrega=1
run nvme resv-report "/dev/$d1" --namespace-id=1 --eds
sh_try "udevadm settle"
run nvme disconnect -n "$NQN"
touch "$JOB/done"
finish
