/*
 * Stopping Lua code that runs on a worker, from another thread: the
 * interrupted statement of the main goroutine (lng_interrupt, Ctrl-C in the
 * REPL) and every goroutine at lng_destroy. The worker is sent SIGURG, as
 * Go's runtime does for preemption; its handler, running on that worker,
 * sets a hook on the Lua thread executing there, which is what lua.c does
 * for Ctrl-C. The hook then raises "interrupted!", or for a runtime being
 * destroyed, suspends the goroutine for good.
 */
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <lauxlib.h>
#include "block.h"

static _Thread_local lng_shard *bound;   /* the shard of the worker on this thread */

void lng_interrupt_bind(lng_shard *sh) { bound = sh; }

static void hook(lua_State *L, lua_Debug *ar) {
  lng_shard *sh = lng_shard_of(L);
  lng_runtime *rt = sh->rt;
  if (atomic_load(&rt->halting)) {
    lng_gvm *gv = lng_gor_current(L);
    if (gv && ar->event == LUA_HOOKCOUNT && lng_block_possible(L)) {
      gv->pending = LNG_PEND_EXIT;         /* the scheduler drops it */
      lua_yield(L, 0);
      return;
    }
    luaL_error(L, "runtime stopping");       /* the hook stays: pcall cannot keep it alive */
    return;
  }
  lua_sethook(L, NULL, 0, 0);
  lng_g *g = sh->current;
  if (g && (g->flags & LNG_G_MAIN) && atomic_exchange(&rt->interrupt, 0)) {
    luaL_where(L, 0);                      /* where the code was: "stdin:1:" */
    if (!*lua_tostring(L, -1)) { lua_pop(L, 1); luaL_where(L, 1); }
    lua_pushliteral(L, LNG_ABORT_MSG);
    lua_concat(L, 2);
    lua_error(L);
  }
  /* Preemption: a yield, as go.yield() does, where Lua allows one. */
  lng_gvm *gv = lng_gor_current(L);
  if (atomic_exchange(&sh->preempt, 0) && gv && ar->event == LUA_HOOKCOUNT && lng_block_possible(L)) {
    gv->pending = LNG_PEND_YIELD;
    gv->parkedL = L;
    lua_yield(L, 0);
  }
}

/* The main goroutine is about to be resumed with an interrupt pending
   (it was queued, not running, when the interrupt came): arm the hook on
   the thread that will run. */
void lng_interrupt_resume(lng_runtime *rt, lng_gvm *gv) {
  if (!atomic_load(&rt->interrupt)) return;
  lua_State *T = gv->parkedL ? gv->parkedL : gv->co;
  lua_sethook(T, hook, LUA_MASKCALL | LUA_MASKRET | LUA_MASKCOUNT, 1);
}

static void on_signal(int sig) {
  (void)sig;
  lng_shard *sh = bound;
  if (!sh) return;
  lua_State *T = sh->running;
  lng_runtime *rt = sh->rt;
  lng_g *g = sh->current;
  if (!T || !g) return;
  if (atomic_load(&rt->halting) || (atomic_load(&rt->interrupt) && (g->flags & LNG_G_MAIN)))
    lua_sethook(T, hook, LUA_MASKCALL | LUA_MASKRET | LUA_MASKCOUNT, 1);
  else if (atomic_load(&sh->preempt))
    lua_sethook(T, hook, LUA_MASKCOUNT, 1);
}

int lng_interrupt_install(void) {
  struct sigaction sa, old;
  if (sigaction(SIGURG, NULL, &old) == 0 && old.sa_handler == on_signal) return 0;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  return sigaction(SIGURG, &sa, NULL);
}

/* From the scheduler's monitor: the goroutine on this worker ran too long. */
void lng_interrupt_preempt(void *ud, int worker) {
  lng_runtime *rt = ud;
  atomic_store(&rt->shards[worker].preempt, 1);
  lng_interrupt_worker(rt, worker);
}

void lng_interrupt_worker(lng_runtime *rt, int worker) {
  pthread_t t;
  if (lng_sched_thread(rt->sched, worker, &t) == 0) pthread_kill(t, SIGURG);
}

int lng_interrupt(lng_runtime *rt) {
  if (!rt || !rt->started) return LNG_ERRMISUSE;
  /* The flag first: main, entering a wait right now, checks it once armed.
     Blocked: take it out of its wait (lng_sched_abort clears the flag, and
     only if main did not take it first: main may have served it itself and
     gone on to its next wait meanwhile). Running: the signal. */
  pthread_mutex_lock(&rt->mainmu);
  if (!rt->maing) {               /* main has ended: nothing would ever take it */
    pthread_mutex_unlock(&rt->mainmu);
    return LNG_CLOSED;
  }
  atomic_store(&rt->interrupt, 1);
  int done = lng_sched_abort(rt->sched, rt->maing, &rt->interrupt);
  if (done) lng_sched_ready(rt->sched, rt->maing, -1);
  pthread_mutex_unlock(&rt->mainmu);
  if (done) return LNG_OK;
  int w = atomic_load(&rt->mainworker);
  if (w >= 0) lng_interrupt_worker(rt, w);
  return LNG_OK;
}
