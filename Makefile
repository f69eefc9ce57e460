# lungo — build, test and run.
#   make            build build/lungo, build/liblungo.a, build/embed-sample and build/udata-sample
#   make run        install what is missing, build, run the showcase sample
#   make test       install what is missing, build, run every test
#   make test-tsan  the same tests under ThreadSanitizer
#   make test-asan  the same tests under AddressSanitizer + UBSan
#   make test-clang the same tests built with clang (warnings are errors)
#   make test-valgrind  memcheck over the command, the embedding sample and
#                   the copy-limit scripts, built into build/valgrind
#   make test-stress the stress and fault suite (tests/stress), about 2 min
#   make bench      the benchmark suite (see bench/README.md)
#   make install    binary, header, liblungo.a, liblungo.so, lungo.pc and
#                   lungo.1 under $(DESTDIR)$(PREFIX) (PREFIX=/usr/local);
#                   make uninstall removes them

CC      ?= cc
PKGS    := liblua5.4-dev libcriterion-dev libedit-dev pkg-config lua-cjson lua-lpeg man-db groff-base
LUA_CF  := $(shell pkg-config --cflags lua5.4 2>/dev/null)
LUA_LD  := $(shell pkg-config --libs lua5.4 2>/dev/null || echo -llua5.4)
EDIT_CF := $(shell pkg-config --cflags libedit 2>/dev/null)
EDIT_LD := $(shell pkg-config --libs libedit 2>/dev/null || echo -ledit)

VARIANT ?= release
# -DLNG_ALLOC_SLAB=0 makes the shards' heap (vm/alloc.c) take every block
# from malloc instead of carving small ones from its own chunks, so that
# memory checkers see each block's bounds: an overflow from one small block
# into the next stays inside a chunk, where neither ASan nor valgrind can
# see it. The asan and valgrind variants build so (into their own build
# directories: objects of both kinds must not mix).
MALLOC_HEAP := -DLNG_ALLOC_SLAB=0
# The library's objects export only what include/lungo.h declares (its
# declarations are marked visible); everything else is internal.
HIDDEN := -fvisibility=hidden
ALLOC_CF :=
# Criterion cannot start under ThreadSanitizer (its sandbox arena collides
# with TSan's shadow memory): the TSan tests build against tests/shim.
TEST_INC :=
TEST_LIBS := -lcriterion
ifeq ($(VARIANT),tsan)
  B := build/tsan
  SAN := -fsanitize=thread -O1
  TEST_INC := -Itests/shim
  TEST_LIBS :=
  # Lua suspends and raises with longjmp, which skips the C frames between
  # a yield (or error) and the resume that catches it; TSan's shadow stack
  # never sees those frames return and overflows after some 20 000 yields.
  # Code that Lua can jump over is built without entry/exit tracking (its
  # memory accesses are still checked); the scheduler keeps full stacks.
  LONGJMP_SAFE := --param=tsan-instrument-func-entry-exit=0
else ifeq ($(VARIANT),clang)
  B := build/clang
  CC := clang
  SAN := -O2
else ifeq ($(VARIANT),asan)
  B := build/asan
  SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -O1
  ALLOC_CF := $(MALLOC_HEAP)
else ifeq ($(VARIANT),valgrind)
  B := build/valgrind
  SAN := -O1
  ALLOC_CF := $(MALLOC_HEAP)
else
  B := build
  SAN := -O2
endif

# The version comes from the header, the one place it is written.
VERSION := $(shell sed -n 's/^\#define LUNGO_VERSION_\(MAJOR\|MINOR\|PATCH\) \([0-9]*\).*/\2/p' include/lungo.h | paste -sd.)
SOVER   := $(word 1,$(subst ., ,$(VERSION)))
SONAME  := liblungo.so.$(SOVER)
SONAME_FULL := liblungo.so.$(VERSION)

CFLAGS_ALL = -std=c11 -g -Wall -Wextra -Werror -D_GNU_SOURCE -pthread $(SAN) $(ALLOC_CF) $(LUA_CF) $(CFLAGS)
LDFLAGS_ALL = -pthread $(SAN) $(LDFLAGS)

LIB_SRC  := $(wildcard runtime/*.c vm/*.c lua-bindings/*.c)
STDLIB   := $(wildcard stdlib/*.lua)
HOST_SRC := $(wildcard host/*.c)
TEST_SRC := $(wildcard tests/*.c) $(if $(TEST_INC),tests/shim/runner.c)

LIB_OBJ  := $(LIB_SRC:%.c=$(B)/obj/%.o) $(B)/obj/stdlib_blob.o
HOST_OBJ := $(HOST_SRC:%.c=$(B)/obj/%.o)
TEST_OBJ := $(TEST_SRC:%.c=$(B)/obj/%.o)
STRESS_SRC := tests/stress/test_stress.c tests/listing.c tests/watchdog.c $(if $(TEST_INC),tests/shim/runner.c)
STRESS_OBJ := $(STRESS_SRC:%.c=$(B)/obj/%.o)
EMBED_OBJ := $(B)/obj/samples/embed/embed.o
UDATA_OBJ := $(B)/obj/samples/embed/udata.o

.PHONY: FORCE all run test test-stress stress-bins test-tsan test-asan test-clang test-valgrind leak-run deps bench clean \
	install uninstall test-install test-bins
all: $(B)/lungo $(B)/liblungo.a $(B)/$(SONAME_FULL) $(B)/embed-sample $(B)/udata-sample

# Objects depend on the flags they were built with: a change of flags (a
# new warning, -fvisibility) rebuilds them instead of mixing old and new.
FLAGS_STAMP := $(B)/obj/.flags
FLAGS_NOW := $(CC) $(CFLAGS_ALL) $(HIDDEN) $(LONGJMP_SAFE) $(TEST_INC)
$(FLAGS_STAMP): FORCE
	@mkdir -p $(dir $@)
	@echo '$(FLAGS_NOW)' | cmp -s - $@ || echo '$(FLAGS_NOW)' > $@
FORCE:

$(B)/obj/%.o: %.c $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(EXTRA) -Iinclude -MMD -MP -c $< -o $@

$(B)/obj/vm/%.o $(B)/obj/lua-bindings/%.o: EXTRA = $(LONGJMP_SAFE) $(HIDDEN)
$(B)/obj/runtime/%.o: EXTRA = $(HIDDEN)

$(B)/obj/tests/%.o: tests/%.c $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(TEST_INC) -Iinclude -MMD -MP -c $< -o $@

# Lua modules under stdlib/ are compiled into the library as C strings.
$(B)/obj/stdlib_blob.c: $(STDLIB) tools/embed.sh
	@mkdir -p $(dir $@)
	sh tools/embed.sh $(STDLIB) > $@

$(B)/obj/stdlib_blob.o: $(B)/obj/stdlib_blob.c $(FLAGS_STAMP)
	$(CC) $(CFLAGS_ALL) $(HIDDEN) -c $< -o $@

$(B)/liblungo.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

# ---- Packaging: the shared library, pkg-config, install ----
# The shared library's objects are position-independent and built apart:
# the static ones use the initial-exec TLS model (R_X86_64_TPOFF32), which
# a shared object cannot carry; -fPIC gives the thread-locals a dynamic
# model. Same flags otherwise, hidden visibility included.
PIC_OBJ := $(LIB_OBJ:$(B)/obj/%=$(B)/pic/%)
$(B)/pic/%.o: %.c $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(EXTRA) -fPIC -Iinclude -MMD -MP -c $< -o $@
$(B)/pic/vm/%.o $(B)/pic/lua-bindings/%.o: EXTRA = $(LONGJMP_SAFE) $(HIDDEN)
$(B)/pic/runtime/%.o: EXTRA = $(HIDDEN)
$(B)/pic/stdlib_blob.o: $(B)/obj/stdlib_blob.c $(FLAGS_STAMP)
	$(CC) $(CFLAGS_ALL) $(HIDDEN) -fPIC -c $< -o $@

# Linked against Lua and libm, so that `-llungo` is all a program needs
# (with -llua5.4 for its own calls into Lua, which lungo.pc adds).
$(B)/$(SONAME_FULL): $(PIC_OBJ)
	$(CC) $(LDFLAGS_ALL) -shared -Wl,-soname,$(SONAME) -Wl,-z,defs -o $@ $^ $(LUA_LD) -lm -ldl
	ln -sf $(SONAME_FULL) $(B)/$(SONAME)
	ln -sf $(SONAME) $(B)/liblungo.so

PREFIX  ?= /usr/local
DESTDIR ?=
BINDIR  ?= $(PREFIX)/bin
INCDIR  ?= $(PREFIX)/include
LIBDIR  ?= $(PREFIX)/lib
PCDIR   ?= $(LIBDIR)/pkgconfig
MANDIR  ?= $(PREFIX)/share/man

# lungo.pc names the directories of this install (PREFIX, LIBDIR...), so
# it is written by the install itself.
install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(INCDIR) $(DESTDIR)$(LIBDIR) \
	  $(DESTDIR)$(PCDIR) $(DESTDIR)$(MANDIR)/man1
	install -m 755 $(B)/lungo $(DESTDIR)$(BINDIR)/lungo
	install -m 644 include/lungo.h $(DESTDIR)$(INCDIR)/lungo.h
	install -m 644 $(B)/liblungo.a $(DESTDIR)$(LIBDIR)/liblungo.a
	install -m 755 $(B)/$(SONAME_FULL) $(DESTDIR)$(LIBDIR)/$(SONAME_FULL)
	ln -sf $(SONAME_FULL) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/liblungo.so
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@INCDIR@|$(INCDIR)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
	    -e 's|@VERSION@|$(VERSION)|' tools/lungo.pc.in > $(DESTDIR)$(PCDIR)/lungo.pc
	chmod 644 $(DESTDIR)$(PCDIR)/lungo.pc
	install -m 644 doc/lungo.1 $(DESTDIR)$(MANDIR)/man1/lungo.1

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/lungo $(DESTDIR)$(INCDIR)/lungo.h \
	  $(DESTDIR)$(LIBDIR)/liblungo.a $(DESTDIR)$(LIBDIR)/$(SONAME_FULL) \
	  $(DESTDIR)$(LIBDIR)/$(SONAME) $(DESTDIR)$(LIBDIR)/liblungo.so \
	  $(DESTDIR)$(PCDIR)/lungo.pc $(DESTDIR)$(MANDIR)/man1/lungo.1

# Installs into a temporary DESTDIR, builds samples/embed against that copy
# through pkg-config (static and shared), renders the man page, uninstalls
# (tests/install.sh). Part of `make test`.
test-install:
	@CC='$(CC)' SAN='$(SAN)' SAN_ENV="$(SAN_ENV)" MAKE='$(MAKE)' VARIANT='$(VARIANT)' \
	  VERSION='$(VERSION)' sh tests/install.sh

$(B)/lungo: $(HOST_OBJ) $(B)/liblungo.a
	$(CC) $(LDFLAGS_ALL) -o $@ $(HOST_OBJ) $(B)/liblungo.a $(LUA_LD) $(EDIT_LD) -lm -ldl

# samples/embed: a C program embedding the library (run by tests/test_capi.c).
$(B)/embed-sample: $(EMBED_OBJ) $(B)/liblungo.a
	$(CC) $(LDFLAGS_ALL) -o $@ $(EMBED_OBJ) $(B)/liblungo.a $(LUA_LD) -lm -ldl

# samples/embed/udata.c: userdata that crosses goroutines (run by tests/test_capi_udata.c).
$(B)/udata-sample: $(UDATA_OBJ) $(B)/liblungo.a
	$(CC) $(LDFLAGS_ALL) -o $@ $(UDATA_OBJ) $(B)/liblungo.a $(LUA_LD) -lm -ldl

$(B)/lungo-tests: $(TEST_OBJ) $(B)/liblungo.a
	$(CC) $(LDFLAGS_ALL) -o $@ $(TEST_OBJ) $(B)/liblungo.a $(LUA_LD) $(TEST_LIBS) -lm -ldl

# The stress suite is a binary of its own, so that `make test` stays quick.
$(B)/lungo-stress: $(STRESS_OBJ) $(B)/liblungo.a
	$(CC) $(LDFLAGS_ALL) -o $@ $(STRESS_OBJ) $(B)/liblungo.a $(LUA_LD) $(TEST_LIBS) -lm -ldl

deps:
	@sh tools/deps.sh $(PKGS)

run: deps
	@$(MAKE) --no-print-directory all
	./$(B)/lungo samples/showcase.lua

# Tests find the binary and the samples relative to the project root.
# (Built through a target of their own: `make x` with x up to date says so.)
test-bins: $(B)/lungo-tests $(B)/lungo $(B)/embed-sample $(B)/udata-sample $(B)/$(SONAME_FULL)
	@:

test: deps
	@$(MAKE) --no-print-directory test-bins
	LUNGO_BIN=$(CURDIR)/$(B)/lungo $(SAN_ENV) ./$(B)/lungo-tests $(TEST_ARGS)
	@$(MAKE) --no-print-directory test-install SAN_ENV="$(SAN_ENV)"

# Seeded: LUNGO_STRESS_SEED=N reruns a failure's workload (see tests/stress/test_stress.c).
stress-bins: $(B)/lungo-stress $(B)/lungo
	@:

test-stress: deps
	@$(MAKE) --no-print-directory stress-bins
	LUNGO_BIN=$(CURDIR)/$(B)/lungo $(SAN_ENV) ./$(B)/lungo-stress $(TEST_ARGS)

# report_thread_leaks=0: on an uncaught error or os.exit the lungo command
# exits at once, as lua does, without joining workers that may still compute.
test-tsan:
	@$(MAKE) --no-print-directory VARIANT=tsan test SAN_ENV="TSAN_OPTIONS='halt_on_error=1 second_deadlock_stack=1 report_thread_leaks=0'"

test-clang:
	@$(MAKE) --no-print-directory VARIANT=clang test

ASAN_ENV := ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp UBSAN_OPTIONS=print_stacktrace=1
# The suites run scripts in-process, where LeakSanitizer reports nothing
# of theirs; the leak checks run the binary itself, as under valgrind.
test-asan:
	@$(MAKE) --no-print-directory VARIANT=asan test SAN_ENV="$(ASAN_ENV)"
	@$(MAKE) --no-print-directory VARIANT=asan leak-run LEAK="env $(ASAN_ENV)" LEAK_NAME=asan-leaks

# No leak at exit, even with goroutines still blocked (a deadlock) or
# computing (os.exit); no invalid access where many values meet a Lua
# stack. Built as its own variant (every block from malloc, see above).
VG := valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode=9
# samples/subprocess.lua: children, pipes, popen; valgrind lacks pidfd_open
# (it warns of syscall 434), so its waits take the blocking pool's path.
VG_SCRIPTS := tests/lua/copy_upvalues.lua tests/lua/stack_limits.lua tests/lua/shared_dict.lua \
  tests/lua/timer_stop_reset.lua tests/lua/modules_cjson_lpeg.lua samples/subprocess.lua \
  tests/lua/cycles_freed.lua
test-valgrind:
	@$(MAKE) --no-print-directory VARIANT=valgrind leak-run LEAK="$(VG)" LEAK_NAME=valgrind

# The leak checks: LEAK runs each program (valgrind, or the ASan build's
# environment), which fails on a leak at exit.
LEAK ?= $(VG)
LEAK_NAME ?= valgrind
leak-run: all
	$(LEAK) ./$(B)/lungo -W 2 samples/showcase.lua 2000 >/dev/null
	$(LEAK) ./$(B)/lungo -W 2 -e 'local c = chan() for i = 1, 100 do go(function() c:recv() end) end chan():recv()' \
	  >/dev/null 2>&1; test $$? -eq 2
	$(LEAK) ./$(B)/embed-sample 2 2000 >/dev/null
	$(LEAK) ./$(B)/udata-sample 2 >/dev/null
	for s in $(VG_SCRIPTS); do $(LEAK) ./$(B)/lungo -W 2 $$s || exit 1; done
	@echo "$(LEAK_NAME): $(words x x x x $(VG_SCRIPTS)) passed, 0 failed"

bench: all $(B)/apifloor
	LUNGO=$(B)/lungo sh bench/run.sh
	LUNGO=$(B)/lungo sh bench/twins.sh
	./$(B)/apifloor

# Stock Lua's own costs, which the copier and the bindings are measured
# against (bench/apifloor.c: no lungo code in it).
$(B)/apifloor: bench/apifloor.c | $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -o $@ $< $(LDFLAGS_ALL) $(LUA_LD) -lm -ldl

clean:
	rm -rf build

-include $(patsubst %.o,%.d,$(LIB_OBJ) $(PIC_OBJ) $(HOST_OBJ) $(TEST_OBJ) $(STRESS_OBJ) $(EMBED_OBJ) $(UDATA_OBJ))
