#!/usr/bin/env bash
# pmreorder beside nvmemu's store explorer on the same four programs (tests/pmreorder/README.md;
# docs/pmem2.md "Compared with pmreorder"). Manual: not run by CI (a ReorderFull run alone takes
# minutes). Run from the project root after `npm run build`:
#   tests/pmreorder/compare.sh
# It builds what is missing into $PMR_TOOLS (never into the repository):
#   - valgrind with pmemcheck from PMDK's fork ($PMR_MIRRORS/pmem+valgrind/repo, its HEAD),
#   - pmreorder, the Python scripts of PMDK tag $PMDK_TAG ($PMR_MIRRORS/pmem+pmdk/repo),
#   - the four programs and the checker (tests/pmreorder/*.c) against Debian's libpmem2,
# then, per program: one pmemcheck run writing the store log, and pmreorder on that log with each
# engine (the checker is check.c, run by pmreorder once per image); then the nvmemu store explorer
# on the same programs (explorer.ts).
# Missing compilers, mirrors or libpmem2 headers: it prints why and exits 0 (skipped).
# Environment (defaults):
#   PMR_TOOLS=${TMPDIR:-/tmp}/nvmemu-pmreorder   PMR_MIRRORS=/work/.mirror   PMDK_TAG=1.12.1
#   ROUNDS=3 (pmreorder runs per engine, median time; ReorderFull: FULL_ROUNDS=1)
#   ENGINES="ReorderFull ReorderAccumulative ReorderPartial NoReorderDoCheck NoReorderNoCheck"
#   PROGRAMS="correct missing-persist early-flag same-line"
#   EXPLORER_ROUNDS=21 (0 skips the nvmemu side)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
PMR_TOOLS=${PMR_TOOLS:-${TMPDIR:-/tmp}/nvmemu-pmreorder}
PMR_MIRRORS=${PMR_MIRRORS:-/work/.mirror}
PMDK_TAG=${PMDK_TAG:-1.12.1}
ROUNDS=${ROUNDS:-3}
ENGINES=${ENGINES:-ReorderFull ReorderAccumulative ReorderPartial NoReorderDoCheck NoReorderNoCheck}
FULL_ROUNDS=${FULL_ROUNDS:-1}
PROGRAMS=${PROGRAMS:-correct missing-persist early-flag same-line}
EXPLORER_ROUNDS=${EXPLORER_ROUNDS:-21}
VG_GIT=$PMR_MIRRORS/pmem+valgrind/repo
PMDK_GIT=$PMR_MIRRORS/pmem+pmdk/repo
CC=${CC:-cc}

skip() {
  echo "pmreorder comparison skipped: $*"
  exit 0
}
for c in git python3 make "$CC"; do command -v "$c" >/dev/null || skip "'$c' is not installed"; done
[ -d "$VG_GIT" ] || skip "no valgrind mirror at $VG_GIT (PMR_MIRRORS)"
[ -d "$PMDK_GIT" ] || skip "no PMDK mirror at $PMDK_GIT (PMR_MIRRORS)"
git --git-dir="$PMDK_GIT" rev-parse -q --verify "$PMDK_TAG^{commit}" >/dev/null ||
  skip "the PMDK mirror has no tag $PMDK_TAG"
printf '#include <libpmem2.h>\nint main(void){return 0;}\n' >"${TMPDIR:-/tmp}/pmr-probe.$$.c"
if ! "$CC" -o /dev/null "${TMPDIR:-/tmp}/pmr-probe.$$.c" -lpmem2 2>/dev/null; then
  rm -f "${TMPDIR:-/tmp}/pmr-probe.$$.c"
  skip "libpmem2 headers or library missing (apt-get install libpmem2-dev)"
fi
rm -f "${TMPDIR:-/tmp}/pmr-probe.$$.c"
mkdir -p "$PMR_TOOLS/logs" "$PMR_TOOLS/bin"
LOGS=$PMR_TOOLS/logs

# Writes the blobs of REV (under PATH) of a bare repository into OUT. Not `git archive`: the
# valgrind mirror lacks two test-expectation blobs (git archive stops there); those are written
# empty and named.
extract() {
  python3 - "$@" <<'PY'
import os, subprocess, sys
gd, rev, out, *paths = sys.argv[1:]
ls = subprocess.run(['git', '--git-dir', gd, 'ls-tree', '-r', '-z', rev, '--', *paths],
                    capture_output=True, check=True).stdout.split(b'\0')
cat = subprocess.Popen(['git', '--git-dir', gd, 'cat-file', '--batch'],
                       stdin=subprocess.PIPE, stdout=subprocess.PIPE)
missing = []
for ent in filter(None, ls):
    meta, path = ent.split(b'\t', 1)
    mode, kind, sha = meta.split()
    if kind != b'blob':
        continue
    cat.stdin.write(sha + b'\n'); cat.stdin.flush()
    head = cat.stdout.readline().split()
    dest = os.path.join(out, path.decode())
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    if head[1] == b'missing':
        missing.append(path.decode()); open(dest, 'wb').close(); continue
    data = cat.stdout.read(int(head[2])); cat.stdout.read(1)
    if mode == b'120000':
        os.symlink(data.decode(), dest)
    else:
        with open(dest, 'wb') as f:
            f.write(data)
        if mode == b'100755':
            os.chmod(dest, 0o755)
if missing:
    print('extract: blobs missing from the mirror, written empty:', ', '.join(missing))
PY
}

# 1. valgrind with pmemcheck (10-20 minutes on two shared cores; once).
VG=$PMR_TOOLS/bin/valgrind
if ! "$VG" --tool=pmemcheck --version >/dev/null 2>&1; then
  for c in autoconf automake; do
    command -v $c >/dev/null || skip "'$c' is needed to build valgrind (apt-get install autoconf automake)"
  done
  echo "building valgrind+pmemcheck ($(git --git-dir="$VG_GIT" rev-parse --short HEAD)) into $PMR_TOOLS (logs in $LOGS)"
  rm -rf "$PMR_TOOLS/src/valgrind"
  mkdir -p "$PMR_TOOLS/src/valgrind"
  extract "$VG_GIT" HEAD "$PMR_TOOLS/src/valgrind"
  (
    cd "$PMR_TOOLS/src/valgrind"
    ./autogen.sh >"$LOGS/vg-autogen.log" 2>&1
    ./configure --prefix="$PMR_TOOLS" >"$LOGS/vg-configure.log" 2>&1
    nice make -j2 >"$LOGS/vg-make.log" 2>&1
    make install >"$LOGS/vg-install.log" 2>&1
  ) || {
    echo "valgrind build failed; see $LOGS/vg-*.log"
    exit 1
  }
fi

# 2. pmreorder (Python, no build step) from the PMDK tag.
PMREORDER=$PMR_TOOLS/pmdk-$PMDK_TAG/src/tools/pmreorder/pmreorder.py
if [ ! -f "$PMREORDER" ]; then
  extract "$PMDK_GIT" "$PMDK_TAG" "$PMR_TOOLS/pmdk-$PMDK_TAG" src/tools/pmreorder
fi

# 3. The programs and the checker, each built under a temporary name and renamed into place: a
# run of this script still going in the same $PMR_TOOLS keeps its binaries (rebuilding `check`
# in place under a running pmreorder once made a check fail to start, which pmreorder counts as
# an inconsistent image).
BIN=$PMR_TOOLS/bin
cc_to() {
  local out=$1
  shift
  "$CC" -O2 -Wall -o "$out.tmp.$$" "$@" && mv -f "$out.tmp.$$" "$out"
}
for p in $PROGRAMS; do cc_to "$BIN/$p" "$HERE/$p.c" -lpmem2; done
cc_to "$BIN/check" "$HERE/check.c"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/pmreorder-compare.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
export PMEM2_FORCE_GRANULARITY=CACHE_LINE

# Runs "$@" with bash's time: T="wall user+sys" (seconds, children included), RC its exit status.
timed() {
  local t
  TIMEFORMAT='%R %U %S'
  set +e
  { time "$@" >"$WORK/out" 2>"$WORK/err"; } 2>"$WORK/time"
  RC=$?
  set -e
  read -r t <"$WORK/time"
  T=$(awk '{ printf "%.3f %.3f", $1, $2 + $3 }' <<<"$t")
}
median() { sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
row() { printf '%-16s %-12s %9s  %-20s %-22s %7s %9s %9s\n' "$@"; }

echo "valgrind: $("$VG" --version) with pmemcheck (PMDK fork, commit" \
  "$(git --git-dir="$VG_GIT" rev-parse --short HEAD)); pmreorder: PMDK $PMDK_TAG; libpmem2:" \
  "$(dpkg-query -W -f='${Version}' libpmem2 2>/dev/null || echo '?'); $(python3 --version)"
echo "machine: $(nproc) cpus, load $(cut -d' ' -f1 /proc/loadavg); times in seconds: wall and" \
  "user+sys (children included); pmreorder: median of ROUNDS=$ROUNDS runs (ReorderFull:" \
  "FULL_ROUNDS=$FULL_ROUNDS); log: stores/flushes/fences after the file's registration"
row program log pmemcheck engine verdict checks wall cpu
REPORTS=()
for p in $PROGRAMS; do
  D=$WORK/$p
  mkdir -p "$D"
  POOL=$D/pool
  truncate -s 4096 "$POOL"
  cp "$POOL" "$D/pool.orig"
  timed "$VG" --tool=pmemcheck -q --log-stores=yes --print-summary=no \
    --log-file="$D/store_log.log" --log-stores-stacktraces=yes \
    --log-stores-stacktraces-depth=2 --expect-fence-after-clflush=yes "$BIN/$p" "$POOL"
  vg=${T% *}
  if [ "$RC" -ne 0 ]; then
    echo "$p: pmemcheck run failed (exit $RC):"
    cat "$WORK/err"
    exit 1
  fi
  ops=$(tr '|' '\n' <"$D/store_log.log" | awk -F';' '
    $1 == "REGISTER_FILE" { r = 1 } !r { next }
    $1 == "STORE" { s++ } $1 == "FLUSH" { f++ } $1 == "FENCE" { n++ }
    END { printf "%d/%d/%d", s, f, n }')
  case $p in same-line) what=line ;; *) what=record ;; esac
  for e in $ENGINES; do
    n=$ROUNDS
    [ "$e" = ReorderFull ] && n=$FULL_ROUNDS
    walls=() cpus=() verdicts=()
    for _ in $(seq "$n"); do
      # pmreorder replays onto the file as it was before the run (PMDK's own tests do the same).
      cp "$D/pool.orig" "$POOL"
      : >"$D/count"
      PMR_COUNT=$D/count timed python3 "$PMREORDER" -l "$D/store_log.log" \
        -o "$D/pmreorder-$e.log" -r "$e" -c prog -p "$BIN/check $what"
      case $RC in
        0) verdicts+=(consistent) ;;
        1) verdicts+=(INCONSISTENT) ;;
        *)
          echo "$p $e: pmreorder failed (exit $RC):"
          cat "$WORK/err" "$WORK/out"
          exit 1
          ;;
      esac
      walls+=("${T% *}")
      cpus+=("${T#* }")
    done
    # ReorderPartial draws at random: the verdicts of all rounds are shown.
    verdict=$(printf '%s\n' "${verdicts[@]}" | sort | uniq -c |
      awk '{ v = v (NR > 1 ? "," : "") $2 "×" $1; k = $2 } END { print (NR == 1 ? k : v) }')
    row "$p" "$ops" "$vg" "$e" "$verdict" "$(wc -c <"$D/count")" \
      "$(printf '%s\n' "${walls[@]}" | median)" "$(printf '%s\n' "${cpus[@]}" | median)"
  done
  cp "$D/store_log.log" "$LOGS/store_log-$p.log"
  # pmemcheck's own report (no pmreorder): stores never made persistent, and with
  # --mult-stores=yes, stores overwritten before they were made persistent.
  cp "$D/pool.orig" "$POOL"
  timed "$VG" --tool=pmemcheck --mult-stores=yes "$BIN/$p" "$POOL"
  REPORTS+=("$(awk -v p="$p" -v t="${T% *}" '
    /stores not made persistent:/ { np = $NF } /overwritten stores:/ { ow = $NF }
    /ERROR SUMMARY:/ { for (i = 1; i < NF; i++) if ($i == "SUMMARY:") er = $(i + 1) }
    END { printf "%-16s %14d %12d %7d %9s", p, np, ow, er, t }' "$WORK/err")")
done
echo "store logs kept in $LOGS/store_log-*.log"

# The early flag's failure could only show in the flag's epoch, which a full run reaches after
# the record epoch's 109,601 sequences. Built with markers around the record's epoch, the same
# program lets ReorderFull work on the flag's epoch alone (the record's epoch in program order).
if [[ " $PROGRAMS " == *" early-flag "* ]]; then
  D=$WORK/early-flag-markers
  mkdir -p "$D"
  cc_to "$BIN/early-flag-markers" -DPMR_MARKERS -I"$PMR_TOOLS/include" "$HERE/early-flag.c" -lpmem2
  truncate -s 4096 "$D/pool"
  cp "$D/pool" "$D/pool.orig"
  timed "$VG" --tool=pmemcheck -q --log-stores=yes --print-summary=no \
    --log-file="$D/store_log.log" --log-stores-stacktraces=yes \
    --log-stores-stacktraces-depth=2 --expect-fence-after-clflush=yes \
    "$BIN/early-flag-markers" "$D/pool"
  vg=${T% *}
  cp "$D/pool.orig" "$D/pool"
  : >"$D/count"
  PMR_COUNT=$D/count timed python3 "$PMREORDER" -l "$D/store_log.log" -o "$D/out.log" \
    -r ReorderFull -x PMR_RECORD=NoReorderDoCheck -c prog -p "$BIN/check record"
  case $RC in 0) v=consistent ;; 1) v=INCONSISTENT ;; *) v="error (exit $RC)" ;; esac
  echo "early-flag built with -DPMR_MARKERS, pmreorder -r ReorderFull -x PMR_RECORD=NoReorderDoCheck:"
  row early-flag "" "$vg" "ReorderFull (-x)" "$v" "$(wc -c <"$D/count")" "${T% *}" "${T#* }"
fi
echo
echo "pmemcheck's own report: valgrind --tool=pmemcheck --mult-stores=yes PROGRAM pool"
printf '%-16s %14s %12s %7s %9s\n' program 'not persistent' overwritten errors wall
printf '%s\n' "${REPORTS[@]}"

# 4. The nvmemu side.
if [ "$EXPLORER_ROUNDS" -gt 0 ]; then
  JS=$ROOT/build/tests/pmreorder/explorer.js
  if [ -f "$JS" ] && command -v node >/dev/null; then
    echo
    node "$JS" "$EXPLORER_ROUNDS"
  else
    echo "nvmemu side skipped: run 'npm run build' first (no $JS or no node)"
  fi
fi
