/*
 * Blocking a goroutine: the one way a binding waits. Every kind of wait
 * (a channel, a select, a sleep, a wait group, a mutex, a semaphore, and
 * whatever comes next: a socket, a process) is the same three steps:
 *
 *   1. take the running goroutine's waiter (lng_block_waiter), or make
 *      waiters of its own wake it (lng_block_bind); either says whether
 *      the caller may block at all;
 *   2. run the runtime operation with it, which never blocks: it completes
 *      (OK, CLOSED, ...), queues the waiter (PARKED) or, given no waiter,
 *      says WOULDBLOCK;
 *   3. hand its result to lng_block_on with the wait's description
 *      (lng_waitkind): PARKED parks the goroutine, WOULDBLOCK raises the
 *      "cannot block" error, anything else goes to the continuation now.
 *
 * So a new kind of wait is a runtime object that queues lng_waiters (a
 * waitable, runtime/waitable.h) plus one lng_waitkind in its binding; the
 * goroutine record, the scheduler's park and abort hand-shake and the
 * "interrupted!" error stay here.
 */
#ifndef LNG_BLOCK_H
#define LNG_BLOCK_H

#include <lua.h>
#include "../runtime/waiter.h"
#include "vm.h"

/* Takes a parked wait back off obj (lng_interrupt aborting the main
   goroutine's wait), leaving nothing of it queued anywhere: 1 if it was
   still waiting, 0 if it has completed (the goroutine then runs with
   the result). w is the goroutine's own waiter. */
typedef int (*lng_block_cancel)(void *obj, lng_waiter *w);

/* Runs when the wait is over with res, the operation's result (for a
   parked wait, what the completer left in the goroutine's waiter), and
   box, the value the wait handed over: for a parked receive the value
   received, for a parked send that failed the value not sent; the
   continuation owns it. box is NULL when the operation did not park. An
   aborted wait never gets here: its box is freed and "interrupted!"
   raised. Returns what the Lua function returns. */
typedef int (*lng_block_done)(lua_State *L, int res, lng_msg *box);

/* What a binding tells lng_block_on about one kind of wait: static data. */
typedef struct lng_waitkind {
  const char *op;          /* the operation, for the "cannot block" error: "chan:send" */
  const char *reason;      /* what a parked goroutine waits for, in reports: "chan send" */
  lng_block_cancel cancel; /* NULL: obj is an lng_waitable, cancelled with lng_waitable_cancel */
  lng_block_done done;     /* NULL: nothing to return */
} lng_waitkind;

/* Whether the running code may suspend: inside a goroutine, and no C
   boundary between it and the goroutine's own thread. */
int lng_block_possible(lua_State *L);

/* The running goroutine's own waiter, made ready for one operation (its
   slot is the goroutine's box, where a value being sent or received waits),
   or NULL when the caller cannot block: the operation then must not wait. */
static inline lng_waiter *lng_block_waiter(lua_State *L) {
  lng_shard *sh = lng_shard_of(L);
  lng_g *g = sh->current;
  /* inline: every channel operation asks, and nearly always the answer is
     "yes, the goroutine's own thread, no coroutine in between" */
  if (!g || !lua_isyieldable(L)) return NULL;
  if (((lng_gvm *)g->vm)->nchain > 0 && !lng_block_possible(L)) return NULL;
  lng_waiter *w = &g->u.park.w;
  w->sched = sh->rt->sched;
  w->g = g;
  w->cw = NULL;
  w->sel = NULL;
  w->slot = &g->u.park.box;
  w->result = LNG_RES_OK;
  return w;
}

/* Makes n waiters of the caller's own (a select's, one per case) wake the
   running goroutine; only where lng_block_possible says so. */
void lng_block_bind(lua_State *L, lng_waiter *ws, int n);

/* Step 3 above: res is the result of the operation on obj. Use as
   `return lng_block_on(...)`: it parks (the continuation then runs once the
   goroutine is woken), raises, or returns what kind->done returns. */
int lng_block_on(lua_State *L, const lng_waitkind *kind, void *obj, int res);

/* The message of an aborted wait (lng_interrupt). */
#define LNG_ABORT_MSG "interrupted!"

/* go.yield(): lets the others run; not a wait (nothing wakes it, it is
   queued again at once). A no-op where the caller cannot suspend. */
int lng_block_yield(lua_State *L);

#endif
