#!/bin/sh
# Prints 1 when zlib (header and library) can be compiled against, 0 otherwise. When it is missing
# and we run as root, installs zlib1g-dev with apt-get first (saying so on stderr). Without zlib the
# library still builds; only reading gzip-compressed IDX files is unavailable. Used by the Makefile.
CC=${1:-cc}
have() { printf '#include <zlib.h>\nint main(void){return zlibVersion() == 0;}\n' |
         $CC -x c - -o /dev/null -lz >/dev/null 2>&1; }
if have; then echo 1; exit 0; fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "make: zlib is missing; installing zlib1g-dev with apt-get..." >&2
    (apt-get install -y -q zlib1g-dev >/dev/null 2>&1 ||
     { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q zlib1g-dev >/dev/null 2>&1; })
    if have; then echo "make: installed zlib1g-dev." >&2; echo 1; exit 0; fi
fi
echo "make: zlib not found (sudo apt-get install zlib1g-dev); building without gzip support." >&2
echo 0
