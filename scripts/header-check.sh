#!/bin/sh
# Compiles every code example in the public headers, so a header cannot show a call that does
# not compile (the docs-drift bug class). An example is a block of comment lines indented by
# four spaces (" *     code"; deeper lines continue it; text indented deeper after prose, such
# as a JSON sample, is not a block) that contains a line ending in ';',
# '{' or '}': formulas and sample messages, which have none, are left alone. Function
# definitions and static const / typedef lines go at file scope, the other statements into a
# function body of their own; a line "..." elides code. The names examples use without declaring
# them (x, w, model, train, ...) are declared below; add one here when a new example needs it.
# Usage: header-check.sh BUILD_DIR "CFLAGS"
set -e
build=$1; cflags=$2
dir="$build/header-examples"
rm -rf "$dir" && mkdir -p "$dir"
out="$dir/examples.c"
cat > "$out" <<'EOF'
#include <autograd.h>
#include <stdio.h>
/* What the examples take as given. */
extern ag_tensor *x, *w, *y;
extern ag_module *model;
extern ag_optimizer *adam;
extern ag_dataset *data, *train;
extern int n;
extern double *epochs, *loss, *val_loss;
extern void *ctx;
extern ag_study *st;
typedef struct block_state { int64_t width; } block_state;
ag_module *block_new(int64_t width, int nchildren, ag_module *const *children);
double train_one_epoch(void *ctx, double lr);
EOF
for h in include/autograd.h include/autograd/*.h; do
    awk -v header="$h" '
        function flush(   i, nbody, infn) {
            if (nb > 0 && code) {
                k++
                print "/* header example */"
                printf "/* %s, example %d */\n", header, k
                nbody = 0; infn = 0
                for (i = 1; i <= nb; i++) {
                    if (infn) { print block[i]; if (block[i] ~ /^}/) infn = 0; continue }
                    if (block[i] ~ /^[A-Za-z_][A-Za-z_0-9 *]*\(.*\) *\{ *(\/\/.*)?$/) {
                        print block[i]; infn = 1; continue      # a function definition
                    }
                    if (block[i] ~ /^(static const|typedef) /) { print block[i]; continue }
                    if (block[i] ~ /^\.\.\.$/) continue          # "..." elides code
                    body[++nbody] = block[i]
                }
                if (nbody > 0) {
                    printf "static void example_%s_%d(void)\n{\n", tag, k
                    for (i = 1; i <= nbody; i++) print body[i]
                    print "}"
                }
            }
            nb = 0; code = 0
        }
        BEGIN { tag = header; gsub(/[^A-Za-z0-9]/, "_", tag) }
        /^ \*     [^ ]/ || (nb > 0 && /^ \*      /) {
            line = substr($0, 8)
            block[++nb] = line
            if (line ~ /[;{}] *(\/\/.*)?$/) code = 1
            next
        }
        { flush() }
        END { flush() }' "$h" >> "$out"
done
count=$(grep -c "^/\* header example \*/" "$out" || true)
# Examples show calls, not complete programs: unused results and variables are fine there.
${CC:-cc} $cflags -Wno-unused-variable -Wno-unused-function -Wno-unused-result \
    -Wno-unused-but-set-variable -Wno-unused-parameter -Wno-shadow -fsyntax-only "$out" ||
    { echo "header-check: an example in a public header does not compile (see $out)" >&2; exit 1; }
echo "header-check: $count header examples compile"
