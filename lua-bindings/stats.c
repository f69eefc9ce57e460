/*
 * go.stats(): the runtime's figures, for scripts that measure themselves.
 */
#include <lauxlib.h>
#include "bindings.h"
#include "../vm/vm.h"
#include "../vm/args.h"

static int go_stats(lua_State *L) {
  lng_runtime *rt = lng_shard_of(L)->rt;
  size_t mem = 0;
  /* one reading of the counts (sum(per_worker) <= goroutines, see
     lng_sched_stats), into a scratch block the collector takes back */
  int64_t *pw = lua_newuserdatauv(L, (size_t)rt->nworkers * sizeof *pw, 0);
  int64_t live = lng_sched_stats(rt->sched, pw);
  lua_createtable(L, 0, 6);
  lua_createtable(L, rt->nworkers, 0);
  for (int i = 0; i < rt->nworkers; i++) {
    lua_pushinteger(L, (lua_Integer)pw[i]);
    lua_rawseti(L, -2, i + 1);
    mem += lng_alloc_used(&rt->shards[i].heap);
  }
  lua_setfield(L, -2, "per_worker");
  lua_pushinteger(L, (lua_Integer)live);
  lua_setfield(L, -2, "goroutines");
  lua_pushinteger(L, (lua_Integer)lng_sched_spawned(rt->sched));
  lua_setfield(L, -2, "spawned");
  lua_pushinteger(L, rt->nworkers);
  lua_setfield(L, -2, "workers");
  lua_pushinteger(L, (lua_Integer)mem);
  lua_setfield(L, -2, "memory");
  return 1;
}

void lng_open_stats(lua_State *L) {
  lua_getfield(L, -1, "go");
  lua_pushcfunction(L, go_stats);
  lng_setname(L, -1, "go.stats");
  lua_setfield(L, -2, "stats");
  lua_pop(L, 1);
}
