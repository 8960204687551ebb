#!/bin/sh
# Compiles and runs every complete program in the README (each ```c block that defines main)
# against the freshly built library, so the README cannot drift from the API.
# Usage: readme-check.sh BUILD_DIR "CFLAGS" "LDFLAGS LIBS"
set -e
build=$1; cflags=$2; libs=$3
dir="$build/readme"
rm -rf "$dir" && mkdir -p "$dir"
awk -v dir="$dir" '
    /^```c/ { grab = 1; n++; file = dir "/block" n ".c"; printf "" > file; next }
    grab && /^```/ { grab = 0; close(file); next }
    grab { print > file }' README.md
found=0
for f in "$dir"/block*.c; do
    grep -q "int main(" "$f" || continue
    found=$((found + 1))
    exe=${f%.c}
    ${CC:-cc} $cflags "$f" -o "$exe" "$build/libautograd.a" $libs
    out=$("$exe") || { echo "readme-check: $(basename "$f") failed" >&2; exit 1; }
    echo "readme-check: README program $found builds and runs: $out"
done
[ "$found" -gt 0 ] || { echo "readme-check: no C program found in README.md" >&2; exit 1; }
