/*
 * Go's sync primitives as Lua sees them: go.waitgroup(), go.mutex() and
 * go.semaphore(n), shared by reference between goroutines like channels.
 * A blocking operation queues the goroutine's own waiter and parks it
 * (vm/block.h); the object hands over directly, so once woken the
 * operation is complete, except for a mutex woken to try again
 * (runtime/sync.h), which its continuation does.
 */
#include <lauxlib.h>
#include "../runtime/sync.h"
#include "../runtime/timer.h"
#include "bindings.h"
#include "../vm/vm.h"
#include "../vm/block.h"
#include "../vm/args.h"
#include "../vm/proxy.h"

static lng_wg *checkwg(lua_State *L, int idx) {
  return (lng_wg *)lng_proxy_check(L, &lng_shard_of(L)->proxies, idx, LNG_OBJ_WAITGROUP, "waitgroup");
}

/* Pushes a proxy for a fresh object, whose creation reference it takes over. */
static int push_new(lua_State *L, lng_obj *o, const char *what) {
  if (!o) return luaL_error(L, "not enough memory for a %s", what);
  lng_proxy_push(L, o);
  lng_obj_unref(o);           /* the proxy holds its own reference */
  return 1;
}

/* __tostring of every kind: "name: address". */
static int sync_tostring(lua_State *L) {
  lng_obj *o = lng_proxy_test(L, 1);
  const char *name = o && o->kind == LNG_OBJ_WAITGROUP ? "waitgroup"
                   : o && o->kind == LNG_OBJ_MUTEX ? "mutex" : "semaphore";
  if (!o) lng_proxy_typeerror(L, 1, "waitgroup, mutex or semaphore");
  lua_pushfstring(L, "%s: %p", name, (void *)o);
  return 1;
}

/* The waits below: once woken the operation is complete, so there is
   nothing to return, and each object is a waitable (vm/block.h). */

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

static const lng_waitkind wg_wait_kind = { "wg:wait", "waitgroup wait", NULL, NULL };

static int wg_wait(lua_State *L) {
  lng_wg *wg = checkwg(L, 1);
  return lng_block_on(L, &wg_wait_kind, &wg->wait, lng_wg_wait(wg, lng_block_waiter(L)));
}

static int wg_count(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)lng_wg_count(checkwg(L, 1)));
  return 1;
}

/* ---- mutex and semaphore ----
   A mutex is a one-unit semaphore (runtime/sync.h): one set of methods
   serves both, told apart by the kind they accept and the words they use. */

typedef struct semakind {
  int kind;                  /* LNG_OBJ_MUTEX or LNG_OBJ_SEMA */
  const char *name;
  const char *overrelease;   /* the error of a release with every unit free */
  lng_waitkind acquire;
} semakind;

static int mutex_locked(lua_State *L, int res, lng_msg *box);

static const semakind MUTEX = {
  LNG_OBJ_MUTEX, "mutex", "sync: unlock of unlocked mutex",
  { "mutex:lock", "mutex lock", NULL, mutex_locked }
};
static const semakind SEMA = {
  LNG_OBJ_SEMA, "semaphore", "sync: release of unacquired semaphore",
  { "semaphore:acquire", "semaphore acquire", NULL, NULL }
};

static lng_sema *checksema(lua_State *L, const semakind *k) {
  return (lng_sema *)lng_proxy_check(L, &lng_shard_of(L)->proxies, 1, k->kind, k->name);
}

static int acquire(lua_State *L, const semakind *k) {
  lng_sema *s = checksema(L, k);
  int r = lng_sema_acquire(s, lng_block_waiter(L));
  /* a mutex's continuation needs when the wait began (above the
     argument, which stays at 1 through the waits) */
  if (r == LNG_RES_PARKED && s->barge) {
    lua_settop(L, 1);
    lua_pushinteger(L, (lua_Integer)lng_now_ns());
  }
  return lng_block_on(L, &k->acquire, &s->wait, r);
}

/* A parked mutex:lock is over: handed the lock (OK), or woken to try for
   it again (RETRY), first in line if it loses once more. */
static int mutex_locked(lua_State *L, int res, lng_msg *box) {
  if (!box) return 0;                 /* it did not park: locked at once */
  lng_sema *m = checksema(L, &MUTEX);
  int64_t waited = lng_now_ns() - (int64_t)lua_tointeger(L, 2);
  if (res == LNG_RES_OK) {
    if (m->starving) lng_mutex_settle(m, waited);
    return 0;
  }
  return lng_block_on(L, &MUTEX.acquire, &m->wait, lng_mutex_relock(m, lng_block_waiter(L), waited));
}

static int tryacquire(lua_State *L, const semakind *k) {
  lua_pushboolean(L, lng_sema_tryacquire(checksema(L, k)) == LNG_RES_OK);
  return 1;
}

static int release(lua_State *L, const semakind *k) {
  if (lng_sema_release(checksema(L, k), lng_shard_of(L)->index) == LNG_RES_OVERRELEASE)
    return luaL_error(L, "%s", k->overrelease);
  return 0;
}

static int mutex_new(lua_State *L) {
  lng_mutex *m = lng_mutex_new();
  return push_new(L, m ? &m->obj : NULL, "mutex");
}

static int mutex_lock(lua_State *L) { return acquire(L, &MUTEX); }
static int mutex_trylock(lua_State *L) { return tryacquire(L, &MUTEX); }
static int mutex_unlock(lua_State *L) { return release(L, &MUTEX); }

static int sema_new(lua_State *L) {
  lua_Integer n = lng_checkinteger(L, 1);
  lng_argcheck(L, n > 0, 1, "size must be positive");
  lng_sema *s = lng_sema_new((int64_t)n);
  return push_new(L, s ? &s->obj : NULL, "semaphore");
}

static int sema_acquire(lua_State *L) { return acquire(L, &SEMA); }
static int sema_tryacquire(lua_State *L) { return tryacquire(L, &SEMA); }
static int sema_release(lua_State *L) { return release(L, &SEMA); }

/* ---- opening ---- */


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
  static const luaL_Reg metas[] = { {"__tostring", sync_tostring}, {NULL, NULL} };
  lng_proxy_newkind(L, LNG_OBJ_WAITGROUP, "waitgroup", "wg:", wg_methods, NULL, metas);
  lng_proxy_newkind(L, LNG_OBJ_MUTEX, "mutex", "mutex:", mutex_methods, NULL, metas);
  lng_proxy_newkind(L, LNG_OBJ_SEMA, "semaphore", "sem:", sema_methods, NULL, metas);
  lua_getfield(L, -1, "go");
  luaL_setfuncs(L, fns, 0);
  lng_setnames(L, -1, "go.", fns);
  lua_pop(L, 1);
}
