/*
 * The coroutine library, adjusted for goroutines. A goroutine's own thread
 * looks like Lua's main thread (running() says so, it cannot yield), and
 * resume/wrap let the scheduler's yields pass through (vm/coro.h): when
 * the resumed coroutine parks the goroutine, the resumer parks too and,
 * once the goroutine runs again, resumes the coroutine where it stopped.
 * create, status and close are Lua's own.
 */
#include <lauxlib.h>
#include "bindings.h"
#include "../vm/coro.h"
#include "../vm/args.h"

static lua_State *getco(lua_State *L) {
  lua_State *co = lua_tothread(L, 1);
  lng_argexpected(L, co, 1, "thread");
  return co;
}

/* Moves co's nres results to L; 0 (and drops them) when L has no room. */
static int move_results(lua_State *L, lua_State *co, int nres) {
  if (lua_checkstack(L, nres + 1)) {
    lua_xmove(co, L, nres);
    return 1;
  }
  lua_pop(co, nres);
  return 0;
}

/* coroutine.resume's results: true and what co yielded or returned, or
   false and its error. */
static int resume_done(lua_State *L, lua_State *co, int status, int nres) {
  if (status == LUA_OK || status == LUA_YIELD) {
    if (!move_results(L, co, nres)) {
      lua_pushboolean(L, 0);
      lua_pushliteral(L, "too many results to resume");
      return 2;
    }
    lua_pushboolean(L, 1);
    lua_insert(L, -(nres + 1));
    return nres + 1;
  }
  lua_xmove(co, L, 1);
  lua_pushboolean(L, 0);
  lua_insert(L, -2);
  return 2;
}

/* A wrapped function's: what co yielded or returned; its error is raised
   with position, the dead coroutine closed. */
static int wrap_done(lua_State *L, lua_State *co, int status, int nres) {
  if (status == LUA_OK || status == LUA_YIELD) {
    if (move_results(L, co, nres)) return nres;
    lua_pushliteral(L, "too many results to resume");
    return lua_error(L);
  }
  int st = lua_status(co);
  if (st != LUA_OK && st != LUA_YIELD) st = lua_resetthread(co);
  lua_xmove(co, L, 1);
  if (st != LUA_ERRMEM && lua_type(L, -1) == LUA_TSTRING) {
    luaL_where(L, 1);
    lua_insert(L, -2);
    lua_concat(L, 2);
  }
  return lua_error(L);
}

static const lng_resumer resumer = { resume_done }, wrapper = { wrap_done };

static int co_resume(lua_State *L) {
  lua_State *co = getco(L);
  int narg = lua_gettop(L) - 1;
  if (!lua_checkstack(co, narg)) {
    lua_pushboolean(L, 0);
    lua_pushliteral(L, "too many arguments to resume");
    return 2;
  }
  lua_xmove(L, co, narg);
  return lng_coro_resume(L, narg, &resumer);
}

static int co_wrapped(lua_State *L) {
  lua_State *co = lua_tothread(L, lua_upvalueindex(1));
  int narg = lua_gettop(L);
  if (!lua_checkstack(co, narg)) return luaL_error(L, "too many arguments to resume");
  lua_pushvalue(L, lua_upvalueindex(1));     /* at 1, where lng_coro_resume wants it */
  lua_insert(L, 1);
  lua_xmove(L, co, narg);
  return lng_coro_resume(L, narg, &wrapper);
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
  if (lng_coro_isgoroutine(L, L)) return luaL_error(L, "attempt to yield from outside a coroutine");
  return lua_yield(L, lua_gettop(L));
}

static int co_running(lua_State *L) {
  int ismain = lua_pushthread(L);
  lua_pushboolean(L, ismain || lng_coro_isgoroutine(L, L));
  return 2;
}

static int co_isyieldable(lua_State *L) {
  lua_State *co = lua_isnone(L, 1) ? L : getco(L);
  lua_pushboolean(L, lua_isyieldable(co) && !lng_coro_isgoroutine(L, co));
  return 1;
}

void lng_open_coroutine(lua_State *L) {
  static const luaL_Reg fns[] = {
    {"resume", co_resume}, {"wrap", co_wrap}, {"yield", co_yield},
    {"running", co_running}, {"isyieldable", co_isyieldable}, {NULL, NULL}
  };
  lua_getfield(L, -1, "coroutine");
  luaL_setfuncs(L, fns, 0);
  lng_setnames(L, -1, "coroutine.", fns);
  lua_pop(L, 1);
}
