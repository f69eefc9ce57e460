/*
 * Shared values as Lua sees them: go.atomic([n]) and go.dict(), runtime
 * objects (runtime/dict.h) that travel by reference like channels, so every
 * goroutine holding one works on the same value. Nothing here blocks: each
 * operation is one atomic instruction (atomics) or one short critical
 * section of one stripe (dicts). Dict values are copied in on set and out
 * on get, as a channel copies them; integers are kept as numbers.
 */
#include <lauxlib.h>
#include <stdlib.h>
#include "../runtime/dict.h"
#include "bindings.h"
#include "../vm/vm.h"
#include "../vm/args.h"
#include "../vm/copy.h"
#include "../vm/proxy.h"

/* ---- atomic ---- */

static lng_atomic *checkatomic(lua_State *L) {
  return (lng_atomic *)lng_proxy_check(L, &lng_shard_of(L)->proxies, 1, LNG_OBJ_ATOMIC, "atomic");
}

/* An integer argument, strictly: a float (even 1.0) or a non-number raises. */
static long long checkint(lua_State *L, int arg) {
  if (!lua_isinteger(L, arg)) {
    if (lua_type(L, arg) == LUA_TNUMBER) lng_argerror(L, arg, "integer expected, got float");
    else lng_typeerror(L, arg, "integer");
  }
  return (long long)lua_tointeger(L, arg);
}

static int atomic_new(lua_State *L) {
  long long v = lua_isnoneornil(L, 1) ? 0 : checkint(L, 1);
  lng_atomic *a = lng_atomic_new(v);
  if (!a) return luaL_error(L, "not enough memory for an atomic");
  lng_proxy_push(L, &a->obj);
  lng_obj_unref(&a->obj);
  return 1;
}

static int atomic_load_(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)atomic_load(&checkatomic(L)->v));
  return 1;
}

static int atomic_store_(lua_State *L) {
  lng_atomic *a = checkatomic(L);
  atomic_store(&a->v, checkint(L, 2));
  return 0;
}

static int atomic_add(lua_State *L) {
  lng_atomic *a = checkatomic(L);
  long long d = checkint(L, 2);
  /* wraps as Lua's integers do (the atomic add itself wraps: two's complement) */
  unsigned long long old = (unsigned long long)atomic_fetch_add(&a->v, d);
  lua_pushinteger(L, (lua_Integer)(old + (unsigned long long)d));
  return 1;
}

static int atomic_cas(lua_State *L) {
  lng_atomic *a = checkatomic(L);
  long long old = checkint(L, 2), new = checkint(L, 3);
  lua_pushboolean(L, atomic_compare_exchange_strong(&a->v, &old, new));
  return 1;
}

static int atomic_tostring(lua_State *L) {
  lng_atomic *a = checkatomic(L);
  lua_pushfstring(L, "atomic: %p (%I)", (void *)a, (lua_Integer)atomic_load(&a->v));
  return 1;
}

/* ---- dict ---- */

static lng_dict *checkdict(lua_State *L) {
  return (lng_dict *)lng_proxy_check(L, &lng_shard_of(L)->proxies, 1, LNG_OBJ_DICT, "dict");
}

/* The key at arg: a string, an integer (a float with an integer value
   counts as that integer, as for table keys) or a boolean. */
static void checkkey(lua_State *L, int arg, lng_dkey *k) {
  switch (lua_type(L, arg)) {
    case LUA_TSTRING:
      k->type = LNG_DKEY_STR;
      k->s = lua_tolstring(L, arg, &k->len);
      return;
    case LUA_TBOOLEAN:
      k->type = LNG_DKEY_BOOL;
      k->i = lua_toboolean(L, arg);
      return;
    case LUA_TNUMBER: {
      lua_Integer i;
      if (lua_isinteger(L, arg) || lua_numbertointeger(lua_tonumber(L, arg), &i)) {
        int isint;
        k->type = LNG_DKEY_INT;
        k->i = (long long)lua_tointegerx(L, arg, &isint);
        if (isint) return;
      }
      lng_argerror(L, arg, "dict key must be a string, an integer or a boolean");
      return;
    }
    default:
      lng_typeerror(L, arg, "string, integer or boolean");
  }
}

/* The value at arg as a dict value (copied as a channel copies it). */
static void checkval(lua_State *L, int arg, lng_dval *v) {
  v->isint = 0;
  lng_msg_init(&v->msg);
  if (lua_isinteger(L, arg)) {
    v->isint = 1;
    v->i = (long long)lua_tointeger(L, arg);
    return;
  }
  int env = 0;
  lua_settop(L, arg);
  if (lua_type(L, arg) == LUA_TTABLE || lua_type(L, arg) == LUA_TFUNCTION) {
    lng_shard_peekenv(L);
    env = arg + 1;
  }
  if (lng_copy_encode_values(L, arg, 1, env, 0, &v->msg) < 0) {
    lng_msg_free(&v->msg);
    lng_error_here(L);
  }
  lua_settop(L, arg);
}

/* Pushes v, which is then freed. */
static void pushval(lua_State *L, lng_dval *v) {
  if (v->isint) {
    lua_pushinteger(L, (lua_Integer)v->i);
    return;
  }
  int n = lng_copy_decode(L, &v->msg, LNG_COPY_LAZYENV);
  lng_msg_free(&v->msg);
  if (n < 0) lua_error(L);
}

static int nomem(lua_State *L) { return luaL_error(L, "not enough memory"); }

static int dict_new(lua_State *L) {
  lng_dict *d = lng_dict_new();
  if (!d) return luaL_error(L, "not enough memory for a dict");
  d->obj.home = lng_shard_of(L)->rt->objtrack;   /* its values may hold a cycle */
  lng_proxy_push(L, &d->obj);
  lng_obj_unref(&d->obj);
  return 1;
}

static int dict_get(lua_State *L) {
  lng_dict *d = checkdict(L);
  lng_dkey k;
  lng_dval v;
  checkkey(L, 2, &k);
  int r = lng_dict_get(d, &k, &v);
  if (r < 0) return nomem(L);
  if (r == 0) lua_pushnil(L);
  else pushval(L, &v);
  return 1;
}

static int dict_set(lua_State *L) {
  lng_dict *d = checkdict(L);
  lng_dkey k;
  lng_dval v;
  checkkey(L, 2, &k);
  if (lua_isnoneornil(L, 3)) {
    lng_dict_delete(d, &k);
    return 0;
  }
  checkval(L, 3, &v);       /* (k's string stays on the stack: arg 2) */
  if (lng_dict_set(d, &k, &v) < 0) {
    if (!v.isint) lng_msg_free(&v.msg);
    return nomem(L);
  }
  return 0;
}

static int dict_add(lua_State *L) {
  lng_dict *d = checkdict(L);
  lng_dkey k;
  lng_dval v;
  checkkey(L, 2, &k);
  luaL_checkany(L, 3);
  if (lua_isnil(L, 3)) return lng_argerror(L, 3, "value must not be nil");
  checkval(L, 3, &v);
  int r = lng_dict_add(d, &k, &v);
  if (r <= 0 && !v.isint) lng_msg_free(&v.msg);
  if (r < 0) return nomem(L);
  lua_pushboolean(L, r);
  return 1;
}

static int dict_incr(lua_State *L) {
  lng_dict *d = checkdict(L);
  lng_dkey k;
  checkkey(L, 2, &k);
  long long n = checkint(L, 3), init = lua_isnoneornil(L, 4) ? 0 : checkint(L, 4), out;
  switch (lng_dict_incr(d, &k, n, init, &out)) {
    case -1: return nomem(L);
    case -2: return luaL_error(L, "dict: incr of a value that is not an integer");
  }
  lua_pushinteger(L, (lua_Integer)out);
  return 1;
}

static int dict_delete(lua_State *L) {
  lng_dict *d = checkdict(L);
  lng_dkey k;
  checkkey(L, 2, &k);
  lua_pushboolean(L, lng_dict_delete(d, &k));
  return 1;
}

static int dict_len(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)lng_dict_len(checkdict(L)));
  return 1;
}

#define KEYSBOX "lungo.dict keys"

/* The keys' block is held by a userdata with __gc from before it exists,
   so that no error (a memory error while pushing) can leak it. */
static int keys_gc(lua_State *L) {
  void **box = lua_touserdata(L, 1);
  if (box) { free(*box); *box = NULL; }
  return 0;
}

static int dict_keys(lua_State *L) {
  lng_dict *d = checkdict(L);
  void **box = lua_newuserdatauv(L, sizeof *box, 0);
  *box = NULL;
  luaL_setmetatable(L, KEYSBOX);
  size_t n;
  lng_dkey *ks = lng_dict_keys(d, &n);
  if (!ks && n) return nomem(L);
  *box = ks;
  lua_createtable(L, n > INT32_MAX ? INT32_MAX : (int)n, 0);
  for (size_t i = 0; i < n; i++) {
    switch (ks[i].type) {
      case LNG_DKEY_STR: lua_pushlstring(L, ks[i].s, ks[i].len); break;
      case LNG_DKEY_INT: lua_pushinteger(L, (lua_Integer)ks[i].i); break;
      default: lua_pushboolean(L, (int)ks[i].i); break;
    }
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  free(ks);
  *box = NULL;
  return 1;
}

static int dict_tostring(lua_State *L) {
  lng_dict *d = checkdict(L);
  lua_pushfstring(L, "dict: %p", (void *)d);
  return 1;
}

/* ---- opening ---- */


void lng_open_shared(lua_State *L) {
  static const luaL_Reg atomic_methods[] = {
    {"load", atomic_load_}, {"store", atomic_store_}, {"add", atomic_add}, {"cas", atomic_cas},
    {NULL, NULL}
  };
  static const luaL_Reg atomic_metas[] = { {"__tostring", atomic_tostring}, {NULL, NULL} };
  static const luaL_Reg dict_methods[] = {
    {"get", dict_get}, {"set", dict_set}, {"add", dict_add}, {"incr", dict_incr},
    {"delete", dict_delete}, {"keys", dict_keys}, {"len", dict_len}, {NULL, NULL}
  };
  static const luaL_Reg dict_metas[] = {
    {"__len", dict_len}, {"__tostring", dict_tostring}, {NULL, NULL}
  };
  static const luaL_Reg fns[] = { {"atomic", atomic_new}, {"dict", dict_new}, {NULL, NULL} };
  lng_proxy_newkind(L, LNG_OBJ_ATOMIC, "atomic", "a:", atomic_methods, NULL, atomic_metas);
  lng_proxy_newkind(L, LNG_OBJ_DICT, "dict", "d:", dict_methods, NULL, dict_metas);
  luaL_newmetatable(L, KEYSBOX);
  lua_pushcfunction(L, keys_gc);
  lua_setfield(L, -2, "__gc");
  lua_pop(L, 1);
  lua_getfield(L, -1, "go");
  luaL_setfuncs(L, fns, 0);
  lng_setnames(L, -1, "go.", fns);
  lua_pop(L, 1);
}
