#!/usr/bin/env bash
# ndctl-layout.sh DIR - writes the pmem layout of tests/guest/ndctl-json-host.sh into
# DIR/pmem0.img and DIR/pmem1.img with nvmemu's ndctl (fixed uuids and names, so
# tests/ndctl-versions.test.ts rebuilds the same bytes). From the project root after
# `npm run build`.
set -euo pipefail
DIR=$1
mkdir -p "$DIR"
rm -f "$DIR/pmem0.img" "$DIR/pmem1.img"
truncate -s 1G "$DIR/pmem0.img"
truncate -s 268566528 "$DIR/pmem1.img"
B=(--backing "$DIR/pmem0.img" --label-size 128K --backing "$DIR/pmem1.img" --label-size 128K --data "$DIR/data")
nd() { node build/src/cli/main.js ndctl "$@" "${B[@]}"; }
nd disable-region region0
nd init-labels nmem0 -V 1.2
nd enable-region region0
nd create-namespace -r region0 -m raw -s 64M -n raw -u 11111111-1111-4111-8111-111111111111 > /dev/null
nd create-namespace -r region0 -m sector -l 512 -s 64M -n sector -u 22222222-2222-4222-8222-222222222222 > /dev/null
nd create-namespace -r region0 -m fsdax -s 128M -n fsdax -u 33333333-3333-4333-8333-333333333333 > /dev/null
nd create-namespace -r region0 -m devdax -s 128M -n devdax -u 44444444-4444-4444-8444-444444444444 > /dev/null
nd list -N
