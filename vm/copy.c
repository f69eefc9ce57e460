/*
 * Copying Lua values between shards; see copy.h.
 *
 * Byte format. A message is a sequence of values, each a tag byte followed
 * by its payload. Numbers are in native byte order: a message never leaves
 * the process. A varint is LEB128 (7 bits a byte, low bits first, high bit
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
 *   TAB, TABMT        varint array-size hint, u32 pair count, the pairs
 *                     (key value key value ...), then for TABMT the
 *                     metatable as one more value (the decoder sets
 *                     metatables only once the whole message is built)
 *   FUN               u8 upvalue count, varint index into refs of the
 *                     code object (the function's lua_dump output, shared
 *                     by every message carrying that function), then per
 *                     upvalue either a value or
 *     JOIN            varint function id, u8 upvalue number: the upvalue is
 *                     the same variable as that upvalue of that function
 *
 * Tables and functions are numbered 1, 2, ... in the order their TAB/FUN
 * tags appear, across all values of the message; the decoder numbers them
 * the same way as it meets them, so ids are never stored with the object.
 * A table is numbered before its contents are written, which is what lets
 * cycles be written as REFs. A function's upvalue identities are noted
 * (before any upvalue value is written) in the same "seen" table, keyed by
 * lua_upvalueid; a later function sharing one writes JOIN to the first.
 *
 * Both sides keep their helper table (value -> id when encoding, id ->
 * value when decoding) in a stack slot reserved up front as nil and filled
 * only when the first table or function shows up, so scalars cost no
 * allocation beyond the message's inline buffer.
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <lauxlib.h>
#include "copy.h"
#include "vm.h"
#include "proxy.h"
#include "factory.h"

enum {
  T_NIL, T_FALSE, T_TRUE, T_ENV, T_INT, T_FLT, T_STR, T_CFN, T_OBJ, T_REF,
  T_TAB, T_TABMT, T_FUN, T_JOIN, T_I64
};
_Static_assert(T_I64 == LNG_COPY_TAG_I64, "copy.h's tag for one-integer messages");

/* Stack slots one nesting level may use, including what a leaf value
   needs (lng_proxy_test, the seen lookups) and an error message. */
#define LEVEL_SLOTS 16

/* Longest path shown in an error, and longest key within it. */
#define PATHMAX 160
#define KEYMAX 40

#define MEMMSG "not enough memory to copy value"
#define STACKMSG "cannot copy value: stack overflow"
#define CORRUPTMSG "cannot decode value: corrupt message"


static int varlen (lua_Unsigned v) {
  int n = 1;
  while (v >= 0x80) { v >>= 7; n++; }
  return n;
}

static unsigned char *putvar (unsigned char *p, lua_Unsigned v) {
  while (v >= 0x80) { *p++ = (unsigned char)(v | 0x80); v >>= 7; }
  *p++ = (unsigned char)v;
  return p;
}


/*
** {======================================================
** Encoder
** =======================================================
*/

enum { S_FIELD, S_KEY, S_META, S_UPVAL };   /* path step kinds */

typedef struct Step {
  int kind;
  int idx;            /* S_FIELD: stack index of the key */
  const char *name;   /* S_UPVAL: upvalue name */
} Step;

enum { E_MEM = 1, E_STACK, E_MSG };

typedef struct Encoder {
  lua_State *L;
  lng_msg *m;
  int env;            /* absolute index of the sender's globals, or 0 */
  int seen;           /* slot of the seen table (nil until needed) */
  int base;           /* slot of the registry's globals */
  int hasseen;
  lua_Integer nid;    /* ids handed out so far */
  int argbase, arg;   /* how to name the top-level value being encoded */
  int err;            /* E_* once something failed */
  Step path[LNG_COPY_MAXDEPTH + 1];
} Encoder;

static int encvalue (Encoder *e, int idx, int depth);


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

static int puttag (Encoder *e, int tag) {
  unsigned char *p = lng_msg_reserve(e->m, 1);
  if (!p) return nomem(e);
  *p = (unsigned char)tag;
  e->m->len++;
  return 0;
}

/* tag, varint v, then n bytes from s */
static int puttvb (Encoder *e, int tag, lua_Unsigned v, const void *s,
                   size_t n) {
  size_t head = 1 + (size_t)varlen(v);
  unsigned char *p;
  if (n > SIZE_MAX - head || !(p = lng_msg_reserve(e->m, head + n)))
    return nomem(e);
  *p = (unsigned char)tag;
  p = putvar(p + 1, v);
  if (n) memcpy(p, s, n);
  e->m->len += head + n;
  return 0;
}

/* tag then n raw bytes */
static int putraw (Encoder *e, int tag, const void *s, size_t n) {
  unsigned char *p = lng_msg_reserve(e->m, 1 + n);
  if (!p) return nomem(e);
  *p = (unsigned char)tag;
  memcpy(p + 1, s, n);
  e->m->len += 1 + n;
  return 0;
}

static int putint (Encoder *e, lua_Integer i) {
  lua_Unsigned u = (lua_Unsigned)i << 1;
  if (i < 0) u = ~u;
  return puttvb(e, T_INT, u, NULL, 0);
}

/* Reserves a u32 to be filled in by patch32; returns its offset via off. */
static int hole32 (Encoder *e, size_t *off) {
  if (!lng_msg_reserve(e->m, 4)) return nomem(e);
  *off = e->m->len;
  e->m->len += 4;
  return 0;
}

static int patch32 (Encoder *e, size_t off, size_t v) {
  uint32_t u = (uint32_t)v;
  if (v > UINT32_MAX) return nomem(e);
  memcpy(lng_msg_bytes(e->m) + off, &u, 4);
  return 0;
}

/* If the table or function at idx was met before, sets *id to its id and
   returns 1; otherwise gives it the next id (also in *id) and returns 0. */
static int seenid (Encoder *e, int idx, lua_Integer *id) {
  lua_State *L = e->L;
  if (!e->hasseen) {
    lua_createtable(L, 0, 4);
    lua_replace(L, e->seen);
    e->hasseen = 1;
  }
  else {
    lua_pushvalue(L, idx);
    if (lua_rawget(L, e->seen) == LUA_TNUMBER) {
      *id = lua_tointeger(L, -1);
      lua_pop(L, 1);
      return 1;
    }
    lua_pop(L, 1);
  }
  *id = ++e->nid;
  lua_pushvalue(L, idx);
  lua_pushinteger(L, *id);
  lua_rawset(L, e->seen);
  return 0;
}

static int enctable (Encoder *e, int t, int depth) {
  lua_State *L = e->L;
  lua_Integer id;
  size_t off, count = 0;
  int mt;
  if (seenid(e, t, &id)) return puttvb(e, T_REF, (lua_Unsigned)id, NULL, 0);
  if (depth >= LNG_COPY_MAXDEPTH) return fail(e, NULL, depth);
  if (!lua_checkstack(L, LEVEL_SLOTS)) { e->err = E_STACK; return -1; }
  mt = lua_getmetatable(L, t) ? lua_gettop(L) : 0;
  if (puttvb(e, mt ? T_TABMT : T_TAB, lua_rawlen(L, t), NULL, 0) ||
      hole32(e, &off))
    return -1;
  lua_pushnil(L);
  while (lua_next(L, t)) {
    int k = lua_gettop(L) - 1;
    e->path[depth].kind = S_KEY;
    if (encvalue(e, k, depth + 1)) return -1;
    e->path[depth].kind = S_FIELD;
    e->path[depth].idx = k;
    if (encvalue(e, k + 1, depth + 1)) return -1;
    lua_pop(L, 1);
    count++;
  }
  if (patch32(e, off, count)) return -1;
  if (mt) {
    e->path[depth].kind = S_META;
    if (encvalue(e, mt, depth + 1)) return -1;
    lua_pop(L, 1);
  }
  return 0;
}

static int writer (lua_State *L, const void *p, size_t sz, void *ud) {
  (void)L;
  return lng_msg_append(ud, p, sz) ? 1 : 0;
}

/* The seen-table entry for an upvalue: which function (id) and which of
   its upvalues first showed this variable. */
#define UPKEY(id, i) ((id) * 256 + (i))

/* Per-state caches, so that spawning the same function again and again
   neither dumps nor loads its code each time:
   registry[&DUMPS] = {closure -> its lua_dump}, weak keys (sender side);
   registry[&CODES] = {hash of a dump -> its holder}, weak values (sender
   side), so closures of one function share one dump;
   registry[&PROTOS] = {hash -> loaded closure, ~hash -> dump} (receiver
   side), for functions without upvalues only: such a closure holds
   nothing a goroutine could change, so one can serve every copy. Keyed
   by a hash of the code, so a lookup allocates nothing; the dump kept
   beside it confirms a hit. Emptied when it holds PROTOS_MAX entries. */
static const char DUMPS = 'd', CODES = 'o', PROTOS = 'p', PROTOS_N = 'n';
/* registry[&FACTORIES] = {hash -> factory (or false: cannot), ~hash ->
   dump}, for functions with upvalues (factory.c); same limit. */
static const char FACTORIES = 'f', FACTORIES_N = 'm';
#define PROTOS_MAX 256

static lua_Integer codehash (const char *p, size_t n) {
  uint64_t h = (uint64_t)n * 0x9e3779b97f4a7c15ull, w;   /* 8 bytes a step */
  for (; n >= 8; p += 8, n -= 8) {
    memcpy(&w, p, 8);
    h = (h ^ w) * 0xff51afd7ed558ccdull;
    h ^= h >> 29;
  }
  for (; n > 0; p++, n--) h = (h ^ (unsigned char)*p) * 0x100000001b3ull;
  return (lua_Integer)h;
}

static void getcache (lua_State *L, const char *key, const char *mode) {
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, key) != LUA_TTABLE) {
    lua_pop(L, 1);
    lua_newtable(L);
    if (*mode) {
      lua_createtable(L, 0, 1);
      lua_pushstring(L, mode);
      lua_setfield(L, -2, "__mode");
      lua_setmetatable(L, -2);
    }
    lua_pushvalue(L, -1);
    lua_rawsetp(L, LUA_REGISTRYINDEX, key);
  }
}

/* Code objects: a function's dump, made once per closure on the sending
   side and referenced (not copied) by every message that carries the
   function, so spawning the same function a million times copies no code
   and a spawn message fits the message's inline bytes. The sender's cache
   holds each one through a small userdata whose __gc drops the reference. */
typedef struct lng_code {
  lng_obj obj;
  size_t len;
  char bytes[];
} lng_code;

static const char CODEMT = 'c';      /* registry[&CODEMT]: the holders' metatable */

static void code_destroy (lng_obj *o) { free(o); }

static int code_gc (lua_State *L) {
  lng_code **h = lua_touserdata(L, 1);
  if (h && *h) {
    lng_obj_unref(&(*h)->obj);
    *h = NULL;
  }
  return 0;
}

/* Pushes a new holder of code, with the holders' metatable. */
static lng_code **newholder (lua_State *L) {
  lng_code **h = lua_newuserdatauv(L, sizeof *h, 0);
  *h = NULL;
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &CODEMT) != LUA_TTABLE) {
    lua_pop(L, 1);
    lua_createtable(L, 0, 1);
    lua_pushcfunction(L, code_gc);
    lua_setfield(L, -2, "__gc");
    lua_pushvalue(L, -1);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &CODEMT);
  }
  lua_setmetatable(L, -2);
  return h;
}

/* Adds to the message a reference to the code of the function at f
   (absolute index) and writes its index.
   A loop that spawns `go(function() ... end)` makes a new closure of one
   function each time: the closure misses DUMPS, but its dump is found in
   CODES by content, so all those closures share one code object (one
   holder, no malloc) instead of one each, which a parked goroutine's
   share of memory used to include until the collector came by. */
static int dumpcode (Encoder *e, int f) {
  lua_State *L = e->L;
  lng_code *code;
  getcache(L, &DUMPS, "k");
  lua_pushvalue(L, f);
  if (lua_rawget(L, -2) == LUA_TUSERDATA) {
    code = *(lng_code **)lua_touserdata(L, -1);
    lua_pop(L, 2);
  } else {
    lua_pop(L, 1);
    getcache(L, &CODES, "v");                 /* DUMPS CODES */
    lng_code **h = newholder(L);              /* before the malloc: nothing may raise after it */
    lng_msg tmp;
    lng_msg_init(&tmp);
    lua_pushvalue(L, f);
    int r = lua_dump(L, writer, &tmp, 0);   /* keep debug info: file:line */
    lua_pop(L, 1);
    if (r != 0) {
      lng_msg_free(&tmp);
      lua_pop(L, 3);
      return nomem(e);
    }
    lua_Integer hash = codehash((const char *)lng_msg_cbytes(&tmp), tmp.len);
    code = NULL;
    if (lua_rawgeti(L, -2, hash) == LUA_TUSERDATA) {
      lng_code *c = *(lng_code **)lua_touserdata(L, -1);
      if (c && c->len == tmp.len && memcmp(c->bytes, lng_msg_cbytes(&tmp), tmp.len) == 0) {
        code = c;
        lua_replace(L, -2);                   /* DUMPS CODES holder */
      }
    }
    if (!code) {
      lua_pop(L, 1);
      code = malloc(sizeof *code + tmp.len);
      if (!code) {
        lng_msg_free(&tmp);
        lua_pop(L, 3);
        return nomem(e);
      }
      lng_obj_init(&code->obj, LNG_OBJ_CODE, code_destroy);
      code->len = tmp.len;
      memcpy(code->bytes, lng_msg_cbytes(&tmp), tmp.len);
      *h = code;
      lua_pushvalue(L, -1);
      lua_rawseti(L, -3, hash);
    }
    lng_msg_free(&tmp);
    lua_pushvalue(L, f);                      /* DUMPS CODES holder f */
    lua_insert(L, -2);
    lua_rawset(L, -4);
    lua_pop(L, 2);
  }
  int r = lng_msg_addref(e->m, lng_obj_ref(&code->obj));
  if (r < 0) {
    lng_obj_unref(&code->obj);
    return nomem(e);
  }
  unsigned char *p = lng_msg_reserve(e->m, 10);
  if (!p) return nomem(e);
  e->m->len += (size_t)(putvar(p, (lua_Unsigned)r) - p);
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
  if (nups > 0 && seenid(e, f, &id)) return puttvb(e, T_REF, (lua_Unsigned)id, NULL, 0);
  if (depth >= LNG_COPY_MAXDEPTH) return fail(e, NULL, depth);
  if (!lua_checkstack(L, LEVEL_SLOTS)) { e->err = E_STACK; return -1; }
  if (!(p = lng_msg_reserve(e->m, 2))) return nomem(e);
  p[0] = T_FUN;
  p[1] = (unsigned char)nups;
  e->m->len += 2;
  if (dumpcode(e, f)) return -1;
  /* Note every upvalue first, so that a function reached through one of
     them can join an upvalue of this one not yet written. */
  for (i = 1; i <= nups; i++) {
    lua_pushlightuserdata(L, lua_upvalueid(L, f, i));
    if (lua_rawget(L, e->seen) == LUA_TNIL) {
      lua_pushlightuserdata(L, lua_upvalueid(L, f, i));
      lua_pushinteger(L, UPKEY(id, i));
      lua_rawset(L, e->seen);
    }
    lua_pop(L, 1);
  }
  for (i = 1; i <= nups; i++) {
    lua_Integer owner;
    lua_pushlightuserdata(L, lua_upvalueid(L, f, i));
    lua_rawget(L, e->seen);
    owner = lua_tointeger(L, -1);
    lua_pop(L, 1);
    if (owner != UPKEY(id, i)) {
      if (puttvb(e, T_JOIN, (lua_Unsigned)(owner / 256), NULL, 0))
        return -1;
      if (!(p = lng_msg_reserve(e->m, 1))) return nomem(e);
      *p = (unsigned char)(owner % 256);
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
    lua_pop(e->L, 1);
    return fail(e, "C function with upvalues", depth);
  }
  fn = lua_tocfunction(e->L, f);
  return putraw(e, T_CFN, &fn, sizeof fn);
}

static int encobj (Encoder *e, lng_obj *o) {
  int r = lng_msg_addref(e->m, lng_obj_ref(o));
  if (r < 0) {
    lng_obj_unref(o);
    return nomem(e);
  }
  return puttvb(e, T_OBJ, (lua_Unsigned)r, NULL, 0);
}

/* Encodes the value at absolute index idx; path[0..depth-1] says where it
   is. On error returns -1 at once, leaving the stack as it is. */
static int encvalue (Encoder *e, int idx, int depth) {
  lua_State *L = e->L;
  switch (lua_type(L, idx)) {
    case LUA_TNIL: return puttag(e, T_NIL);
    case LUA_TBOOLEAN: return puttag(e, lua_toboolean(L, idx) ? T_TRUE : T_FALSE);
    case LUA_TNUMBER:
      if (lua_isinteger(L, idx)) return putint(e, lua_tointeger(L, idx));
      else {
        lua_Number n = lua_tonumber(L, idx);
        return putraw(e, T_FLT, &n, sizeof n);
      }
    case LUA_TSTRING: {
      size_t len;
      const char *s = lua_tolstring(L, idx, &len);
      return puttvb(e, T_STR, (lua_Unsigned)len, s, len);
    }
    case LUA_TTABLE:
      /* The sender's globals, or the shard's base that modules loaded by
         require see as theirs: either way, "the receiver's globals". */
      if ((e->env && lua_rawequal(L, idx, e->env)) || lua_rawequal(L, idx, e->base))
        return puttag(e, T_ENV);
      return enctable(e, idx, depth);
    case LUA_TFUNCTION:
      if (lua_iscfunction(L, idx)) return enccfunc(e, idx, depth);
      return enclfunc(e, idx, depth);
    case LUA_TUSERDATA: {
      lng_obj *o = lng_proxy_test(L, idx);
      if (o) return encobj(e, o);
      break;
    }
    default: break;
  }
  return fail(e, luaL_typename(L, idx), depth);
}

/* One plain value (what most messages are) without the encoder's set-up. */
static int encplain (lua_State *L, int idx, lng_msg *m) {
  lng_scalar s;
  int t = lua_type(L, idx);
  if (t == LUA_TNUMBER && m->len == 0 && !m->ext && lua_isinteger(L, idx)) {
    /* the commonest message of all, written in place */
    lng_copy_put_i64(m, lua_tointeger(L, idx));
    return 0;
  }
  switch (t) {
    case LUA_TBOOLEAN: s.type = LNG_SCALAR_BOOLEAN; s.b = lua_toboolean(L, idx); break;
    case LUA_TNUMBER:
      if (lua_isinteger(L, idx)) { s.type = LNG_SCALAR_INTEGER; s.i = lua_tointeger(L, idx); }
      else { s.type = LNG_SCALAR_NUMBER; s.n = lua_tonumber(L, idx); }
      break;
    case LUA_TSTRING: s.type = LNG_SCALAR_STRING; s.s = lua_tolstring(L, idx, &s.len); break;
    default: return 1;
  }
  return lng_copy_put_scalar(m, &s) == 0 ? 0 : -1;
}

int lng_copy_encode (lua_State *L, int first, int n, int env, int argbase,
                     lng_msg *m) {
  Encoder e;
  if (n == 1) {
    int r = encplain(L, first, m);
    if (r <= 0) {
      if (r < 0) lua_pushliteral(L, MEMMSG);
      return r;
    }
  }
  int base = lua_gettop(L);
  int i;
  if (n > 0) first = lua_absindex(L, first);
  e.L = L;
  e.m = m;
  e.env = env && !lua_isnil(L, env) ? lua_absindex(L, env) : 0;   /* nil: no globals yet */
  e.hasseen = 0;
  e.nid = 0;
  e.argbase = argbase;
  e.err = 0;
  luaL_checkstack(L, LEVEL_SLOTS, "copying value");
  lua_pushnil(L);   /* slot for the seen table */
  e.seen = base + 1;
  lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS);
  e.base = base + 2;
  for (i = 0; i < n; i++) {
    e.arg = i;
    if (encvalue(&e, first + i, 0)) {
      if (e.err == E_MSG) {
        lua_replace(L, base + 1);
        lua_settop(L, base + 1);
      }
      else {
        lua_settop(L, base);
        lua_pushstring(L, e.err == E_MEM ? MEMMSG : STACKMSG);
      }
      return -1;
    }
  }
  lua_settop(L, base);
  return 0;
}

/* }====================================================== */


/*
** {======================================================
** Decoder
** =======================================================
*/

typedef struct Decoder {
  lua_State *L;
  const lng_msg *m;
  const unsigned char *p, *end;
  int env;            /* absolute index of the receiver's globals, or 0 */
  int ids;            /* slot of the id -> value table (nil until needed) */
  int hasids;
  lua_Integer nid;
  lua_Integer nmeta;  /* metatables waiting to be set */
} Decoder;

typedef struct Chunk { const char *p; size_t n; } Chunk;

static int decvalue (Decoder *d, int depth);


/* Error returns leave their message on top, like the encoder's. */
static int corrupt (Decoder *d) {
  lua_pushliteral(d->L, CORRUPTMSG);
  return -1;
}

static int getvar (Decoder *d, lua_Unsigned *v) {
  lua_Unsigned r = 0;
  int shift;
  for (shift = 0; shift < 64 && d->p < d->end; shift += 7) {
    unsigned char c = *d->p++;
    r |= (lua_Unsigned)(c & 0x7f) << shift;
    if (!(c & 0x80)) { *v = r; return 0; }
  }
  return -1;
}

static int getraw (Decoder *d, void *dst, size_t n) {
  if ((size_t)(d->end - d->p) < n) return -1;
  memcpy(dst, d->p, n);
  d->p += n;
  return 0;
}

static void newid (Decoder *d, int idx) {
  lua_State *L = d->L;
  if (!d->hasids) {
    lua_createtable(L, 8, 0);
    lua_replace(L, d->ids);
    d->hasids = 1;
  }
  lua_pushvalue(L, idx);
  lua_rawseti(L, d->ids, ++d->nid);
}

static int dectable (Decoder *d, int hasmt, int depth) {
  lua_State *L = d->L;
  lua_Unsigned narr;
  uint32_t npairs, i;
  int t;
  if (depth >= LNG_COPY_MAXDEPTH) return corrupt(d);
  if (!lua_checkstack(L, LEVEL_SLOTS)) {
    lua_pushliteral(L, STACKMSG);
    return -1;
  }
  if (getvar(d, &narr) || getraw(d, &npairs, 4) ||
      npairs > (size_t)(d->end - d->p) / 2)
    return corrupt(d);
  if (narr > npairs) narr = npairs;
  lua_createtable(L, narr > INT_MAX ? INT_MAX : (int)narr,
                  npairs - narr > INT_MAX ? INT_MAX : (int)(npairs - narr));
  t = lua_gettop(L);
  newid(d, t);
  for (i = 0; i < npairs; i++) {
    if (decvalue(d, depth + 1) || decvalue(d, depth + 1)) return -1;
    if (lua_isnil(L, -2) || (lua_type(L, -2) == LUA_TNUMBER &&
                             lua_tonumber(L, -2) != lua_tonumber(L, -2)))
      return corrupt(d);   /* nil or NaN key */
    lua_rawset(L, t);
  }
  if (hasmt) {
    /* The metatable may still be under construction (it can contain t),
       and a __gc field added after lua_setmetatable would not count: so
       metatables are set once everything is decoded, kept until then at
       negative keys of the id table. */
    if (decvalue(d, depth + 1)) return -1;
    if (!lua_istable(L, -1)) return corrupt(d);
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

static const char *readchunk (lua_State *L, void *ud, size_t *size) {
  Chunk *c = ud;
  const char *p = c->p;
  (void)L;
  *size = c->n;
  c->p = NULL;
  c->n = 0;
  return p;
}

static int islfunc (lua_State *L, int idx) {
  return lua_type(L, idx) == LUA_TFUNCTION && !lua_iscfunction(L, idx);
}

/* Whether the function at f has an upvalue number i. */
static int hasupvalue (lua_State *L, int f, int i) {
  if (i < 1 || lua_getupvalue(L, f, i) == NULL) return 0;
  lua_pop(L, 1);
  return 1;
}

/* Caches v (at the top, popped) under hash h with the code beside it. */
static void cacheput (lua_State *L, const char *key, const char *nkey,
                      lua_Integer h, const char *code, size_t n) {
  lua_rawgetp(L, LUA_REGISTRYINDEX, nkey);
  lua_Integer count = lua_tointeger(L, -1) + 1;
  lua_pop(L, 1);
  if (count > PROTOS_MAX) {        /* a program that makes code: start over */
    lua_newtable(L);
    lua_rawsetp(L, LUA_REGISTRYINDEX, key);
    count = 1;
  }
  lua_pushinteger(L, count);
  lua_rawsetp(L, LUA_REGISTRYINDEX, nkey);
  getcache(L, key, "");
  lua_insert(L, -2);
  lua_rawseti(L, -2, h);
  lua_pushlstring(L, code, n);
  lua_rawseti(L, -2, ~h);
  lua_pop(L, 1);
}

/* Pushes what the cache under key holds for this code (or nil). */
static int cacheget (lua_State *L, const char *key, lua_Integer h, const char *code, size_t n) {
  int top = lua_gettop(L);
  size_t len;
  getcache(L, key, "");
  if (lua_rawgeti(L, -1, ~h) == LUA_TSTRING) {
    const char *s = lua_tolstring(L, -1, &len);
    if (len == n && memcmp(s, code, n) == 0) {
      int t = lua_rawgeti(L, -2, h);
      lua_replace(L, top + 1);
      lua_settop(L, top + 1);
      return t;
    }
  }
  lua_settop(L, top);
  lua_pushnil(L);
  return LUA_TNIL;
}

/* A new closure of a function with upvalues through its shard's factory
   (made once per function); pushes it and returns 1, returns 0 when the
   caller must load the code itself, or -1 (pushing nothing) when the stack
   has no room for the factory's arguments. */
static int makeclosure (lua_State *L, const char *code, size_t n, int nups) {
  lua_Integer h = codehash(code, n);
  int t = cacheget(L, &FACTORIES, h, code, n);
  if (t == LUA_TBOOLEAN) { lua_pop(L, 1); return 0; }   /* known not to work */
  if (t != LUA_TFUNCTION) {
    lua_pop(L, 1);
    if (lng_factory_load(L, code, n, nups) != 0) {
      lua_pushboolean(L, 0);
      cacheput(L, &FACTORIES, &FACTORIES_N, h, code, n);
      return 0;
    }
    lua_pushvalue(L, -1);
    cacheput(L, &FACTORIES, &FACTORIES_N, h, code, n);
  }
  /* The factory takes one argument per upvalue: up to 200 values, far
     more than the slots the decoder reserves per level (LEVEL_SLOTS). */
  if (!lua_checkstack(L, nups)) {
    lua_pop(L, 1);
    return -1;
  }
  for (int i = 0; i < nups; i++) lua_pushnil(L);
  lua_call(L, nups, 1);
  return 1;
}

static int decfunc (Decoder *d, int depth) {
  lua_State *L = d->L;
  Chunk c;
  int f, i, nups;
  if (depth >= LNG_COPY_MAXDEPTH) return corrupt(d);
  if (!lua_checkstack(L, LEVEL_SLOTS)) {
    lua_pushliteral(L, STACKMSG);
    return -1;
  }
  if (d->p >= d->end) return corrupt(d);
  nups = *d->p++;
  lua_Unsigned u;
  if (getvar(d, &u) || u >= lng_msg_nrefs(d->m) || lng_msg_ref(d->m, (uint32_t)u)->kind != LNG_OBJ_CODE)
    return corrupt(d);
  const lng_code *lc = (const lng_code *)lng_msg_ref(d->m, (uint32_t)u);
  c.p = lc->bytes;
  c.n = lc->len;
  const char *code = c.p;            /* the reader consumes c */
  size_t codelen = c.n;
  lua_Integer h = 0;
  if (nups > 0) {
    int r = makeclosure(L, code, codelen, nups);
    if (r < 0) {
      lua_pushfstring(L, STACKMSG " (a function with %d upvalues)", nups);
      return -1;
    }
    if (r > 0) {
      f = lua_gettop(L);
      goto loaded;
    }
  }
  if (nups == 0) {                   /* shareable: look in the cache first */
    int top = lua_gettop(L);
    size_t n;
    h = codehash(c.p, c.n);
    getcache(L, &PROTOS, "");
    if (lua_rawgeti(L, -1, ~h) == LUA_TSTRING) {
      const char *s = lua_tolstring(L, -1, &n);
      if (n == c.n && memcmp(s, c.p, n) == 0 && lua_rawgeti(L, -2, h) == LUA_TFUNCTION) {
        lua_replace(L, top + 1);
        lua_settop(L, top + 1);
        return 0;
      }
    }
    lua_settop(L, top);
  }
  if (lua_load(L, readchunk, &c, "=(copy)", "b") != LUA_OK)
    return -1;   /* message pushed by lua_load */
  f = lua_gettop(L);
loaded:
  if (nups == 0 && islfunc(L, f) && !hasupvalue(L, f, 1)) {
    lua_rawgetp(L, LUA_REGISTRYINDEX, &PROTOS_N);
    lua_Integer count = lua_tointeger(L, -1) + 1;
    lua_pop(L, 1);
    if (count > PROTOS_MAX) {        /* a program that makes code: start over */
      lua_newtable(L);
      lua_rawsetp(L, LUA_REGISTRYINDEX, &PROTOS);
      count = 1;
    }
    lua_pushinteger(L, count);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &PROTOS_N);
    getcache(L, &PROTOS, "");
    lua_pushvalue(L, f);
    lua_rawseti(L, -2, h);
    lua_pushlstring(L, code, codelen);
    lua_rawseti(L, -2, ~h);
    lua_pop(L, 1);
  }
  if (!islfunc(L, f) || (nups > 0 && !hasupvalue(L, f, nups)) ||
      hasupvalue(L, f, nups + 1))
    return corrupt(d);
  if (nups > 0) newid(d, f);      /* numbered as the encoder did */
  for (i = 1; i <= nups; i++) {
    if (d->p < d->end && *d->p == T_JOIN) {
      lua_Unsigned id;
      int g;
      d->p++;
      if (getvar(d, &id) || id < 1 || id > (lua_Unsigned)d->nid ||
          d->p >= d->end)
        return corrupt(d);
      lua_rawgeti(L, d->ids, (lua_Integer)id);
      g = lua_gettop(L);
      if (!islfunc(L, g) || !hasupvalue(L, g, *d->p)) return corrupt(d);
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

/* Pushes the next value; on error returns -1 with the message on top. */
static int decvalue (Decoder *d, int depth) {
  lua_State *L = d->L;
  lua_Unsigned u;
  if (d->p >= d->end) return corrupt(d);
  switch (*d->p++) {
    case T_NIL: lua_pushnil(L); return 0;
    case T_FALSE: lua_pushboolean(L, 0); return 0;
    case T_TRUE: lua_pushboolean(L, 1); return 0;
    case T_ENV:
      if (d->env == LNG_COPY_LAZYENV) lng_shard_pushenv(L);
      else if (d->env) lua_pushvalue(L, d->env);
      else lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS);
      return 0;
    case T_INT:
      if (getvar(d, &u)) return corrupt(d);
      lua_pushinteger(L, (lua_Integer)((u & 1) ? ~(u >> 1) : (u >> 1)));
      return 0;
    case T_I64: {
      lua_Integer i;
      if (getraw(d, &i, sizeof i)) return corrupt(d);
      lua_pushinteger(L, i);
      return 0;
    }
    case T_FLT: {
      lua_Number n;
      if (getraw(d, &n, sizeof n)) return corrupt(d);
      lua_pushnumber(L, n);
      return 0;
    }
    case T_STR:
      if (getvar(d, &u) || u > (lua_Unsigned)(d->end - d->p))
        return corrupt(d);
      lua_pushlstring(L, (const char *)d->p, (size_t)u);
      d->p += u;
      return 0;
    case T_CFN: {
      lua_CFunction fn;
      if (getraw(d, &fn, sizeof fn)) return corrupt(d);
      lua_pushcfunction(L, fn);
      return 0;
    }
    case T_OBJ:
      if (getvar(d, &u) || u >= lng_msg_nrefs(d->m)) return corrupt(d);
      lng_proxy_push(L, lng_msg_ref(d->m, (uint32_t)u));
      return 0;
    case T_REF:
      if (getvar(d, &u) || u < 1 || u > (lua_Unsigned)d->nid)
        return corrupt(d);
      lua_rawgeti(L, d->ids, (lua_Integer)u);
      return 0;
    case T_TAB: return dectable(d, 0, depth);
    case T_TABMT: return dectable(d, 1, depth);
    case T_FUN: return decfunc(d, depth);
    default: return corrupt(d);
  }
}

int lng_copy_decode_plain (lua_State *L, const lng_msg *m) {
  lng_scalar s;
  size_t pos = 0;
  if (!m->ext && m->len == 1 + sizeof(lua_Integer) && m->u.inl[0] == T_I64) {
    lua_Integer i;                       /* encplain's integer */
    memcpy(&i, m->u.inl + 1, sizeof i);
    lua_pushinteger(L, i);
    return 1;
  }
  if (lng_copy_get_scalar(m, &pos, &s) != 0 || pos != m->len) return 0;
  switch (s.type) {
    case LNG_SCALAR_NIL: lua_pushnil(L); return 1;
    case LNG_SCALAR_BOOLEAN: lua_pushboolean(L, s.b); return 1;
    case LNG_SCALAR_INTEGER: lua_pushinteger(L, (lua_Integer)s.i); return 1;
    case LNG_SCALAR_NUMBER: lua_pushnumber(L, (lua_Number)s.n); return 1;
    case LNG_SCALAR_STRING: lua_pushlstring(L, s.s, s.len); return 1;
    default: return 0;
  }
}

int lng_copy_decode (lua_State *L, const lng_msg *m, int env) {
  Decoder d;
  if (lng_copy_decode_plain(L, m)) return 1;
  int base = lua_gettop(L);
  d.L = L;
  d.m = m;
  d.p = lng_msg_cbytes(m);
  d.end = d.p + m->len;
  d.env = env == LNG_COPY_LAZYENV ? env : env ? lua_absindex(L, env) : 0;
  d.hasids = 0;
  d.nid = 0;
  d.nmeta = 0;
  luaL_checkstack(L, LEVEL_SLOTS, "copying value");
  lua_pushnil(L);   /* slot for the id table */
  d.ids = base + 1;
  while (d.p < d.end) {
    if (!lua_checkstack(L, LEVEL_SLOTS)) {   /* a message of more values than a stack holds */
      int got = lua_gettop(L) - base - 1;
      lua_settop(L, base);
      lua_pushfstring(L, STACKMSG " (at value %d)", got + 1);
      return -1;
    }
    if (decvalue(&d, 0)) {
      lua_replace(L, base + 1);
      lua_settop(L, base + 1);
      return -1;
    }
  }
  setmetatables(&d);
  lua_remove(L, base + 1);
  return lua_gettop(L) - base;
}

/* }====================================================== */


/* A float as a one-value message, for senders without a Lua state (timers). */
int lng_copy_put_number (lng_msg *m, double v) {
  unsigned char buf[1 + sizeof(lua_Number)];
  lua_Number n = (lua_Number)v;
  buf[0] = T_FLT;
  memcpy(buf + 1, &n, sizeof n);
  return lng_msg_append(m, buf, sizeof buf);
}

/* Scalars and objects without a Lua state: the C API's values. */
int lng_copy_put_scalar (lng_msg *m, const lng_scalar *v) {
  unsigned char buf[1 + 10];
  unsigned char *p = buf + 1;
  lua_Unsigned u;
  switch (v->type) {
    case LNG_SCALAR_NIL: buf[0] = T_NIL; break;
    case LNG_SCALAR_BOOLEAN: buf[0] = v->b ? T_TRUE : T_FALSE; break;
    case LNG_SCALAR_INTEGER:
      buf[0] = T_INT;
      u = (lua_Unsigned)v->i;
      p = putvar(p, (u << 1) ^ (v->i < 0 ? ~(lua_Unsigned)0 : 0));
      break;
    case LNG_SCALAR_NUMBER: {
      lua_Number n = (lua_Number)v->n;
      buf[0] = T_FLT;
      memcpy(p, &n, sizeof n);
      p += sizeof n;
      break;
    }
    case LNG_SCALAR_STRING:
      buf[0] = T_STR;
      p = putvar(p, (lua_Unsigned)v->len);
      if (lng_msg_append(m, buf, (size_t)(p - buf)) != 0) return -1;
      return lng_msg_append(m, v->s, v->len);
    case LNG_SCALAR_OBJECT: {
      int r = lng_msg_addref(m, lng_obj_ref(v->obj));
      if (r < 0) { lng_obj_unref(v->obj); return -1; }
      buf[0] = T_OBJ;
      p = putvar(p, (lua_Unsigned)r);
      break;
    }
    default: return -1;
  }
  return lng_msg_append(m, buf, (size_t)(p - buf));
}

/* Copies n raw bytes at *p (before end) into dst and steps over them. */
static int takeraw (const unsigned char **p, const unsigned char *end, void *dst, size_t n) {
  if ((size_t)(end - *p) < n) return -1;
  memcpy(dst, *p, n);
  *p += n;
  return 0;
}

int lng_copy_get_scalar (const lng_msg *m, size_t *pos, lng_scalar *v) {
  const unsigned char *b = lng_msg_cbytes(m), *p = b + *pos, *end = b + m->len;
  lua_Unsigned u = 0;
  int shift = 0;
  if (p >= end) return -1;
  int tag = *p++;
  if (tag == T_INT || tag == T_STR || tag == T_OBJ) {
    for (;;) {
      if (p >= end || shift > 63) return -1;
      u |= (lua_Unsigned)(*p & 0x7f) << shift;
      if (!(*p++ & 0x80)) break;
      shift += 7;
    }
  }
  switch (tag) {
    case T_NIL: v->type = LNG_SCALAR_NIL; break;
    case T_FALSE: case T_TRUE: v->type = LNG_SCALAR_BOOLEAN; v->b = tag == T_TRUE; break;
    case T_INT:
      v->type = LNG_SCALAR_INTEGER;
      v->i = (lua_Integer)((u & 1) ? ~(u >> 1) : (u >> 1));
      break;
    case T_I64: {
      lua_Integer i;
      if (takeraw(&p, end, &i, sizeof i) != 0) return -1;
      v->type = LNG_SCALAR_INTEGER;
      v->i = (long long)i;
      break;
    }
    case T_FLT: {
      lua_Number n;
      if (takeraw(&p, end, &n, sizeof n) != 0) return -1;
      v->type = LNG_SCALAR_NUMBER;
      v->n = (double)n;
      break;
    }
    case T_STR:
      if (u > (lua_Unsigned)(end - p)) return -1;
      v->type = LNG_SCALAR_STRING;
      v->s = (const char *)p;
      v->len = (size_t)u;
      p += u;
      break;
    case T_OBJ:
      if (u >= lng_msg_nrefs(m)) return -1;
      v->type = LNG_SCALAR_OBJECT;
      v->obj = lng_msg_ref(m, (uint32_t)u);
      break;
    case T_TAB: case T_TABMT: case T_REF: v->type = LNG_SCALAR_TABLE; return 1;
    case T_FUN: case T_CFN: v->type = LNG_SCALAR_FUNCTION; return 1;
    default: return -1;
  }
  *pos = (size_t)(p - b);
  return 0;
}
