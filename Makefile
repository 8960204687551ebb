# autograd-c build. `make` builds the static and shared library; `make test` builds and runs the
# Criterion suite; `make demo` runs the first demo; `make install PREFIX=dir` installs.
# Options: OPENMP=0 (build without OpenMP), SANITIZE=1 (AddressSanitizer + UBSan), DEBUG=1.

# Parallel by default: a top-level make without -j runs one job per processor (the first build
# compiles about 80 files). An explicit -jN (including -j1) on the command line wins, and
# recursive makes share the top level's job server instead of adding their own.
ifeq ($(MAKELEVEL),0)
  MAKEFLAGS += -j$(shell nproc 2>/dev/null || getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)
endif
# `make clean test` must not clean while it builds.
ifneq ($(filter clean,$(MAKECMDGOALS)),)
.NOTPARALLEL:
endif

CC       ?= cc
PREFIX   ?= /usr/local
OPENMP   ?= 1
SANITIZE ?= 0
DEBUG    ?= 0

BUILDROOT ?= build
BUILD := $(BUILDROOT)
# -fno-math-errno: math functions do not set errno (nothing here reads it), so sqrt can be one
# instruction and loops with it vectorize. Unlike -ffast-math it keeps IEEE NaN/Inf semantics.
# -fvect-cost-model=cheap: -O2 also vectorizes loops whose length is only known at run time.
# -fno-trapping-math: no code relies on floating-point exception traps or flags (fenv), so a
# comparison can become a vector select (relu masks, max); results, NaN and Inf are unchanged.
CFLAGS_BASE := -std=c11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -g -fPIC -Iinclude \
               -D_POSIX_C_SOURCE=200809L -fno-math-errno -fno-trapping-math \
               -fvect-cost-model=cheap
OPT := -O2
ifeq ($(DEBUG),1)
  OPT := -O0
  BUILD := $(BUILD)-debug
endif
ifeq ($(OPENMP),1)
  OMPFLAGS := -fopenmp
else
  OMPFLAGS :=
  BUILD := $(BUILD)-noomp
endif
ifeq ($(SANITIZE),1)
  SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
  BUILD := $(BUILD)-san
else
  SANFLAGS :=
endif

# zlib (gzip-compressed IDX files) is used when present; scripts/ensure-zlib.sh installs it as
# root and otherwise lets the build go on without it.
ZLIB ?= $(shell sh scripts/ensure-zlib.sh "$(CC)")
ifeq ($(ZLIB),1)
  ZLIBFLAGS := -DAG_HAVE_ZLIB
  ZLIBLIBS := -lz
endif

# BLAS=openblas: matrix products go to OpenBLAS (libopenblas-dev) instead of the engine's own
# kernel; builds land in a separate directory.
BLAS ?=
ifeq ($(BLAS),openblas)
  BLASFLAGS := -DAG_USE_CBLAS
  BLASLIBS := -lopenblas
  BUILD := $(BUILD)-openblas
else ifneq ($(BLAS),)
  $(error BLAS=$(BLAS) is not supported; use BLAS=openblas or leave it empty)
endif

CFLAGS  += $(CFLAGS_BASE) $(OPT) $(OMPFLAGS) $(SANFLAGS) $(ZLIBFLAGS) $(BLASFLAGS)
LDFLAGS += $(OMPFLAGS) $(SANFLAGS)
LDLIBS  += $(BLASLIBS) $(ZLIBLIBS) -lm -lpthread

# LIB_EXTRA and TEST_SRC can be narrowed on the command line while files are being written, e.g.
# make BUILDROOT=build-x LIB_EXTRA="nn/loss.c nn/loss_ce.c" TEST_SRC=tests/test_loss_api.c test
# The library's folders, lowest first: a folder may use the ones before it, never those after it
# (scripts/layers-check.sh checks this on the built objects as part of `make test`; autograd and
# ops are one layer, the engine, since backward accumulates gradients with ops).
LIB_LAYERS := autograd+ops plot nn optim data io train tune
LIB_DIRS := $(subst +, ,$(LIB_LAYERS))
LIB_EXTRA ?= $(foreach d,nn optim data io train tune,$(wildcard $(d)/*.c))
LIB_SRC  := $(wildcard autograd/*.c) $(wildcard ops/*.c) $(wildcard plot/*.c) $(LIB_EXTRA)
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
HEADERS  := include/autograd.h $(wildcard include/autograd/*.h)
TEST_SRC := $(wildcard tests/*.c)
TEST_OBJ := $(TEST_SRC:%.c=$(BUILD)/%.o)

STATIC := $(BUILD)/libautograd.a
SHARED := $(BUILD)/libautograd.so

.PHONY: all lib test demo demos demo-mlp demo-mlp-deep demo-lr demo-gradcheck demo-custom FORCE \
        install install-check clean check-criterion bench bench-quick \
        bench-overhead bench-gemm

all: lib
lib: $(STATIC) $(SHARED)

$(BUILD)/%.o: %.c $(HEADERS) $(foreach d,$(LIB_DIRS),$(wildcard $(d)/*.h))
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(STATIC): $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(SHARED): $(LIB_OBJ)
	$(CC) -shared -o $@ $^ $(LDFLAGS) $(LDLIBS)

# ---- tests ----
check-criterion:
	@CC="$(CC)" sh scripts/ensure-criterion.sh

$(BUILD)/tests/%.o: tests/%.c $(HEADERS) $(wildcard tests/*.h) $(wildcard ops/*.h) | check-criterion
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests -c $< -o $@

$(BUILD)/test_runner: $(TEST_OBJ) $(STATIC)
	$(CC) -o $@ $(TEST_OBJ) $(STATIC) $(LDFLAGS) -lcriterion $(LDLIBS)

# With LIB_EXTRA narrowed on the command line (while files are being written), the README
# programs and the demos, which need the whole library, are skipped.
test: check-criterion $(BUILD)/test_runner
ifneq ($(origin LIB_EXTRA),command line)
	@CC="$(CC)" sh scripts/readme-check.sh $(BUILD) "$(CFLAGS)" "$(LDFLAGS) $(LDLIBS)"
	@CC="$(CC)" sh scripts/header-check.sh $(BUILD) "$(CFLAGS)"
	@sh scripts/layers-check.sh $(BUILD) $(LIB_LAYERS)
endif
	@echo "Running the test suite ($(BUILD)/test_runner)"
	@./$(BUILD)/test_runner --jobs 2 2>&1 | tee $(BUILD)/test.log; status=$$?; \
	if grep -q -E "ERROR: (Leak|Address)Sanitizer|runtime error:" $(BUILD)/test.log; then \
	    echo "make test: sanitizer errors were reported (see $(BUILD)/test.log)"; exit 1; fi; \
	grep -q -E "Failing: 0 \| Crashing: 0" $(BUILD)/test.log || exit 1
ifneq ($(origin LIB_EXTRA),command line)
	@$(MAKE) --no-print-directory demos >/dev/null
	@sh scripts/demo-check.sh $(BUILD) $(DEMOS)
endif

# ---- demos (each prints what it does and writes its pictures to the current directory) ----
# Every demos/NAME.c is a demo: `make demo-NAME` builds and runs it (with '_' written as '-'),
# and `make test` runs it in its fast mode (scripts/demo-check.sh). A demo names the file it must
# write in a comment line "demo-check writes: FILE". The older demos keep their short names below.
DEMOS := $(sort $(basename $(notdir $(wildcard demos/*.c))))
DEMO_BIN := $(DEMOS:%=$(BUILD)/demos/%)

$(BUILD)/demos/%: demos/%.c demos/common.h $(STATIC)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $< -o $@ $(STATIC) $(LDFLAGS) $(LDLIBS)

demos: $(DEMO_BIN)

# The tutorial's model on Fashion-MNIST pooled to 10x10 (the main example).
demo: $(BUILD)/demos/tutorial
	./$(BUILD)/demos/tutorial
demo-mlp: $(BUILD)/demos/mnist_mlp
	./$(BUILD)/demos/mnist_mlp
demo-mlp-deep: $(BUILD)/demos/mnist_mlp
	./$(BUILD)/demos/mnist_mlp --deep
demo-lr: $(BUILD)/demos/lr_sweep
	./$(BUILD)/demos/lr_sweep
demo-gradcheck: $(BUILD)/demos/gradcheck_eps
	./$(BUILD)/demos/gradcheck_eps
demo-custom: $(BUILD)/demos/custom_model
	./$(BUILD)/demos/custom_model
# Any other demo: demo-tune-lr runs demos/tune_lr.c, demo-cnn runs demos/cnn.c, and so on.
demo-%: FORCE
	@$(MAKE) --no-print-directory $(BUILD)/demos/$(subst -,_,$*)
	./$(BUILD)/demos/$(subst -,_,$*)
FORCE:

# ---- install ----
install: lib
	install -d $(DESTDIR)$(PREFIX)/include/autograd $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 644 include/autograd.h $(DESTDIR)$(PREFIX)/include/
	install -m 644 include/autograd/*.h $(DESTDIR)$(PREFIX)/include/autograd/
	install -m 644 $(STATIC) $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(SHARED) $(DESTDIR)$(PREFIX)/lib/
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@OMPFLAGS@|$(OMPFLAGS)|g' -e 's|@ZLIBLIBS@|$(ZLIBLIBS)|g' autograd.pc.in \
	    > $(DESTDIR)$(PREFIX)/lib/pkgconfig/autograd.pc

clean:
	rm -rf build build-* $(BUILDROOT)

# Installs into a temporary prefix and builds a program outside the tree with pkg-config.
install-check: lib
	@rm -rf $(BUILD)/prefix $(BUILD)/outside && mkdir -p $(BUILD)/outside
	@$(MAKE) --no-print-directory install PREFIX=$(CURDIR)/$(BUILD)/prefix >/dev/null
	@cp scripts/outside.c $(BUILD)/outside/prog.c
	cd $(BUILD)/outside && PKG_CONFIG_PATH=$(CURDIR)/$(BUILD)/prefix/lib/pkgconfig \
	    sh -c 'cc prog.c -o prog $$(pkg-config --cflags --libs autograd) && ./prog'

# ---- benchmarks (bench/): figures are measured here, never asserted in tests ----
$(BUILD)/bench/%: bench/%.c bench/bench_util.h $(STATIC)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $< -o $@ $(STATIC) $(LDFLAGS) $(LDLIBS)

# W1-W6 side by side with PyTorch when Debian's python3-torch is installed, then the GEMM kernel
# against OpenBLAS when libopenblas-dev is installed (W4's reference), then every further suite
# bench/suite_NAME.c in name order (each also runs alone as `make bench-NAME`).
BENCH_SUITES := $(sort $(basename $(notdir $(wildcard bench/suite_*.c))))
bench: $(BUILD)/bench/bench $(BUILD)/bench/gemm $(BENCH_SUITES:%=$(BUILD)/bench/%)
	./$(BUILD)/bench/bench
	@echo
	@echo "GEMM kernel against OpenBLAS (make bench-gemm):"
	@$(if $(HAVE_OPENBLAS),OMP_WAIT_POLICY=passive OPENBLAS_THREAD_TIMEOUT=4 ./$(BUILD)/bench/gemm 2048,\
	    echo "  (install libopenblas-dev to compare with OpenBLAS)"; ./$(BUILD)/bench/gemm 2048)
	@for s in $(BENCH_SUITES); do echo; ./$(BUILD)/bench/$$s || exit 1; done
bench-%: $(BUILD)/bench/suite_% FORCE
	./$<
bench-quick: $(BUILD)/bench/bench
	./$(BUILD)/bench/bench --quick

# GEMM throughput in GFLOP/s (bench/gemm.c), ours against OpenBLAS when libopenblas-dev is
# installed (the engine's own kernel is measured: this bench calls it directly).
HAVE_OPENBLAS = $(shell printf '\043include <cblas.h>\nint main(void){return 0;}' | \
                   $(CC) -x c - -o /dev/null -lopenblas >/dev/null 2>&1 && echo 1)
$(BUILD)/bench/gemm: bench/gemm.c ops/gemm.h $(STATIC)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(if $(HAVE_OPENBLAS),-DAG_BENCH_OPENBLAS) $< -o $@ $(STATIC) \
	    $(LDFLAGS) $(if $(HAVE_OPENBLAS),-lopenblas) $(LDLIBS)

bench-gemm: $(BUILD)/bench/gemm
	OMP_WAIT_POLICY=passive OPENBLAS_THREAD_TIMEOUT=4 ./$(BUILD)/bench/gemm $(N)

# Graph overhead per op (ns), see bench/overhead.c.
bench-overhead: $(BUILD)/bench/overhead
	./$(BUILD)/bench/overhead
