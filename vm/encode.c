/*
 * Encoding Lua values into a message; see copy.h, and wire.h for the
 * format.
 *
 * The encoder knows the tables, functions and key strings it has met by
 * address (lua_topointer: each is reachable from the values being
 * encoded, so none is collected and no address reused while the encoder
 * runs) in an open-addressing map, inline for small messages and grown
 * in a userdata of a stack slot (freed by the GC however the encoder is
 * left). Upvalue identities (lua_upvalueid: the address of the upvalue's
 * own object, reachable from the function like the rest) go into the
 * same map, with the function that showed them first. So a message of a
 * few records, or of a function, costs no allocation beyond the
 * message's own buffer.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <lauxlib.h>
#include "copy.h"
#include "fcache.h"
#include "proxy.h"
#include "modname.h"
#include "udtype.h"
#include "shard.h"

/* Longest path shown in an error, and longest key within it. */
#define PATHMAX 160
#define KEYMAX 40

enum { S_FIELD, S_KEY, S_META, S_UPVAL };   /* path step kinds */

typedef struct Step {
  int kind;
  int idx;            /* S_FIELD: stack index of the key */
  const char *name;   /* S_UPVAL: upvalue name */
} Step;

enum { E_MEM = 1, E_STACK, E_MSG };

/* An entry of the address map: a table or function (id: its id; off:
   where its tag is, so a REF can set KEEP there, or NOOFF), or a key
   string (id: its number; off: its KDEF tag). */
typedef struct Ident {
  const void *p;
  uint32_t id, off;
} Ident;
#define NOOFF UINT32_MAX
#define MAP_INLINE 32       /* a power of two */

typedef struct Encoder {
  lua_State *L;
  lng_msg *m;
  const void *envp;   /* the sender's globals, or NULL */
  const void *basep;  /* the registry's globals (both held on the stack) */
  int mapslot;        /* slot of the grown map's userdata (nil until needed) */
  lua_Integer nid;    /* ids handed out so far */
  uint32_t nkeys;     /* key strings numbered so far */
  uint32_t mapcap, mapn;   /* mapcap 0: map not set up yet */
  Ident *map;
  Ident map0[MAP_INLINE];
  int argbase, arg;   /* how to name the top-level value being encoded */
  int err;            /* E_* once something failed */
  const lng_modidx *mods;  /* the shard's module values, or NULL: none */
  int modretry;       /* the index was walked again for a value about to be refused */
  Step path[LNG_COPY_MAXDEPTH + 1];
} Encoder;

static int encvalue (Encoder *e, int idx, int depth);
static int modlast (Encoder *e, int idx);


static int nomem (Encoder *e) {
  e->err = E_MEM;
  return -1;
}

static int isident (const char *s, size_t len) {
  static const char *const reserved[] = {
    "and", "break", "do", "else", "elseif", "end", "false", "for",
    "function", "goto", "if", "in", "local", "nil", "not", "or", "repeat",
    "return", "then", "true", "until", "while", NULL
  };
  size_t i;
  if (len == 0 || len > KEYMAX) return 0;
  for (i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    int alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    if (!alpha && (i == 0 || !(c >= '0' && c <= '9'))) return 0;
  }
  for (i = 0; reserved[i]; i++)
    if (strlen(reserved[i]) == len && memcmp(reserved[i], s, len) == 0)
      return 0;
  return 1;
}

static void addquoted (luaL_Buffer *b, const char *s, size_t len) {
  size_t i, n = len > KEYMAX ? KEYMAX : len;
  luaL_addchar(b, '"');
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    char esc[8];
    if (c == '"' || c == '\\') { luaL_addchar(b, '\\'); luaL_addchar(b, (char)c); }
    else if (c == '\n') luaL_addstring(b, "\\n");
    else if (c == '\r') luaL_addstring(b, "\\r");
    else if (c == '\t') luaL_addstring(b, "\\t");
    else if (c < 0x20 || c == 0x7f) {
      snprintf(esc, sizeof esc, "\\%03u", (unsigned)c);
      luaL_addstring(b, esc);
    }
    else luaL_addchar(b, (char)c);
  }
  if (n < len) luaL_addstring(b, "...");
  luaL_addchar(b, '"');
}

static void addkey (lua_State *L, luaL_Buffer *b, int k) {
  switch (lua_type(L, k)) {
    case LUA_TSTRING: {
      size_t len;
      const char *s = lua_tolstring(L, k, &len);
      if (isident(s, len)) {
        luaL_addchar(b, '.');
        luaL_addlstring(b, s, len);
      }
      else {
        luaL_addchar(b, '[');
        addquoted(b, s, len);
        luaL_addchar(b, ']');
      }
      break;
    }
    case LUA_TNUMBER:
      if (lua_isinteger(L, k))
        lua_pushfstring(L, "[%I]", (LUAI_UACINT)lua_tointeger(L, k));
      else
        lua_pushfstring(L, "[%f]", (LUAI_UACNUMBER)lua_tonumber(L, k));
      luaL_addvalue(b);
      break;
    case LUA_TBOOLEAN:
      luaL_addstring(b, lua_toboolean(L, k) ? "[true]" : "[false]");
      break;
    default:
      lua_pushfstring(L, "[%s]", luaL_typename(L, k));
      luaL_addvalue(b);
      break;
  }
}

/* Pushes the path to the value at 'depth' (the steps below it are still
   on the stack), shortened in the middle when too long. */
static void pushpath (Encoder *e, int depth) {
  lua_State *L = e->L;
  luaL_Buffer b;
  const char *s;
  size_t len;
  int i;
  luaL_buffinit(L, &b);
  if (e->argbase > 0) {
    lua_pushfstring(L, "argument %d", e->argbase + e->arg);
    luaL_addvalue(&b);
  }
  else luaL_addstring(&b, "value");
  for (i = 0; i < depth; i++) {
    const Step *st = &e->path[i];
    switch (st->kind) {
      case S_FIELD:
        if (i == 0) luaL_addchar(&b, ' ');
        addkey(L, &b, st->idx);
        break;
      case S_KEY: luaL_addstring(&b, " key"); break;
      case S_META: luaL_addstring(&b, " metatable"); break;
      case S_UPVAL:
        luaL_addstring(&b, " upvalue '");
        luaL_addstring(&b, st->name);
        luaL_addchar(&b, '\'');
        break;
    }
  }
  luaL_pushresult(&b);
  s = lua_tolstring(L, -1, &len);
  if (len > PATHMAX) {
    size_t half = (PATHMAX - 3) / 2;
    luaL_buffinit(L, &b);
    luaL_addlstring(&b, s, half);
    luaL_addstring(&b, "...");
    luaL_addlstring(&b, s + len - half, half);
    luaL_pushresult(&b);
    lua_remove(L, -2);
  }
}

/* Fails with "cannot copy <what>" (or the depth message when what is NULL)
   for the value at 'depth'. The message stays on top of the stack: error
   returns unwind without popping, and lng_copy_encode moves it down. */
static int fail (Encoder *e, const char *what, int depth) {
  lua_State *L = e->L;
  pushpath(e, depth);
  if (what)
    lua_pushfstring(L, "cannot copy %s (at %s)", what, lua_tostring(L, -1));
  else
    lua_pushfstring(L, "cannot copy: value nested too deeply (at %s)",
                    lua_tostring(L, -1));
  lua_remove(L, -2);
  e->err = E_MSG;
  return -1;
}

static int patch32 (Encoder *e, size_t off, size_t v) {
  uint32_t u = (uint32_t)v;
  if (v > UINT32_MAX) return nomem(e);
  memcpy(lng_msg_bytes(e->m) + off, &u, 4);
  return 0;
}

/* tag and varint v */
static int puttv (Encoder *e, int tag, uint64_t v) {
  return lng_wire_puttvb(e->m, tag, v, NULL, 0) ? nomem(e) : 0;
}


static uint32_t hashp (const void *p, uint32_t mask) {
  return (uint32_t)(((uint64_t)(uintptr_t)p * 0x9e3779b97f4a7c15ull) >> 32) & mask;
}

/* p's entry, or the free one where it would go (its p is NULL). */
static Ident *mapfind (Encoder *e, const void *p) {
  uint32_t mask, i;
  if (e->mapcap == 0) {
    memset(e->map0, 0, sizeof e->map0);
    e->map = e->map0;
    e->mapcap = MAP_INLINE;
  }
  mask = e->mapcap - 1;
  i = hashp(p, mask);
  while (e->map[i].p && e->map[i].p != p) i = (i + 1) & mask;
  return &e->map[i];
}

/* Adds p at its free entry slot, growing the map to keep it at most half
   full (raises on memory errors, like the Lua API). */
static void mapadd (Encoder *e, Ident *slot, const void *p, uint32_t id, uint32_t off) {
  if (2 * (e->mapn + 1) > e->mapcap) {
    uint32_t cap = e->mapcap * 2, i, j;
    Ident *nm = lua_newuserdatauv(e->L, (size_t)cap * sizeof *nm, 0);
    memset(nm, 0, (size_t)cap * sizeof *nm);
    for (i = 0; i < e->mapcap; i++) {
      if (!e->map[i].p) continue;
      for (j = hashp(e->map[i].p, cap - 1); nm[j].p; j = (j + 1) & (cap - 1)) {}
      nm[j] = e->map[i];
    }
    lua_replace(e->L, e->mapslot);   /* the old userdata (if any) goes */
    e->map = nm;
    e->mapcap = cap;
    slot = mapfind(e, p);
  }
  slot->p = p;
  slot->id = id;
  slot->off = off;
  e->mapn++;
}

/* If the table or function at address p was met before, sets *id to its id
   (and for a table marks it KEEP) and returns 1; otherwise gives it the
   next id (also in *id) and returns 0. off: where its tag goes, or
   NOOFF. */
static int seenid (Encoder *e, const void *p, lua_Integer *id, uint32_t off) {
  Ident *s = mapfind(e, p);
  if (s->p) {
    *id = s->id;
    if (s->off != NOOFF) lng_msg_bytes(e->m)[s->off] |= LNG_TAG_KEEP;
    return 1;
  }
  *id = ++e->nid;
  mapadd(e, s, p, (uint32_t)*id, off);
  return 0;
}

/* Room for n more bytes at the end of the message, without a call when
   the buffer has it (the array section asks for every element). */
static inline unsigned char *room (Encoder *e, size_t n) {
  lng_msg *m = e->m;
  if (m->ext && m->u.x.cap - m->len >= n) return m->u.x.bytes + m->len;
  return lng_msg_reserve(m, n);
}

_Static_assert(LNG_WIRE_KEYMAX < 128, "a key's length is a one-byte varint");

/* The string key str (len bytes, a short string of the sender's): KEY
   when met before (its first KDEF becomes KDEFK), else KDEF. */
static int enckey (Encoder *e, const char *str, size_t len) {
  Ident *s = mapfind(e, str);
  unsigned char *p;
  if (s->p) {
    lng_msg_bytes(e->m)[s->off] = LNG_TAG_KDEFK;
    return puttv(e, LNG_TAG_KEY, s->id);
  }
  if (e->m->len == UINT32_MAX) return nomem(e);
  mapadd(e, s, str, ++e->nkeys, e->m->len);
  if (!(p = room(e, 2 + len))) return nomem(e);   /* (len < 128: a one-byte varint) */
  p[0] = LNG_TAG_KDEF;
  p[1] = (unsigned char)len;
  memcpy(p + 2, str, len);
  e->m->len += (uint32_t)(2 + len);
  return 0;
}

/* The array section's run being written: its kind, count and where its
   count goes (kind -1: none). */
typedef struct Run {
  int kind;
  uint32_t count;
  size_t off;
} Run;

static int endrun (Encoder *e, Run *r) {
  if (r->kind < 0) return 0;
  memcpy(lng_msg_bytes(e->m) + r->off, &r->count, 4);
  r->kind = -1;
  return 0;
}

static int startrun (Encoder *e, Run *r, int kind) {
  unsigned char *p;
  if (endrun(e, r) || !(p = lng_msg_reserve(e->m, 5))) return nomem(e);
  *p = (unsigned char)kind;
  r->kind = kind;
  r->count = 0;
  r->off = e->m->len + 1;
  e->m->len += 5;
  return 0;
}

/* Appends the value at v (its key at k) to the array section. Integers
   come first, found with one call of the API (arrays of them are what
   this path is for). */
static int encelem (Encoder *e, Run *r, int k, int v, int depth) {
  lua_State *L = e->L;
  unsigned char *p;
  int kind;
  if (lua_isinteger(L, v)) {
    lua_Integer x = lua_tointeger(L, v);
    int32_t x32 = (int32_t)x;
    kind = x32 == x ? LNG_RUN_I32 : LNG_RUN_I64;
    if (kind != r->kind && startrun(e, r, kind)) return -1;
    r->count++;
    if (!(p = room(e, sizeof x))) return nomem(e);
    if (kind == LNG_RUN_I32) {
      memcpy(p, &x32, sizeof x32);
      e->m->len += sizeof x32;
    }
    else {
      memcpy(p, &x, sizeof x);
      e->m->len += sizeof x;
    }
    return 0;
  }
  switch (lua_type(L, v)) {
    case LUA_TNUMBER: kind = LNG_RUN_FLT; break;
    case LUA_TSTRING: kind = LNG_RUN_STR; break;
    case LUA_TBOOLEAN: kind = LNG_RUN_BOOL; break;
    default: kind = LNG_RUN_VAL; break;
  }
  if (kind != r->kind && startrun(e, r, kind)) return -1;
  r->count++;
  switch (kind) {
    case LNG_RUN_FLT: {
      lua_Number n = lua_tonumber(L, v);
      if (!(p = room(e, sizeof n))) return nomem(e);
      memcpy(p, &n, sizeof n);
      e->m->len += sizeof n;
      return 0;
    }
    case LNG_RUN_STR: {
      size_t len;
      const char *str = lua_tolstring(L, v, &len);
      size_t head = (size_t)lng_wire_varlen(len);
      if (len > SIZE_MAX - head || !(p = room(e, head + len))) return nomem(e);
      p = lng_wire_putvar(p, len);
      memcpy(p, str, len);
      e->m->len += (uint32_t)(head + len);
      return 0;
    }
    case LNG_RUN_BOOL:
      if (!(p = room(e, 1))) return nomem(e);
      *p = (unsigned char)lua_toboolean(L, v);
      e->m->len++;
      return 0;
    default:
      e->path[depth].kind = S_FIELD;
      e->path[depth].idx = k;
      return encvalue(e, v, depth + 1);
  }
}

static int enctable (Encoder *e, int t, const void *tp, int depth) {
  lua_State *L = e->L;
  lua_Integer id, n = 0;   /* n: array positions written */
  uint32_t off = e->m->len, nhash = 0;
  int mt, inarr = 1;
  unsigned char *p;
  Run r = { -1, 0, 0 };
  if (seenid(e, tp, &id, off)) return puttv(e, LNG_TAG_REF, (uint64_t)id);
  if (depth >= LNG_COPY_MAXDEPTH) return fail(e, NULL, depth);
  if (!lua_checkstack(L, LNG_COPY_LEVEL_SLOTS)) { e->err = E_STACK; return -1; }
  mt = lua_getmetatable(L, t) ? lua_gettop(L) : 0;
  if (!(p = lng_msg_reserve(e->m, 9))) return nomem(e);
  *p = mt ? LNG_TAG_TABMT : LNG_TAG_TAB;
  e->m->len += 9;          /* narr and nhash, filled in at the end */
  lua_pushnil(L);
  int k = lua_gettop(L);   /* where lua_next leaves each key */
  while (lua_next(L, t)) {
    if (inarr) {
      lua_Integer i;   /* (a float key is never integral: Lua normalises keys) */
      if (lua_isinteger(L, k) && (i = lua_tointeger(L, k)) > n &&
          i - n <= LNG_WIRE_HOLEMAX + 1) {
        if (i - n > 1) {
          if (startrun(e, &r, LNG_RUN_NIL)) return -1;
          r.count = (uint32_t)(i - n - 1);
          r.kind = -2;     /* a nil run is never continued */
          memcpy(lng_msg_bytes(e->m) + r.off, &r.count, 4);
        }
        if (encelem(e, &r, k, k + 1, depth)) return -1;
        n = i;
        lua_pop(L, 1);
        continue;
      }
      inarr = 0;
      if (endrun(e, &r)) return -1;
    }
    e->path[depth].kind = S_KEY;
    const char *ks;
    size_t klen;
    if (lua_type(L, k) == LUA_TSTRING && (ks = lua_tolstring(L, k, &klen), klen <= LNG_WIRE_KEYMAX)) {
      if (enckey(e, ks, klen)) return -1;
    }
    else if (encvalue(e, k, depth + 1)) return -1;
    e->path[depth].kind = S_FIELD;
    e->path[depth].idx = k;
    if (encvalue(e, k + 1, depth + 1)) return -1;
    lua_pop(L, 1);
    nhash++;
  }
  if (endrun(e, &r) || patch32(e, off + 1, (size_t)n) || patch32(e, off + 5, nhash))
    return -1;
  if (mt) {
    e->path[depth].kind = S_META;
    if (encvalue(e, mt, depth + 1)) return -1;
    lua_pop(L, 1);
  }
  return 0;
}

static int enclfunc (Encoder *e, int f, int depth) {
  lua_State *L = e->L;
  lua_Debug ar;
  lua_Integer id = 0;
  unsigned char *p;
  int i, nups;
  if (lua_getupvalue(L, f, 1) == NULL) {
    nups = 0;                        /* the common case, without lua_getinfo */
  } else {
    lua_pop(L, 1);
    lua_pushvalue(L, f);
    lua_getinfo(L, ">u", &ar);
    nups = ar.nups;
  }
  /* A function without upvalues needs no id: nothing can refer back to
     it, and the receiver's cache of such functions keeps it one value. */
  if (nups > 0 && seenid(e, lua_topointer(L, f), &id, NOOFF)) return puttv(e, LNG_TAG_REF, (uint64_t)id);
  if (depth >= LNG_COPY_MAXDEPTH) return fail(e, NULL, depth);
  if (!lua_checkstack(L, LNG_COPY_LEVEL_SLOTS)) { e->err = E_STACK; return -1; }
  if (!(p = lng_msg_reserve(e->m, 2))) return nomem(e);
  p[0] = LNG_TAG_FUN;
  p[1] = (unsigned char)nups;
  e->m->len += 2;
  int r = lng_fcache_code(L, f, e->m);
  if (r < 0 || !(p = lng_msg_reserve(e->m, 10))) return nomem(e);
  e->m->len += (size_t)(lng_wire_putvar(p, (uint64_t)r) - p);
  /* Note every upvalue first, so that a function reached through one of
     them can join an upvalue of this one not yet written. An upvalue's
     entry: the function (id) and which of its upvalues (off) showed it
     first. */
  for (i = 1; i <= nups; i++) {
    const void *u = lua_upvalueid(L, f, i);
    Ident *s = mapfind(e, u);
    if (!s->p) mapadd(e, s, u, (uint32_t)id, (uint32_t)i);
  }
  for (i = 1; i <= nups; i++) {
    const Ident *s = mapfind(e, lua_upvalueid(L, f, i));
    if (s->id != (uint32_t)id || s->off != (uint32_t)i) {
      if (puttv(e, LNG_TAG_JOIN, (uint64_t)s->id)) return -1;
      if (!(p = lng_msg_reserve(e->m, 1))) return nomem(e);
      *p = (unsigned char)s->off;
      e->m->len++;
    }
    else {
      const char *name = lua_getupvalue(L, f, i);
      if (name == NULL || *name == '\0' || strcmp(name, "(no name)") == 0)
        name = "?";   /* stripped debug info */
      e->path[depth].kind = S_UPVAL;
      e->path[depth].name = name;
      if (encvalue(e, lua_gettop(L), depth + 1)) return -1;
      lua_pop(L, 1);
    }
  }
  return 0;
}

static int enccfunc (Encoder *e, int f, int depth) {
  lua_CFunction fn;
  if (lua_getupvalue(e->L, f, 1) != NULL) {
    int r;
    lua_pop(e->L, 1);
    if ((r = modlast(e, f))) return r < 0 ? -1 : 0;
    return fail(e, "C function with upvalues", depth);
  }
  fn = lua_tocfunction(e->L, f);
  return lng_wire_putraw(e->m, LNG_TAG_CFN, &fn, sizeof fn) ? nomem(e) : 0;
}

/* The value at idx as a module value (modname.h): 1 written, 0 not one,
   -1 failed. */
static int modput (Encoder *e, int idx) {
  int r = lng_mod_put(e->L, idx, e->m);
  return r < 0 ? nomem(e) : r;
}

/* The same for a value about to be refused: the index is walked again
   first (once a message), in case a module gained it since. */
static int modlast (Encoder *e, int idx) {
  if (!e->modretry) {
    e->modretry = 1;
    e->mods = lng_mod_index(e->L, 1);
  }
  return e->mods ? modput(e, idx) : 0;
}

/* What a value that cannot cross is called in the error: its type, and
   its metatable's __name when it has one ("userdata 'lpeg-pattern'"). */
static int failvalue (Encoder *e, int idx, int depth) {
  lua_State *L = e->L;
  if (luaL_getmetafield(L, idx, "__name") == LUA_TSTRING) {
    const char *what = lua_pushfstring(L, "%s '%s'", luaL_typename(L, idx), lua_tostring(L, -1));
    lua_remove(L, -2);
    int r = fail(e, what, depth);
    lua_remove(L, -2);            /* (fail leaves its message on top) */
    return r;
  }
  return fail(e, luaL_typename(L, idx), depth);
}

/* A userdata of a type that opts in (udtype.h). */
static int udput (Encoder *e, int idx, const void *ut, int depth) {
  lua_State *L = e->L;
  int base = lua_gettop(L);
  if (lng_ud_put(L, idx, ut, e->m) == 0) return 0;
  if (*lua_tostring(L, -1) == '\0') return nomem(e);
  /* "cannot copy userdata 'name': why (at ...)" */
  const char *why = lua_tostring(L, -1);
  const char *what;
  if (luaL_getmetafield(L, idx, "__name") == LUA_TSTRING)
    what = lua_pushfstring(L, "userdata '%s': %s", lua_tostring(L, -1), why);
  else
    what = lua_pushfstring(L, "userdata: %s", why);
  int r = fail(e, what, depth);
  lua_replace(L, base + 1);   /* (why, [name,] what, message) -> message */
  lua_settop(L, base + 1);
  return r;
}

/* The scalar (or proxy) at idx, as an lng_scalar; 0 for
   anything else. */
LNG_WIRE_INLINE int toscalar (lua_State *L, int idx, int t, lng_scalar *s) {
  switch (t) {
    case LUA_TNIL: s->type = LNG_SCALAR_NIL; return 1;
    case LUA_TBOOLEAN: s->type = LNG_SCALAR_BOOLEAN; s->b = lua_toboolean(L, idx); return 1;
    case LUA_TNUMBER:
      if (lua_isinteger(L, idx)) { s->type = LNG_SCALAR_INTEGER; s->i = lua_tointeger(L, idx); }
      else { s->type = LNG_SCALAR_NUMBER; s->n = lua_tonumber(L, idx); }
      return 1;
    case LUA_TSTRING: {
      size_t len;                    /* (s's address stays unknown to Lua) */
      s->type = LNG_SCALAR_STRING;
      s->s = lua_tolstring(L, idx, &len);
      s->len = len;
      return 1;
    }
    case LUA_TUSERDATA:
      s->type = LNG_SCALAR_OBJECT;
      return (s->obj = lng_proxy_test(L, idx)) != NULL;
    default: return 0;
  }
}

/* Encodes the value at absolute index idx; path[0..depth-1] says where it
   is. On error returns -1 at once, leaving the stack as it is. */
static int encvalue (Encoder *e, int idx, int depth) {
  lua_State *L = e->L;
  lng_scalar sc;
  int r, t = lua_type(L, idx);
  switch (t) {
    case LUA_TTABLE:
      /* The sender's globals, or the shard's base that modules loaded by
         require see as theirs: either way, "the receiver's globals". */
      {
        const void *p = lua_topointer(L, idx);   /* (once: the seen map wants it too) */
        if (p == e->envp || p == e->basep)
          return lng_wire_puttag(e->m, LNG_TAG_ENV) ? nomem(e) : 0;
        if (e->mods && lng_mod_maybe(e->mods, p) && (r = modput(e, idx)))
          return r < 0 ? -1 : 0;
        return enctable(e, idx, p, depth);
      }
    case LUA_TFUNCTION:
      if (e->mods && lng_mod_maybe(e->mods, lua_topointer(L, idx)) && (r = modput(e, idx)))
        return r < 0 ? -1 : 0;
      if (lua_iscfunction(L, idx)) return enccfunc(e, idx, depth);
      return enclfunc(e, idx, depth);
    default:
      if (toscalar(L, idx, t, &sc)) return lng_wire_put_scalar(e->m, &sc) ? nomem(e) : 0;
      if (t == LUA_TLIGHTUSERDATA && lua_touserdata(L, idx) == LNG_COPY_DEFAULT)
        return lng_wire_puttag(e->m, LNG_TAG_DEFAULT) ? nomem(e) : 0;
      if (t == LUA_TUSERDATA) {
        const void *ut = lng_ud_type(L, idx);
        if (ut) return udput(e, idx, ut, depth);
      }
      if ((t == LUA_TUSERDATA || t == LUA_TLIGHTUSERDATA) && (r = modlast(e, idx)))
        return r < 0 ? -1 : 0;
      return failvalue(e, idx, depth);
  }
}

int lng_copy_encode_values (lua_State *L, int first, int n, int env,
                            int argbase, lng_msg *m) {
  Encoder e;
  lng_scalar sc;
  if (n == 1 && toscalar(L, first, lua_type(L, first), &sc)) {   /* most messages: no set-up */
    if (lng_wire_put_scalar(m, &sc) == 0) return 0;
    lua_pushliteral(L, LNG_COPY_MEMMSG);
    return -1;
  }
  int base = lua_gettop(L);
  int i;
  if (n > 0) first = lua_absindex(L, first);
  e.L = L;
  e.m = m;
  e.envp = env && lua_istable(L, env) ? lua_topointer(L, env) : NULL;   /* nil: no globals yet */
  e.nid = 0;
  e.nkeys = 0;
  e.mapcap = e.mapn = 0;
  e.argbase = argbase;
  e.err = 0;
  e.modretry = 0;
  {
    lng_shard *sh = lng_shard_of(L);   /* NULL: a state that is no shard (copy.h) */
    const lng_modidx *x = sh ? &sh->mods : NULL;
    e.mods = !x ? NULL : lng_mod_fresh(x) ? (lng_mod_any(x) ? x : NULL) : lng_mod_index(L, 0);
  }
  luaL_checkstack(L, LNG_COPY_LEVEL_SLOTS, "copying value");
  lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS);
  e.basep = lua_topointer(L, base + 1);
  lua_pushnil(L);   /* slot for the grown map */
  e.mapslot = base + 2;
  for (i = 0; i < n; i++) {
    e.arg = i;
    if (encvalue(&e, first + i, 0)) {
      if (e.err == E_MSG) {
        lua_replace(L, base + 1);
        lua_settop(L, base + 1);
      }
      else {
        lua_settop(L, base);
        lua_pushstring(L, e.err == E_MEM ? LNG_COPY_MEMMSG : LNG_COPY_STACKMSG);
      }
      return -1;
    }
  }
  lua_settop(L, base);
  return 0;
}
