#!/bin/sh
# Makes sure the Criterion test framework can be compiled against; installs it with apt-get
# when it is missing and we run as root, otherwise says what to install. Used by `make test`.
CC=${CC:-cc}
have() { printf '#include <criterion/criterion.h>\nint main(void){return 0;}\n' |
         $CC -x c - -o /dev/null -lcriterion >/dev/null 2>&1; }
have && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "make test: Criterion is missing; installing libcriterion-dev with apt-get..."
    (apt-get install -y -q libcriterion-dev >/dev/null 2>&1 ||
     { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q libcriterion-dev >/dev/null; }) &&
        have && { echo "make test: installed libcriterion-dev."; exit 0; }
    echo "make test: could not install libcriterion-dev with apt-get." >&2
    exit 1
fi
echo "make test: the Criterion test framework is missing. Install it with:" >&2
echo "    sudo apt-get install libcriterion-dev" >&2
exit 1
