/*
 * The coroutine library, adjusted for goroutines. A goroutine's own thread
 * looks like Lua's main thread (running() says so, it cannot yield), and
 * resume/wrap let the scheduler's yields pass through: when the resumed
 * coroutine parks the goroutine, the resumer parks too and, once the
 * goroutine runs again, resumes the coroutine where it stopped.
 * create, status and close are Lua's own.
 */
#include <stdlib.h>
#include <lauxlib.h>
#include "../vm/vm.h"
#include "../vm/args.h"

#define K_RESUME 0
#define K_WRAP   1

static lua_State *getco(lua_State *L) {
  lua_State *co = lua_tothread(L, 1);
  lng_argexpected(L, co, 1, "thread");
  return co;
}

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

static int finish(lua_State *L, lua_State *co, int status, int nres, lua_KContext k) {
  if (status == LUA_OK || status == LUA_YIELD) {
    if (!lua_checkstack(L, nres + 1)) {
      lua_pop(co, nres);
      lua_pushboolean(L, 0);
      lua_pushliteral(L, "too many results to resume");
      return k == K_WRAP ? lua_error(L) : 2;
    }
    lua_xmove(co, L, nres);
    if (k == K_WRAP) return nres;
    lua_pushboolean(L, 1);
    lua_insert(L, -(nres + 1));
    return nres + 1;
  }
  if (k == K_RESUME) {
    lua_xmove(co, L, 1);
    lua_pushboolean(L, 0);
    lua_insert(L, -2);
    return 2;
  }
  /* wrap: close the dead coroutine and propagate its error with position */
  int st = lua_status(co);
  if (st != LUA_OK && st != LUA_YIELD) {
    st = lua_resetthread(co);
    lua_xmove(co, L, 1);
  } else {
    lua_xmove(co, L, 1);
  }
  if (st != LUA_ERRMEM && lua_type(L, -1) == LUA_TSTRING) {
    luaL_where(L, 1);
    lua_insert(L, -2);
    lua_concat(L, 2);
  }
  return lua_error(L);
}

static int resume_cont(lua_State *L, int status, lua_KContext k);

static int do_resume(lua_State *L, lua_State *co, int narg, lua_KContext k) {
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
    return lua_yieldk(L, 0, k, resume_cont);   /* the scheduler's: pass it up */
  }
  return finish(L, co, status, nres, k);
}

static int resume_cont(lua_State *L, int status, lua_KContext k) {
  (void)status;
  lua_State *co = k == K_WRAP ? lua_tothread(L, lua_upvalueindex(1)) : lua_tothread(L, 1);
  return do_resume(L, co, 0, k);
}

static int co_resume(lua_State *L) {
  lua_State *co = getco(L);
  int narg = lua_gettop(L) - 1;
  if (!lua_checkstack(co, narg)) {
    lua_pushboolean(L, 0);
    lua_pushliteral(L, "too many arguments to resume");
    return 2;
  }
  lua_xmove(L, co, narg);
  return do_resume(L, co, narg, K_RESUME);
}

static int co_wrapped(lua_State *L) {
  lua_State *co = lua_tothread(L, lua_upvalueindex(1));
  int narg = lua_gettop(L);
  if (!lua_checkstack(co, narg)) return luaL_error(L, "too many arguments to resume");
  lua_xmove(L, co, narg);
  return do_resume(L, co, narg, K_WRAP);
}

static int co_wrap(lua_State *L) {
  lng_checktype(L, 1, LUA_TFUNCTION);
  lua_State *co = lua_newthread(L);
  lua_pushvalue(L, 1);
  lua_xmove(L, co, 1);
  lua_pushcclosure(L, co_wrapped, 1);
  return 1;
}

static int co_yield(lua_State *L) {
  lng_gvm *gv = lng_gor_current(L);
  if (gv && L == gv->co) return luaL_error(L, "attempt to yield from outside a coroutine");
  return lua_yield(L, lua_gettop(L));
}

static int co_running(lua_State *L) {
  lng_gvm *gv = lng_gor_current(L);
  int ismain = lua_pushthread(L);
  lua_pushboolean(L, ismain || (gv && L == gv->co));
  return 2;
}

static int co_isyieldable(lua_State *L) {
  lua_State *co = lua_isnone(L, 1) ? L : getco(L);
  lng_gvm *gv = lng_gor_current(L);
  lua_pushboolean(L, lua_isyieldable(co) && !(gv && co == gv->co));
  return 1;
}

void lng_open_coroutine(lua_State *L) {
  static const luaL_Reg fns[] = {
    {"resume", co_resume}, {"wrap", co_wrap}, {"yield", co_yield},
    {"running", co_running}, {"isyieldable", co_isyieldable}, {NULL, NULL}
  };
  luaL_setfuncs(L, fns, 0);
  lng_setnames(L, -1, "coroutine.", fns);
}
