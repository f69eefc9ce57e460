/*
 * Userdata of types that opt in to crossing (include/lungo.h, lng_udtype):
 * the UDV (by value) and UDR (by reference) values of the wire format,
 * written by the encoder and read by the decoder, and the shared objects
 * (lng_shared) that by-reference types stand for.
 */
#ifndef LNG_UDTYPE_H
#define LNG_UDTYPE_H

#include <lua.h>
#include "../runtime/msg.h"

/* The type of the userdata at idx (its metatable's LNG_UDTYPE_FIELD), or NULL. */
const void *lng_ud_type(lua_State *L, int idx);

/* Appends the userdata at idx, of type t (not NULL), to m: 0; or -1 with
   an error message pushed (the type refused it, or its callback failed:
   the message says which; "" for out of memory). */
int lng_ud_put(lua_State *L, int idx, const void *t, lng_msg *m);

/* Reads a UDV or UDR value (tag at *p) of m and pushes the userdata:
   0; 1 for corrupt bytes (nothing pushed); -1 with an error message
   pushed. */
int lng_ud_push(lua_State *L, const lng_msg *m, const unsigned char **p,
                const unsigned char *end);

#endif
