/*
 * The `go` global: callable to spawn a goroutine, with the scheduler's
 * introspection as fields (id, count, worker, workers, yield, chan), and
 * go.spread, go() with a placement hint.
 */
#include <lauxlib.h>
#include "bindings.h"
#include "../vm/vm.h"
#include "../vm/block.h"
#include "../vm/args.h"

static int go_call(lua_State *L) {           /* go(fn, ...): the table is argument 1 */
  if (lua_type(L, 2) != LUA_TFUNCTION)
    return luaL_error(L, "bad argument #1 to 'go' (function expected, got %s)",
                      luaL_typename(L, 2));
  int64_t id;
  lng_gor_spawn(L, 2, &id);
  lua_pushinteger(L, (lua_Integer)id);
  return 1;
}

/* go.spread(fn, ...): go(), started on the next worker in turn
   (runtime/sched.h): for goroutines meant to run side by side. */
static int go_spread(lua_State *L) {
  if (lua_type(L, 1) != LUA_TFUNCTION)
    return luaL_error(L, "bad argument #1 to 'go.spread' (function expected, got %s)",
                      luaL_typename(L, 1));
  int64_t id;
  lng_gor_spawn_flags(L, 1, &id, LNG_G_SPREAD);
  lua_pushinteger(L, (lua_Integer)id);
  return 1;
}

static int go_id(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)lng_gor_id(L));
  return 1;
}

static int go_count(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)lng_sched_live(lng_shard_of(L)->rt->sched));
  return 1;
}

static int go_worker(lua_State *L) {
  lua_pushinteger(L, lng_shard_of(L)->index + 1);
  return 1;
}

static int go_workers(lua_State *L) {
  lua_pushinteger(L, lng_shard_of(L)->rt->nworkers);
  return 1;
}

static int go_yield(lua_State *L) {
  return lng_block_yield(L);
}

void lng_open_go(lua_State *L) {
  static const luaL_Reg fns[] = {
    {"id", go_id}, {"count", go_count}, {"worker", go_worker},
    {"workers", go_workers}, {"yield", go_yield}, {"spread", go_spread}, {NULL, NULL}
  };
  luaL_newlib(L, fns);
  lng_setnames(L, -1, "go.", fns);
  lua_newtable(L);
  lua_pushcfunction(L, go_call);
  lng_setname(L, -1, "go");
  lua_setfield(L, -2, "__call");
  lua_setmetatable(L, -2);
  lua_setfield(L, -2, "go");
}
