#!/bin/sh
# Runs every demo in its fast mode (AG_DEMO_FAST=1: tiny synthetic data, one or two epochs) in a
# temporary directory, so the test suite keeps the demos working. Fails when a demo exits with an
# error, reports a sanitizer error, or does not write its picture. Usage: demo-check.sh BUILD demos...
build=$1; shift
dir=$(mktemp -d) || exit 1
trap 'rm -rf "$dir"' EXIT
status=0
for d in "$@"; do
    exe=$(cd "$build/demos" && pwd)/$d
    start=$(date +%s)
    if ! (cd "$dir" && AG_DEMO_FAST=1 AG_DEMO_OUT="$dir" "$exe" >"$dir/$d.log" 2>&1); then
        echo "demo-check: $d failed:"; tail -20 "$dir/$d.log"; status=1; continue
    fi
    if grep -q -E "ERROR: (Leak|Address)Sanitizer|runtime error:" "$dir/$d.log"; then
        echo "demo-check: $d reported sanitizer errors:"; cat "$dir/$d.log"; status=1; continue
    fi
    # The demo names the file it must write in a comment line "demo-check writes: FILE".
    want=$(sed -n 's/.*demo-check writes: *\([^ ]*\).*/\1/p' "demos/$d.c" | head -n 1)
    if [ -n "$want" ] && [ ! -s "$dir/$want" ]; then
        echo "demo-check: $d did not write $want"; status=1; continue
    fi
    echo "demo-check: $d ok ($(( $(date +%s) - start )) s)"
done
exit $status
