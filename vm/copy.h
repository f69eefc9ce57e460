/*
 * Copying Lua values between shards. Each goroutine's values live in its
 * worker's lua_State, so anything sent (spawn arguments, channel values)
 * is encoded into an lng_msg in the sender's state and rebuilt in the
 * receiver's. This file owns the message byte format (see copy.c) and the
 * rules for what can cross: plain data and Lua functions by value,
 * runtime objects (proxies) by reference, everything else is an error.
 */
#ifndef LNG_COPY_H
#define LNG_COPY_H

#include <limits.h>
#include <string.h>
#include <lua.h>
#include "../runtime/msg.h"

/* Deepest allowed nesting of tables, functions (through upvalues) and
   metatables; the limit keeps both the C recursion and the Lua stack small. */
#define LNG_COPY_MAXDEPTH 200

/* Encodes the n values at stack positions first..first+n-1 of L into m
   (appending). Tables and Lua functions keep their sharing and cycles
   across all n values.
   env: stack index of the sender goroutine's globals table, or 0 for none;
   wherever that exact table occurs it is encoded as "the receiver's
   globals" instead of being copied.
   argbase: how errors name value i (0-based): argbase > 0 gives
   "argument <argbase+i>", argbase == 0 gives "value".
   Returns 0, or -1 with an error message pushed (m then holds garbage and
   the caller frees it with lng_msg_free, which also drops any references
   already added). Raises only on memory errors from the Lua API (or when
   L's stack is already at its size limit); leaves nothing else on the
   stack. */
int lng_copy_encode(lua_State *L, int first, int n, int env, int argbase,
                    lng_msg *m);

/* Decodes all values of m into L, which may be another state on another
   thread (the encoder's state is never touched). env: stack index of the
   receiving goroutine's globals table, or 0 for the registry's
   LUA_RIDX_GLOBALS. Pushes the values and returns how many, or -1 with an
   error message pushed (only for bytes lng_copy_encode did not write, or
   when lua_load fails).
   Proxies take their own references (lng_proxy_push raises if L has no
   metatable registered for an object's kind); m keeps its own and is not
   freed. */
int lng_copy_decode(lua_State *L, const lng_msg *m, int env);
/* As env: the running goroutine's globals, fetched (and made) only if the
   message names them. */
#define LNG_COPY_LAZYENV INT_MIN
#define LNG_COPY_TAG_I64 14        /* T_I64 of copy.c's format */

/* Writes the one-integer message into the empty m (what encoding an integer
   value does, without the call): inline in the channel's send. */
static inline void lng_copy_put_i64(lng_msg *m, lua_Integer i) {
  m->u.inl[0] = LNG_COPY_TAG_I64;
  memcpy(m->u.inl + 1, &i, sizeof i);
  m->len = 1 + sizeof i;
}

/* Whether m is a one-integer message, and its value: inline in the
   channel's receive, the counterpart of lng_copy_put_i64. */
static inline int lng_copy_get_i64(const lng_msg *m, lua_Integer *i) {
  if (m->ext || m->len != 1 + sizeof *i || m->u.inl[0] != LNG_COPY_TAG_I64) return 0;
  memcpy(i, m->u.inl + 1, sizeof *i);
  return 1;
}

/* Appends a float value to m without a Lua state (timers send the time).
   0, or -1 when out of memory. */
int lng_copy_put_number(lng_msg *m, double v);

/* Pushes the value of m if it is one plain value (nil, boolean, number,
   string) and returns 1; otherwise pushes nothing and returns 0. */
int lng_copy_decode_plain(lua_State *L, const lng_msg *m);

/* Scalars (and runtime objects) encoded and decoded without a Lua state,
   for the C API. A string read back points into the message. */
enum {
  LNG_SCALAR_NIL, LNG_SCALAR_BOOLEAN, LNG_SCALAR_INTEGER, LNG_SCALAR_NUMBER,
  LNG_SCALAR_STRING, LNG_SCALAR_OBJECT,
  LNG_SCALAR_TABLE, LNG_SCALAR_FUNCTION       /* only read: what C cannot take */
};
typedef struct lng_scalar {
  int type;
  int b;
  long long i;
  double n;
  const char *s;
  size_t len;
  lng_obj *obj;
} lng_scalar;
/* 0, or -1 when out of memory (or a type that cannot be written). */
int lng_copy_put_scalar(lng_msg *m, const lng_scalar *v);
/* Reads the value at *pos and advances it: 0; 1 for a table or function
   (type says which; *pos is not advanced); -1 for corrupt bytes. */
int lng_copy_get_scalar(const lng_msg *m, size_t *pos, lng_scalar *v);

#endif
