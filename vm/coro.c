/*
 * Coroutines inside a goroutine; see coro.h. The resumers between a
 * goroutine's own thread and the coroutine running now are kept in the
 * goroutine's chain (gvm), so that a blocking operation can tell
 * beforehand whether every thread up to the goroutine's own may suspend
 * (lng_block_possible).
 */
#include <stdlib.h>
#include <lauxlib.h>
#include "vm.h"
#include "coro.h"

static int chain_push(lua_State *L, lng_gvm *gv) {
  if (gv->nchain == gv->chaincap) {
    int cap = gv->chaincap ? gv->chaincap * 2 : 4;
    if (cap > UINT16_MAX) return luaL_error(L, "coroutines nested too deeply");
    lua_State **c = realloc(gv->chain, (size_t)cap * sizeof *c);
    if (!c) return luaL_error(L, "not enough memory");
    gv->chain = c;
    gv->chaincap = cap;
  }
  gv->chain[gv->nchain++] = L;
  return 0;
}

static int resume_cont(lua_State *L, int status, lua_KContext ctx);

static int resume(lua_State *L, lua_State *co, int narg, const lng_resumer *r) {
  lng_gvm *gv = lng_gor_current(L);
  if (gv) chain_push(L, gv);
  int nres = 0;
  lng_shard *sh = lng_shard_of(L);
  lua_State *outer = sh->running;
  sh->running = co;
  int status = lua_resume(co, L, narg, &nres);
  sh->running = outer;
  if (gv) gv->nchain--;
  if (status == LUA_YIELD && gv && gv->pending != LNG_PEND_NONE) {
    lua_pop(co, nres);
    return lua_yieldk(L, 0, (lua_KContext)r, resume_cont);   /* the scheduler's: pass it up */
  }
  return r->done(L, co, status, nres);
}

static int resume_cont(lua_State *L, int status, lua_KContext ctx) {
  (void)status;
  return resume(L, lua_tothread(L, 1), 0, (const lng_resumer *)ctx);
}

int lng_coro_resume(lua_State *L, int narg, const lng_resumer *r) {
  return resume(L, lua_tothread(L, 1), narg, r);
}

int lng_coro_isgoroutine(lua_State *L, lua_State *T) {
  lng_gvm *gv = lng_gor_current(L);
  return gv && T == gv->co;
}
