/*
 * Function code for the copier (encode.c, decode.c): the code objects a
 * message carries for a Lua function, and the per-state caches that keep
 * copying one function cheap on both sides; see fcache.c.
 */
#ifndef LNG_FCACHE_H
#define LNG_FCACHE_H

#include <lua.h>
#include "../runtime/msg.h"

/* Sender: adds to m a reference to the code object of the Lua function at
   f (absolute index), made once per function; returns the reference's
   index in m, or -1 when out of memory (or when lua_dump fails). Leaves
   the stack as it was; needs 6 free slots. */
int lng_fcache_code(lua_State *L, int f, lng_msg *m);

/* Receiver: pushes a Lua function of the code object (kind LNG_OBJ_CODE)
   for a function with nups upvalues, each still to be set: from a cache
   when one can serve, else by loading the code. Returns 0, or -1 with an
   error message pushed (lua_load's, the stack's, or a corrupt message's:
   code that is no Lua function of nups upvalues). */
int lng_fcache_load(lua_State *L, lng_obj *code, int nups);

/* Whether the value at f is a Lua function with an upvalue number i. */
int lng_fcache_hasupvalue(lua_State *L, int f, int i);

#endif
