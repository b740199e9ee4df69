# server/build.mk - controller (kvfleetd) additions to the top Makefile.

SERVER_UNIT_TESTS = test_store test_api_routes test_api_handlers test_health test_ctl_config test_ctl_writer test_hooks test_planner test_state
SERVER_UNIT_TESTS += test_sentinel

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
