# tests/chaos/chaos.mk - the fault-injection run (included by the top Makefile).
#
#   make chaos                               100 faults, time-based seed
#   make chaos CHAOS_FAULTS=N CHAOS_SEED=S   replay or resize a run
#   make chaos CHAOS_KINDS="stop_master link_cut_master"   some kinds only
#   make chaos KVFLEET_BIN=/abs/bin          any build instead of the ASan one
#
# Builds the AddressSanitizer + UBSan binaries (build/asan, the flags of
# `make asan`) unless KVFLEET_BIN names a build, then runs
# tests/chaos/chaos.sh as root: network namespaces, a bridge and tmpfs
# mounts it makes and removes itself. The per-fault log and the per-kind
# table land in build/chaos/ (CHAOS_OUT). The short run `make test` does is
# tests/e2e/test_chaos.sh.

CHAOS_FAULTS ?= 100
CHAOS_SEED   ?=
CHAOS_OUT    ?= $(abspath build/chaos)
CHAOS_BIN     = $(if $(KVFLEET_BIN),$(abspath $(KVFLEET_BIN)),$(abspath build/asan/bin))

.PHONY: chaos
chaos: deps
	$(if $(KVFLEET_BIN),,$(MAKE) BUILD=build/asan BINDIR=build/asan/bin SAN=1 OPT=-O1 all)
	CHAOS_FAULTS=$(CHAOS_FAULTS) $(if $(CHAOS_SEED),CHAOS_SEED=$(CHAOS_SEED)) CHAOS_OUT=$(CHAOS_OUT) \
	  KVFLEET_BIN=$(CHAOS_BIN) nice bash tests/chaos/chaos.sh
