/*
 * Function code for the copier; see fcache.h.
 *
 * Per-state caches, so that spawning the same function again and again
 * neither dumps nor loads its code each time:
 * registry[&DUMPS] = {closure -> its code holder}, weak keys (sender side);
 * registry[&CODES] = {hash of a dump -> its holder}, weak values (sender
 * side), so closures of one function share one code object;
 * registry[&PROTOS] = {hash -> loaded closure, ~hash -> dump} (receiver
 * side), for functions without upvalues only: such a closure holds
 * nothing a goroutine could change, so one can serve every copy. Keyed
 * by a hash of the code, so a lookup allocates nothing; the dump kept
 * beside it confirms a hit. Emptied when it holds PROTOS_MAX entries.
 * registry[&FACTORIES] = {hash -> factory (or false: cannot), ~hash ->
 * dump}, for functions with upvalues (factory.c); same limit.
 * A shard also keeps closures in its front table (shard.h), looked at
 * first: the region SENT (closures sent or decoded lately, sender and
 * receiver) answers a function sent again and again with one integer
 * lookup, and one a factory made here (see remember) without a dump; the
 * regions PROTO and FACT (shared closures and factories, by their code
 * object) answer the same function decoded again without a PROTOS or
 * FACTORIES lookup.
 * In a shard each of these is found through its slot instead of its
 * registry key (lng_state_get, shard.h): an integer lookup.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "copy.h"
#include "fcache.h"
#include "factory.h"
#include "shard.h"

static const char DUMPS = 'd', CODES = 'o', PROTOS = 'p', PROTOS_N = 'n';
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

/* Pushes the cache in slot (registry key key elsewhere; shard.h), made if
   need be. */
static void getcache (lua_State *L, int slot, const char *key, const char *mode) {
  lng_state_get(L, slot, key);
  if (lua_type(L, -1) != LUA_TTABLE) {
    lua_pop(L, 1);
    lua_newtable(L);
    if (*mode) {
      lua_createtable(L, 0, 1);
      lua_pushstring(L, mode);
      lua_setfield(L, -2, "__mode");
      lua_setmetatable(L, -2);
    }
    lua_pushvalue(L, -1);
    lng_state_set(L, slot, key);
  }
}


/*
** {======================================================
** Sender: code objects
** =======================================================
*/

/* Code objects: a function's dump, made once per closure on the sending
   side and referenced (not copied) by every message that carries the
   function, so spawning the same function a million times copies no code
   and a spawn message fits the message's inline bytes. The sender's cache
   holds each one through a small userdata whose __gc drops the reference. */
typedef struct lng_code {
  lng_obj obj;
  lua_Integer hash;            /* codehash of the bytes: the receivers' cache key */
  const void *owner;           /* the shard that made it (NULL: a state lungo did not make) */
  size_t len;
  char bytes[];
} lng_code;

static const char CODEMT = 'c';      /* registry[&CODEMT]: the holders' metatable */

static void code_destroy (lng_obj *o) { free(o); }

/* A code object of n bytes, one reference held by the caller; NULL when
   out of memory. */
static lng_code *newcode (lua_State *L, const char *bytes, size_t n, lua_Integer hash) {
  lng_code *code = malloc(sizeof *code + n);
  if (!code) return NULL;
  lng_obj_init(&code->obj, LNG_OBJ_CODE, code_destroy);
  code->owner = lng_shard_fast(L);
  code->hash = hash;
  code->len = n;
  memcpy(code->bytes, bytes, n);
  return code;
}

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
  lng_state_get(L, LNG_SLOT_CODEMT, &CODEMT);
  if (lua_type(L, -1) != LUA_TTABLE) {
    lua_pop(L, 1);
    lua_createtable(L, 0, 1);
    lua_pushcfunction(L, code_gc);
    lua_setfield(L, -2, "__gc");
    lua_pushvalue(L, -1);
    lng_state_set(L, LNG_SLOT_CODEMT, &CODEMT);
  }
  lua_setmetatable(L, -2);
  return h;
}

/* The code of the function at f (absolute) if the front table has it,
   else NULL. */
static lng_code *getrecent (lua_State *L, lng_shard *sh, int f) {
  const void *a = lua_topointer(L, f);
  int i = lng_front_slot(a);
  lng_shard_pushfront(L, sh);
  lng_code *code = lua_rawgeti(L, -1, LNG_FRONT_SENT + i) == LUA_TFUNCTION &&
                   lua_topointer(L, -1) == a ?
                   (lng_code *)sh->frontcode[LNG_FRONT_SENT - 1 + i] : NULL;   /* (both alive: the same) */
  lua_pop(L, 2);
  return code;
}

/* Keeps a reference to code in *keep, dropping the one there. */
static void keepcode (lng_obj **keep, lng_code *code) {
  lng_obj *old = *keep;
  if (old != &code->obj) {
    *keep = lng_obj_ref(&code->obj);
    if (old) lng_obj_unref(old);
  }
}

/* Pushes the closure (or factory) of code lc in the front table's region
   and returns 1, or returns 0 and pushes nothing. */
static int getbycode (lua_State *L, lng_shard *sh, int region, const lng_code *lc) {
  int k = region + lng_front_slot(lc);
  if (sh->frontcode[k - 1] != &lc->obj) return 0;   /* (referenced there: lc itself) */
  lng_shard_pushfront(L, sh);
  int t = lua_rawgeti(L, -1, k);
  lua_remove(L, -2);
  if (t == LUA_TFUNCTION) return 1;
  lua_pop(L, 1);
  return 0;
}

/* Puts the closure (or factory) at the top (kept), of code lc, in the
   front table's region. */
static void putbycode (lua_State *L, lng_shard *sh, int region, lng_code *lc) {
  int k = region + lng_front_slot(lc);
  lng_shard_pushfront(L, sh);
  lua_pushvalue(L, -2);
  lua_rawseti(L, -2, k);
  lua_pop(L, 1);
  keepcode(&sh->frontcode[k - 1], lc);
}

/* Puts the function at f (absolute) with its code in the front table. */
static void putrecent (lua_State *L, lng_shard *sh, int f, lng_code *code) {
  int i = lng_front_slot(lua_topointer(L, f));
  lng_shard_pushfront(L, sh);
  lua_pushvalue(L, f);
  lua_rawseti(L, -2, LNG_FRONT_SENT + i);
  lua_pop(L, 1);
  keepcode(&sh->frontcode[LNG_FRONT_SENT - 1 + i], code);
}

static int writer (lua_State *L, const void *p, size_t sz, void *ud) {
  (void)L;
  return lng_msg_append(ud, p, sz) ? 1 : 0;
}

/* The code object of the function at f (absolute index), or NULL when out
   of memory. A loop that spawns `go(function() ... end)` makes a new
   closure of one function each time: the closure misses DUMPS, but its
   dump is found in CODES by content, so all those closures share one code
   object (one holder, no malloc) instead of one each, which a parked
   goroutine's share of memory used to include until the collector came by. */
static lng_code *codeof (lua_State *L, int f) {
  lng_shard *sh = lng_shard_fast(L);
  lng_code *code = sh ? getrecent(L, sh, f) : NULL;
  if (code) return code;
  getcache(L, LNG_SLOT_DUMPS, &DUMPS, "k");
  lua_pushvalue(L, f);
  if (lua_rawget(L, -2) == LUA_TUSERDATA) {
    code = *(lng_code **)lua_touserdata(L, -1);
    lua_pop(L, 2);
    if (code && sh) putrecent(L, sh, f, code);
    return code;
  }
  lua_pop(L, 1);
  getcache(L, LNG_SLOT_CODES, &CODES, "v");                 /* DUMPS CODES */
  lng_code **h = newholder(L);              /* before the malloc: nothing may raise after it */
  lng_msg tmp;
  lng_msg_init(&tmp);
  lua_pushvalue(L, f);
  int rd = lua_dump(L, writer, &tmp, 0);  /* keep debug info: file:line */
  lua_pop(L, 1);
  if (rd != 0) {
    lng_msg_free(&tmp);
    lua_pop(L, 3);
    return NULL;
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
    code = newcode(L, (const char *)lng_msg_cbytes(&tmp), tmp.len, hash);
    if (!code) {
      lng_msg_free(&tmp);
      lua_pop(L, 3);
      return NULL;
    }
    *h = code;
    lua_pushvalue(L, -1);
    lua_rawseti(L, -3, hash);
  }
  lng_msg_free(&tmp);
  lua_pushvalue(L, f);                      /* DUMPS CODES holder f */
  lua_insert(L, -2);
  lua_rawset(L, -4);
  lua_pop(L, 2);
  if (sh) putrecent(L, sh, f, code);
  return code;
}

int lng_fcache_code (lua_State *L, int f, lng_msg *m) {
  lng_code *code = codeof(L, f);
  if (!code) return -1;
  int r = lng_msg_addref(m, lng_obj_ref(&code->obj));
  if (r < 0) lng_obj_unref(&code->obj);
  return r;
}

/* }====================================================== */


/*
** {======================================================
** Receiver: loaded functions and factories
** =======================================================
*/

int lng_fcache_hasupvalue (lua_State *L, int f, int i) {
  if (lua_type(L, f) != LUA_TFUNCTION || lua_iscfunction(L, f)) return 0;
  if (i < 1 || lua_getupvalue(L, f, i) == NULL) return 0;
  lua_pop(L, 1);
  return 1;
}

/* Whether the function at the top is a Lua function with exactly nups
   upvalues: what the message said of the code it names. */
static int shaped (lua_State *L, int nups) {
  return lua_type(L, -1) == LUA_TFUNCTION && !lua_iscfunction(L, -1) &&
         (nups == 0 || lng_fcache_hasupvalue(L, -1, nups)) &&
         !lng_fcache_hasupvalue(L, -1, nups + 1);
}

/* Caches v (at the top) under the code's hash, with a holder of the code
   beside it: the code object itself if this shard made it, else a copy
   of it (these caches keep no other state's code alive; a shard's front
   table, a bounded few); replaces v with that holder, or with nil when
   out of memory (then nothing is cached). */
static void cacheput (lua_State *L, int slot, const char *key, int nslot, const char *nkey,
                      lng_code *lc) {
  lng_code **holder = newholder(L);        /* v holder */
  const void *here = lng_shard_fast(L);
  *holder = here && lc->owner == here ? (lng_code *)lng_obj_ref(&lc->obj)
                                      : newcode(L, lc->bytes, lc->len, lc->hash);
  if (!*holder) {
    lua_pop(L, 2);
    lua_pushnil(L);
    return;
  }
  lng_state_get(L, nslot, nkey);
  lua_Integer count = lua_tointeger(L, -1) + 1;
  lua_pop(L, 1);
  if (count > PROTOS_MAX) {        /* a program that makes code: start over */
    lua_newtable(L);
    lng_state_set(L, slot, key);
    count = 1;
  }
  lua_pushinteger(L, count);
  lng_state_set(L, nslot, nkey);
  getcache(L, slot, key, "");              /* v holder cache */
  lua_pushvalue(L, -2);
  lua_rawseti(L, -2, ~lc->hash);
  lua_rotate(L, -3, -1);                   /* holder cache v */
  lua_rawseti(L, -2, lc->hash);
  lua_pop(L, 1);
}

/* Pushes what the cache under key holds for this code and the holder of
   its code (or nil, nil). A hit is a code object of the same bytes; the
   compare is skipped when it is the one cached (one this shard made). */
static int cacheget (lua_State *L, int slot, const char *key, const lng_code *lc) {
  int top = lua_gettop(L);
  getcache(L, slot, key, "");
  if (lua_rawgeti(L, -1, ~lc->hash) == LUA_TUSERDATA) {
    const lng_code *c = *(lng_code **)lua_touserdata(L, -1);
    if (c == lc || (c && c->len == lc->len && memcmp(c->bytes, lc->bytes, lc->len) == 0)) {
      int t = lua_rawgeti(L, -2, lc->hash);   /* cache holder v */
      lua_replace(L, top + 1);
      return t;
    }
  }
  lua_settop(L, top);
  lua_pushnil(L);
  lua_pushnil(L);
  return LUA_TNIL;
}

/* Records that the shared closure at the top has the code of the holder
   below it (pops nothing), so that sending the function on finds its
   code instead of dumping it again. The code is what a dump of the
   function would give: the function was loaded from it. A shared closure
   is made once, so it goes into DUMPS; a factory's closure, made per
   decode, goes into the front table instead (makeclosure), whose fixed
   slots cost no table growth: DUMPS, its weak keys cleared by every
   collection, was rehashed every other insert. A closure the front table
   lost is dumped again when sent (a goroutine that spawns its own
   function, as a tree of goroutines does, once made one dump per
   spawn). */
static void remember (lua_State *L) {
  if (lua_isnil(L, -2)) return;             /* not cached: out of memory */
  getcache(L, LNG_SLOT_DUMPS, &DUMPS, "k");   /* holder f DUMPS */
  lua_pushvalue(L, -2);
  lua_pushvalue(L, -4);
  lua_rawset(L, -3);
  lua_pop(L, 1);
}

/* A new closure of a function with upvalues through its shard's factory
   (made once per function); pushes it and returns 1, returns 0 when the
   caller must load the code itself, -1 (pushing nothing) when the stack
   has no room for the factory's arguments, or -2 with the message pushed
   when the code is not of a function with nups upvalues. */
static int makeclosure (lua_State *L, lng_code *lc, int nups) {
  lng_shard *sh = lng_shard_fast(L);
  int fresh = 0;
  if (!sh || !getbycode(L, sh, LNG_FRONT_FACT, lc)) {
    int t = cacheget(L, LNG_SLOT_FACTORIES, &FACTORIES, lc);   /* factory holder */
    if (t == LUA_TBOOLEAN) { lua_pop(L, 2); return 0; }   /* known not to work */
    if (t != LUA_TFUNCTION) {
      lua_pop(L, 2);
      if (lng_factory_load(L, lc->bytes, lc->len, nups) != 0) {
        lua_pushboolean(L, 0);
        cacheput(L, LNG_SLOT_FACTORIES, &FACTORIES, LNG_SLOT_FACTORIES_N, &FACTORIES_N, lc);
        lua_pop(L, 1);
        return 0;
      }
      lua_pushvalue(L, -1);
      cacheput(L, LNG_SLOT_FACTORIES, &FACTORIES, LNG_SLOT_FACTORIES_N, &FACTORIES_N, lc);
      fresh = 1;
    }
    lua_pop(L, 1);                          /* factory */
    if (sh && !fresh) putbycode(L, sh, LNG_FRONT_FACT, lc);   /* (checked: see below) */
  }
  /* The factory takes one argument per upvalue: up to 200 values, far
     more than the slots the decoder reserves per level. */
  if (!lua_checkstack(L, nups)) {
    lua_pop(L, 1);
    return -1;
  }
  for (int i = 0; i < nups; i++) lua_pushnil(L);
  lua_call(L, nups, 1);                     /* f */
  /* Every closure of a factory has its one prototype: checked once. A
     factory that made a misshapen closure is not used again. */
  if (fresh && !shaped(L, nups)) {
    lua_pop(L, 1);
    lua_pushboolean(L, 0);
    cacheput(L, LNG_SLOT_FACTORIES, &FACTORIES, LNG_SLOT_FACTORIES_N, &FACTORIES_N, lc);
    lua_pop(L, 1);
    lua_pushliteral(L, LNG_COPY_CORRUPTMSG);
    return -2;
  }
  if (sh) putrecent(L, sh, lua_gettop(L), lc);   /* see remember */
  return 1;
}

typedef struct Chunk { const char *p; size_t n; } Chunk;

static const char *readchunk (lua_State *L, void *ud, size_t *size) {
  Chunk *c = ud;
  const char *p = c->p;
  (void)L;
  *size = c->n;
  c->p = NULL;
  c->n = 0;
  return p;
}

int lng_fcache_load (lua_State *L, lng_obj *obj, int nups) {
  lng_code *lc = (lng_code *)obj;
  Chunk c = { lc->bytes, lc->len };
  lng_shard *sh = nups == 0 ? lng_shard_fast(L) : NULL;
  if (nups > 0) {
    int r = makeclosure(L, lc, nups);
    if (r == -1) {
      lua_pushfstring(L, LNG_COPY_STACKMSG " (a function with %d upvalues)", nups);
      return -1;
    }
    if (r < 0) return -1;            /* message pushed */
    if (r > 0) return 0;
  }
  else {                             /* shareable: look in the caches first */
    if (sh && getbycode(L, sh, LNG_FRONT_PROTO, lc)) return 0;
    if (cacheget(L, LNG_SLOT_PROTOS, &PROTOS, lc) == LUA_TFUNCTION) {
      lua_pop(L, 1);
      if (sh) putbycode(L, sh, LNG_FRONT_PROTO, lc);
      return 0;                      /* checked when it was cached */
    }
    lua_pop(L, 2);
  }
  if (lua_load(L, readchunk, &c, "=(copy)", "b") != LUA_OK)
    return -1;   /* message pushed by lua_load */
  if (!shaped(L, nups)) {
    lua_pushliteral(L, LNG_COPY_CORRUPTMSG);
    return -1;
  }
  if (nups == 0) {
    lua_pushvalue(L, -1);
    cacheput(L, LNG_SLOT_PROTOS, &PROTOS, LNG_SLOT_PROTOS_N, &PROTOS_N, lc);   /* f holder */
    lua_insert(L, -2);
    remember(L);
    lua_remove(L, -2);
    if (sh) putbycode(L, sh, LNG_FRONT_PROTO, lc);
  }
  return 0;
}

/* }====================================================== */
