/*
 * Base functions that must see the running goroutine: load, loadfile and
 * dofile default to its globals; os.exit ends the program through the
 * runtime instead of exit(); print writes each line with one call, so
 * lines from different workers never interleave (one longer than the
 * pool's pieces, 512 bytes, may when it waits for a pipe: stdio.c).
 */
#include <stdio.h>
#include <string.h>
#include <lauxlib.h>
#include "bindings.h"
#include "../vm/vm.h"
#include "../vm/args.h"

/* load and loadfile: Lua's own (upvalue 1), with env defaulted (argument
   envarg). Arguments are checked here, so that errors name the function
   the program called rather than the one it reaches through lua_call. */
static int with_env(lua_State *L, int envarg) {
  if (lua_gettop(L) < envarg) {
    lua_settop(L, envarg - 1);
    lng_shard_pushenv(L);
  }
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
  return lua_gettop(L);
}

static int b_load(lua_State *L) {
  if (lua_type(L, 1) != LUA_TSTRING) lng_checktype(L, 1, LUA_TFUNCTION);
  lng_optstring(L, 2, NULL);
  lng_optstring(L, 3, NULL);
  return with_env(L, 4);
}

static int b_loadfile(lua_State *L) {
  lng_optstring(L, 1, NULL);
  lng_optstring(L, 2, NULL);
  return with_env(L, 3);
}

static int dofile_cont(lua_State *L, int status, lua_KContext ctx) {
  (void)status; (void)ctx;
  return lua_gettop(L) - 1;
}

static int b_dofile(lua_State *L) {
  const char *fname = lng_optstring(L, 1, NULL);
  lua_settop(L, 1);
  if (luaL_loadfile(L, fname) != LUA_OK) return lua_error(L);
  lng_shard_pushenv(L);
  if (!lua_setupvalue(L, -2, 1)) lua_pop(L, 1);
  lua_callk(L, 0, LUA_MULTRET, 0, dofile_cont);
  return dofile_cont(L, LUA_OK, 0);
}

/* setmetatable/getmetatable on a goroutine's globals: its read-through
   metatable is an implementation detail, invisible and replaceable. */
static int b_setmetatable(lua_State *L) {
  int t = lua_type(L, 2);
  lng_checktype(L, 1, LUA_TTABLE);
  lng_argexpected(L, t == LUA_TNIL || t == LUA_TTABLE, 2, "nil or table");
  if (lng_shard_isproxyenv(L, 1)) lng_shard_materialize(L, 1);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, 1);
  return 1;
}

static int b_getmetatable(lua_State *L) {
  lng_checkany(L, 1);
  if (lng_shard_isproxyenv(L, 1)) {
    lua_pushnil(L);
    return 1;
  }
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, 1);
  return 1;
}

static int os_exit(lua_State *L) {
  int code;
  if (lua_isboolean(L, 1)) code = lua_toboolean(L, 1) ? 0 : 1;
  else code = (int)lng_optinteger(L, 1, 0);
  if (lua_toboolean(L, 2)) atomic_store(&lng_shard_of(L)->rt->exitclose, 1);
  return lng_gor_exit(L, code);
}

static int b_print(lua_State *L) {
  int n = lua_gettop(L);
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  for (int i = 1; i <= n; i++) {
    size_t len;
    const char *s = luaL_tolstring(L, i, &len);
    if (i > 1) luaL_addchar(&b, '\t');
    luaL_addvalue(&b);
    (void)s;
  }
  luaL_addchar(&b, '\n');
  luaL_pushresult(&b);
  size_t len;
  const char *s = lua_tolstring(L, -1, &len);
  return lng_stdout_print(L, s, len);
}

void lng_open_base(lua_State *L) {
  static const luaL_Reg named[] = {     /* (the names only) */
    {"load", NULL}, {"loadfile", NULL}, {"setmetatable", NULL}, {"getmetatable", NULL},
    {"dofile", NULL}, {NULL, NULL}
  };
  /* wrappers around the stock functions, each keeping it as upvalue 1 */
  static const luaL_Reg wrapped[] = {
    {"load", b_load}, {"loadfile", b_loadfile}, {"setmetatable", b_setmetatable},
    {"getmetatable", b_getmetatable}, {NULL, NULL}
  };
  for (const luaL_Reg *r = wrapped; r->name; r++) {
    lua_getfield(L, -1, r->name);
    lua_pushcclosure(L, r->func, 1);
    lua_setfield(L, -2, r->name);
  }
  lua_pushcfunction(L, b_dofile);
  lua_setfield(L, -2, "dofile");
  lua_pushcfunction(L, b_print);
  lua_setfield(L, -2, "print");
  lng_setnames(L, -1, "", named);
  lua_getfield(L, -1, "os");
  lua_pushcfunction(L, os_exit);
  lng_setname(L, -1, "os.exit");
  lua_setfield(L, -2, "exit");
  lua_pop(L, 1);
}
