/*
 * Tests for vm/alloc.c, the shards' heap, called directly as Lua calls it
 * (lng_alloc_lua), then under a whole lua_State. Under AddressSanitizer
 * the heap is plain malloc (LNG_ALLOC_SLAB 0): the tests of where blocks
 * land are skipped there, the ones of contents and accounting still run.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>
#include "../vm/alloc.h"

#define SLAB_ONLY() \
  do { if (!LNG_ALLOC_SLAB) cr_skip_test("the heap is plain malloc in this build"); } while (0)

static lng_alloc A;

static void *get(size_t n) { return lng_alloc_lua(&A, NULL, LUA_TTABLE, n); }
static void *re(void *p, size_t o, size_t n) { return lng_alloc_lua(&A, p, o, n); }
static void put(void *p, size_t o) { cr_assert_null(lng_alloc_lua(&A, p, o, 0)); }

/* Fills n bytes with a pattern that depends on seed, and checks one. */
static void fill(void *p, size_t n, unsigned seed) {
  unsigned char *b = p;
  for (size_t i = 0; i < n; i++) b[i] = (unsigned char)(seed * 31 + i * 7);
}

static int intact(const void *p, size_t n, unsigned seed) {
  const unsigned char *b = p;
  for (size_t i = 0; i < n; i++)
    if (b[i] != (unsigned char)(seed * 31 + i * 7)) return 0;
  return 1;
}

static void setup(void) { lng_alloc_init(&A); }

static void teardown(void) {
  lng_alloc_destroy(&A);
  cr_assert_eq(A.held, 0, "large blocks left: %zu bytes", A.held);
}

TestSuite(alloc, .init = setup, .fini = teardown);

Test(alloc, freed_block_is_reused) {
  SLAB_ONLY();
  void *p = get(64);
  put(p, 64);
  cr_assert_eq(get(57), p, "57 bytes share the 64-byte class");
  void *a = get(720), *b = get(720), *c = get(720);
  put(b, 720);
  put(a, 720);
  cr_assert_eq(get(720), a);
  cr_assert_eq(get(720), b);
  cr_assert_neq(get(720), c);
}

Test(alloc, blocks_carry_no_header) {
  SLAB_ONLY();
  char *first = get(56);
  for (int i = 1; i < 1000; i++) {
    char *p = get(56);
    cr_assert_eq(p, first + 56 * i, "block %d", i);
  }
  cr_assert_eq(A.held, LNG_ALLOC_CHUNK, "1000 tables fit in one chunk");
  cr_assert_eq(lng_alloc_used(&A), 56000);
  char *s = get(720);
  cr_assert_eq(s, first + 56000, "each class carves from the same chunk");
}

/* Kilobyte blocks (a message's string, a grown stack) are the heap's too,
   in classes 64 bytes apart up to LNG_ALLOC_SMALL: a 1049-byte block
   shares the 1088-byte class, and blocks of every size in the range hold
   their contents side by side. */
Test(alloc, kilobyte_blocks_come_from_chunks) {
  SLAB_ONLY();
  void *p = get(1049);
  cr_assert_eq(A.held, LNG_ALLOC_CHUNK, "no malloc of its own");
  put(p, 1049);
  cr_assert_eq(get(1088), p, "1049 and 1088 bytes share a class");
  cr_assert_eq(re(p, 1088, 1025), p, "so does 1025");
  cr_assert_neq(get(1089), p);
  put(p, 1025);
  enum { N = LNG_ALLOC_SMALL - 1024 };
  static char *blk[N];
  for (size_t i = 0; i < N; i++) {
    blk[i] = get(1025 + i);
    fill(blk[i], 1025 + i, (unsigned)i);
  }
  for (size_t i = 0; i < N; i++) cr_assert(intact(blk[i], 1025 + i, (unsigned)i), "block of %zu", 1025 + i);
  for (size_t i = 0; i < N; i++) put(blk[i], 1025 + i);
  size_t held = A.held;
  void *big = get(LNG_ALLOC_SMALL + 1);
  cr_assert_eq(A.held, held + LNG_ALLOC_SMALL + 1, "past the classes: malloc's");
  put(big, LNG_ALLOC_SMALL + 1);
}

/* When a chunk's tail is too short for a block, it serves a smaller class. */
Test(alloc, chunk_tail_is_kept) {
  SLAB_ONLY();
  char *first = get(1024);
  while (A.held == LNG_ALLOC_CHUNK) get(1024);
  cr_assert_eq(A.held, 2 * LNG_ALLOC_CHUNK);
  char *p = get(1000);             /* the 1008-byte class */
  cr_assert(p > first && p < first + LNG_ALLOC_CHUNK, "the tail of the first chunk");
}

/* A tail between two classes of the kilobyte range serves the class below
   it: 1072 bytes hold a 1024-byte block, never a 1088- or 1216-byte one. */
Test(alloc, chunk_tail_between_classes) {
  SLAB_ONLY();
  char *first = get(4096);
  for (int i = 1; i < 15; i++) get(4096);
  get(3008);                       /* leaves 65520 - 15 * 4096 - 3008 = 1072 */
  get(4096);                       /* a second chunk; the tail is spare */
  cr_assert_eq(A.held, 2 * LNG_ALLOC_CHUNK);
  char *p = get(1200);
  cr_assert(p < first || p >= first + LNG_ALLOC_CHUNK, "a 1216-byte block is not in the 1072-byte tail");
  char *q = get(1088);
  cr_assert(q < first || q >= first + LNG_ALLOC_CHUNK, "nor is a 1088-byte one");
  char *t = get(1024);
  cr_assert(t > first && t < first + LNG_ALLOC_CHUNK, "a 1024-byte one is");
}

Test(alloc, realloc_within_a_class_keeps_the_block) {
  SLAB_ONLY();
  char *p = get(50);
  fill(p, 50, 1);
  cr_assert_eq(re(p, 50, 56), p);
  cr_assert_eq(re(p, 56, 49), p);
  cr_assert(intact(p, 49, 1));
  char *s = get(710);
  cr_assert_eq(re(s, 710, 720), s);
  cr_assert_eq(lng_alloc_used(&A), 49 + 720);
}

Test(alloc, realloc_across_classes_keeps_contents) {
  static const size_t sizes[] = {1, 16, 17, 24, 56, 64, 129, 208, 720, 1024, 1025, 4096,
                                 100000, 2000, 1024, 700, 16, 3};
  size_t n = sizeof sizes / sizeof *sizes, cur = sizes[0];
  char *p = get(cur);
  fill(p, cur, 7);
  for (size_t i = 1; i < n; i++) {
    size_t to = sizes[i];
    p = re(p, cur, to);
    cr_assert_not_null(p);
    cr_assert(intact(p, cur < to ? cur : to, 7), "%zu -> %zu", cur, to);
    fill(p, to, 7);
    cur = to;
    cr_assert_eq(lng_alloc_used(&A), cur);
  }
  put(p, cur);
  cr_assert_eq(lng_alloc_used(&A), 0);
  if (LNG_ALLOC_SLAB) cr_assert_eq(A.held % LNG_ALLOC_CHUNK, 0, "no large block left");
}

Test(alloc, large_blocks_are_mallocs) {
  size_t held = A.held;
  void *p = get(LNG_ALLOC_SMALL + 1);
  cr_assert_eq(A.held, held + LNG_ALLOC_SMALL + 1);
  p = re(p, LNG_ALLOC_SMALL + 1, 1 << 20);
  cr_assert_eq(A.held, held + (1 << 20));
  put(p, 1 << 20);
  cr_assert_eq(A.held, held);
}

/* A NULL block's osize is the kind of object Lua is making, not a size. */
Test(alloc, accounting_ignores_the_kind_of_a_new_object) {
  void *p = lng_alloc_lua(&A, NULL, LUA_TTHREAD, 100);
  cr_assert_eq(lng_alloc_used(&A), 100);
  cr_assert_null(lng_alloc_lua(&A, NULL, LUA_TSTRING, 0));
  cr_assert_eq(lng_alloc_used(&A), 100);
  put(p, 100);
  cr_assert_eq(lng_alloc_used(&A), 0);
}

/* Random allocations, resizes and frees against a record of what each
   live block holds: a block that overlapped another would lose its
   pattern, a wrong class would show in the accounting. */
Test(alloc, random_mix_keeps_every_block) {
  enum { SLOTS = 1500, STEPS = 150000 };
  static char *ptr[SLOTS];
  static size_t len[SLOTS];
  static unsigned seed[SLOTS];
  uint64_t x = 0x2545f4914f6cdd1dull;
  size_t used = 0;
  for (unsigned step = 1; step <= STEPS; step++) {
    x ^= x << 13; x ^= x >> 7; x ^= x << 17;
    int i = (int)(x % SLOTS);
    unsigned r = (unsigned)(x >> 32);
    size_t n = r % 16 == 0 ? 1 + r % 5000 : 1 + (r >> 4) % 300;
    if (ptr[i]) cr_assert(intact(ptr[i], len[i], seed[i]), "slot %d at step %u", i, step);
    if (ptr[i] && (r >> 20) % 3 == 0) {
      put(ptr[i], len[i]);
      used -= len[i];
      ptr[i] = NULL;
    } else if (ptr[i]) {
      char *p = re(ptr[i], len[i], n);
      cr_assert_not_null(p);
      cr_assert(intact(p, len[i] < n ? len[i] : n, seed[i]));
      used = used - len[i] + n;
      ptr[i] = p, len[i] = n, seed[i] = step;
      fill(p, n, step);
    } else {
      ptr[i] = get(n);
      cr_assert_not_null(ptr[i]);
      used += n;
      len[i] = n, seed[i] = step;
      fill(ptr[i], n, step);
    }
    cr_assert_eq(lng_alloc_used(&A), used);
  }
  for (int i = 0; i < SLOTS; i++) {
    if (!ptr[i]) continue;
    cr_assert(intact(ptr[i], len[i], seed[i]), "slot %d at the end", i);
    put(ptr[i], len[i]);
  }
  cr_assert_eq(lng_alloc_used(&A), 0);
  if (LNG_ALLOC_SLAB) cr_assert_eq(A.held % LNG_ALLOC_CHUNK, 0, "no large block left");
}

/* Small blocks never given back go with their chunks. */
Test(alloc, destroy_frees_the_chunks) {
  SLAB_ONLY();
  for (int i = 0; i < 10000; i++) get(16 + (size_t)i % 1000);
  cr_assert_gt(A.held, 50 * LNG_ALLOC_CHUNK);
  lng_alloc_destroy(&A);
  cr_assert_eq(A.held, 0);
  cr_assert_eq(lng_alloc_used(&A), 0);
  cr_assert_null(A.chunks);
  void *p = get(100);           /* and the heap is usable again */
  put(p, 100);
}

Test(alloc, zeroed_heap_works) {
  static lng_alloc z;           /* all zero, never initialised */
  void *p = lng_alloc_lua(&z, NULL, 0, 40);
  cr_assert_not_null(p);
  cr_assert_null(lng_alloc_lua(&z, p, 40, 0));
  lng_alloc_destroy(&z);
  cr_assert_eq(z.held, 0);
}

/* A lua_State on the heap: Lua's own count of its bytes is the heap's. */
static size_t luacount(lua_State *L) {
  return (size_t)lua_gc(L, LUA_GCCOUNT, 0) * 1024 + (size_t)lua_gc(L, LUA_GCCOUNTB, 0);
}

Test(alloc, lua_state_runs_on_it) {
  lua_State *L = lua_newstate(lng_alloc_lua, &A);
  cr_assert_not_null(L);
  luaL_openlibs(L);
  cr_assert_eq(lng_alloc_used(&A), luacount(L));
  const char *code =
    "local t, s = {}, 0\n"
    "for i = 1, 20000 do t[i] = {i, tostring(i), function() return i end} end\n"
    "for i = 1, 20000, 2 do t[i] = nil end\n"
    "local h = {}\n"
    "for i = 2, 20000, 2 do h['k' .. i] = t[i][3]() end\n"
    "for k, v in pairs(h) do s = s + v end\n"
    "local big = string.rep('abc', 100000) .. 'end'\n"
    "local cos = {}\n"
    "for i = 1, 500 do cos[i] = coroutine.wrap(function(a) local b = coroutine.yield(a + 1) return a * b end) end\n"
    "for i = 1, 500 do s = s + cos[i](i) + cos[i](2) end\n"
    "t, h, cos = nil\n"
    "collectgarbage()\n"
    "return s, #big, big:sub(-3)";
  cr_assert_eq(luaL_loadstring(L, code), LUA_OK);
  cr_assert_eq(lua_pcall(L, 0, 3, 0), LUA_OK, "%s", lua_tostring(L, -1));
  lua_Integer want = 0;
  for (lua_Integer i = 2; i <= 20000; i += 2) want += i;
  for (lua_Integer i = 1; i <= 500; i++) want += i + 1 + 2 * i;
  cr_assert_eq(lua_tointeger(L, -3), want);
  cr_assert_eq(lua_tointeger(L, -2), 300003);
  cr_assert_str_eq(lua_tostring(L, -1), "end");
  lua_settop(L, 0);
  lua_gc(L, LUA_GCCOLLECT, 0);
  cr_assert_eq(lng_alloc_used(&A), luacount(L));
  lua_close(L);
  cr_assert_eq(lng_alloc_used(&A), 0);
  if (LNG_ALLOC_SLAB) cr_assert_eq(A.held % LNG_ALLOC_CHUNK, 0, "lua_close gave back every large block");
}
