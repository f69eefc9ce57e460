/*
 * The message byte format of the copier (copy.h): tags, the varint and
 * zigzag codes, raw fields, and scalars, both written and read. The
 * encoder (encode.c), the decoder (decode.c) and the C API (through
 * copy.h) all write and read scalars here, so each rule lives once.
 *
 * A message is a sequence of values, each a tag byte followed by its
 * payload. Numbers are in native byte order: a message never leaves the
 * process. A varint is LEB128 (7 bits a byte, low bits first, high bit
 * set on all but the last byte); u8/u32 are fixed width.
 *
 *   NIL FALSE TRUE    no payload
 *   ENV               no payload; the receiver's globals table
 *   INT               varint, zigzag-coded (small magnitudes stay short)
 *   I64               a lua_Integer, 8 bytes: a message that is one integer
 *                     (what channels carry most), written and read in place
 *   FLT               lua_Number, 8 bytes
 *   STR               varint length, then the bytes
 *   CFN               a lua_CFunction pointer (light C functions only)
 *   OBJ               varint index into the message's refs array
 *   REF               varint id of a table or function seen before
 *   TAB, TABMT        u32 narr, u32 nhash, then the array section (the
 *                     values at keys 1..narr, in runs, below), then nhash
 *                     pairs (key value key value ...), then for TABMT the
 *                     metatable as one more value (the decoder sets
 *                     metatables only once the whole message is built).
 *                     The decoder pre-sizes the table as (narr, nhash).
 *                     Either tag may carry the KEEP bit (0x40): the table
 *                     is named by a later REF, so the decoder keeps it;
 *                     the encoder sets the bit when it writes that REF
 *   run               u8 kind, u32 count, then count values of that kind:
 *     RUN_NIL         no payload: count holes (at most LNG_WIRE_HOLEMAX)
 *     RUN_I32         int32_t each, 4 bytes (integers that fit)
 *     RUN_I64         lua_Integer each, 8 bytes (the others)
 *                     (fixed widths, not varints: a long array's integers
 *                     then decode with one load each, no branch a byte)
 *     RUN_FLT         lua_Numbers, 8 bytes each
 *     RUN_STR         each a varint length, then the bytes
 *     RUN_BOOL        one byte each, 0 or 1
 *     RUN_VAL         values, each with its tag (tables, functions, ...)
 *   KDEF, KDEFK       a table's string key (short, at most
 *                     LNG_WIRE_KEYMAX bytes) met for the first time in the
 *                     message: varint length, then the bytes. Key strings
 *                     are numbered 1, 2, ... in the order of their KDEF or
 *                     KDEFK tags; KDEFK (patched from KDEF when the key
 *                     shows up again) tells the decoder to keep it
 *   KEY               varint number of a key string met before: the field
 *                     names of a list of records are sent once a message
 *   FUN               u8 upvalue count, varint index into refs of the
 *                     code object (the function's lua_dump output, shared
 *                     by every message carrying that function, fcache.c),
 *                     then per upvalue either a value or
 *     JOIN            varint function id, u8 upvalue number: the upvalue is
 *                     the same variable as that upvalue of that function
 *   MOD               varint length, then a module value's path: the
 *                     module's name, then "\0key" for each key below it
 *                     (modname.h); the receiver's require(name)[key]...
 *   UDV               varint type number, varint length, then the bytes a
 *                     registered userdata type's encode made (udtype.h)
 *   UDR               varint type number, varint index into refs of the
 *                     shared object a registered type's userdata wraps
 *
 * The encoder walks a table with lua_next, whose order is the array part
 * first: the leading keys 1, 2, ... (gaps of at most HOLEMAX holes
 * allowed) form the array section, whatever follows goes into the pairs.
 *
 * Tables and functions are numbered 1, 2, ... in the order their TAB/FUN
 * tags appear, across all values of the message; the decoder numbers them
 * the same way as it meets them, so ids are never stored with the object.
 * A table is numbered before its contents are written, which is what lets
 * cycles be written as REFs. A function's upvalue identities are noted
 * (before any upvalue value is written) in the same "seen" table, keyed by
 * lua_upvalueid; a later function sharing one writes JOIN to the first.
 */
#ifndef LNG_WIRE_H
#define LNG_WIRE_H

#include <stdint.h>
#include <string.h>
#include <lua.h>
#include "../runtime/msg.h"

/* For the scalar codec below: inlined into every caller, so that its
   switch on the tag (or type) folds into the caller's own switch (the
   encoder and the decoder pass every leaf value through it). */
#define LNG_WIRE_INLINE static inline __attribute__((always_inline))

enum {
  LNG_TAG_NIL, LNG_TAG_FALSE, LNG_TAG_TRUE, LNG_TAG_ENV, LNG_TAG_INT,
  LNG_TAG_FLT, LNG_TAG_STR, LNG_TAG_CFN, LNG_TAG_OBJ, LNG_TAG_REF,
  LNG_TAG_TAB, LNG_TAG_TABMT, LNG_TAG_FUN, LNG_TAG_JOIN, LNG_TAG_I64,
  LNG_TAG_DEFAULT,           /* go.default (copy.h): a Lua state's only */
  LNG_TAG_KDEF, LNG_TAG_KDEFK, LNG_TAG_KEY,
  LNG_TAG_MOD,               /* a module value by name (modname.h) */
  LNG_TAG_UDV, LNG_TAG_UDR,  /* a userdata of a registered type (udtype.h) */
  LNG_TAG_KEEP = 0x40        /* a bit on TAB and TABMT */
};

/* The kinds of runs in a table's array section. */
enum {
  LNG_RUN_NIL, LNG_RUN_I32, LNG_RUN_I64, LNG_RUN_FLT, LNG_RUN_STR, LNG_RUN_BOOL,
  LNG_RUN_VAL
};
/* Longest gap of holes kept inside an array section. */
#define LNG_WIRE_HOLEMAX 8
/* Longest string key interned (Lua's short strings, which are unique by
   content, so that the encoder can match them by address). */
#define LNG_WIRE_KEYMAX 40

/* The one representation of a scalar (and of a runtime object) between a
   message and whoever holds it: a Lua state (encode.c, decode.c) or the C
   API (api_chan.c). A string read back points into the message. */
enum {
  LNG_SCALAR_NIL, LNG_SCALAR_BOOLEAN, LNG_SCALAR_INTEGER, LNG_SCALAR_NUMBER,
  LNG_SCALAR_STRING, LNG_SCALAR_OBJECT,
  LNG_SCALAR_TABLE, LNG_SCALAR_FUNCTION       /* only read: not scalars */
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

/* ---- the one-integer message, in place ---- */

#define LNG_WIRE_I64LEN (1 + sizeof(lua_Integer))

/* Writes the one-integer message into the empty, inline m. */
static inline void lng_wire_put_i64(lng_msg *m, lua_Integer i) {
  m->u.inl[0] = LNG_TAG_I64;
  memcpy(m->u.inl + 1, &i, sizeof i);
  m->len = LNG_WIRE_I64LEN;
}

/* Whether m is a one-integer message, and its value. */
static inline int lng_wire_get_i64(const lng_msg *m, lua_Integer *i) {
  if (m->ext || m->len != LNG_WIRE_I64LEN || m->u.inl[0] != LNG_TAG_I64) return 0;
  memcpy(i, m->u.inl + 1, sizeof *i);
  return 1;
}

/* ---- fields ---- */

static inline int lng_wire_varlen(uint64_t v) {
  int n = 1;
  while (v >= 0x80) { v >>= 7; n++; }
  return n;
}

static inline unsigned char *lng_wire_putvar(unsigned char *p, uint64_t v) {
  while (v >= 0x80) { *p++ = (unsigned char)(v | 0x80); v >>= 7; }
  *p++ = (unsigned char)v;
  return p;
}

/* Reads a varint at *p (before end) and steps over it: 0, or -1. */
static inline int lng_wire_getvar(const unsigned char **p, const unsigned char *end,
                                  uint64_t *v) {
  const unsigned char *q = *p;
  uint64_t r = 0;
  int shift;
  for (shift = 0; shift < 64 && q < end; shift += 7) {
    unsigned char c = *q++;
    r |= (uint64_t)(c & 0x7f) << shift;
    if (!(c & 0x80)) { *v = r; *p = q; return 0; }
  }
  return -1;
}

/* Copies n raw bytes at *p (before end) into dst and steps over them. */
static inline int lng_wire_getraw(const unsigned char **p, const unsigned char *end,
                                  void *dst, size_t n) {
  if ((size_t)(end - *p) < n) return -1;
  memcpy(dst, *p, n);
  *p += n;
  return 0;
}

static inline uint64_t lng_wire_zigzag(long long i) {
  return ((uint64_t)i << 1) ^ (i < 0 ? ~(uint64_t)0 : 0);
}

static inline long long lng_wire_unzigzag(uint64_t u) {
  return (long long)((u & 1) ? ~(u >> 1) : (u >> 1));
}

/* Appends a tag: 0, or -1 when out of memory. */
static inline int lng_wire_puttag(lng_msg *m, int tag) {
  unsigned char *p = lng_msg_reserve(m, 1);
  if (!p) return -1;
  *p = (unsigned char)tag;
  m->len++;
  return 0;
}
/* Appends a tag, then n raw bytes from s: 0, or -1. */
static inline int lng_wire_putraw(lng_msg *m, int tag, const void *s, size_t n) {
  unsigned char *p = lng_msg_reserve(m, 1 + n);
  if (!p) return -1;
  *p = (unsigned char)tag;
  memcpy(p + 1, s, n);
  m->len += 1 + n;
  return 0;
}
/* Appends a tag, the varint v, then n bytes from s: 0, or -1. */
int lng_wire_puttvb(lng_msg *m, int tag, uint64_t v, const void *s, size_t n);
/* Appends a reference to o (the message takes one of its own) and its OBJ
   value: 0, or -1. */
int lng_wire_putobj(lng_msg *m, lng_obj *o);

/* ---- scalars ---- */

/* Appends v: 0, or -1 when out of memory (or for a type that cannot be
   written). An object gets a reference of the message's own. */
LNG_WIRE_INLINE int lng_wire_put_scalar(lng_msg *m, const lng_scalar *v) {
  switch (v->type) {
    case LNG_SCALAR_NIL: return lng_wire_puttag(m, LNG_TAG_NIL);
    case LNG_SCALAR_BOOLEAN: return lng_wire_puttag(m, v->b ? LNG_TAG_TRUE : LNG_TAG_FALSE);
    case LNG_SCALAR_INTEGER:
      return lng_wire_puttvb(m, LNG_TAG_INT, lng_wire_zigzag(v->i), NULL, 0);
    case LNG_SCALAR_NUMBER: {
      lua_Number n = (lua_Number)v->n;
      return lng_wire_putraw(m, LNG_TAG_FLT, &n, sizeof n);
    }
    case LNG_SCALAR_STRING:
      return lng_wire_puttvb(m, LNG_TAG_STR, (uint64_t)v->len, v->s, v->len);
    case LNG_SCALAR_OBJECT: return lng_wire_putobj(m, v->obj);
    default: return -1;
  }
}

/* Reads the value at *p (a position in m's bytes, before end) and steps
   over it: 0;
   1 for a table or function (type says which; *p is not advanced); -1
   for anything else (corrupt bytes, or a tag only a Lua state can read:
   ENV, JOIN). */
LNG_WIRE_INLINE int lng_wire_get_scalar(const lng_msg *m, const unsigned char **pp,
                                        const unsigned char *end, lng_scalar *v) {
  const unsigned char *p = *pp;
  uint64_t u = 0;
  if (p >= end) return -1;
  int tag = *p++;
  switch (tag) {
    case LNG_TAG_NIL: v->type = LNG_SCALAR_NIL; break;
    case LNG_TAG_FALSE: case LNG_TAG_TRUE:
      v->type = LNG_SCALAR_BOOLEAN;
      v->b = tag == LNG_TAG_TRUE;
      break;
    case LNG_TAG_INT:
      if (lng_wire_getvar(&p, end, &u)) return -1;
      v->type = LNG_SCALAR_INTEGER;
      v->i = lng_wire_unzigzag(u);
      break;
    case LNG_TAG_I64: {
      lua_Integer i;
      if (lng_wire_getraw(&p, end, &i, sizeof i)) return -1;
      v->type = LNG_SCALAR_INTEGER;
      v->i = (long long)i;
      break;
    }
    case LNG_TAG_FLT: {
      lua_Number n;
      if (lng_wire_getraw(&p, end, &n, sizeof n)) return -1;
      v->type = LNG_SCALAR_NUMBER;
      v->n = (double)n;
      break;
    }
    case LNG_TAG_STR:
      if (lng_wire_getvar(&p, end, &u) || u > (uint64_t)(end - p)) return -1;
      v->type = LNG_SCALAR_STRING;
      v->s = (const char *)p;
      v->len = (size_t)u;
      p += u;
      break;
    case LNG_TAG_OBJ:
      if (lng_wire_getvar(&p, end, &u) || u >= lng_msg_nrefs(m)) return -1;
      v->type = LNG_SCALAR_OBJECT;
      v->obj = lng_msg_ref(m, (uint32_t)u);
      break;
    case LNG_TAG_TAB: case LNG_TAG_TABMT: case LNG_TAG_REF:
    case LNG_TAG_TAB | LNG_TAG_KEEP: case LNG_TAG_TABMT | LNG_TAG_KEEP:
      v->type = LNG_SCALAR_TABLE;
      return 1;
    case LNG_TAG_FUN: case LNG_TAG_CFN:
      v->type = LNG_SCALAR_FUNCTION;
      return 1;
    case LNG_TAG_MOD: case LNG_TAG_UDV: case LNG_TAG_UDR:
      v->type = LNG_SCALAR_TABLE;      /* (not a scalar either: only a Lua state reads it) */
      return 1;
    default: return -1;
  }
  *pp = p;
  return 0;
}

#endif
