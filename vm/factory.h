/* Closure factories for the copier; see factory.c. */
#ifndef LNG_FACTORY_H
#define LNG_FACTORY_H

#include <lua.h>

/* Pushes a function that, called with nup arguments, returns a new closure
   of the prototype dumped in code (n bytes, from lua_dump of a function
   with nup upvalues) whose upvalues hold those arguments. Returns 0, or -1
   (nothing pushed) when the dump is not one this code can rewrite. */
int lng_factory_load(lua_State *L, const char *code, size_t n, int nup);

#endif
