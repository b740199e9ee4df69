# difffuzz: the differential command fuzzer (tests/difffuzz/README.md).
# Included by the top Makefile. Builds $(BUILD)/tools/difffuzz (with `make
# all`, so the e2e smoke test finds it next to the other tools) and adds:
#
#   make fuzz-commands SEED=S N=N   a long run: S's command sequence, N commands,
#                                   findings and replay files in build/difffuzz/seed-S/
#                                   (FUZZ_ARGS adds options, e.g. --no-check;
#                                   AVOID=0 also generates the allowlisted commands)
#   make fuzz-commands-smoke        the fixed-seed run make test does (tests/e2e/test_difffuzz.sh)
#   make fuzz-commands-minimize REPLAY=FILE
#                                   shrink a replay file to a minimal reproduction (FILE.min)

DIFFFUZZ_BIN   = $(BUILD)/tools/difffuzz
DIFFFUZZ_AGENT = $(BINDIR)/kvfleet-agent
DIFFFUZZ_ALLOW = tests/difffuzz/allowlist.txt
SEED  ?= 1
N     ?= 1000000
AVOID ?= 1
FUZZ_ARGS ?=

all: $(DIFFFUZZ_BIN)

$(DIFFFUZZ_BIN): tests/difffuzz/difffuzz.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_COMMON) $(LDFLAGS_SAN) -o $@ $<

.PHONY: fuzz-commands fuzz-commands-smoke fuzz-commands-minimize
fuzz-commands: $(DIFFFUZZ_AGENT) $(DIFFFUZZ_BIN)
	$(DIFFFUZZ_BIN) --agent-bin $(DIFFFUZZ_AGENT) --seed $(SEED) -n $(N) --allowlist $(DIFFFUZZ_ALLOW) \
	  --out build/difffuzz/seed-$(SEED) --max-findings 200 --quiet $(if $(filter 1,$(AVOID)),--avoid-allowed) $(FUZZ_ARGS)

fuzz-commands-smoke: $(DIFFFUZZ_AGENT) $(DIFFFUZZ_BIN)
	KVFLEET_BIN=$(abspath $(BINDIR)) KVFLEET_TOOLS=$(abspath $(BUILD)/tools) bash tests/e2e/test_difffuzz.sh

fuzz-commands-minimize: $(DIFFFUZZ_AGENT) $(DIFFFUZZ_BIN)
	@test -n "$(REPLAY)" || { echo "usage: make fuzz-commands-minimize REPLAY=build/difffuzz/seed-S/replay-....txt"; exit 2; }
	$(DIFFFUZZ_BIN) --agent-bin $(DIFFFUZZ_AGENT) --minimize $(REPLAY) -o $(REPLAY).min --out build/difffuzz/minimize
