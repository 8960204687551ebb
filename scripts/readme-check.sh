#!/bin/sh
# Compiles and runs the README's first program against the freshly built library, so the
# README cannot drift from the API. Usage: readme-check.sh BUILD_DIR "CFLAGS" "LDFLAGS LIBS"
set -e
build=$1; cflags=$2; libs=$3
mkdir -p "$build/readme"
awk '/^## A first program/{on=1} on&&/^```c/{grab=1;next} grab&&/^```/{exit} grab{print}' \
    README.md > "$build/readme/first.c"
[ -s "$build/readme/first.c" ] || { echo "readme-check: no C example found in README.md" >&2; exit 1; }
${CC:-cc} $cflags "$build/readme/first.c" -o "$build/readme/first" "$build/libautograd.a" $libs
"$build/readme/first" > "$build/readme/first.out"
echo "readme-check: the README's first program builds and runs: $(cat "$build/readme/first.out")"
