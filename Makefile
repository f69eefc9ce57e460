# lungo — build, test and run.
#   make            build build/lungo, build/liblungo.a and build/embed-sample
#   make run        install what is missing, build, run the showcase sample
#   make test       install what is missing, build, run every test
#   make test-tsan  the same tests under ThreadSanitizer
#   make test-asan  the same tests under AddressSanitizer + UBSan
#   make test-clang the same tests built with clang (warnings are errors)
#   make test-valgrind  memcheck over the command, the embedding sample and
#                   the copy-limit scripts, built into build/valgrind
#   make test-stress the stress and fault suite (tests/stress), about 2 min
#   make bench      the benchmark suite (see bench/README.md)

CC      ?= cc
PKGS    := liblua5.4-dev libcriterion-dev libedit-dev pkg-config
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

CFLAGS_ALL = -std=c11 -g -Wall -Wextra -Werror -D_GNU_SOURCE -pthread $(SAN) $(ALLOC_CF) $(LUA_CF) $(CFLAGS)
LDFLAGS_ALL = -pthread $(SAN) $(LDFLAGS)

LIB_SRC  := $(wildcard runtime/*.c vm/*.c lua-bindings/*.c)
STDLIB   := $(wildcard stdlib/*.lua)
HOST_SRC := $(wildcard host/*.c)
TEST_SRC := $(wildcard tests/*.c) $(if $(TEST_INC),tests/shim/runner.c)

LIB_OBJ  := $(LIB_SRC:%.c=$(B)/obj/%.o) $(B)/obj/stdlib_blob.o
HOST_OBJ := $(HOST_SRC:%.c=$(B)/obj/%.o)
TEST_OBJ := $(TEST_SRC:%.c=$(B)/obj/%.o)
STRESS_SRC := tests/stress/test_stress.c tests/listing.c $(if $(TEST_INC),tests/shim/runner.c)
STRESS_OBJ := $(STRESS_SRC:%.c=$(B)/obj/%.o)
EMBED_OBJ := $(B)/obj/samples/embed/embed.o

.PHONY: FORCE all run test test-stress test-tsan test-asan test-clang test-valgrind valgrind-run deps bench clean
all: $(B)/lungo $(B)/liblungo.a $(B)/embed-sample

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

$(B)/lungo: $(HOST_OBJ) $(B)/liblungo.a
	$(CC) $(LDFLAGS_ALL) -o $@ $(HOST_OBJ) $(B)/liblungo.a $(LUA_LD) $(EDIT_LD) -lm -ldl

# samples/embed: a C program embedding the library (run by tests/test_capi.c).
$(B)/embed-sample: $(EMBED_OBJ) $(B)/liblungo.a
	$(CC) $(LDFLAGS_ALL) -o $@ $(EMBED_OBJ) $(B)/liblungo.a $(LUA_LD) -lm -ldl

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
test: deps
	@$(MAKE) --no-print-directory $(B)/lungo-tests $(B)/lungo $(B)/embed-sample
	LUNGO_BIN=$(CURDIR)/$(B)/lungo $(SAN_ENV) ./$(B)/lungo-tests $(TEST_ARGS)

# Seeded: LUNGO_STRESS_SEED=N reruns a failure's workload (see tests/stress/test_stress.c).
test-stress: deps
	@$(MAKE) --no-print-directory $(B)/lungo-stress $(B)/lungo
	LUNGO_BIN=$(CURDIR)/$(B)/lungo $(SAN_ENV) ./$(B)/lungo-stress $(TEST_ARGS)

# report_thread_leaks=0: on an uncaught error or os.exit the lungo command
# exits at once, as lua does, without joining workers that may still compute.
test-tsan:
	@$(MAKE) --no-print-directory VARIANT=tsan test SAN_ENV="TSAN_OPTIONS='halt_on_error=1 second_deadlock_stack=1 report_thread_leaks=0'"

test-clang:
	@$(MAKE) --no-print-directory VARIANT=clang test

test-asan:
	@$(MAKE) --no-print-directory VARIANT=asan test SAN_ENV="ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp UBSAN_OPTIONS=print_stacktrace=1"

# No leak at exit, even with goroutines still blocked (a deadlock) or
# computing (os.exit); no invalid access where many values meet a Lua
# stack. Built as its own variant (every block from malloc, see above).
VG := valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode=9
# samples/subprocess.lua: children, pipes, popen; valgrind lacks pidfd_open
# (it warns of syscall 434), so its waits take the blocking pool's path.
VG_SCRIPTS := tests/lua/copy_upvalues.lua tests/lua/stack_limits.lua samples/subprocess.lua
test-valgrind:
	@$(MAKE) --no-print-directory VARIANT=valgrind valgrind-run

valgrind-run: all
	$(VG) ./$(B)/lungo -W 2 samples/showcase.lua 2000 >/dev/null
	$(VG) ./$(B)/lungo -W 2 -e 'local c = chan() for i = 1, 100 do go(function() c:recv() end) end chan():recv()' \
	  >/dev/null 2>&1; test $$? -eq 2
	$(VG) ./$(B)/embed-sample >/dev/null
	for s in $(VG_SCRIPTS); do $(VG) ./$(B)/lungo -W 2 $$s || exit 1; done
	@echo "valgrind: $(words x x x $(VG_SCRIPTS)) passed, 0 failed"

bench: all
	LUNGO=$(B)/lungo sh bench/run.sh

clean:
	rm -rf build

-include $(patsubst %.o,%.d,$(LIB_OBJ) $(HOST_OBJ) $(TEST_OBJ) $(STRESS_OBJ) $(EMBED_OBJ))
