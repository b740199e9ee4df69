# server/build.mk - controller (kvfleetd) additions to the top Makefile.

SERVER_UNIT_TESTS = test_store test_api_routes test_api_handlers test_health test_ctl_config test_ctl_writer

# Numbered SQL migrations are embedded in the binary: a POSIX sh + awk
# generator turns migrations/*.sql into a C table (no xxd needed).
MIGRATIONS_SQL = $(sort $(wildcard migrations/*.sql))
MIGRATIONS_C   = $(BUILD)/gen/migrations.c
MIGRATIONS_O   = $(BUILD)/gen/migrations.o
SERVER_EXTRA_OBJ += $(MIGRATIONS_O)

$(MIGRATIONS_C): $(MIGRATIONS_SQL) server/gen_migrations.sh server/build.mk
	@mkdir -p $(dir $@)
	sh server/gen_migrations.sh $(MIGRATIONS_SQL) > $@.tmp && mv $@.tmp $@

# -iquote: "store.h" must resolve to server/store.h even though -Iagent
# comes first in CFLAGS.
$(MIGRATIONS_O): $(MIGRATIONS_C)
	$(CC) -iquote server $(CFLAGS) -c $< -o $@

# The controller's end-to-end tests read JSON with jq.
DEB_PKGS += jq
