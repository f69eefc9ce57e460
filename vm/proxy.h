/*
 * Shard-side proxies for runtime objects (channels, sync objects).
 * A proxy is a full userdata holding one reference to its lng_obj; each
 * shard keeps at most one live proxy per object, so an object that reaches
 * a goroutine twice is the same Lua value there (== and table keys).
 */
#ifndef LNG_PROXY_H
#define LNG_PROXY_H

#include <stdint.h>
#include <lua.h>
#include <lauxlib.h>
#include "../runtime/obj.h"

/* tag says which kind of object the proxy holds: the address of that
   kind's entry in lng_proxy_tags. Lua code cannot write a userdata's bytes,
   so a full userdata of this size carrying one of those addresses is a
   proxy, and the check on every channel operation is two loads instead of
   a metatable comparison. */
typedef struct lng_proxy { lng_obj *obj; const char *tag; } lng_proxy;

#define LNG_PROXY_MAXKIND 16
extern const char lng_proxy_tags[LNG_PROXY_MAXKIND];

/* The last few proxies a shard has checked, so that a loop working on the
   same channels pays one lua_touserdata and a compare per operation. An
   entry is valid while its proxy holds its reference: the proxy's __gc
   forgets it before dropping the reference, and the block is not reused
   before that __gc has run. (Only debug.setmetatable can take a proxy's
   __gc away; the debug library is allowed to break such invariants.) */
#define LNG_PROXY_CACHE 16
typedef struct lng_proxy_cache {
  const void *p[LNG_PROXY_CACHE];
  lng_obj *obj[LNG_PROXY_CACHE];
} lng_proxy_cache;

static inline unsigned lng_proxy_slot(const void *p) {
  /* Fibonacci hashing: proxies made one after the other sit a block apart */
  return (unsigned)(((uint64_t)(uintptr_t)p * 0x9E3779B97F4A7C15u) >> 60);
}

/* Makes pc (emptied) the cache of L's proxies: the one every lng_proxy_get
   on L must be given. */
void lng_proxy_setcache(lua_State *L, lng_proxy_cache *pc);

/* The object behind the proxy of that kind at idx (whose lua_touserdata is
   p), or NULL: the slow path of lng_proxy_get, which remembers a proxy it finds. */
lng_obj *lng_proxy_lookup(lua_State *L, lng_proxy_cache *pc, int idx, int kind, void *p);

static inline lng_obj *lng_proxy_get(lua_State *L, lng_proxy_cache *pc, int idx, int kind) {
  void *p = lua_touserdata(L, idx);
  unsigned h = lng_proxy_slot(p);
  if (p && pc->p[h] == p && pc->obj[h]->kind == kind) return pc->obj[h];
  return lng_proxy_lookup(L, pc, idx, kind, p);
}

/* Pops the metatable on top of the stack and makes it the proxy metatable
   for objects of this kind in this state. Adds __gc (drops the reference). */
void lng_proxy_register(lua_State *L, int kind);
/* Makes and registers the proxy metatable of a kind, as every binding
   does: `methods` (named prefix..name in argument errors) are __index, or
   the upvalue of `index` when a kind also has fields (proc.pid, t.c);
   `metas` (may be NULL) are metamethods, named the same way; __name is
   `name`. The stack is left as it was. */
void lng_proxy_newkind(lua_State *L, int kind, const char *name, const char *prefix,
                       const luaL_Reg *methods, lua_CFunction index, const luaL_Reg *metas);
/* Pushes this state's proxy for o, creating it (and a new reference) if needed. */
void lng_proxy_push(lua_State *L, lng_obj *o);
/* The same for an object made just now, which no proxy holds yet: the
   caches are not searched. */
void lng_proxy_pushnew(lua_State *L, lng_obj *o);
/* The object behind the proxy at idx, or NULL if idx holds no proxy. */
lng_obj *lng_proxy_test(lua_State *L, int idx);
/* Raises "bad argument #idx (tname expected, got ...)". */
lng_obj *lng_proxy_typeerror(lua_State *L, int idx, const char *tname);

/* As lng_proxy_get, but raises "bad argument" unless it is a proxy of kind. */
static inline lng_obj *lng_proxy_check(lua_State *L, lng_proxy_cache *pc, int idx, int kind,
                                       const char *tname) {
  lng_obj *o = lng_proxy_get(L, pc, idx, kind);
  return o ? o : lng_proxy_typeerror(L, idx, tname);
}

#endif
