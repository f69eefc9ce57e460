/*
 * Encoding Lua values into a message; see copy.h, and wire.h for the
 * format.
 *
 * The encoder keeps its helper table (value -> id) in a stack slot
 * reserved up front as nil and filled only when the first table or
 * function shows up, so scalars cost no allocation beyond the message's
 * inline buffer.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <lauxlib.h>
#include "copy.h"
#include "fcache.h"
#include "proxy.h"

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

/* tag and varint v */
static int puttv (Encoder *e, int tag, uint64_t v) {
  return lng_wire_puttvb(e->m, tag, v, NULL, 0) ? nomem(e) : 0;
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
  if (seenid(e, t, &id)) return puttv(e, LNG_TAG_REF, (uint64_t)id);
  if (depth >= LNG_COPY_MAXDEPTH) return fail(e, NULL, depth);
  if (!lua_checkstack(L, LNG_COPY_LEVEL_SLOTS)) { e->err = E_STACK; return -1; }
  mt = lua_getmetatable(L, t) ? lua_gettop(L) : 0;
  if (puttv(e, mt ? LNG_TAG_TABMT : LNG_TAG_TAB, lua_rawlen(L, t)) ||
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

/* The seen-table entry for an upvalue: which function (id) and which of
   its upvalues first showed this variable. */
#define UPKEY(id, i) ((id) * 256 + (i))

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
  if (nups > 0 && seenid(e, f, &id)) return puttv(e, LNG_TAG_REF, (uint64_t)id);
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
      if (puttv(e, LNG_TAG_JOIN, (uint64_t)(owner / 256))) return -1;
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
  return lng_wire_putraw(e->m, LNG_TAG_CFN, &fn, sizeof fn) ? nomem(e) : 0;
}

/* The scalar (or proxy) at idx, of type t, as an lng_scalar; 0 for
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
  int t = lua_type(L, idx);
  switch (t) {
    case LUA_TTABLE:
      /* The sender's globals, or the shard's base that modules loaded by
         require see as theirs: either way, "the receiver's globals". */
      if ((e->env && lua_rawequal(L, idx, e->env)) || lua_rawequal(L, idx, e->base))
        return lng_wire_puttag(e->m, LNG_TAG_ENV) ? nomem(e) : 0;
      return enctable(e, idx, depth);
    case LUA_TFUNCTION:
      if (lua_iscfunction(L, idx)) return enccfunc(e, idx, depth);
      return enclfunc(e, idx, depth);
    default:
      if (toscalar(L, idx, t, &sc)) return lng_wire_put_scalar(e->m, &sc) ? nomem(e) : 0;
      if (t == LUA_TLIGHTUSERDATA && lua_touserdata(L, idx) == LNG_COPY_DEFAULT)
        return lng_wire_puttag(e->m, LNG_TAG_DEFAULT) ? nomem(e) : 0;
      return fail(e, luaL_typename(L, idx), depth);
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
  e.env = env && !lua_isnil(L, env) ? lua_absindex(L, env) : 0;   /* nil: no globals yet */
  e.hasseen = 0;
  e.nid = 0;
  e.argbase = argbase;
  e.err = 0;
  luaL_checkstack(L, LNG_COPY_LEVEL_SLOTS, "copying value");
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
        lua_pushstring(L, e.err == E_MEM ? LNG_COPY_MEMMSG : LNG_COPY_STACKMSG);
      }
      return -1;
    }
  }
  lua_settop(L, base);
  return 0;
}
