# Kunren — GNU Make build.  `make` builds, `make run` serves with the embedded
# defaults, `make test` runs every test (unit, integration, browser).
# `make test SAN=1` builds and tests under AddressSanitizer + UBSan.
# `make fuzz` builds the libFuzzer targets (clang).

CC      ?= cc
PKGS    := libmicrohttpd gnutls libcurl sqlite3 libpq jansson libsodium libidn2 xlsxwriter opendkim openssl libqrencode libzip yaml-0.1 libpcre2-8 zlib
CSTD    := -std=c11 -D_GNU_SOURCE
WARN    := -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter -Wformat=2 -Wvla
OPT     ?= -O2 -g
BUILD   := build
ifeq ($(SAN),1)
BUILD   := build-san
OPT     := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
LDSAN   := -fsanitize=address,undefined
endif

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CFLAGS  += $(CSTD) $(WARN) $(OPT) -Isrc -I$(BUILD)/gen -pthread $(PKG_CFLAGS) -MMD -MP
LDLIBS  += $(PKG_LIBS) -pthread -lm $(LDSAN)

LIB_SRC  := $(filter-out src/main.c,$(shell find src -name '*.c' | sort))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o) $(BUILD)/gen/embedded.o
BIN      := $(BUILD)/kunren
UNIT_SRC := $(shell find tests/unit -name '*.c' | sort)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/unit/%)
EMBED_IN := $(shell find web scenarios src/store/migrations -type f 2>/dev/null | sort) docs/openapi.yaml

.PHONY: all deps test-deps run test unit integration e2e fuzz fuzz-smoke clean unit-pg integration-pg e2e-pg
all: $(BIN)

deps:
	@scripts/install-deps
test-deps:
	@scripts/install-deps --test

$(BUILD)/gen/embedded.c: scripts/embed $(EMBED_IN)
	@mkdir -p $(@D)
	@echo "  EMBED   $(words $(EMBED_IN)) files"
	@scripts/embed $(EMBED_IN) > $@.tmp.$$$$ && mv $@.tmp.$$$$ $@

$(BUILD)/gen/embedded.o: $(BUILD)/gen/embedded.c
	@echo "  CC      $<"
	@$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	@echo "  CC      $<"
	@$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/libkunren.a: $(LIB_OBJ)
	@rm -f $@
	@ar rcs $@ $^

$(BIN): $(BUILD)/src/main.o $(BUILD)/libkunren.a
	@echo "  LINK    $@"
	@$(CC) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/unit/%: tests/unit/%.c $(BUILD)/libkunren.a
	@mkdir -p $(@D)
	@echo "  TEST    $<"
	@$(CC) $(CFLAGS) -o $@ $< $(BUILD)/libkunren.a $(LDLIBS) -lcmocka

run: deps $(BIN)
	$(BIN) serve

unit: $(UNIT_BIN) $(BIN)
	@set -e; for t in $(UNIT_BIN); do echo "== $$t"; $$t; done
	@# kunren.conf.example is the output of `kunren config-example`: keep them equal
	@$(BIN) config-example | diff -u kunren.conf.example - \
	  || { echo "kunren.conf.example is stale: run $(BIN) config-example > kunren.conf.example"; exit 1; }

integration: $(BIN)
	KUNREN_BIN=$(abspath $(BIN)) /usr/bin/python3 -m pytest -q tests/integration

e2e: $(BIN)
	KUNREN_BIN=$(abspath $(BIN)) node --test tests/e2e/

# The same suites on PostgreSQL 15: scripts/with-pg starts a throw-away cluster, sets
# KUNREN_TEST_PG to its URL (each test makes its own database there), stops and removes it.
unit-pg: $(UNIT_BIN)
	@scripts/with-pg sh -c 'set -e; for t in $(UNIT_BIN); do echo "== $$t (PostgreSQL)"; $$t; done'

integration-pg: $(BIN)
	KUNREN_BIN=$(abspath $(BIN)) scripts/with-pg /usr/bin/python3 -m pytest -q tests/integration

e2e-pg: $(BIN)
	KUNREN_BIN=$(abspath $(BIN)) scripts/with-pg node --test tests/e2e/

test: test-deps
	@$(MAKE) --no-print-directory unit integration e2e unit-pg integration-pg e2e-pg fuzz-smoke

# Fuzz targets: the library is built once with clang for libFuzzer + ASan + UBSan.
FUZZ      := build-fuzz
FUZZ_SRC  := $(shell find tests/fuzz -name '*.c' | sort)
FUZZ_BIN  := $(FUZZ_SRC:tests/fuzz/%.c=$(FUZZ)/%)
FUZZ_OBJ  := $(LIB_SRC:%.c=$(FUZZ)/%.o) $(FUZZ)/gen/embedded.o
FUZZ_FLAGS = $(CSTD) -Wall -Wextra -Werror -Wno-unused-parameter -g -O1 -Isrc -I$(BUILD)/gen \
	     $(PKG_CFLAGS) -pthread -MMD -MP

fuzz: $(FUZZ_BIN)
.SECONDARY: $(FUZZ_OBJ)

# A short run of every target over its committed corpus (new finds go to a
# scratch folder, not into the repository); `make test` runs it.
FUZZ_SECONDS ?= 10
fuzz-smoke: $(FUZZ_BIN)
	@set -e; for f in $(FUZZ_BIN); do n=$$(basename $$f); tmp=$$(mktemp -d); \
	  echo "== fuzz $$n ($(FUZZ_SECONDS) s)"; \
	  dict=; test -f tests/fuzz/$$n.dict && dict=-dict=tests/fuzz/$$n.dict; \
	  $$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 $$dict $$tmp tests/fuzz/corpus/$$n 2>&1 \
	    | grep -E "^stat::number_of_executed_units|ERROR|SUMMARY" || true; \
	  rm -rf $$tmp; \
	  test -z "$$(ls crash-* leak-* timeout-* 2>/dev/null)" || { echo "fuzz $$n found a problem"; exit 1; }; \
	done

$(FUZZ)/gen/embedded.o: $(BUILD)/gen/embedded.c
	@mkdir -p $(@D)
	@clang $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link,address,undefined -c -o $@ $<

$(FUZZ)/%.o: %.c
	@mkdir -p $(@D)
	@echo "  CLANG   $<"
	@clang $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link,address,undefined -c -o $@ $<

$(FUZZ)/%: tests/fuzz/%.c $(FUZZ_OBJ)
	@echo "  FUZZ    $@"
	@clang $(FUZZ_FLAGS) -fsanitize=fuzzer,address,undefined -o $@ $< $(FUZZ_OBJ) $(PKG_LIBS) -pthread -lm

clean:
	rm -rf build build-san build-fuzz

# `make install PREFIX=/usr/local DESTDIR=`: the binary, the systemd unit
# (ExecStart and Documentation follow PREFIX), the example configuration and
# the docs.  tests/integration/test_install.py checks the tree.
PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
DOCDIR  ?= $(PREFIX)/share/doc/kunren
UNITDIR ?= $(PREFIX)/lib/systemd/system
.PHONY: install
install: $(BIN)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(UNITDIR) $(DESTDIR)$(DOCDIR)/internals
	install -m 0755 $(BIN) $(DESTDIR)$(BINDIR)/kunren
	sed -e 's|/usr/local/bin/kunren|$(BINDIR)/kunren|g' -e 's|/usr/local/share/doc/kunren|$(DOCDIR)|g' \
	  dist/kunren.service > $(DESTDIR)$(UNITDIR)/kunren.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/kunren.service
	install -m 0644 README.md kunren.conf.example $(wildcard docs/*.md docs/*.yaml) $(DESTDIR)$(DOCDIR)/
	install -m 0644 $(wildcard docs/internals/*.md) $(DESTDIR)$(DOCDIR)/internals/

-include $(shell find $(BUILD) $(FUZZ) -name '*.d' 2>/dev/null)
