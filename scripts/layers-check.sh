#!/bin/sh
# Checks the library's layering on the built objects: a folder may call functions defined in the
# folders before it in LIB_DIRS (the Makefile's order, lowest first) or in itself, never in a
# folder after it. Usage: layers-check.sh BUILD dir1 dir2 ...
# Folders joined by '+' form one layer (autograd+ops: the engine's backward accumulates gradients
# with ops, so that gradients can be differentiated again). Prints each offending call
# ("train/fit.o uses ag_tune_x from tune/") and exits 1 if any.
build=$1; shift
command -v nm >/dev/null 2>&1 || { echo "layers-check: nm not found, skipped"; exit 0; }
rank=0
defs=$(mktemp) || exit 1
trap 'rm -f "$defs"' EXIT
for layer in "$@"; do
    for d in $(echo "$layer" | tr '+' ' '); do
    for o in "$build/$d"/*.o; do
        [ -f "$o" ] || continue
        nm -g --defined-only "$o" | awk -v r=$rank -v d="$d" 'NF == 3 { print $3, r, d }'
    done
    done
    rank=$((rank + 1))
done >"$defs"
rank=0
status=0
for layer in "$@"; do
    for d in $(echo "$layer" | tr '+' ' '); do
    for o in "$build/$d"/*.o; do
        [ -f "$o" ] || continue
        bad=$(nm -u "$o" | awk '{ print $2 }' | awk -v r=$rank -v o="$d/$(basename "$o")" '
            NR == FNR { rk[$1] = $2; dir[$1] = $3; next }
            ($1 in rk) && rk[$1] > r { printf "layers-check: %s uses %s from %s/, a higher folder\n", o, $1, dir[$1] }
        ' "$defs" -)
        if [ -n "$bad" ]; then echo "$bad"; status=1; fi
    done
    done
    rank=$((rank + 1))
done
[ $status = 0 ] && echo "layers-check: $* (each folder uses only those before it)"
exit $status
