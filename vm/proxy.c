/*
 * Proxies for runtime objects; see proxy.h. The per-state cache is a table
 * with weak values in the registry, keyed by the object's address: a
 * collected proxy drops out of it before its __gc runs, so a later push
 * makes a fresh proxy with a fresh reference. In a shard these registry
 * entries are found through its slots instead (lng_state_get, shard.h),
 * and its lng_proxy_cache is its own.
 */
#include <stdint.h>
#include <lauxlib.h>
#include "proxy.h"
#include "args.h"
#include "shard.h"

static const char CACHE_KEY = 'c';   /* registry[&CACHE_KEY] = {obj -> proxy}, weak values */
static const char KINDS_KEY = 'k';  /* registry[&KINDS_KEY] = {kind -> mt, mt -> kind} */
static const char PCACHE_KEY = 'p';  /* registry[&PCACHE_KEY] = the state's lng_proxy_cache */
#define MAXKIND LNG_PROXY_MAXKIND
const char lng_proxy_tags[MAXKIND] = {0};

/* Lua code can reach __gc through getmetatable and call it on anything,
   so only a real proxy may lose its reference. */
static int proxy_gc(lua_State *L) {
  lng_obj *o = lng_proxy_test(L, 1);
  if (o) {
    const void *p = lua_touserdata(L, 1);
    lng_shard *sh = lng_shard_fast(L);
    lng_proxy_cache *pc = sh ? &sh->proxies : NULL;
    if (!sh && lua_rawgetp(L, LUA_REGISTRYINDEX, &PCACHE_KEY) == LUA_TLIGHTUSERDATA)
      pc = lua_touserdata(L, -1);
    if (!sh) lua_pop(L, 1);
    unsigned h = lng_proxy_slot(p);
    if (pc && pc->p[h] == p) pc->p[h] = NULL;
    ((lng_proxy *)lua_touserdata(L, 1))->obj = NULL;
    lng_obj_unref(o);
  }
  return 0;
}

/* Pushes the table in slot (registry key key elsewhere; shard.h), made if
   need be. */
static void getregtable(lua_State *L, int slot, const char *key, const char *mode) {
  lng_state_get(L, slot, key);
  if (lua_type(L, -1) != LUA_TTABLE) {
    lua_pop(L, 1);
    lua_newtable(L);
    if (mode) {
      lua_newtable(L);
      lua_pushstring(L, mode);
      lua_setfield(L, -2, "__mode");
      lua_setmetatable(L, -2);
    }
    lua_pushvalue(L, -1);
    lng_state_set(L, slot, key);
  }
}

void lng_proxy_register(lua_State *L, int kind) {
  lua_pushcfunction(L, proxy_gc);
  lua_setfield(L, -2, "__gc");
  lua_pushinteger(L, kind);
  lua_rawsetp(L, -2, &KINDS_KEY);
  getregtable(L, LNG_SLOT_KINDS, &KINDS_KEY, NULL);
  lua_pushvalue(L, -2);
  lua_rawseti(L, -2, kind);
  lua_pushvalue(L, -2);
  lua_pushinteger(L, kind);
  lua_rawset(L, -3);
  lua_pop(L, 2);
}

void lng_proxy_newkind(lua_State *L, int kind, const char *name, const char *prefix,
                       const luaL_Reg *methods, lua_CFunction index, const luaL_Reg *metas) {
  lua_newtable(L);                        /* the metatable */
  lua_newtable(L);
  luaL_setfuncs(L, methods, 0);
  lng_setnames(L, -1, prefix, methods);
  if (index) lua_pushcclosure(L, index, 1);
  lua_setfield(L, -2, "__index");
  if (metas) {
    luaL_setfuncs(L, metas, 0);
    lng_setnames(L, -1, prefix, metas);
  }
  lua_pushstring(L, name);
  lua_setfield(L, -2, "__name");
  lng_proxy_register(L, kind);
}

/* Puts the proxy at the top (kept), o's, in sh's front table. */
static void putfront(lua_State *L, lng_shard *sh, lng_obj *o) {
  lng_shard_pushfront(L, sh);
  lua_pushvalue(L, -2);
  lua_rawseti(L, -2, LNG_FRONT_PROXY + lng_front_slot(o));
  lua_pop(L, 1);
}

/* Pushes a new proxy for o, the one in L's cache (at the top, popped). */
static void newproxy(lua_State *L, lng_shard *sh, lng_obj *o) {
  lng_proxy *p = lua_newuserdatauv(L, sizeof *p, 0);
  p->obj = NULL;
  p->tag = o->kind >= 0 && o->kind < MAXKIND ? &lng_proxy_tags[o->kind] : NULL;
  getregtable(L, LNG_SLOT_KINDS, &KINDS_KEY, NULL);
  /* without the metatable nothing would ever drop the reference */
  if (lua_rawgeti(L, -1, o->kind) != LUA_TTABLE)
    luaL_error(L, "no proxy metatable registered for object kind %d", o->kind);
  lua_remove(L, -2);
  lua_setmetatable(L, -2);
  p->obj = lng_obj_ref(o);
  lua_pushvalue(L, -1);
  lua_rawsetp(L, -3, o);
  lua_remove(L, -2);
  if (sh) putfront(L, sh, o);
}

void lng_proxy_push(lua_State *L, lng_obj *o) {
  /* In a shard, the front table's slot for o first: a proxy there that
     holds o is o's proxy (it holds a reference: o is no other object). */
  lng_shard *sh = lng_shard_fast(L);
  if (sh) {
    lng_shard_pushfront(L, sh);
    int t = lua_rawgeti(L, -1, LNG_FRONT_PROXY + lng_front_slot(o));
    lua_remove(L, -2);
    if (t == LUA_TUSERDATA && ((lng_proxy *)lua_touserdata(L, -1))->obj == o) return;
    lua_pop(L, 1);
  }
  getregtable(L, LNG_SLOT_PROXIES, &CACHE_KEY, "v");
  /* a proxy finalized by an explicit __gc call is dead: replace it */
  if (lua_rawgetp(L, -1, o) == LUA_TUSERDATA &&
      ((lng_proxy *)lua_touserdata(L, -1))->obj != NULL) {
    lua_remove(L, -2);
    if (sh) putfront(L, sh, o);
    return;
  }
  lua_pop(L, 1);
  newproxy(L, sh, o);
}

void lng_proxy_pushnew(lua_State *L, lng_obj *o) {
  getregtable(L, LNG_SLOT_PROXIES, &CACHE_KEY, "v");
  newproxy(L, lng_shard_fast(L), o);
}

lng_obj *lng_proxy_test(lua_State *L, int idx) {
  lng_proxy *p = lua_touserdata(L, idx);
  if (!p || lua_rawlen(L, idx) != sizeof *p) return NULL;
  if ((uintptr_t)p->tag - (uintptr_t)lng_proxy_tags >= MAXKIND) return NULL;
  return p->obj;
}

void lng_proxy_setcache(lua_State *L, lng_proxy_cache *pc) {
  *pc = (lng_proxy_cache){0};
  lua_pushlightuserdata(L, pc);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &PCACHE_KEY);
}

lng_obj *lng_proxy_lookup(lua_State *L, lng_proxy_cache *pc, int idx, int kind, void *ud) {
  lng_proxy *p = ud;
  if (!p || lua_rawlen(L, idx) != sizeof *p || kind < 0 || kind >= MAXKIND ||
      p->tag != &lng_proxy_tags[kind] || !p->obj)
    return NULL;
  unsigned h = lng_proxy_slot(p);
  pc->p[h] = p;
  pc->obj[h] = p->obj;
  return p->obj;
}

lng_obj *lng_proxy_typeerror(lua_State *L, int idx, const char *tname) {
  lng_typeerror(L, idx, tname);
  return NULL;
}
