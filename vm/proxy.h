/*
 * Shard-side proxies for runtime objects (channels, sync objects).
 * A proxy is a full userdata holding one reference to its lng_obj; each
 * shard keeps at most one live proxy per object, so an object that reaches
 * a goroutine twice is the same Lua value there (== and table keys).
 */
#ifndef LNG_PROXY_H
#define LNG_PROXY_H

#include <lua.h>
#include "../runtime/obj.h"

/* tag says which kind of object the proxy holds: the address of that
   kind's entry in lng_proxy_tags. Lua code cannot write a userdata's bytes,
   so a full userdata of this size carrying one of those addresses is a
   proxy, and the check on every channel operation is two loads instead of
   a metatable comparison. */
typedef struct lng_proxy { lng_obj *obj; const char *tag; } lng_proxy;

#define LNG_PROXY_MAXKIND 16
extern const char lng_proxy_tags[LNG_PROXY_MAXKIND];

/* The object behind the proxy of that kind at idx, or NULL. */
static inline lng_obj *lng_proxy_get(lua_State *L, int idx, int kind) {
  lng_proxy *p = (lng_proxy *)lua_touserdata(L, idx);
  if (p && lua_rawlen(L, idx) == sizeof *p && p->tag == &lng_proxy_tags[kind]) return p->obj;
  return NULL;
}

/* Pops the metatable on top of the stack and makes it the proxy metatable
   for objects of this kind in this state. Adds __gc (drops the reference). */
void lng_proxy_register(lua_State *L, int kind);
/* Pushes this state's proxy for o, creating it (and a new reference) if needed. */
void lng_proxy_push(lua_State *L, lng_obj *o);
/* The object behind the proxy at idx, or NULL if idx holds no proxy. */
lng_obj *lng_proxy_test(lua_State *L, int idx);
/* As lng_proxy_test, but raises "bad argument" unless it is a proxy of kind. */
lng_obj *lng_proxy_check(lua_State *L, int idx, int kind, const char *tname);

#endif
