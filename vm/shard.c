/*
 * Shards: one lua_State per worker. A shard's registry globals hold the
 * standard libraries and lungo's API (the "base"); every goroutine gets a
 * small table of its own whose metatable reads through to the base, so a
 * goroutine pays for the globals it assigns and nothing else.
 *
 * Code that runs with the base itself as _ENV (modules loaded by require)
 * reads and writes missing globals in the goroutine running it, so no
 * global ever depends on which worker a goroutine happened to land on.
 *
 * "_G" is therefore not in the base (shared by every goroutine of the
 * shard): base_index answers it with the running goroutine's globals.
 * The registry's loaded table keeps the stock entry _G = the base, because
 * lauxlib names C functions in tracebacks and "bad argument" messages by
 * a raw walk of that table ('setmetatable' is found as _G.setmetatable);
 * Lua code sees package.loaded as a view of that table (loaded_view) and
 * require as a wrapper, both of which answer "_G" with the running
 * goroutine's globals, so _G, package.loaded._G and require "_G" agree in
 * module code and in goroutines as in plain Lua.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <lauxlib.h>
#include <lualib.h>
#include "vm.h"

/* The lua_Alloc under a memory limit: the shard's heap, after a check of
   the runtime-wide total. Without a limit the heap is the lua_Alloc. */
static void *shard_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  lng_shard *sh = ud;
  lng_runtime *rt = sh->rt;
  if (ptr == NULL) osize = 0;
  if (nsize == 0) {
    lng_alloc_lua(&sh->heap, ptr, osize, 0);
    atomic_fetch_sub_explicit(&rt->memtotal, osize, memory_order_relaxed);
    return NULL;
  }
  /* Only growth can fail: Lua relies on shrinking always working. */
  size_t delta = nsize > osize ? nsize - osize : 0;
  size_t before = atomic_fetch_add_explicit(&rt->memtotal, delta, memory_order_relaxed);
  if (delta && before + delta > rt->cfg.mem_limit) {
    atomic_fetch_sub_explicit(&rt->memtotal, delta, memory_order_relaxed);
    return NULL;
  }
  void *p = lng_alloc_lua(&sh->heap, ptr, osize, nsize);
  if (!p) {
    atomic_fetch_sub_explicit(&rt->memtotal, delta, memory_order_relaxed);
    return NULL;
  }
  if (nsize < osize) atomic_fetch_sub_explicit(&rt->memtotal, osize - nsize, memory_order_relaxed);
  return p;
}

void lng_shard_pushenv(lua_State *L) {
  lng_gvm *gv = lng_gor_current(L);
  if (!gv) {
    lua_pushglobaltable(L);
    return;
  }
  if (gv->envref == LUA_NOREF) {
    lng_shard *sh = lng_shard_of(L);
    lua_createtable(L, 0, 1);
    lua_pushvalue(L, -1);
    lua_setfield(L, -2, LUA_GNAME);
    lua_rawgeti(L, LUA_REGISTRYINDEX, sh->envmt);
    lua_setmetatable(L, -2);
    lua_pushvalue(L, -1);
    if (sh->nenvfree > 0) {        /* a slot of globals that ended (gor_drop) */
      gv->envref = sh->envfree[--sh->nenvfree];
      lua_rawseti(L, LUA_REGISTRYINDEX, gv->envref);   /* (a key there: raises nothing) */
    } else {
      gv->envref = luaL_ref(L, LUA_REGISTRYINDEX);
    }
    return;
  }
  lua_rawgeti(L, LUA_REGISTRYINDEX, gv->envref);
}

void lng_shard_peekenv(lua_State *L) {
  lng_gvm *gv = lng_gor_current(L);
  if (!gv) lua_pushglobaltable(L);
  else if (gv->envref == LUA_NOREF) lua_pushnil(L);
  else lua_rawgeti(L, LUA_REGISTRYINDEX, gv->envref);
}

/* base.__index / base.__newindex: the running goroutine's own globals.
   Upvalue 1 is the string "_G": asking for it is a use of the globals, so
   it makes them if need be (other misses never do), and the answer is the
   goroutine's own _G entry (nil after `_G = nil`, as in plain Lua). */
static int base_index(lua_State *L) {
  lng_gvm *gv = lng_gor_current(L);
  if (lua_rawequal(L, 2, lua_upvalueindex(1))) {
    if (!gv) {                     /* the shard's own thread: the base is its _G */
      lua_pushvalue(L, 1);
      return 1;
    }
    lng_shard_pushenv(L);
    lua_pushvalue(L, 2);
    lua_rawget(L, -2);
    return 1;
  }
  if (!gv || gv->envref == LUA_NOREF) return 0;
  lua_rawgeti(L, LUA_REGISTRYINDEX, gv->envref);
  lua_pushvalue(L, 2);
  lua_rawget(L, -2);
  return 1;
}

/* package.loaded as Lua code sees it: an empty table whose metatable reads
   and writes the registry's loaded table (upvalue 1), except that _G reads
   as the running goroutine's globals table, whatever its _G variable now
   holds, as plain Lua's stays the global table. Upvalue 2 is "_G". */
static int loaded_index(lua_State *L) {
  if (lua_rawequal(L, 2, lua_upvalueindex(2))) {
    lng_shard_pushenv(L);
    return 1;
  }
  lua_settop(L, 2);
  lua_rawget(L, lua_upvalueindex(1));
  return 1;
}

static int loaded_newindex(lua_State *L) {
  lng_mod_changed(L);
  lua_settop(L, 3);
  lua_rawset(L, lua_upvalueindex(1));
  return 0;
}

/* next() over the view: the loaded table's entries, _G as above */
static int loaded_next(lua_State *L) {
  lua_settop(L, 2);
  if (!lua_next(L, lua_upvalueindex(1))) return 0;
  if (lua_rawequal(L, -2, lua_upvalueindex(2))) {
    lua_pop(L, 1);
    lng_shard_pushenv(L);
  }
  return 2;
}

static int loaded_pairs(lua_State *L) {
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_pushvalue(L, lua_upvalueindex(2));
  lua_pushcclosure(L, loaded_next, 2);
  lua_pushvalue(L, 1);
  lua_pushnil(L);
  return 3;
}

/* require (upvalue 1: the stock one): require "_G" is the running
   goroutine's globals, which the loaded table cannot hold for every
   goroutine (its raw _G is the base, see above). A module not loaded yet
   changes the loaded table, and with it the module values that cross by
   name (modname.h): before (a module body may send values) and after. */
static int require_g(lua_State *L) {
  int fresh = 0;
  if (lua_type(L, 1) == LUA_TSTRING) {
    if (strcmp(lua_tostring(L, 1), LUA_GNAME) == 0) {
      lng_shard_pushenv(L);
      return 1;
    }
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
    lua_pushvalue(L, 1);
    fresh = lua_rawget(L, -2) == LUA_TNIL;
    lua_pop(L, 2);
  }
  if (fresh) lng_mod_changed(L);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
  if (fresh) lng_mod_changed(L);
  return lua_gettop(L);
}

static int base_newindex(lua_State *L) {
  if (lng_gor_current(L)) lng_shard_pushenv(L);
  else lua_pushvalue(L, 1);
  lua_pushvalue(L, 2);
  lua_pushvalue(L, 3);
  lua_rawset(L, -3);
  return 0;
}

/* Turns the goroutine globals table at idx into a plain table holding the
   base's entries itself, with no metatable: what a program that deletes
   a library global or installs its own metatable on _G expects. */
void lng_shard_materialize(lua_State *L, int idx) {
  idx = lua_absindex(L, idx);
  lua_pushglobaltable(L);
  lua_pushnil(L);
  while (lua_next(L, -2)) {
    lua_pushvalue(L, -2);
    if (lua_rawget(L, idx) == LUA_TNIL) {
      lua_pop(L, 1);
      lua_pushvalue(L, -2);
      lua_insert(L, -2);
      lua_rawset(L, idx);
    } else {
      lua_pop(L, 2);
    }
  }
  lua_pop(L, 1);
  /* _G is the table's own entry (set when it was made): the base has none,
     and a goroutine that assigned _G keeps what it assigned */
  lua_pushnil(L);
  lua_setmetatable(L, idx);
}

int lng_shard_isproxyenv(lua_State *L, int idx) {
  if (!lua_istable(L, idx) || !lua_getmetatable(L, idx)) return 0;
  lua_rawgeti(L, LUA_REGISTRYINDEX, lng_shard_of(L)->envmt);
  int is = lua_rawequal(L, -1, -2);
  lua_pop(L, 2);
  return is;
}

/* envmt.__newindex: a new global. Deleting one the base provides (x = nil
   where x is a library) needs a table that no longer reads through. */
static int env_newindex(lua_State *L) {
  if (lua_isnil(L, 3)) {
    lua_pushglobaltable(L);
    lua_pushvalue(L, 2);
    int inbase = lua_rawget(L, -2) != LUA_TNIL;
    lua_pop(L, 2);
    if (inbase) lng_shard_materialize(L, 1);
  }
  lua_settop(L, 3);
  lua_rawset(L, 1);
  return 0;
}

/* package.searchers entry for the Lua modules compiled into the library
   (stdlib/, see tools/embed.sh). */
typedef struct { const char *name; const char *src; size_t len; } lng_stdlib_mod;
extern const lng_stdlib_mod lng_stdlib_mods[];

static int search_stdlib(lua_State *L) {
  const char *name = luaL_checkstring(L, 1);
  for (const lng_stdlib_mod *m = lng_stdlib_mods; m->name; m++) {
    if (strcmp(m->name, name) != 0) continue;
    lua_pushfstring(L, "@[lungo]/%s.lua", name);
    if (luaL_loadbufferx(L, m->src, m->len, lua_tostring(L, -1), "t") != LUA_OK)
      return lua_error(L);
    lua_pushfstring(L, "[lungo]/%s.lua", name);
    return 2;
  }
  if (strncmp(name, "lungo.", 6) != 0) return 0;   /* not ours: say nothing */
  lua_pushfstring(L, "no module '%s' in lungo's library", name);
  return 1;
}

static void add_searcher(lua_State *L) {
  lua_getfield(L, -1, "package");
  lua_getfield(L, -1, "searchers");
  lua_Integer n = (lua_Integer)lua_rawlen(L, -1);
  for (lua_Integer i = n; i >= 2; i--) {      /* after preload, before the paths */
    lua_rawgeti(L, -1, i);
    lua_rawseti(L, -2, i + 1);
  }
  lua_pushcfunction(L, search_stdlib);
  lua_rawseti(L, -2, 2);
  lua_pop(L, 2);
}

/* warn(), as the standalone lua does it: off until "@on", each message to
   stderr as "Lua warning: ...", a message may come in pieces. */
static void shard_warn(void *ud, const char *msg, int tocont) {
  lng_shard *sh = ud;
  if (!sh->warncont && !tocont && *msg == '@') {   /* a control message: whole, not a piece */
    if (strcmp(msg, "@on") == 0) sh->warnon = 1;
    else if (strcmp(msg, "@off") == 0) sh->warnon = 0;
    return;
  }
  if (sh->warnon) {
    if (!sh->warncont) fputs("Lua warning: ", stderr);
    fputs(msg, stderr);
    if (!tocont) fputs("\n", stderr);
  }
  sh->warncont = tocont;
}

static int shard_panic(lua_State *L) {
  (void)L;   /* unprotected errors do not happen: everything runs under resume */
  abort();
}

static int setup(lua_State *L);

lng_shard *lng_shard_fast(lua_State *L) {
  void *ud;
  lua_Alloc f = lua_getallocf(L, &ud);
  lng_shard *sh = lng_shard_of(L);   /* anything in a foreign state: compared, not followed */
  if (f == lng_alloc_lua)
    return (uintptr_t)ud == (uintptr_t)sh + offsetof(lng_shard, heap) ? sh : NULL;
  return f == shard_alloc && ud == (void *)sh ? sh : NULL;
}

void lng_state_get(lua_State *L, int slot, const void *key) {
  lng_shard *sh = lng_shard_fast(L);
  if (!sh) lua_rawgetp(L, LUA_REGISTRYINDEX, key);
  else if (sh->slots[slot]) lua_rawgeti(L, LUA_REGISTRYINDEX, sh->slots[slot]);
  else lua_pushnil(L);
}

void lng_state_set(lua_State *L, int slot, const void *key) {
  lng_shard *sh = lng_shard_fast(L);
  if (!sh) lua_rawsetp(L, LUA_REGISTRYINDEX, key);
  else if (sh->slots[slot]) lua_rawseti(L, LUA_REGISTRYINDEX, sh->slots[slot]);
  else sh->slots[slot] = luaL_ref(L, LUA_REGISTRYINDEX);   /* (never 0) */
}

/* Its address is the registry key naming a shard's state as one. */
static const char shard_key = 0;

lng_shard *lng_shard_check(lua_State *L) {
  lua_rawgetp(L, LUA_REGISTRYINDEX, &shard_key);
  lng_shard *sh = lua_touserdata(L, -1);
  lua_pop(L, 1);
  return sh && sh == lng_shard_of(L) ? sh : NULL;
}

int lng_shard_open(lng_runtime *rt, lng_shard *sh, int index) {
  sh->rt = rt;
  sh->index = index;
  sh->current = NULL;
  lng_mod_init(&sh->mods);
  lng_alloc_init(&sh->heap);
  memset(sh->slots, 0, sizeof sh->slots);
  memset(sh->frontcode, 0, sizeof sh->frontcode);
  lua_State *L = rt->cfg.mem_limit ? lua_newstate(shard_alloc, sh)
                                   : lua_newstate(lng_alloc_lua, &sh->heap);
  if (!L) return -1;
  sh->L = L;
  *(lng_shard **)lua_getextraspace(L) = sh;   /* copied into every thread */
  lua_atpanic(L, shard_panic);
  lua_setwarnf(L, shard_warn, sh);
  sh->warnon = rt->cfg.warnings;
  lua_pushcfunction(L, setup);     /* protected: a memory limit may be too small */
  if (lua_pcall(L, 0, 0, 0) != LUA_OK) {
    lua_close(L);
    sh->L = NULL;
    return -1;
  }
  return 0;
}

void lng_shard_pushfront(lua_State *L, lng_shard *sh) {
  if (sh->slots[LNG_SLOT_FRONT]) {
    lua_rawgeti(L, LUA_REGISTRYINDEX, sh->slots[LNG_SLOT_FRONT]);
    return;
  }
  lua_createtable(L, LNG_FRONT_SIZE, 0);
  lua_createtable(L, 0, 1);
  lua_pushliteral(L, "v");
  lua_setfield(L, -2, "__mode");
  lua_setmetatable(L, -2);
  lua_pushvalue(L, -1);
  sh->slots[LNG_SLOT_FRONT] = luaL_ref(L, LUA_REGISTRYINDEX);
}

/* Fills a new shard's state: libraries, lungo's API, the globals' metatables. */
static int setup(lua_State *L) {
  lng_shard *sh = lng_shard_of(L);
  lng_runtime *rt = sh->rt;
  lua_pushlightuserdata(L, sh);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &shard_key);
  if (rt->cfg.ignore_env) {     /* what lua -E does: package sees no LUA_PATH */
    lua_pushboolean(L, 1);
    lua_setfield(L, LUA_REGISTRYINDEX, "LUA_NOENV");
  }
  luaL_openlibs(L);
  lng_proxy_setcache(L, &sh->proxies);
  lua_pushglobaltable(L);
  rt->openlibs(L);
  add_searcher(L);
  /* _G: answered per goroutine (base_index), not stored in the shared
     base, where it would name the base */
  lua_pushnil(L);
  lua_setfield(L, -2, LUA_GNAME);
  /* the registry's loaded table keeps its raw _G = base (lauxlib's names);
     package.loaded and require answer _G per goroutine (see the top) */
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  lua_pushvalue(L, -2);
  lua_setfield(L, -2, LUA_GNAME);
  lua_getfield(L, -2, "package");
  lua_newtable(L);                 /* the view */
  lua_createtable(L, 0, 3);
  static const struct { const char *name; lua_CFunction f; } view[] = {
    {"__index", loaded_index}, {"__newindex", loaded_newindex}, {"__pairs", loaded_pairs}};
  for (size_t i = 0; i < sizeof view / sizeof view[0]; i++) {
    lua_pushvalue(L, -4);
    lua_pushliteral(L, LUA_GNAME);
    lua_pushcclosure(L, view[i].f, 2);
    lua_setfield(L, -2, view[i].name);
  }
  lua_setmetatable(L, -2);
  lua_setfield(L, -2, "loaded");
  lua_pop(L, 2);
  lua_getfield(L, -1, "require");
  lua_pushcclosure(L, require_g, 1);
  lua_setfield(L, -2, "require");
  /* the metatable of the base */
  lua_newtable(L);
  lua_pushliteral(L, LUA_GNAME);
  lua_pushcclosure(L, base_index, 1);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, base_newindex);
  lua_setfield(L, -2, "__newindex");
  lua_setmetatable(L, -2);
  /* the metatable of every goroutine's globals */
  lua_newtable(L);
  lua_pushvalue(L, -2);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, env_newindex);
  lua_setfield(L, -2, "__newindex");
  sh->envmt = luaL_ref(L, LUA_REGISTRYINDEX);
  lua_pop(L, 1);
  return 0;
}

void lng_shard_close(lng_shard *sh) {
  if (sh->L) lua_close(sh->L);
  for (int i = 0; i < LNG_FRONT_SIZE; i++)
    if (sh->frontcode[i]) lng_obj_unref(sh->frontcode[i]);
  lng_mod_free(&sh->mods);
  lng_msg_free(&sh->spawnmsg);
  sh->L = NULL;
  lng_alloc_destroy(&sh->heap);
}
