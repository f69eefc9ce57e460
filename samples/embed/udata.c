/*
 * Userdata that crosses between goroutines (include/lungo.h, lng_udtype):
 *
 *   vec3   by value: a 3-vector of doubles; a goroutine that receives one
 *          gets its own copy, rebuilt from 24 bytes.
 *   tally  by reference: a counter in C shared by every goroutine that
 *          holds it, on every worker; released (once) when the last
 *          userdata standing for it, on any worker, is collected.
 *
 * Twenty goroutines add to one tally and send vec3 values back; the main
 * goroutine checks the sums, and the C side checks that the tally was
 * released exactly once after lng_destroy.
 *
 * Usage: udata-sample [workers]   (default 4). Prints one line, exits 0 when OK.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <lua.h>
#include <lauxlib.h>
#include "lungo.h"

/* ---- vec3: by value ---- */

typedef struct vec3 { double x, y, z; } vec3;

static vec3 *newvec(lua_State *L, double x, double y, double z) {
  vec3 *v = lua_newuserdatauv(L, sizeof *v, 0);
  *v = (vec3){ x, y, z };
  luaL_setmetatable(L, "vec3");
  return v;
}

static int vec_new(lua_State *L) {
  newvec(L, luaL_checknumber(L, 1), luaL_checknumber(L, 2), luaL_checknumber(L, 3));
  return 1;
}

static int vec_index(lua_State *L) {
  vec3 *v = luaL_checkudata(L, 1, "vec3");
  const char *k = luaL_checkstring(L, 2);
  if (strcmp(k, "x") == 0) lua_pushnumber(L, v->x);
  else if (strcmp(k, "y") == 0) lua_pushnumber(L, v->y);
  else if (strcmp(k, "z") == 0) lua_pushnumber(L, v->z);
  else lua_pushnil(L);
  return 1;
}

static int vec_add(lua_State *L) {
  vec3 *a = luaL_checkudata(L, 1, "vec3"), *b = luaL_checkudata(L, 2, "vec3");
  newvec(L, a->x + b->x, a->y + b->y, a->z + b->z);
  return 1;
}

/* The bytes are the struct itself: both ends are this process. */
static int vec_encode(lua_State *L, int idx) {
  vec3 *v = luaL_testudata(L, idx, "vec3");
  if (!v) return 0;
  lua_pushlstring(L, (const char *)v, sizeof *v);
  return 1;
}

static int vec_decode(lua_State *L, const char *bytes, size_t len) {
  if (len != sizeof(vec3)) return 0;
  vec3 *v = newvec(L, 0, 0, 0);
  memcpy(v, bytes, sizeof *v);
  return 1;
}

static const lng_udtype VEC3 = { "vec3", vec_encode, vec_decode, NULL, NULL };

/* ---- tally: by reference ---- */

typedef struct tally { atomic_llong n; atomic_int *released; } tally;

static void tally_release(void *p) {
  tally *t = p;
  atomic_fetch_add(t->released, 1);
  free(t);
}

/* A tally userdata holds one reference to the shared object. */
static void pushtally(lua_State *L, lng_shared *s) {
  lng_shared **u = lua_newuserdatauv(L, sizeof *u, 0);
  *u = lng_shared_ref(s);
  luaL_setmetatable(L, "tally");
}

static tally *checktally(lua_State *L) {
  lng_shared **u = luaL_checkudata(L, 1, "tally");
  return lng_shared_ptr(*u);
}

static int tally_new(lua_State *L) {
  atomic_int *released = lua_touserdata(L, lua_upvalueindex(1));
  tally *t = malloc(sizeof *t);
  if (!t) return luaL_error(L, "not enough memory");
  atomic_init(&t->n, 0);
  t->released = released;
  lng_shared *s = lng_shared_new(t, tally_release);
  if (!s) { free(t); return luaL_error(L, "not enough memory"); }
  pushtally(L, s);
  lng_shared_unref(s);                    /* the userdata holds its own */
  return 1;
}

static int tally_add(lua_State *L) {
  tally *t = checktally(L);
  lua_pushinteger(L, (lua_Integer)(atomic_fetch_add(&t->n, luaL_checkinteger(L, 2)) +
                                   luaL_checkinteger(L, 2)));
  return 1;
}

static int tally_get(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)atomic_load(&checktally(L)->n));
  return 1;
}

static int tally_gc(lua_State *L) {
  lng_shared **u = luaL_checkudata(L, 1, "tally");
  lng_shared_unref(*u);
  *u = NULL;
  return 0;
}

static lng_shared *tally_share(lua_State *L, int idx) {
  lng_shared **u = luaL_testudata(L, idx, "tally");
  return u && *u ? lng_shared_ref(*u) : NULL;
}

static const lng_udtype TALLY = { "tally", NULL, NULL, tally_share, pushtally };

/* ---- every shard gets both types ---- */

static void on_shard(lua_State *L, int worker, void *ud) {
  (void)worker;
  luaL_newmetatable(L, "vec3");
  lua_pushcfunction(L, vec_index);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, vec_add);
  lua_setfield(L, -2, "__add");
  lua_pushlightuserdata(L, (void *)&VEC3);      /* opts in: by value */
  lua_setfield(L, -2, LNG_UDTYPE_FIELD);
  lua_pop(L, 1);
  luaL_newmetatable(L, "tally");
  lua_newtable(L);
  lua_pushcfunction(L, tally_add);
  lua_setfield(L, -2, "add");
  lua_pushcfunction(L, tally_get);
  lua_setfield(L, -2, "get");
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, tally_gc);
  lua_setfield(L, -2, "__gc");
  lua_pushlightuserdata(L, (void *)&TALLY);     /* opts in: by reference */
  lua_setfield(L, -2, LNG_UDTYPE_FIELD);
  lua_pop(L, 1);
  lua_register(L, "vec3", vec_new);
  lua_pushlightuserdata(L, ud);
  lua_pushcclosure(L, tally_new, 1);
  lua_setglobal(L, "tally");
}

static const char SCRIPT[] =
  "local N, M = 20, 1000\n"
  "local t, out = tally(), chan(N)\n"
  "for i = 1, N do\n"
  "  go(function(k, base)\n"                     /* base: a vec3 copied in */
  "    for _ = 1, M do t:add(1) end\n"           /* t: an upvalue, by reference */
  "    out:send({ v = base + vec3(k, 2 * k, 0), w = go.worker() })\n"
  "  end, i, vec3(0, 0, 1))\n"
  "end\n"
  "local sx, sy, sz = 0, 0, 0\n"
  "for _ = 1, N do\n"
  "  local r = out:recv()\n"
  "  sx, sy, sz = sx + r.v.x, sy + r.v.y, sz + r.v.z\n"
  "end\n"
  "assert(t:get() == N * M, 'tally ' .. t:get())\n"
  "assert(sx == 210 and sy == 420 and sz == 20, 'sums')\n"
  "local ok, err = pcall(out.send, out, { bad = io.tmpfile() })\n"
  "assert(not ok and err:find(\"cannot copy userdata 'FILE*'\", 1, true), err)\n";

int main(int argc, char **argv) {
  int workers = argc > 1 ? atoi(argv[1]) : 4;
  atomic_int released;
  atomic_init(&released, 0);
  lng_config cfg;
  lng_config_init(&cfg);
  cfg.workers = workers;
  cfg.on_shard = on_shard;
  cfg.ud = &released;
  lng_runtime *rt = lng_new(&cfg);
  if (!rt) { fprintf(stderr, "udata: lng_new failed\n"); return 1; }
  int st = lng_main_string(rt, SCRIPT, sizeof SCRIPT - 1, "=udata");
  if (st == LNG_OK) st = lng_start(rt);
  if (st == LNG_OK) st = lng_wait(rt);
  if (st != LNG_OK) fprintf(stderr, "udata: %s\n%s\n", lng_status_string(st), lng_message(rt));
  lng_destroy(rt);                              /* every shard closed: every userdata collected */
  int rel = atomic_load(&released);
  int ok = st == LNG_OK && rel == 1;
  printf("udata: vec3 by value, tally by reference, %d workers: released %d: %s\n",
         workers, rel, ok ? "OK" : "FAILED");
  return ok ? 0 : 1;
}
