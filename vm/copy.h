/*
 * Copying Lua values between shards. Each goroutine's values live in its
 * worker's lua_State, so anything sent (spawn arguments, channel values)
 * is encoded into an lng_msg in the sender's state and rebuilt in the
 * receiver's. Plain data and Lua functions cross by value, runtime objects
 * (proxies) by reference, everything else is an error.
 *
 * This header is the copier's one interface. Behind it: wire.h (the byte
 * format, scalars written and read), encode.c, decode.c, and fcache.c
 * (the code of functions, and the caches that make copying one function
 * again cheap).
 */
#ifndef LNG_COPY_H
#define LNG_COPY_H

#include <limits.h>
#include <string.h>
#include <lua.h>
#include "../runtime/msg.h"
#include "wire.h"

/* Deepest allowed nesting of tables, functions (through upvalues) and
   metatables; the limit keeps both the C recursion and the Lua stack small. */
#define LNG_COPY_MAXDEPTH 200

/* go.default, select's marker case: a light userdata to this, the one
   light userdata that copies (as itself, the library's address being the
   same in every shard), so code that keeps it in an upvalue can cross. */
extern const char lng_copy_default;
#define LNG_COPY_DEFAULT ((void *)&lng_copy_default)

/* Encodes the n values at stack positions first..first+n-1 of L into m
   (appending). L is a shard's (its extra space holds its lng_shard, whose
   module values cross by name, modname.h) or a state whose extra space
   is NULL (tests: nothing crosses by name). Tables and Lua functions keep their sharing and cycles
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
   stack.
   Inline: the commonest message of all, one integer into an empty m, is
   written in place (lng_copy_encode_int); everything else is encode.c's
   (lng_copy_encode_values, which never looks for that case again). */
static inline int lng_copy_encode(lua_State *L, int first, int n, int env,
                                  int argbase, lng_msg *m);

/* The fast path on its own, for a caller that must look at any value but
   an integer itself (a channel's send): if the value at idx is an
   integer, writes it into the empty m as the one-integer message and
   returns 1; otherwise returns 0, and the caller goes on with
   lng_copy_encode_values. */
static inline int lng_copy_encode_int(lua_State *L, int idx, lng_msg *m) {
  if (!lua_isinteger(L, idx)) return 0;
  lng_wire_put_i64(m, lua_tointeger(L, idx));
  return 1;
}

/* lng_copy_encode past its fast path. */
int lng_copy_encode_values(lua_State *L, int first, int n, int env, int argbase,
                           lng_msg *m);

static inline int lng_copy_encode(lua_State *L, int first, int n, int env,
                                  int argbase, lng_msg *m) {
  if (n == 1 && m->len == 0 && !m->ext && lng_copy_encode_int(L, first, m)) return 0;
  return lng_copy_encode_values(L, first, n, env, argbase, m);
}

/* Decodes all values of m into L, which may be another state on another
   thread (the encoder's state is never touched). env: stack index of the
   receiving goroutine's globals table, or 0 for the registry's
   LUA_RIDX_GLOBALS. Pushes the values and returns how many, or -1 with an
   error message pushed (only for bytes lng_copy_encode did not write, or
   when lua_load fails).
   Proxies take their own references (lng_proxy_push raises if L has no
   metatable registered for an object's kind); m keeps its own and is not
   freed.
   Inline: the one-integer message is read in place (the one place that
   looks for it); everything else is decode.c's. */
int lng_copy_decode_values(lua_State *L, const lng_msg *m, int env);
static inline int lng_copy_decode(lua_State *L, const lng_msg *m, int env) {
  lua_Integer i;
  if (lng_wire_get_i64(m, &i)) {
    lua_pushinteger(L, i);
    return 1;
  }
  return lng_copy_decode_values(L, m, env);
}
/* As env: the running goroutine's globals, fetched (and made) only if the
   message names them. */
#define LNG_COPY_LAZYENV INT_MIN

/* Scalars (and runtime objects) written and read without a Lua state: the
   C API's values, and the time a timer sends. Reading, a string points
   into the message. */
/* 0, or -1 when out of memory (or a type that cannot be written). */
static inline int lng_copy_put_scalar(lng_msg *m, const lng_scalar *v) {
  return lng_wire_put_scalar(m, v);
}
/* Reads the value at *pos and advances it: 0; 1 for a table or function
   (type says which; *pos is not advanced); -1 for corrupt bytes. */
static inline int lng_copy_get_scalar(const lng_msg *m, size_t *pos, lng_scalar *v) {
  const unsigned char *b = lng_msg_cbytes(m), *p = b + *pos;
  int r = lng_wire_get_scalar(m, &p, b + m->len, v);
  *pos = (size_t)(p - b);
  return r;
}
/* A float as a one-value message: 0, or -1 when out of memory. */
static inline int lng_copy_put_number(lng_msg *m, double v) {
  lng_scalar s = { .type = LNG_SCALAR_NUMBER, .n = v };
  return lng_wire_put_scalar(m, &s);
}

/* For the copier's own files (encode.c, decode.c, fcache.c): stack slots
   one nesting level may use, including what a leaf value needs (proxy
   tests, the seen lookups) and an error message; and its messages. */
#define LNG_COPY_LEVEL_SLOTS 16
#define LNG_COPY_MEMMSG "not enough memory to copy value"
#define LNG_COPY_STACKMSG "cannot copy value: stack overflow"
#define LNG_COPY_CORRUPTMSG "cannot decode value: corrupt message"

#endif
