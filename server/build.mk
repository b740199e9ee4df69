# server/build.mk - controller (kvfleetd) additions to the top Makefile.

SERVER_UNIT_TESTS = test_store test_api_routes test_api_handlers test_health test_ctl_config test_ctl_writer test_hooks test_planner test_state
SERVER_UNIT_TESTS += test_sentinel test_prom test_http_deadline

# Numbered SQL migrations are embedded in the binary: a POSIX sh + awk
# generator turns migrations/*.sql into a C table (no xxd needed).
MIGRATIONS_SQL = $(sort $(wildcard migrations/*.sql))
MIGRATIONS_C   = $(BUILD)/gen/migrations.c
MIGRATIONS_O   = $(BUILD)/gen/migrations.o
SERVER_EXTRA_OBJ += $(MIGRATIONS_O)

$(MIGRATIONS_C): $(MIGRATIONS_SQL) server/gen_migrations.sh server/build.mk
	@mkdir -p $(dir $@)
	sh server/gen_migrations.sh $(MIGRATIONS_SQL) > $@.tmp && mv $@.tmp $@

# The generated file includes "store.h": server flags put server/ first.
$(MIGRATIONS_O): $(MIGRATIONS_C)
	$(CC) $(CFLAGS_SERVER) -c $< -o $@

# The controller's end-to-end tests read JSON with jq; the Sentinel port's
# test drives it with Debian's python3-redis and compares with redis-sentinel.
DEB_PKGS += jq python3-redis redis-sentinel
# promtool (from Debian's prometheus) checks deploy/prometheus/ and runs the
# alert unit tests in tests/e2e/test_prometheus_rules.sh.
DEB_PKGS += prometheus
# The dashboard's browser test (tests/e2e/test_dashboard.sh) drives a headless
# Chromium through playwright-core; node comes from the machine (skip if absent).
DEB_PKGS += chromium

# The HTTP request counters behind /metrics (api/reqstats.c).
SERVER_UNIT_TESTS += test_api_reqstats

# The dashboard (web/, any depth) is embedded in kvfleetd: server/gen_web.sh
# turns each file into a byte array (od + awk, binary-safe) with its ETag.
# Directories are prerequisites too, so removing a file regenerates the table.
WEB_SRC = $(shell find web 2>/dev/null)
WEB_C   = $(BUILD)/gen/web_files.c
WEB_O   = $(BUILD)/gen/web_files.o
SERVER_EXTRA_OBJ += $(WEB_O)

$(WEB_C): $(WEB_SRC) server/gen_web.sh server/build.mk
	@mkdir -p $(dir $@)
	sh server/gen_web.sh web api_web_files > $@.tmp && mv $@.tmp $@

$(WEB_O): $(WEB_C)
	$(CC) $(CFLAGS_SERVER) -c $< -o $@

# test_api_handlers serves a fixture dashboard (tests/unit/web_fixture/, with
# a PNG to prove binary safety) whatever web/ holds: the test #includes the
# table generated from it.
WEB_FIXTURE_SRC = $(shell find tests/unit/web_fixture 2>/dev/null)
WEB_FIXTURE_C   = $(BUILD)/gen/web_fixture.c

$(WEB_FIXTURE_C): $(WEB_FIXTURE_SRC) server/gen_web.sh server/build.mk
	@mkdir -p $(dir $@)
	sh server/gen_web.sh tests/unit/web_fixture web_fixture > $@.tmp && mv $@.tmp $@

$(BUILD)/tests/test_api_handlers: $(WEB_FIXTURE_C)
$(BUILD)/tests/test_api_handlers: private CFLAGS_SERVER += -I$(BUILD)/gen
