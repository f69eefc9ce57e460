/*
 * Decoding a message into Lua values; see copy.h, and wire.h for the
 * format.
 *
 * The decoder keeps its helper tables (id -> value, key number -> key
 * string) in stack slots reserved up front as nil and filled only when
 * something must be kept (a table marked KEEP, a function with upvalues,
 * a metatable, a KDEFK key), so a message of records costs no allocation
 * beyond the values themselves; the first few ids need no table either
 * (IDSLOTS), so neither does a function with upvalues.
 */
#include <limits.h>
#include <stdint.h>
#include <string.h>
#include <lauxlib.h>
#include "copy.h"
#include "fcache.h"
#include "vm.h"
#include "proxy.h"
#include "modname.h"
#include "udtype.h"

typedef struct Decoder {
  lua_State *L;
  const lng_msg *m;
  const unsigned char *p, *end;
  int env;            /* absolute index of the receiver's globals, or 0 */
  int ids;            /* slot of the id -> value table (nil until needed) */
  int idslots;        /* the first of IDSLOTS slots holding ids 1..IDSLOTS */
  int keys;           /* slot of the key number -> string table (nil until needed) */
  int hasids, haskeys;
  lua_Integer nid, nkeys;
  lua_Integer nmeta;  /* metatables waiting to be set */
} Decoder;

static int decvalue (Decoder *d, int depth);


/* Error returns leave their message on top, like the encoder's. */
static int corrupt (Decoder *d) {
  lua_pushliteral(d->L, LNG_COPY_CORRUPTMSG);
  return -1;
}

/* The first ids (a function with upvalues, a table that occurs twice:
   what most messages that keep anything need) are kept in stack slots
   rather than in a table made for them. */
#define IDSLOTS 4
#define NSLOTS (2 + IDSLOTS)   /* all the decoder's slots below the values */

static void needids (Decoder *d) {
  if (d->hasids) return;
  lua_createtable(d->L, 8, 0);
  lua_replace(d->L, d->ids);
  d->hasids = 1;
}

/* Keeps the value at idx under the id just handed out (d->nid). */
static void keepid (Decoder *d, int idx) {
  if (d->nid <= IDSLOTS) {
    lua_copy(d->L, idx, d->idslots + (int)d->nid - 1);
    return;
  }
  needids(d);
  lua_pushvalue(d->L, idx);
  lua_rawseti(d->L, d->ids, d->nid);
}

/* Pushes the kept value of id u (read from the message): 0, or -1 when the
   message names no kept value. */
static int getid (Decoder *d, uint64_t u) {
  if (u < 1 || u > (uint64_t)d->nid) return -1;
  if (u <= IDSLOTS) {
    if (lua_type(d->L, d->idslots + (int)u - 1) == LUA_TNIL) return -1;
    lua_pushvalue(d->L, d->idslots + (int)u - 1);
    return 0;
  }
  if (!d->hasids) return -1;
  if (lua_rawgeti(d->L, d->ids, (lua_Integer)u) == LUA_TNIL) {
    lua_pop(d->L, 1);
    return -1;
  }
  return 0;
}

/* A run of count integers, 4 bytes each or (wide) 8, into t after
   position *i: 0, or -1 when the message is too short. Inlined with wide
   a constant, so each width gets a loop of its own. */
LNG_WIRE_INLINE int intrun (Decoder *d, int t, lua_Integer *i, uint32_t count, int wide) {
  size_t width = wide ? sizeof(lua_Integer) : sizeof(int32_t);
  if ((size_t)(d->end - d->p) / width < count) return -1;
  for (uint32_t j = 0; j < count; j++) {
    lua_Integer x;
    if (wide) memcpy(&x, d->p, sizeof x);
    else {
      int32_t x32;
      memcpy(&x32, d->p, sizeof x32);
      x = x32;
    }
    d->p += width;
    lua_pushinteger(d->L, x);
    lua_rawseti(d->L, t, ++*i);
  }
  return 0;
}

/* Reads a table's array section: narr positions of t, in runs. */
static int decarray (Decoder *d, int t, uint32_t narr, int depth) {
  lua_State *L = d->L;
  lua_Integer i = 0;
  uint32_t count, j;
  uint64_t u;
  while ((uint32_t)i < narr) {
    int kind;
    if (d->p >= d->end) return corrupt(d);
    kind = *d->p++;
    if (lng_wire_getraw(&d->p, d->end, &count, 4) || count == 0 || count > narr - (uint32_t)i)
      return corrupt(d);
    switch (kind) {
      case LNG_RUN_NIL:
        if (count > LNG_WIRE_HOLEMAX) return corrupt(d);
        i += count;
        break;
      case LNG_RUN_I32:
        if (intrun(d, t, &i, count, 0)) return corrupt(d);
        break;
      case LNG_RUN_I64:
        if (intrun(d, t, &i, count, 1)) return corrupt(d);
        break;
      case LNG_RUN_FLT:
        if ((size_t)(d->end - d->p) / sizeof(lua_Number) < count) return corrupt(d);
        for (j = 0; j < count; j++) {
          lua_Number n;
          memcpy(&n, d->p, sizeof n);
          d->p += sizeof n;
          lua_pushnumber(L, n);
          lua_rawseti(L, t, ++i);
        }
        break;
      case LNG_RUN_STR:
        for (j = 0; j < count; j++) {
          if (lng_wire_getvar(&d->p, d->end, &u) || u > (uint64_t)(d->end - d->p))
            return corrupt(d);
          lua_pushlstring(L, (const char *)d->p, (size_t)u);
          d->p += u;
          lua_rawseti(L, t, ++i);
        }
        break;
      case LNG_RUN_BOOL:
        if ((size_t)(d->end - d->p) < count) return corrupt(d);
        for (j = 0; j < count; j++) {
          if (*d->p > 1) return corrupt(d);
          lua_pushboolean(L, *d->p++);
          lua_rawseti(L, t, ++i);
        }
        break;
      case LNG_RUN_VAL:
        for (j = 0; j < count; j++) {
          if (decvalue(d, depth + 1)) return -1;
          lua_rawseti(L, t, ++i);
        }
        break;
      default: return corrupt(d);
    }
  }
  return 0;
}

static int dectable (Decoder *d, int tag, int depth) {
  lua_State *L = d->L;
  uint32_t narr, nhash, i;
  size_t left;
  int t;
  if (depth >= LNG_COPY_MAXDEPTH) return corrupt(d);
  if (!lua_checkstack(L, LNG_COPY_LEVEL_SLOTS)) {
    lua_pushliteral(L, LNG_COPY_STACKMSG);
    return -1;
  }
  if (lng_wire_getraw(&d->p, d->end, &narr, 4) || lng_wire_getraw(&d->p, d->end, &nhash, 4))
    return corrupt(d);
  /* sizes the bytes left can hold (a run is at least 5 bytes, holes
     come at most HOLEMAX before a value) */
  left = (size_t)(d->end - d->p);
  if (nhash > left / 2 || narr / (LNG_WIRE_HOLEMAX + 1) > left) return corrupt(d);
  lua_createtable(L, narr > INT_MAX ? INT_MAX : (int)narr, nhash > INT_MAX ? INT_MAX : (int)nhash);
  t = lua_gettop(L);
  ++d->nid;                          /* numbered as the encoder did */
  if (tag & LNG_TAG_KEEP) keepid(d, t);
  if (decarray(d, t, narr, depth)) return -1;
  for (i = 0; i < nhash; i++) {
    /* a field name (most keys) needs no check; any other key may be nil or NaN */
    int named = d->p < d->end && (*d->p == LNG_TAG_KDEF || *d->p == LNG_TAG_KDEFK ||
                                  *d->p == LNG_TAG_KEY);
    if (decvalue(d, depth + 1) || decvalue(d, depth + 1)) return -1;
    if (!named && (lua_isnil(L, -2) || (lua_type(L, -2) == LUA_TNUMBER &&
                                        lua_tonumber(L, -2) != lua_tonumber(L, -2))))
      return corrupt(d);   /* nil or NaN key */
    lua_rawset(L, t);
  }
  if ((tag & ~LNG_TAG_KEEP) == LNG_TAG_TABMT) {
    /* The metatable may still be under construction (it can contain t),
       and a __gc field added after lua_setmetatable would not count: so
       metatables are set once everything is decoded, kept until then at
       negative keys of the id table. */
    if (decvalue(d, depth + 1)) return -1;
    if (!lua_istable(L, -1)) return corrupt(d);
    needids(d);
    lua_rawseti(L, d->ids, -2 * ++d->nmeta);
    lua_pushvalue(L, t);
    lua_rawseti(L, d->ids, -2 * d->nmeta + 1);
  }
  return 0;
}

static void setmetatables (Decoder *d) {
  lua_State *L = d->L;
  lua_Integer i;
  for (i = 1; i <= d->nmeta; i++) {
    lua_rawgeti(L, d->ids, -2 * i + 1);
    lua_rawgeti(L, d->ids, -2 * i);
    lua_setmetatable(L, -2);
    lua_pop(L, 1);
  }
}

static int decfunc (Decoder *d, int depth) {
  lua_State *L = d->L;
  int f, i, nups;
  uint64_t u;
  if (depth >= LNG_COPY_MAXDEPTH) return corrupt(d);
  if (!lua_checkstack(L, LNG_COPY_LEVEL_SLOTS)) {
    lua_pushliteral(L, LNG_COPY_STACKMSG);
    return -1;
  }
  if (d->p >= d->end) return corrupt(d);
  nups = *d->p++;
  if (lng_wire_getvar(&d->p, d->end, &u) || u >= lng_msg_nrefs(d->m) ||
      lng_msg_ref(d->m, (uint32_t)u)->kind != LNG_OBJ_CODE)
    return corrupt(d);
  if (lng_fcache_load(L, lng_msg_ref(d->m, (uint32_t)u), nups)) return -1;
  if (nups == 0) return 0;
  f = lua_gettop(L);
  ++d->nid;                          /* numbered as the encoder did */
  keepid(d, f);
  for (i = 1; i <= nups; i++) {
    if (d->p < d->end && *d->p == LNG_TAG_JOIN) {
      uint64_t id;
      int g;
      d->p++;
      if (lng_wire_getvar(&d->p, d->end, &id) || d->p >= d->end || getid(d, id))
        return corrupt(d);
      g = lua_gettop(L);
      if (!lua_isfunction(L, g) || !lng_fcache_hasupvalue(L, g, *d->p)) return corrupt(d);
      lua_upvaluejoin(L, f, i, g, *d->p++);
      lua_pop(L, 1);
    }
    else {
      if (decvalue(d, depth + 1)) return -1;
      lua_setupvalue(L, f, i);
    }
  }
  return 0;
}

/* Pushes the scalar s (read from the message). */
LNG_WIRE_INLINE void pushscalar (lua_State *L, const lng_scalar *s) {
  switch (s->type) {
    case LNG_SCALAR_NIL: lua_pushnil(L); break;
    case LNG_SCALAR_BOOLEAN: lua_pushboolean(L, s->b); break;
    case LNG_SCALAR_INTEGER: lua_pushinteger(L, (lua_Integer)s->i); break;
    case LNG_SCALAR_NUMBER: lua_pushnumber(L, (lua_Number)s->n); break;
    case LNG_SCALAR_STRING: lua_pushlstring(L, s->s, s->len); break;
    default: lng_proxy_push(L, s->obj); break;
  }
}

/* Pushes the next value; on error returns -1 with the message on top. */
static int decvalue (Decoder *d, int depth) {
  lua_State *L = d->L;
  lng_scalar s;
  uint64_t u;
  if (lng_wire_get_scalar(d->m, &d->p, d->end, &s) == 0) {   /* most values */
    pushscalar(L, &s);
    return 0;
  }
  if (d->p >= d->end) return corrupt(d);
  switch (*d->p) {
    case LNG_TAG_ENV:
      d->p++;
      if (d->env == LNG_COPY_LAZYENV) lng_shard_pushenv(L);
      else if (d->env) lua_pushvalue(L, d->env);
      else lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS);
      return 0;
    case LNG_TAG_CFN: {
      lua_CFunction fn;
      d->p++;
      if (lng_wire_getraw(&d->p, d->end, &fn, sizeof fn)) return corrupt(d);
      lua_pushcfunction(L, fn);
      return 0;
    }
    case LNG_TAG_DEFAULT:
      d->p++;
      lua_pushlightuserdata(L, LNG_COPY_DEFAULT);
      return 0;
    case LNG_TAG_REF:
      d->p++;
      if (lng_wire_getvar(&d->p, d->end, &u) || getid(d, u)) return corrupt(d);
      return 0;
    case LNG_TAG_TAB: case LNG_TAG_TABMT:
    case LNG_TAG_TAB | LNG_TAG_KEEP: case LNG_TAG_TABMT | LNG_TAG_KEEP:
      return dectable(d, *d->p++, depth);
    case LNG_TAG_KDEF: case LNG_TAG_KDEFK: {
      int keep = *d->p++ == LNG_TAG_KDEFK;
      if (lng_wire_getvar(&d->p, d->end, &u) || u > (uint64_t)(d->end - d->p))
        return corrupt(d);
      lua_pushlstring(L, (const char *)d->p, (size_t)u);
      d->p += u;
      d->nkeys++;
      if (keep) {
        if (!d->haskeys) {
          lua_createtable(L, 16, 0);
          lua_replace(L, d->keys);
          d->haskeys = 1;
        }
        lua_pushvalue(L, -1);
        lua_rawseti(L, d->keys, d->nkeys);
      }
      return 0;
    }
    case LNG_TAG_KEY:
      d->p++;
      if (lng_wire_getvar(&d->p, d->end, &u) || u < 1 || u > (uint64_t)d->nkeys ||
          !d->haskeys)
        return corrupt(d);
      if (lua_rawgeti(L, d->keys, (lua_Integer)u) != LUA_TSTRING) return corrupt(d);
      return 0;
    case LNG_TAG_FUN: d->p++; return decfunc(d, depth);
    case LNG_TAG_UDV: case LNG_TAG_UDR: {
      int r = lng_ud_push(L, d->m, &d->p, d->end);
      return r > 0 ? corrupt(d) : r;
    }
    case LNG_TAG_MOD:
      d->p++;
      if (lng_wire_getvar(&d->p, d->end, &u) || u == 0 || u > (uint64_t)(d->end - d->p))
        return corrupt(d);
      d->p += u;
      return lng_mod_push(L, (const char *)d->p - u, (size_t)u);
    default: return corrupt(d);
  }
}

int lng_copy_decode_values (lua_State *L, const lng_msg *m, int env) {
  Decoder d;
  lng_scalar s;
  const unsigned char *p = lng_msg_cbytes(m), *end = p + m->len;
  /* One scalar (what most messages are) without the decoder's set-up. */
  if (lng_wire_get_scalar(m, &p, end, &s) == 0 && p == end) {
    pushscalar(L, &s);
    return 1;
  }
  int base = lua_gettop(L);
  d.L = L;
  d.m = m;
  d.p = lng_msg_cbytes(m);
  d.end = d.p + m->len;
  d.env = env == LNG_COPY_LAZYENV ? env : env ? lua_absindex(L, env) : 0;
  d.hasids = d.haskeys = 0;
  d.nid = d.nkeys = 0;
  d.nmeta = 0;
  luaL_checkstack(L, LNG_COPY_LEVEL_SLOTS + NSLOTS, "copying value");
  lua_settop(L, base + NSLOTS);   /* nil: the id table, the key table, the id slots */
  d.ids = base + 1;
  d.keys = base + 2;
  d.idslots = base + 3;
  while (d.p < d.end) {
    if (!lua_checkstack(L, LNG_COPY_LEVEL_SLOTS)) {   /* a message of more values than a stack holds */
      int got = lua_gettop(L) - base - NSLOTS;
      lua_settop(L, base);
      lua_pushfstring(L, LNG_COPY_STACKMSG " (at value %d)", got + 1);
      return -1;
    }
    if (decvalue(&d, 0)) {
      lua_replace(L, base + 1);
      lua_settop(L, base + 1);
      return -1;
    }
  }
  setmetatables(&d);
  lua_rotate(L, base + 1, -NSLOTS);   /* the slots above the values, */
  lua_pop(L, NSLOTS);                /* then gone */
  return lua_gettop(L) - base;
}
