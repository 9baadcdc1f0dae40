# thamdo - build, run and test.
#
#   make run     build, install what is missing, start on the embedded default
#   make test    everything: lint, unit tests, black-box tests (sanitizer
#                build, and under valgrind), browser tests, reliability (Redis killed,
#                Sentinel failover), limits (slow and greedy clients, stop under
#                load), test-deploy (the image and both compose files in podman)
#   make deps    install the Debian packages the build, run and tests need
#                (make run installs only those of the build and run)
#   make bench   throughput benchmark (wrk) against the bare evhttp ceiling,
#                with the performance targets marked met or missed (bench/README.md),
#                then make bench-pow (proof-of-work solve times in Chromium, a scripted voter's rate)
#   make bench-instructions
#                instructions per request (callgrind) against the same ceiling
#   make bots    regenerate src/rules/bots_list.h (robot patterns) from node_modules
#   make blackbox-release
#                the black-box tests on the optimised release build, 1 and 2 workers
#   make valgrind
#                the black-box tests under valgrind's memcheck (part of make blackbox);
#                VALGRIND_TESTS="tests/blackbox/api.test.mjs ..." runs only those files
#   make fuzz    each libFuzzer target of tests/fuzz/ for FUZZ_SECONDS (60) seconds;
#                make fuzz-smoke (part of make test): every seed once, then a few seconds each

CC       ?= cc
PKGS     := libevent hiredis jansson libcrypto
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
# The Debian package of each pkg-config module, for the message of pkgcheck.
PKG_DEB_libevent  := libevent-dev
PKG_DEB_hiredis   := libhiredis-dev
PKG_DEB_jansson   := libjansson-dev
PKG_DEB_libcrypto := libssl-dev
PKG_MISSING := $(strip $(foreach p,$(PKGS),$(if $(shell pkg-config --exists $(p) 2>/dev/null && echo y),,$(PKG_DEB_$(p)))))

WARN     := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
            -Wpointer-arith -Wformat=2 -Wsign-compare -Wtype-limits -Wvla -fno-common
CSTD     := -std=c11 -D_GNU_SOURCE
CFLAGS   ?= -O2 -g
# The layers of src/: proc (process and workers), http (server side of HTTP), store (every
# Redis call, and its Lua scripts), rules (pure poll and visit rules), reader and admin (the
# two surfaces). Each is an include directory, so a header is named by its file alone.
LAYERS   := proc http store rules reader admin
INC      := -Ibuild/gen -Isrc $(addprefix -Isrc/,$(LAYERS))
ALL_CFLAGS = $(CSTD) $(WARN) $(CFLAGS) $(PKG_CFLAGS) $(INC) -MMD -MP
SAN      := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

SRCS     := $(wildcard src/*.c $(addsuffix /*.c,$(addprefix src/,$(LAYERS))))
HDRS     := $(wildcard $(addsuffix /*.h,$(addprefix src/,$(LAYERS))))
LIB_SRCS := $(filter-out src/main.c,$(SRCS))
LUA      := $(wildcard src/store/lua/*.lua)
# The served widget.js is build/gen/widget.js: web/widget.js with web/vendor/sha256.js spliced in.
WEB      := $(sort $(filter-out web/widget.js,$(wildcard web/*.html web/*.js web/*.css web/*.svg)) build/gen/widget.js)
GEN      := build/gen/lua_scripts.h build/gen/web_assets.h

OBJS      := $(SRCS:src/%.c=build/obj/%.o)
ASAN_OBJS := $(SRCS:src/%.c=build/asan/obj/%.o)
ASAN_LIB  := $(LIB_SRCS:src/%.c=build/asan/obj/%.o)

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=build/asan/unit/%)

PREFIX   ?= /usr/local


.PHONY: all asan run test unit blackbox browser lint lint-c lint-api format deps deps-run bench clean install \
        pkgcheck test-all bench-instructions lint-bench

all: build/thamdo

# Every compile needs the -dev packages: without them, say which are missing
# instead of failing inside the compiler. pkg-config itself comes from Debian's
# pkg-config package.
pkgcheck:
ifneq ($(PKG_MISSING),)
	@echo "thamdo: cannot build: missing Debian packages: $(strip $(if $(shell command -v pkg-config),,pkg-config) $(PKG_MISSING))" >&2
	@echo "thamdo: run 'make deps' as root (or: apt-get install $(strip $(if $(shell command -v pkg-config),,pkg-config) $(PKG_MISSING)))" >&2
	@exit 2
else
	@:
endif

build/gen/lua_scripts.h: $(LUA) scripts/embed.sh
	@mkdir -p $(@D)
	scripts/embed.sh $@ $(LUA)

# The vendored SHA-256 of the proof-of-work solver (scripts/gen_sha256.mjs, make sha256) in place of
# widget.js's one line "/* @include web/vendor/sha256.js */": one served file, and no node needed.
WIDGET_INCLUDE := /* @include web/vendor/sha256.js */
build/gen/widget.js: web/widget.js web/vendor/sha256.js
	@mkdir -p $(@D)
	@test "$$(grep -cxF '  $(WIDGET_INCLUDE)' web/widget.js)" = 1 || \
	    { echo "web/widget.js: the line '  $(WIDGET_INCLUDE)' must be there once" >&2; exit 1; }
	sed -e '\|^  /\* @include web/vendor/sha256\.js \*/$$|{' -e 'r web/vendor/sha256.js' -e 'd' -e '}' \
	    web/widget.js >$@.tmp
	mv $@.tmp $@

build/gen/web_assets.h: $(WEB) scripts/embed_assets.sh
	@mkdir -p $(@D)
	scripts/embed_assets.sh $@ $(WEB)

build/obj/%.o: src/%.c | $(GEN) pkgcheck
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

build/thamdo: $(OBJS)
	$(CC) $(CFLAGS) -o $@ $(OBJS) $(PKG_LIBS)

build/asan/obj/%.o: src/%.c | $(GEN) pkgcheck
	@mkdir -p $(@D)
	$(CC) $(CSTD) $(WARN) -O1 -g $(SAN) $(PKG_CFLAGS) $(INC) -MMD -MP -c -o $@ $<

build/asan/thamdo: $(ASAN_OBJS)
	$(CC) $(SAN) -o $@ $(ASAN_OBJS) $(PKG_LIBS)

asan: build/asan/thamdo

build/asan/unit/%: tests/unit/%.c $(ASAN_LIB)
	@mkdir -p $(@D)
	$(CC) $(CSTD) $(WARN) -Wno-missing-prototypes -O1 -g $(SAN) $(PKG_CFLAGS) $(INC) \
	    -o $@ $< $(ASAN_LIB) $(PKG_LIBS) -lcmocka

deps:
	@scripts/deps.sh all

deps-run:
	@scripts/deps.sh run

# deps-run may install the -dev packages: the build runs in a second make,
# which reads pkg-config after the install.
run: deps-run
	@$(MAKE) --no-print-directory build/thamdo
	@scripts/run.sh

unit: $(UNIT_BINS)
	@set -e; for t in $(UNIT_BINS); do echo "== $$t"; $$t; done

# Test tooling from npm (playwright-core, ajv, redocly), pinned by package-lock.json.
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

# The sanitizer build with one worker (THAMDO_THREADS, passed on by the harness), then the
# release sources with two under valgrind (make valgrind, below): two runs that keep make test-all
# within CI's 20 minutes. The optimised release binary itself runs the browser, reliability,
# limits and deploy suites; make blackbox-release runs the black-box suite on it too (1 and 2
# workers), for a change that may depend on the optimiser.
blackbox: build/asan/thamdo node_modules/.installed
	@echo "== black-box tests, sanitizer build, THAMDO_THREADS=1"
	THAMDO_THREADS=1 THAMDO_BIN=build/asan/thamdo node --test --test-concurrency=2 tests/blackbox/
	@$(MAKE) --no-print-directory valgrind

.PHONY: blackbox-release
blackbox-release: build/thamdo node_modules/.installed
	@echo "== black-box tests, release build, THAMDO_THREADS=1"
	THAMDO_THREADS=1 THAMDO_BIN=build/thamdo node --test --test-concurrency=2 tests/blackbox/
	@echo "== black-box tests, release build, THAMDO_THREADS=2"
	THAMDO_THREADS=2 THAMDO_BIN=build/thamdo node --test --test-concurrency=2 tests/blackbox/

# The black-box suite under valgrind's memcheck (make valgrind): the release sources at -O1 -g
# (build/valgrind/thamdo), each thamdo the harness starts run under $(VALGRIND) (THAMDO_WRAPPER;
# the harness's waits for a thamdo scaled by 10), two workers. Any memory error or definite,
# indirect or possible leak makes thamdo exit 99 (a failed stop()); scripts/valgrind-check.sh
# then reads every log, also those of instances the tests killed or left to the cleanup, and
# fails on any error. Suppressions (tests/valgrind.supp) only for libraries' one-time allocations
# (none needed so far: what the libraries keep until exit is "still reachable", not counted).
VALGRIND_OBJS := $(SRCS:src/%.c=build/valgrind/obj/%.o)
VALGRIND_LOGS := build/valgrind/log
VALGRIND_CONCURRENCY ?= 3
VALGRIND      := valgrind --tool=memcheck --error-exitcode=99 --leak-check=full \
                 --show-leak-kinds=definite,indirect,possible \
                 --errors-for-leak-kinds=definite,indirect,possible --num-callers=30 \
                 --child-silent-after-fork=yes --suppressions=$(CURDIR)/tests/valgrind.supp \
                 --log-file=$(CURDIR)/$(VALGRIND_LOGS)/%p.log

build/valgrind/obj/%.o: src/%.c | $(GEN) pkgcheck
	@mkdir -p $(@D)
	$(CC) $(CSTD) $(WARN) -O1 -g $(PKG_CFLAGS) $(INC) -MMD -MP -c -o $@ $<

build/valgrind/thamdo: $(VALGRIND_OBJS)
	$(CC) -O1 -g -o $@ $(VALGRIND_OBJS) $(PKG_LIBS)

.PHONY: valgrind
valgrind: build/valgrind/thamdo node_modules/.installed
	@command -v valgrind >/dev/null || { echo "thamdo: make valgrind needs valgrind: run make deps" >&2; exit 2; }
	@echo "== black-box tests under valgrind memcheck, THAMDO_THREADS=2"
	@rm -rf $(VALGRIND_LOGS) && mkdir -p $(VALGRIND_LOGS)
	THAMDO_THREADS=2 THAMDO_BIN=build/valgrind/thamdo THAMDO_WRAPPER="$(VALGRIND)" \
	    node --test --test-concurrency=$(VALGRIND_CONCURRENCY) $(or $(VALGRIND_TESTS),tests/blackbox/); \
	    rc=$$?; scripts/valgrind-check.sh $(VALGRIND_LOGS) && exit $$rc

# The widget, the no-JS embed and the dashboard in Debian's chromium; screenshots in tests/screenshots/.
browser: build/thamdo build/widget-pow-tool node_modules/.installed
	@echo "== browser tests (chromium)"
	THAMDO_BIN=build/thamdo node --test --test-concurrency=1 tests/browser/

# Redis Sentinel and reliability: Redis killed -9 under load, a failover with Sentinels, several
# instances on one Redis (tests/reliability/, real redis-server and redis-server --sentinel
# processes on loopback); once, on the release build, each test printing its figures.
.PHONY: reliability
reliability: build/thamdo node_modules/.installed
	@echo "== reliability tests, release build"
	THAMDO_BIN=build/thamdo node --test --test-concurrency=1 tests/reliability/

# The service's proof-of-work code from the command line (tests/browser/widget-pow-tool.c), for
# the widget's browser tests and make bench-pow.
build/widget-pow-tool: tests/browser/widget-pow-tool.c $(filter-out build/obj/main.o,$(OBJS))
	$(CC) $(ALL_CFLAGS) -Wno-missing-prototypes -o $@ $< $(filter-out build/obj/main.o,$(OBJS)) $(PKG_LIBS)

lint: lint-c lint-api bots-check sha256-check lint-bench

# The robot patterns of bots.c, generated from the npm package crawler-user-agents (pinned in
# package.json) and committed, so that building needs no node.
.PHONY: bots bots-check
bots: node_modules/.installed
	node scripts/gen_bots.mjs

bots-check: node_modules/.installed
	node scripts/gen_bots.mjs --check

# The SHA-256 of the widget's proof-of-work solver, web/vendor/sha256.js, bundled by esbuild from
# the npm package @noble/hashes (both pinned in package.json) and committed, so that building
# needs no node; sha256-check: regenerating it gives the same bytes.
.PHONY: sha256 sha256-check
sha256: node_modules/.installed
	node scripts/gen_sha256.mjs

sha256-check: node_modules/.installed
	node scripts/gen_sha256.mjs --check

lint-api: node_modules/.installed
	npx --no-install redocly lint --format=summary api/openapi.yaml

lint-c: $(GEN)
	clang-format --dry-run -Werror $(SRCS) $(HDRS) tests/unit/*.c tests/fuzz/*.c tests/fuzz/*.h
	cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability \
	    --inline-suppr --std=c11 -D_GNU_SOURCE $(INC) \
	    --suppress=missingIncludeSystem src/
	$(MAKE) --no-print-directory build/clang/thamdo

build/clang/thamdo: $(SRCS) $(GEN) | pkgcheck
	@mkdir -p $(@D)
	clang $(CSTD) $(WARN) -O2 $(PKG_CFLAGS) $(INC) -o $@ $(SRCS) $(PKG_LIBS)

# Limits against slow and greedy clients and the graceful stop under load (tests/limits): heavy,
# so once, on the release build, one file at a time; each prints its figures.
.PHONY: limits
limits: build/thamdo node_modules/.installed
	@echo "== limits and graceful stop under load, release build"
	ulimit -n $$(ulimit -Hn) 2>/dev/null; THAMDO_BIN=build/thamdo node --test --test-concurrency=1 tests/limits/

format:
	clang-format -i $(SRCS) $(HDRS) tests/unit/*.c tests/fuzz/*.c tests/fuzz/*.h

test: deps
	@$(MAKE) --no-print-directory test-all

test-all: lint all asan unit blackbox browser reliability limits test-deploy fuzz-smoke

clean:
	rm -rf build

# The container image and both compose files run for real in podman, driven by docker-compose
# (scripts/podman-env.sh: project-local podman state in build/podman/, the base image from the
# machine's Debian mirror, cached; tests/deploy/).
.PHONY: test-deploy
test-deploy: node_modules/.installed
	@echo "== deploy tests (podman, docker-compose)"
	scripts/podman-env.sh run node --test --test-concurrency=1 tests/deploy/

install: build/thamdo
	install -D -m 0755 build/thamdo $(DESTDIR)$(PREFIX)/bin/thamdo

-include $(OBJS:.o=.d) $(ASAN_OBJS:.o=.d) $(VALGRIND_OBJS:.o=.d)

# libFuzzer targets (tests/fuzz/README.md): clang's -fsanitize=fuzzer with ASan and UBSan, each
# tests/fuzz/fuzz_<name>.c linked against the product's objects (build/fuzz/libthamdo.a, built
# with the same sanitizers), its seeds in tests/fuzz/corpus/<name>/. What a run finds lands in
# build/fuzz/crashes/<name>-crash-<sha1> (and leak-, oom-, timeout-); new inputs in
# build/fuzz/corpus/<name>/, never in the seeds. ASan's quarantine is kept to 64 MB: with the
# default (256 MB) a long run's memory grows towards the RSS limit without a leak.
FUZZ_CC      ?= clang
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_CFLAGS  := $(CSTD) $(WARN) -O1 -g $(FUZZ_SAN) $(PKG_CFLAGS) $(INC)
FUZZ_OBJS    := $(LIB_SRCS:src/%.c=build/fuzz/obj/%.o)
FUZZ_SRCS    := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_NAMES   := $(FUZZ_SRCS:tests/fuzz/fuzz_%.c=%)
FUZZ_BINS    := $(FUZZ_NAMES:%=build/fuzz/fuzz_%)
FUZZ_SECONDS ?= 60
FUZZ_SMOKE_SECONDS ?= 3
FUZZ_ARGS    ?= -max_len=4096 -timeout=10 -rss_limit_mb=2048
FUZZ_ENV     := ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:quarantine_size_mb=64 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

build/fuzz/obj/%.o: src/%.c | $(GEN) pkgcheck
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c -o $@ $<

build/fuzz/libthamdo.a: $(FUZZ_OBJS)
	@rm -f $@
	ar rcs $@ $(FUZZ_OBJS)

build/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h build/fuzz/libthamdo.a
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< build/fuzz/libthamdo.a $(PKG_LIBS)

.PHONY: fuzz fuzz-smoke fuzz-build
fuzz-build: $(FUZZ_BINS)

# One target after another; the first finding stops the run (its input in build/fuzz/crashes/).
define fuzz_run
	@set -e; mkdir -p build/fuzz/crashes; for n in $(FUZZ_NAMES); do \
	    echo "== fuzz_$$n: $(1) s"; mkdir -p build/fuzz/corpus/$$n; \
	    $(FUZZ_ENV) build/fuzz/fuzz_$$n $(FUZZ_ARGS) -max_total_time=$(1) -print_final_stats=1 \
	        -artifact_prefix=build/fuzz/crashes/$$n- build/fuzz/corpus/$$n tests/fuzz/corpus/$$n \
	        2>build/fuzz/$$n.log || { tail -n 60 build/fuzz/$$n.log; exit 1; }; \
	    grep -E '^#[0-9]+[[:space:]]+DONE|^stat::number_of_executed_units|INITED' \
	        build/fuzz/$$n.log | sed 's/^/   /'; \
	done
endef

fuzz: fuzz-build
	$(call fuzz_run,$(FUZZ_SECONDS))

fuzz-smoke: fuzz-build
	$(call fuzz_run,$(FUZZ_SMOKE_SECONDS))

-include $(FUZZ_OBJS:.o=.d)

# Benchmarks (bench/README.md), never part of make test: an optimised build in build/bench/
# (build/thamdo is left alone), the bare evhttp yardstick, and the drivers, which start a
# private redis-server and stop everything they started.
BENCH_CFLAGS ?= -O2 -g -DNDEBUG
BENCH_OBJS   := $(SRCS:src/%.c=build/bench/obj/%.o)
BENCH_BINS   := build/bench/thamdo build/bench/bare

build/bench/obj/%.o: src/%.c | $(GEN) pkgcheck
	@mkdir -p $(@D)
	$(CC) $(CSTD) $(WARN) $(BENCH_CFLAGS) $(PKG_CFLAGS) $(INC) -MMD -MP -c -o $@ $<

build/bench/thamdo: $(BENCH_OBJS)
	$(CC) $(BENCH_CFLAGS) -o $@ $(BENCH_OBJS) $(PKG_LIBS)

build/bench/bare: bench/bare.c | pkgcheck
	@mkdir -p $(@D)
	$(CC) $(CSTD) $(WARN) $(BENCH_CFLAGS) -pthread $(PKG_CFLAGS) -o $@ $< \
	    $(shell pkg-config --libs libevent libevent_pthreads hiredis 2>/dev/null)

# deps.sh may install packages: the build runs in a second make, as for run.
bench:
	@THAMDO_DEPS_EXTRA="wrk nodejs" scripts/deps.sh run
	@$(MAKE) --no-print-directory $(BENCH_BINS)
	ulimit -n $$(ulimit -Hn) 2>/dev/null; node bench/bench.mjs
	@$(MAKE) --no-print-directory bench-pow

# What the proof of work costs a reader (the widget's solver in Chromium) and a scripted voter
# (tests/browser/pow-bench.mjs).
.PHONY: bench-pow
bench-pow: build/widget-pow-tool build/gen/widget.js node_modules/.installed
	node tests/browser/pow-bench.mjs

bench-instructions:
	@THAMDO_DEPS_EXTRA="valgrind nodejs" scripts/deps.sh run
	@$(MAKE) --no-print-directory $(BENCH_BINS)
	node bench/instructions.mjs

# bench/bare.c under the same rules as src/ (its build already uses WARN with -Werror, under
# gcc here and clang below).
lint-bench: | pkgcheck
	clang-format --dry-run -Werror bench/bare.c
	cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability \
	    --std=c11 -D_GNU_SOURCE --suppress=missingIncludeSystem bench/bare.c
	@mkdir -p build/clang
	clang $(CSTD) $(WARN) -O2 -pthread $(PKG_CFLAGS) -o build/clang/bare bench/bare.c \
	    $(shell pkg-config --libs libevent libevent_pthreads hiredis 2>/dev/null)

-include $(BENCH_OBJS:.o=.d)
