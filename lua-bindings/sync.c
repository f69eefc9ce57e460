/*
 * Go's sync primitives as Lua sees them: go.waitgroup(), go.mutex() and
 * go.semaphore(n), shared by reference between goroutines like channels.
 * A blocking operation queues the goroutine's own waiter and parks it; the
 * object hands over directly, so once woken the operation is complete.
 */
#include <lauxlib.h>
#include "../runtime/sync.h"
#include "../vm/vm.h"
#include "../vm/args.h"
#include "../vm/proxy.h"

static lng_wg *checkwg(lua_State *L, int idx) {
  return (lng_wg *)lng_proxy_check(L, &lng_shard_of(L)->proxies, idx, LNG_OBJ_WAITGROUP, "waitgroup");
}

static lng_mutex *checkmutex(lua_State *L, int idx) {
  return (lng_mutex *)lng_proxy_check(L, &lng_shard_of(L)->proxies, idx, LNG_OBJ_MUTEX, "mutex");
}

static lng_sema *checksema(lua_State *L, int idx) {
  return (lng_sema *)lng_proxy_check(L, &lng_shard_of(L)->proxies, idx, LNG_OBJ_SEMA, "semaphore");
}

/* Pushes a proxy for a fresh object, whose creation reference it takes over. */
static int push_new(lua_State *L, lng_obj *o, const char *what) {
  if (!o) return luaL_error(L, "not enough memory for a %s", what);
  lng_proxy_push(L, o);
  lng_obj_unref(o);           /* the proxy holds its own reference */
  return 1;
}

/* Continuation of a parked operation: the object completed it before waking us. */
static int parked_done(lua_State *L, int status, lua_KContext ctx) {
  (void)status; (void)ctx;
  if (lng_gor_aborted(L)) return luaL_error(L, LNG_ABORT_MSG);
  return 0;
}

/* How an abort (lng_interrupt) takes a parked operation back. */
static int cancel_wg(lng_g *g) { return lng_wg_cancel(g->cancelobj, &g->u.park.w); }
static int cancel_mutex(lng_g *g) { return lng_mutex_cancel(g->cancelobj, &g->u.park.w); }
static int cancel_sema(lng_g *g) { return lng_sema_cancel(g->cancelobj, &g->u.park.w); }

static int park(lua_State *L, int (*cancel)(lng_g *), void *obj, const char *reason) {
  lng_g *g = lng_shard_of(L)->current;
  g->cancel = cancel;
  g->cancelobj = obj;
  return lng_gor_park(L, reason, 0, parked_done);
}

/* ---- waitgroup ---- */

static int wg_new(lua_State *L) {
  lng_wg *wg = lng_wg_new();
  return push_new(L, wg ? &wg->obj : NULL, "waitgroup");
}

static int wg_addn(lua_State *L, lng_wg *wg, lua_Integer n) {
  switch (lng_wg_add(wg, (int64_t)n, lng_shard_of(L)->index)) {
    case LNG_RES_NEGATIVE: return luaL_error(L, "sync: negative waitgroup counter");
    case LNG_RES_OVERFLOW: return luaL_error(L, "sync: waitgroup counter overflow");
    default: return 0;
  }
}

static int wg_add(lua_State *L) {
  lng_wg *wg = checkwg(L, 1);
  return wg_addn(L, wg, lng_checkinteger(L, 2));
}

static int wg_done(lua_State *L) {
  return wg_addn(L, checkwg(L, 1), -1);
}

static int wg_wait(lua_State *L) {
  lng_wg *wg = checkwg(L, 1);
  switch (lng_wg_wait(wg, lng_gor_waiter(L, NULL))) {
    case LNG_RES_OK: return 0;
    case LNG_RES_WOULDBLOCK: return lng_gor_cannotblock(L, "wg:wait");
    default: return park(L, cancel_wg, wg, "waitgroup wait");
  }
}

static int wg_count(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)lng_wg_count(checkwg(L, 1)));
  return 1;
}

static int wg_tostring(lua_State *L) {
  lua_pushfstring(L, "waitgroup: %p", (void *)checkwg(L, 1));
  return 1;
}

/* ---- mutex ---- */

static int mutex_new(lua_State *L) {
  lng_mutex *m = lng_mutex_new();
  return push_new(L, m ? &m->obj : NULL, "mutex");
}

static int mutex_lock(lua_State *L) {
  lng_mutex *m = checkmutex(L, 1);
  switch (lng_mutex_lock(m, lng_gor_waiter(L, NULL))) {
    case LNG_RES_OK: return 0;
    case LNG_RES_WOULDBLOCK: return lng_gor_cannotblock(L, "mutex:lock");
    default: return park(L, cancel_mutex, m, "mutex lock");
  }
}

static int mutex_trylock(lua_State *L) {
  lua_pushboolean(L, lng_mutex_trylock(checkmutex(L, 1)) == LNG_RES_OK);
  return 1;
}

static int mutex_unlock(lua_State *L) {
  lng_mutex *m = checkmutex(L, 1);
  if (lng_mutex_unlock(m, lng_shard_of(L)->index) == LNG_RES_UNLOCKED)
    return luaL_error(L, "sync: unlock of unlocked mutex");
  return 0;
}

static int mutex_tostring(lua_State *L) {
  lua_pushfstring(L, "mutex: %p", (void *)checkmutex(L, 1));
  return 1;
}

/* ---- semaphore ---- */

static int sema_new(lua_State *L) {
  lua_Integer n = lng_checkinteger(L, 1);
  lng_argcheck(L, n > 0, 1, "size must be positive");
  lng_sema *s = lng_sema_new((int64_t)n);
  return push_new(L, s ? &s->obj : NULL, "semaphore");
}

static int sema_acquire(lua_State *L) {
  lng_sema *s = checksema(L, 1);
  switch (lng_sema_acquire(s, lng_gor_waiter(L, NULL))) {
    case LNG_RES_OK: return 0;
    case LNG_RES_WOULDBLOCK: return lng_gor_cannotblock(L, "semaphore:acquire");
    default: return park(L, cancel_sema, s, "semaphore acquire");
  }
}

static int sema_tryacquire(lua_State *L) {
  lua_pushboolean(L, lng_sema_tryacquire(checksema(L, 1)) == LNG_RES_OK);
  return 1;
}

static int sema_release(lua_State *L) {
  lng_sema *s = checksema(L, 1);
  if (lng_sema_release(s, lng_shard_of(L)->index) == LNG_RES_OVERRELEASE)
    return luaL_error(L, "sync: release of unacquired semaphore");
  return 0;
}

static int sema_tostring(lua_State *L) {
  lua_pushfstring(L, "semaphore: %p", (void *)checksema(L, 1));
  return 1;
}

/* ---- opening ---- */

/* Registers the proxy metatable of one kind; the stack is left as it was. */
static void register_kind(lua_State *L, int kind, const char *name, const char *prefix,
                          const luaL_Reg *methods, lua_CFunction tostring) {
  lua_newtable(L);                        /* the metatable */
  lua_newtable(L);
  luaL_setfuncs(L, methods, 0);
  lng_setnames(L, -1, prefix, methods);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, tostring);
  lua_pushfstring(L, "%s__tostring", prefix);
  lng_setname(L, -2, lua_tostring(L, -1));
  lua_pop(L, 1);
  lua_setfield(L, -2, "__tostring");
  lua_pushstring(L, name);
  lua_setfield(L, -2, "__name");
  lng_proxy_register(L, kind);
}

void lng_open_sync(lua_State *L) {
  static const luaL_Reg wg_methods[] = {
    {"add", wg_add}, {"done", wg_done}, {"wait", wg_wait}, {"count", wg_count}, {NULL, NULL}
  };
  static const luaL_Reg mutex_methods[] = {
    {"lock", mutex_lock}, {"unlock", mutex_unlock}, {"trylock", mutex_trylock}, {NULL, NULL}
  };
  static const luaL_Reg sema_methods[] = {
    {"acquire", sema_acquire}, {"release", sema_release}, {"tryacquire", sema_tryacquire},
    {NULL, NULL}
  };
  static const luaL_Reg fns[] = {
    {"waitgroup", wg_new}, {"mutex", mutex_new}, {"semaphore", sema_new}, {NULL, NULL}
  };
  register_kind(L, LNG_OBJ_WAITGROUP, "waitgroup", "wg:", wg_methods, wg_tostring);
  register_kind(L, LNG_OBJ_MUTEX, "mutex", "mutex:", mutex_methods, mutex_tostring);
  register_kind(L, LNG_OBJ_SEMA, "semaphore", "sem:", sema_methods, sema_tostring);
  lua_getfield(L, -1, "go");
  luaL_setfuncs(L, fns, 0);
  lng_setnames(L, -1, "go.", fns);
  lua_pop(L, 1);
}
