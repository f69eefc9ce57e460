/*
 * Stoppable timers: go.timer(s) -> t with t.c (receives the time once),
 * t:stop(), t:reset(s); go.afterfunc(s, fn, ...) -> a timer whose firing
 * starts fn(...) as a goroutine (fn and its arguments copied at the call,
 * as go() copies them, and again at every firing). A timer is a runtime
 * object, shared by reference like a channel, so any goroutine holding it
 * may stop or reset it.
 *
 * The timer heap (runtime/timer.h) holds a reference to the object while
 * the timer is pending; firing or a successful stop gives it back. A
 * stopped timer is out of the heap, so it no longer counts as a possible
 * waker: a goroutine waiting on its channel alone is deadlocked.
 * Like Go before 1.23, a value already delivered stays in t.c: stop and
 * reset do not drain it.
 */
#include <math.h>
#include <stdlib.h>
#include <lauxlib.h>
#include "../runtime/chan.h"
#include "../runtime/lock.h"
#include "../runtime/objtrack.h"
#include "bindings.h"
#include "../vm/vm.h"
#include "../vm/args.h"
#include "../vm/copy.h"
#include "../vm/proxy.h"

typedef struct tmr {
  lng_obj obj;
  lng_timer t;
  lng_sched *s;
  lng_chan *c;          /* go.timer: capacity 1; NULL for afterfunc */
  lng_msg fn;           /* afterfunc: the function and its arguments */
  uint32_t site;        /* afterfunc: its call, the goroutine's "created by" */
  lng_lock lock;        /* one stop or reset at a time */
} tmr;

static void tmr_destroy(lng_obj *o) {
  tmr *tm = (tmr *)o;
  if (tm->c) lng_obj_unref(&tm->c->obj);
  lng_msg_free(&tm->fn);
  free(tm);
}

/* What the cycle tracker (objtrack.h) asks of an afterfunc: the objects
   its function and arguments name (a channel that holds the timer is a
   cycle). */
static void tmr_each(lng_obj *o, lng_track_visit visit, void *ud) {
  tmr *tm = (tmr *)o;
  lng_lock_acquire(&tm->lock);
  for (uint32_t i = 0; i < lng_msg_nrefs(&tm->fn); i++)
    if (lng_msg_ref(&tm->fn, i)) visit(lng_msg_ref(&tm->fn, i), ud);
  lng_lock_release(&tm->lock);
}

static void tmr_clear(lng_obj *o) {
  tmr *tm = (tmr *)o;
  lng_msg fn;
  lng_lock_acquire(&tm->lock);
  lng_msg_move(&fn, &tm->fn);
  lng_lock_release(&tm->lock);
  lng_msg_free(&fn);                           /* (may free other objects: unlocked) */
}

static const lng_trackops tmr_ops = { tmr_each, tmr_clear };

static void tmr_fire(lng_timer *t, int self, int64_t now) {
  tmr *tm = t->ud;
  if (tm->c) {
    lng_msg m;
    lng_msg_init(&m);
    if (lng_copy_put_number(&m, (double)now / 1e9) == 0)
      lng_chan_send(tm->c, &m, NULL, self);    /* full or closed: dropped, like Go's */
    lng_msg_free(&m);
  } else {
    lng_msg m;
    lng_g *g;
    if (lng_msg_dup(&m, &tm->fn) == 0) {
      if ((g = lng_sched_newg(tm->s)) != NULL) {
        g->site = tm->site;
        lng_sched_spawnmsg(tm->s, g, &m, self);
      }
      lng_msg_free(&m);
    }
  }
  lng_obj_unref(&tm->obj);                     /* the heap's reference */
}

static void tmr_drop(lng_timer *t) {           /* pending at shutdown */
  lng_obj_unref(&((tmr *)t->ud)->obj);
}

/* A duration argument in nanoseconds, as go.sleep's. */
static int64_t checkduration(lua_State *L, int arg) {
  lua_Number d = lng_checknumber(L, arg);
  lng_argcheck(L, !isnan(d) && d >= 0, arg, "duration must be a non-negative number");
  if (d > 9e9) d = 9e9;
  int64_t ns = (int64_t)(d * 1e9);
  return ns == 0 && d > 0 ? 1 : ns;
}

/* Arms tm (the caller holds its lock, or is its only holder) due in ns,
   with a new reference for the heap: 0, or -1. */
static int arm(tmr *tm, int64_t ns) {
  tm->t.due = lng_now_ns() + ns;
  lng_obj_ref(&tm->obj);
  if (lng_sched_timer_add(tm->s, &tm->t) != 0) {
    lng_obj_unref(&tm->obj);
    return -1;
  }
  return 0;
}

static tmr *newtmr(lua_State *L, int withchan) {
  tmr *tm = calloc(1, sizeof *tm);
  if (!tm) return NULL;
  lng_obj_init(&tm->obj, LNG_OBJ_TIMER, tmr_destroy);
  lng_msg_init(&tm->fn);
  lng_lock_init(&tm->lock);
  tm->s = lng_shard_of(L)->rt->sched;
  tm->t.fire = tmr_fire;
  tm->t.drop = tmr_drop;
  tm->t.ud = tm;
  tm->t.idx = -1;
  if (withchan && !(tm->c = lng_chan_new(1))) {
    free(tm);
    return NULL;
  }
  return tm;
}

/* Pushes the proxy of tm (which takes over the caller's reference) and arms it. */
static int start(lua_State *L, tmr *tm, int64_t ns) {
  lng_proxy_push(L, &tm->obj);
  lng_obj_unref(&tm->obj);
  if (arm(tm, ns)) return luaL_error(L, "not enough memory");
  return 1;
}

static int timer_new(lua_State *L) {
  int64_t ns = checkduration(L, 1);
  tmr *tm = newtmr(L, 1);
  if (!tm) return luaL_error(L, "not enough memory for a timer");
  return start(L, tm, ns);
}

static int afterfunc(lua_State *L) {
  int64_t ns = checkduration(L, 1);
  lng_checktype(L, 2, LUA_TFUNCTION);
  int n = lua_gettop(L) - 1;
  lng_shard_peekenv(L);
  int env = lua_gettop(L);
  tmr *tm = newtmr(L, 0);
  if (!tm) return luaL_error(L, "not enough memory for a timer");
  tm->site = lng_gor_site(L);
  /* as go(): the function is argument 1 of the copy, its arguments 2... */
  if (lng_copy_encode(L, 2, n, env, 1, &tm->fn) < 0) {
    tmr_destroy(&tm->obj);
    return lng_error_here(L);
  }
  if (lng_msg_nrefs(&tm->fn)) {                /* its function names objects: maybe a cycle */
    tm->obj.home = lng_shard_of(L)->rt->objtrack;
    lng_objtrack_note(&tm->obj, &tmr_ops);
  }
  lua_settop(L, env - 1);
  return start(L, tm, ns);
}

static tmr *checktmr(lua_State *L) {
  return (tmr *)lng_proxy_check(L, &lng_shard_of(L)->proxies, 1, LNG_OBJ_TIMER, "timer");
}

static int timer_stop(lua_State *L) {
  tmr *tm = checktmr(L);
  lng_lock_acquire(&tm->lock);
  int was = lng_sched_timer_del(tm->s, &tm->t);
  lng_lock_release(&tm->lock);
  if (was) lng_obj_unref(&tm->obj);            /* the heap's reference (ours keeps it alive) */
  lua_pushboolean(L, was);
  return 1;
}

static int timer_reset(lua_State *L) {
  tmr *tm = checktmr(L);
  int64_t ns = checkduration(L, 2);
  lng_lock_acquire(&tm->lock);
  int was = lng_sched_timer_del(tm->s, &tm->t);
  int r = arm(tm, ns);
  lng_lock_release(&tm->lock);
  if (was) lng_obj_unref(&tm->obj);            /* arm took a new one */
  if (r) return luaL_error(L, "not enough memory");
  lua_pushboolean(L, was);
  return 1;
}

/* t.c, and the methods (upvalue 1: the methods table) */
static int timer_index(lua_State *L) {
  tmr *tm = checktmr(L);
  size_t len;
  const char *k = lua_tolstring(L, 2, &len);
  if (k && len == 1 && k[0] == 'c' && lua_type(L, 2) == LUA_TSTRING) {
    if (tm->c) lng_proxy_push(L, &tm->c->obj);
    else lua_pushnil(L);
    return 1;
  }
  lua_settop(L, 2);
  lua_rawget(L, lua_upvalueindex(1));
  return 1;
}

static int timer_tostring(lua_State *L) {
  lua_pushfstring(L, "timer: %p", (void *)checktmr(L));
  return 1;
}

void lng_open_timer(lua_State *L) {
  static const luaL_Reg methods[] = { {"stop", timer_stop}, {"reset", timer_reset}, {NULL, NULL} };
  static const luaL_Reg fns[] = { {"timer", timer_new}, {"afterfunc", afterfunc}, {NULL, NULL} };
  static const luaL_Reg metas[] = { {"__tostring", timer_tostring}, {NULL, NULL} };
  lng_proxy_newkind(L, LNG_OBJ_TIMER, "timer", "t:", methods, timer_index, metas);
  lua_getfield(L, -1, "go");
  luaL_setfuncs(L, fns, 0);
  lng_setnames(L, -1, "go.", fns);
  lua_pop(L, 1);
}
