# tests/fuzz/fuzz.mk - libFuzzer targets for every parser that reads bytes
# from outside (included by the top Makefile).
#
#   make fuzz                  build, then run each target FUZZ_SECONDS (60) s
#   make fuzz FUZZ_SECONDS=600 FUZZ_TARGETS="resp rdb"
#   make fuzz-smoke            each target ~5 s (what `make test` runs)
#   make fuzz-build            only build build/fuzz/bin/fuzz_<target>
#
# The code under test is compiled again with clang into build/fuzz/obj/
# (-fsanitize=fuzzer-no-link,address,undefined: coverage for libFuzzer,
# ASan and UBSan, any UBSan report fatal), one target per parser from
# tests/fuzz/fuzz_<target>.c linked with -fsanitize=fuzzer. Seeds come from
# tests/fuzz/corpus/<target>/ (read only); what a run finds goes to
# build/fuzz/corpus/<target>/, crashes to build/fuzz/artifacts/<target>/.
# tests/fuzz/run.sh runs one target and prints its figures; a crash, leak,
# timeout or out-of-memory fails it.

# libFuzzer ships in Debian's compiler-rt package for clang 14
# (libclang_rt.fuzzer*.a); clang itself builds the targets.
DEB_PKGS += clang libclang-rt-14-dev

FUZZ_CC       ?= clang
FUZZ_DIR      ?= build/fuzz
FUZZ_SECONDS  ?= 60
FUZZ_SMOKE_SECONDS ?= 5
FUZZ_TARGETS  ?= resp rdb dump repl_stream agent_config ctl_config info api_json api_routes

FUZZ_SAN      = -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
# The project's code is gcc -Werror clean; clang's warnings are not the
# fuzzers' business, so library objects are built without -Werror.
FUZZ_CFLAGS   = -std=gnu11 -g -O1 -D_GNU_SOURCE -MMD -MP -Wall -Wextra $(FUZZ_SAN)
FUZZ_LIBFLAGS = $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link
FUZZ_TGTFLAGS = $(FUZZ_CFLAGS) -Werror -fsanitize=fuzzer

FUZZ_CFLAGS_AGENT  = $(INC_AGENT) $(shell pkg-config --cflags $(PKG_AGENT) 2>/dev/null)
FUZZ_CFLAGS_SERVER = $(INC_SERVER) $(shell pkg-config --cflags $(PKG_SERVER) 2>/dev/null)

FUZZ_BUILD_DIR = $(FUZZ_DIR)

FUZZ_OBJ         = $(FUZZ_BUILD_DIR)/obj
FUZZ_COMMON_OBJ  = $(COMMON_SRC:%.c=$(FUZZ_OBJ)/%.o)
FUZZ_AGENT_OBJ   = $(AGENT_SRC:%.c=$(FUZZ_OBJ)/%.o)
FUZZ_SERVER_OBJ  = $(SERVER_SRC:%.c=$(FUZZ_OBJ)/%.o)
FUZZ_GEN_OBJ     = $(FUZZ_OBJ)/gen/migrations.o $(FUZZ_OBJ)/gen/web_files.o
FUZZ_AGENT_LIB   = $(FUZZ_BUILD_DIR)/libkvagent.a
FUZZ_SERVER_LIB  = $(FUZZ_BUILD_DIR)/libkvserver.a

# Which library (and system libraries) each target links.
FUZZ_AGENT_TARGETS  = rdb dump repl_stream agent_config
FUZZ_SERVER_TARGETS = ctl_config info api_json api_routes
FUZZ_BINS = $(FUZZ_TARGETS:%=$(FUZZ_BUILD_DIR)/bin/fuzz_%)

.PHONY: fuzz fuzz-smoke fuzz-build

$(FUZZ_OBJ)/agent/%.o: agent/%.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_LIBFLAGS) $(FUZZ_CFLAGS_AGENT) -c $< -o $@

$(FUZZ_OBJ)/server/%.o: server/%.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_LIBFLAGS) $(FUZZ_CFLAGS_SERVER) -c $< -o $@

$(FUZZ_OBJ)/api/%.o: api/%.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_LIBFLAGS) $(FUZZ_CFLAGS_SERVER) -c $< -o $@

$(FUZZ_OBJ)/common/%.o: common/%.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_LIBFLAGS) $(INC_SHARED) -c $< -o $@

# The controller embeds its migrations and dashboard; the routes pull the
# handlers in, so the fuzz library needs both tables too.
$(FUZZ_OBJ)/gen/migrations.c: $(MIGRATIONS_SQL) server/gen_migrations.sh
	@mkdir -p $(dir $@)
	sh server/gen_migrations.sh $(MIGRATIONS_SQL) > $@.tmp && mv $@.tmp $@

$(FUZZ_OBJ)/gen/web_files.c: $(WEB_SRC) server/gen_web.sh
	@mkdir -p $(dir $@)
	sh server/gen_web.sh web api_web_files > $@.tmp && mv $@.tmp $@

$(FUZZ_OBJ)/gen/%.o: $(FUZZ_OBJ)/gen/%.c
	$(FUZZ_CC) $(FUZZ_LIBFLAGS) $(FUZZ_CFLAGS_SERVER) -c $< -o $@

$(FUZZ_AGENT_LIB): $(FUZZ_AGENT_OBJ) $(FUZZ_COMMON_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(FUZZ_SERVER_LIB): $(FUZZ_SERVER_OBJ) $(FUZZ_COMMON_OBJ) $(FUZZ_GEN_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(FUZZ_BUILD_DIR)/bin/fuzz_resp: tests/fuzz/fuzz_resp.c $(FUZZ_COMMON_OBJ)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_TGTFLAGS) $(INC_SHARED) -o $@ $< $(FUZZ_COMMON_OBJ)

$(FUZZ_AGENT_TARGETS:%=$(FUZZ_BUILD_DIR)/bin/fuzz_%): $(FUZZ_BUILD_DIR)/bin/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_AGENT_LIB)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_TGTFLAGS) $(FUZZ_CFLAGS_AGENT) -Itests/unit -o $@ $< $(FUZZ_AGENT_LIB) $(LIBS_AGENT)

$(FUZZ_SERVER_TARGETS:%=$(FUZZ_BUILD_DIR)/bin/fuzz_%): $(FUZZ_BUILD_DIR)/bin/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_SERVER_LIB)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_TGTFLAGS) $(FUZZ_CFLAGS_SERVER) -o $@ $< $(FUZZ_SERVER_LIB) $(LIBS_SERVER)

fuzz-build: $(FUZZ_BINS)

# Every target runs even when one fails; the table comes last.
fuzz: fuzz-build
	@FUZZ_DIR=$(FUZZ_DIR) FUZZ_BIN_DIR=$(FUZZ_BUILD_DIR)/bin bash tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_TARGETS)

fuzz-smoke: fuzz-build
	@FUZZ_DIR=$(FUZZ_DIR) FUZZ_BIN_DIR=$(FUZZ_BUILD_DIR)/bin bash tests/fuzz/run.sh $(FUZZ_SMOKE_SECONDS) $(FUZZ_TARGETS)
