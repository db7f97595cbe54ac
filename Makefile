# anon: build, test, demo, bench, install.  Every dependency comes through pkg-config.
#
#   make            build bin/anon-*; never installs packages: a missing one stops the build
#                   with the apt-get line to run (make deps only does that check)
#   make check      install what the tests need, build, run unit and bats tests
#                   (SANITIZE=1 for ASan + UBSan)
#   make demo       install the build packages, build, run the main job on the bundled sample
#   make bench      install the benchmark packages, build, run the 1M-row benchmarks
#                   (not part of check)
#   make install    PREFIX=/usr/local DESTDIR=  (builds like plain make; installs no packages)
#
# check, demo and bench install missing Debian packages through tools/deps.sh when run as root,
# and print the apt-get line otherwise; they do it before compiling anything.

PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
MANDIR  ?= $(PREFIX)/share/man
DATADIR ?= $(PREFIX)/share/anon

PKGS    := openssl libpcre2-8 jansson sqlite3 libpq
CC      ?= cc
OPT     ?= -O2
CFLAGS  ?= $(OPT) -g
WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) -Ilib -DANON_DATADIR='"$(DATADIR)"' \
	     $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LIBS    = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lm -pthread
ifeq ($(SANITIZE),1)
ALL_CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS    += -fsanitize=address,undefined
BUILD      := build/san
else
BUILD      := build/opt
endif

TOOLS    := $(patsubst %/main.c,%,$(wildcard anon-*/main.c))
LIB_SRC  := $(wildcard lib/*.c)
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
LIB_A    := $(BUILD)/libanon.a
BINS     := $(TOOLS:%=bin/%)
# t/unit/<tool>_*.c tests link with lib and the tool's own files except main.c;
# t/unit/lib_*.c with lib alone.
UNIT_SRC := $(wildcard t/unit/*_*.c)
UNITS    := $(UNIT_SRC:t/unit/%.c=$(BUILD)/t/%)
HEADERS  := $(wildcard lib/*.h) $(wildcard anon-*/*.h) $(wildcard t/unit/*.h)

.PHONY: all deps check demo bench install clean lint units FORCE
all: $(BINS)

# Only a check: plain make and make install must not change the system.
deps:
	@sh tools/deps.sh --no-install build

# Binaries are copied to bin/ from the current build flavour (opt or san) so tests use what
# was just built, whichever flavour was built last.
bin/%: $(BUILD)/bin/% FORCE | bin
	@cmp -s $< $@ || cp $< $@
FORCE:
bin:
	@mkdir -p bin

# Objects are rebuilt when DATADIR (compiled in) changes, e.g. for make install PREFIX=/usr.
CONFIG := $(BUILD)/datadir.stamp
$(CONFIG): FORCE
	@mkdir -p $(BUILD)
	@echo '$(DATADIR)' | cmp -s - $@ || echo '$(DATADIR)' > $@

# deps (order-only) runs before the first compile, and does not make objects out of date.
$(BUILD)/%.o: %.c $(HEADERS) $(CONFIG) | deps
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# a unit test of tool X sees X's own headers
$(BUILD)/t/unit/%.o: ALL_CFLAGS += -Ianon-$(firstword $(subst _, ,$(notdir $*)))

$(LIB_A): $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

# Keep objects: they are intermediate files of chained pattern rules.
.SECONDARY:

.SECONDEXPANSION:
tool_objs = $(patsubst %.c,$(BUILD)/%.o,$(wildcard $(1)/*.c))
tool_lib_objs = $(patsubst %.c,$(BUILD)/%.o,$(filter-out $(1)/main.c,$(wildcard $(1)/*.c)))

$(BUILD)/bin/%: $$(call tool_objs,%) $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $(call tool_objs,$*) $(LIB_A) $(LIBS)

unit_tool = $(patsubst lib,,$(firstword $(subst _, ,$(1))))
unit_objs = $(if $(call unit_tool,$(1)),$(call tool_lib_objs,anon-$(call unit_tool,$(1))))

$(BUILD)/t/%: $(BUILD)/t/unit/%.o $$(call unit_objs,%) $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(LIB_A) $(LIBS) $(shell pkg-config --libs libcsv 2>/dev/null || echo -lcsv)

# Test tools (t/tool/*.c): built for the tests, never installed.
TEST_TOOLS := $(patsubst t/tool/%.c,$(BUILD)/tool/%,$(wildcard t/tool/*.c))
$(BUILD)/tool/%: $(BUILD)/t/tool/%.o $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(LIB_A) $(LIBS)

units: $(UNITS) $(TEST_TOOLS)

# These install their packages first, then build in a sub-make (which sees the new packages
# through pkg-config) and run.
check:
	@sh tools/deps.sh check
	@$(MAKE) --no-print-directory all units
	@BUILD=$(BUILD) sh t/run-tests

demo:
	@sh tools/deps.sh build
	@$(MAKE) --no-print-directory all
	@sh demo/demo.sh

bench:
	@sh tools/deps.sh bench
	@$(MAKE) --no-print-directory all
	@sh bench/run.sh

lint:
	mandoc -Tlint -Wwarning man/man*/*.[0-9]

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 \
		$(DESTDIR)$(MANDIR)/man7 $(DESTDIR)$(DATADIR)
	install -m 755 $(BINS) $(DESTDIR)$(BINDIR)
	install -m 644 man/man1/*.1 $(DESTDIR)$(MANDIR)/man1
	install -m 644 man/man5/*.5 $(DESTDIR)$(MANDIR)/man5
	install -m 644 man/man7/*.7 $(DESTDIR)$(MANDIR)/man7
	if [ -d data ]; then cp -R data/. $(DESTDIR)$(DATADIR)/; fi

clean:
	rm -rf build bin
