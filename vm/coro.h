/*
 * Coroutines inside a goroutine (coro.c): the machinery under
 * coroutine.resume and wrap (lua-bindings/coroutine.c). A goroutine's
 * blocking operation is a yield to the scheduler; from inside a coroutine
 * that yield must pass through every resumer up to the goroutine's own
 * thread, and come back down when the goroutine runs again.
 */
#ifndef LNG_CORO_H
#define LNG_CORO_H

#include <lua.h>

/* How a resume ends, on L: co ended (LUA_OK) or yielded to L (LUA_YIELD)
   with nres values on its stack, or failed (an error status, the error
   value on top of co's stack). Returns what the resuming function returns. */
typedef struct lng_resumer {
  int (*done)(lua_State *L, lua_State *co, int status, int nres);
} lng_resumer;

/* lua_resume(co, L, narg) for a Lua function, co being the thread at
   index 1 of L's stack (where it stays: the continuation finds it there):
   when co parks or yields the goroutine, L yields too and, once the
   goroutine runs again, resumes co where it stopped; r->done runs when co
   yields to L, returns or fails. Use as `return lng_coro_resume(...)`. */
int lng_coro_resume(lua_State *L, int narg, const lng_resumer *r);

/* Whether T is the running goroutine's own thread, which Lua code sees as
   the main thread: it cannot yield to anyone (the scheduler is not Lua's). */
int lng_coro_isgoroutine(lua_State *L, lua_State *T);

#endif
