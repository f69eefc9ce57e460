/*
 * Time: go.now(), go.sleep(s), go.after(s), go.ticker(s). A sleeping
 * goroutine parks with a timer kept on its own stack; after and ticker
 * are channels fed by a timer that holds a reference to them. Closing a
 * ticker's channel stops the ticker.
 */
#include <math.h>
#include <stdlib.h>
#include <lauxlib.h>
#include "../runtime/chan.h"
#include "bindings.h"
#include "../vm/vm.h"
#include "../vm/block.h"
#include "../vm/args.h"
#include "../vm/copy.h"
#include "../vm/proxy.h"

typedef struct chantimer {
  lng_timer t;
  lng_chan *c;
  lng_sched *s;
} chantimer;

static double now_s(void) { return (double)lng_now_ns() / 1e9; }

/* A duration argument in nanoseconds: a non-negative number, not NaN. */
static int64_t checkduration(lua_State *L, int arg) {
  lua_Number d = lng_checknumber(L, arg);
  lng_argcheck(L, !isnan(d) && d >= 0, arg, "duration must be a non-negative number");
  if (d > 9e9) d = 9e9;          /* ~285 years: far enough, and no overflow */
  int64_t ns = (int64_t)(d * 1e9);
  return ns == 0 && d > 0 ? 1 : ns;   /* a positive duration stays positive */
}

static int go_now(lua_State *L) {
  lua_pushnumber(L, now_s());
  return 1;
}

/* A sleep: a timer that wakes the goroutine's waiter, kept on the
   goroutine's stack (a userdata) while it is parked. */
typedef struct sleeper {
  lng_timer t;
  lng_sched *s;
} sleeper;

static void sleep_fire(lng_timer *t, int self, int64_t now) {
  (void)now;
  lng_waiter_wake(t->ud, self);
}

static int cancel_sleep(void *obj, lng_waiter *w) {
  (void)w;
  sleeper *sl = obj;
  return lng_sched_timer_del(sl->s, &sl->t);
}

static const lng_waitkind sleep_kind = { "go.sleep", "sleep", cancel_sleep, NULL };

static int go_sleep(lua_State *L) {
  int64_t ns = checkduration(L, 1);
  if (ns == 0) return lng_block_yield(L);
  lng_waiter *w = lng_block_waiter(L);
  if (!w) return lng_block_on(L, &sleep_kind, NULL, LNG_RES_WOULDBLOCK);
  sleeper *sl = lua_newuserdatauv(L, sizeof *sl, 0);
  *sl = (sleeper){ .s = lng_shard_of(L)->rt->sched };
  sl->t.due = lng_now_ns() + ns;
  sl->t.fire = sleep_fire;
  sl->t.ud = w;
  if (lng_sched_timer_add(sl->s, &sl->t) != 0) return luaL_error(L, "not enough memory");
  return lng_block_on(L, &sleep_kind, sl, LNG_RES_PARKED);
}

static void chantimer_drop(lng_timer *t) {
  chantimer *ct = (chantimer *)t;
  lng_obj_unref(&ct->c->obj);
  free(ct);
}

static void chantimer_send(chantimer *ct, int self, int64_t now) {
  lng_msg m;
  lng_msg_init(&m);
  if (lng_copy_put_number(&m, (double)now / 1e9) == 0)
    lng_chan_send(ct->c, &m, NULL, self);      /* full or closed: the tick is dropped */
  lng_msg_free(&m);
}

static void after_fire(lng_timer *t, int self, int64_t now) {
  chantimer_send((chantimer *)t, self, now);
  chantimer_drop(t);
}

static void ticker_fire(lng_timer *t, int self, int64_t now) {
  chantimer_send((chantimer *)t, self, now);
}

static void ticker_closed(lng_chan *c, void *ud) {
  (void)c;
  chantimer *ct = ud;
  if (lng_sched_timer_del(ct->s, &ct->t)) chantimer_drop(&ct->t);
  /* else it is firing right now, and the runtime drops it afterwards */
}

static int newtimer(lua_State *L, int64_t ns, int64_t period) {
  lng_shard *sh = lng_shard_of(L);
  chantimer *ct = calloc(1, sizeof *ct);
  lng_chan *c = ct ? lng_chan_new(1) : NULL;
  if (!c) {
    free(ct);
    return luaL_error(L, "not enough memory");
  }
  ct->c = c;                      /* the timer's reference */
  ct->s = sh->rt->sched;
  ct->t.due = lng_now_ns() + ns;
  ct->t.period = period;
  ct->t.fire = period ? ticker_fire : after_fire;
  ct->t.drop = chantimer_drop;
  if (period) {
    c->onclose = ticker_closed;
    c->closeud = ct;
  }
  lng_proxy_push(L, &c->obj);      /* the proxy's own reference */
  if (lng_sched_timer_add(ct->s, &ct->t) != 0) {
    chantimer_drop(&ct->t);
    return luaL_error(L, "not enough memory");
  }
  return 1;
}

static int go_after(lua_State *L) {
  return newtimer(L, checkduration(L, 1), 0);
}

static int go_ticker(lua_State *L) {
  int64_t ns = checkduration(L, 1);
  lng_argcheck(L, ns > 0, 1, "ticker period must be positive");
  return newtimer(L, ns, ns);
}

void lng_open_time(lua_State *L) {
  static const luaL_Reg fns[] = {
    {"now", go_now}, {"sleep", go_sleep}, {"after", go_after}, {"ticker", go_ticker},
    {NULL, NULL}
  };
  lua_getfield(L, -1, "go");
  luaL_setfuncs(L, fns, 0);
  lng_setnames(L, -1, "go.", fns);
  lua_pop(L, 1);
}
