# Guest script (not run by CI): what ndctl prints for the pmem layout tests/guest/ndctl-json-host.sh
# prepared with nvmemu (region0: raw, sector, fsdax and devdax namespaces; region1: a blank
# label area), in the Debian 12 guest (ndctl 76) or the Debian 13 guest (ndctl 81). Every
# command's stdout goes to results/<name>.json, its stderr to results/<name>.err, and a line to
# results/commands.tsv (exit status, name, command). The list commands come first (read
# only); then create-namespace on the blank label area, as a user would try it.
. ./lib.sh
RESULTS=$PWD/results
mkdir -p "$RESULTS"
: > "$RESULTS/commands.tsv"

rec() {
  local name=$1 rc
  shift
  printf '\n$ %s\n' "$*"
  "$@" > "$RESULTS/$name.json" 2> "$RESULTS/$name.err"
  rc=$?
  cat "$RESULTS/$name.json" "$RESULTS/$name.err" | head -60
  [ -s "$RESULTS/$name.err" ] || rm -f "$RESULTS/$name.err"
  printf '%s\t%s\t%s\n' "$rc" "$name" "$*" >> "$RESULTS/commands.tsv"
  _record "$rc" 0 "$*"
}

section "versions"
run cat /etc/harness-release
run ndctl --version
run modprobe dax_pmem
sleep 1
run udevadm settle

section "list"
rec list ndctl list
rec list-N-v ndctl list -N -v
rec list-v ndctl list -v
rec list-vv ndctl list -vv
rec list-vvv ndctl list -vvv
rec list-N-X ndctl list -N -X
rec list-X ndctl list -X
rec list-R ndctl list -R
rec list-RN ndctl list -RN
rec list-RD ndctl list -RD
rec list-RDN ndctl list -RDN
rec list-D ndctl list -D
rec list-DN ndctl list -DN
rec list-B ndctl list -B
rec list-BN ndctl list -BN
rec list-N-u ndctl list -N -u
rec list-R-u ndctl list -R -u
rec list-D-u ndctl list -D -u
rec list-RD-u ndctl list -RD -u
rec list-i ndctl list -i
rec list-Ri ndctl list -R -i
rec list-r0 ndctl list -r region0
rec list-r1 ndctl list -r region1
rec list-r0-N ndctl list -r region0 -N
rec list-d0 ndctl list -d nmem0
rec list-n3 ndctl list -n namespace0.3
rec list-n3-u ndctl list -n namespace0.3 -u
rec list-m-devdax ndctl list -m devdax
rec list-m-dax ndctl list -m dax
rec list-N-M ndctl list -N -M
rec list-R-v ndctl list -R -v
rec list-D-v ndctl list -D -v
rec list-C ndctl list -R -C
rec list-F ndctl list -D -F
rec list-H ndctl list -D -H
rec list-c ndctl list -c
rec daxctl-list daxctl list
rec daxctl-list-R daxctl list -R

# The kernel numbers regions by its own order: find the blank one (256 MiB) by size.
blank=$(ndctl list -R | jq -r '.[] | select(.size == 268435456) | .dev')
blankns=$(ndctl list -r "$blank" -N | jq -r '.[0].dev')
echo "blank label area: $blank, namespace $blankns"
section "create-namespace on the blank label area ($blank)"
rec create-blank ndctl create-namespace -r "$blank"
rec create-blank-size ndctl create-namespace -r "$blank" -s 64M
rec create-blank-sector ndctl create-namespace -r "$blank" -m sector
rec reconfig-blank-sector ndctl create-namespace -e "$blankns" -f -m sector
rec after-reconfig-list ndctl list -r "$blank" -N -i
rec after-reconfig-list-R ndctl list -r "$blank" -R
finish
