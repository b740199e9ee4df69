# kvfleet build. `make` builds both daemons; `make test` installs what is
# missing, builds and runs every test; `make asan` does the same under
# AddressSanitizer + UBSan; `make demo` starts a local fleet.

.DEFAULT_GOAL := all

CC      ?= cc
BUILD   ?= build
BINDIR  ?= bin
SAN     ?=
OPT     ?= -O2

# -Wmissing-prototypes: a function used from another file must be declared
# in that module's header, never by a prototype written by hand in a .c file.
CFLAGS_COMMON = -std=gnu11 -Wall -Wextra -Werror -Wmissing-prototypes -g $(OPT) -D_GNU_SOURCE -MMD -MP
ifeq ($(SAN),1)
CFLAGS_COMMON += -fsanitize=address,undefined,float-cast-overflow -fno-omit-frame-pointer -fno-sanitize-recover=undefined,float-cast-overflow
LDFLAGS_SAN    = -fsanitize=address,undefined,float-cast-overflow
MALLOC_LIB     =
else ifeq ($(SAN),thread)
CFLAGS_COMMON += -fsanitize=thread -fno-omit-frame-pointer
LDFLAGS_SAN    = -fsanitize=thread
MALLOC_LIB     =
else
LDFLAGS_SAN    =
# jemalloc gives the agent Redis' allocator size classes (less waste per key).
MALLOC_LIB     = -ljemalloc
CFLAGS_COMMON += -DKV_JEMALLOC
endif

# Lua 5.1 as Redis embeds it, with the cjson and bit libraries Redis exposes
# to scripts (Debian's lua-cjson and lua-bitop builds for 5.1).
PKG_AGENT  = libuv libcurl nettle lua5.1 lua5.1-cjson lua5.1-bitop
PKG_SERVER = libuv hiredis libmicrohttpd jansson sqlite3 libcurl
# Each component sees its own headers and common/ only, so agent/config.h
# and server/config.h (and any other same-named pair) can never be mixed up.
INC_AGENT   = -Iagent -Icommon
INC_SERVER  = -Iserver -Iapi -Icommon
INC_SHARED  = -Icommon
CFLAGS_AGENT  = $(CFLAGS_COMMON) $(INC_AGENT) $(shell pkg-config --cflags $(PKG_AGENT) 2>/dev/null)
CFLAGS_SERVER = $(CFLAGS_COMMON) $(INC_SERVER) $(shell pkg-config --cflags $(PKG_SERVER) 2>/dev/null)
CFLAGS_SHARED = $(CFLAGS_COMMON) $(INC_SHARED)
CFLAGS_CMOCKA = $(shell pkg-config --cflags cmocka 2>/dev/null)
LIBS_AGENT  = $(shell pkg-config --libs $(PKG_AGENT) 2>/dev/null) -lm -lpthread
LIBS_SERVER = $(shell pkg-config --libs $(PKG_SERVER) 2>/dev/null) -lm -lpthread
LIBS_CMOCKA = $(shell pkg-config --libs cmocka 2>/dev/null)

# Debian 12 packages needed to build, test and run the demo.
DEB_PKGS = build-essential pkg-config libuv1-dev libcurl4-openssl-dev libjemalloc-dev nettle-dev \
           liblua5.1-0-dev lua-cjson-dev lua-bitop-dev \
           libhiredis-dev libmicrohttpd-dev libjansson-dev libsqlite3-dev libcmocka-dev \
           redis-server redis-tools sqlite3 curl valgrind procps iproute2

# common/: code both daemons build (the RESP request parser and the Redis
# number and glob rules it and its callers share); its objects go into both
# libraries.
COMMON_SRC = $(wildcard common/*.c)
COMMON_OBJ = $(COMMON_SRC:%.c=$(BUILD)/%.o)

AGENT_MAIN = agent/main.c
AGENT_SRC  = $(filter-out $(AGENT_MAIN),$(wildcard agent/*.c))
AGENT_OBJ  = $(AGENT_SRC:%.c=$(BUILD)/%.o)
AGENT_LIB  = $(BUILD)/libkvagent.a

SERVER_MAIN = server/main.c
SERVER_SRC  = $(filter-out $(SERVER_MAIN),$(wildcard server/*.c) $(wildcard api/*.c))
SERVER_OBJ  = $(SERVER_SRC:%.c=$(BUILD)/%.o)
SERVER_LIB  = $(BUILD)/libkvserver.a

# Unit tests for controller modules are listed by server/build.mk; every
# other tests/unit/test_*.c links against the agent library.
SERVER_UNIT_TESTS ?=
-include server/build.mk
-include tests/difffuzz/difffuzz.mk
-include tests/fuzz/fuzz.mk
-include tests/chaos/chaos.mk

UNIT_SRC          = $(wildcard tests/unit/test_*.c)
UNIT_BINS         = $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
SERVER_UNIT_BINS  = $(SERVER_UNIT_TESTS:%=$(BUILD)/tests/%)
AGENT_UNIT_BINS   = $(filter-out $(SERVER_UNIT_BINS),$(UNIT_BINS))
TOOL_SRC          = $(wildcard tests/tools/*.c)
TOOL_BINS         = $(TOOL_SRC:tests/tools/%.c=$(BUILD)/tools/%)

AGENT_BIN  = $(BINDIR)/kvfleet-agent
SERVER_BIN = $(BINDIR)/kvfleetd
ALL_BINS   = $(AGENT_BIN) $(if $(wildcard $(SERVER_MAIN)),$(SERVER_BIN))

.PHONY: all deps test unit e2e asan valgrind demo demo-stop clean check-deps
.PHONY: demo-failover
.PHONY: tsan test-asan
all: $(ALL_BINS) $(TOOL_BINS)

$(BUILD)/agent/%.o: agent/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_AGENT) -c $< -o $@

$(BUILD)/server/%.o: server/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_SERVER) -c $< -o $@

$(BUILD)/api/%.o: api/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_SERVER) -c $< -o $@

$(BUILD)/common/%.o: common/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_SHARED) -c $< -o $@

$(AGENT_LIB): $(AGENT_OBJ) $(COMMON_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(SERVER_LIB): $(SERVER_OBJ) $(COMMON_OBJ) $(SERVER_EXTRA_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(AGENT_BIN): $(BUILD)/$(AGENT_MAIN:.c=.o) $(AGENT_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_SAN) -o $@ $^ $(LIBS_AGENT) $(MALLOC_LIB)

$(SERVER_BIN): $(BUILD)/$(SERVER_MAIN:.c=.o) $(SERVER_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_SAN) -o $@ $^ $(LIBS_SERVER)

$(AGENT_UNIT_BINS): $(BUILD)/tests/%: tests/unit/%.c $(AGENT_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_AGENT) $(CFLAGS_CMOCKA) $(LDFLAGS_SAN) -o $@ $< $(AGENT_LIB) $(LIBS_AGENT) $(LIBS_CMOCKA)

$(SERVER_UNIT_BINS): $(BUILD)/tests/%: tests/unit/%.c $(SERVER_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_SERVER) $(CFLAGS_CMOCKA) $(LDFLAGS_SAN) -o $@ $< $(SERVER_LIB) $(LIBS_SERVER) $(LIBS_CMOCKA)

$(BUILD)/tools/%: tests/tools/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_COMMON) $(shell pkg-config --cflags hiredis 2>/dev/null) $(LDFLAGS_SAN) -o $@ $< $(shell pkg-config --libs hiredis 2>/dev/null) -lpthread

# Install missing Debian packages when root; otherwise print the one line to run.
deps:
	@missing=""; for p in $(DEB_PKGS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing </dev/null || exit 1; \
	  else \
	    echo "missing Debian packages; run:"; echo "  sudo apt-get install -y$$missing"; exit 1; \
	  fi; \
	fi

# VALGRIND=1 runs every unit test under valgrind's leak checker (make test
# does), so leaks fail the build rather than needing a separate run.
VALGRIND ?=
comma := ,
VG_CMD = $(if $(filter 1,$(VALGRIND)),valgrind -q --leak-check=full --errors-for-leak-kinds=definite$(comma)indirect --error-exitcode=99,)
unit: $(AGENT_UNIT_BINS) $(SERVER_UNIT_BINS)
	@fail=0; for t in $^; do echo "== $(if $(VG_CMD),valgrind )$$t"; $(VG_CMD) $$t || { echo "FAILED: $$t"; fail=1; }; done; exit $$fail

e2e: all
	E2E_EXCLUDE="$(E2E_EXCLUDE)" KVFLEET_BIN=$(abspath $(BINDIR)) KVFLEET_TOOLS=$(abspath $(BUILD)/tools) bash tests/e2e/run.sh $(E2E_ONLY)

# make test (and so CI: 2 cores, 90 min at most, kept under 30) runs each
# suite where it finds the most for its time (README "Tests" has the table):
#   plain -O2 build: unit tests under valgrind; the controller's e2e tests
#   libFuzzer:       every target's smoke run (fuzz-smoke)
#   ASan + UBSan:    unit tests; the agent's e2e tests (engine, replication,
#                    RDB, agent, differential fuzzer, fault injection), any
#                    sanitizer report fatal (test-asan)
#   ThreadSanitizer: controller unit and e2e tests (tsan)
# The plain agent still runs in every controller test as the data nodes.
# engine_limits measures RSS, which only the plain build can tell: it runs
# there as well.
E2E_AGENT_TESTS = agent_ engine_ repl_ rdb_ difffuzz chaos
E2E_PLAIN_TOO   = engine_limits
test: deps
	$(MAKE) all
	$(MAKE) unit VALGRIND=1
	$(MAKE) fuzz-smoke
	$(MAKE) e2e E2E_EXCLUDE="$(E2E_AGENT_TESTS)"
	$(MAKE) e2e E2E_ONLY="$(E2E_PLAIN_TOO)"
	$(MAKE) test-asan
	$(MAKE) tsan

valgrind: $(AGENT_UNIT_BINS) $(SERVER_UNIT_BINS)
	@fail=0; for t in $^; do echo "== valgrind $$t"; \
	  valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode=99 $$t >/dev/null || fail=1; \
	done; exit $$fail

# AddressSanitizer + UBSan. Reports of the processes the tests start go to
# build/asan/logs/ (a daemon's stderr may be a test's temp file); any file
# there fails the run, leaks found at exit included.
ASAN_LOG_DIR ?= $(abspath build/asan/logs)
ASAN_MAKE = $(MAKE) BUILD=build/asan BINDIR=build/asan/bin SAN=1 OPT=-O1
ASAN_ENV = ASAN_OPTIONS="log_path=$(ASAN_LOG_DIR)/asan:detect_leaks=1" \
           UBSAN_OPTIONS="print_stacktrace=1:log_path=$(ASAN_LOG_DIR)/ubsan"
asan_check_logs = if ls $(ASAN_LOG_DIR)/* >/dev/null 2>&1; then echo "sanitizer reports:"; \
	  head -n 40 $(ASAN_LOG_DIR)/*; exit 1; fi
asan: deps
	$(ASAN_MAKE) all unit
	@rm -rf $(ASAN_LOG_DIR) && mkdir -p $(ASAN_LOG_DIR)
	$(ASAN_ENV) $(ASAN_MAKE) e2e
	@$(asan_check_logs)
test-asan:
	$(ASAN_MAKE) all unit
	@rm -rf $(ASAN_LOG_DIR) && mkdir -p $(ASAN_LOG_DIR)
	$(ASAN_ENV) $(ASAN_MAKE) e2e E2E_ONLY="$(E2E_AGENT_TESTS)"
	@$(asan_check_logs)

# ThreadSanitizer: controller unit tests and controller e2e tests; any report
# is fatal (exit 66) and logged to build/tsan/logs/tsan.<pid>. The data nodes
# are a normal (non-TSan) agent build: under TSan the agent's RDB/sync child
# reports the parent's unjoined registration thread at _exit and fails with
# 66 (TSAN_NODE_SERVER=build/tsan/bin/kvfleet-agent uses the TSan agent).
TSAN_LOG_DIR ?= $(abspath build/tsan/logs)
TSAN_NODE_SERVER ?= $(abspath build/tsan/plain/bin/kvfleet-agent)
TSAN_ENV = TSAN_OPTIONS="halt_on_error=1 exitcode=66 second_deadlock_stack=1 history_size=4 log_path=$(TSAN_LOG_DIR)/tsan"
tsan: deps
	$(MAKE) BUILD=build/tsan BINDIR=build/tsan/bin SAN=thread OPT=-O1 all
	$(MAKE) BUILD=build/tsan BINDIR=build/tsan/bin SAN=thread OPT=-O1 $(SERVER_UNIT_TESTS:%=build/tsan/tests/%)
	$(MAKE) BUILD=build/tsan/plain BINDIR=build/tsan/plain/bin build/tsan/plain/bin/kvfleet-agent
	@rm -rf $(TSAN_LOG_DIR) && mkdir -p $(TSAN_LOG_DIR)
	@fail=0; for t in $(SERVER_UNIT_TESTS); do echo "== tsan build/tsan/tests/$$t"; \
	  $(TSAN_ENV) build/tsan/tests/$$t || { echo "FAILED: $$t"; fail=1; }; done; \
	$(TSAN_ENV) E2E_TIMEOUT=$${E2E_TIMEOUT:-600} E2E_LOG_DIR=$(abspath build/tsan/e2e-logs) \
	  KVFLEET_BIN=$(abspath build/tsan/bin) KVFLEET_TOOLS=$(abspath build/tsan/tools) \
	  KVFLEET_NODE_SERVER=$(TSAN_NODE_SERVER) bash tests/e2e/run.sh ctl || fail=1; \
	if ls $(TSAN_LOG_DIR)/tsan.* >/dev/null 2>&1; then echo "TSan reports:"; ls $(TSAN_LOG_DIR); fail=1; fi; exit $$fail

# The demo: controller + three agents on 127.0.0.1 (state, logs and pids in
# build/demo-run/ or $DEMO_DIR; see tests/demo.sh). It installs what building
# and running need, plus jq for the commands it prints, not the test-only
# packages (valgrind, cmocka, Sentinel, Prometheus, Chromium, clang).
DEMO_PKGS = $(sort $(filter-out valgrind libcmocka-dev python3-redis redis-sentinel prometheus chromium clang libclang-rt-14-dev,$(DEB_PKGS)) jq)
demo:
	$(MAKE) deps DEB_PKGS="$(DEMO_PKGS)"
	$(MAKE) all
	KVFLEET_BIN=$(abspath $(BINDIR)) bash tests/demo.sh start

demo-failover:
	bash tests/demo.sh failover

demo-stop:
	bash tests/demo.sh stop

clean:
	rm -rf build bin

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
