/*
 * Argument errors that name lungo's own functions. luaL_argerror names a
 * function by how it was called, else by a search of package.loaded, which
 * finds nothing of lungo's: `pcall(chan, -1)` would say "to '?'". Every
 * Lua-visible C function of lungo is given its name here (per state, in
 * the registry), and these checks, the counterparts of luaL_check* and
 * luaL_opt*, raise with it: "bad argument #1 to 'chan' (...)". A method
 * ("ch:send") called with a colon does not count self, as in Lua, and is
 * named "ch.send" when called otherwise, so the number always matches the
 * call as written. A function without a name falls back to luaL_argerror.
 */
#ifndef LNG_ARGS_H
#define LNG_ARGS_H

#include <lua.h>
#include <lauxlib.h>

/* Names the function at idx for argument errors. */
void lng_setname(lua_State *L, int idx, const char *name);
/* Names the functions of fns found in the table at idx: prefix .. name. */
void lng_setnames(lua_State *L, int idx, const char *prefix, const luaL_Reg *fns);

int lng_argerror(lua_State *L, int arg, const char *extramsg);
int lng_typeerror(lua_State *L, int arg, const char *tname);
lua_Integer lng_checkinteger(lua_State *L, int arg);
lua_Integer lng_optinteger(lua_State *L, int arg, lua_Integer def);
lua_Number lng_checknumber(lua_State *L, int arg);
const char *lng_optstring(lua_State *L, int arg, const char *def);
void lng_checktype(lua_State *L, int arg, int t);
void lng_checkany(lua_State *L, int arg);

#define lng_argcheck(L, cond, arg, msg) ((void)((cond) || lng_argerror(L, (arg), (msg))))
#define lng_argexpected(L, cond, arg, tname) ((void)((cond) || lng_typeerror(L, (arg), (tname))))

/* Raises the error message on top of the stack with the position of the
   Lua code that called the running C function ("file:line: "), as
   luaL_error would have: for messages made elsewhere (copy errors). */
int lng_error_here(lua_State *L);

#endif
