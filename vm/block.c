/*
 * Blocking a goroutine (block.h): parking it on a wait and resuming it
 * with the wait's result, the abort of the main goroutine's wait, and
 * go.yield.
 *
 * Blocking is a yield to the scheduler. From inside nested coroutines that
 * yield travels up through their resumers (coro.c), which re-yield while
 * gvm.pending is set; the chain of those resumers is kept so that a
 * blocking operation can tell beforehand whether every thread up to the
 * goroutine's own may suspend.
 */
#include <lauxlib.h>
#include "block.h"
#include "../runtime/waitable.h"

int lng_block_possible(lua_State *L) {
  lng_gvm *gv = lng_gor_current(L);
  if (!gv || !lua_isyieldable(L)) return 0;
  for (int i = 0; i < gv->nchain; i++)
    if (!lua_isyieldable(gv->chain[i])) return 0;
  return 1;
}

static int cannot_block(lua_State *L, const char *op) {
  if (!lng_gor_current(L))
    return luaL_error(L, "cannot block in %s: not running in a goroutine", op);
  return luaL_error(L, "cannot block in %s: this code runs inside a C call that cannot suspend "
                    "(a table.sort comparator, a string.gsub callback, a metamethod, require or __gc)",
                    op);
}

void lng_block_bind(lua_State *L, lng_waiter *ws, int n) {
  lng_shard *sh = lng_shard_of(L);
  for (int k = 0; k < n; k++) {
    ws[k].sched = sh->rt->sched;
    ws[k].g = sh->current;
  }
}

static int cancel_waitable(void *obj, lng_waiter *w) {
  return lng_waitable_cancel(obj, w);
}

/* The scheduler's cancel for the main goroutine (lng_sched_abort): what
   its wait of the moment recorded in the runtime. */
static int main_cancel(lng_g *g) {
  const lng_mainwait *mw = g->cancelobj;
  return mw->cancel(mw->obj, &g->u.park.w);
}

/* The continuation of every wait: the abort check, then the kind's own. */
static int block_cont(lua_State *L, int status, lua_KContext ctx) {
  (void)status;
  const lng_waitkind *kind = (const lng_waitkind *)ctx;
  lng_g *g = lng_shard_of(L)->current;
  if (g->aborted) {     /* taken back (cancel): the operation did not happen */
    g->aborted = 0;
    lng_msg_free(&g->u.park.box);
    return luaL_error(L, LNG_ABORT_MSG);
  }
  return kind->done ? kind->done(L, g->u.park.w.result, &g->u.park.box) : 0;
}

static int park(lua_State *L, const lng_waitkind *kind, void *obj) {
  lng_shard *sh = lng_shard_of(L);
  lng_g *g = sh->current;
  lng_gvm *gv = g->vm;
  gv->pending = LNG_PEND_PARK;
  gv->parkedL = L;
  /* Only the main goroutine is ever aborted (lng_interrupt): the others
     record no cancel and skip the atomic hand-shake. */
  if (g->flags & LNG_G_MAIN) {
    lng_runtime *rt = sh->rt;
    rt->mainwait.cancel = kind->cancel ? kind->cancel : cancel_waitable;
    rt->mainwait.obj = obj;
    g->cancel = main_cancel;
    g->cancelobj = &rt->mainwait;
    lng_sched_arm(g);
  }
  lng_sched_park(sh->rt->sched, g, kind->reason);
  /* An interrupt that came while this wait was being set up found nothing
     to abort yet: serve it now (lng_interrupt sets the flag first). The
     flag is taken inside lng_sched_abort, with the wait: taken here first,
     a late lng_interrupt would abort the next wait as well. */
  if ((g->flags & LNG_G_MAIN) && atomic_load(&sh->rt->interrupt) &&
      lng_sched_abort(sh->rt->sched, g, &sh->rt->interrupt))
    lng_sched_ready(sh->rt->sched, g, sh->index);
  return lua_yieldk(L, 0, (lua_KContext)kind, block_cont);
}

int lng_block_on(lua_State *L, const lng_waitkind *kind, void *obj, int res) {
  if (res == LNG_RES_PARKED) return park(L, kind, obj);
  if (res == LNG_RES_WOULDBLOCK) return cannot_block(L, kind->op);
  return kind->done ? kind->done(L, res, NULL) : 0;
}

static int yield_done(lua_State *L, int status, lua_KContext ctx) {
  (void)L; (void)status; (void)ctx;
  return 0;
}

int lng_block_yield(lua_State *L) {
  if (!lng_block_possible(L)) return 0;    /* nowhere to yield to: a no-op, like Gosched in a lock */
  lng_gor_current(L)->pending = LNG_PEND_YIELD;
  lng_gor_current(L)->parkedL = L;
  return lua_yieldk(L, 0, 0, yield_done);
}
