/*
 * Argument errors that name lungo's functions; see args.h.
 */
#include <string.h>
#include "args.h"

static const char NAMES_KEY = 'n';   /* registry[&NAMES_KEY] = {function -> name} */

static void getnames(lua_State *L) {
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &NAMES_KEY) != LUA_TTABLE) {
    lua_pop(L, 1);
    lua_newtable(L);
    lua_pushvalue(L, -1);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &NAMES_KEY);
  }
}

void lng_setname(lua_State *L, int idx, const char *name) {
  idx = lua_absindex(L, idx);
  getnames(L);
  lua_pushvalue(L, idx);
  lua_pushstring(L, name);
  lua_rawset(L, -3);
  lua_pop(L, 1);
}

void lng_setnames(lua_State *L, int idx, const char *prefix, const luaL_Reg *fns) {
  idx = lua_absindex(L, idx);
  for (; fns->name; fns++) {
    if (lua_getfield(L, idx, fns->name) == LUA_TFUNCTION) {
      lua_pushfstring(L, "%s%s", prefix, fns->name);
      lng_setname(L, -2, lua_tostring(L, -1));
      lua_pop(L, 1);
    }
    lua_pop(L, 1);
  }
}

int lng_argerror(lua_State *L, int arg, const char *extramsg) {
  lua_Debug ar;
  if (!lua_getstack(L, 0, &ar)) return luaL_argerror(L, arg, extramsg);
  lua_getinfo(L, "nf", &ar);               /* pushes the running function */
  getnames(L);
  lua_insert(L, -2);
  lua_rawget(L, -2);
  const char *name = lua_tostring(L, -1);
  if (!name) {
    lua_pop(L, 2);
    return luaL_argerror(L, arg, extramsg);
  }
  if (ar.namewhat && strcmp(ar.namewhat, "method") == 0) {
    arg--;                                 /* self is not counted */
    if (arg == 0) return luaL_error(L, "calling '%s' on bad self (%s)", name, extramsg);
  } else if (strchr(name, ':')) {
    name = luaL_gsub(L, name, ":", ".");   /* as called: self is argument 1 */
  }
  return luaL_error(L, "bad argument #%d to '%s' (%s)", arg, name, extramsg);
}

int lng_typeerror(lua_State *L, int arg, const char *tname) {
  const char *got;
  if (luaL_getmetafield(L, arg, "__name") == LUA_TSTRING) got = lua_tostring(L, -1);
  else if (lua_type(L, arg) == LUA_TLIGHTUSERDATA) got = "light userdata";
  else got = luaL_typename(L, arg);
  return lng_argerror(L, arg, lua_pushfstring(L, "%s expected, got %s", tname, got));
}

static void notinteger(lua_State *L, int arg) {
  if (lua_isnumber(L, arg)) lng_argerror(L, arg, "number has no integer representation");
  else lng_typeerror(L, arg, "number");
}

lua_Integer lng_checkinteger(lua_State *L, int arg) {
  int isnum;
  lua_Integer i = lua_tointegerx(L, arg, &isnum);
  if (!isnum) notinteger(L, arg);
  return i;
}

lua_Integer lng_optinteger(lua_State *L, int arg, lua_Integer def) {
  return lua_isnoneornil(L, arg) ? def : lng_checkinteger(L, arg);
}

lua_Number lng_checknumber(lua_State *L, int arg) {
  int isnum;
  lua_Number n = lua_tonumberx(L, arg, &isnum);
  if (!isnum) lng_typeerror(L, arg, "number");
  return n;
}

const char *lng_optstring(lua_State *L, int arg, const char *def) {
  if (lua_isnoneornil(L, arg)) return def;
  const char *s = lua_tostring(L, arg);
  if (!s) lng_typeerror(L, arg, "string");
  return s;
}

void lng_checktype(lua_State *L, int arg, int t) {
  if (lua_type(L, arg) != t) lng_typeerror(L, arg, lua_typename(L, t));
}

void lng_checkany(lua_State *L, int arg) {
  if (lua_type(L, arg) == LUA_TNONE) lng_argerror(L, arg, "value expected");
}

int lng_error_here(lua_State *L) {
  if (lua_type(L, -1) == LUA_TSTRING) {
    luaL_where(L, 1);
    lua_insert(L, -2);
    lua_concat(L, 2);
  }
  return lua_error(L);
}
