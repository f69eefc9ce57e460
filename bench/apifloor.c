/*
 * bench/apifloor.c — what stock Lua 5.4 charges, on this machine, for the
 * steps a copy between states and a method call cannot avoid. No lungo
 * code runs here: one lua_State, the public API and Lua code, timed. The
 * figures are floors the copier and the bindings are measured against in
 * bench/README.md (a target below its floor cannot be met by lungo's code).
 *
 *   build/apifloor [ROUNDS=5]     (make bench runs it)
 *
 * Prints one line per figure, the median of ROUNDS:
 *   method_pair_ns     two calls of a C method on a userdata, from Lua
 *                      (mu:lock(); mu:unlock() with empty bodies)
 *   field_pair_ns      the same through a table field (t:f(), no metatable)
 *   record_build_ns    making {id=, name=, price=, tags={"a","b","c"}}
 *                      through the API, pre-sized, key strings pushed
 *   record_walk_ns     visiting its 7 entries with lua_next, reading each
 *   record_lua_ns      making the same record in Lua (a table constructor)
 *   records_plain_ns   bench/records.lua's own Lua work a record, with
 *                      neither channels nor copies (make it, price it,
 *                      check it: as if the three stages were one loop)
 *   array_walk_ns      per element: lua_next over a 10^6-integer array
 *   array_build_ns     per element: pushing and setting 10^6 integers into
 *                      a pre-sized table
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>

#define RECORDS 200000
#define ARRLEN 1000000

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int noop(lua_State *L) { (void)L; return 0; }

/* Runs a Lua chunk that returns its own time per iteration, in ns. */
static double luatime(lua_State *L, const char *code) {
  if (luaL_dostring(L, code) != LUA_OK) {
    fprintf(stderr, "apifloor: %s\n", lua_tostring(L, -1));
    exit(1);
  }
  double ns = lua_tonumber(L, -1);
  lua_pop(L, 1);
  return ns;
}

static void record(lua_State *L, lua_Integer i) {
  lua_createtable(L, 0, 4);
  lua_pushliteral(L, "id");
  lua_pushinteger(L, i);
  lua_rawset(L, -3);
  lua_pushliteral(L, "name");
  lua_pushliteral(L, "item12345");
  lua_rawset(L, -3);
  lua_pushliteral(L, "price");
  lua_pushnumber(L, (lua_Number)i * 1.5);
  lua_rawset(L, -3);
  lua_pushliteral(L, "tags");
  lua_createtable(L, 3, 0);
  lua_pushliteral(L, "a");
  lua_rawseti(L, -2, 1);
  lua_pushliteral(L, "b");
  lua_rawseti(L, -2, 2);
  lua_pushliteral(L, "c");
  lua_rawseti(L, -2, 3);
  lua_rawset(L, -3);
}

/* Visits every entry of the table at t, reading key and value as a copier
   must (their types, and the number or the string). */
static long walk(lua_State *L, int t) {
  long s = 0;
  size_t len;
  lua_pushnil(L);
  while (lua_next(L, t)) {
    int kt = lua_type(L, -2), vt = lua_type(L, -1);
    if (kt == LUA_TNUMBER) s += (long)lua_tointeger(L, -2);
    else if (kt == LUA_TSTRING) s += (long)lua_tolstring(L, -2, &len)[0];
    if (vt == LUA_TNUMBER) s += (long)lua_tointeger(L, -1);
    else if (vt == LUA_TSTRING) s += (long)lua_tolstring(L, -1, &len)[0];
    else if (vt == LUA_TTABLE) s += walk(L, lua_gettop(L));
    lua_pop(L, 1);
  }
  return s;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

enum { F_METHOD, F_FIELD, F_BUILD, F_WALK, F_LUAREC, F_PLAIN, F_AWALK, F_ABUILD, NF };
static const char *const names[NF] = {
  "method_pair_ns", "field_pair_ns", "record_build_ns", "record_walk_ns",
  "record_lua_ns", "records_plain_ns", "array_walk_ns", "array_build_ns"
};

int main(int argc, char **argv) {
  int rounds = argc > 1 ? atoi(argv[1]) : 5;
  if (rounds < 1 || rounds > 99) rounds = 5;
  double fig[NF][99];
  long sink = 0;
  lua_State *L = luaL_newstate();
  luaL_openlibs(L);
  /* a userdata whose methods are C functions, as go.mutex's are */
  lua_newuserdatauv(L, 8, 0);
  lua_createtable(L, 0, 1);
  lua_createtable(L, 0, 2);
  lua_pushcfunction(L, noop);
  lua_setfield(L, -2, "lock");
  lua_pushcfunction(L, noop);
  lua_setfield(L, -2, "unlock");
  lua_setfield(L, -2, "__index");
  lua_setmetatable(L, -2);
  lua_setglobal(L, "mu");
  lua_createtable(L, 0, 1);
  lua_pushcfunction(L, noop);
  lua_setfield(L, -2, "f");
  lua_setglobal(L, "t");
  for (int r = 0; r < rounds; r++) {
    fig[F_METHOD][r] = luatime(L,
      "local mu, n, clock = mu, 2000000, os.clock\n"
      "local t0 = clock()\n"
      "for _ = 1, n do mu:lock(); mu:unlock() end\n"
      "return (clock() - t0) * 1e9 / n");
    fig[F_FIELD][r] = luatime(L,
      "local t, n, clock = t, 2000000, os.clock\n"
      "local t0 = clock()\n"
      "for _ = 1, n do t:f(); t:f() end\n"
      "return (clock() - t0) * 1e9 / n");
    fig[F_LUAREC][r] = luatime(L,
      "local n, clock, keep = 1000000, os.clock\n"
      "local t0 = clock()\n"
      "for i = 1, n do keep = { id = i, name = 'item12345', price = i * 1.5, tags = { 'a', 'b', 'c' } } end\n"
      "return (clock() - t0) * 1e9 / n");
    fig[F_PLAIN][r] = luatime(L,
      "local n, clock = 200000, os.clock\n"
      "local t0 = clock()\n"
      "local ids, total, bad = 0, 0.0, 0\n"
      "for i = 1, n do\n"
      "  local r = { id = i, name = 'item' .. i, price = i * 1.5, tags = { 'a', 'b', 'c' } }\n"
      "  r.total = r.price * 2 * #r.tags\n"
      "  ids = ids + r.id\n"
      "  total = total + r.total\n"
      "  if r.name ~= 'item' .. r.id or r.tags[3] ~= 'c' then bad = bad + 1 end\n"
      "end\n"
      "assert(bad == 0 and ids == n * (n + 1) // 2)\n"
      "return (clock() - t0) * 1e9 / n");
    double t0 = now();
    for (int i = 0; i < RECORDS; i++) {
      record(L, i);
      lua_pop(L, 1);
    }
    fig[F_BUILD][r] = (now() - t0) * 1e9 / RECORDS;
    record(L, 7);
    int rec = lua_gettop(L);
    t0 = now();
    for (int i = 0; i < RECORDS; i++) sink += walk(L, rec);
    fig[F_WALK][r] = (now() - t0) * 1e9 / RECORDS;
    lua_pop(L, 1);
    /* (the array lives only here: a big table alive makes every GC cycle,
       and so every record above, dearer) */
    lua_gc(L, LUA_GCCOLLECT);
    t0 = now();
    lua_createtable(L, ARRLEN, 0);
    for (lua_Integer i = 1; i <= ARRLEN; i++) {
      lua_pushinteger(L, i);
      lua_rawseti(L, -2, i);
    }
    fig[F_ABUILD][r] = (now() - t0) * 1e9 / ARRLEN;
    t0 = now();
    sink += walk(L, lua_gettop(L));
    fig[F_AWALK][r] = (now() - t0) * 1e9 / ARRLEN;
    lua_pop(L, 1);
    lua_gc(L, LUA_GCCOLLECT);
  }
  for (int f = 0; f < NF; f++) {
    qsort(fig[f], (size_t)rounds, sizeof fig[f][0], cmp);
    printf("apifloor %s=%.1f\n", names[f], fig[f][(rounds - 1) / 2]);
  }
  lua_close(L);
  return sink == 42 ? 2 : 0;   /* (keeps the walks from being optimised away) */
}
